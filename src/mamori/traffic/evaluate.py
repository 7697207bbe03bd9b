"""Evaluation of detector findings against per-flow labels (e.g. the Stratosphere labelled Zeek captures).

A pair (source, destination address) takes the worst label among its flows: ``Malicious`` when any flow is
malicious, otherwise ``Benign`` if any flow is benign, otherwise ``Background``. A finding *flags* a pair when its
source address is the pair's source and its destination address is the pair's destination or unset (scans and
DNS bursts name only the source). The false-positive rate is the share of benign-or-background pairs that a
finding at or above the chosen severity flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from mamori.errors import InvalidInput
from mamori.traffic.detect.model import Finding, Severity

MALICIOUS = "malicious"
BENIGN = "benign"
BACKGROUND = "background"
_RANK = {BACKGROUND: 0, BENIGN: 1, MALICIOUS: 2}


def normalise_label(label: str | None) -> str:
    """Stratosphere labels start with one of Malicious, Benign, Background (detail may follow)."""
    text = (label or BACKGROUND).strip().lower()
    for known in (MALICIOUS, BENIGN, BACKGROUND):
        if text.startswith(known):
            return known
    return BACKGROUND


def pair_labels(flows: pa.Table, labels: Sequence[str | None]) -> dict[tuple[str, str], str]:
    """The label of every (src_ip, dst_ip) pair (see the module docstring)."""
    if len(labels) != flows.num_rows:
        raise InvalidInput(
            f"{len(labels)} labels for {flows.num_rows} flows", where="labels", detail={"flows": flows.num_rows}
        )
    out: dict[tuple[str, str], str] = {}
    for src, dst, label in zip(
        flows.column("src_ip").to_pylist(), flows.column("dst_ip").to_pylist(), labels, strict=True
    ):
        key = (str(src), str(dst))
        lab = normalise_label(label)
        if key not in out or _RANK[lab] > _RANK[out[key]]:
            out[key] = lab
    return out


def flags(finding: Finding, pair: tuple[str, str]) -> bool:
    src, dst = pair
    if finding.src.address != src:
        return False
    return finding.dst.address is None or finding.dst.address == dst


@dataclass(frozen=True)
class FalsePositiveReport:
    """Benign-or-background pairs flagged at or above a severity."""

    severity: Severity
    benign_pairs: int
    flagged_benign_pairs: tuple[tuple[str, str], ...]

    @property
    def rate(self) -> float:
        return len(self.flagged_benign_pairs) / self.benign_pairs if self.benign_pairs else 0.0


def false_positive_rate(
    findings: Iterable[Finding], labels_by_pair: dict[tuple[str, str], str], severity: Severity = Severity.MEDIUM
) -> FalsePositiveReport:
    serious = [f for f in findings if f.severity.at_least(severity)]
    by_src: dict[str, list[Finding]] = {}
    for f in serious:
        if f.src.address:
            by_src.setdefault(f.src.address, []).append(f)
    benign = [p for p, lab in labels_by_pair.items() if lab != MALICIOUS]
    flagged = tuple(sorted(p for p in benign if any(flags(f, p) for f in by_src.get(p[0], ()))))
    return FalsePositiveReport(severity, len(benign), flagged)


def rank_of(findings: Sequence[Finding], src: str, dst: str) -> int | None:
    """1-based rank of the (src, dst) pair among findings ordered by score (highest first)."""
    ordered = sorted(findings, key=lambda f: -f.score)
    for i, f in enumerate(ordered, start=1):
        if f.src.address == src and f.dst.address == dst:
            return i
    return None

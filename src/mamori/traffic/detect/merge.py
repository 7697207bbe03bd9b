"""Merging findings across days and grading them on the Admiralty credibility scale.

:func:`merge_findings` is pure: findings with the same kind, source and destination fold into one, keeping the
earliest first_seen, the latest last_seen, the summed evidence count, the union of days seen, and the scores and
explanation of the strongest day. :func:`grade_credibility` then grades each finding:

* 1 (confirmed): another detector, or a threat-intelligence indicator, independently points at the same
  destination (or, for findings without one, the same source), and the finding scores at least 0.5.
* 2 (probably true): score >= 0.8, or seen on at least three days.
* 3 (possibly true): score >= 0.6, or seen on two days.
* 4 (doubtful): score >= 0.4.
* 5 (improbable): lower scores.
* 6 (cannot be judged): no score to judge by (never produced by the detectors, kept for imported findings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from mamori.traffic.detect.model import Credibility, Endpoint, Finding, FindingKind

_SAMPLE = 5


def _merge_two(a: Finding, b: Finding) -> Finding:
    strong, weak = (a, b) if (a.score, a.last_seen) >= (b.score, b.last_seen) else (b, a)
    sample = tuple(sorted(set(strong.evidence_sample) | set(weak.evidence_sample)))[:_SAMPLE]
    return replace(
        strong,
        first_seen=min(a.first_seen, b.first_seen),
        last_seen=max(a.last_seen, b.last_seen),
        evidence_count=a.evidence_count + b.evidence_count,
        evidence_sample=sample,
        days_seen=tuple(sorted(set(a.days_seen) | set(b.days_seen))),
    )


def merge_findings(*batches: Iterable[Finding]) -> list[Finding]:
    """Fold findings of any number of days into one per (kind, src, dst), in a stable order."""
    merged: dict[tuple[str, Endpoint, Endpoint], Finding] = {}
    for batch in batches:
        for finding in batch:
            prior = merged.get(finding.key)
            merged[finding.key] = finding if prior is None else _merge_two(prior, finding)
    return sorted(merged.values(), key=lambda f: (f.kind.value, _order(f.src), _order(f.dst)))


def _order(e: Endpoint) -> tuple[str, str, int]:
    """A total order on endpoints whose parts may be unknown (None sorts first)."""
    return (e.address or "", e.name or "", -1 if e.port is None else e.port)


def _touch(f: Finding) -> set[str]:
    """What a finding points at: its destination when it has one, else its source (scanners, DNS bursts)."""
    dst = {x for x in (f.dst.address, f.dst.name) if x}
    return dst or ({f.src.address} if f.src.address else set())


def grade_credibility(findings: Iterable[Finding]) -> list[Finding]:
    """Assign an Admiralty credibility grade to every finding (see module docstring)."""
    items = list(findings)
    kinds_by_endpoint: dict[str, set[FindingKind]] = defaultdict(set)
    for f in items:
        for endpoint in _touch(f):
            kinds_by_endpoint[endpoint].add(f.kind)
    graded = []
    for f in items:
        others = set().union(*(kinds_by_endpoint[e] for e in _touch(f))) - {f.kind} if _touch(f) else set()
        days = len(f.days_seen)
        if others and f.score >= 0.5:
            grade = Credibility.CONFIRMED
        elif f.score >= 0.8 or days >= 3:
            grade = Credibility.PROBABLY_TRUE
        elif f.score >= 0.6 or days == 2:
            grade = Credibility.POSSIBLY_TRUE
        elif f.score >= 0.4:
            grade = Credibility.DOUBTFUL
        else:
            grade = Credibility.IMPROBABLE
        graded.append(replace(f, credibility=grade))
    return graded

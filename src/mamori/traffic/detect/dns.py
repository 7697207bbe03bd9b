"""DNS detectors, run only where the channel's profile keeps ``dns_query``/``dns_rcode``.

* NXDOMAIN bursts (domain-generation algorithms): a source that receives NXDOMAIN (RFC 1035 RCODE 3) for at
  least ``nx_unique_names`` distinct names within one fixed ``nx_window_s`` window (windows aligned to the
  epoch). One finding per source, carrying its busiest window; score ramps from medium at the threshold.
  The mean character entropy of the failed names is reported as a sub-score for the analyst (DGA names are
  near-random); it does not gate the finding.
* Tunnelling: a source that queries at least ``tunnel_unique_subdomains`` distinct names under one registered
  domain over the analysed data (data smuggled in labels makes every name unique).

Registered domain: the last two labels, or the last three when the second-level label is one of the
common ccTLD second levels (``co``, ``com``, ``ac``, ...) under a two-letter TLD. This stands in for the Public
Suffix List, which mamori does not bundle; it errs towards grouping more names together.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from mamori.traffic.detect import queries
from mamori.traffic.detect.model import (
    Endpoint,
    EvidenceRow,
    Finding,
    FindingKind,
    ramp_score,
    severity_for_score,
    utc,
)
from mamori.traffic.detect.pairs import sort_table
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.detect.thresholds import DnsThresholds

_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "ed", "lg", "gr", "ad"})


def registered_domain(name: str) -> str:
    """The registered domain of a DNS name (see the module docstring for the rule)."""
    labels = [lab for lab in name.lower().rstrip(".").split(".") if lab]
    if len(labels) <= 2:
        return ".".join(labels)
    if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVELS:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def shannon_entropy(text: str) -> float:
    """Character entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def detect_nxdomain_bursts(engine: AnalyticsEngine, source: FlowSource, t: DnsThresholds) -> list[Finding]:
    table = engine.aggregate(
        source, queries.fill(queries.NXDOMAIN_WINDOWS, window_s=t.nx_window_s, min_names=t.nx_unique_names)
    )
    table = sort_table(table, ["src_ip", "bucket"])
    by_src: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in table.to_pylist():
        by_src[str(row["src_ip"])].append(row)
    findings: list[Finding] = []
    for src, windows in sorted(by_src.items()):
        busiest = max(windows, key=lambda r: (int(r["nx_names"]), -int(r["bucket"])))  # type: ignore[call-overload]
        peak = int(busiest["nx_names"])  # type: ignore[call-overload]
        names = sorted({str(n) for w in windows for n in w["nx_sample"]})  # type: ignore[attr-defined]
        labels = [n.split(".")[0] for n in names]
        entropy = float(np.mean([shannon_entropy(lab) for lab in labels])) if labels else 0.0
        score = ramp_score(peak, t.nx_unique_names)
        first = min(float(w["first_ts"]) for w in windows)  # type: ignore[arg-type]
        last = max(float(w["last_ts"]) for w in windows)  # type: ignore[arg-type]
        resolver = str(busiest["resolver"])
        findings.append(
            Finding(
                kind=FindingKind.NXDOMAIN_BURST,
                src=Endpoint(address=src),
                dst=Endpoint(),
                score=score,
                severity=severity_for_score(score),
                sub_scores={
                    "peak_nx_names": float(peak),
                    "windows_over_threshold": float(len(windows)),
                    "nx_responses": float(sum(int(w["n_nx"]) for w in windows)),  # type: ignore[call-overload]
                    "mean_label_entropy": round(entropy, 6),
                },
                thresholds={"nx_unique_names": float(t.nx_unique_names), "nx_window_s": t.nx_window_s},
                fired=("nx_unique_names",),
                first_seen=utc(first),
                last_seen=utc(last),
                evidence_count=len(names),
                evidence_sample=tuple(
                    EvidenceRow(start_ts=float(busiest["first_ts"]), src_ip=src, dst_ip=resolver, dst_port=53, note=n)  # type: ignore[arg-type]
                    for n in names[: t.sample_size]
                ),
            )
        )
    return findings


def detect_tunnels(engine: AnalyticsEngine, source: FlowSource, t: DnsThresholds) -> list[Finding]:
    table = sort_table(
        engine.aggregate(source, queries.fill(queries.DNS_NAMES, min_names=t.tunnel_unique_subdomains)),
        ["src_ip", "name"],
    )
    if table.num_rows == 0:
        return []
    groups: dict[tuple[str, str], list[tuple[str, int, float, float]]] = defaultdict(list)
    cache: dict[str, str] = {}
    for src, name, n, first, last in zip(
        table.column("src_ip").to_pylist(),
        table.column("name").to_pylist(),
        table.column("n").to_pylist(),
        table.column("first_ts").to_pylist(),
        table.column("last_ts").to_pylist(),
        strict=True,
    ):
        reg = cache.get(name)
        if reg is None:
            reg = cache[name] = registered_domain(name)
        if reg != name:
            groups[(src, reg)].append((name, int(n), float(first), float(last)))
    findings: list[Finding] = []
    for (src, reg), names in sorted(groups.items()):
        if len(names) < t.tunnel_unique_subdomains:
            continue
        score = ramp_score(len(names), t.tunnel_unique_subdomains)
        mean_len = float(np.mean([len(n[0]) - len(reg) - 1 for n in names]))
        names.sort(key=lambda r: (r[2], r[0]))
        findings.append(
            Finding(
                kind=FindingKind.DNS_TUNNEL,
                src=Endpoint(address=src),
                dst=Endpoint(name=reg),
                score=score,
                severity=severity_for_score(score),
                sub_scores={
                    "unique_subdomains": float(len(names)),
                    "queries": float(sum(n[1] for n in names)),
                    "mean_subdomain_length": round(mean_len, 6),
                },
                thresholds={"tunnel_unique_subdomains": float(t.tunnel_unique_subdomains)},
                fired=("tunnel_unique_subdomains",),
                first_seen=utc(min(n[2] for n in names)),
                last_seen=utc(max(n[3] for n in names)),
                evidence_count=sum(n[1] for n in names),
                evidence_sample=tuple(
                    EvidenceRow(start_ts=n[2], src_ip=src, dst_ip=None, dst_port=53, note=n[0])
                    for n in names[: t.sample_size]
                ),
            )
        )
    return findings

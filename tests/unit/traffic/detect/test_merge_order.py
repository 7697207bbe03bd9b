"""Merging orders findings even when endpoints are only partly known."""

from __future__ import annotations

from datetime import UTC, datetime

from mamori.traffic.detect.merge import merge_findings
from mamori.traffic.detect.model import Credibility, Endpoint, Finding, FindingKind, Severity


def _finding(src: Endpoint, dst: Endpoint) -> Finding:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    return Finding(kind=FindingKind.BEACON, src=src, dst=dst, score=0.9, severity=Severity.HIGH, sub_scores={},
                   thresholds={}, fired=(), first_seen=t, last_seen=t, evidence_count=1, evidence_sample=(),
                   credibility=Credibility.PROBABLY_TRUE, days_seen=("2026-11-01",))


def test_endpoints_with_and_without_names_sort_together() -> None:
    a = _finding(Endpoint(address="10.0.0.1"), Endpoint(address="198.51.100.7"))
    b = _finding(Endpoint(address="10.0.0.1"), Endpoint(name="c2.example"))
    merged = merge_findings([a, b])
    assert [f.dst for f in merged] == [Endpoint(name="c2.example"), Endpoint(address="198.51.100.7")]

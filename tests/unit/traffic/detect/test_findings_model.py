"""Finding model, score ramps, severity bands, cross-day merge and Admiralty grading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamori.errors import InvalidInput
from mamori.traffic.detect.merge import grade_credibility, merge_findings
from mamori.traffic.detect.model import (
    Credibility,
    Endpoint,
    EvidenceRow,
    Finding,
    FindingKind,
    Severity,
    ramp_score,
    severity_for_score,
)
from mamori.traffic.detect.thresholds import DetectionProfile, ScanThresholds

DAY1 = datetime(2026, 1, 1, 10, tzinfo=UTC)


def finding(
    kind: FindingKind = FindingKind.BEACON,
    src: str = "10.0.0.1",
    dst: str | None = "203.0.113.9",
    score: float = 0.9,
    first: datetime = DAY1,
    count: int = 10,
) -> Finding:
    return Finding(
        kind=kind,
        src=Endpoint(address=src),
        dst=Endpoint(address=dst),
        score=score,
        severity=severity_for_score(score),
        sub_scores={"b": 1.0, "a": 0.5},
        thresholds={"min": 4.0},
        fired=("min",),
        first_seen=first,
        last_seen=first + timedelta(hours=1),
        evidence_count=count,
        evidence_sample=(EvidenceRow(first.timestamp(), src, dst),),
    )


def test_ramp_score_is_medium_at_threshold_and_critical_at_twice() -> None:
    assert ramp_score(10, 10) == 0.7
    assert ramp_score(20, 10) == 1.0
    assert ramp_score(15, 10) == 0.85
    assert ramp_score(5, 10) == 0.35
    assert ramp_score(100, 10) == 1.0


def test_severity_bands() -> None:
    assert severity_for_score(0.95) is Severity.CRITICAL
    assert severity_for_score(0.8) is Severity.HIGH
    assert severity_for_score(0.7) is Severity.MEDIUM
    assert severity_for_score(0.5) is Severity.LOW
    assert severity_for_score(0.49) is Severity.INFO
    assert Severity.HIGH.at_least(Severity.MEDIUM) and not Severity.LOW.at_least(Severity.MEDIUM)


def test_finding_rejects_score_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match=r"0\.\.1"):
        finding(score=1.5)


def test_finding_sorts_and_freezes_its_dicts() -> None:
    f = finding()
    assert list(f.sub_scores) == ["a", "b"]
    with pytest.raises(TypeError):
        f.sub_scores["c"] = 1.0  # type: ignore[index]


def test_merge_across_days_keeps_span_counts_and_strongest_explanation() -> None:
    day1 = finding(score=0.72, count=10)
    day2 = finding(score=0.91, first=DAY1 + timedelta(days=1), count=7)
    other = finding(dst="198.51.100.1")
    merged = merge_findings([day1, other], [day2])
    assert len(merged) == 2
    m = next(f for f in merged if f.dst.address == "203.0.113.9")
    assert m.first_seen == day1.first_seen
    assert m.last_seen == day2.last_seen
    assert m.evidence_count == 17
    assert m.score == 0.91
    assert m.days_seen == ("2026-01-01", "2026-01-02")
    assert len(m.evidence_sample) == 2


def test_merge_is_order_independent() -> None:
    a, b = finding(score=0.6), finding(score=0.8, first=DAY1 + timedelta(days=2))
    assert merge_findings([a], [b]) == merge_findings([b], [a])


def test_grading_confirms_corroborated_destinations() -> None:
    beacon = finding(score=0.75)
    match = finding(kind=FindingKind.INDICATOR_MATCH, score=0.85)
    lone = finding(dst="192.0.2.77", score=0.65)
    weak = finding(dst="192.0.2.78", score=0.3)
    graded = {(f.kind, f.dst.address): f.credibility for f in grade_credibility([beacon, match, lone, weak])}
    assert graded[(FindingKind.BEACON, "203.0.113.9")] is Credibility.CONFIRMED
    assert graded[(FindingKind.INDICATOR_MATCH, "203.0.113.9")] is Credibility.CONFIRMED
    assert graded[(FindingKind.BEACON, "192.0.2.77")] is Credibility.POSSIBLY_TRUE
    assert graded[(FindingKind.BEACON, "192.0.2.78")] is Credibility.IMPROBABLE


def test_grading_rewards_findings_seen_on_several_days() -> None:
    days = [finding(score=0.45, first=DAY1 + timedelta(days=d)) for d in range(3)]
    (merged,) = merge_findings(days)
    (graded,) = grade_credibility([merged])
    assert graded.credibility is Credibility.PROBABLY_TRUE


def test_profile_rejects_bad_domestic_prefix_with_its_position() -> None:
    with pytest.raises(InvalidInput) as err:
        DetectionProfile(domestic_prefixes=("10.0.0.0/8", "10.0.0.300/24"))
    assert err.value.where == "domestic_prefixes[1]"


def test_profile_rejects_inconsistent_trw_parameters() -> None:
    with pytest.raises(InvalidInput, match="theta1 < theta0"):
        DetectionProfile(scan=ScanThresholds(theta0=0.2, theta1=0.8))

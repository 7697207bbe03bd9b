"""Pair labelling and false-positive accounting against labelled flows."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from mamori.errors import InvalidInput
from mamori.traffic.detect.model import Endpoint, Finding, FindingKind, Severity
from mamori.traffic.evaluate import false_positive_rate, normalise_label, pair_labels, rank_of

T = datetime(2026, 1, 1, tzinfo=UTC)


def _finding(src: str, dst: str | None, severity: Severity, score: float = 0.75) -> Finding:
    return Finding(
        kind=FindingKind.BEACON,
        src=Endpoint(address=src),
        dst=Endpoint(address=dst),
        score=score,
        severity=severity,
        sub_scores={},
        thresholds={},
        fired=(),
        first_seen=T,
        last_seen=T,
        evidence_count=1,
        evidence_sample=(),
    )


FLOWS = pa.table({"src_ip": ["a", "a", "a", "b", "c"], "dst_ip": ["x", "x", "y", "x", "z"]})


def test_pair_takes_its_worst_label() -> None:
    labels = pair_labels(FLOWS, ["Background", "Malicious-C2", "Benign", None, "background"])
    assert labels == {("a", "x"): "malicious", ("a", "y"): "benign", ("b", "x"): "background", ("c", "z"): "background"}


def test_label_count_must_match_flow_count() -> None:
    with pytest.raises(InvalidInput, match="4 labels for 5 flows") as err:
        pair_labels(FLOWS, ["Benign"] * 4)
    assert err.value.where == "labels"


def test_unknown_labels_count_as_background() -> None:
    assert normalise_label("From-Botnet-V1") == "background"
    assert normalise_label(" MALICIOUS ") == "malicious"


def test_false_positive_rate_counts_benign_pairs_flagged_at_severity() -> None:
    labels = pair_labels(FLOWS, ["Malicious", "Malicious", "Benign", "Benign", "Benign"])
    findings = [
        _finding("a", "x", Severity.HIGH),  # malicious pair: not a false positive
        _finding("a", "y", Severity.LOW),  # below medium: ignored
        _finding("c", None, Severity.MEDIUM),  # source-only finding flags every pair of c
    ]
    report = false_positive_rate(findings, labels, Severity.MEDIUM)
    assert report.benign_pairs == 3
    assert report.flagged_benign_pairs == (("c", "z"),)
    assert report.rate == pytest.approx(1 / 3)


def test_rank_of_orders_by_score() -> None:
    findings = [_finding("a", "x", Severity.LOW, 0.6), _finding("b", "x", Severity.HIGH, 0.9)]
    assert rank_of(findings, "b", "x") == 1
    assert rank_of(findings, "a", "x") == 2
    assert rank_of(findings, "q", "x") is None

"""Behaviour of the indicator life-cycle: exponential decay per kind, expiry, revocation, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.intel.lifecycle import half_life_for, kind_family, score_at, state_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def indicator(pattern: str = "[ipv4-addr:value = '192.0.2.1']", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "indicator",
        "id": "indicator--6a1b6f2e-1d1c-4c8e-9b8a-0f8e7d6c5b4a",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "valid_from": "2026-01-01T00:00:00Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "confidence": 80,
    }
    base.update(extra)
    return base


def test_score_starts_at_confidence() -> None:
    assert score_at(indicator(), T0) == pytest.approx(80)


def test_missing_confidence_counts_as_fifty() -> None:
    ind = indicator()
    del ind["confidence"]
    assert score_at(ind, T0) == pytest.approx(50)


@pytest.mark.parametrize(
    ("pattern", "days"),
    [
        ("[ipv4-addr:value = '192.0.2.1']", 30),
        ("[domain-name:value = 'example.org']", 90),
        ("[url:value = 'http://example.org/']", 60),
        (f"[file:hashes.'SHA-256' = '{'a' * 64}']", 365),
        ("[file:name = 'dropper.exe']", 90),
    ],
)
def test_score_halves_after_one_half_life_of_the_kind(pattern: str, days: int) -> None:
    assert score_at(indicator(pattern), T0 + timedelta(days=days)) == pytest.approx(40)
    assert score_at(indicator(pattern), T0 + timedelta(days=2 * days)) == pytest.approx(20)


def test_explicit_kind_and_half_lives_override_the_defaults() -> None:
    at = T0 + timedelta(days=10)
    assert score_at(indicator(), at, kind="sha256", half_life_days={"hash": 10}) == pytest.approx(40)


def test_latest_of_modified_and_last_sighting_restarts_the_clock() -> None:
    ind = indicator(modified="2026-01-31T00:00:00.000Z")
    assert score_at(ind, T0 + timedelta(days=30)) == pytest.approx(80)
    sighting = T0 + timedelta(days=60)
    assert score_at(ind, T0 + timedelta(days=60), last_sighting=sighting) == pytest.approx(80)
    assert score_at(ind, T0 + timedelta(days=90), last_sighting=sighting) == pytest.approx(40)


def test_revoked_and_expired_indicators_score_zero() -> None:
    assert score_at(indicator(revoked=True), T0) == 0
    ind = indicator(valid_until="2026-01-10T00:00:00Z")
    assert score_at(ind, datetime(2026, 1, 10, tzinfo=UTC)) == 0
    assert score_at(ind, datetime(2026, 1, 9, 23, 59, tzinfo=UTC)) > 0


def test_states_in_order_of_precedence() -> None:
    assert state_at(indicator(revoked=True, valid_until="2026-01-02T00:00:00Z"), T0 + timedelta(days=5)) == "revoked"
    assert state_at(indicator(valid_until="2026-01-02T00:00:00Z"), T0 + timedelta(days=5)) == "expired"
    assert state_at(indicator(valid_from="2026-02-01T00:00:00Z", modified="2026-01-01T00:00:00.000Z"), T0) == "pending"
    assert state_at(indicator(), T0 + timedelta(days=59)) == "active"  # 80 → 20.2
    assert state_at(indicator(), T0 + timedelta(days=61)) == "decayed"
    assert state_at(indicator(), T0 + timedelta(days=61), decayed_below=10) == "active"


def test_score_never_exceeds_confidence_before_the_anchor() -> None:
    ind = indicator(valid_from="2025-12-01T00:00:00Z", modified="2026-01-01T00:00:00.000Z")
    assert score_at(ind, datetime(2025, 12, 15, tzinfo=UTC)) == pytest.approx(80)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInput):
        score_at(indicator(), datetime(2026, 1, 1))  # a naive datetime is the point of the test
    with pytest.raises(InvalidInput):
        score_at(indicator(), T0, last_sighting=datetime(2026, 1, 1))


def test_bad_confidence_is_refused_with_its_location() -> None:
    with pytest.raises(InvalidInput) as e:
        score_at(indicator(confidence=101), T0)
    assert e.value.where == "indicator--6a1b6f2e-1d1c-4c8e-9b8a-0f8e7d6c5b4a.confidence"


def test_bad_timestamp_is_refused_with_its_location() -> None:
    with pytest.raises(InvalidInput) as e:
        score_at(indicator(valid_until="tomorrow"), T0)
    assert e.value.where is not None and e.value.where.endswith(".valid_until")


def test_families() -> None:
    assert kind_family("ipv6-cidr") == "ip"
    assert kind_family("email") == "domain"
    assert kind_family("hash") == "hash"
    assert kind_family("mutex") is None
    assert half_life_for("mutex") == 90


@given(
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=3000),
)
def test_score_is_bounded_and_never_rises_with_time(confidence: int, first: int, second: int) -> None:
    ind = indicator(confidence=confidence)
    early, late = sorted((first, second))
    a = score_at(ind, T0 + timedelta(hours=early))
    b = score_at(ind, T0 + timedelta(hours=late))
    assert 0 <= b <= a <= confidence

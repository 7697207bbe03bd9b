"""Commission approvals: registry checks and the coverage rule for a batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.traffic.flow_fixtures import NOW, observations, registry

from mamori.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mamori.traffic.approvals import assert_batch_covered
from mamori.traffic.model import Channel


def _grant(reg, approval_id="K-1", channel=Channel.SPECIFIC, scope=("198.51.100.0/24",)):  # type: ignore[no-untyped-def]
    return reg.grant(
        approval_id=approval_id,
        channel=channel,
        scope=scope,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
        granted_by="commission",
        created_at=NOW - timedelta(days=2),
    )


def test_valid_approval_is_returned_with_utc_times() -> None:
    reg, _ = registry()
    _grant(reg)
    approval = reg.check(Channel.SPECIFIC, "K-1", NOW)
    assert approval.scope == ("198.51.100.0/24",)
    assert approval.valid_until == NOW + timedelta(days=1)


def test_unknown_approval_is_not_found() -> None:
    reg, _ = registry()
    with pytest.raises(NotFound):
        reg.check(Channel.TRANSIT, "nope", NOW)


@pytest.mark.parametrize(
    ("channel", "at", "reason"),
    [
        (Channel.TRANSIT, NOW, "is for channel specific"),
        (Channel.SPECIFIC, NOW + timedelta(days=2), "expired"),
        (Channel.SPECIFIC, NOW - timedelta(days=2), "valid only from"),
    ],
)
def test_approval_for_other_channel_or_time_is_denied(channel: Channel, at: object, reason: str) -> None:
    reg, _ = registry()
    _grant(reg)
    with pytest.raises(PermissionDenied, match=reason):
        reg.check(channel, "K-1", at)  # type: ignore[arg-type]


def test_revoked_approval_is_denied_from_revocation_on() -> None:
    reg, _ = registry()
    _grant(reg)
    reg.revoke("K-1", NOW)
    assert reg.check(Channel.SPECIFIC, "K-1", NOW - timedelta(hours=1)).revoked_at == NOW
    with pytest.raises(PermissionDenied, match="revoked"):
        reg.check(Channel.SPECIFIC, "K-1", NOW)


def test_duplicate_and_malformed_grants_are_refused() -> None:
    reg, _ = registry()
    _grant(reg)
    with pytest.raises(Conflict):
        _grant(reg)
    with pytest.raises(InvalidInput) as info:
        _grant(reg, approval_id="K-2", scope=("198.51.100.0/24", "bogus"))
    assert info.value.where == "scope[1]"


def test_specific_batch_must_touch_the_scope_on_every_flow() -> None:
    reg, _ = registry()
    approval = _grant(reg)
    ts = NOW.timestamp()
    ok = observations([{"start_ts": ts, "src_ip": "203.0.113.1", "dst_ip": "198.51.100.7"}])
    assert_batch_covered(approval, ok)
    mixed = observations(
        [
            {"start_ts": ts, "src_ip": "203.0.113.1", "dst_ip": "198.51.100.7"},
            {"start_ts": ts, "src_ip": "203.0.113.1", "dst_ip": "192.0.2.7"},
        ]
    )
    with pytest.raises(PermissionDenied, match="1 flow"):
        assert_batch_covered(approval, mixed)


def test_flows_outside_the_validity_window_are_not_covered() -> None:
    reg, _ = registry()
    approval = _grant(reg, scope=None, channel=Channel.TRANSIT, approval_id="T-1")
    old = observations(
        [{"start_ts": (NOW - timedelta(days=3)).timestamp(), "src_ip": "203.0.113.1", "dst_ip": "198.51.100.7"}]
    )
    with pytest.raises(PermissionDenied, match="outside approval"):
        assert_batch_covered(approval, old)


def test_list_all_returns_every_approval_in_validity_order() -> None:
    reg, _ = registry()
    _grant(reg, approval_id="K-2")
    _grant(reg, approval_id="K-1", channel=Channel.TRANSIT, scope=None)
    assert [a.id for a in reg.list_all()] == ["K-1", "K-2"]
    assert reg.list_all()[0].scope is None

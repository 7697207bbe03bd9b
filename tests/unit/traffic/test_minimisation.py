"""Minimisation keeps mechanical fields and what the channel profile allows; drops the rest."""

from __future__ import annotations

import pytest
from tests.unit.traffic.flow_fixtures import PRIVATE, observations

from mamori.errors import InvalidInput
from mamori.traffic.minimise import minimise
from mamori.traffic.model import Channel, TrafficPolicy
from mamori.traffic.schema import FLOW_SCHEMA

ROWS = [
    {
        "start_ts": 1.0,
        "src_ip": "203.0.113.5",
        "dst_ip": "10.0.0.5",
        "dns_query": "evil.example",
        "dns_rcode": 3,
        "tls_sni": "sni.example",
        "http_host": "host.example",
        "user_agent": "Mozilla/5.0",
        "uri": "/secret?q=1",
    },
    {"start_ts": 2.0, "src_ip": "10.0.0.1", "dst_ip": "192.168.1.1"},
    {"start_ts": 3.0, "src_ip": "2001:db8::1", "dst_ip": "10.0.0.9"},
]


def _run(policy: TrafficPolicy, channel: Channel) -> tuple[dict[str, object], object]:
    batch = minimise(
        observations(ROWS),
        policy=policy,
        channel=channel,
        approval_id="A-1",
        sensor="s1",
        batch_id="b1",
        acquired_at=1000.0,
    )
    return batch.table.to_pylist()[0], batch


def test_strict_profile_keeps_only_mechanical_fields_and_provenance() -> None:
    row, batch = _run(TrafficPolicy.from_settings(PRIVATE), Channel.AGREEMENT)
    assert batch.table.schema == FLOW_SCHEMA
    assert (row["dns_query"], row["dns_rcode"], row["tls_sni"], row["http_host"]) == (None, None, None, None)
    assert batch.dropped_fields == ["dns_query", "dns_rcode", "http_host", "tls_sni", "uri", "user_agent"]
    assert (row["channel"], row["approval_id"], row["sensor"], row["batch_id"]) == ("agreement", "A-1", "s1", "b1")
    assert row["acquired_at"] == 1000.0 and row["expires_at"] == 1000.0 + 30 * 86400
    assert (row["src_domestic"], row["dst_domestic"]) == (False, True)


def test_domestic_to_domestic_flows_are_dropped() -> None:
    _, batch = _run(TrafficPolicy.from_settings(PRIVATE), Channel.AGREEMENT)
    assert batch.records_in == 3 and batch.dropped_domestic == 1  # type: ignore[attr-defined]
    assert batch.table.column("src_ip").to_pylist() == ["203.0.113.5", "2001:db8::1"]  # type: ignore[attr-defined]


def test_agreement_profile_may_keep_dns_and_sni_but_not_http_host_unless_listed() -> None:
    policy = TrafficPolicy.from_settings(PRIVATE, agreement_fields=("dns_query", "dns_rcode", "tls_sni"))
    row, batch = _run(policy, Channel.AGREEMENT)
    assert (row["dns_query"], row["dns_rcode"], row["tls_sni"], row["http_host"]) == (
        "evil.example",
        3,
        "sni.example",
        None,
    )
    assert "http_host" in batch.dropped_fields  # type: ignore[attr-defined]
    row, _ = _run(TrafficPolicy.from_settings(PRIVATE, agreement_fields=("http_host",)), Channel.AGREEMENT)
    assert row["http_host"] == "host.example"


def test_transit_channel_keeps_foreign_to_foreign_flows_only_and_no_optional_fields() -> None:
    policy = TrafficPolicy.from_settings(PRIVATE, agreement_fields=("dns_query", "tls_sni", "http_host"))
    rows = [
        *ROWS,
        {
            "start_ts": 4.0,
            "src_ip": "198.51.100.1",
            "dst_ip": "203.0.113.1",
            "dns_query": "q.example",
            "tls_sni": "s.example",
            "http_host": "h.example",
        },
    ]
    batch = minimise(
        observations(rows),
        policy=policy,
        channel=Channel.TRANSIT,
        approval_id="T-1",
        sensor="s1",
        batch_id="b1",
        acquired_at=1000.0,
    )
    assert batch.dropped_domestic == 3
    (row,) = batch.table.to_pylist()
    assert (row["src_ip"], row["dst_ip"]) == ("198.51.100.1", "203.0.113.1")
    assert (row["dns_query"], row["tls_sni"], row["http_host"]) == (None, None, None)
    assert (row["src_domestic"], row["dst_domestic"]) == (False, False)


def test_ipv6_domestic_prefixes_apply() -> None:
    policy = TrafficPolicy.from_settings([*PRIVATE, "2001:db8::/32"])
    batch = minimise(
        observations(ROWS),
        policy=policy,
        channel=Channel.AGREEMENT,
        approval_id="A",
        sensor="s1",
        batch_id="b1",
        acquired_at=1000.0,
    )
    assert batch.table.column("src_ip").to_pylist() == ["203.0.113.5"]
    assert batch.dropped_domestic == 2


def test_retention_is_configurable_per_channel() -> None:
    row, _ = _run(TrafficPolicy.from_settings(PRIVATE, retention_days={"specific": 2}), Channel.SPECIFIC)
    assert row["expires_at"] == 1000.0 + 2 * 86400


def test_domestic_space_can_come_from_asns() -> None:
    policy = TrafficPolicy.from_settings((), domestic_asns=[64500], prefix_asns={"203.0.113.0/24": 64500})
    assert policy.domestic.covers_any(["203.0.113.77"])
    assert not policy.domestic.covers_any(["198.51.100.1"])


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"agreement_fields": ("payload",)}, "agreement_fields"),
        ({"retention_days": {"bogus": 1}}, "retention_days['bogus']"),
        ({"retention_days": {"transit": 0}}, "retention_days['transit']"),
        ({"domestic_asns": [1]}, "domestic_asns"),
    ],
)
def test_bad_policy_values_are_refused_with_their_place(kwargs: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidInput) as info:
        TrafficPolicy.from_settings(PRIVATE, **kwargs)  # type: ignore[arg-type]
    assert info.value.where == where


def test_bad_domestic_prefix_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        TrafficPolicy.from_settings(["10.0.0.0/8", "nonsense"])
    assert info.value.where == "domestic_prefixes[1]"

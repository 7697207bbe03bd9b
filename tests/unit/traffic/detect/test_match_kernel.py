"""IPv4 membership kernel and indicator compilation against brute-force expectations."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from mamori.errors import InvalidInput
from mamori.traffic.match.indicators import CompiledIndicators, Indicator, IndicatorKind
from mamori.traffic.match.kernel import IPv4Matcher

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _brute(nets: list[tuple[int, int]], x: int) -> set[int]:
    return {
        i
        for i, (net, length) in enumerate(nets)
        if ipaddress.ip_address(x) in ipaddress.ip_network((net, length), strict=False)
    }


def test_kernel_agrees_with_brute_force_on_random_addresses_and_prefixes() -> None:
    rng = np.random.default_rng(11)
    nets = [(int(rng.integers(0, 2**32)), 32) for _ in range(300)]
    nets += [(int(rng.integers(0, 2**32)), int(rng.integers(8, 32))) for _ in range(60)]
    nets += [(0x0A000000, 8), (0x0A010200, 24), (0x0A010280, 25)]  # nested prefixes
    matcher = IPv4Matcher(
        np.array([n for n, _ in nets], dtype=np.uint32),
        np.array([ln for _, ln in nets]),
        np.arange(len(nets)),
    )
    probes = np.concatenate(
        [
            rng.integers(0, 2**32, 3000, dtype=np.uint64),
            np.array([n for n, _ in nets], dtype=np.uint64),
            np.array([0x0A010281, 0x0A0102FF, 0x0AFFFFFF, 0x0B000000], dtype=np.uint64),
        ]
    ).astype(np.uint32)
    contains = matcher.contains(probes)
    pos, own = matcher.owners_of(probes)
    for i, x in enumerate(probes.tolist()):
        expected = _brute(nets, x)
        assert bool(contains[i]) == bool(expected), hex(x)
        assert set(own[pos == i].tolist()) == expected, hex(x)


def test_empty_matcher_matches_nothing() -> None:
    matcher = IPv4Matcher(np.zeros(0, np.uint32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert not matcher.contains(np.array([1, 2, 3], dtype=np.uint32)).any()


def _batch(rows: list[dict[str, object]]) -> pa.RecordBatch:
    schema = pa.schema(
        [
            ("start_ts", pa.float64()),
            ("duration", pa.float64()),
            ("src_ip", pa.string()),
            ("dst_ip", pa.string()),
            ("src_ip_num", pa.int64()),
            ("dst_ip_num", pa.int64()),
            ("dst_port", pa.int32()),
            ("proto", pa.int16()),
            ("bytes_out", pa.int64()),
            ("bytes_in", pa.int64()),
            ("dns_query", pa.string()),
            ("tls_sni", pa.string()),
            ("http_host", pa.string()),
        ]
    )
    full = []
    for r in rows:
        base: dict[str, object] = dict.fromkeys(schema.names)
        base.update(start_ts=1.0, duration=0.0, proto=6, bytes_out=1, bytes_in=1, dst_port=443)
        base.update(r)
        for side in ("src", "dst"):
            addr = ipaddress.ip_address(str(base[f"{side}_ip"]))
            base[f"{side}_ip_num"] = int(addr) if addr.version == 4 else None
        full.append(base)
    return pa.RecordBatch.from_pylist(full, schema=schema)


def test_indicator_kinds_validity_and_subdomains() -> None:
    inds = [
        Indicator(IndicatorKind.IP, "203.0.113.5", "ip-live"),
        Indicator(IndicatorKind.IP, "203.0.113.6", "ip-expired", valid_until=NOW - timedelta(days=1)),
        Indicator(IndicatorKind.IP, "203.0.113.7", "ip-revoked", revoked=True),
        Indicator(IndicatorKind.CIDR, "198.51.100.0/24", "net"),
        Indicator(IndicatorKind.IP, "2001:db8::66", "v6"),
        Indicator(IndicatorKind.DOMAIN, "evil.example", "dom"),
        Indicator(IndicatorKind.PORT, "tcp/4444", "port"),
    ]
    compiled = CompiledIndicators.compile(inds, NOW)
    assert {i.indicator_id for i in compiled.indicators} == {"ip-live", "net", "v6", "dom", "port"}
    batch = _batch(
        [
            {"src_ip": "10.0.0.1", "dst_ip": "203.0.113.5"},
            {"src_ip": "10.0.0.1", "dst_ip": "203.0.113.6"},
            {"src_ip": "10.0.0.1", "dst_ip": "203.0.113.7"},
            {"src_ip": "198.51.100.200", "dst_ip": "10.0.0.2"},
            {"src_ip": "2001:db8::1", "dst_ip": "2001:db8::66"},
            {"src_ip": "10.0.0.3", "dst_ip": "192.0.2.1", "tls_sni": "a.b.EVIL.example"},
            {"src_ip": "10.0.0.3", "dst_ip": "192.0.2.1", "tls_sni": "notevil.example"},
            {"src_ip": "10.0.0.4", "dst_ip": "192.0.2.2", "dst_port": 4444},
            {"src_ip": "10.0.0.4", "dst_ip": "192.0.2.2", "dst_port": 4444, "proto": 17},
        ]
    )
    hits = compiled.match_batch(batch).to_pylist()
    got = sorted((h["field"], h["matched"], compiled.indicators[h["indicator"]].indicator_id) for h in hits)
    assert got == [
        ("dst_ip", "2001:db8::66", "v6"),
        ("dst_ip", "203.0.113.5", "ip-live"),
        ("dst_port", "4444", "port"),
        ("src_ip", "198.51.100.200", "net"),
        ("tls_sni", "a.b.EVIL.example", "dom"),
    ]


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        (Indicator(IndicatorKind.IP, "203.0.113.300", "bad-ip"), "not an address"),
        (Indicator(IndicatorKind.IP, "203.0.113.0/24", "bad-ip2"), "use kind cidr"),
        (Indicator(IndicatorKind.DOMAIN, "bad..example", "bad-dom"), "not a DNS name"),
        (Indicator(IndicatorKind.PORT, "70000", "bad-port"), "0-65535"),
        (Indicator(IndicatorKind.PORT, "gre/1", "bad-proto"), "unknown protocol"),
    ],
)
def test_bad_indicators_are_rejected_with_their_id(indicator: Indicator, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        CompiledIndicators.compile([Indicator(IndicatorKind.IP, "192.0.2.1", "ok"), indicator], NOW)
    assert err.value.where == f"indicator {indicator.indicator_id}"

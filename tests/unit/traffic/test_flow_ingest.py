"""The ingest use case: lawful storage of minimised flows, refusal without approval, bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.unit.traffic.flow_fixtures import NOW, PRIVATE, observations, service

from mamori.errors import InvalidInput, NotFound, PermissionDenied
from mamori.traffic.flowexport import encode_ipfix, encode_v9, synthetic_columns
from mamori.traffic.model import Channel, TrafficPolicy
from mamori.traffic.netflow import write_datagram_file
from mamori.traffic.pcap import build_frame, write_pcap
from mamori.traffic.schema import FLOW_SCHEMA

SECRETS = {
    "payload": "PAYLOAD-7f3a: GET /login?user=alice&pw=hunter2",
    "uri": "/private/URL-5b1c?token=abc",
    "request_headers": "Cookie: HEADER-9d2e=session",
    "user_agent": "UA-4c8b Mozilla/5.0 (X11; Linux)",
    "cert_subject": "CN=CERT-3e6f.example",
    "uid": "CUID0000000001",
    "label": "Malicious",
}
MARKERS = ["PAYLOAD-7f3a", "URL-5b1c", "HEADER-9d2e", "UA-4c8b", "CERT-3e6f", "CUID0000000001", "Malicious", "hunter2"]


def _zeek_json_with_content(path: Path, ts: float) -> Path:
    lines = []
    for i in range(4):
        lines.append(
            {
                "ts": ts + i,
                "id.orig_h": "203.0.113.10",
                "id.orig_p": 40000 + i,
                "id.resp_h": "10.20.30.40",
                "id.resp_p": 80,
                "proto": "tcp",
                "duration": 1.5,
                "orig_ip_bytes": 500,
                "resp_ip_bytes": 900,
                "orig_pkts": 5,
                "resp_pkts": 6,
                "conn_state": "SF",
                "history": "ShADadFf",
                **SECRETS,
            }
        )
    lines.append(
        {  # domestic to domestic: must vanish entirely
            "ts": ts,
            "id.orig_h": "10.0.0.1",
            "id.orig_p": 1,
            "id.resp_h": "192.168.0.1",
            "id.resp_p": 2,
            "proto": "udp",
            "conn_state": "S0",
            **SECRETS,
        }
    )
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def _all_stored_text(root: Path) -> str:
    parts = []
    for f in sorted(root.rglob("*.parquet")):
        table = pq.ParquetFile(f).read()
        parts.append(json.dumps(table.to_pylist()))
        parts.append(json.dumps(table.schema.names))
    return "\n".join(parts)


def test_content_fields_are_never_stored(tmp_path: Path) -> None:
    svc, store, _ = service(tmp_path)
    log = _zeek_json_with_content(tmp_path / "conn.log", NOW.timestamp() - 60)
    report = svc.ingest_paths([log], "zeek", "agreement", "AGR-7", "sensor-a", NOW)
    assert (report.records_in, report.records_stored, report.dropped_domestic) == (5, 4, 1)
    for name in SECRETS:
        assert name in report.dropped_fields
    files = store.files()
    assert files
    for f in files:
        schema = pq.ParquetFile(f).schema_arrow
        assert schema == FLOW_SCHEMA
        assert not set(schema.names) & set(SECRETS)
    stored = _all_stored_text(tmp_path / "flows")
    for marker in MARKERS:
        assert marker not in stored, marker
    rows = store.read(0, 2**40).to_pylist()
    assert {r["src_ip"] for r in rows} == {"203.0.113.10"}
    assert all(r["approval_id"] == "AGR-7" and r["sensor"] == "sensor-a" for r in rows)
    assert all(r["expires_at"] == NOW.timestamp() + 30 * 86400 for r in rows)
    assert rows[0]["bytes_out"] == 500 and rows[0]["conn_state"] == "SF"


@pytest.mark.parametrize("channel", ["transit", "specific"])
def test_commission_channel_without_approval_is_refused_and_nothing_stored(tmp_path: Path, channel: str) -> None:
    svc, _, _ = service(tmp_path)
    log = _zeek_json_with_content(tmp_path / "conn.log", NOW.timestamp() - 60)
    with pytest.raises(PermissionDenied):
        svc.ingest_paths([log], "zeek", channel, None, "s", NOW)
    with pytest.raises(NotFound):
        svc.ingest_paths([log], "zeek", channel, "K-404", "s", NOW)
    assert not (tmp_path / "flows").exists() or not any((tmp_path / "flows").rglob("*"))


def test_specific_batch_with_one_flow_outside_scope_is_refused_whole(tmp_path: Path) -> None:
    svc, _, approvals = service(tmp_path)
    approvals.grant(
        approval_id="K-1",
        channel=Channel.SPECIFIC,
        scope=["203.0.113.0/24"],
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
        granted_by="commission",
        created_at=NOW,
    )
    ts = NOW.timestamp() - 10
    inside = {"start_ts": ts, "src_ip": "203.0.113.10", "dst_ip": "10.1.1.1"}
    outside = {"start_ts": ts, "src_ip": "198.51.100.10", "dst_ip": "10.1.1.1"}
    with pytest.raises(PermissionDenied, match="scope"):
        svc.ingest_table(
            observations([inside, outside]), channel=Channel.SPECIFIC, approval_id="K-1", sensor="s", now=NOW
        )
    assert not (tmp_path / "flows").exists() or not any((tmp_path / "flows").rglob("*"))
    report = svc.ingest_table(observations([inside]), channel=Channel.SPECIFIC, approval_id="K-1", sensor="s", now=NOW)
    assert report.records_stored == 1


def test_expired_approval_is_refused(tmp_path: Path) -> None:
    svc, _, approvals = service(tmp_path)
    approvals.grant(
        approval_id="T-1",
        channel=Channel.TRANSIT,
        scope=None,
        valid_from=NOW - timedelta(days=10),
        valid_until=NOW - timedelta(days=1),
        granted_by="commission",
        created_at=NOW - timedelta(days=10),
    )
    table = observations([{"start_ts": NOW.timestamp() - 86400 * 5, "src_ip": "203.0.113.1", "dst_ip": "198.51.100.1"}])
    with pytest.raises(PermissionDenied, match="expired"):
        svc.ingest_table(table, channel=Channel.TRANSIT, approval_id="T-1", sensor="s", now=NOW)
    assert not (tmp_path / "flows").exists()


def test_agreement_channel_needs_an_agreement_id(tmp_path: Path) -> None:
    svc, _, _ = service(tmp_path)
    log = _zeek_json_with_content(tmp_path / "conn.log", NOW.timestamp())
    with pytest.raises(PermissionDenied, match="agreement"):
        svc.ingest_paths([log], "zeek", "agreement", "", "s", NOW)


def test_netflow_and_ipfix_files_are_ingested(tmp_path: Path) -> None:
    svc, store, _ = service(tmp_path, TrafficPolicy.from_settings([]))
    cols = synthetic_columns(200, seed=5, start=NOW.timestamp() - 4000)
    v9 = tmp_path / "a.nfd"
    write_datagram_file(v9, encode_v9(cols, export_secs=int(NOW.timestamp()), uptime_ms=100_000_000))
    ipfix = tmp_path / "a.ipfix"
    ipfix.write_bytes(b"".join(encode_ipfix(cols, export_secs=int(NOW.timestamp()))))
    r1 = svc.ingest_paths([v9], "netflow", "agreement", "A", "s", NOW)
    r2 = svc.ingest_paths([ipfix], "ipfix", "agreement", "A", "s", NOW)
    assert (r1.records_stored, r2.records_stored) == (200, 200)
    assert store.read(0, 2**40).num_rows == 400


def test_pcap_files_are_ingested(tmp_path: Path) -> None:
    svc, _, _ = service(tmp_path)
    path = tmp_path / "c.pcap"
    ts = NOW.timestamp()
    write_pcap(
        path,
        [
            (ts, build_frame("203.0.113.1", "10.0.0.1", 6, 1000, 22, payload=b"SSH-2.0-secret")),
            (ts + 1, build_frame("10.0.0.1", "203.0.113.1", 6, 22, 1000)),
        ],
    )
    report = svc.ingest_paths([path], "pcap", "agreement", "A", "s", NOW)
    assert report.records_stored == 1
    assert "SSH-2.0" not in _all_stored_text(tmp_path / "flows")


def test_bad_input_stores_nothing_and_names_the_place(tmp_path: Path) -> None:
    svc, _, _ = service(tmp_path)
    good = _zeek_json_with_content(tmp_path / "good.log", NOW.timestamp())
    bad = tmp_path / "bad.log"
    bad.write_text('{"ts": 1, "id.orig_h": "1.2.3.4"}\n{not json}\n')
    with pytest.raises(InvalidInput) as info:
        svc.ingest_paths([good, bad], "zeek", "agreement", "A", "s", NOW)
    assert info.value.where == f"{bad}:2"
    assert not (tmp_path / "flows").exists()
    with pytest.raises(InvalidInput, match="unknown format"):
        svc.ingest_paths([good], "csv", "agreement", "A", "s", NOW)
    with pytest.raises(InvalidInput, match="unknown channel"):
        svc.ingest_paths([good], "zeek", "domestic", "A", "s", NOW)


def test_malformed_datagrams_are_reported_while_good_ones_are_stored(tmp_path: Path) -> None:
    svc, _, _ = service(tmp_path, TrafficPolicy.from_settings([]))
    cols = synthetic_columns(60, seed=5, start=NOW.timestamp() - 4000)
    datagrams = encode_ipfix(cols, export_secs=int(NOW.timestamp()))
    path = tmp_path / "mixed.nfd"
    write_datagram_file(path, [datagrams[0], b"\x00\x0a\x00\x10garbage-bytes!", datagrams[1]])
    report = svc.ingest_paths([path], "netflow", "agreement", "A", "s", NOW)
    assert report.records_stored == 60
    assert len(report.errors) == 1 and "datagram 1" in (report.errors[0].where or "")


def test_purge_through_the_service(tmp_path: Path) -> None:
    svc, store, _ = service(tmp_path, TrafficPolicy.from_settings(PRIVATE, retention_days={"agreement": 1}))
    svc.ingest_paths([_zeek_json_with_content(tmp_path / "c.log", NOW.timestamp())], "zeek", "agreement", "A", "s", NOW)
    assert svc.purge(NOW + timedelta(hours=23)).records_removed == 0
    report = svc.purge(NOW + timedelta(days=1))
    assert report.records_removed == 4 and store.files() == []

"""pcap and pcapng files reduce to bidirectional flows with idle/active timeouts."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from mamori.errors import InvalidInput
from mamori.traffic.pcap import build_frame, pcap_to_flows, write_pcap, write_pcapng


def _conversation() -> list[tuple[float, bytes]]:
    return [
        (100.0, build_frame("192.0.2.10", "198.51.100.20", 6, 40000, 443, tcp_flags=0x02)),
        (100.1, build_frame("198.51.100.20", "192.0.2.10", 6, 443, 40000, tcp_flags=0x12)),
        (100.2, build_frame("192.0.2.10", "198.51.100.20", 6, 40000, 443, tcp_flags=0x18, payload=b"GET / HTTP/1.1")),
        (100.5, build_frame("2001:db8::1", "2001:db8::53", 17, 5353, 53, payload=b"q" * 20)),
        (101.0, build_frame("192.0.2.10", "198.51.100.30", 1, icmp_type=8, icmp_code=0)),
    ]


@pytest.mark.parametrize("writer", [write_pcap, write_pcapng])
def test_packets_aggregate_into_bidirectional_flows(tmp_path: Path, writer: object) -> None:
    path = tmp_path / "c.pcap"
    writer(path, _conversation())  # type: ignore[operator]
    rows = {(r["proto"], r["dst_port"]): r for r in pcap_to_flows(path).to_pylist()}
    assert len(rows) == 3
    tcp = rows[(6, 443)]
    assert (tcp["src_ip"], tcp["src_port"], tcp["pkts_out"], tcp["pkts_in"]) == ("192.0.2.10", 40000, 2, 1)
    assert tcp["bytes_out"] == 40 + 40 + 14 and tcp["bytes_in"] == 40
    assert tcp["tcp_flags"] == 0x02 | 0x12 | 0x18
    assert tcp["start_ts"] == pytest.approx(100.0) and tcp["duration"] == pytest.approx(0.2)
    udp = rows[(17, 53)]
    assert udp["src_ip"] == "2001:db8::1" and udp["src_ip_num"] is None and udp["bytes_out"] == 40 + 8 + 20
    assert udp["tcp_flags"] is None
    icmp = rows[(1, 0)]
    assert icmp["src_port"] == 8  # ICMP type in the originator port, code in the responder port


def test_idle_timeout_splits_flows(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    frame = build_frame("192.0.2.1", "198.51.100.1", 17, 1000, 53)
    write_pcap(path, [(0.0, frame), (10.0, frame), (100.0, frame)])
    table = pcap_to_flows(path, idle_timeout=30, active_timeout=3600)
    assert table.column("pkts_out").to_pylist() == [2, 1]


def test_active_timeout_splits_long_flows(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    frame = build_frame("192.0.2.1", "198.51.100.1", 17, 1000, 53)
    write_pcap(path, [(float(t), frame) for t in range(0, 100, 10)])
    table = pcap_to_flows(path, idle_timeout=30, active_timeout=50)
    assert table.column("pkts_out").to_pylist() == [5, 5]


def test_truncated_record_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    write_pcap(path, _conversation()[:1])
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.raises(InvalidInput) as info:
        pcap_to_flows(path)
    assert info.value.where == f"{path}:24"


def test_unknown_magic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(struct.pack("<I", 0xDEADBEEF) + b"\0" * 20)
    with pytest.raises(InvalidInput, match="magic"):
        pcap_to_flows(path)

"""Zeek conn/dns/ssl logs in TSV and JSON lines become flow columns; bad lines are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.errors import InvalidInput
from mamori.traffic.zeek import parse_zeek

HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n"
    "#open\t2024-01-01-00-00-00\n#fields\t{fields}\n#types\t{types}\n"
)


def _tsv(tmp_path: Path, name: str, kind: str, fields: list[str], rows: list[list[str]]) -> Path:
    path = tmp_path / name
    text = HEADER.format(path=kind, fields="\t".join(fields), types="\t".join("string" for _ in fields))
    text += "".join("\t".join(r) + "\n" for r in rows) + "#close\t2024-01-01-00-10-00\n"
    path.write_text(text)
    return path


CONN_FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]


def test_conn_tsv_maps_fields_and_unset_values(tmp_path: Path) -> None:
    path = _tsv(
        tmp_path,
        "conn.log",
        "conn",
        CONN_FIELDS,
        [
            [
                "1700000000.5",
                "C1",
                "10.0.0.1",
                "5000",
                "8.8.8.8",
                "53",
                "udp",
                "dns",
                "0.25",
                "30",
                "60",
                "SF",
                "Dd",
                "1",
                "58",
                "1",
                "88",
                "(empty)",
            ],
            [
                "1700000001.0",
                "C2",
                "2001:db8::1",
                "6000",
                "2001:db8::2",
                "443",
                "tcp",
                "-",
                "-",
                "-",
                "-",
                "S0",
                "S",
                "1",
                "60",
                "0",
                "0",
                "(empty)",
            ],
            [
                "1700000002.0",
                "C3",
                "10.0.0.1",
                "8",
                "10.0.0.2",
                "0",
                "icmp",
                "-",
                "1.0",
                "8",
                "8",
                "OTH",
                "-",
                "1",
                "36",
                "1",
                "36",
                "(empty)",
            ],
        ],
    )
    log = parse_zeek(path)
    assert (log.kind, log.source_format) == ("conn", "tsv")
    rows = log.table.to_pylist()
    first, second, third = rows
    assert first["start_ts"] == 1700000000.5
    assert (first["src_ip"], first["src_ip_num"], first["dst_port"], first["proto"]) == ("10.0.0.1", 0x0A000001, 53, 17)
    assert (first["bytes_out"], first["bytes_in"], first["pkts_out"], first["pkts_in"]) == (58, 88, 1, 1)
    assert first["conn_state"] == "SF"
    assert second["duration"] == 0.0 and second["src_ip_num"] is None and second["proto"] == 6
    assert third["proto"] == 1 and third["src_port"] == 8
    assert first["uid"] == "C1" and first["tunnel_parents"] == ""  # source columns ride along for minimisation


def test_dns_log_fills_query_and_rcode(tmp_path: Path) -> None:
    fields = [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "trans_id",
        "rtt",
        "query",
        "rcode",
        "rcode_name",
        "answers",
    ]
    path = _tsv(
        tmp_path,
        "dns.log",
        "dns",
        fields,
        [
            [
                "10.0",
                "C1",
                "192.168.1.2",
                "5353",
                "8.8.8.8",
                "53",
                "udp",
                "1",
                "0.01",
                "ex\\x41mple.org",
                "3",
                "NXDOMAIN",
                "-",
            ],
        ],
    )
    row = parse_zeek(path).table.to_pylist()[0]
    assert (row["proto"], row["dst_port"], row["dns_query"], row["dns_rcode"]) == (17, 53, "exAmple.org", 3)
    assert row["bytes_out"] is None and row["duration"] == 0.01


def test_ssl_log_fills_sni(tmp_path: Path) -> None:
    fields = [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "version",
        "cipher",
        "server_name",
        "subject",
        "issuer",
    ]
    path = _tsv(
        tmp_path,
        "ssl.log",
        "ssl",
        fields,
        [
            [
                "10.0",
                "C1",
                "192.168.1.2",
                "50000",
                "93.184.216.34",
                "443",
                "TLSv13",
                "TLS_AES_128_GCM_SHA256",
                "example.org",
                "CN=example.org",
                "CN=CA",
            ],
        ],
    )
    log = parse_zeek(path)
    row = log.table.to_pylist()[0]
    assert log.kind == "ssl"
    assert (row["proto"], row["tls_sni"], row["subject"]) == (6, "example.org", "CN=example.org")


def test_json_lines_are_detected_and_parsed(tmp_path: Path) -> None:
    path = tmp_path / "conn.json"
    lines = [
        {
            "ts": 1.5,
            "uid": "C1",
            "id.orig_h": "203.0.113.9",
            "id.orig_p": 1,
            "id.resp_h": "10.1.1.1",
            "id.resp_p": 22,
            "proto": "tcp",
            "conn_state": "REJ",
            "orig_pkts": 1,
            "orig_ip_bytes": 44,
            "resp_pkts": 1,
            "resp_ip_bytes": 40,
        },
        {
            "ts": 2.5,
            "uid": "C2",
            "id.orig_h": "203.0.113.9",
            "id.orig_p": 2,
            "id.resp_h": "10.1.1.1",
            "id.resp_p": 23,
            "proto": "tcp",
            "duration": 0.5,
            "conn_state": "S0",
            "orig_pkts": 2,
            "orig_ip_bytes": 88,
            "resp_pkts": 0,
            "resp_ip_bytes": 0,
        },
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    log = parse_zeek(path)
    assert (log.kind, log.source_format, log.table.num_rows) == ("conn", "json", 2)
    assert log.table.column("duration").to_pylist() == [0.0, 0.5]
    assert log.table.column("bytes_out").to_pylist() == [44, 88]


def test_wrong_field_count_names_file_and_line(tmp_path: Path) -> None:
    path = _tsv(tmp_path, "conn.log", "conn", CONN_FIELDS, [["1.0", "C1", "10.0.0.1"]])
    with pytest.raises(InvalidInput) as info:
        parse_zeek(path)
    assert info.value.where == f"{path}:9"
    assert "3 fields" in info.value.message


def test_bad_address_names_the_field(tmp_path: Path) -> None:
    row = [
        "1.0",
        "C1",
        "not-an-ip",
        "1",
        "8.8.8.8",
        "53",
        "udp",
        "-",
        "-",
        "-",
        "-",
        "S0",
        "-",
        "1",
        "1",
        "0",
        "0",
        "-",
    ]
    path = _tsv(tmp_path, "conn.log", "conn", CONN_FIELDS, [row])
    with pytest.raises(InvalidInput) as info:
        parse_zeek(path)
    assert "not-an-ip" in info.value.message and "id.orig_h" in (info.value.where or "")


def test_bad_number_names_the_line(tmp_path: Path) -> None:
    row = [
        "1.0",
        "C1",
        "10.0.0.1",
        "http",
        "8.8.8.8",
        "53",
        "udp",
        "-",
        "-",
        "-",
        "-",
        "S0",
        "-",
        "1",
        "1",
        "0",
        "0",
        "-",
    ]
    path = _tsv(tmp_path, "conn.log", "conn", CONN_FIELDS, [row])
    with pytest.raises(InvalidInput) as info:
        parse_zeek(path)
    assert info.value.where == f"{path}:9" and "id.orig_p" in info.value.message


def test_broken_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text('{"ts": 1, "id.orig_h": "1.2.3.4"}\n{"ts": \n')
    with pytest.raises(InvalidInput) as info:
        parse_zeek(path)
    assert info.value.where == f"{path}:2"


def test_missing_required_field_is_refused(tmp_path: Path) -> None:
    path = _tsv(tmp_path, "conn.log", "conn", ["ts", "id.orig_h", "conn_state"], [["1", "1.1.1.1", "S0"]])
    with pytest.raises(InvalidInput, match="lacks field"):
        parse_zeek(path)


def test_not_a_zeek_log_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("hello world\n")
    with pytest.raises(InvalidInput, match="not a Zeek log"):
        parse_zeek(path)


def test_fields_header_changing_mid_log_is_refused(tmp_path: Path) -> None:
    path = _tsv(tmp_path, "conn.log", "conn", ["ts", "id.orig_h"], [["1", "1.1.1.1"]])
    path.write_text(path.read_text() + "#fields\tts\tid.resp_h\n2\t2.2.2.2\n")
    with pytest.raises(InvalidInput, match="#fields changes") as info:
        parse_zeek(path)
    assert info.value.where == f"{path}:11"


@pytest.mark.parametrize("ts", ["nan", "-5", "1e20", "-"])
def test_unset_or_out_of_range_time_names_the_line(tmp_path: Path, ts: str) -> None:
    path = _tsv(
        tmp_path,
        "conn.log",
        "conn",
        ["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"],
        [["1", "1.1.1.1", "1", "2.2.2.2", "2", "tcp"], [ts, "1.1.1.1", "1", "2.2.2.2", "2", "tcp"]],
    )
    with pytest.raises(InvalidInput, match="ts") as info:
        parse_zeek(path)
    assert info.value.where == f"{path}:10"

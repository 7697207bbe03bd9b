"""NetFlow v5/v9 and IPFIX decoding: round trips, templates, sequences and bad input."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path

import numpy as np
import pytest

from mamori.errors import InvalidInput
from mamori.traffic.flowexport import encode_ipfix, encode_v5, encode_v9, synthetic_columns
from mamori.traffic.netflow import NetflowDecoder, decode_file, read_datagram_file, write_datagram_file

EXPORT = 1_700_004_000
UPTIME = 10_000_000


def _cols(n: int = 100) -> dict[str, np.ndarray]:
    return synthetic_columns(n, seed=7, hosts=50)


def _assert_round_trip(cols: dict[str, np.ndarray], decoder: NetflowDecoder, datagrams: list[bytes]) -> None:
    result = decoder.decode((d, "192.0.2.1:2055") for d in datagrams)
    assert result.errors == []
    flows = result.flows
    assert len(flows) == len(cols["src4"])
    np.testing.assert_array_equal(flows.src4, cols["src4"])
    np.testing.assert_array_equal(flows.dst4, cols["dst4"])
    np.testing.assert_array_equal(flows.src_port, cols["src_port"])
    np.testing.assert_array_equal(flows.dst_port, cols["dst_port"])
    np.testing.assert_array_equal(flows.proto, cols["proto"])
    np.testing.assert_array_equal(flows.bytes_out, cols["bytes"])
    np.testing.assert_array_equal(flows.pkts_out, cols["pkts"])
    np.testing.assert_array_equal(flows.tcp_flags, cols["tcp_flags"])
    np.testing.assert_allclose(flows.start_ts, cols["start"], atol=1e-3)
    np.testing.assert_allclose(flows.duration, cols["end"] - cols["start"], atol=2e-3)


def test_v9_datagrams_decode_to_the_exported_flows() -> None:
    cols = _cols()
    _assert_round_trip(cols, NetflowDecoder(), encode_v9(cols, export_secs=EXPORT, uptime_ms=UPTIME))


def test_ipfix_messages_decode_to_the_exported_flows() -> None:
    cols = _cols()
    _assert_round_trip(cols, NetflowDecoder(), encode_ipfix(cols, export_secs=EXPORT))


def test_v5_datagrams_decode_to_the_exported_flows() -> None:
    cols = _cols(95)
    _assert_round_trip(cols, NetflowDecoder(), encode_v5(cols, export_secs=EXPORT, uptime_ms=UPTIME))


def test_decoded_table_has_text_addresses_and_numeric_twins() -> None:
    cols = _cols(3)
    table = NetflowDecoder().decode((d, "x") for d in encode_ipfix(cols, export_secs=EXPORT)).to_table()
    rows = table.to_pylist()
    for row, src in zip(rows, cols["src4"], strict=True):
        assert row["src_ip_num"] == int(src)
        assert row["src_ip"] == ".".join(str((int(src) >> s) & 255) for s in (24, 16, 8, 0))
        assert row["bytes_in"] == 0


def test_data_before_template_is_reported_and_skipped() -> None:
    cols = _cols(60)
    datagrams = encode_ipfix(cols, export_secs=EXPORT, template_every=1000)
    result = NetflowDecoder().decode((d, "x") for d in datagrams[1:])
    assert len(result.flows) == 0
    assert result.errors and all("unknown template" in e.message for e in result.errors)


def test_templates_are_scoped_per_exporter() -> None:
    cols = _cols(60)
    datagrams = encode_ipfix(cols, export_secs=EXPORT, template_every=1000)
    decoder = NetflowDecoder()
    decoder.decode([(datagrams[0], "a")])
    result = decoder.decode([(datagrams[1], "b")])
    assert len(result.flows) == 0 and result.errors


def test_template_refresh_with_new_layout_applies_to_later_records() -> None:
    # Template 256 first carries (src4, dst4, bytes:4); then is redefined as (bytes:8, src4, dst4).
    def tmpl(fields: list[tuple[int, int]]) -> bytes:
        body = struct.pack(">HH", 256, len(fields)) + b"".join(struct.pack(">HH", i, n) for i, n in fields)
        return struct.pack(">HH", 2, 4 + len(body)) + body

    def msg(sets: bytes, seq: int) -> bytes:
        return struct.pack(">HHIII", 10, 16 + len(sets), EXPORT, seq, 1) + sets

    first = tmpl([(8, 4), (12, 4), (1, 4)])
    rec1 = struct.pack(">IIIHH", 0x0A000001, 0x0A000002, 1000, 256, 0)[:12]
    second = tmpl([(1, 8), (8, 4), (12, 4)])
    rec2 = struct.pack(">QII", 2000, 0x0A000003, 0x0A000004)
    d1 = msg(first + struct.pack(">HH", 256, 4 + len(rec1)) + rec1, 0)
    d2 = msg(second + struct.pack(">HH", 256, 4 + len(rec2)) + rec2, 1)
    decoder = NetflowDecoder()
    result = decoder.decode([(d1, "x"), (d2, "x")])
    assert result.errors == []
    assert sorted(result.flows.bytes_out.tolist()) == [1000, 2000]
    assert decoder.stats.templates == 2


def test_ipfix_template_withdrawal_forgets_the_template() -> None:
    cols = _cols(30)
    datagrams = encode_ipfix(cols, export_secs=EXPORT)
    withdraw_set = struct.pack(">HHHH", 2, 8, 256, 0)
    withdrawal = struct.pack(">HHIII", 10, 16 + len(withdraw_set), EXPORT, 30, 0) + withdraw_set
    decoder = NetflowDecoder()
    result = decoder.decode(
        [(datagrams[0], "x"), (withdrawal, "x"), (datagrams[0][:16] + datagrams[0][16 + 4 + 40 :], "x")]
    )
    assert decoder.stats.template_withdrawals == 1
    assert decoder.templates("x") == {}
    assert len(result.flows) == 30


def test_enterprise_and_variable_length_fields_are_decoded() -> None:
    # Template: src4, dst4, enterprise field (PEN 9, id 1, variable), bytes (4), reverse bytes (RFC 5103).
    fields = (
        struct.pack(">HH", 8, 4)
        + struct.pack(">HH", 12, 4)
        + struct.pack(">HHI", 0x8001, 65535, 9)
        + struct.pack(">HH", 1, 4)
        + struct.pack(">HHI", 0x8001, 4, 29305)
    )
    body = struct.pack(">HH", 300, 5) + fields
    tset = struct.pack(">HH", 2, 4 + len(body)) + body
    rec_a = struct.pack(">II", 0xC0000201, 0xC6336401) + b"\x03abc" + struct.pack(">II", 500, 700)
    rec_b = struct.pack(">II", 0xC0000202, 0xC6336402) + b"\xff\x01\x00" + b"x" * 256 + struct.pack(">II", 9, 11)
    dset = rec_a + rec_b
    dset = struct.pack(">HH", 300, 4 + len(dset)) + dset
    message = struct.pack(">HHIII", 10, 16 + len(tset) + len(dset), EXPORT, 0, 0) + tset + dset
    result = NetflowDecoder().decode([(message, "x")])
    assert result.errors == []
    assert result.flows.bytes_out.tolist() == [500, 9]
    assert result.flows.bytes_in.tolist() == [700, 11]
    assert result.flows.src4.tolist() == [0xC0000201, 0xC0000202]


def test_options_template_records_are_not_flows() -> None:
    opt = struct.pack(">HHH", 400, 2, 1) + struct.pack(">HH", 149, 4) + struct.pack(">HH", 160, 8)
    oset = struct.pack(">HH", 3, 4 + len(opt)) + opt
    odata = struct.pack(">IQ", 1, (EXPORT - 100) * 1000)
    dset = struct.pack(">HH", 400, 4 + len(odata)) + odata
    message = struct.pack(">HHIII", 10, 16 + len(oset) + len(dset), EXPORT, 0, 0) + oset + dset
    decoder = NetflowDecoder()
    result = decoder.decode([(message, "x")])
    assert result.errors == []
    assert len(result.flows) == 0
    assert decoder.stats.option_records == 1


def test_sequence_gaps_are_counted() -> None:
    cols = _cols(90)
    datagrams = encode_ipfix(cols, export_secs=EXPORT, template_every=1)
    decoder = NetflowDecoder()
    decoder.decode([(datagrams[0], "x"), (datagrams[2], "x")])
    assert decoder.stats.sequence_gaps == 1
    assert decoder.stats.records_missed == 30


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b"\x00", "too short"),
        (b"\x00\x07" + b"\x00" * 30, "unsupported version 7"),
        (struct.pack(">HH", 5, 2) + b"\x00" * 20 + b"\x00" * 48, "announces 2 records"),
        (struct.pack(">HHIII", 10, 40, EXPORT, 0, 0) + b"\x00" * 4, "does not match datagram length"),
        (struct.pack(">HHIII", 10, 24, EXPORT, 0, 0) + struct.pack(">HH", 256, 100) + b"\x00" * 4, "overruns"),
        (struct.pack(">HHIII", 10, 24, EXPORT, 0, 0) + struct.pack(">HHHH", 2, 8, 100, 1), "reserved"),
        (
            struct.pack(">HHIIII", 9, 1, 0, EXPORT, 0, 0) + struct.pack(">HHHHHH", 0, 12, 256, 1, 8, 0),
            "length 0",
        ),
    ],
)
def test_malformed_datagrams_are_reported_with_exporter_and_offset(datagram: bytes, reason: str) -> None:
    decoder = NetflowDecoder()
    good = encode_ipfix(_cols(5), export_secs=EXPORT)[0]
    result = decoder.decode([(datagram, "198.51.100.7:9995"), (good, "198.51.100.7:9995")])
    assert len(result.errors) == 1
    err = result.errors[0]
    assert isinstance(err, InvalidInput)
    assert reason in err.message
    assert err.where is not None and "198.51.100.7:9995" in err.where and "datagram 0" in err.where
    assert err.detail["exporter"] == "198.51.100.7:9995"
    assert len(result.flows) == 5  # the next datagram still decodes


@pytest.mark.parametrize("set_length", [0, 1, 2, 3])
def test_v9_data_set_shorter_than_its_header_is_rejected(set_length: int) -> None:
    cols = _cols(30)
    decoder = NetflowDecoder()
    decoder.decode([(encode_v9(cols, export_secs=EXPORT, uptime_ms=UPTIME)[0], "x")])
    bad = struct.pack(">HHIIII", 9, 1, UPTIME, EXPORT, 1, 0) + struct.pack(">HH", 256, set_length)
    result = decoder.decode([(bad, "x")])
    assert len(result.flows) == 0
    assert len(result.errors) == 1 and "overruns" in result.errors[0].message


def test_datagram_file_round_trip(tmp_path: Path) -> None:
    cols = _cols(70)
    path = tmp_path / "flows.nfd"
    write_datagram_file(path, encode_v9(cols, export_secs=EXPORT, uptime_ms=UPTIME))
    assert len(list(read_datagram_file(path))) == 3
    result = decode_file(path, "netflow")
    assert len(result.flows) == 70


def test_truncated_datagram_file_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.nfd"
    path.write_bytes(struct.pack(">I", 100) + b"\x00" * 10)
    with pytest.raises(InvalidInput) as info:
        decode_file(path, "netflow")
    assert info.value.where == f"{path}:0"


def test_ipfix_file_is_concatenated_messages(tmp_path: Path) -> None:
    cols = _cols(70)
    path = tmp_path / "flows.ipfix"
    path.write_bytes(b"".join(encode_ipfix(cols, export_secs=EXPORT)))
    assert len(decode_file(path, "ipfix").flows) == 70


def test_ipv6_flows_get_canonical_text_and_null_numbers() -> None:
    fields = struct.pack(">HHHHHHHH", 27, 16, 28, 16, 1, 4, 4, 1)
    body = struct.pack(">HH", 256, 4) + fields
    tset = struct.pack(">HH", 2, 4 + len(body)) + body

    rec = (
        ipaddress.IPv6Address("2001:db8::1").packed
        + ipaddress.IPv6Address("2001:db8:0:0:1::2").packed
        + struct.pack(">IB", 1234, 17)
    )
    dset = struct.pack(">HH", 256, 4 + len(rec)) + rec
    message = struct.pack(">HHIII", 10, 16 + len(tset) + len(dset), EXPORT, 0, 0) + tset + dset
    table = NetflowDecoder().decode([(message, "x")]).to_table()
    row = table.to_pylist()[0]
    assert row["src_ip"] == "2001:db8::1"
    assert row["dst_ip"] == "2001:db8::1:0:0:2"
    assert row["src_ip_num"] is None
    assert row["bytes_out"] == 1234


def test_datagrams_are_numbered_across_calls() -> None:
    decoder = NetflowDecoder()
    decoder.decode([(encode_ipfix(_cols(5), export_secs=EXPORT)[0], "x")])
    result = decoder.decode([(b"\x00\x07junk", "x")])
    assert result.errors[0].detail["datagram"] == 1


def test_records_with_implausible_times_are_dropped_and_reported() -> None:
    cols = _cols(30)
    cols["start"] = cols["start"].copy()
    cols["end"] = cols["end"].copy()
    cols["start"][3] = 1e15  # beyond year 9999
    cols["end"][3] = 1e15
    decoder = NetflowDecoder()
    result = decoder.decode((d, "x") for d in encode_ipfix(cols, export_secs=EXPORT))
    assert len(result.flows) == 29
    assert len(result.errors) == 1 and "out of range" in result.errors[0].message
    assert decoder.stats.records == 29

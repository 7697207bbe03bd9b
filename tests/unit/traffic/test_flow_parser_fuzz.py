"""Fuzzing the flow parsers: random and mutated input yields flows or InvalidInput, nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.traffic.flowexport import encode_ipfix, encode_v5, encode_v9, synthetic_columns
from mamori.traffic.netflow import NetflowDecoder
from mamori.traffic.pcap import build_frame, pcap_to_flows, write_pcap
from mamori.traffic.zeek import parse_zeek

_COLS = synthetic_columns(40, seed=3, hosts=20)
_V9 = encode_v9(_COLS, export_secs=1_700_004_000, uptime_ms=10_000_000, template_every=1)
_IPFIX = encode_ipfix(_COLS, export_secs=1_700_004_000, template_every=1)
VALID = [*_V9, *_IPFIX, *encode_v5(_COLS, export_secs=1_700_004_000, uptime_ms=10_000_000)]
# Data-only datagrams exercise the fast path once the templates above are known.
DATA_ONLY = [
    *encode_v9(_COLS, export_secs=1_700_004_000, uptime_ms=10_000_000, template_every=1000)[1:],
    *encode_ipfix(_COLS, export_secs=1_700_004_000, template_every=1000)[1:],
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    base = bytearray(draw(st.sampled_from(VALID + DATA_ONLY)))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "set16"]))
        pos = draw(st.integers(0, max(0, len(base) - 1)))
        if action == "flip" and base:
            base[pos] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del base[pos:]
        elif action == "insert":
            base[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif action == "set16" and len(base) >= pos + 2:
            base[pos : pos + 2] = draw(st.sampled_from([0, 1, 2, 3, 4, 255, 256, 65535])).to_bytes(2, "big")
    return bytes(base)


def _decode_all(datagrams: list[bytes]) -> None:
    decoder = NetflowDecoder()
    result = decoder.decode((d, "fuzz") for d in datagrams)
    for err in result.errors:
        assert isinstance(err, InvalidInput)
        assert err.where
    table = result.to_table()
    assert table.num_rows == len(result.flows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200), max_size=5))
def test_random_bytes_never_break_the_decoder(datagrams: list[bytes]) -> None:
    _decode_all(datagrams)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=4))
def test_mutated_datagrams_never_break_the_decoder(datagrams: list[bytes]) -> None:
    _decode_all([_V9[0], _IPFIX[0], *datagrams])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_zeek_input_gives_flows_or_invalid_input(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conn.log"
        path.write_bytes(data)
        try:
            parse_zeek(path)
        except InvalidInput:
            pass


ZEEK_TSV = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\tresp_bytes"
    "\tconn_state\n"
    "1.5\tCa\t10.0.0.1\t1234\t8.8.8.8\t53\tudp\t0.1\t10\t20\tSF\n"
    "2.5\tCb\t10.0.0.2\t1234\t2001:db8::1\t443\ttcp\t-\t-\t-\tS0\n"
)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_zeek_tsv_gives_flows_or_invalid_input(data: st.DataObject) -> None:
    text = bytearray(ZEEK_TSV.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text) - 1))
        text[pos : pos + 1] = data.draw(st.sampled_from([b"", b"\t", b"\n", b"x", b"-", b"#", b"\xff", b"9"]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conn.log"
        path.write_bytes(bytes(text))
        try:
            parse_zeek(path)
        except InvalidInput:
            pass


def _pcap_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.pcap"
        frames = [
            (1.0 + i, build_frame("192.0.2.1", "198.51.100.2", 6, 1000 + i, 80, payload=b"x" * i)) for i in range(3)
        ]
        frames.append((5.0, build_frame("2001:db8::1", "2001:db8::2", 17, 53, 53)))
        write_pcap(path, frames)
        return path.read_bytes()


PCAP = _pcap_bytes()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_pcap_gives_flows_or_invalid_input(data: st.DataObject) -> None:
    raw = bytearray(PCAP)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        del raw[data.draw(st.integers(0, len(raw) - 1)) :]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.pcap"
        path.write_bytes(bytes(raw))
        try:
            table = pcap_to_flows(path)
        except InvalidInput:
            return
        assert np.all(table.column("pkts_out").to_numpy() >= 0)

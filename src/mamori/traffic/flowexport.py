"""Encode flows as NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams.

The inverse of :mod:`mamori.traffic.netflow` for a fixed template of mechanical fields. mamori uses it to
replay stored or synthetic flows towards a collector (exercise, conformance and benchmark runs); it is
not an exporter of live traffic.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from mamori.errors import InvalidInput
from mamori.traffic.netflow import V5_RECORD_DTYPE

V9_TEMPLATE_ID: Final = 256
IPFIX_TEMPLATE_ID: Final = 256

# (element id, length, column)
_V9_FIELDS: Final = (
    (8, 4, "src4"),
    (12, 4, "dst4"),
    (7, 2, "src_port"),
    (11, 2, "dst_port"),
    (4, 1, "proto"),
    (6, 1, "tcp_flags"),
    (1, 4, "bytes"),
    (2, 4, "pkts"),
    (22, 4, "first_uptime_ms"),
    (21, 4, "last_uptime_ms"),
)
_IPFIX_FIELDS: Final = (
    (8, 4, "src4"),
    (12, 4, "dst4"),
    (7, 2, "src_port"),
    (11, 2, "dst_port"),
    (4, 1, "proto"),
    (6, 1, "tcp_flags"),
    (1, 8, "bytes"),
    (2, 8, "pkts"),
    (152, 8, "start_ms"),
    (153, 8, "end_ms"),
)
REQUIRED_COLUMNS: Final = (
    "src4",
    "dst4",
    "src_port",
    "dst_port",
    "proto",
    "tcp_flags",
    "bytes",
    "pkts",
    "start",
    "end",
)


def _records(fields: tuple[tuple[int, int, str], ...], columns: Mapping[str, npt.NDArray[np.generic]]) -> bytes:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInput(f"flow columns missing: {', '.join(missing)}", where="flow export")
    dtype = np.dtype([(name, f">u{length}") for _, length, name in fields])
    n = len(columns["src4"])
    recs = np.zeros(n, dtype=dtype)
    for _, _, name in fields:
        if name in columns:
            recs[name] = columns[name]
    return recs.tobytes()


def encode_v9(
    columns: Mapping[str, npt.NDArray[np.generic]],
    *,
    export_secs: int,
    uptime_ms: int,
    source_id: int = 0,
    records_per_datagram: int = 30,
    template_every: int = 20,
    first_sequence: int = 0,
) -> list[bytes]:
    """NetFlow v9 datagrams carrying ``columns``; the template leads the first datagram and every Nth.

    ``start``/``end`` are epoch seconds; they become sysUpTime offsets relative to ``export_secs``
    minus ``uptime_ms``.
    """
    boot = export_secs - uptime_ms / 1000.0
    cols = dict(columns)
    cols["first_uptime_ms"] = np.round((np.asarray(columns["start"], dtype=np.float64) - boot) * 1000).astype(np.uint32)
    cols["last_uptime_ms"] = np.round((np.asarray(columns["end"], dtype=np.float64) - boot) * 1000).astype(np.uint32)
    body = _records(_V9_FIELDS, cols)
    size = sum(length for _, length, _ in _V9_FIELDS)
    template = struct.pack(">HH", V9_TEMPLATE_ID, len(_V9_FIELDS)) + b"".join(
        struct.pack(">HH", ie, length) for ie, length, _ in _V9_FIELDS
    )
    template_set = struct.pack(">HH", 0, 4 + len(template)) + template
    out: list[bytes] = []
    n = len(body) // size
    for k, i in enumerate(range(0, n, records_per_datagram)):
        chunk = body[i * size : min(n, i + records_per_datagram) * size]
        count = len(chunk) // size
        pad = (-len(chunk)) % 4
        sets = b""
        records = count
        if k % template_every == 0:
            sets += template_set
            records += 1
        sets += struct.pack(">HH", V9_TEMPLATE_ID, 4 + len(chunk) + pad) + chunk + b"\0" * pad
        header = struct.pack(">HHIIII", 9, records, uptime_ms, export_secs, first_sequence + k, source_id)
        out.append(header + sets)
    return out


def encode_ipfix(
    columns: Mapping[str, npt.NDArray[np.generic]],
    *,
    export_secs: int,
    domain: int = 0,
    records_per_datagram: int = 30,
    template_every: int = 20,
    first_sequence: int = 0,
) -> list[bytes]:
    """IPFIX messages carrying ``columns`` (millisecond times); the template leads the first and every Nth."""
    cols = dict(columns)
    cols["start_ms"] = np.round(np.asarray(columns["start"], dtype=np.float64) * 1000).astype(np.uint64)
    cols["end_ms"] = np.round(np.asarray(columns["end"], dtype=np.float64) * 1000).astype(np.uint64)
    body = _records(_IPFIX_FIELDS, cols)
    size = sum(length for _, length, _ in _IPFIX_FIELDS)
    template = struct.pack(">HH", IPFIX_TEMPLATE_ID, len(_IPFIX_FIELDS)) + b"".join(
        struct.pack(">HH", ie, length) for ie, length, _ in _IPFIX_FIELDS
    )
    template_set = struct.pack(">HH", 2, 4 + len(template)) + template
    out: list[bytes] = []
    n = len(body) // size
    sequence = first_sequence
    for k, i in enumerate(range(0, n, records_per_datagram)):
        chunk = body[i * size : min(n, i + records_per_datagram) * size]
        count = len(chunk) // size
        sets = template_set if k % template_every == 0 else b""
        sets += struct.pack(">HH", IPFIX_TEMPLATE_ID, 4 + len(chunk)) + chunk
        header = struct.pack(">HHIII", 10, 16 + len(sets), export_secs, sequence & 0xFFFFFFFF, domain)
        out.append(header + sets)
        sequence += count
    return out


def encode_v5(
    columns: Mapping[str, npt.NDArray[np.generic]],
    *,
    export_secs: int,
    uptime_ms: int,
    first_sequence: int = 0,
) -> list[bytes]:
    """NetFlow v5 datagrams (30 records each) carrying IPv4 ``columns``."""
    dtype = V5_RECORD_DTYPE  # the decoder's own record layout, so the two cannot drift apart
    n = len(columns["src4"])
    recs = np.zeros(n, dtype=dtype)
    for name in ("src4", "dst4", "pkts", "bytes", "src_port", "dst_port", "tcp_flags", "proto"):
        recs[name] = columns[name]
    boot = export_secs - uptime_ms / 1000.0
    recs["start_uptime"] = np.round((np.asarray(columns["start"], dtype=np.float64) - boot) * 1000).astype(np.uint32)
    recs["end_uptime"] = np.round((np.asarray(columns["end"], dtype=np.float64) - boot) * 1000).astype(np.uint32)
    out = []
    for i in range(0, n, 30):
        chunk = recs[i : i + 30]
        header = struct.pack(">HHIIIIBBH", 5, len(chunk), uptime_ms, export_secs, 0, first_sequence + i, 0, 0, 0)
        out.append(header + chunk.tobytes())
    return out


def synthetic_columns(
    n: int, *, seed: int = 0, start: float = 1_700_000_000.0, hosts: int = 5000
) -> dict[str, np.ndarray]:
    """Random but plausible IPv4 flow columns (for replays and benchmarks)."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(0x01000000, 0xDF000000, hosts, dtype=np.uint64).astype(np.uint32)
    begin = start + np.sort(rng.uniform(0, 3600, n))
    return {
        "src4": pool[rng.integers(0, hosts, n)],
        "dst4": pool[rng.integers(0, hosts, n)],
        "src_port": rng.integers(1024, 65536, n).astype(np.uint16),
        "dst_port": rng.choice(np.array([53, 80, 443, 22, 123, 8080], dtype=np.uint16), n),
        "proto": rng.choice(np.array([6, 17], dtype=np.uint8), n),
        "tcp_flags": rng.integers(0, 64, n).astype(np.uint8),
        "bytes": rng.integers(40, 1_000_000, n).astype(np.uint32),
        "pkts": rng.integers(1, 1000, n).astype(np.uint32),
        "start": np.round(begin, 3),
        "end": np.round(begin + rng.uniform(0, 60, n), 3),
    }

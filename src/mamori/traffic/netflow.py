"""NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) decoding into flow columns.

Decoding is done per template, not per record: each data set whose template has only fixed-length
fields is a run of equal-sized records, so the runs of many datagrams that share a template are joined
and read at once with ``np.frombuffer`` through a structured dtype built from the template. Templates
with variable-length fields (RFC 7011 section 7) take a slower per-record path that re-encodes the
fields mamori understands into a fixed layout, after which the same vectorised path applies.

Only the Information Elements that carry mechanical information (addresses, ports, protocol, times,
sizes, TCP flags) are ever materialised; every other field of a record is skipped unread.

Templates are kept per (exporter, version, observation domain / source id, template id) and replaced
when refreshed (RFC 7011 section 8.1, RFC 3954 section 5.2); IPFIX template withdrawals are honoured.
Sequence numbers are tracked per (exporter, version, domain) and gaps counted in :class:`DecoderStats`.

Bad input never escapes as anything but :class:`~mamori.errors.InvalidInput`: a malformed datagram is
dropped whole and reported with its exporter, datagram index, byte offset and reason, and decoding
continues with the next datagram.

A file of NetFlow datagrams (``format="netflow"``) is a sequence of records, each a 4-byte big-endian
length followed by that many bytes of one UDP payload. An IPFIX file (``format="ipfix"``) is a plain
concatenation of IPFIX messages, as in RFC 5655 section 6.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mamori.errors import InvalidInput
from mamori.traffic.addresses import ipv4_text, ipv6_text
from mamori.traffic.schema import MAX_TS, MIN_TS, OBSERVATION_SCHEMA, PROTO_ICMP, PROTO_ICMPV6

# --- Information Elements mamori reads (IANA "IPFIX Information Elements"; v9 uses the same numbers) ---

_NTP_EPOCH_OFFSET: Final = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
_REVERSE_PEN: Final = 29305  # RFC 5103 reverse Information Elements

_ROLES: Final[dict[tuple[int, int], str]] = {
    (0, 1): "bytes",
    (0, 2): "pkts",
    (0, 85): "bytes_total",
    (0, 86): "pkts_total",
    (0, 4): "proto",
    (0, 6): "tcp_flags",
    (0, 7): "src_port",
    (0, 11): "dst_port",
    (0, 8): "src4",
    (0, 12): "dst4",
    (0, 27): "src6",
    (0, 28): "dst6",
    (0, 22): "start_uptime",
    (0, 21): "end_uptime",
    (0, 32): "icmp_type_code",
    (0, 139): "icmp_type_code6",
    (0, 150): "start_s",
    (0, 151): "end_s",
    (0, 152): "start_ms",
    (0, 153): "end_ms",
    (0, 154): "start_us",
    (0, 155): "end_us",
    (0, 156): "start_ns",
    (0, 157): "end_ns",
    (0, 161): "duration_ms",
    (0, 162): "duration_us",
    (0, 160): "system_init_ms",
    (_REVERSE_PEN, 1): "rev_bytes",
    (_REVERSE_PEN, 2): "rev_pkts",
    (_REVERSE_PEN, 85): "rev_bytes_total",
    (_REVERSE_PEN, 86): "rev_pkts_total",
}
_ADDRESS_LENGTH: Final[dict[str, int]] = {"src4": 4, "dst4": 4, "src6": 16, "dst6": 16}
_NTP_ROLES: Final = frozenset({"start_us", "end_us", "start_ns", "end_ns"})
_VARIABLE: Final = 65535

_V5_HEADER = struct.Struct(">HHIIIIBBH")
V5_RECORD_DTYPE = np.dtype(
    [
        ("src4", ">u4"),
        ("dst4", ">u4"),
        ("nexthop", ">u4"),
        ("input", ">u2"),
        ("output", ">u2"),
        ("pkts", ">u4"),
        ("bytes", ">u4"),
        ("start_uptime", ">u4"),
        ("end_uptime", ">u4"),
        ("src_port", ">u2"),
        ("dst_port", ">u2"),
        ("pad1", "u1"),
        ("tcp_flags", "u1"),
        ("proto", "u1"),
        ("tos", "u1"),
        ("src_as", ">u2"),
        ("dst_as", ">u2"),
        ("src_mask", "u1"),
        ("dst_mask", "u1"),
        ("pad2", ">u2"),
    ]
)
_V9_HEADER = struct.Struct(">HHIIII")
_IPFIX_HEADER = struct.Struct(">HHIII")
_SET_HEADER = struct.Struct(">HH")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_LENGTH_PREFIX = struct.Struct(">I")
_IPFIX_FAST = struct.Struct(">HHIIIHH")
_V9_FAST = struct.Struct(">HHIIIIHH")
_NAN: Final = float("nan")

MAX_TEMPLATES_PER_EXPORTER: Final = 65536


@dataclass(frozen=True)
class TemplateField:
    """One field specifier of a template: Information Element, enterprise number (0 = IANA), length."""

    element_id: int
    enterprise: int
    length: int


@dataclass(eq=False)
class _Template:
    uid: int
    template_id: int
    fields: tuple[TemplateField, ...]
    scope_count: int
    fixed_length: int | None
    dtype: np.dtype | None
    plan: tuple[tuple[str, str, int], ...]  # (role, dtype field name, length)
    normalised: _Template | None = None

    @property
    def is_options(self) -> bool:
        return self.scope_count > 0


def _build_fixed(uid: int, template_id: int, fields: tuple[TemplateField, ...], scope_count: int) -> _Template:
    names: list[tuple[str, np.dtype | str | tuple[str, int]]] = []
    plan: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for i, f in enumerate(fields):
        name = f"f{i}"
        role = _ROLES.get((f.enterprise, f.element_id))
        if role is not None and role not in seen and (role not in _ADDRESS_LENGTH or f.length == _ADDRESS_LENGTH[role]):
            seen.add(role)
            plan.append((role, name, f.length))
            if f.length in (1, 2, 4, 8) and role not in _ADDRESS_LENGTH:
                names.append((name, f">u{f.length}"))
            else:
                names.append((name, ("u1", f.length)))
        else:
            names.append((name, f"V{f.length}"))
    dtype = np.dtype([(n, t) for n, t in names])
    length = sum(f.length for f in fields)
    return _Template(uid, template_id, fields, scope_count, length, dtype, tuple(plan))


def _build_template(uid: int, template_id: int, fields: tuple[TemplateField, ...], scope_count: int) -> _Template:
    if all(f.length != _VARIABLE for f in fields):
        return _build_fixed(uid, template_id, fields, scope_count)
    # Variable-length: decode per record, re-encode mapped fields into a fixed layout.
    norm_fields: list[TemplateField] = []
    seen: set[str] = set()
    for f in fields:
        role = _ROLES.get((f.enterprise, f.element_id))
        if role is None or role in seen:
            continue
        seen.add(role)
        if role in _ADDRESS_LENGTH:
            norm_fields.append(TemplateField(f.element_id, f.enterprise, _ADDRESS_LENGTH[role]))
        else:
            norm_fields.append(TemplateField(f.element_id, f.enterprise, 8))
    normalised = _build_fixed(uid, template_id, tuple(norm_fields), scope_count)
    return _Template(uid, template_id, fields, scope_count, None, None, (), normalised=normalised)


@dataclass
class DecoderStats:
    """Counters of one decoder: what came in, what came out, what was lost on the way."""

    datagrams: int = 0
    datagrams_rejected: int = 0
    records: int = 0
    option_records: int = 0
    templates: int = 0
    template_withdrawals: int = 0
    unknown_template_sets: int = 0
    sequence_gaps: int = 0
    records_missed: int = 0


@dataclass
class FlowColumns:
    """Decoded flows as numpy columns (addresses still numeric); :meth:`to_table` makes the schema."""

    start_ts: npt.NDArray[np.float64]
    duration: npt.NDArray[np.float64]
    is_v6: npt.NDArray[np.bool_]
    src4: npt.NDArray[np.uint32]
    dst4: npt.NDArray[np.uint32]
    src6: npt.NDArray[np.uint8] | None
    dst6: npt.NDArray[np.uint8] | None
    src_port: npt.NDArray[np.int32]
    dst_port: npt.NDArray[np.int32]
    proto: npt.NDArray[np.int16]
    bytes_out: npt.NDArray[np.int64]
    pkts_out: npt.NDArray[np.int64]
    bytes_in: npt.NDArray[np.int64]
    pkts_in: npt.NDArray[np.int64]
    tcp_flags: npt.NDArray[np.int16]
    tcp_flags_valid: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.start_ts)

    @classmethod
    def empty(cls) -> FlowColumns:
        return cls.concat([])

    @classmethod
    def concat(cls, parts: list[FlowColumns]) -> FlowColumns:
        if len(parts) == 1:
            return parts[0]

        def cat(name: str, dtype: type | np.dtype) -> np.ndarray:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

        any_v6 = any(p.src6 is not None for p in parts)
        src6 = dst6 = None
        if any_v6:
            src6 = np.concatenate([p.src6 if p.src6 is not None else np.zeros((len(p), 16), np.uint8) for p in parts])
            dst6 = np.concatenate([p.dst6 if p.dst6 is not None else np.zeros((len(p), 16), np.uint8) for p in parts])
        return cls(
            start_ts=cat("start_ts", np.float64),
            duration=cat("duration", np.float64),
            is_v6=cat("is_v6", np.bool_),
            src4=cat("src4", np.uint32),
            dst4=cat("dst4", np.uint32),
            src6=src6,
            dst6=dst6,
            src_port=cat("src_port", np.int32),
            dst_port=cat("dst_port", np.int32),
            proto=cat("proto", np.int16),
            bytes_out=cat("bytes_out", np.int64),
            pkts_out=cat("pkts_out", np.int64),
            bytes_in=cat("bytes_in", np.int64),
            pkts_in=cat("pkts_in", np.int64),
            tcp_flags=cat("tcp_flags", np.int16),
            tcp_flags_valid=cat("tcp_flags_valid", np.bool_),
        )

    def plausible(self) -> npt.NDArray[np.bool_]:
        """Rows whose times lie in [1970, 10000) and whose counters are not negative (i.e. not >= 2^63)."""
        return np.asarray(
            np.isfinite(self.start_ts)
            & (self.start_ts >= MIN_TS)
            & (self.start_ts <= MAX_TS)
            & np.isfinite(self.duration)
            & (self.duration >= 0)
            & (self.duration <= MAX_TS)
            & (self.bytes_out >= 0)
            & (self.pkts_out >= 0)
            & (self.bytes_in >= 0)
            & (self.pkts_in >= 0),
            dtype=bool,
        )

    def select(self, mask: npt.NDArray[np.bool_]) -> FlowColumns:
        return FlowColumns(
            start_ts=self.start_ts[mask],
            duration=self.duration[mask],
            is_v6=self.is_v6[mask],
            src4=self.src4[mask],
            dst4=self.dst4[mask],
            src6=None if self.src6 is None else self.src6[mask],
            dst6=None if self.dst6 is None else self.dst6[mask],
            src_port=self.src_port[mask],
            dst_port=self.dst_port[mask],
            proto=self.proto[mask],
            bytes_out=self.bytes_out[mask],
            pkts_out=self.pkts_out[mask],
            bytes_in=self.bytes_in[mask],
            pkts_in=self.pkts_in[mask],
            tcp_flags=self.tcp_flags[mask],
            tcp_flags_valid=self.tcp_flags_valid[mask],
        )

    def to_table(self) -> pa.Table:
        """The flows in :data:`~mamori.traffic.schema.OBSERVATION_SCHEMA`."""
        n = len(self)
        v6_rows = np.flatnonzero(self.is_v6)

        def text(v4: npt.NDArray[np.uint32], v6: npt.NDArray[np.uint8] | None) -> pa.Array:
            out = ipv4_text(v4)
            if len(v6_rows) and v6 is not None:
                mask = pa.array(self.is_v6)
                out = pc.replace_with_mask(out, mask, ipv6_text(v6[v6_rows]))
            return out

        def num(v4: npt.NDArray[np.uint32]) -> pa.Array:
            values = v4.astype(np.int64)
            return pa.array(values, pa.int64(), mask=self.is_v6 if len(v6_rows) else None)

        null_str = pa.nulls(n, pa.string())
        columns = {
            "start_ts": pa.array(self.start_ts, pa.float64()),
            "duration": pa.array(self.duration, pa.float64()),
            "src_ip": text(self.src4, self.src6),
            "dst_ip": text(self.dst4, self.dst6),
            "src_ip_num": num(self.src4),
            "dst_ip_num": num(self.dst4),
            "src_port": pa.array(self.src_port, pa.int32()),
            "dst_port": pa.array(self.dst_port, pa.int32()),
            "proto": pa.array(self.proto, pa.int16()),
            "bytes_out": pa.array(self.bytes_out, pa.int64()),
            "bytes_in": pa.array(self.bytes_in, pa.int64()),
            "pkts_out": pa.array(self.pkts_out, pa.int64()),
            "pkts_in": pa.array(self.pkts_in, pa.int64()),
            "tcp_flags": pa.array(self.tcp_flags, pa.int16(), mask=~self.tcp_flags_valid),
            "conn_state": null_str,
            "dns_query": null_str,
            "dns_rcode": pa.nulls(n, pa.int16()),
            "tls_sni": null_str,
            "http_host": null_str,
        }
        return pa.Table.from_pydict(columns, schema=OBSERVATION_SCHEMA)


@dataclass
class DecodeResult:
    """What one call of the decoder produced: the flows and the errors of the datagrams it dropped."""

    flows: FlowColumns
    errors: list[InvalidInput] = field(default_factory=list)

    def to_table(self) -> pa.Table:
        return self.flows.to_table()


class _Group:
    """Data records of one template gathered across datagrams, with (count, base, export time) per chunk."""

    __slots__ = ("chunks", "meta", "template")

    def __init__(self, template: _Template) -> None:
        self.template = template
        self.chunks: list[bytes | memoryview] = []
        self.meta: list[tuple[int, float, float]] = []


class _Bad(Exception):
    """Internal: a malformed datagram (converted to InvalidInput with its location)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def _uint(raw: np.ndarray, length: int) -> npt.NDArray[np.int64]:
    """Unsigned big-endian integers of any length 1..8 from a column (reduced-size encoding, RFC 7011 6.2)."""
    if raw.dtype.kind == "u" and raw.ndim == 1:
        return raw.astype(np.int64)
    b = raw.reshape(len(raw), -1).astype(np.uint64)
    out = np.zeros(len(raw), dtype=np.uint64)
    for j in range(min(length, 8)):
        out = (out << np.uint64(8)) | b[:, length - min(length, 8) + j]
    return out.astype(np.int64)


def _ntp_seconds(raw: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    u = raw.astype(np.uint64)
    secs = (u >> np.uint64(32)).astype(np.float64) - _NTP_EPOCH_OFFSET
    frac = (u & np.uint64(0xFFFFFFFF)).astype(np.float64) / 4294967296.0
    return secs + frac


class NetflowDecoder:
    """Stateful decoder of NetFlow v5/v9 and IPFIX datagrams (templates and sequences per exporter).

    One instance serves one collector or one file; it is not thread-safe.
    """

    def __init__(self) -> None:
        self._templates: dict[tuple[str, int, int, int], _Template] = {}
        self._template_count: dict[str, int] = {}
        self._next_seq: dict[tuple[str, int, int], int] = {}
        self._system_init: dict[tuple[str, int], float] = {}
        self._raw_templates: dict[tuple[str, int, int, int, bool], bytes] = {}
        self._uid = 0
        self._seen = 0
        self.stats = DecoderStats()

    # ----------------------------------------------------------------- public API

    def decode(self, datagrams: Iterable[tuple[bytes, str]]) -> DecodeResult:
        """Decode ``(payload, exporter)`` pairs, in arrival order, into flow columns."""
        groups: dict[int, _Group] = {}
        errors: list[InvalidInput] = []
        templates = self._templates
        next_seq = self._next_seq
        fast = 0
        fast_records = 0
        first = self._seen  # datagrams are numbered across calls: errors name the n-th datagram received
        index = -1
        # Fast path: a v9/IPFIX datagram that is one data set of a known fixed-length template (the
        # steady state of every exporter). Anything else goes through the general walk below.
        for index, (data, exporter) in enumerate(datagrams):
            n = len(data)
            if n >= 24:
                if data[1] == 10 and data[0] == 0:
                    _, length, export_time, sequence, domain, set_id, set_length = _IPFIX_FAST.unpack_from(data, 0)
                    if length == n and set_id >= 256 and set_length == n - 16:
                        template = templates.get((exporter, 10, domain, set_id))
                        if template is not None and template.fixed_length and not template.scope_count:
                            count = (set_length - 4) // template.fixed_length
                            key = (exporter, 10, domain)
                            if next_seq.get(key, sequence) != sequence:
                                self._track_sequence(key, sequence, count)
                            else:
                                next_seq[key] = (sequence + count) & 0xFFFFFFFF
                            if count:
                                group = groups.get(template.uid)
                                if group is None:
                                    group = groups[template.uid] = _Group(template)
                                group.chunks.append(data[20 : 20 + count * template.fixed_length])
                                group.meta.append((count, self._system_init.get((exporter, domain), _NAN), export_time))
                            fast += 1
                            fast_records += count
                            continue
                elif data[1] == 9 and data[0] == 0:
                    _, _, uptime, secs, sequence, source_id, set_id, set_length = _V9_FAST.unpack_from(data, 0)
                    if set_id >= 256 and 4 <= set_length <= n - 20 < set_length + 4:
                        template = templates.get((exporter, 9, source_id, set_id))
                        if template is not None and template.fixed_length and not template.scope_count:
                            count = (set_length - 4) // template.fixed_length
                            key = (exporter, 9, source_id)
                            if next_seq.get(key, sequence) != sequence:
                                self._track_sequence(key, sequence, 1)
                            else:
                                next_seq[key] = (sequence + 1) & 0xFFFFFFFF
                            if count:
                                group = groups.get(template.uid)
                                if group is None:
                                    group = groups[template.uid] = _Group(template)
                                group.chunks.append(data[24 : 24 + count * template.fixed_length])
                                group.meta.append((count, secs - uptime / 1000.0, secs))
                            fast += 1
                            fast_records += count
                            continue
            self._decode_one(data, exporter, first + index, groups, errors)
        self._seen = first + index + 1
        self.stats.datagrams += fast
        self.stats.records += fast_records
        return DecodeResult(self._materialise(groups, errors), errors)

    def decode_ipfix_stream(self, data: bytes, exporter: str) -> DecodeResult:
        """Decode a buffer of concatenated IPFIX messages (RFC 5655 file / RFC 7011 stream)."""
        return self.decode(_split_ipfix(data, exporter))

    def templates(self, exporter: str) -> dict[tuple[int, int, int], tuple[TemplateField, ...]]:
        """The templates currently known for ``exporter``: (version, domain, template id) -> fields."""
        return {(v, d, t): tpl.fields for (e, v, d, t), tpl in self._templates.items() if e == exporter}

    # ----------------------------------------------------------------- per datagram

    def _decode_one(
        self, data: bytes, exporter: str, index: int, groups: dict[int, _Group], errors: list[InvalidInput]
    ) -> None:
        self.stats.datagrams += 1
        pending: list[tuple[_Template, bytes | memoryview, int, float, float]] = []
        try:
            if len(data) < 2:
                raise _Bad(0, f"datagram of {len(data)} bytes is too short for a version number")
            version = (data[0] << 8) | data[1]
            if version == 5:
                self._v5(data, exporter, pending)
            elif version == 9:
                self._v9(data, exporter, index, pending, errors)
            elif version == 10:
                self._ipfix(data, exporter, index, pending, errors)
            else:
                raise _Bad(0, f"unsupported version {version} (expected 5, 9 or 10)")
        except _Bad as bad:
            self.stats.datagrams_rejected += 1
            errors.append(
                InvalidInput(
                    bad.reason,
                    where=f"exporter {exporter} datagram {index} offset {bad.offset}",
                    detail={
                        "exporter": exporter,
                        "datagram": index,
                        "offset": bad.offset,
                        "reason": bad.reason,
                    },
                )
            )
            return
        for template, chunk, count, base, export in pending:
            group = groups.get(template.uid)
            if group is None:
                group = groups[template.uid] = _Group(template)
            group.chunks.append(chunk)
            group.meta.append((count, base, export))
            self.stats.records += count

    def _track_sequence(self, key: tuple[str, int, int], sequence: int, advance: int) -> None:
        expected = self._next_seq.get(key)
        if expected is not None and expected != sequence:
            self.stats.sequence_gaps += 1
            missed = (sequence - expected) & 0xFFFFFFFF
            if missed < 0x80000000:
                self.stats.records_missed += missed
        self._next_seq[key] = (sequence + advance) & 0xFFFFFFFF

    def _v5(
        self,
        data: bytes,
        exporter: str,
        pending: list[tuple[_Template, bytes | memoryview, int, float, float]],
    ) -> None:
        if len(data) < 24:
            raise _Bad(0, f"NetFlow v5 header needs 24 bytes, datagram has {len(data)}")
        _, count, uptime, secs, nsecs, sequence, engine_type, engine_id, _ = _V5_HEADER.unpack_from(data, 0)
        end = 24 + 48 * count
        if count == 0 or end > len(data):
            raise _Bad(24, f"NetFlow v5 header announces {count} records ({end} bytes), datagram has {len(data)}")
        self._track_sequence((exporter, 5, (engine_type << 8) | engine_id), sequence, count)
        export = secs + nsecs / 1e9
        pending.append((_V5_TEMPLATE, memoryview(data)[24:end], count, export - uptime / 1000.0, export))

    def _v9(
        self,
        data: bytes,
        exporter: str,
        index: int,
        pending: list[tuple[_Template, bytes | memoryview, int, float, float]],
        errors: list[InvalidInput],
    ) -> None:
        n = len(data)
        if n < 20:
            raise _Bad(0, f"NetFlow v9 header needs 20 bytes, datagram has {n}")
        _, _, uptime, secs, sequence, source_id = _V9_HEADER.unpack_from(data, 0)
        base = secs - uptime / 1000.0
        self._walk_sets(data, 20, n, exporter, 9, source_id, index, base, float(secs), pending, errors)
        self._track_sequence((exporter, 9, source_id), sequence, 1)

    def _ipfix(
        self,
        data: bytes,
        exporter: str,
        index: int,
        pending: list[tuple[_Template, bytes | memoryview, int, float, float]],
        errors: list[InvalidInput],
    ) -> None:
        n = len(data)
        if n < 16:
            raise _Bad(0, f"IPFIX message header needs 16 bytes, datagram has {n}")
        _, length, export_time, sequence, domain = _IPFIX_HEADER.unpack_from(data, 0)
        if length != n:
            raise _Bad(2, f"IPFIX message length {length} does not match datagram length {n}")
        base = self._system_init.get((exporter, domain), float("nan"))
        before = len(pending)
        options_before = self.stats.option_records
        self._walk_sets(data, 16, n, exporter, 10, domain, index, base, float(export_time), pending, errors)
        data_records = sum(p[2] for p in pending[before:]) + self.stats.option_records - options_before
        self._track_sequence((exporter, 10, domain), sequence, data_records)

    def _walk_sets(
        self,
        data: bytes,
        offset: int,
        end: int,
        exporter: str,
        version: int,
        domain: int,
        index: int,
        base: float,
        export: float,
        pending: list[tuple[_Template, bytes | memoryview, int, float, float]],
        errors: list[InvalidInput],
    ) -> None:
        templates = self._templates
        template_set, options_set = (0, 1) if version == 9 else (2, 3)
        while offset + 4 <= end:
            set_id, set_length = _SET_HEADER.unpack_from(data, offset)
            if set_length < 4 or offset + set_length > end:
                raise _Bad(
                    offset,
                    f"set {set_id} length {set_length} overruns the datagram ({end - offset} bytes left)",
                )
            body = offset + 4
            set_end = offset + set_length
            if set_id >= 256:
                template = templates.get((exporter, version, domain, set_id))
                if template is None:
                    self.stats.unknown_template_sets += 1
                    errors.append(
                        InvalidInput(
                            f"data set for unknown template {set_id} (domain {domain}); records skipped",
                            where=f"exporter {exporter} datagram {index} offset {offset}",
                            detail={
                                "exporter": exporter,
                                "datagram": index,
                                "offset": offset,
                                "reason": "unknown template",
                            },
                        )
                    )
                elif template.fixed_length is not None:
                    count = (set_end - body) // template.fixed_length
                    if template.is_options:
                        self._options_records(template, data, body, count, exporter, domain)
                    elif count:
                        pending.append(
                            (
                                template,
                                memoryview(data)[body : body + count * template.fixed_length],
                                count,
                                base,
                                export,
                            )
                        )
                else:
                    chunk, count = self._variable_records(template, data, body, set_end)
                    if template.is_options:
                        self.stats.option_records += count
                    elif count:
                        assert template.normalised is not None
                        pending.append((template.normalised, chunk, count, base, export))
            elif set_id == template_set:
                self._template_set(data, body, set_end, exporter, version, domain, options=False)
            elif set_id == options_set:
                self._template_set(data, body, set_end, exporter, version, domain, options=True)
            else:
                raise _Bad(offset, f"reserved set id {set_id}")
            offset = set_end
        if version == 10 and offset != end:
            raise _Bad(offset, f"{end - offset} trailing bytes after the last set")

    def _template_set(
        self, data: bytes, offset: int, end: int, exporter: str, version: int, domain: int, *, options: bool
    ) -> None:
        raw_cache = self._raw_templates
        while end - offset >= 4:
            start = offset
            template_id, field_count = _SET_HEADER.unpack_from(data, offset)
            cache_key = (exporter, version, domain, template_id, options)
            cached = raw_cache.get(cache_key)
            if cached is not None and data[start : start + len(cached)] == cached:
                offset = start + len(cached)  # refresh of an unchanged template: nothing to compile
                continue
            offset += 4
            scope_count = 0
            if version == 9 and options:
                # RFC 3954 6.1: scope and option lengths are in bytes, 4 bytes per field specifier.
                scope_bytes = field_count
                if offset + 2 > end:
                    raise _Bad(offset, "options template record truncated")
                option_bytes = _U16.unpack_from(data, offset)[0]
                offset += 2
                if scope_bytes % 4 or option_bytes % 4:
                    raise _Bad(
                        start,
                        f"options template {template_id} lengths {scope_bytes}/{option_bytes} not multiples of 4",
                    )
                scope_count = scope_bytes // 4
                field_count = scope_count + option_bytes // 4
                if scope_count == 0:
                    raise _Bad(start, f"options template {template_id} has no scope field")
            elif options:
                if field_count == 0:
                    self._withdraw(exporter, version, domain, template_id)
                    continue
                if offset + 2 > end:
                    raise _Bad(offset, "options template record truncated")
                scope_count = _U16.unpack_from(data, offset)[0]
                offset += 2
                if scope_count == 0 or scope_count > field_count:
                    raise _Bad(start, f"options template {template_id} scope field count {scope_count} invalid")
            if template_id < 256:
                if version == 10 and field_count == 0 and template_id in (2, 3):
                    self._withdraw(exporter, version, domain, template_id)
                    continue
                raise _Bad(start, f"template id {template_id} is reserved (must be >= 256)")
            if field_count == 0:
                if version == 10:
                    self._withdraw(exporter, version, domain, template_id)
                    continue
                raise _Bad(start, f"template {template_id} has no fields")
            fields: list[TemplateField] = []
            for _ in range(field_count):
                if offset + 4 > end:
                    raise _Bad(offset, f"template {template_id} field specifier truncated")
                element_id, length = _SET_HEADER.unpack_from(data, offset)
                offset += 4
                enterprise = 0
                if version == 10 and element_id & 0x8000:
                    if offset + 4 > end:
                        raise _Bad(offset, f"template {template_id} enterprise number truncated")
                    enterprise = _U32.unpack_from(data, offset)[0]
                    element_id &= 0x7FFF
                    offset += 4
                if length == 0:
                    raise _Bad(offset - 4, f"template {template_id} field {element_id} has length 0")
                if length == _VARIABLE and version == 9:
                    raise _Bad(
                        offset - 4,
                        f"template {template_id} field {element_id}: NetFlow v9 has no variable length",
                    )
                fields.append(TemplateField(element_id, enterprise, length))
            self._register(exporter, version, domain, template_id, tuple(fields), scope_count)
            raw_cache[cache_key] = bytes(data[start:offset])

    def _register(
        self,
        exporter: str,
        version: int,
        domain: int,
        template_id: int,
        fields: tuple[TemplateField, ...],
        scope: int,
    ) -> None:
        key = (exporter, version, domain, template_id)
        old = self._templates.get(key)
        if old is not None and old.fields == fields and old.scope_count == scope:
            return  # a refresh that changes nothing keeps the compiled template
        if old is None:
            count = self._template_count.get(exporter, 0)
            if count >= MAX_TEMPLATES_PER_EXPORTER:
                raise _Bad(0, f"exporter {exporter} exceeds {MAX_TEMPLATES_PER_EXPORTER} templates")
            self._template_count[exporter] = count + 1
        self._uid += 1
        self._templates[key] = _build_template(self._uid, template_id, fields, scope)
        self.stats.templates += 1

    def _withdraw(self, exporter: str, version: int, domain: int, template_id: int) -> None:
        self.stats.template_withdrawals += 1
        if template_id in (2, 3):
            want_options = template_id == 3
            doomed = [
                k
                for k, t in self._templates.items()
                if k[0] == exporter and k[1] == version and k[2] == domain and t.is_options == want_options
            ]
        else:
            doomed = [(exporter, version, domain, template_id)]
        for k in doomed:
            self._raw_templates.pop((*k, False), None)
            self._raw_templates.pop((*k, True), None)
            if self._templates.pop(k, None) is not None:
                self._template_count[exporter] -= 1

    def _variable_records(self, template: _Template, data: bytes, offset: int, end: int) -> tuple[bytes, int]:
        """Walk records of a template with variable-length fields; re-encode mapped fields (RFC 7011 7)."""
        assert template.normalised is not None
        norm = template.normalised
        roles = {role for role, _, _ in norm.plan}
        order = [_ROLES.get((f.enterprise, f.element_id)) for f in norm.fields]
        min_length = sum(1 if f.length == _VARIABLE else f.length for f in template.fields)
        out = bytearray()
        count = 0
        while end - offset >= min_length:
            values: dict[str, bytes] = {}
            for f in template.fields:
                length = f.length
                if length == _VARIABLE:
                    if offset + 1 > end:
                        raise _Bad(offset, "variable-length field length truncated")
                    length = data[offset]
                    offset += 1
                    if length == 255:
                        if offset + 2 > end:
                            raise _Bad(offset, "variable-length field length truncated")
                        length = _U16.unpack_from(data, offset)[0]
                        offset += 2
                if offset + length > end:
                    raise _Bad(offset, f"field {f.element_id} of {length} bytes overruns the set")
                role = _ROLES.get((f.enterprise, f.element_id))
                if role is not None and role in roles and role not in values:
                    raw = data[offset : offset + length]
                    if role in _ADDRESS_LENGTH:
                        if length != _ADDRESS_LENGTH[role]:
                            raise _Bad(offset, f"address field {f.element_id} has length {length}")
                        values[role] = raw
                    else:
                        if length > 8:
                            raise _Bad(offset, f"numeric field {f.element_id} has length {length}")
                        values[role] = int.from_bytes(raw, "big").to_bytes(8, "big")
                offset += length
            for role in order:
                assert role is not None
                out += values.get(role) or b"\0" * _ADDRESS_LENGTH.get(role, 8)
            count += 1
        return bytes(out), count

    def _options_records(
        self, template: _Template, data: bytes, offset: int, count: int, exporter: str, domain: int
    ) -> None:
        self.stats.option_records += count
        for role, _, _ in template.plan:
            if role == "system_init_ms" and count:
                assert template.dtype is not None and template.fixed_length is not None
                recs = np.frombuffer(data, dtype=template.dtype, count=count, offset=offset)
                name = next(n for r, n, _ in template.plan if r == role)
                length = next(ln for r, _, ln in template.plan if r == role)
                value = int(_uint(recs[name], length)[-1])
                self._system_init[(exporter, domain)] = value / 1000.0

    # ----------------------------------------------------------------- vectorised decoding

    def _materialise(self, groups: dict[int, _Group], errors: list[InvalidInput]) -> FlowColumns:
        parts = []
        for group in groups.values():
            part = self._decode_group(group)
            valid = part.plausible()
            if not valid.all():
                bad = int((~valid).sum())
                reason = (
                    f"{bad} record(s) of template {group.template.template_id} dropped: time or counter out of range"
                )
                errors.append(
                    InvalidInput(
                        reason,
                        where=f"template {group.template.template_id}",
                        detail={"reason": reason, "records": bad, "template": group.template.template_id},
                    )
                )
                self.stats.records -= bad
                part = part.select(valid)
            parts.append(part)
        return FlowColumns.concat(parts) if parts else FlowColumns.concat([_empty_part()])

    @staticmethod
    def _decode_group(group: _Group) -> FlowColumns:
        template = group.template
        assert template.dtype is not None
        buf = b"".join(group.chunks) if len(group.chunks) > 1 else bytes(group.chunks[0])
        recs = np.frombuffer(buf, dtype=template.dtype)
        n = len(recs)
        meta = np.asarray(group.meta, dtype=np.float64).reshape(-1, 3)
        counts = meta[:, 0].astype(np.int64)
        cols: dict[str, tuple[np.ndarray, int]] = {}
        for role, name, length in template.plan:
            cols[role] = (recs[name], length)

        def ints(role: str) -> npt.NDArray[np.int64] | None:
            got = cols.get(role)
            return None if got is None else _uint(got[0], got[1])

        def first(*roles: str) -> npt.NDArray[np.int64] | None:
            for r in roles:
                v = ints(r)
                if v is not None:
                    return v
            return None

        zeros = np.zeros(n, dtype=np.int64)
        bytes_out = first("bytes", "bytes_total")
        pkts_out = first("pkts", "pkts_total")
        bytes_in = first("rev_bytes", "rev_bytes_total")
        pkts_in = first("rev_pkts", "rev_pkts_total")
        proto = ints("proto")
        src_port = ints("src_port")
        dst_port = ints("dst_port")
        flags = ints("tcp_flags")

        proto_arr = (proto if proto is not None else zeros).astype(np.int16)
        sport = (src_port if src_port is not None else zeros).astype(np.int32)
        dport = (dst_port if dst_port is not None else zeros).astype(np.int32)
        icmp = first("icmp_type_code", "icmp_type_code6")
        if icmp is not None:
            is_icmp = (proto_arr == PROTO_ICMP) | (proto_arr == PROTO_ICMPV6)
            # Zeek convention: ICMP type in the originator port, code in the responder port.
            sport = np.where(is_icmp, (icmp >> 8) & 0xFF, sport).astype(np.int32)
            dport = np.where(is_icmp, icmp & 0xFF, dport).astype(np.int32)

        # Times: absolute fields first, then sysUpTime relative to the datagram's base.
        start = end = None
        for s_role, e_role, scale in (("start_ms", "end_ms", 1e-3), ("start_s", "end_s", 1.0)):
            s, e = ints(s_role), ints(e_role)
            if s is not None and start is None:
                start = s * scale
            if e is not None and end is None:
                end = e * scale
        for s_role, e_role in (("start_ns", "end_ns"), ("start_us", "end_us")):
            s, e = ints(s_role), ints(e_role)
            if s is not None and start is None:
                start = _ntp_seconds(s)
            if e is not None and end is None:
                end = _ntp_seconds(e)
        s_up, e_up = ints("start_uptime"), ints("end_uptime")
        if (start is None or end is None) and (s_up is not None or e_up is not None):
            bases = np.repeat(meta[:, 1], counts)
            exports = np.repeat(meta[:, 2], counts)
            known = ~np.isnan(bases)
            if known.all():
                if start is None and s_up is not None:
                    start = bases + s_up / 1000.0
                if end is None and e_up is not None:
                    end = bases + e_up / 1000.0
            else:
                # No system init time (IPFIX without the option): anchor the flow end at export time.
                span = (e_up - s_up) / 1000.0 if (s_up is not None and e_up is not None) else np.zeros(n)
                b = np.where(known, bases, 0.0)
                end_rel = np.where(known, b + (e_up if e_up is not None else s_up) / 1000.0, exports)  # type: ignore[operator]
                if end is None:
                    end = end_rel
                if start is None:
                    start = np.where(known, b + (s_up if s_up is not None else e_up) / 1000.0, exports - span)  # type: ignore[operator]
        if start is None:
            start = end if end is not None else np.repeat(meta[:, 2], counts)
        duration = None
        d = first("duration_ms")
        if d is not None:
            duration = d / 1000.0
        d = ints("duration_us")
        if duration is None and d is not None:
            duration = d / 1e6
        if duration is None:
            duration = np.maximum(end - start, 0.0) if end is not None else np.zeros(n)

        s6 = cols.get("src6")
        d6 = cols.get("dst6")
        is_v6 = np.zeros(n, dtype=bool)
        src6 = dst6 = None
        if s6 is not None or d6 is not None:
            src6 = np.ascontiguousarray(s6[0]).reshape(n, 16) if s6 is not None else np.zeros((n, 16), np.uint8)
            dst6 = np.ascontiguousarray(d6[0]).reshape(n, 16) if d6 is not None else np.zeros((n, 16), np.uint8)
            if "src4" in cols or "dst4" in cols:
                is_v6 = np.asarray(src6.any(axis=1) | dst6.any(axis=1), dtype=bool)
            else:
                is_v6 = np.ones(n, dtype=bool)

        def addr4(role: str) -> npt.NDArray[np.uint32]:
            got = cols.get(role)
            if got is None:
                return np.zeros(n, dtype=np.uint32)
            raw = got[0].reshape(n, 4).astype(np.uint32)
            value = (raw[:, 0] << 24) | (raw[:, 1] << 16) | (raw[:, 2] << 8) | raw[:, 3]
            return np.asarray(value, dtype=np.uint32)

        return FlowColumns(
            start_ts=np.asarray(start, dtype=np.float64),
            duration=np.asarray(duration, dtype=np.float64),
            is_v6=is_v6,
            src4=addr4("src4"),
            dst4=addr4("dst4"),
            src6=src6,
            dst6=dst6,
            src_port=sport,
            dst_port=dport,
            proto=proto_arr,
            bytes_out=bytes_out if bytes_out is not None else zeros,
            pkts_out=pkts_out if pkts_out is not None else zeros,
            bytes_in=bytes_in if bytes_in is not None else zeros,
            pkts_in=pkts_in if pkts_in is not None else zeros,
            tcp_flags=(flags if flags is not None else zeros).astype(np.int16),
            tcp_flags_valid=np.full(n, flags is not None),
        )


def _empty_part() -> FlowColumns:
    z = np.zeros(0)
    return FlowColumns(
        start_ts=z.astype(np.float64),
        duration=z.astype(np.float64),
        is_v6=z.astype(bool),
        src4=z.astype(np.uint32),
        dst4=z.astype(np.uint32),
        src6=None,
        dst6=None,
        src_port=z.astype(np.int32),
        dst_port=z.astype(np.int32),
        proto=z.astype(np.int16),
        bytes_out=z.astype(np.int64),
        pkts_out=z.astype(np.int64),
        bytes_in=z.astype(np.int64),
        pkts_in=z.astype(np.int64),
        tcp_flags=z.astype(np.int16),
        tcp_flags_valid=z.astype(bool),
    )


def _v5_template() -> _Template:
    names = V5_RECORD_DTYPE.names or ()
    plan = tuple(
        (name, name, V5_RECORD_DTYPE[name].itemsize)
        for name in names
        if name
        in {
            "src4",
            "dst4",
            "pkts",
            "bytes",
            "start_uptime",
            "end_uptime",
            "src_port",
            "dst_port",
            "tcp_flags",
            "proto",
        }
    )
    # v5 addresses are already 32-bit integers: give them a u1x4 view so the decoder treats all alike.
    dtype = np.dtype([(n, ("u1", 4)) if n in ("src4", "dst4") else (n, V5_RECORD_DTYPE[n]) for n in names])
    return _Template(0, 0, (), 0, 48, dtype, plan)


_V5_TEMPLATE: Final = _v5_template()


def _split_ipfix(data: bytes, exporter: str) -> Iterator[tuple[bytes, str]]:
    offset = 0
    n = len(data)
    while offset < n:
        if n - offset < 4:
            yield data[offset:], exporter
            return
        length = _U16.unpack_from(data, offset + 2)[0]
        if length < 16 or offset + length > n:
            yield data[offset:], exporter  # the decoder reports it with its reason
            return
        yield data[offset : offset + length], exporter
        offset += length


def read_datagram_file(path: Path) -> Iterator[tuple[bytes, int]]:
    """Yield ``(datagram, file offset)`` from a file of 4-byte length-prefixed datagrams.

    Raises InvalidInput naming the file and offset when a length prefix overruns the file.
    """
    data = path.read_bytes()
    offset = 0
    n = len(data)
    while offset < n:
        if n - offset < 4:
            raise InvalidInput(f"truncated length prefix ({n - offset} bytes)", where=f"{path}:{offset}")
        (length,) = _LENGTH_PREFIX.unpack_from(data, offset)
        if offset + 4 + length > n:
            raise InvalidInput(
                f"datagram of {length} bytes overruns the file ({n - offset - 4} bytes left)",
                where=f"{path}:{offset}",
            )
        yield data[offset + 4 : offset + 4 + length], offset
        offset += 4 + length


def write_datagram_file(path: Path, datagrams: Iterable[bytes]) -> None:
    """Write datagrams in the length-prefixed file format :func:`read_datagram_file` reads."""
    with path.open("wb") as fh:
        for d in datagrams:
            fh.write(_LENGTH_PREFIX.pack(len(d)))
            fh.write(d)


def decode_file(path: Path, fmt: str, decoder: NetflowDecoder | None = None) -> DecodeResult:
    """Decode a ``netflow`` (length-prefixed datagrams) or ``ipfix`` (RFC 5655 messages) file."""
    decoder = decoder or NetflowDecoder()
    exporter = str(path)
    if fmt == "netflow":
        return decoder.decode((d, exporter) for d, _ in read_datagram_file(path))
    if fmt == "ipfix":
        return decoder.decode_ipfix_stream(path.read_bytes(), exporter)
    raise InvalidInput(f"unknown datagram file format {fmt!r} (expected netflow or ipfix)", where=str(path))

"""Zeek conn, dns and ssl logs (TSV with ``#fields`` header, or JSON lines) into flow columns.

Follows the Zeek ASCII writer format (``#separator``, ``#set_separator``, ``#empty_field``,
``#unset_field``, ``#path``, ``#fields``, ``#types`` header lines; ``\\xNN`` escapes) and the JSON
writer (one object per line, dotted keys such as ``id.orig_h``). Columns of the schema are derived from
the Zeek fields; every other Zeek field is carried along as a source column under its Zeek name, for
minimisation to drop (and report) before anything is stored.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from mamori.errors import InvalidInput
from mamori.traffic.addresses import text_to_numbers
from mamori.traffic.schema import MAX_TS, MIN_TS, OBSERVATION_SCHEMA, PROTO_ICMPV6, PROTO_NUMBERS

KINDS: Final = ("conn", "dns", "ssl")
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "conn": ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"),
    "dns": ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"),
    "ssl": ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"),
}


@dataclass(frozen=True)
class ZeekLog:
    """A parsed Zeek log: its kind (conn, dns or ssl), the source path and the flow columns."""

    kind: str
    path: Path
    table: pa.Table
    source_format: str  # "tsv" or "json"


def parse_zeek(path: Path, kind: str | None = None) -> ZeekLog:
    """Parse a Zeek conn/dns/ssl log, detecting TSV or JSON lines and the log kind.

    Raises InvalidInput naming the file and line of the first malformed line or value.
    """
    data = path.read_bytes()
    head = data.lstrip()[:1]
    if head == b"#":
        fields, kind_from_header, table = _read_tsv(data, path)
        fmt = "tsv"
    elif head == b"{":
        table = _read_json(data, path)
        fields = table.column_names
        kind_from_header = None
        fmt = "json"
    elif not head:
        raise InvalidInput("empty Zeek log", where=str(path))
    else:
        raise InvalidInput("not a Zeek log: neither a '#separator' header nor JSON lines", where=f"{path}:1")
    resolved = kind or kind_from_header or _guess_kind(fields, path)
    if resolved not in KINDS:
        raise InvalidInput(
            f"unsupported Zeek log kind {resolved!r} (expected one of {', '.join(KINDS)})", where=str(path)
        )
    missing = [f for f in _REQUIRED[resolved] if f not in fields]
    if missing:
        raise InvalidInput(f"Zeek {resolved} log lacks field(s): {', '.join(missing)}", where=str(path))
    return ZeekLog(resolved, path, _to_observations(table, resolved, path), fmt)


def _guess_kind(fields: list[str], path: Path) -> str:
    names = set(fields)
    if "query" in names and ("rcode" in names or "qtype" in names or "trans_id" in names):
        return "dns"
    if "server_name" in names or ("cipher" in names and "version" in names):
        return "ssl"
    if "conn_state" in names or "orig_pkts" in names or "orig_bytes" in names:
        return "conn"
    stem = path.name.split(".", 1)[0]
    if stem in KINDS:
        return stem
    raise InvalidInput("cannot tell which Zeek log this is (conn, dns or ssl)", where=str(path))


# ---------------------------------------------------------------- TSV


def _unescape_header(value: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _read_tsv(data: bytes, path: Path) -> tuple[list[str], str | None, pa.Table]:
    separator = "\t"
    empty = "(empty)"
    unset = "-"
    fields: list[str] | None = None
    log_path: str | None = None
    body: list[bytes] = []
    line_numbers: list[int] = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line.startswith(b"#"):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InvalidInput("header line is not UTF-8", where=f"{path}:{lineno}") from e
            if text.startswith("#separator"):
                parts = text.split(" ", 1) if " " in text else text.split("\t", 1)
                if len(parts) != 2 or not parts[1]:
                    raise InvalidInput("malformed #separator line", where=f"{path}:{lineno}")
                separator = _unescape_header(parts[1])
                continue
            key, _, value = text[1:].partition(separator)
            if key == "fields":
                new_fields = value.split(separator)
                if body and new_fields != fields:
                    raise InvalidInput("#fields changes in the middle of the log", where=f"{path}:{lineno}")
                fields = new_fields
                if len(set(fields)) != len(fields):
                    raise InvalidInput("duplicate names in #fields", where=f"{path}:{lineno}")
            elif key == "empty_field":
                empty = value
            elif key == "unset_field":
                unset = value
            elif key == "path":
                log_path = value
            continue
        if fields is None:
            raise InvalidInput("data line before the #fields header", where=f"{path}:{lineno}")
        count = line.count(separator.encode()) + 1
        if count != len(fields):
            raise InvalidInput(
                f"line has {count} fields, #fields names {len(fields)}",
                where=f"{path}:{lineno}",
                detail={"line": lineno, "expected": len(fields), "found": count},
            )
        body.append(line)
        line_numbers.append(lineno)
    if fields is None:
        raise InvalidInput("Zeek TSV log without a #fields header", where=str(path))
    if not body:
        table = pa.table({f: pa.array([], pa.string()) for f in fields})
    else:
        try:
            table = pacsv.read_csv(
                io.BytesIO(b"\n".join(body)),
                read_options=pacsv.ReadOptions(column_names=fields, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(delimiter=separator, quote_char=False, escape_char=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={f: pa.string() for f in fields},
                    null_values=[unset],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as e:
            raise InvalidInput(f"unreadable Zeek TSV body: {e}", where=str(path)) from e
    # "(empty)" is an empty set/string, not a missing value.
    columns = {}
    for name in fields:
        col = table.column(name)
        columns[name] = pc.if_else(pc.equal(col, empty), "", col)
    table = pa.table(columns)
    table = table.append_column("__line", pa.array(line_numbers, pa.int64()))
    return fields, log_path, table


# ---------------------------------------------------------------- JSON


def _read_json(data: bytes, path: Path) -> pa.Table:
    lines = data.split(b"\n")
    try:
        table = pajson.read_json(
            io.BytesIO(data), read_options=pajson.ReadOptions(block_size=max(1 << 20, len(data) + 1))
        )
    except pa.ArrowInvalid as e:
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError as je:
                raise InvalidInput(f"not a JSON object: {je}", where=f"{path}:{lineno}") from e
            if not isinstance(obj, dict):
                raise InvalidInput("JSON line is not an object", where=f"{path}:{lineno}") from e
        raise InvalidInput(f"inconsistent JSON lines: {e}", where=str(path)) from e
    line_numbers = [i for i, raw in enumerate(lines, start=1) if raw.strip()]
    if len(line_numbers) == table.num_rows:
        table = table.append_column("__line", pa.array(line_numbers, pa.int64()))
    return table


# ---------------------------------------------------------------- mapping


def _number(table: pa.Table, name: str, typ: pa.DataType, path: Path) -> pa.Array:
    col = table.column(name)
    if col.type == typ:
        return col
    try:
        if pa.types.is_string(col.type):
            col = pc.utf8_trim_whitespace(col)
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        if pa.types.is_integer(typ) and (pa.types.is_string(col.type) or pa.types.is_floating(col.type)):
            as_float = col.cast(pa.float64())
            return as_float.cast(typ)
        return col.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InvalidInput(
            f"field {name!r} holds a value that is not a {typ}: {_first_bad(col, typ)}",
            where=_where(table, path, col, typ),
        ) from e


def _first_bad(col: pa.ChunkedArray | pa.Array, typ: pa.DataType) -> str:
    for v in col.to_pylist():
        if v is None:
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return repr(v)
    return "(out of range)"


def _where(table: pa.Table, path: Path, col: pa.ChunkedArray | pa.Array, typ: pa.DataType) -> str:
    if "__line" not in table.column_names:
        return str(path)
    lines = table.column("__line").to_pylist()
    for v, line in zip(col.to_pylist(), lines, strict=True):
        if v is None:
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return f"{path}:{line}"
    return str(path)


def _check_range(table: pa.Table, values: pa.Array | pa.ChunkedArray, name: str, path: Path) -> None:
    """Times must be set, finite and within [MIN_TS, MAX_TS]."""
    arr = np.asarray(pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = ~(np.isfinite(arr) & (arr >= MIN_TS) & (arr <= MAX_TS))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        lines = table.column("__line").to_pylist() if "__line" in table.column_names else None
        where = f"{path}:{lines[row]}" if lines else f"{path} row {row + 1}"
        raw = values[row].as_py()
        raise InvalidInput(f"{name} {raw!r} is unset or out of range", where=where)


def _opt(table: pa.Table, name: str, typ: pa.DataType, path: Path) -> pa.Array | None:
    return _number(table, name, typ, path) if name in table.column_names else None


def _unescape_values(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    col = col.cast(pa.string())
    if not pc.any(pc.match_substring(col, "\\x")).as_py():
        return col
    encoded = pc.dictionary_encode(col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col)
    fixed = [
        None if v is None else _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), v)
        for v in encoded.dictionary.to_pylist()
    ]
    return pc.take(pa.array(fixed, pa.string()), encoded.indices)


def _to_observations(table: pa.Table, kind: str, path: Path) -> pa.Table:
    n = table.num_rows
    src_ip, src_num = text_to_numbers(table.column("id.orig_h"), f"{path} field id.orig_h")
    dst_ip, dst_num = text_to_numbers(table.column("id.resp_h"), f"{path} field id.resp_h")
    ts = _number(table, "ts", pa.float64(), path)
    _check_range(table, ts, "ts", path)
    is_v6 = pc.is_null(src_num)

    proto_names = table.column("proto").cast(pa.string()) if "proto" in table.column_names else None
    default_proto = {"conn": 0, "dns": 17, "ssl": 6}[kind]
    if proto_names is not None:
        lookup = pa.array(list(PROTO_NUMBERS.keys()))
        idx = pc.index_in(pc.utf8_lower(proto_names), value_set=lookup)
        numbers = pa.array(list(PROTO_NUMBERS.values()), pa.int16())
        proto = pc.if_else(pc.is_null(idx), pa.scalar(0, pa.int16()), pc.take(numbers, pc.fill_null(idx, 0)))
        proto = pc.if_else(pc.and_(pc.equal(proto, 1), is_v6), pa.scalar(PROTO_ICMPV6, pa.int16()), proto)
    else:
        proto = pa.array(np.full(n, default_proto, dtype=np.int16))

    if kind == "conn":
        duration = _opt(table, "duration", pa.float64(), path)
        bytes_out = _opt(table, "orig_ip_bytes", pa.int64(), path)
        if bytes_out is None:
            bytes_out = _opt(table, "orig_bytes", pa.int64(), path)
        bytes_in = _opt(table, "resp_ip_bytes", pa.int64(), path)
        if bytes_in is None:
            bytes_in = _opt(table, "resp_bytes", pa.int64(), path)
        pkts_out = _opt(table, "orig_pkts", pa.int64(), path)
        pkts_in = _opt(table, "resp_pkts", pa.int64(), path)
        conn_state = table.column("conn_state").cast(pa.string()) if "conn_state" in table.column_names else None
    else:
        duration = _opt(table, "rtt", pa.float64(), path) if kind == "dns" else None
        bytes_out = bytes_in = pkts_out = pkts_in = None
        conn_state = None

    def or_null(col: pa.Array | None, typ: pa.DataType) -> pa.Array:
        return col if col is not None else pa.nulls(n, typ)

    dns_query = dns_rcode = tls_sni = None
    if kind == "dns":
        dns_query = _unescape_values(table.column("query")) if "query" in table.column_names else None
        dns_rcode = _opt(table, "rcode", pa.int16(), path)
    if kind == "ssl" and "server_name" in table.column_names:
        tls_sni = _unescape_values(table.column("server_name"))

    if duration is not None:
        _check_range(table, pc.fill_null(duration, 0.0), "duration" if kind == "conn" else "rtt", path)
    columns: dict[str, pa.Array] = {
        "start_ts": ts,
        "duration": pc.fill_null(duration, 0.0) if duration is not None else pa.array(np.zeros(n)),
        "src_ip": src_ip,
        "dst_ip": dst_ip,
        "src_ip_num": src_num,
        "dst_ip_num": dst_num,
        "src_port": _number(table, "id.orig_p", pa.int32(), path),
        "dst_port": _number(table, "id.resp_p", pa.int32(), path),
        "proto": proto,
        "bytes_out": or_null(bytes_out, pa.int64()),
        "bytes_in": or_null(bytes_in, pa.int64()),
        "pkts_out": or_null(pkts_out, pa.int64()),
        "pkts_in": or_null(pkts_in, pa.int64()),
        "tcp_flags": pa.nulls(n, pa.int16()),
        "conn_state": or_null(conn_state, pa.string()),
        "dns_query": or_null(dns_query, pa.string()),
        "dns_rcode": or_null(dns_rcode, pa.int16()),
        "tls_sni": or_null(tls_sni, pa.string()),
        "http_host": pa.nulls(n, pa.string()),
    }
    out = pa.table({f.name: columns[f.name] for f in OBSERVATION_SCHEMA}, schema=OBSERVATION_SCHEMA)
    used = {
        "ts",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "__line",
        "proto",
        "query",
        "rcode",
        "rtt",
    }
    used |= {"server_name"} if kind == "ssl" else set()
    used |= {"orig_ip_bytes", "resp_ip_bytes", "orig_pkts", "resp_pkts"} if kind == "conn" else set()
    if kind == "conn" and "orig_ip_bytes" not in table.column_names:
        used |= {"orig_bytes", "resp_bytes"}
    for name in table.column_names:
        if name not in used and name not in out.column_names:
            out = out.append_column(name, table.column(name))
    return out

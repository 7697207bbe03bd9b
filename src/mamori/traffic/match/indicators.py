"""Threat-intelligence indicators compiled for matching against flow rows.

An indicator names an IP address (IPv4 or IPv6, exact), a CIDR prefix, a DNS name (which also matches every
name below it: ``evil.example`` matches ``a.b.evil.example``) or a port (``4444``, ``tcp/4444``). Indicators
past ``valid_until`` or revoked are left out when the set is compiled for a given time. Names are matched
against ``dns_query``, ``tls_sni`` and ``http_host`` where the profile keeps them; addresses against both ends
of the flow; ports against the destination port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mamori.errors import InvalidInput
from mamori.traffic.match.kernel import IPv4Matcher

_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "sctp": 132}


class IndicatorKind(StrEnum):
    IP = "ip"
    CIDR = "cidr"
    DOMAIN = "domain"
    PORT = "port"


@dataclass(frozen=True)
class Indicator:
    """One indicator as threat intelligence delivers it."""

    kind: IndicatorKind
    value: str
    indicator_id: str
    valid_until: datetime | None = None
    revoked: bool = False
    confidence: int = 85  # STIX 2.1 confidence scale 0-100

    def active_at(self, at: datetime) -> bool:
        return not self.revoked and (self.valid_until is None or self.valid_until > at)


#: Columns the matcher reads from the stored flow record.
MATCH_COLUMNS: tuple[str, ...] = (
    "start_ts",
    "duration",
    "src_ip",
    "dst_ip",
    "src_ip_num",
    "dst_ip_num",
    "dst_port",
    "proto",
    "bytes_out",
    "bytes_in",
    "dns_query",
    "tls_sni",
    "http_host",
)

HIT_SCHEMA = pa.schema(
    [
        pa.field("start_ts", pa.float64()),
        pa.field("src_ip", pa.string()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("bytes_total", pa.int64()),
        pa.field("duration", pa.float64()),
        pa.field("field", pa.string()),
        pa.field("matched", pa.string()),
        pa.field("indicator", pa.int64()),
    ]
)


def _port(value: str, where: str) -> tuple[int | None, int]:
    proto: int | None = None
    text = value.strip().lower()
    if "/" in text:
        name, text = text.split("/", 1)
        if name not in _PROTOCOLS:
            raise InvalidInput(f"unknown protocol {name!r} in port indicator {value!r}", where=where)
        proto = _PROTOCOLS[name]
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise InvalidInput(f"port indicator {value!r} is not a port number 0-65535", where=where)
    return proto, int(text)


def _domain(value: str, where: str) -> str:
    name = value.strip().lower().rstrip(".")
    labels = name.split(".")
    if not name or any(not lab or len(lab) > 63 for lab in labels) or len(name) > 253:
        raise InvalidInput(f"domain indicator {value!r} is not a DNS name", where=where)
    return name


class CompiledIndicators:
    """An indicator set compiled for matching at one point in time (expired and revoked ones dropped)."""

    def __init__(self, indicators: Sequence[Indicator], at: datetime) -> None:
        self.indicators: tuple[Indicator, ...] = tuple(i for i in indicators if i.active_at(at))
        v4_nets: list[int] = []
        v4_lens: list[int] = []
        v4_owner: list[int] = []
        self.v6_exact: dict[str, list[int]] = {}
        self.v6_nets: list[tuple[ipaddress.IPv6Network, int]] = []
        self.domains: dict[str, list[int]] = {}
        self.ports: dict[tuple[int | None, int], list[int]] = {}
        for row, ind in enumerate(self.indicators):
            where = f"indicator {ind.indicator_id}"
            if ind.kind in (IndicatorKind.IP, IndicatorKind.CIDR):
                try:
                    net = ipaddress.ip_network(ind.value.strip(), strict=False)
                except ValueError as e:
                    raise InvalidInput(
                        f"{ind.kind.value} indicator {ind.value!r} is not an address", where=where
                    ) from e
                if ind.kind is IndicatorKind.IP and net.prefixlen != net.max_prefixlen:
                    raise InvalidInput(f"ip indicator {ind.value!r} is a prefix; use kind cidr", where=where)
                if net.version == 4:
                    v4_nets.append(int(net.network_address))
                    v4_lens.append(net.prefixlen)
                    v4_owner.append(row)
                elif net.prefixlen == 128:
                    self.v6_exact.setdefault(str(net.network_address), []).append(row)
                else:
                    self.v6_nets.append((ipaddress.IPv6Network(net), row))
            elif ind.kind is IndicatorKind.DOMAIN:
                self.domains.setdefault(_domain(ind.value, where), []).append(row)
            elif ind.kind is IndicatorKind.PORT:
                self.ports.setdefault(_port(ind.value, where), []).append(row)
            else:  # pragma: no cover - the enum is closed
                raise InvalidInput(f"unknown indicator kind {ind.kind!r}", where=where)
        self.ipv4 = IPv4Matcher(
            np.asarray(v4_nets, dtype=np.uint32),
            np.asarray(v4_lens, dtype=np.int64),
            np.asarray(v4_owner, dtype=np.int64),
        )

    @classmethod
    def compile(cls, indicators: Iterable[Indicator], at: datetime) -> CompiledIndicators:
        return cls(list(indicators), at)

    def _name_rows(self, name: str) -> list[int]:
        rows: list[int] = []
        labels = name.lower().rstrip(".").split(".")
        for k in range(len(labels)):
            rows.extend(self.domains.get(".".join(labels[k:]), ()))
        return rows

    def _v6_rows(self, text: str) -> list[int]:
        rows = list(self.v6_exact.get(text, ()))
        if self.v6_nets:
            try:
                addr = ipaddress.ip_address(text)
            except ValueError:
                return rows
            rows.extend(row for net, row in self.v6_nets if addr.version == 6 and addr in net)
        return rows

    def match_batch(self, batch: pa.RecordBatch) -> pa.Table:
        """Hit rows of one record batch (one row per flow and indicator), in :data:`HIT_SCHEMA`."""
        n = batch.num_rows
        if n == 0:
            return HIT_SCHEMA.empty_table()
        cols = {name: batch.column(name) for name in batch.schema.names}
        positions: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        fields: list[str] = []
        matched: list[np.ndarray] = []

        def add(pos: np.ndarray, own: np.ndarray, field: str, values: pa.Array) -> None:
            if len(pos):
                positions.append(pos)
                owners.append(own)
                fields.extend([field] * len(pos))
                matched.append(np.asarray(values.take(pa.array(pos)).to_pylist(), dtype=object))

        for side in ("src", "dst"):
            nums = cols[f"{side}_ip_num"]
            texts = cols[f"{side}_ip"]
            if len(self.ipv4.tables):
                valid = np.asarray(pc.is_valid(nums).to_numpy(zero_copy_only=False))
                x = np.asarray(nums.fill_null(0).to_numpy(zero_copy_only=False)).astype(np.uint32)
                hit = np.flatnonzero(self.ipv4.contains(x) & valid)
                if len(hit):
                    p, o = self.ipv4.owners_of(x[hit])
                    add(hit[p], o, f"{side}_ip", texts)
            if self.v6_exact or self.v6_nets:
                v6 = np.flatnonzero(~np.asarray(pc.is_valid(nums).to_numpy(zero_copy_only=False)))
                if len(v6):
                    text_list = texts.take(pa.array(v6)).to_pylist()
                    pos_l: list[int] = []
                    own_l: list[int] = []
                    for at_row, text in zip(v6.tolist(), text_list, strict=True):
                        for row in self._v6_rows(str(text)):
                            pos_l.append(at_row)
                            own_l.append(row)
                    add(
                        np.asarray(pos_l, dtype=np.int64),
                        np.asarray(own_l, dtype=np.int64),
                        f"{side}_ip",
                        texts,
                    )
        if self.domains:
            for field in ("dns_query", "tls_sni", "http_host"):
                col = cols.get(field)
                if col is None or col.null_count == n:
                    continue
                enc = pc.dictionary_encode(col)
                dictionary = enc.dictionary.to_pylist()
                rows_by_code = {code: self._name_rows(name) for code, name in enumerate(dictionary) if name}
                rows_by_code = {c: r for c, r in rows_by_code.items() if r}
                if not rows_by_code:
                    continue
                codes = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
                name_pos: list[int] = []
                name_own: list[int] = []
                for code, rows in rows_by_code.items():
                    for at_row in np.flatnonzero(codes == code).tolist():
                        for row in rows:
                            name_pos.append(at_row)
                            name_own.append(row)
                add(np.asarray(name_pos, dtype=np.int64), np.asarray(name_own, dtype=np.int64), field, col)
        if self.ports:
            port = np.asarray(cols["dst_port"].fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
            proto = np.asarray(cols["proto"].fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
            for (want_proto, want_port), rows in sorted(self.ports.items(), key=lambda kv: (kv[0][0] or -1, kv[0][1])):
                sel = port == want_port
                if want_proto is not None:
                    sel &= proto == want_proto
                hit = np.flatnonzero(sel)
                for row in rows:
                    add(
                        hit,
                        np.full(len(hit), row, dtype=np.int64),
                        "dst_port",
                        cols["dst_port"].cast(pa.string()),
                    )
        if not positions:
            return HIT_SCHEMA.empty_table()
        pos = np.concatenate(positions)
        idx = pa.array(pos)
        size = pc.add(cols["bytes_out"].fill_null(0), cols["bytes_in"].fill_null(0))
        return pa.table(
            {
                "start_ts": cols["start_ts"].take(idx),
                "src_ip": cols["src_ip"].take(idx),
                "dst_ip": cols["dst_ip"].take(idx),
                "dst_port": cols["dst_port"].take(idx),
                "bytes_total": size.take(idx),
                "duration": cols["duration"].take(idx),
                "field": pa.array(fields, pa.string()),
                "matched": pa.array([str(v) for v in np.concatenate(matched)], pa.string()),
                "indicator": pa.array(np.concatenate(owners), pa.int64()),
            },
            schema=HIT_SCHEMA,
        )

"""Operator constituencies: the ASNs, IP prefixes and domains each operator organisation answers for.

The early-warning reports (:mod:`mamori.traffic.early_warning`) show an operator the findings that touch its
constituency. Prefixes are canonicalised (``192.0.2.7/24`` is kept as ``192.0.2.0/24``), domains lower-cased
without a trailing dot (a domain covers every name below it), ASNs are 32-bit AS numbers (RFC 6793). Flows carry
no AS numbers, so an ASN entry covers an address only through an :class:`AsnResolver` (a prefix-to-origin-AS
table); without one, ASN entries are recorded and shown but match nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

from sqlalchemy import Connection, delete, insert, select

from mamori.errors import InvalidInput
from mamori.kernel.timefmt import format_timestamp, parse_timestamp
from mamori.traffic.finding_tables import FindingTables

_LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_ASN: Final = 4_294_967_295

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class EntryKind(StrEnum):
    PREFIX = "prefix"
    ASN = "asn"
    DOMAIN = "domain"


@dataclass(frozen=True, order=True)
class ConstituencyEntry:
    kind: EntryKind
    value: str


@dataclass(frozen=True)
class StoredEntry:
    id: str
    organisation_id: str
    entry: ConstituencyEntry
    added_at: datetime
    added_by: str


class AsnResolver(Protocol):
    """The origin AS of an address (from a routing table snapshot), or None when unknown."""

    def asn_of(self, address: str) -> int | None: ...


class NoAsnResolver:
    """No routing data: no address has a known AS."""

    def asn_of(self, address: str) -> int | None:
        return None


class PrefixAsnTable:
    """A static prefix-to-origin-AS table; the longest matching prefix wins."""

    def __init__(self, prefix_asns: Mapping[str, int]) -> None:
        rows: list[tuple[Network, int]] = []
        for i, (prefix, asn) in enumerate(prefix_asns.items()):
            rows.append((parse_prefix(prefix, where=f"prefix_asns[{i}]"), parse_asn(asn, where=f"prefix_asns[{i}]")))
        self._rows = sorted(rows, key=lambda r: -r[0].prefixlen)

    def asn_of(self, address: str) -> int | None:
        try:
            addr = ipaddress.ip_address(address)
        except ValueError:
            return None
        for net, asn in self._rows:
            if addr.version == net.version and addr in net:
                return asn
        return None


def parse_prefix(text: str, where: str = "prefix") -> Network:
    value = str(text).strip()
    if "/" not in value:
        raise InvalidInput(f"not a CIDR prefix (ADDRESS/LENGTH): {text!r}", where=where)
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError as e:
        raise InvalidInput(f"not a CIDR prefix: {text!r} ({e})", where=where) from e


def parse_asn(value: object, where: str = "asn") -> int:
    text = str(value).strip()
    if text.upper().startswith("AS"):
        text = text[2:]
    if not text.isdigit() or not 1 <= int(text) <= MAX_ASN:
        raise InvalidInput(f"not an AS number (1..{MAX_ASN}): {value!r}", where=where)
    return int(text)


def parse_domain(text: str, where: str = "domain") -> str:
    value = str(text).strip().lower().rstrip(".")
    try:
        value = value.encode("idna").decode("ascii") if any(ord(c) > 127 for c in value) else value
    except UnicodeError as e:
        raise InvalidInput(f"not a domain name: {text!r}", where=where) from e
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(f"not a domain name: {text!r}", where=where)
    return value


def parse_entries(
    prefixes: Sequence[str] = (), asns: Sequence[object] = (), domains: Sequence[str] = ()
) -> list[ConstituencyEntry]:
    """Validate and canonicalise every entry; the first bad one raises InvalidInput naming it."""
    out: list[ConstituencyEntry] = []
    for i, p in enumerate(prefixes):
        out.append(ConstituencyEntry(EntryKind.PREFIX, str(parse_prefix(p, where=f"prefix[{i}]"))))
    for i, a in enumerate(asns):
        out.append(ConstituencyEntry(EntryKind.ASN, str(parse_asn(a, where=f"asn[{i}]"))))
    for i, d in enumerate(domains):
        out.append(ConstituencyEntry(EntryKind.DOMAIN, parse_domain(d, where=f"domain[{i}]")))
    if not out:
        raise InvalidInput("no prefix, ASN or domain given", where="constituency")
    return sorted(set(out))


@dataclass(frozen=True)
class Constituency:
    """What one organisation answers for, with membership tests for report building."""

    organisation_id: str
    entries: tuple[ConstituencyEntry, ...]
    networks: tuple[Network, ...] = field(init=False)
    asns: frozenset[int] = field(init=False)
    domains: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", tuple(ipaddress.ip_network(e.value) for e in self.entries
                                                   if e.kind is EntryKind.PREFIX))
        object.__setattr__(self, "asns", frozenset(int(e.value) for e in self.entries if e.kind is EntryKind.ASN))
        object.__setattr__(self, "domains", tuple(e.value for e in self.entries if e.kind is EntryKind.DOMAIN))

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(e.value for e in self.entries if e.kind is EntryKind.PREFIX)

    def covers_address(self, address: str | None, resolver: AsnResolver | None = None) -> bool:
        if not address:
            return False
        try:
            addr = ipaddress.ip_address(address)
        except ValueError:
            return False
        if any(addr.version == n.version and addr in n for n in self.networks):
            return True
        if resolver is not None and self.asns:
            return resolver.asn_of(address) in self.asns
        return False

    def covers_name(self, name: str | None) -> bool:
        if not name:
            return False
        n = name.lower().rstrip(".")
        return any(n == d or n.endswith("." + d) for d in self.domains)

    @property
    def is_empty(self) -> bool:
        return not self.entries


class SqlConstituencyStore:
    """Constituency entries on one connection (the caller's unit of work)."""

    def __init__(self, conn: Connection, tables: FindingTables) -> None:
        self._conn = conn
        self._t = tables.constituency

    def add(self, organisation_id: str, entries: Iterable[tuple[str, ConstituencyEntry]], *, added_by: str,
            now: datetime) -> list[ConstituencyEntry]:
        """Add entries not yet present (``(id, entry)`` pairs); returns those actually added."""
        known = {se.entry for se in self.of(organisation_id)}
        added: list[ConstituencyEntry] = []
        for entry_id, e in entries:
            if e in known:
                continue
            known.add(e)
            self._conn.execute(insert(self._t).values(
                id=entry_id, organisation_id=organisation_id, kind=e.kind.value, value=e.value,
                added_at=format_timestamp(now), added_by=added_by,
            ))
            added.append(e)
        return added

    def remove(self, organisation_id: str, entries: Iterable[ConstituencyEntry]) -> int:
        t = self._t
        n = 0
        for e in entries:
            n += self._conn.execute(delete(t).where(t.c.organisation_id == organisation_id)
                                    .where(t.c.kind == e.kind.value).where(t.c.value == e.value)).rowcount
        return n

    def of(self, organisation_id: str) -> list[StoredEntry]:
        t = self._t
        rows = self._conn.execute(select(t).where(t.c.organisation_id == organisation_id)
                                  .order_by(t.c.kind, t.c.value)).mappings()
        return [StoredEntry(id=m["id"], organisation_id=m["organisation_id"],
                            entry=ConstituencyEntry(EntryKind(m["kind"]), m["value"]),
                            added_at=parse_timestamp(m["added_at"]), added_by=m["added_by"]) for m in rows]

    def organisations(self) -> list[str]:
        t = self._t
        return [r[0] for r in self._conn.execute(select(t.c.organisation_id).distinct()
                                                 .order_by(t.c.organisation_id))]


__all__ = [
    "AsnResolver",
    "Constituency",
    "ConstituencyEntry",
    "EntryKind",
    "NoAsnResolver",
    "PrefixAsnTable",
    "SqlConstituencyStore",
    "StoredEntry",
    "parse_asn",
    "parse_domain",
    "parse_entries",
    "parse_prefix",
]

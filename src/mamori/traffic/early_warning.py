"""Early warning for operators: each operator's assets seen in findings, one report per operator and day.

An operator organisation registers its constituency (:mod:`mamori.traffic.constituency`); mamori then lists,
for one UTC day, every asset of that constituency that appears in a finding active that day:

* ``infected-host``: an address of the constituency that is the source of a beacon, fan-in C2, NXDOMAIN-burst
  (domain-generation algorithm) or DNS-tunnel finding;
* ``c2-contact``: an address of the constituency on either side of a flow that matched a threat-intelligence
  indicator;
* ``exposed-service``: an address (and port) of the constituency contacted by a scanner (scan, horizontal or
  vertical scan findings).

Fan-in and scan findings name only one side; the other side's addresses come from the evidence sample and,
when a :class:`ContactLookup` is given, from the stored flows of the finding's window.

The CSV follows the column style of the Shadowserver Foundation's reports (one event per row, lower-case
snake_case headers, ``timestamp`` first, UTC times written ``YYYY-MM-DD HH:MM:SS``) so that operators can feed
it to the tools they already use for those. Columns (:data:`COLUMNS`):

``timestamp``      last time the asset was seen in the finding on the report day (UTC)
``ip``             the operator's asset
``port``           the asset's port involved (scanned port, or blank)
``protocol``       transport protocol when the flows say it (tcp, udp, icmp), else blank
``asn``            origin AS of ``ip`` when a prefix-to-AS table is configured, else blank
``hostname``       the asset's DNS name when known
``tag``            infected-host, c2-contact or exposed-service
``severity``       the finding's severity: info, low, medium, high, critical
``infection``      the finding kind (beacon, fan_in_c2, nxdomain_burst, dns_tunnel, indicator_match, scan, ...)
``src_ip``         source of the traffic (the asset for infected hosts, the scanner for exposed services)
``src_port``       source port when known
``dst_ip``         destination of the traffic (the C2 server, the matched address, the scanned asset)
``dst_port``       destination port when known
``dst_hostname``   destination DNS name when known (C2 name, tunnel domain)
``first_seen``     first time the finding was seen (any day, UTC)
``last_seen``      last time the finding was seen (any day, UTC)
``count``          flows or events supporting this row
``credibility``    Admiralty credibility of the finding (1 confirmed .. 6 cannot be judged)
``finding_id``     the finding's id in mamori (for follow-up with the national office)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol

from mamori.traffic.constituency import AsnResolver, Constituency
from mamori.traffic.detect.model import Finding, FindingKind, utc
from mamori.traffic.findings_store import StoredFinding

COLUMNS: Final[tuple[str, ...]] = (
    "timestamp", "ip", "port", "protocol", "asn", "hostname", "tag", "severity", "infection", "src_ip", "src_port",
    "dst_ip", "dst_port", "dst_hostname", "first_seen", "last_seen", "count", "credibility", "finding_id",
)

INFECTION_KINDS: Final = frozenset(
    {FindingKind.BEACON, FindingKind.FAN_IN_C2, FindingKind.NXDOMAIN_BURST, FindingKind.DNS_TUNNEL}
)
SCAN_KINDS: Final = frozenset({FindingKind.SCAN, FindingKind.HORIZONTAL_SCAN, FindingKind.VERTICAL_SCAN})
PROTOCOL_NAMES: Final = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp"}


@dataclass(frozen=True)
class Contact:
    """Flows between two addresses within a window, aggregated (from the flow store)."""

    src_ip: str
    dst_ip: str
    dst_port: int | None
    proto: int | None
    count: int
    first_ts: float
    last_ts: float


class ContactLookup(Protocol):
    """Stored flows from ``src`` and/or to ``dst`` with ``start <= start_ts < end``, aggregated per
    (src, dst, dst_port, proto)."""

    def contacts(self, *, src: str | None, dst: str | None, start: float, end: float) -> Sequence[Contact]: ...


@dataclass(frozen=True)
class ReportRow:
    timestamp: datetime
    ip: str
    port: int | None
    protocol: str | None
    asn: int | None
    hostname: str | None
    tag: str
    severity: str
    infection: str
    src_ip: str | None
    src_port: int | None
    dst_ip: str | None
    dst_port: int | None
    dst_hostname: str | None
    first_seen: datetime
    last_seen: datetime
    count: int
    credibility: int
    finding_id: str

    def as_csv_row(self) -> list[str]:
        def text(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, datetime):
                return shadowserver_time(v)
            return str(v)

        return [text(getattr(self, c)) for c in COLUMNS]


@dataclass(frozen=True)
class EarlyWarningReport:
    organisation_id: str
    organisation_key: str
    day: date
    generated_at: datetime
    rows: tuple[ReportRow, ...]

    def to_csv(self) -> str:
        return report_csv(self.rows)

    @property
    def filename(self) -> str:
        return f"{self.day.isoformat()}-mamori-early-warning-{self.organisation_key}.csv"


def shadowserver_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def report_csv(rows: Sequence[ReportRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(r.as_csv_row())
    return buf.getvalue()


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start, start + timedelta(days=1)


class _Rows:
    def __init__(self, s: StoredFinding, day_end: datetime, resolver: AsnResolver | None) -> None:
        self.s = s
        self.day_end = day_end
        self.resolver = resolver
        self.out: dict[tuple[str, str, int | None, str | None, str | None, int | None], ReportRow] = {}

    def add(self, tag: str, ip: str, *, port: int | None = None, protocol: str | None = None,
            hostname: str | None = None, src_ip: str | None = None, src_port: int | None = None,
            dst_ip: str | None = None, dst_port: int | None = None, dst_hostname: str | None = None,
            count: int | None = None, last: datetime | None = None) -> None:
        f: Finding = self.s.finding
        when = min(last or f.last_seen, f.last_seen, self.day_end - timedelta(microseconds=1))
        key = (tag, ip, port, src_ip, dst_ip, dst_port)
        prior = self.out.get(key)
        n = count if count is not None else f.evidence_count
        if prior is not None:
            n += prior.count
            when = max(when, prior.timestamp)
            protocol = protocol or prior.protocol
        self.out[key] = ReportRow(
            timestamp=when, ip=ip, port=port, protocol=protocol,
            asn=self.resolver.asn_of(ip) if self.resolver else None, hostname=hostname, tag=tag,
            severity=f.severity.value, infection=f.kind.value, src_ip=src_ip, src_port=src_port, dst_ip=dst_ip,
            dst_port=dst_port, dst_hostname=dst_hostname, first_seen=f.first_seen, last_seen=f.last_seen,
            count=n, credibility=int(f.credibility), finding_id=self.s.id,
        )


def _proto(p: int | None) -> str | None:
    return None if p is None else PROTOCOL_NAMES.get(p, str(p))


def rows_for(
    s: StoredFinding,
    constituency: Constituency,
    day: date,
    *,
    contacts: ContactLookup | None = None,
    resolver: AsnResolver | None = None,
) -> list[ReportRow]:
    """The report rows one finding gives one constituency on ``day``."""
    f = s.finding
    start, end = day_window(day)
    if f.last_seen < start or f.first_seen >= end:
        return []
    rows = _Rows(s, end, resolver)
    lo = max(f.first_seen, start).timestamp()
    hi = min(f.last_seen + timedelta(seconds=1), end).timestamp()

    def covers(ip: str | None) -> bool:
        return constituency.covers_address(ip, resolver)

    if f.kind in INFECTION_KINDS:
        hosts: dict[str, tuple[int | None, datetime | None]] = {}
        if f.src.address:
            hosts[f.src.address] = (None, None)
        else:  # fan-in: the sources are in the evidence and the flows
            for r in f.evidence_sample:
                hosts.setdefault(r.src_ip, (None, None))
            if contacts is not None and f.dst.address:
                for c in contacts.contacts(src=None, dst=f.dst.address, start=lo, end=hi):
                    n, last = hosts.get(c.src_ip, (0, None))
                    hosts[c.src_ip] = ((n or 0) + c.count, max(last or utc(c.last_ts), utc(c.last_ts)))
        for ip, (count, last) in sorted(hosts.items()):
            if covers(ip):
                rows.add("infected-host", ip, hostname=f.src.name, src_ip=ip, src_port=f.src.port,
                         dst_ip=f.dst.address, dst_port=f.dst.port, dst_hostname=f.dst.name, count=count, last=last)
    elif f.kind is FindingKind.INDICATOR_MATCH:
        if covers(f.src.address):
            assert f.src.address is not None
            rows.add("c2-contact", f.src.address, hostname=f.src.name, src_ip=f.src.address, src_port=f.src.port,
                     dst_ip=f.dst.address, dst_port=f.dst.port, dst_hostname=f.dst.name)
        if covers(f.dst.address) or constituency.covers_name(f.dst.name):
            ip = f.dst.address or ""
            if ip:
                rows.add("c2-contact", ip, port=f.dst.port, hostname=f.dst.name, src_ip=f.src.address,
                         src_port=f.src.port, dst_ip=ip, dst_port=f.dst.port, dst_hostname=f.dst.name)
    elif f.kind in SCAN_KINDS:
        scanner = f.src.address
        targets: dict[tuple[str, int | None, str | None], tuple[int, datetime | None]] = {}
        for r in f.evidence_sample:
            if r.dst_ip:
                n, last = targets.get((r.dst_ip, r.dst_port, None), (0, None))
                targets[(r.dst_ip, r.dst_port, None)] = (n + 1, max(last or utc(r.start_ts), utc(r.start_ts)))
        if f.dst.address and not any(k[0] == f.dst.address for k in targets):
            targets[(f.dst.address, f.dst.port, None)] = (f.evidence_count, None)
        if contacts is not None and scanner:
            found = [c for c in contacts.contacts(src=scanner, dst=f.dst.address, start=lo, end=hi)
                     if f.dst.port is None or c.dst_port == f.dst.port]
            if found:  # the flows are complete where the sample is not: they replace it
                targets = {}
                for c in found:
                    targets[(c.dst_ip, c.dst_port, _proto(c.proto))] = (c.count, utc(c.last_ts))
        for (ip, port, proto), (count, last) in sorted(targets.items(), key=lambda kv: (kv[0][0], kv[0][1] or -1)):
            if covers(ip):
                rows.add("exposed-service", ip, port=port, protocol=proto, src_ip=scanner, src_port=f.src.port,
                         dst_ip=ip, dst_port=port, count=count, last=last)
    return list(rows.out.values())


def build_report(
    organisation_id: str,
    organisation_key: str,
    constituency: Constituency,
    findings: Sequence[StoredFinding],
    day: date,
    *,
    generated_at: datetime,
    contacts: ContactLookup | None = None,
    resolver: AsnResolver | None = None,
) -> EarlyWarningReport:
    """One operator's report for one UTC day, rows ordered by tag, address and time."""
    rows: list[ReportRow] = []
    if not constituency.is_empty:
        for s in findings:
            rows += rows_for(s, constituency, day, contacts=contacts, resolver=resolver)
    rows.sort(key=lambda r: (r.tag, r.ip, r.port or -1, r.timestamp, r.finding_id))
    return EarlyWarningReport(organisation_id, organisation_key, day, generated_at, tuple(rows))


__all__ = [
    "COLUMNS",
    "Contact",
    "ContactLookup",
    "EarlyWarningReport",
    "ReportRow",
    "build_report",
    "day_window",
    "report_csv",
    "rows_for",
    "shadowserver_time",
]

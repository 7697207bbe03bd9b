"""The active-cyber-defence façade: flow ingest, detection, the findings store, STIX output, proposed measures and
operator early warning, wired together for the entry points (CLI, API, web).

``traffic_service(ctx)`` builds it from the composition root's context: the domestic address space comes from
``settings.domestic_prefixes`` (and ``domestic_asns`` with a prefix-to-AS table), the flow store lives under
``<data_dir>/flows``, the analytics engine is ``settings.analytics_engine`` unless a call names another.

Access rule of the early-warning reports (enforced here, so every entry point applies it): national staff
(admin, analyst) and commissioners may read any organisation's report; an operator only its own organisation's,
and asking for another one answers "not found", exactly as for an organisation that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from mamori.adapters.storage.database import Database
from mamori.errors import InvalidInput, NotFound, PermissionDenied, Unsupported
from mamori.identity.model import Organisation, OrgKind, Principal, Role
from mamori.identity.service import IdentityService
from mamori.intel.model import FeedIndicator
from mamori.intel.model import IngestReport as IntelIngestReport
from mamori.intel.service import IntelService
from mamori.intel.tlp import Tlp
from mamori.kernel.clock import Clock
from mamori.kernel.ids import IdFactory
from mamori.traffic.approvals import SqlApprovalRegistry
from mamori.traffic.collector import FlowCollector, parse_listen
from mamori.traffic.constituency import (
    AsnResolver,
    Constituency,
    ConstituencyEntry,
    NoAsnResolver,
    SqlConstituencyStore,
    StoredEntry,
    parse_entries,
)
from mamori.traffic.detect.model import Finding
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.detect.service import run_detectors
from mamori.traffic.detect.thresholds import DetectionProfile
from mamori.traffic.early_warning import Contact, EarlyWarningReport, build_report, day_window
from mamori.traffic.finding_tables import FindingTables
from mamori.traffic.findings_store import FindingFilter, SaveReport, SqlFindingStore, StoredFinding
from mamori.traffic.flowstore import ParquetFlowStore
from mamori.traffic.ingest import FlowIngestService
from mamori.traffic.match.indicators import Indicator, IndicatorKind
from mamori.traffic.measures import MeasureKind, ProposedMeasure, SqlMeasureStore, propose
from mamori.traffic.model import Approval, Channel, IngestReport, PurgeReport, TrafficPolicy
from mamori.traffic.stix_out import OfficeIdentity, build_stix, endpoints_of
from mamori.traffic.tables import TrafficTables

log = logging.getLogger("mamori.traffic")

ENGINES: Final = ("duckdb", "spark")
DEFAULT_OFFICE: Final = OfficeIdentity(key="mamori-national-office", name="National cyber-defence office")
_INDICATOR_KINDS: Final = {
    "ipv4": IndicatorKind.IP, "ipv6": IndicatorKind.IP, "ipv4-cidr": IndicatorKind.CIDR,
    "ipv6-cidr": IndicatorKind.CIDR, "domain": IndicatorKind.DOMAIN,
}


def indicators_of(feed: Iterable[FeedIndicator]) -> list[Indicator]:
    """Intelligence indicators the flow matcher understands (addresses, prefixes, domains)."""
    out: list[Indicator] = []
    for f in feed:
        kind = _INDICATOR_KINDS.get(f.kind)
        if kind is None:
            continue
        until = None
        if f.valid_until:
            until = datetime.fromisoformat(f.valid_until.replace("Z", "+00:00"))
        out.append(Indicator(kind=kind, value=f.value, indicator_id=f.indicator_id, valid_until=until,
                             confidence=f.confidence if f.confidence is not None else 50))
    return out


@dataclass(frozen=True)
class DetectReport:
    """What one detection run did."""

    flows: int
    days: tuple[str, ...]
    findings: int
    added: int
    changed: int
    unchanged: int
    stix_added: int
    stix_problems: tuple[str, ...] = ()
    engine: str = "duckdb"


@dataclass(frozen=True)
class ReportAccess:
    organisation: Organisation


@dataclass
class TrafficService:
    """Use cases of the active-defence capability, for the CLI, API and web pages."""

    db: Database
    tables: FindingTables
    approval_tables: TrafficTables
    flows: ParquetFlowStore
    policy: TrafficPolicy
    intel: IntelService
    identity: IdentityService
    clock: Clock
    ids: IdFactory
    engine_name: str = "duckdb"
    spark_master: str = "local[2]"
    profile: DetectionProfile = field(default_factory=DetectionProfile)
    office: OfficeIdentity = DEFAULT_OFFICE
    stix_tlp: Tlp = Tlp.AMBER
    asn_resolver: AsnResolver = field(default_factory=NoAsnResolver)

    # --- collection --------------------------------------------------------------------------------------
    @property
    def approvals(self) -> SqlApprovalRegistry:
        return SqlApprovalRegistry(self.db.engine, self.approval_tables)

    def _ingest(self) -> FlowIngestService:
        return FlowIngestService(store=self.flows, approvals=self.approvals, policy=self.policy, ids=self.ids)

    def ingest_paths(self, paths: Sequence[Path], *, format: str, channel: str, approval_id: str | None,
                     sensor: str) -> IngestReport:
        return self._ingest().ingest_paths(list(paths), format, channel, approval_id, sensor, self.clock.now())

    def collector(self, listen: str, *, channel: str, approval_id: str | None, sensor: str) -> FlowCollector:
        """A UDP NetFlow/IPFIX collector whose batches are ingested like files (checked, minimised, stored)."""
        host, port = parse_listen(listen)
        chan = Channel.parse(channel)
        ingest = self._ingest()

        def sink(result: Any) -> None:
            report = ingest.ingest_decoded(result, channel=chan, approval_id=approval_id, sensor=sensor,
                                           now=self.clock.now())
            log.info("collector stored %d of %d records", report.records_stored, report.records_in)

        return FlowCollector(sink, host, port)

    def purge(self) -> PurgeReport:
        return self._ingest().purge(self.clock.now())

    def add_approval(self, *, approval_id: str, channel: str, scope: Sequence[str] | None, valid_from: datetime,
                     valid_until: datetime, granted_by: str) -> Approval:
        return self.approvals.grant(approval_id=approval_id, channel=Channel.parse(channel), scope=scope,
                                    valid_from=valid_from, valid_until=valid_until, granted_by=granted_by,
                                    created_at=self.clock.now())

    def list_approvals(self) -> list[Approval]:
        t = self.approval_tables.approvals
        with self.db.connect() as conn:
            ids = [r[0] for r in conn.execute(select(t.c.id).order_by(t.c.valid_from, t.c.id))]
        registry = self.approvals
        return [registry.get(i) for i in ids]

    # --- detection ---------------------------------------------------------------------------------------
    def _engine(self, name: str | None) -> tuple[AnalyticsEngine, Any]:
        chosen = name or self.engine_name
        if chosen == "duckdb":
            from mamori.adapters.analytics.duckdb_engine import DuckDBEngine

            engine = DuckDBEngine()
            return engine, engine.close
        if chosen == "spark":
            from mamori.adapters.analytics.spark_engine import SparkEngine

            session = spark_session(self.spark_master)
            return SparkEngine(session), session.stop
        raise InvalidInput(f"unknown analytics engine {chosen!r} (one of {', '.join(ENGINES)})", where="engine")

    def detect(self, *, since: datetime | None = None, until: datetime | None = None,
               engine: str | None = None) -> DetectReport:
        """Run every detector over the stored flows of ``[since, until)``, one UTC day at a time, fold the
        findings into the store across days, and write them to the intelligence store as STIX 2.1."""
        now = self.clock.now()
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone", where=name)
        if since and until and until <= since:
            raise InvalidInput("until must be after since", where="until")
        if engine is not None and engine not in ENGINES:
            raise InvalidInput(f"unknown analytics engine {engine!r} (one of {', '.join(ENGINES)})", where="engine")
        chosen = engine or self.engine_name
        days: list[str] = []
        found: list[Finding] = []
        flows = 0
        sources = self._day_sources(since, until, whole_day_files=chosen == "duckdb")
        if sources:
            indicators = indicators_of(self.intel.active_indicators())
            runner, close = self._engine(chosen)
            try:
                for day, source in sources:
                    run = run_detectors(runner, source, self.profile, indicators=indicators, at=now)
                    if run.flows:
                        found += run.findings
                        flows += run.flows
                        days.append(day.isoformat())
            finally:
                close()
        with self.db.begin() as conn:
            saved = SqlFindingStore(conn, self.tables).save(found, engine=chosen, now=now)
        stix_added, problems = self._write_stix(saved)
        return DetectReport(
            flows=flows, days=tuple(days), findings=len(saved.stored), added=len(saved.added),
            changed=len(saved.changed), unchanged=len(saved.unchanged), stix_added=stix_added,
            stix_problems=problems, engine=chosen,
        )

    def _day_sources(self, since: datetime | None, until: datetime | None, *,
                     whole_day_files: bool) -> list[tuple[date, FlowSource]]:
        """One flow source per UTC day with stored flows in ``[since, until)``.

        A day the window covers whole is read by the engine straight from that day's hour partitions (the
        engine scans Parquet without loading the day into memory) when ``whole_day_files``; a day the window
        cuts, or every day for engines given in-memory tables, is read through the flow store and filtered.
        """
        days = sorted({date.fromisoformat(p.parent.name.removeprefix("hour=")[:10]) for p in self.flows.files()})
        out: list[tuple[date, FlowSource]] = []
        for day in days:
            lo, hi = day_window(day)
            if (since is not None and hi <= since) or (until is not None and until <= lo):
                continue
            whole = (since is None or since <= lo) and (until is None or hi <= until)
            if whole and whole_day_files:
                out.append((day, str(self.flows.root / "channel=*" / f"hour={day.isoformat()}T*" / "*.parquet")))
                continue
            start = max(lo, since) if since else lo
            end = min(hi, until) if until else hi
            table = self.flows.read(start.timestamp(), end.timestamp())
            if table.num_rows:
                out.append((day, table))
        return out

    def _is_domestic(self, address: str) -> bool:
        try:
            return self.policy.domestic.covers_any([address])
        except ValueError:
            return False

    def _write_stix(self, saved: SaveReport) -> tuple[int, tuple[str, ...]]:
        touched = [s for s in saved.stored if s.id in set(saved.added) | set(saved.changed)]
        if not touched:
            return 0, ()
        # every stored finding that shares an endpoint with a touched one: infrastructure objects aggregate them
        related: dict[str, StoredFinding] = {s.id: s for s in touched}
        with self.db.connect() as conn:
            store = SqlFindingStore(conn, self.tables)
            for value in sorted(endpoints_of(touched)):
                items, _total = store.find(FindingFilter(address=value, limit=10_000))
                related.update({s.id: s for s in items if s.id not in related})
        output = build_stix(list(related.values()), office=self.office, tlp=self.stix_tlp,
                            is_domestic=self._is_domestic)
        report: IntelIngestReport = self.intel.ingest(list(output.objects))
        with self.db.begin() as conn:
            store = SqlFindingStore(conn, self.tables)
            for fid, stix_ids in output.by_finding.items():
                if fid in related:
                    store.set_stix_ids(fid, stix_ids)
        return report.added, tuple(f"{p.object_id or p.index}: {p.reason}" for p in report.problems)

    # --- findings ----------------------------------------------------------------------------------------
    def findings(self, flt: FindingFilter) -> tuple[list[StoredFinding], int]:
        with self.db.connect() as conn:
            return SqlFindingStore(conn, self.tables).find(flt)

    def finding(self, finding_id: str) -> StoredFinding:
        with self.db.connect() as conn:
            return SqlFindingStore(conn, self.tables).get(finding_id)

    # --- measures ----------------------------------------------------------------------------------------
    def propose_measure(self, finding_id: str, kind: str, *, proposed_by: str,
                        reason: str | None = None) -> ProposedMeasure:
        """Record a proposed measure with its evidence package; it is never executed here."""
        measure_kind = MeasureKind.parse(kind)
        with self.db.begin() as conn:
            stored = SqlFindingStore(conn, self.tables).get(finding_id)
            measure = propose(stored, measure_kind, measure_id=self.ids.new(), proposed_by=proposed_by,
                              now=self.clock.now(), reason=reason)
            SqlMeasureStore(conn, self.tables).add(measure)
        return measure

    def measures(self, finding_id: str | None = None) -> list[ProposedMeasure]:
        with self.db.connect() as conn:
            return SqlMeasureStore(conn, self.tables).find(finding_id)

    # --- constituencies ----------------------------------------------------------------------------------
    def operator_organisation(self, ref: str) -> Organisation:
        org = self.identity.organisation(ref)
        if org.kind is not OrgKind.OPERATOR:
            raise InvalidInput(f"organisation {ref!r} is a {org.kind.value}, not an operator", where="organisation")
        return org

    def add_constituency(self, organisation: str, *, prefixes: Sequence[str] = (), asns: Sequence[object] = (),
                         domains: Sequence[str] = (), added_by: str) -> list[ConstituencyEntry]:
        """Validate every entry first; store them all or nothing. Entries already present are skipped."""
        org = self.operator_organisation(organisation)
        entries = parse_entries(prefixes, asns, domains)
        with self.db.begin() as conn:
            return SqlConstituencyStore(conn, self.tables).add(
                org.id, [(self.ids.new(), e) for e in entries], added_by=added_by, now=self.clock.now())

    def remove_constituency(self, organisation: str, *, prefixes: Sequence[str] = (), asns: Sequence[object] = (),
                            domains: Sequence[str] = ()) -> int:
        org = self.operator_organisation(organisation)
        entries = parse_entries(prefixes, asns, domains)
        with self.db.begin() as conn:
            return SqlConstituencyStore(conn, self.tables).remove(org.id, entries)

    def constituency_entries(self, organisation: str) -> list[StoredEntry]:
        org = self.operator_organisation(organisation)
        with self.db.connect() as conn:
            return SqlConstituencyStore(conn, self.tables).of(org.id)

    def constituency(self, organisation_id: str) -> Constituency:
        with self.db.connect() as conn:
            entries = SqlConstituencyStore(conn, self.tables).of(organisation_id)
        return Constituency(organisation_id, tuple(e.entry for e in entries))

    def operators(self) -> list[Organisation]:
        return [o for o in self.identity.organisations() if o.kind is OrgKind.OPERATOR]

    # --- early warning -----------------------------------------------------------------------------------
    def report_organisation(self, principal: Principal | None, organisation: str) -> Organisation:
        """The operator organisation whose report ``principal`` asks for (None: the system itself, e.g. the CLI).

        Operators reach only their own organisation; any other answer is "not found" (never "forbidden"), so an
        operator cannot learn which organisations exist.
        """
        if principal is not None and principal.role is Role.OPERATOR:
            own = principal.organisation
            if own is None or organisation not in (own.id, own.key):
                raise NotFound(f"no early-warning report for organisation {organisation!r}", where="organisation")
            return own
        if principal is not None and principal.role not in (Role.ADMIN, Role.ANALYST, Role.COMMISSIONER):
            raise PermissionDenied("early-warning reports are for operators and national staff",
                                   where="organisation")
        return self.operator_organisation(organisation)

    def early_warning(self, organisation: str, day: date | None = None, *,
                      principal: Principal | None = None) -> EarlyWarningReport:
        org = self.report_organisation(principal, organisation)
        now = self.clock.now()
        the_day = day or now.date()
        start, end = day_window(the_day)
        constituency = self.constituency(org.id)
        with self.db.connect() as conn:
            active = SqlFindingStore(conn, self.tables).seen_between(start, end)
        return build_report(org.id, org.key, constituency, active, the_day, generated_at=now,
                            contacts=_FlowContacts(self.flows), resolver=self.asn_resolver)

    def daily_reports(self, day: date | None = None) -> list[EarlyWarningReport]:
        """Every operator's report for ``day`` (yesterday by default): the daily early-warning run."""
        the_day = day or (self.clock.now() - timedelta(days=1)).date()
        return [self.early_warning(o.id, the_day) for o in self.operators()]


def spark_session(master: str) -> Any:
    """A SparkSession for ``settings.spark_master``: ``local[N]`` runs in process, anything else connects."""
    from mamori.adapters.analytics.spark_engine import local_session

    text = master.strip()
    if text.startswith("local[") and text.endswith("]"):
        inner = text[6:-1]
        cores = int(inner) if inner.isdigit() else 2
        return local_session(cores=cores)
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise Unsupported("the Spark engine needs PySpark: install mamori[spark]") from e
    return SparkSession.builder.master(text).appName("mamori-detect").config(
        "spark.sql.session.timeZone", "UTC").getOrCreate()


class _FlowContacts:
    """:class:`~mamori.traffic.early_warning.ContactLookup` over the Parquet flow store."""

    def __init__(self, flows: ParquetFlowStore) -> None:
        self._flows = flows
        self._cache: dict[tuple[float, float], pa.Table] = {}

    def contacts(self, *, src: str | None, dst: str | None, start: float, end: float) -> list[Contact]:
        key = (start, end)
        table = self._cache.get(key)
        if table is None:
            table = self._flows.read(start, end).select(["start_ts", "src_ip", "dst_ip", "dst_port", "proto"])
            self._cache = {key: table}
        if src is not None:
            table = table.filter(pc.equal(table.column("src_ip"), src))
        if dst is not None:
            table = table.filter(pc.equal(table.column("dst_ip"), dst))
        if table.num_rows == 0:
            return []
        grouped = table.group_by(["src_ip", "dst_ip", "dst_port", "proto"], use_threads=False).aggregate(
            [("start_ts", "count"), ("start_ts", "min"), ("start_ts", "max")])
        return [
            Contact(src_ip=r["src_ip"], dst_ip=r["dst_ip"], dst_port=r["dst_port"], proto=r["proto"],
                    count=int(r["start_ts_count"]), first_ts=float(r["start_ts_min"]),
                    last_ts=float(r["start_ts_max"]))
            for r in grouped.to_pylist()
        ]


def policy_from_settings(prefixes: Sequence[str], asns: Sequence[int],
                         prefix_asns: Mapping[str, int] | None = None, *, agreement_fields: Sequence[str] = (),
                         retention_days: Mapping[str, float] | None = None) -> TrafficPolicy:
    """The ingest side's policy from settings; ASNs count only with a prefix-to-AS table."""
    return TrafficPolicy.from_settings(prefixes, domestic_asns=asns if prefix_asns else (), prefix_asns=prefix_asns,
                                       agreement_fields=agreement_fields, retention_days=retention_days)


def traffic_service(ctx: Any) -> TrafficService:
    """The façade for one composition-root context (``mamori.bootstrap.Context``); cached in ``ctx.extras``.

    Its tables (``finding_tables.define_tables`` and ``tables.define_tables`` on the shared schema metadata) are
    created by the storage migrations.
    """
    cached = ctx.extras.get("traffic_service")
    if isinstance(cached, TrafficService):
        return cached
    from mamori.adapters.storage.schema import metadata
    from mamori.traffic import finding_tables, tables

    settings = ctx.settings
    prefixes = list(settings.domestic_prefixes)
    policy = policy_from_settings(prefixes, list(settings.domestic_asns),
                                  agreement_fields=list(settings.traffic_agreement_fields),
                                  retention_days=dict(settings.traffic_retention_days) or None)
    profile = DetectionProfile(domestic_prefixes=tuple(prefixes)) if prefixes else DetectionProfile()
    office = DEFAULT_OFFICE
    for org in ctx.identity.organisations():
        if org.kind is OrgKind.NATIONAL_OFFICE:
            office = OfficeIdentity(key=org.key, name=org.name)
            break
    tlp_text = settings.traffic_findings_tlp
    try:
        tlp = Tlp.parse(tlp_text)
    except InvalidInput as e:
        raise InvalidInput(f"unknown TLP level {tlp_text!r}", where="MAMORI_TRAFFIC_FINDINGS_TLP") from e
    service = TrafficService(
        db=ctx.db,
        tables=finding_tables.define_tables(metadata),
        approval_tables=tables.define_tables(metadata),
        flows=ParquetFlowStore(Path(settings.data_dir) / "flows"),
        policy=policy,
        intel=ctx.intel,
        identity=ctx.identity,
        clock=ctx.clock,
        ids=ctx.ids,
        engine_name=settings.analytics_engine,
        spark_master=settings.spark_master,
        profile=profile,
        office=office,
        stix_tlp=tlp,
    )
    ctx.extras["traffic_service"] = service
    return service


__all__ = ["DEFAULT_OFFICE", "ENGINES", "DetectReport", "TrafficService", "indicators_of", "policy_from_settings",
           "traffic_service"]

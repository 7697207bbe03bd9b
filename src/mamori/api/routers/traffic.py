"""Active-cyber-defence JSON API: ingest, detection, findings, proposed measures, constituencies, early warning.

Who may do what: findings, detection, ingest, approvals and measures are for national staff (admin, analyst;
commissioners may read findings); early-warning reports and constituencies are for operators too, each
operator seeing only its own organisation (another organisation's report answers 404, as if it did not exist).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from mamori.api.auth import ContextDep, require
from mamori.errors import InvalidInput, PayloadTooLarge, PermissionDenied
from mamori.identity.model import Principal, Role, Scope
from mamori.kernel.timefmt import format_timestamp, parse_timestamp
from mamori.traffic.early_warning import EarlyWarningReport
from mamori.traffic.findings_store import FindingFilter, StoredFinding, parse_kinds, parse_severity
from mamori.traffic.measures import ProposedMeasure
from mamori.traffic.model import Approval
from mamori.traffic.service import TrafficService, traffic_service

router = APIRouter(prefix="/api/v1/traffic", tags=["traffic"])
Reader = Annotated[Principal, Depends(require(Scope.TRAFFIC_READ))]
Writer = Annotated[Principal, Depends(require(Scope.TRAFFIC_WRITE))]
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
FINDING_READERS = (Role.ADMIN, Role.ANALYST, Role.COMMISSIONER)


def service_of(ctx: ContextDep) -> TrafficService:
    return traffic_service(ctx)


Service = Annotated[TrafficService, Depends(service_of)]


def _national(principal: Principal, roles: tuple[Role, ...] = FINDING_READERS) -> None:
    if principal.role not in roles:
        raise PermissionDenied("findings are for national staff; operators read their early-warning report")


def _when(text: str | None, where: str) -> datetime | None:
    if not text:
        return None
    if len(text) == 10:
        try:
            return parse_timestamp(text + "T00:00:00Z", where=where)
        except InvalidInput as e:
            raise InvalidInput(f"not a date or RFC 3339 time: {text!r}", where=where) from e
    return parse_timestamp(text, where=where)


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {text!r}", where="day") from e


# --- schemas -----------------------------------------------------------------------------------------------

class EndpointPublic(BaseModel):
    address: str | None
    name: str | None
    port: int | None


class EvidenceRowPublic(BaseModel):
    start: str
    src_ip: str
    dst_ip: str | None
    dst_port: int | None
    bytes_total: int | None
    duration: float | None
    note: str | None


class FindingPublic(BaseModel):
    id: str
    kind: str
    severity: str
    score: float
    credibility: int
    source: EndpointPublic
    destination: EndpointPublic
    first_seen: str
    last_seen: str
    days_seen: list[str]
    evidence_count: int
    sub_scores: dict[str, float]


class FindingDetailPublic(FindingPublic):
    thresholds: dict[str, float]
    fired: list[str]
    evidence: list[EvidenceRowPublic]
    engine: str
    stix_ids: list[str]
    measures: list[MeasurePublic]


class FindingPage(BaseModel):
    total: int
    items: list[FindingPublic]


class MeasureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="block, sinkhole, takedown-request or neutralisation")
    reason: str | None = Field(default=None, max_length=4000)


class MeasurePublic(BaseModel):
    id: str
    finding_id: str
    kind: str
    state: str
    target: str
    proposed_by: str
    proposed_at: str
    reason: str | None
    evidence_sha256: str
    evidence_package: dict[str, Any]


class DetectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: str | None = None
    until: str | None = None
    engine: str | None = None


class DetectResult(BaseModel):
    flows: int
    days: list[str]
    findings: int
    added: int
    changed: int
    unchanged: int
    stix_added: int
    stix_problems: list[str]
    engine: str


class IngestResultPublic(BaseModel):
    batch_id: str | None
    records_in: int
    records_stored: int
    dropped_domestic: int
    dropped_fields: list[str]
    errors: list[str]


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    channel: str
    valid_from: str
    valid_until: str
    granted_by: str
    scope: list[str] | None = None


class ApprovalPublic(BaseModel):
    id: str
    channel: str
    scope: list[str] | None
    valid_from: str
    valid_until: str
    granted_by: str
    revoked_at: str | None


class ConstituencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefixes: list[str] = []
    asns: list[int | str] = []
    domains: list[str] = []


class ConstituencyEntryPublic(BaseModel):
    kind: str
    value: str
    added_at: str
    added_by: str


class ConstituencyPublic(BaseModel):
    organisation: str
    entries: list[ConstituencyEntryPublic]


class ReportRowPublic(BaseModel):
    timestamp: str
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
    first_seen: str
    last_seen: str
    count: int
    credibility: int
    finding_id: str


class EarlyWarningPublic(BaseModel):
    organisation: str
    day: str
    generated_at: str
    rows: list[ReportRowPublic]


FindingDetailPublic.model_rebuild()


# --- conversions -------------------------------------------------------------------------------------------

def finding_public(s: StoredFinding) -> FindingPublic:
    f = s.finding
    return FindingPublic(
        id=s.id, kind=f.kind.value, severity=f.severity.value, score=f.score, credibility=int(f.credibility),
        source=EndpointPublic(address=f.src.address, name=f.src.name, port=f.src.port),
        destination=EndpointPublic(address=f.dst.address, name=f.dst.name, port=f.dst.port),
        first_seen=format_timestamp(f.first_seen), last_seen=format_timestamp(f.last_seen),
        days_seen=list(f.days_seen), evidence_count=f.evidence_count, sub_scores=dict(f.sub_scores),
    )


def measure_public(m: ProposedMeasure) -> MeasurePublic:
    return MeasurePublic(id=m.id, finding_id=m.finding_id, kind=m.kind.value, state=m.state.value, target=m.target,
                         proposed_by=m.proposed_by, proposed_at=format_timestamp(m.proposed_at), reason=m.reason,
                         evidence_sha256=m.evidence_sha256, evidence_package=m.evidence_package)


def finding_detail(s: StoredFinding, measures: list[ProposedMeasure]) -> FindingDetailPublic:
    from mamori.traffic.detect.model import utc

    base = finding_public(s).model_dump()
    f = s.finding
    return FindingDetailPublic(
        **base, thresholds=dict(f.thresholds), fired=list(f.fired), engine=s.engine, stix_ids=list(s.stix_ids),
        evidence=[EvidenceRowPublic(start=format_timestamp(utc(r.start_ts)), src_ip=r.src_ip, dst_ip=r.dst_ip,
                                    dst_port=r.dst_port, bytes_total=r.bytes_total, duration=r.duration, note=r.note)
                  for r in f.evidence_sample],
        measures=[measure_public(m) for m in measures],
    )


def approval_public(a: Approval) -> ApprovalPublic:
    return ApprovalPublic(id=a.id, channel=a.channel.value, scope=list(a.scope) if a.scope is not None else None,
                          valid_from=format_timestamp(a.valid_from), valid_until=format_timestamp(a.valid_until),
                          granted_by=a.granted_by,
                          revoked_at=format_timestamp(a.revoked_at) if a.revoked_at else None)


def report_public(r: EarlyWarningReport) -> EarlyWarningPublic:
    def ts(v: datetime) -> str:
        return format_timestamp(v)

    return EarlyWarningPublic(
        organisation=r.organisation_key, day=r.day.isoformat(), generated_at=ts(r.generated_at),
        rows=[ReportRowPublic(**{**row.__dict__, "timestamp": ts(row.timestamp), "first_seen": ts(row.first_seen),
                                 "last_seen": ts(row.last_seen)}) for row in r.rows],
    )


# --- routes ------------------------------------------------------------------------------------------------

@router.get("/findings", response_model=FindingPage)
def list_findings(
    principal: Reader,
    svc: Service,
    kind: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads defaults, never mutates
    since: str | None = None,
    until: str | None = None,
    min_severity: str | None = None,
    address: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FindingPage:
    _national(principal)
    flt = FindingFilter(kinds=parse_kinds(kind), since=_when(since, "since"), until=_when(until, "until"),
                        min_severity=parse_severity(min_severity) if min_severity else None,
                        address=address or None, limit=limit, offset=offset)
    items, total = svc.findings(flt)
    return FindingPage(total=total, items=[finding_public(s) for s in items])


@router.get("/findings/{finding_id}", response_model=FindingDetailPublic)
def get_finding(finding_id: str, principal: Reader, svc: Service) -> FindingDetailPublic:
    _national(principal)
    return finding_detail(svc.finding(finding_id), svc.measures(finding_id))


@router.post("/findings/{finding_id}/measures", response_model=MeasurePublic, status_code=201)
def propose_measure(finding_id: str, body: MeasureCreate, principal: Writer, svc: Service) -> MeasurePublic:
    _national(principal, (Role.ADMIN, Role.ANALYST))
    return measure_public(svc.propose_measure(finding_id, body.kind, proposed_by=principal.user.username,
                                              reason=body.reason))


@router.get("/measures", response_model=list[MeasurePublic])
def list_measures(principal: Reader, svc: Service, finding_id: str | None = None) -> list[MeasurePublic]:
    _national(principal)
    return [measure_public(m) for m in svc.measures(finding_id)]


@router.post("/detect", response_model=DetectResult)
def run_detection(body: DetectRequest, principal: Writer, svc: Service) -> DetectResult:
    _national(principal, (Role.ADMIN, Role.ANALYST))
    r = svc.detect(since=_when(body.since, "since"), until=_when(body.until, "until"), engine=body.engine)
    return DetectResult(flows=r.flows, days=list(r.days), findings=r.findings, added=r.added, changed=r.changed,
                        unchanged=r.unchanged, stix_added=r.stix_added, stix_problems=list(r.stix_problems),
                        engine=r.engine)


@router.post("/ingest", response_model=IngestResultPublic)
async def ingest(request: Request, principal: Writer, svc: Service) -> IngestResultPublic:
    """Multipart upload: ``file`` (repeatable), ``format``, ``channel``, ``approval``, ``sensor``."""
    _national(principal, (Role.ADMIN, Role.ANALYST))
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the upload exceeds {MAX_UPLOAD_BYTES} bytes")
    form = await request.form()
    uploads = [v for v in form.getlist("file") if isinstance(v, UploadFile)]
    if not uploads:
        raise InvalidInput("no file uploaded (multipart field 'file')", where="file")

    def text(name: str, default: str | None) -> str | None:
        value = form.get(name)
        return value if isinstance(value, str) and value else default

    folder = Path(tempfile.mkdtemp(prefix="mamori-ingest-"))
    try:
        paths = []
        for i, up in enumerate(uploads):
            path = folder / f"{i}-{Path(up.filename or 'upload').name}"
            with path.open("wb") as f:
                shutil.copyfileobj(up.file, f)
            paths.append(path)
        r = svc.ingest_paths(paths, format=text("format", "zeek") or "zeek",
                             channel=text("channel", "agreement") or "agreement",
                             approval_id=text("approval", None), sensor=text("sensor", "api") or "api")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return IngestResultPublic(batch_id=r.batch_id, records_in=r.records_in, records_stored=r.records_stored,
                              dropped_domestic=r.dropped_domestic, dropped_fields=list(r.dropped_fields),
                              errors=[str(e) for e in r.errors])


@router.post("/purge")
def purge(principal: Writer, svc: Service) -> dict[str, int]:
    _national(principal, (Role.ADMIN, Role.ANALYST))
    r = svc.purge()
    return {"records_removed": r.records_removed, "records_kept": r.records_kept, "files_deleted": r.files_deleted,
            "files_rewritten": r.files_rewritten}


@router.get("/approvals", response_model=list[ApprovalPublic])
def list_approvals(principal: Reader, svc: Service) -> list[ApprovalPublic]:
    _national(principal)
    return [approval_public(a) for a in svc.list_approvals()]


@router.post("/approvals", response_model=ApprovalPublic, status_code=201)
def add_approval(body: ApprovalCreate, principal: Writer, svc: Service) -> ApprovalPublic:
    _national(principal, (Role.ADMIN, Role.ANALYST))
    start = _when(body.valid_from, "valid_from")
    end = _when(body.valid_until, "valid_until")
    assert start is not None and end is not None
    return approval_public(svc.add_approval(approval_id=body.id, channel=body.channel, scope=body.scope,
                                            valid_from=start, valid_until=end, granted_by=body.granted_by))


def _may_manage_constituency(principal: Principal, svc: TrafficService, organisation: str, write: bool) -> str:
    """The organisation id the caller may read (or change) the constituency of."""
    if principal.role is Role.OPERATOR:
        org = svc.report_organisation(principal, organisation)  # own organisation only, else 404
        return org.id
    if write and not principal.has(Scope.TRAFFIC_WRITE):
        raise PermissionDenied("changing a constituency needs the scope traffic:write")
    if principal.role not in (Role.ADMIN, Role.ANALYST, Role.COMMISSIONER):
        raise PermissionDenied("constituencies are for operators and national staff")
    return svc.operator_organisation(organisation).id


@router.get("/constituencies/{organisation}", response_model=ConstituencyPublic)
def get_constituency(organisation: str, principal: Reader, svc: Service) -> ConstituencyPublic:
    org_id = _may_manage_constituency(principal, svc, organisation, write=False)
    entries = svc.constituency_entries(org_id)
    return ConstituencyPublic(organisation=organisation, entries=[
        ConstituencyEntryPublic(kind=e.entry.kind.value, value=e.entry.value, added_at=format_timestamp(e.added_at),
                                added_by=e.added_by) for e in entries])


@router.post("/constituencies/{organisation}", response_model=ConstituencyPublic, status_code=201)
def add_constituency(organisation: str, body: ConstituencyCreate, principal: Reader,
                     svc: Service) -> ConstituencyPublic:
    org_id = _may_manage_constituency(principal, svc, organisation, write=True)
    svc.add_constituency(org_id, prefixes=body.prefixes, asns=body.asns, domains=body.domains,
                         added_by=principal.user.username)
    return get_constituency(organisation, principal, svc)


@router.get("/early-warning/{organisation}", response_model=EarlyWarningPublic)
def early_warning(organisation: str, principal: Reader, svc: Service, day: str | None = None) -> EarlyWarningPublic:
    return report_public(svc.early_warning(organisation, _day(day), principal=principal))


@router.get("/early-warning/{organisation}/csv", response_class=Response)
def early_warning_csv(organisation: str, principal: Reader, svc: Service, day: str | None = None) -> Response:
    r = svc.early_warning(organisation, _day(day), principal=principal)
    return Response(r.to_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{r.filename}"'})


def install(app: FastAPI) -> None:
    """Mount the traffic API, its web pages, and their navigation entries."""
    from mamori.web import traffic_pages

    app.include_router(router)
    traffic_pages.install(app)


__all__ = ["finding_detail", "finding_public", "install", "report_public", "router"]

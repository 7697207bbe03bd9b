"""Threat-intelligence JSON API: browse, search, graph, look up, import and export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from mamori.api.auth import ContextDep, require
from mamori.api.schemas import (
    EdgePublic,
    GraphPublic,
    IndicatorHitPublic,
    IngestResult,
    ObjectPublic,
    ObjectSummaryPublic,
    ProblemPublic,
    SearchResult,
)
from mamori.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from mamori.identity.model import Principal, Scope
from mamori.intel.model import IngestReport, ObjectSummary, SearchQuery
from mamori.intel.service import parse_tlp
from mamori.intel.tlp import Tlp
from mamori.kernel.timefmt import normalise_timestamp

router = APIRouter(prefix="/api/v1/intel", tags=["intel"])
Reader = Annotated[Principal, Depends(require(Scope.INTEL_READ))]
Writer = Annotated[Principal, Depends(require(Scope.INTEL_WRITE))]


def summary_public(s: ObjectSummary) -> ObjectSummaryPublic:
    return ObjectSummaryPublic(id=s.stix_id, type=s.type, version=s.version, name=s.name, tlp=Tlp(s.tlp).label,
                               revoked=s.revoked, date_added=s.date_added, labels=list(s.labels),
                               valid_until=s.valid_until, confidence=s.confidence)


def report_public(r: IngestReport) -> IngestResult:
    return IngestResult(received=r.received, added=r.added, duplicates=r.duplicates, invalid=r.invalid,
                        problems=[ProblemPublic(index=p.index, id=p.object_id, reason=p.reason) for p in r.problems])


def query_of(type_: list[str], label: list[str], tlp: list[str], q: str | None, added_since: str | None,
             added_until: str | None, limit: int, cursor: str | None) -> SearchQuery:
    return SearchQuery(
        types=tuple(type_), labels=tuple(label), tlp=tuple(parse_tlp(t) for t in tlp), text=q or None,
        added_since=normalise_timestamp(added_since, where="added_since") if added_since else None,
        added_until=normalise_timestamp(added_until, where="added_until") if added_until else None,
        limit=limit, cursor=cursor,
    )


@router.get("/objects", response_model=SearchResult)
def search(
    principal: Reader,
    ctx: ContextDep,
    type_: Annotated[list[str], Query(alias="type")] = [],  # noqa: B006 - FastAPI reads defaults, never mutates
    label: Annotated[list[str], Query()] = [],  # noqa: B006
    tlp: Annotated[list[str], Query()] = [],  # noqa: B006
    q: str | None = None,
    added_since: str | None = None,
    added_until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> SearchResult:
    clearance = ctx.intel.clearance_for(principal, "api")
    page = ctx.intel.search(clearance, query_of(type_, label, tlp, q, added_since, added_until, limit, cursor))
    return SearchResult(total=page.total, items=[summary_public(s) for s in page.items], next=page.next_cursor)


@router.get("/objects/{stix_id}", response_model=ObjectPublic)
def get_object(stix_id: str, principal: Reader, ctx: ContextDep, version: str | None = None) -> ObjectPublic:
    obj = ctx.intel.get(stix_id, ctx.intel.clearance_for(principal, "api"), version)
    return ObjectPublic(summary=summary_public(obj.summary), object=obj.raw, is_latest=obj.is_latest)


@router.get("/objects/{stix_id}/versions", response_model=list[ObjectSummaryPublic])
def versions(stix_id: str, principal: Reader, ctx: ContextDep) -> list[ObjectSummaryPublic]:
    return [summary_public(s) for s in ctx.intel.versions(stix_id, ctx.intel.clearance_for(principal, "api"))]


@router.get("/objects/{stix_id}/graph", response_model=GraphPublic)
def graph(stix_id: str, principal: Reader, ctx: ContextDep,
          depth: Annotated[int, Query(ge=1, le=3)] = 1) -> GraphPublic:
    g = ctx.intel.graph(stix_id, ctx.intel.clearance_for(principal, "api"), depth=depth)
    return GraphPublic(center=g.center, nodes=[summary_public(n) for n in g.nodes],
                       edges=[EdgePublic(source=e.source, target=e.target, type=e.type, via=e.via) for e in g.edges],
                       truncated=g.truncated)


@router.get("/lookup", response_model=list[IndicatorHitPublic])
def lookup(value: str, principal: Reader, ctx: ContextDep) -> list[IndicatorHitPublic]:
    hits = ctx.intel.lookup(value, ctx.intel.clearance_for(principal, "api"))
    return [IndicatorHitPublic(id=h.stix_id, name=h.name, kind=h.kind, value=h.value, valid_until=h.valid_until,
                               confidence=h.confidence, tlp=Tlp(h.tlp).label) for h in hits]


@router.post("/bundles", response_model=IngestResult)
async def ingest_bundle(request: Request, principal: Writer, ctx: ContextDep) -> IngestResult:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", "application/stix+json", "application/taxii+json"):
        raise UnsupportedMediaType(f"send JSON (application/json or application/stix+json), not {ctype or 'nothing'}")
    limit = ctx.settings.taxii_max_content_length
    if int(request.headers.get("content-length") or 0) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    return report_public(ctx.intel.ingest_json(body, where="body"))


@router.get("/export", response_model=None)
def export(principal: Reader, ctx: ContextDep, format: str = "stix",
           type_: Annotated[list[str], Query(alias="type")] = []) -> JSONResponse | PlainTextResponse:  # noqa: B006
    clearance = ctx.intel.clearance_for(principal, "export")
    if format == "stix":
        return JSONResponse(ctx.intel.export_bundle(clearance, types=type_), media_type="application/stix+json")
    if format in ("suricata", "zeek"):
        files = ctx.intel.export_feed(format, clearance)
        text = "".join(f"# file: {name}\n{body}" for name, body in files.items()) if len(files) > 1 else \
            next(iter(files.values()))
        return PlainTextResponse(text)
    raise InvalidInput(f"unknown export format {format!r} (stix, suricata, zeek)", where="format")

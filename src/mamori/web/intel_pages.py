"""Intelligence pages: the dashboard, search and browse, one object with its versions and graph, value lookup.

Every page works under the viewer's clearance for the ``web`` channel (``IntelService.clearance_for``), which
the store applies inside its queries: hidden objects are neither listed nor counted, and opening one gives the
same not-found page as an id that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from mamori.api.auth import ContextDep, CurrentPrincipal, require
from mamori.bootstrap import Context
from mamori.errors import InvalidInput
from mamori.i18n import N_, translations
from mamori.identity.model import Principal, Scope
from mamori.intel.model import Clearance, SearchQuery
from mamori.intel.tlp import Tlp
from mamori.kernel.timefmt import format_timestamp
from mamori.web.graph_svg import drawn_types, legend_svg, object_href, render_graph_svg
from mamori.web.rendering import web_ui
from mamori.web.search_filters import PAGE_SIZE, SEARCH_TYPES, SearchFilters

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Scope.INTEL_READ))]
LATEST_ON_DASHBOARD = 8
GRAPH_DEPTHS = (1, 2, 3)


@dataclass(frozen=True)
class TypeCount:
    type: str
    count: int
    href: str


@dataclass(frozen=True)
class TlpCount:
    rank: int
    count: int
    href: str


def visible_counts(ctx: Context, clearance: Clearance) -> tuple[int, list[TypeCount], int]:
    """How many current objects the viewer may see: in all, per type, and of other types (counted by the
    store under the clearance, in one grouped query)."""
    counts = ctx.intel.count_by_type(clearance)
    total = sum(counts.values())
    per_type = [TypeCount(t, counts[t], "/intel?" + urlencode({"type": t})) for t in SEARCH_TYPES if counts.get(t)]
    per_type.sort(key=lambda c: (-c.count, c.type))
    return total, per_type, total - sum(c.count for c in per_type)


def tlp_counts(ctx: Context, clearance: Clearance) -> list[TlpCount]:
    out: list[TlpCount] = []
    for level in Tlp:
        if int(level) > clearance.max_tlp:
            break
        n = ctx.intel.search(clearance, SearchQuery(tlp=(int(level),), limit=1)).total
        out.append(TlpCount(int(level), n, "/intel?" + urlencode({"tlp": level.label})))
    return out


@router.get("/")
def dashboard(request: Request, principal: CurrentPrincipal, ctx: ContextDep) -> Response:
    context: dict[str, Any] = {"can_read_intel": principal.has(Scope.INTEL_READ)}
    if context["can_read_intel"]:
        clearance = ctx.intel.clearance_for(principal, "web")
        total, per_type, other = visible_counts(ctx, clearance)
        latest = ctx.intel.search(clearance, SearchQuery(limit=LATEST_ON_DASHBOARD)).items
        context.update(total=total, per_type=per_type, other=other, latest=latest,
                       by_tlp=tlp_counts(ctx, clearance), max_tlp=clearance.max_tlp)
    return web_ui(request).render(request, "dashboard.html", context, principal=principal)


def _form_values(request: Request) -> dict[str, Any]:
    qp = request.query_params
    return {"q": qp.get("q", ""), "type": qp.get("type", ""), "label": qp.get("label", ""),
            "tlp": qp.getlist("tlp"), "added_since": qp.get("added_since", ""),
            "added_until": qp.get("added_until", "")}


@router.get("/intel")
def intel_search(request: Request, principal: Reader, ctx: ContextDep) -> Response:
    ui = web_ui(request)
    clearance = ctx.intel.clearance_for(principal, "web")
    params: Mapping[str, list[str]] = {key: request.query_params.getlist(key) for key in request.query_params}
    context: dict[str, Any] = {
        "form": _form_values(request), "types": SEARCH_TYPES,
        "levels": [lvl for lvl in Tlp if int(lvl) <= clearance.max_tlp], "error": None, "page": None,
    }
    try:
        filters = SearchFilters.from_params(params)
        page = ctx.intel.search(clearance, filters.to_query(ctx.settings.display_timezone))
    except InvalidInput as e:
        context["error"] = e
        return ui.render(request, "intel_search.html", context, principal=principal, status=400)
    start = (filters.page - 1) * PAGE_SIZE + 1 if page.items else 0
    context.update(
        page=page, filters=filters, start=start, end=start + len(page.items) - 1 if page.items else 0,
        next_href="/intel?" + filters.query_string(cursor=page.next_cursor, page=filters.page + 1)
        if page.next_cursor else None,
        first_href="/intel?" + filters.query_string(cursor="", page=1) if filters.page > 1 else None,
    )
    return ui.render(request, "intel_search.html", context, principal=principal)


@dataclass(frozen=True)
class Field:
    """One line of an object's summary."""

    label: str
    value: Any
    kind: str = "text"  # text | datetime | ref | refs | code | list | long


_SUMMARY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", N_("Name"), "text"),
    ("value", N_("Value"), "text"),
    ("relationship_type", N_("Relationship type"), "text"),
    ("source_ref", N_("Source"), "ref"),
    ("target_ref", N_("Target"), "ref"),
    ("sighting_of_ref", N_("Sighting of"), "ref"),
    ("count", N_("Count"), "text"),
    ("aliases", N_("Aliases"), "list"),
    ("indicator_types", N_("Indicator types"), "list"),
    ("malware_types", N_("Malware types"), "list"),
    ("threat_actor_types", N_("Threat actor types"), "list"),
    ("pattern", N_("Pattern"), "code"),
    ("pattern_type", N_("Pattern type"), "text"),
    ("created", N_("Created"), "datetime"),
    ("modified", N_("Modified"), "datetime"),
    ("valid_from", N_("Valid from"), "datetime"),
    ("valid_until", N_("Valid until"), "datetime"),
    ("first_seen", N_("First seen"), "datetime"),
    ("last_seen", N_("Last seen"), "datetime"),
    ("confidence", N_("Confidence"), "text"),
    ("created_by_ref", N_("Created by"), "ref"),
    ("labels", N_("Labels"), "list"),
    ("description", N_("Description"), "long"),
)


def summary_fields(raw: Mapping[str, Any]) -> list[Field]:
    out: list[Field] = []
    for key, label, kind in _SUMMARY_FIELDS:
        value = raw.get(key)
        if value is None or value == "" or value == []:
            continue
        if kind == "datetime" and not isinstance(value, str):
            kind = "text"
        if kind == "list":
            value = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        out.append(Field(label=label, value=value, kind=kind))
    return out


@router.get("/intel/objects/{stix_id}")
def intel_object(
    stix_id: str,
    request: Request,
    principal: Reader,
    ctx: ContextDep,
    version: str | None = None,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> Response:
    ui = web_ui(request)
    clearance = ctx.intel.clearance_for(principal, "web")
    obj = ctx.intel.get(stix_id, clearance, version)
    versions = ctx.intel.versions(stix_id, clearance)
    graph = ctx.intel.graph(stix_id, clearance, depth=depth)
    locale = ui.locale_of(request, principal)
    gettext = translations(locale).gettext
    now = format_timestamp(ctx.clock.now())
    summary = obj.summary
    svg = render_graph_svg(
        graph, title=gettext("Relationship graph of %(name)s") % {"name": summary.name or stix_id},
        empty_text=gettext("No related objects that you may see."),
    )
    context = {
        "obj": obj, "summary": summary, "fields": summary_fields(obj.raw),
        "expired": bool(summary.valid_until and summary.valid_until <= now),
        "versions": list(reversed(versions)),
        "version_href": lambda v: object_href(stix_id) + "?" + urlencode({"version": v}),
        "ref_href": object_href,
        "raw_json": json.dumps(obj.raw, indent=2, ensure_ascii=False),
        "graph": graph, "graph_svg": Markup(svg),  # noqa: S704 - built by graph_svg, which escapes every text
        "legend": [(t, Markup(legend_svg(t))) for t in drawn_types(graph)],  # noqa: S704 - same
        "depth": depth, "depths": GRAPH_DEPTHS, "version": version or "",
        "self_href": object_href(stix_id),
    }
    return ui.render(request, "intel_object.html", context, principal=principal, locale=locale)


@router.get("/intel/lookup")
def intel_lookup(request: Request, principal: Reader, ctx: ContextDep, value: str = "") -> Response:
    ui = web_ui(request)
    clearance = ctx.intel.clearance_for(principal, "web")
    context: dict[str, Any] = {"value": value, "hits": None, "error": None}
    status = 200
    if value.strip():
        try:
            context["hits"] = ctx.intel.lookup(value, clearance)
        except InvalidInput as e:
            context["error"] = e
            status = 400
    return ui.render(request, "intel_lookup.html", context, principal=principal, status=status)


__all__ = ["router", "summary_fields", "tlp_counts", "visible_counts"]

"""Active-defence pages: findings with their evidence and the "propose a measure" form (national staff), and
the early-warning report of an operator (operators see only their own organisation's).

Strings are English message ids translated with the mamori catalog; the ids these pages add are in
``templates/traffic/traffic.ja.po`` (GNU gettext PO), consulted first for Japanese.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.messages.pofile import read_po
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from mamori.api.auth import ContextDep, CurrentPrincipal, require
from mamori.errors import InvalidInput, PermissionDenied
from mamori.i18n import translations
from mamori.identity.model import Principal, Role, Scope
from mamori.traffic.detect.model import FindingKind, Severity, utc
from mamori.traffic.findings_store import FindingFilter, parse_kinds, parse_severity
from mamori.traffic.measures import MeasureKind
from mamori.traffic.service import TrafficService, traffic_service
from mamori.web.nav import NavItem, nav_registry
from mamori.web.rendering import TEMPLATE_DIR, web_ui

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Scope.TRAFFIC_READ))]
CATALOG = TEMPLATE_DIR / "traffic" / "traffic.ja.po"
NATIONAL = (Role.ADMIN, Role.ANALYST, Role.COMMISSIONER)
PROPOSERS = (Role.ADMIN, Role.ANALYST)
PAGE_SIZE = 100

NAV = (
    NavItem("/traffic/findings", "Findings", Scope.TRAFFIC_WRITE, order=40,
            translations={"ja": "検知結果", "en": "Findings"}),
    NavItem("/traffic/early-warning", "Early warning", Scope.TRAFFIC_READ, order=45,
            translations={"ja": "早期警戒", "en": "Early warning"}),
)


@lru_cache(maxsize=1)
def _catalog_ja(path: Path = CATALOG) -> dict[str, str]:
    with path.open("rb") as f:
        catalog = read_po(f, locale="ja", abort_invalid=True)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def gettext_for(locale: str) -> Callable[..., str]:
    """``_()`` for these pages: their own catalog first, then mamori's; ``%(name)s`` placeholders filled."""
    main = translations(locale)
    own = _catalog_ja() if locale == "ja" else {}

    def _(message: str, **variables: Any) -> str:
        text = own.get(message) or main.gettext(message)
        return text % variables if variables else text

    return _


def _render(request: Request, template: str, context: dict[str, Any], principal: Principal,
            status: int = 200) -> Response:
    ui = web_ui(request)
    locale = ui.locale_of(request, principal)
    _ = gettext_for(locale)
    return ui.render(request, template, {**context, "_": _, "gettext": _}, principal=principal, status=status,
                     locale=locale)


def _svc(ctx: ContextDep) -> TrafficService:
    return traffic_service(ctx)


Service = Annotated[TrafficService, Depends(_svc)]


def _national(principal: Principal) -> None:
    if principal.role not in NATIONAL:
        raise PermissionDenied("findings are for national staff")


def _date_or_none(text: str, where: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=UTC)
    except ValueError as e:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {text!r}", where=where) from e


@router.get("/traffic/findings")
def findings_page(request: Request, principal: Reader, svc: Service) -> Response:
    _national(principal)
    q = request.query_params
    form = {"kind": q.get("kind", ""), "since": q.get("since", ""), "until": q.get("until", ""),
            "min_severity": q.get("min_severity", ""), "address": q.get("address", "")}
    context: dict[str, Any] = {"form": form, "kinds": [k.value for k in FindingKind],
                               "severities": [s.value for s in Severity], "items": [], "total": 0, "error": None}
    try:
        until = _date_or_none(form["until"], "until")
        flt = FindingFilter(
            kinds=parse_kinds([form["kind"]]) if form["kind"] else (),
            since=_date_or_none(form["since"], "since"), until=until,
            min_severity=parse_severity(form["min_severity"]) if form["min_severity"] else None,
            address=form["address"].strip() or None, limit=PAGE_SIZE,
        )
    except InvalidInput as e:
        context["error"] = {"where": e.where or "", "message": e.message}
        return _render(request, "traffic/findings.html", context, principal, status=400)
    items, total = svc.findings(flt)
    context.update(items=items, total=total)
    return _render(request, "traffic/findings.html", context, principal)


@router.get("/traffic/findings/{finding_id}")
def finding_page(finding_id: str, request: Request, principal: Reader, svc: Service) -> Response:
    _national(principal)
    stored = svc.finding(finding_id)
    evidence = [{"start": utc(r.start_ts), "row": r} for r in stored.finding.evidence_sample]
    context = {
        "s": stored, "f": stored.finding, "evidence": evidence, "measures": svc.measures(finding_id),
        "measure_kinds": [k.value for k in MeasureKind],
        "may_propose": principal.role in PROPOSERS and principal.has(Scope.TRAFFIC_WRITE),
        "proposed": request.query_params.get("proposed"), "error": None,
    }
    return _render(request, "traffic/finding.html", context, principal)


@router.post("/traffic/findings/{finding_id}/measures")
def propose_measure(
    finding_id: str,
    request: Request,
    principal: CurrentPrincipal,
    svc: Service,
    kind: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    if principal.role not in PROPOSERS or not principal.has(Scope.TRAFFIC_WRITE):
        raise PermissionDenied("proposing a measure needs an analyst with traffic:write")
    try:
        measure = svc.propose_measure(finding_id, kind, proposed_by=principal.user.username, reason=reason or None)
    except InvalidInput as e:
        stored = svc.finding(finding_id)
        context = {
            "s": stored, "f": stored.finding,
            "evidence": [{"start": utc(r.start_ts), "row": r} for r in stored.finding.evidence_sample],
            "measures": svc.measures(finding_id), "measure_kinds": [k.value for k in MeasureKind],
            "may_propose": True, "proposed": None, "error": {"where": e.where or "", "message": e.message},
        }
        return _render(request, "traffic/finding.html", context, principal, status=400)
    return RedirectResponse(f"/traffic/findings/{finding_id}?" + urlencode({"proposed": measure.id}),
                            status_code=303)


def _report_target(principal: Principal, svc: TrafficService, requested: str) -> str | None:
    if principal.role is Role.OPERATOR:
        if principal.organisation is None:
            raise PermissionDenied("this operator account is bound to no organisation")
        return principal.organisation.key
    return requested or None


@router.get("/traffic/early-warning")
def early_warning_page(request: Request, principal: Reader, svc: Service) -> Response:
    q = request.query_params
    day_text = q.get("day", "")
    context: dict[str, Any] = {"report": None, "organisations": [], "selected": "", "day": day_text,
                               "error": None, "csv_href": None, "is_operator": principal.role is Role.OPERATOR}
    if principal.role not in (*NATIONAL, Role.OPERATOR):
        raise PermissionDenied("early-warning reports are for operators and national staff")
    if principal.role is not Role.OPERATOR:
        context["organisations"] = svc.operators()
    target = _report_target(principal, svc, q.get("organisation", ""))
    context["selected"] = target or ""
    if target is None:
        return _render(request, "traffic/early_warning.html", context, principal)
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        context["error"] = {"where": "day", "message": f"not a date (YYYY-MM-DD): {day_text!r}"}
        return _render(request, "traffic/early_warning.html", context, principal, status=400)
    try:
        report = svc.early_warning(target, day, principal=principal)
    except InvalidInput as e:
        context["error"] = {"where": e.where or "", "message": e.message}
        return _render(request, "traffic/early_warning.html", context, principal, status=400)
    context["report"] = report
    context["day"] = report.day.isoformat()
    context["csv_href"] = "/traffic/early-warning.csv?" + urlencode(
        {"organisation": report.organisation_key, "day": report.day.isoformat()})
    return _render(request, "traffic/early_warning.html", context, principal)


@router.get("/traffic/early-warning.csv")
def early_warning_csv(request: Request, principal: Reader, svc: Service) -> Response:
    q = request.query_params
    target = _report_target(principal, svc, q.get("organisation", ""))
    if target is None:
        raise InvalidInput("choose an organisation", where="organisation")
    day_text = q.get("day", "")
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError as e:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {day_text!r}", where="day") from e
    report = svc.early_warning(target, day, principal=principal)
    return Response(report.to_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{report.filename}"',
                             "Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    """Add the pages and their navigation entries (the web UI itself may be installed later)."""
    nav = nav_registry(app)
    for item in NAV:
        nav.add(item)
    app.include_router(router)


__all__ = ["NAV", "gettext_for", "install", "router"]

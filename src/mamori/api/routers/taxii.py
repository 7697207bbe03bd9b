"""TAXII 2.1 over HTTP (OASIS TAXII 2.1, sections 1.6, 3 and 4-5), mounted under ``/taxii2/``.

Layout: discovery ``/taxii2/``, API roots ``/taxii2/{api_root}/`` (one per distinct ``api_root`` of the
collections, e.g. ``partners``), their status, collections, objects, manifest and versions below. Every
response is ``application/taxii+json;version=2.1``; errors become TAXII error messages in
``mamori.api.problems``. Clients authenticate with HTTP Basic (password or API token) or a bearer token.
The rules of what a viewer sees live in ``mamori.intel.taxii``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from mamori.api import problems
from mamori.api.auth import ContextDep, authenticate, ensure_scopes
from mamori.errors import InvalidInput, MamoriError, NotAcceptable, NotFound, PayloadTooLarge, UnsupportedMediaType
from mamori.identity.model import Principal, Scope
from mamori.intel.model import Clearance
from mamori.intel.taxii import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    CollectionView,
    Page,
    TaxiiService,
    parse_filters,
    status_json,
    taxii_service,
)

DISCOVERY_TITLE = "mamori TAXII 2.1"


def _params(header_value: str) -> tuple[str, dict[str, str]]:
    kind, *rest = [p.strip() for p in header_value.split(";")]
    params: dict[str, str] = {}
    for p in rest:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"')
    return kind.lower(), params


def accepts_taxii(accept: str | None) -> bool:
    """Whether an Accept header admits ``application/taxii+json;version=2.1`` (RFC 9110 section 12.5.1)."""
    if not accept or not accept.strip() or accept == TAXII_MEDIA_TYPE:
        return True
    for part in accept.split(","):
        if not part.strip():
            continue
        kind, params = _params(part)
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


async def negotiate(request: Request) -> None:
    """Refuse (406) a client that accepts nothing TAXII 2.1 produces, before doing any work."""
    if not accepts_taxii(request.headers.get("accept")):
        raise NotAcceptable(
            f"this TAXII server produces {TAXII_MEDIA_TYPE}; the Accept header "
            f"{request.headers.get('accept')!r} allows none of it", where="Accept")


def taxii_caller(scope: Scope) -> Callable[[Request], Awaitable[Principal]]:
    """One dependency for every TAXII route, checking in this order: the Accept header (406, before any
    work), the credentials (401) and the scope (403)."""

    async def dependency(request: Request) -> Principal:
        await negotiate(request)
        return ensure_scopes(await authenticate(request), scope)

    return dependency


read_caller = taxii_caller(Scope.TAXII_READ)
Reader = Annotated[Principal, Depends(read_caller)]
Writer = Annotated[Principal, Depends(taxii_caller(Scope.TAXII_WRITE))]


class ReadRoute(APIRoute):
    """A TAXII read endpoint (objects, an object, manifest, versions) served without FastAPI's per-request
    dependency solving, which for these requests, the most frequent, costs more than the read itself.

    The endpoint keeps its declared signature (``request``, ``str`` path parameters, ``principal: Reader``),
    from which FastAPI writes the OpenAPI description; per request, the handler does what that declaration
    does: ``read_caller`` (Accept 406, credentials 401, scope 403, in that order), then the call.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        path_names = set(self.param_convertors)
        declared = {p.name: p for p in inspect.signature(endpoint).parameters.values()}
        calls = [d.call for d in self.dependant.dependencies]
        if set(declared) != path_names | {"request", "principal"} or calls != [read_caller] \
                or not inspect.iscoroutinefunction(endpoint) \
                or any(self.param_convertors[n].regex != "[^/]+" for n in path_names):
            raise TypeError(f"{endpoint.__name__} does not fit ReadRoute: it must be async and take the "
                            "request, string path parameters and principal: Reader")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            principal = await read_caller(request)
            response: Response = await endpoint(request=request, principal=principal, **request.path_params)
            return response

        return handler


# Reads first: routes are tried in order, and no two TAXII paths with the same method overlap.
reads = APIRouter(prefix="/taxii2", tags=["taxii"], route_class=ReadRoute)
router = APIRouter(prefix="/taxii2", tags=["taxii"])


class ReadLane:
    """ASGI middleware that hands a GET of a ``reads`` route straight to the route's handler.

    Such requests (above all Get An Object and small pages of objects) are the bulk of a TAXII server's
    traffic and cost little to serve; the general router (which tries route after route), the exception
    middleware and the per-route wrappers would cost as much again. The route's own ``matches`` decides
    (paths, methods and ``root_path`` as the router sees them), the handler is the route's, and a
    MamoriError becomes the response the application's exception handler gives. Everything else, other
    methods on the same paths included, goes on to the application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = [(r, r.get_route_handler()) for r in reads.routes if isinstance(r, ReadRoute)]

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and "/taxii2/" in scope["path"]:
            for route, handler in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    request = Request(scope, receive, send)
                    try:
                        response = await handler(request)
                    except MamoriError as exc:
                        response = problems.error_response(request, exc)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.include_router(reads)
    app.include_router(router)
    app.add_middleware(ReadLane)


class TaxiiResponse(Response):
    media_type = TAXII_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def service(ctx: ContextDep) -> TaxiiService:
    return taxii_service(ctx)


Taxii = Annotated[TaxiiService, Depends(service)]


def _base(request: Request, ctx: ContextDep) -> str:
    base = ctx.settings.base_url or str(request.base_url)
    return base.rstrip("/") + "/taxii2/"


def _collection_json(c: CollectionView) -> dict[str, Any]:
    body: dict[str, Any] = {"id": c.id, "title": c.title}
    if c.description:
        body["description"] = c.description
    if c.alias:
        body["alias"] = c.alias
    body.update({"can_read": c.can_read, "can_write": c.can_write, "media_types": [STIX_MEDIA_TYPE]})
    return body


async def _read(taxii: TaxiiService, principal: Principal, limit: int | None, one_object: bool,
                read: Callable[[Clearance | None], Page]) -> Page:
    """Run a read on the event loop when ``TaxiiService.plan_read`` allows it, else in a worker thread.

    The read endpoints are ``async`` for that reason: a sync endpoint always pays a thread hop, which costs
    more than serving one object from SQLite.
    """
    inline, clearance = taxii.plan_read(principal, limit, one_object=one_object)
    if inline:
        return read(clearance)
    return await run_in_threadpool(read, clearance)


def _date_headers(page: Page) -> dict[str, str]:
    if not page.entries:
        return {}
    return {"X-TAXII-Date-Added-First": page.first_added or "", "X-TAXII-Date-Added-Last": page.last_added or ""}


def _envelope(page: Page) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.entries:
        # The stored JSON text goes out as it is, without being parsed and serialised again.
        body["objects"] = [orjson.Fragment(e.raw or "{}") for e in page.entries]
    return body


def _manifest(page: Page) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.entries:
        body["objects"] = [{"id": e.stix_id, "date_added": e.date_added, "version": e.version,
                            "media_type": f"application/stix+json;version={e.spec_version}"} for e in page.entries]
    return body


def _versions(page: Page) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.entries:
        body["versions"] = [e.version for e in page.entries]
    return body


# --- discovery and API roots ---------------------------------------------------------------------------------


@router.get("/", response_class=TaxiiResponse)
def discovery(request: Request, principal: Reader, ctx: ContextDep, taxii: Taxii) -> TaxiiResponse:
    """Server discovery (section 4.1): the API roots the caller can use, as absolute URLs."""
    base = _base(request, ctx)
    roots = [f"{base}{name}/" for name in taxii.api_roots(principal)]
    body: dict[str, Any] = {"title": DISCOVERY_TITLE,
                            "description": "Threat-intelligence sharing of the national cyber-defence office."}
    if roots:
        body["default"] = roots[0]
        body["api_roots"] = roots
    return TaxiiResponse(body)


@router.get("/{api_root}/", response_class=TaxiiResponse)
def api_root_information(api_root: str, principal: Reader, taxii: Taxii) -> TaxiiResponse:
    """API root information (section 4.2)."""
    return TaxiiResponse(taxii.api_root(principal, api_root))


@router.get("/{api_root}/status/{status_id}/", response_class=TaxiiResponse)
@router.get("/{api_root}/status/{status_id}", response_class=TaxiiResponse, include_in_schema=False)
def get_status(api_root: str, status_id: str, principal: Reader, taxii: Taxii) -> TaxiiResponse:
    """Status of an add-objects request (section 4.3); only its author or national staff may read it."""
    return TaxiiResponse(status_json(taxii.status(principal, api_root, status_id)))


# --- collections -----------------------------------------------------------------------------------------------


@router.get("/{api_root}/collections/", response_class=TaxiiResponse)
def get_collections(api_root: str, principal: Reader, taxii: Taxii) -> TaxiiResponse:
    """Collections of an API root the caller may read or write (section 5.1)."""
    views = taxii.collections(principal, api_root)
    if not views:  # an API root exists for a viewer only through a collection it sees
        raise NotFound(f"no API root {api_root!r}", where="api_root")
    return TaxiiResponse({"collections": [_collection_json(c) for c in views]})


@router.get("/{api_root}/collections/{collection_id}/", response_class=TaxiiResponse)
def get_collection(api_root: str, collection_id: str, principal: Reader, taxii: Taxii) -> TaxiiResponse:
    """One collection (section 5.2)."""
    return TaxiiResponse(_collection_json(taxii.collection(principal, api_root, collection_id)))


@reads.get("/{api_root}/collections/{collection_id}/manifest/", response_class=TaxiiResponse)
async def get_manifest(request: Request, api_root: str, collection_id: str, principal: Reader) -> TaxiiResponse:
    """Object manifests (section 5.3)."""
    taxii = taxii_service(request.app.state.ctx)
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = await _read(taxii, principal, limit, False, lambda clearance: taxii.manifest(
        principal, api_root, collection_id, query, limit, nxt, clearance=clearance))
    return TaxiiResponse(_manifest(page), headers=_date_headers(page))


@reads.get("/{api_root}/collections/{collection_id}/objects/", response_class=TaxiiResponse)
async def get_objects(request: Request, api_root: str, collection_id: str, principal: Reader) -> TaxiiResponse:
    """Objects of a collection, one page at a time (section 5.4)."""
    taxii = taxii_service(request.app.state.ctx)
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = await _read(taxii, principal, limit, False, lambda clearance: taxii.objects(
        principal, api_root, collection_id, query, limit, nxt, clearance=clearance))
    return TaxiiResponse(_envelope(page), headers=_date_headers(page))


@router.post("/{api_root}/collections/{collection_id}/objects/", response_class=TaxiiResponse, status_code=202)
async def add_objects(request: Request, api_root: str, collection_id: str, principal: Writer, ctx: ContextDep,
                      taxii: Taxii) -> TaxiiResponse:
    """Add objects (section 5.5): 202 with a status resource that is already complete."""
    kind, params = _params(request.headers.get("content-type", ""))
    if kind != "application/taxii+json" or params.get("version", "2.1") != "2.1":
        raise UnsupportedMediaType(
            f"send the envelope as {TAXII_MEDIA_TYPE}, not {request.headers.get('content-type') or 'nothing'}",
            where="Content-Type")
    body = await _read_body(request, ctx.settings.taxii_max_content_length)
    status = taxii.add_objects(principal, api_root, collection_id, body)
    return TaxiiResponse(status_json(status), status_code=202)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError as e:
            raise InvalidInput(f"Content-Length {declared!r} is not a number", where="Content-Length") from e
        if size > limit:
            raise PayloadTooLarge(f"the envelope of {size} bytes exceeds the {limit}-byte limit of this API root",
                                  where="Content-Length")
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"the envelope exceeds the {limit}-byte limit of this API root", where="body")
        chunks.append(chunk)
    return b"".join(chunks)


@reads.get("/{api_root}/collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse)
async def get_object(request: Request, api_root: str, collection_id: str, object_id: str,
                     principal: Reader) -> TaxiiResponse:
    """One object, by default its last version the caller may see (section 5.6)."""
    taxii = taxii_service(request.app.state.ctx)
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = await _read(taxii, principal, limit, True, lambda clearance: taxii.object(
        principal, api_root, collection_id, object_id, query, limit, nxt, clearance=clearance))
    return TaxiiResponse(_envelope(page), headers=_date_headers(page))


@router.delete("/{api_root}/collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse)
def delete_object(request: Request, api_root: str, collection_id: str, object_id: str, principal: Writer,
                  taxii: Taxii) -> Response:
    """Remove an object (all versions, or ``match[version]``) from this collection (section 5.7)."""
    query, _limit, _next = parse_filters(request.query_params.multi_items())
    taxii.delete_object(principal, api_root, collection_id, object_id, query)
    return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)


@reads.get("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/", response_class=TaxiiResponse)
async def get_versions(request: Request, api_root: str, collection_id: str, object_id: str,
                       principal: Reader) -> TaxiiResponse:
    """The versions of an object the caller may see (section 5.8)."""
    taxii = taxii_service(request.app.state.ctx)
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = await _read(taxii, principal, limit, True, lambda clearance: taxii.versions(
        principal, api_root, collection_id, object_id, query, limit, nxt, clearance=clearance))
    return TaxiiResponse(_versions(page), headers=_date_headers(page))


__all__ = ["ReadLane", "ReadRoute", "accepts_taxii", "install", "reads", "router"]

"""TAXII 2.1 over HTTP (OASIS TAXII 2.1, sections 1.6, 3 and 4-5), mounted under ``/taxii2/``.

Layout: discovery ``/taxii2/``, API roots ``/taxii2/{api_root}/`` (one per distinct ``api_root`` of the
collections, e.g. ``partners``), their status, collections, objects, manifest and versions below. Every
response is ``application/taxii+json;version=2.1``; errors become TAXII error messages in
``mamori.api.problems``. Clients authenticate with HTTP Basic (password or API token) or a bearer token.
The rules of what a viewer sees live in ``mamori.intel.taxii``.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mamori.api.auth import ContextDep, require
from mamori.errors import InvalidInput, NotAcceptable, NotFound, PayloadTooLarge, UnsupportedMediaType
from mamori.identity.model import Principal, Scope
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
    if not accept or not accept.strip():
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


def negotiate(request: Request) -> None:
    """Refuse (406) a client that accepts nothing TAXII 2.1 produces, before doing any work."""
    if not accepts_taxii(request.headers.get("accept")):
        raise NotAcceptable(
            f"this TAXII server produces {TAXII_MEDIA_TYPE}; the Accept header "
            f"{request.headers.get('accept')!r} allows none of it", where="Accept")


router = APIRouter(prefix="/taxii2", tags=["taxii"], dependencies=[Depends(negotiate)])
Reader = Annotated[Principal, Depends(require(Scope.TAXII_READ))]
Writer = Annotated[Principal, Depends(require(Scope.TAXII_WRITE))]


class TaxiiResponse(Response):
    media_type = TAXII_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def service(ctx: ContextDep) -> TaxiiService:
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


@router.get("/{api_root}/collections/{collection_id}/manifest/", response_class=TaxiiResponse)
def get_manifest(request: Request, api_root: str, collection_id: str, principal: Reader,
                 taxii: Taxii) -> TaxiiResponse:
    """Object manifests (section 5.3)."""
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = taxii.manifest(principal, api_root, collection_id, query, limit, nxt)
    return TaxiiResponse(_manifest(page), headers=_date_headers(page))


@router.get("/{api_root}/collections/{collection_id}/objects/", response_class=TaxiiResponse)
def get_objects(request: Request, api_root: str, collection_id: str, principal: Reader,
                taxii: Taxii) -> TaxiiResponse:
    """Objects of a collection, one page at a time (section 5.4)."""
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = taxii.objects(principal, api_root, collection_id, query, limit, nxt)
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


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse)
def get_object(request: Request, api_root: str, collection_id: str, object_id: str, principal: Reader,
               taxii: Taxii) -> TaxiiResponse:
    """One object, by default its last version the caller may see (section 5.6)."""
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = taxii.object(principal, api_root, collection_id, object_id, query, limit, nxt)
    return TaxiiResponse(_envelope(page), headers=_date_headers(page))


@router.delete("/{api_root}/collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse)
def delete_object(request: Request, api_root: str, collection_id: str, object_id: str, principal: Writer,
                  taxii: Taxii) -> Response:
    """Remove an object (all versions, or ``match[version]``) from this collection (section 5.7)."""
    query, _limit, _next = parse_filters(request.query_params.multi_items())
    taxii.delete_object(principal, api_root, collection_id, object_id, query)
    return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/",
            response_class=TaxiiResponse)
def get_versions(request: Request, api_root: str, collection_id: str, object_id: str, principal: Reader,
                 taxii: Taxii) -> TaxiiResponse:
    """The versions of an object the caller may see (section 5.8)."""
    query, limit, nxt = parse_filters(request.query_params.multi_items())
    page = taxii.versions(principal, api_root, collection_id, object_id, query, limit, nxt)
    return TaxiiResponse(_versions(page), headers=_date_headers(page))


__all__ = ["accepts_taxii", "router"]

"""The one place where errors become HTTP responses.

JSON API: problem details (RFC 9457, ``application/problem+json``). TAXII 2.1 paths: the TAXII error message
resource (TAXII 2.1 §3.6.1) in ``application/taxii+json;version=2.1``. Web pages: an HTML error page, or a redirect
to the login page when the visitor is not authenticated.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamori.errors import MamoriError, Unauthenticated

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
log = logging.getLogger("mamori.api")


def _is_taxii(request: Request) -> bool:
    return request.url.path.startswith("/taxii2")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem_response(
    request: Request, status: int, title: str, detail: str, extra: dict[str, Any] | None = None
) -> Response:
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="mamori", Bearer'
    if _is_taxii(request):
        body: dict[str, Any] = {"title": title, "description": detail, "http_status": str(status)}
        if extra:
            body["details"] = extra
        return JSONResponse(body, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)
    if not _is_api(request):
        if status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        renderer = getattr(request.app.state, "render_error", None)
        if renderer is not None:
            resp: Response = renderer(request, status, title, detail)
            return resp
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def error_response(request: Request, exc: MamoriError) -> Response:
    """The response for a MamoriError raised while serving ``request``."""
    extra: dict[str, Any] = dict(exc.detail)
    if exc.where:
        extra["where"] = exc.where
    if exc.http_status >= 500:
        log.error("request failed: %s", exc.message)
    return problem_response(request, exc.http_status, exc.title, exc.message, extra or None)


def install(app: FastAPI) -> None:
    @app.exception_handler(MamoriError)
    async def _mamori(request: Request, exc: MamoriError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"where": "?", "message": "invalid request"}
        return problem_response(
            request, 400 if _is_taxii(request) else 422, "Invalid input",
            f"{first['where']}: {first['message']}", {"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Authentication required"}
        return problem_response(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "Internal error", "an unexpected error occurred; it has been logged")


__all__ = ["TAXII_MEDIA_TYPE", "Unauthenticated", "error_response", "install", "problem_response"]

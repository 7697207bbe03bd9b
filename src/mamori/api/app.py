"""The application factory: one ASGI app serving the JSON API, TAXII 2.1 and the web UI."""

from __future__ import annotations

import logging
import time

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori import __version__
from mamori.api import problems
from mamori.bootstrap import Context

log = logging.getLogger("mamori.access")


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(
        title="mamori",
        version=__version__,
        description="National cyber-defence platform: threat intelligence, sharing, active defence.",
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    problems.install(app)

    from mamori.api.auth import authenticate
    from mamori.api.routers import identity, intel

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(authenticate)])
    def openapi_document() -> JSONResponse:
        """The OpenAPI description, for authenticated callers only."""
        return JSONResponse(app.openapi())

    # TAXII first: its small reads are the most frequent requests, and routes are tried in order.
    _include_optional(app, "mamori.api.routers.taxii")
    app.include_router(identity.router)
    app.include_router(intel.router)
    _include_optional(app, "mamori.api.routers.traffic")
    _include_optional(app, "mamori.web.routes")
    app.add_middleware(SummaryLineMiddleware)  # added last, so outermost: it sees every response
    return app


_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SummaryLineMiddleware:
    """Security headers on every response and one summary log line per request (never headers, bodies or
    credentials). Plain ASGI rather than ``BaseHTTPMiddleware``, which costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _v in headers}
                headers.extend((k, v) for k, v in _SECURITY_HEADERS if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info("%s %s %s %.1fms", scope.get("method"), scope.get("path"), status,
                     (time.perf_counter() - start) * 1000)


def _include_optional(app: FastAPI, module: str) -> None:
    """Capabilities whose routers exist are mounted; each exposes ``router`` (and optionally ``install``)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            return
        raise
    install = getattr(mod, "install", None)
    if install is not None:
        install(app)
    else:
        app.include_router(mod.router)

"""The application factory: one ASGI app serving the JSON API, TAXII 2.1 and the web UI."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

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

    @app.middleware("http")
    async def summary_line(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # One summary line per request; never headers, bodies or credentials.
        log.info("%s %s %s %.1fms", request.method, request.url.path, response.status_code,
                 (time.perf_counter() - start) * 1000)
        return response

    from mamori.api.auth import authenticate
    from mamori.api.routers import identity, intel

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(authenticate)])
    def openapi_document() -> JSONResponse:
        """The OpenAPI description, for authenticated callers only."""
        return JSONResponse(app.openapi())

    app.include_router(identity.router)
    app.include_router(intel.router)
    for name in ("taxii", "traffic"):
        _include_optional(app, f"mamori.api.routers.{name}")
    _include_optional(app, "mamori.web.routes")
    return app


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

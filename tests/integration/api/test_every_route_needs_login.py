"""Authentication guards every API route, TAXII endpoint and web page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from mamori.api.app import create_app
from mamori.bootstrap import Context

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/favicon.ico")}


def _walk(routes: list[object], prefix: str, out: list[tuple[str, str]]) -> None:
    for r in routes:
        inner = getattr(r, "original_router", None)  # an included router: its own routes, under its prefix
        if inner is not None:
            ctx_prefix = getattr(getattr(r, "include_context", None), "prefix", "") or ""
            _walk(inner.routes, prefix + ctx_prefix, out)
            continue
        path, methods = getattr(r, "path", None), getattr(r, "methods", None)
        if path is not None and methods:
            out.extend((m, prefix + path) for m in sorted(methods - {"HEAD"}))


def _routes(ctx: Context) -> list[tuple[str, str]]:
    """Every route of the application, API and pages alike (not only those in the OpenAPI description)."""
    out: list[tuple[str, str]] = []
    _walk(create_app(ctx).router.routes, "", out)
    return out


def test_the_route_list_covers_every_capability(ctx: Context) -> None:
    paths = {p for _m, p in _routes(ctx)}
    for prefix in ("/api/v1/intel", "/api/v1/traffic", "/taxii2/", "/intel", "/traffic"):
        assert any(p.startswith(prefix) for p in paths), prefix


def test_no_route_answers_without_credentials(ctx: Context) -> None:
    client = TestClient(create_app(ctx), follow_redirects=False)
    assert client.get("/api/openapi.json").status_code == 401
    for method, path in _routes(ctx):
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        r = client.request(method, url)
        if path.startswith(("/api/", "/taxii2")):
            assert r.status_code == 401, (method, path, r.status_code)
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)


def test_a_forged_session_cookie_is_refused(ctx: Context) -> None:
    client = TestClient(create_app(ctx), follow_redirects=False, cookies={"mamori_session": "forged"})
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/intel").status_code == 303


def test_every_response_carries_the_security_headers(ctx: Context) -> None:
    client = TestClient(create_app(ctx), follow_redirects=False)
    for path in ("/api/v1/me", "/login", "/taxii2/"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["referrer-policy"] == "same-origin", path

"""Authentication for every route: bearer tokens, HTTP Basic (for TAXII clients) or the web session cookie.

Routes declare what they need with ``Annotated`` dependencies: ``CurrentPrincipal`` (anyone authenticated) or
``require(Scope.X)``. Session-authenticated unsafe requests must carry the session's CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from mamori.bootstrap import Context
from mamori.errors import PermissionDenied, Unauthenticated
from mamori.identity.model import Principal, Scope

SESSION_COOKIE = "mamori_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_context(request: Request) -> Context:
    """The application's context (async: a plain attribute read needs no worker thread)."""
    ctx: Context = request.app.state.ctx
    return ctx


ContextDep = Annotated[Context, Depends(get_context)]


async def authenticate(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    ctx: Context = request.app.state.ctx
    header = request.headers.get("authorization", "")
    principal: Principal
    if header:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value:
            principal = ctx.identity.authenticate_token(value.strip())
        elif scheme == "basic" and value:
            try:
                username, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError) as e:
                raise Unauthenticated("malformed Basic credentials") from e
            if password.startswith("mamori_"):
                principal = ctx.identity.authenticate_token(password)
                if principal.user.username != username:
                    raise Unauthenticated("token does not belong to this user")
            else:
                # Argon2 takes tens of milliseconds of CPU by design: off the event loop, so other requests go on.
                principal = await run_in_threadpool(ctx.identity.authenticate_password, username, password,
                                                    via="basic")
        else:
            raise Unauthenticated("unsupported Authorization scheme; use Bearer or Basic")
    else:
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            raise Unauthenticated("authentication required")
        principal, session = ctx.identity.resolve_session(sid)
        request.state.session = session
        if request.method not in SAFE_METHODS:
            sent: str | None = request.headers.get(CSRF_HEADER)
            if sent is None:
                form = await request.form()
                field = form.get("csrf_token")
                sent = field if isinstance(field, str) else None
            if not sent or not hmac.compare_digest(sent, session.csrf_token):
                raise PermissionDenied("missing or wrong CSRF token; reload the page and try again")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def ensure_scopes(principal: Principal, *scopes: Scope) -> Principal:
    """The principal, if its credential holds every one of ``scopes``; 403 otherwise."""
    missing = [s.value for s in scopes if not principal.has(s)]
    if missing:
        raise PermissionDenied(f"this needs the scope(s) {', '.join(missing)}")
    return principal


def require(*scopes: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        return ensure_scopes(principal, *scopes)

    return dependency

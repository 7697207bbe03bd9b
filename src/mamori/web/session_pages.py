"""Logging in and out, and choosing the language.

The login form is protected against cross-site request forgery before any session exists with a
double-submit token (OWASP CSRF Prevention Cheat Sheet): a random value in an HttpOnly, SameSite=Lax cookie
that the form must echo. Logging in always opens a fresh session (no session fixation); ``next`` is honoured
only for local paths, so the form cannot be used as an open redirect.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mamori.api.auth import SESSION_COOKIE, ContextDep, CurrentPrincipal
from mamori.errors import PermissionDenied, Unauthenticated
from mamori.i18n import N_, SUPPORTED_LOCALES
from mamori.web.rendering import LOCALE_COOKIE, web_ui

LOGIN_CSRF_COOKIE = "mamori_login_csrf"
LOGIN_CSRF_MAX_AGE = 2 * 3600
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600

router = APIRouter(include_in_schema=False)


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site (``/intel?q=x``), else ``default``."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def _login_page(request: Request, next_path: str, *, error: str | None = None, username: str = "",
                locale: str | None = None, status: int = 200) -> Response:
    ui = web_ui(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    response = ui.render(request, "login.html",
                         {"login_csrf": token, "next": next_path, "error": error, "username": username},
                         status=status, locale=locale)
    ui.set_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=LOGIN_CSRF_MAX_AGE)
    return response


@router.get("/login")
def login_form(request: Request, ctx: ContextDep, next: str | None = None, lang: str | None = None) -> Response:
    ui = web_ui(request)
    next_path = local_path(next)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        try:
            ctx.identity.resolve_session(sid)
        except Unauthenticated:
            pass  # an expired session: show the form
        else:
            return RedirectResponse(next_path, status_code=303)
    locale = lang if lang in SUPPORTED_LOCALES else None
    response = _login_page(request, next_path, locale=locale)
    if locale is not None:
        ui.set_cookie(response, LOCALE_COOKIE, locale, max_age=LOCALE_COOKIE_MAX_AGE)
    return response


@router.post("/login")
def login(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ui = web_ui(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        raise PermissionDenied("the login form has expired or did not come from this site; reload it and try again",
                               where="csrf_token")
    next_path = local_path(next)
    if not username.strip() or not password:
        return _login_page(request, next_path, error=N_("Enter your user name and password."), username=username)
    try:
        principal = ctx.identity.authenticate_password(username.strip(), password, via="session")
    except Unauthenticated:
        return _login_page(request, next_path, error=N_("Wrong user name or password."), username=username)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        ctx.identity.close_session(old)
    sid, _session = ctx.identity.open_session(principal)
    response = RedirectResponse(next_path, status_code=303)
    ui.set_cookie(response, SESSION_COOKIE, sid, max_age=ctx.settings.session_max_age_s)
    ui.delete_cookie(response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, principal: CurrentPrincipal, ctx: ContextDep) -> Response:
    ui = web_ui(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        ctx.identity.close_session(sid)
    response = RedirectResponse("/login", status_code=303)
    ui.delete_cookie(response, SESSION_COOKIE)
    ui.set_cookie(response, LOCALE_COOKIE, principal.user.locale, max_age=LOCALE_COOKIE_MAX_AGE)
    return response


@router.post("/settings/language")
def change_language(
    request: Request,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    locale: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx.identity.set_locale(principal.user.id, locale)
    ui = web_ui(request)
    response = RedirectResponse(local_path(next), status_code=303)
    ui.set_cookie(response, LOCALE_COOKIE, locale, max_age=LOCALE_COOKIE_MAX_AGE)
    return response


__all__ = ["LOGIN_CSRF_COOKIE", "local_path", "router"]

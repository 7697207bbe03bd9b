"""Rendering of the web UI: one Jinja2 environment per locale, the shared page context, cookies, error pages.

Each locale gets its own environment with its catalog installed (Jinja2's i18n extension, new-style gettext),
so concurrent requests in different languages never share translation state. Templates are autoescaped;
pages carry a strict Content-Security-Policy (no inline script or style), so SVG pictures use presentation
attributes and CSS classes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mamori import __version__
from mamori.config import Settings
from mamori.i18n import (
    N_,
    SUPPORTED_LOCALES,
    format_date_local,
    format_datetime_jst,
    format_number,
    negotiate,
    translations,
)
from mamori.i18n.formatting import zone
from mamori.identity.model import Principal, Role
from mamori.intel.tlp import Tlp
from mamori.kernel.clock import Clock
from mamori.web.nav import NavRegistry

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LOCALE_COOKIE = "mamori_locale"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

ROLE_LABELS: Mapping[Role, str] = {
    Role.ADMIN: N_("Administrator"),
    Role.ANALYST: N_("Analyst"),
    Role.OPERATOR: N_("Operator"),
    Role.COMMISSIONER: N_("Commissioner"),
    Role.PARTNER: N_("Partner"),
}

ERROR_EXPLANATIONS: Mapping[int, str] = {
    400: N_("The request could not be used as sent. Check the highlighted value and try again."),
    403: N_("You are signed in, but this action is not allowed for you."),
    404: N_("There is nothing here that you are allowed to see."),
    405: N_("This address does not accept that kind of request."),
    409: N_("The request conflicts with the current state."),
    413: N_("What you sent is too large."),
    422: N_("The request could not be used as sent. Check the highlighted value and try again."),
    500: N_("Something went wrong on our side. The error has been logged."),
}

ERROR_TITLES = (  # the titles mamori.errors and mamori.api.problems give, translated on the error page
    N_("Not found"), N_("Permission denied"), N_("Invalid input"), N_("Authentication required"),
    N_("Conflict"), N_("Internal error"), N_("Method not allowed"), N_("Error"), N_("Payload too large"),
    N_("Not supported"), N_("Unsupported media type"), N_("Not acceptable"), N_("Integrity failure"),
)


def tlp_label(rank: int) -> str:
    """``TLP:AMBER+STRICT`` for a rank; out-of-range ranks (an unmarked default) read as RED, failing closed."""
    return Tlp(rank).label if 0 <= rank <= int(Tlp.RED) else Tlp.RED.label


def tlp_css(rank: int) -> str:
    return "tlp-" + tlp_label(rank)[4:].lower().replace("+", "-")


class WebUi:
    """Templates, locale choice and page rendering for one application."""

    def __init__(self, settings: Settings, nav: NavRegistry, clock: Clock) -> None:
        self.settings = settings
        self.nav = nav
        self.clock = clock
        self._template_dirs: list[Path] = [TEMPLATE_DIR]
        self._environments: dict[str, Environment] = {}

    # --- templates -------------------------------------------------------------------------------------
    def add_template_dir(self, path: Path) -> None:
        """Let a capability add its own templates (they may extend ``layout.html``)."""
        if path not in self._template_dirs:
            self._template_dirs.append(path)
            self._environments.clear()

    def environment(self, locale: str) -> Environment:
        env = self._environments.get(locale)
        if env is None:
            env = self._build_environment(locale)
            self._environments[locale] = env
        return env

    def _build_environment(self, locale: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader([str(p) for p in self._template_dirs]),
            autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
        tz = self.settings.display_timezone
        env.filters["datetime"] = lambda v, style="medium": format_datetime_jst(v, locale, timezone=tz, style=style)
        env.filters["date"] = lambda v: format_date_local(v, locale, timezone=tz)
        env.filters["number"] = lambda v: format_number(v, locale)
        env.filters["tlp_label"] = tlp_label
        env.filters["tlp_css"] = tlp_css
        env.globals["locale"] = locale
        env.globals["version"] = __version__
        env.globals["locales"] = SUPPORTED_LOCALES
        return env

    # --- locale ----------------------------------------------------------------------------------------
    def locale_of(self, request: Request, principal: Principal | None = None) -> str:
        """The user's own choice once logged in; before that a language cookie, Accept-Language, the default."""
        if principal is not None and principal.user.locale in SUPPORTED_LOCALES:
            return principal.user.locale
        chosen = request.cookies.get(LOCALE_COOKIE)
        if chosen in SUPPORTED_LOCALES:
            return str(chosen)
        return negotiate(request.headers.get("accept-language"), self.settings.default_locale)

    def set_cookie(self, response: Response, name: str, value: str, *, max_age: int | None = None,
                   http_only: bool = True) -> None:
        """Every cookie of the UI: HttpOnly, SameSite=Lax, Secure in production."""
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=http_only, samesite="lax",
                            secure=self.settings.env == "production")

    def delete_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", httponly=True, samesite="lax",
                               secure=self.settings.env == "production")

    # --- pages -----------------------------------------------------------------------------------------
    def page_context(self, request: Request, principal: Principal | None, locale: str) -> dict[str, Any]:
        gettext = translations(locale).gettext
        session = getattr(request.state, "session", None)
        path = request.url.path
        here = path + (f"?{request.url.query}" if request.url.query else "")
        nav = []
        if principal is not None:
            items = self.nav.for_viewer(principal)
            matching = [item.path for item in items if item.is_current(path)]
            current = max(matching, key=len) if matching else None
            nav = [{"path": item.path, "label": item.text(locale, gettext), "current": item.path == current}
                   for item in items]
        org = principal.organisation if principal else None
        org_name = None
        if org is not None:
            org_name = org.name_ja if locale == "ja" and org.name_ja else org.name
        return {
            "request": request,
            "principal": principal,
            "user_name": (principal.user.display_name or principal.user.username) if principal else None,
            "organisation_name": org_name,
            "role_label": gettext(ROLE_LABELS[principal.role]) if principal else None,
            "csrf_token": getattr(session, "csrf_token", "") if principal else "",
            "nav": nav,
            "path": path,
            "here": here,
            "display_timezone": self.zone_caption(),
        }

    def zone_caption(self) -> str:
        """``JST (Asia/Tokyo)``: the display zone as people know it, and its IANA name."""
        name = self.settings.display_timezone
        abbreviation = self.clock.now().astimezone(zone(name)).tzname()
        return f"{abbreviation} ({name})" if abbreviation and abbreviation != name else name

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        principal: Principal | None = None,
        status: int = 200,
        locale: str | None = None,
    ) -> HTMLResponse:
        loc = locale or self.locale_of(request, principal)
        values = self.page_context(request, principal, loc)
        values.update(context or {})
        html = self.environment(loc).get_template(template).render(values)
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Language"] = loc
        return response

    def render_error(self, request: Request, status: int, title: str, detail: str) -> Response:
        """The HTML error page that ``mamori.api.problems`` shows for web paths."""
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):
            principal = None
        loc = self.locale_of(request, principal)
        gettext = translations(loc).gettext
        explanation = ERROR_EXPLANATIONS.get(status, ERROR_EXPLANATIONS[500] if status >= 500 else "")
        return self.render(
            request, "error.html",
            {"status": status, "title": gettext(title), "detail": detail,
             "explanation": gettext(explanation) if explanation else ""},
            principal=principal, status=status, locale=loc,
        )


def web_ui(request: Request) -> WebUi:
    ui = request.app.state.web_ui
    assert isinstance(ui, WebUi)
    return ui


__all__ = ["CONTENT_SECURITY_POLICY", "LOCALE_COOKIE", "STATIC_DIR", "TEMPLATE_DIR", "WebUi", "tlp_css",
           "tlp_label", "web_ui"]

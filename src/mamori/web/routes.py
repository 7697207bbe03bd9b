"""The web UI's routes and their installation into the application made by ``mamori.api.app.create_app``.

``install(app)`` adds the pages, serves ``/static``, registers the navigation entries of the intelligence
pages, and gives ``mamori.api.problems`` the HTML error page renderer (``app.state.render_error``).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from mamori.bootstrap import Context
from mamori.i18n import N_
from mamori.identity.model import Scope
from mamori.web import intel_pages, session_pages
from mamori.web.nav import NavItem, nav_registry
from mamori.web.rendering import STATIC_DIR, WebUi

router = APIRouter(include_in_schema=False)
router.include_router(session_pages.router)
router.include_router(intel_pages.router)

DEFAULT_NAV = (
    NavItem("/", N_("Dashboard"), None, order=10),
    NavItem("/intel", N_("Intelligence"), Scope.INTEL_READ, order=20),
    NavItem("/intel/lookup", N_("Lookup"), Scope.INTEL_READ, order=30),
)


def install(app: FastAPI) -> None:
    ctx: Context = app.state.ctx
    nav = nav_registry(app)
    for item in DEFAULT_NAV:
        nav.add(item)
    ui = WebUi(ctx.settings, nav, ctx.clock)
    app.state.web_ui = ui
    app.state.render_error = ui.render_error
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


__all__ = ["DEFAULT_NAV", "install", "router"]

"""The navigation registry that capabilities extend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.unit.web.conftest import log_in

from mamori.api.app import create_app
from mamori.bootstrap import Context
from mamori.errors import Conflict, InvalidInput
from mamori.identity.model import Organisation, OrgKind, Principal, Role, Scope, User
from mamori.web.nav import NavItem, NavRegistry, nav_registry


def principal(*scopes: Scope) -> Principal:
    return Principal(user=User(id="u", username="u", role=Role.PARTNER, organisation_id="o"),
                     organisation=Organisation(id="o", key="o", name="O", kind=OrgKind.PARTNER),
                     scopes=frozenset(scopes))


def test_entries_are_ordered_and_filtered_by_scope() -> None:
    registry = NavRegistry()
    registry.add(NavItem("/traffic", "Traffic", Scope.TRAFFIC_READ, order=40))
    registry.add(NavItem("/", "Dashboard", None, order=10))
    registry.add(NavItem("/intel", "Intelligence", Scope.INTEL_READ, order=20))
    assert [i.path for i in registry.items()] == ["/", "/intel", "/traffic"]
    assert [i.path for i in registry.for_viewer(principal(Scope.INTEL_READ))] == ["/", "/intel"]


def test_duplicate_and_off_site_entries_are_refused() -> None:
    registry = NavRegistry()
    registry.add(NavItem("/intel", "Intelligence"))
    with pytest.raises(Conflict):
        registry.add(NavItem("/intel", "Again"))
    with pytest.raises(InvalidInput) as caught:
        NavItem("https://elsewhere.example/", "Away")
    assert caught.value.where == "nav.path"


def test_explicit_translations_win_over_the_catalog() -> None:
    item = NavItem("/oversight", "Oversight", translations={"ja": "監督"})
    assert item.text("ja", lambda s: s) == "監督"
    assert item.text("en", lambda s: s) == "Oversight"


def test_a_capability_entry_appears_in_the_layout(ctx: Context, world: object) -> None:
    app = create_app(ctx)
    nav_registry(app).add(NavItem("/incidents", "Incidents", Scope.INTEL_READ, order=50,
                                  translations={"ja": "インシデント"}))
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "analyst")
        page = client.get("/").text
    assert '<a href="/incidents">インシデント</a>' in page
    assert '<a href="/" class="current" aria-current="page">ダッシュボード</a>' in page


def test_entries_needing_a_scope_are_hidden_from_viewers_without_it(
    logged_in: Callable[[str], TestClient], ctx: Context, app: object
) -> None:
    nav_registry(app).add(NavItem("/traffic", "Traffic", Scope.TRAFFIC_WRITE, translations={"ja": "通信"}))
    assert 'href="/traffic"' in logged_in("analyst").get("/").text
    assert 'href="/traffic"' not in logged_in("partner").get("/").text

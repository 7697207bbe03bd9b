"""The web UI in a real browser: log in, search, open an object and its relationship graph, switch language,
and a partner who sees only what its sharing agreement allows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.unit.web.web_seed import ACTOR, INDICATOR, MALWARE, PASSWORD, World

pytestmark = pytest.mark.browser
SCREENSHOT = "/tmp/mamori-object.png"


@pytest.fixture
def page(browser: Any, world: World, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def log_in(page: Any, username: str) -> None:
    page.goto("/")
    assert "/login" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(re.compile(r".*/$"))


def test_analyst_searches_opens_an_object_sees_its_graph_and_switches_language(page: Any) -> None:
    log_in(page, "analyst")
    assert page.locator("h1").first.inner_text() == "ダッシュボード"
    assert page.locator("[data-testid=who]").inner_text().startswith("Aoi Analyst")

    page.click("nav.mainnav >> text=脅威インテリジェンス")
    page.fill("#q", "lantern")
    page.click("form[role=search] button[type=submit]")
    rows = page.locator("[data-testid=results] tbody tr")
    ids = {rows.nth(i).get_attribute("data-id") for i in range(rows.count())}
    assert {INDICATOR, ACTOR, MALWARE} <= ids

    page.click(f"[data-testid=results] tr[data-id='{INDICATOR}'] a.object-link")
    page.wait_for_url(re.compile(r".*/intel/objects/indicator--.*"))
    assert page.locator("[data-testid=object-name]").inner_text() == "Lantern C2 address"
    page.select_option("#depth", "2")
    page.click("form.inline-form button")
    page.wait_for_url(re.compile(r".*depth=2.*"))
    svg = page.locator("[data-testid=graph] svg.graph")
    assert svg.is_visible()
    node_ids = set(svg.locator("a.node").evaluate_all("els => els.map(e => e.dataset.id)"))
    assert {INDICATOR, ACTOR, MALWARE} <= node_ids
    assert svg.locator("g.edge").count() >= 3
    assert page.locator("[data-testid=versions] li").count() == 2
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.click("form.lang-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="Relationship graph").count() == 1
    assert "/intel/objects/" in page.url  # the switch returns to the same page
    assert re.search(r"Oct 15, 2026, 3:30:00\s?PM JST", page.locator("[data-testid=versions]").inner_text())

    page.click("form.lang-switch button[value=ja]")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="関係グラフ").count() == 1
    assert "2026/10/15 15:30:00 JST" in page.locator("[data-testid=versions]").inner_text()

    # a graph node is a link to that object's page
    svg = page.locator("[data-testid=graph] svg.graph")
    svg.locator(f"a.node[data-id='{ACTOR}']").locator("circle, polygon, rect").first.click()
    page.wait_for_url(re.compile(r".*/intel/objects/threat-actor--.*"))
    assert page.locator("[data-testid=object-name]").inner_text() == "Mirror Lantern"


def test_partner_sees_only_what_its_agreement_allows(page: Any, live_server: LiveServer) -> None:
    log_in(page, "partner")
    assert page.locator("h1").first.inner_text() == "Dashboard"  # the partner's own language is English
    total = int(page.locator("[data-testid=total]").inner_text().replace(",", ""))
    assert total == 5  # producer, actor, two GREEN indicators, one GREEN relationship; no AMBER or RED
    assert "TLP:AMBER" not in page.locator("main").inner_text()

    page.goto("/intel?q=lantern")
    results = page.locator("[data-testid=results]").inner_text()
    assert "Mirror Lantern" in results
    assert "LanternLoader" not in results

    response = page.goto(f"/intel/objects/{MALWARE}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert "LanternLoader" not in page.content()

    page.goto(f"/intel/objects/{INDICATOR}?depth=3")
    node_ids = set(page.locator("svg.graph a.node").evaluate_all("els => els.map(e => e.dataset.id)"))
    assert INDICATOR in node_ids and ACTOR in node_ids
    assert MALWARE not in node_ids


def test_login_page_reports_a_wrong_password(page: Any) -> None:
    page.goto("/login")
    page.fill("#username", "analyst")
    page.fill("#password", "not the password at all")
    page.click("button[type=submit].button-primary")
    assert page.locator("[data-testid=login-error]").inner_text() == "ユーザー名またはパスワードが正しくありません。"
    assert "/login" in page.url

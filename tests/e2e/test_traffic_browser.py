"""The active-defence pages in a real browser: an analyst reads findings with their evidence and proposes a
measure; an operator sees only its own organisation's early warnings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.integration.traffic.test_traffic_api import BEACON, SCAN
from tests.unit.traffic.test_findings_store import DAY1, create_tables

from mamori.bootstrap import Context
from mamori.traffic.findings_store import SqlFindingStore, finding_id
from mamori.traffic.service import traffic_service

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(ctx: Context) -> Context:
    ft = create_tables(ctx)
    with ctx.db.begin() as conn:
        SqlFindingStore(conn, ft).save([BEACON, SCAN], engine="duckdb", now=DAY1)
    ctx.identity.create_organisation("power-co", "Power Co", "operator", name_ja="電力株式会社")
    ctx.identity.create_organisation("water-co", "Water Co", "operator")
    svc = traffic_service(ctx)
    svc.add_constituency("power-co", prefixes=["203.0.113.0/24"], added_by="setup")
    svc.add_constituency("water-co", prefixes=["198.18.0.0/24"], added_by="setup")
    ctx.identity.create_user("flow-analyst", "analyst", password=PASSWORD, display_name="Hana Flow")
    ctx.identity.create_user("power-op", "operator", password=PASSWORD, organisation="power-co")
    return ctx


@pytest.fixture
def page(browser: Any, world: Context, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(re.compile(r".*/$"))


def test_analyst_sees_findings_with_evidence_and_proposes_a_measure(page: Any) -> None:
    log_in(page, "flow-analyst")
    page.click("nav.mainnav >> text=検知結果")
    page.wait_for_url(re.compile(r".*/traffic/findings$"))
    rows = page.locator("[data-testid=findings] tbody tr")
    assert {rows.nth(i).get_attribute("data-id") for i in range(rows.count())} == {finding_id(BEACON),
                                                                                   finding_id(SCAN)}
    page.select_option("#kind", "beacon")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(re.compile(r".*kind=beacon.*"))
    assert page.locator("[data-testid=findings] tbody tr").count() == 1

    page.click(f"[data-testid=findings] tr[data-id='{finding_id(BEACON)}'] a.object-link")
    page.wait_for_url(re.compile(rf".*/traffic/findings/{finding_id(BEACON)}$"))
    assert "203.0.113.5" in page.locator("[data-testid=finding-title]").inner_text()
    evidence = page.locator("[data-testid=evidence] tbody tr")
    assert evidence.count() == 2 and "198.51.100.7" in evidence.first.inner_text()
    thresholds = page.locator("[data-testid=thresholds]").inner_text().lower()
    assert "min_connections" in thresholds and "✔" in thresholds
    assert "timestamp" in page.locator("[data-testid=sub-scores]").inner_text().lower()

    page.select_option("[data-testid=propose-form] #kind", "sinkhole")
    page.fill("[data-testid=propose-form] #reason", "command server of a beacon")
    page.click("[data-testid=propose-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*proposed=.*"))
    assert page.locator("[data-testid=proposed]").is_visible()
    measures = page.locator("[data-testid=measures] tbody tr")
    assert measures.count() == 1 and "sinkhole" in measures.first.inner_text()
    assert "proposed" in measures.first.inner_text()


def test_operator_sees_only_its_own_early_warnings(page: Any) -> None:
    log_in(page, "power-op")
    assert page.locator("nav.mainnav >> text=検知結果").count() == 0
    page.click("nav.mainnav >> text=早期警戒")
    page.wait_for_url(re.compile(r".*/traffic/early-warning$"))
    assert page.locator("#organisation").count() == 0
    report = page.locator("[data-testid=report]")
    assert report.get_attribute("data-organisation") == "power-co"
    text = page.locator("[data-testid=report-rows]").inner_text()
    assert "203.0.113.5" in text and "198.18.0.9" not in text

    page.goto("/traffic/early-warning?organisation=water-co")
    assert page.locator("[data-testid=report]").get_attribute("data-organisation") == "power-co"
    assert "198.18.0.9" not in page.locator("[data-testid=report-rows]").inner_text()

    csv_href = page.locator("[data-testid=csv-link]").get_attribute("href")
    csv = page.request.get(csv_href)
    assert csv.ok and "203.0.113.5" in csv.text() and "198.18.0.9" not in csv.text()
    assert page.request.get("/traffic/early-warning.csv?organisation=water-co").text().count("198.18.0.9") == 0
    assert page.request.get("/api/v1/traffic/early-warning/water-co").status == 404
    assert page.goto("/traffic/findings").status == 403

"""Intelligence pages for each role: what each viewer sees, counts, search, object page, lookup, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.unit.web.web_seed import ACTOR, EXPIRED, INDICATOR, MALWARE, PRODUCER, REPORT, V1

from mamori.bootstrap import Context
from mamori.intel.tlp import Tlp

ROLES = ["analyst", "admin", "commissioner", "operator", "partner"]
Login = Callable[[str], TestClient]


PAGES = ["/", "/intel", "/intel?q=lantern", f"/intel/objects/{INDICATOR}", f"/intel/objects/{INDICATOR}?depth=3",
         "/intel/lookup", "/intel/lookup?value=198.51.100.7"]


@pytest.mark.parametrize("username", ROLES)
def test_every_page_opens_for_every_role(logged_in: Login, username: str) -> None:
    client = logged_in(username)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"


def test_layout_shows_user_organisation_role_and_navigation(logged_in: Login) -> None:
    page = logged_in("operator").get("/intel/lookup").text
    assert "東部送電" in page  # the organisation's Japanese name in Japanese
    assert "事業者" in page  # role
    assert '<a href="/intel/lookup" class="current" aria-current="page">照会</a>' in page
    assert '<a href="/intel">脅威インテリジェンス</a>' in page
    assert 'action="/logout"' in page


def test_partner_does_not_see_or_count_objects_above_its_agreement(logged_in: Login) -> None:
    client = logged_in("partner")
    dashboard = client.get("/").text
    assert 'data-testid="total">5<' in dashboard
    assert "LanternLoader" not in dashboard and "Operation Paper Lantern" not in dashboard
    assert "TLP:AMBER" not in dashboard and "TLP:RED" not in dashboard
    results = client.get("/intel?q=lantern").text
    assert "Mirror Lantern" in results
    assert MALWARE not in results and REPORT not in results
    assert "1–2 of 2" in results  # the actor and the indicator


@pytest.mark.parametrize("hidden", [MALWARE, REPORT, "malware--00000000-0000-4000-8000-000000000000"])
def test_partner_gets_the_same_not_found_page_for_hidden_and_missing_objects(logged_in: Login, hidden: str) -> None:
    response = logged_in("partner").get(f"/intel/objects/{hidden}")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "LanternLoader" not in response.text
    assert f"no object &#39;{hidden}&#39;" in response.text


def test_partner_graph_leaves_out_hidden_neighbours(logged_in: Login) -> None:
    page = logged_in("partner").get(f"/intel/objects/{INDICATOR}?depth=3").text
    assert f'data-id="{ACTOR}"' in page
    assert MALWARE not in page and REPORT not in page


def test_operator_sees_amber_but_not_red(logged_in: Login) -> None:
    client = logged_in("operator")
    assert client.get(f"/intel/objects/{MALWARE}").status_code == 200
    assert client.get(f"/intel/objects/{REPORT}").status_code == 404
    assert 'data-testid="total">8<' in client.get("/").text  # everything but the RED report


def test_analyst_sees_everything_counted_by_type_and_tlp(logged_in: Login) -> None:
    page = logged_in("analyst").get("/").text
    assert 'data-testid="total">9<' in page
    counts = page.split('data-testid="counts"')[1].split("</table>")[0]
    assert counts.index("relationship") < counts.index("malware")  # largest count first
    assert '<a href="/intel?tlp=TLP%3ARED"><span class="tlp tlp-red">TLP:RED</span></a> <span class="count">1<' \
        in page


def test_dashboard_counts_by_type(logged_in: Login) -> None:
    page = logged_in("analyst").get("/").text
    table = page.split('data-testid="counts"')[1].split("</table>")[0]
    expected = {"relationship": 3, "indicator": 2, "identity": 1, "malware": 1, "report": 1, "threat-actor": 1}
    for stix_type, count in expected.items():
        assert f'type-{stix_type}">{stix_type}</span></a></td><td class="num">{count}</td>' in table


def test_search_filters_by_type_tlp_label_and_text(logged_in: Login) -> None:
    client = logged_in("analyst")

    def ids(query: str) -> set[str]:
        text = client.get("/intel?" + query).text
        return {part.split('"')[0] for part in text.split('<tr data-id="')[1:]}

    assert ids("type=indicator") == {INDICATOR, EXPIRED}
    assert ids("tlp=TLP:AMBER") == {MALWARE, "relationship--bb22cc33-dd44-4e55-9f66-001122334455",
                                    "relationship--cc33dd44-ee55-4f66-a077-112233445566"}
    assert ids("tlp=amber&tlp=red&type=report") == {REPORT}
    assert ids("label=apt") == {ACTOR}
    assert ids("q=loader") == {MALWARE}
    assert ids("q=nothing-like-this") == set()


def test_search_by_date_added_uses_japanese_calendar_days(logged_in: Login) -> None:
    client = logged_in("analyst")
    # Everything was added at T0 = 2026-11-01 03:00 UTC = 2026-11-01 12:00 JST.
    assert "9 件中 1–9 件" in client.get("/intel?added_since=2026-11-01&added_until=2026-11-01").text
    assert "該当するオブジェクトはありません。" in client.get("/intel?added_since=2026-11-02").text
    assert "該当するオブジェクトはありません。" in client.get("/intel?added_until=2026-10-31").text


@pytest.mark.parametrize(("query", "field", "message"), [
    ("added_since=2026-13-01", "added_since", "is not a date"),
    ("added_until=yesterday", "added_until", "is not a date"),
    ("tlp=purple", "tlp", "unknown TLP level"),
    ("type=Not%20A%20Type", "type", "is not a STIX type name"),
    ("page=0", "page", "positive whole number"),
    ("cursor=%25%25%25", "cursor", "bad page cursor"),
])
def test_bad_search_input_is_named_and_the_form_kept(logged_in: Login, query: str, field: str, message: str) -> None:
    response = logged_in("analyst").get("/intel?" + query)
    assert response.status_code == 400
    error = response.text.split('data-testid="search-error"')[1].split("</div>")[0]
    assert f"<code>{field}</code>" in error
    assert message in error
    assert 'name="q"' in response.text


def test_search_pages_through_results_with_the_store_cursor(logged_in: Login, ctx: Context) -> None:
    extra = [
        {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{i:012d}",
         "created": V1, "modified": V1, "name": f"Bulk indicator {i:02d}", "pattern_type": "stix",
         "pattern": f"[ipv4-addr:value = '203.0.113.{i}']", "valid_from": V1,
         "object_marking_refs": [Tlp.GREEN.marking_id]}
        for i in range(1, 31)
    ]
    assert ctx.intel.ingest(extra).added == 30
    client = logged_in("analyst")
    first = client.get("/intel?type=indicator").text
    assert "32 件中 1–25 件" in first
    next_href = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "cursor=" in next_href and "page=2" in next_href and "type=indicator" in next_href
    second = client.get(next_href).text
    assert "32 件中 26–32 件" in second
    assert 'rel="next"' not in second
    first_ids = {p.split('"')[0] for p in first.split('<tr data-id="')[1:]}
    second_ids = {p.split('"')[0] for p in second.split('<tr data-id="')[1:]}
    assert len(first_ids) == 25 and len(second_ids) == 7 and not first_ids & second_ids


def test_object_page_shows_summary_state_versions_raw_json_and_graph(logged_in: Login) -> None:
    page = logged_in("analyst").get(f"/intel/objects/{EXPIRED}").text
    assert '<span class="state state-revoked">失効</span>' in page
    assert '<span class="state state-expired">期限切れ</span>' in page
    assert "2026/10/20 9:00:00 JST" in page  # valid_until 2026-10-20T00:00Z in JST
    versions = page.split('data-testid="versions"')[1].split("</ol>")[0]
    assert "version=2026-10-15T06%3A30%3A00.000000Z" in versions
    assert "version=2026-10-01T00%3A00%3A00.000000Z" in versions
    assert "&#34;revoked&#34;: true" in page  # the raw JSON, escaped into the page
    assert f'href="/intel/objects/{PRODUCER.replace("--", "--")}"' in page  # created_by_ref links


def test_earlier_version_is_marked_and_links_to_the_current_one(logged_in: Login) -> None:
    page = logged_in("analyst").get(f"/intel/objects/{INDICATOR}?version=2026-10-01T00:00:00.000Z").text
    assert "Lantern C2 address (draft)" in page
    assert "過去の版" in page
    assert f'<a href="/intel/objects/{INDICATOR}">最新版を表示</a>' in page


def test_object_page_graph_has_nodes_edges_and_depth_choice(logged_in: Login) -> None:
    page = logged_in("analyst").get(f"/intel/objects/{ACTOR}?depth=2").text
    svg = page.split('data-testid="graph">')[1].split("</svg>")[0]
    for sid in (ACTOR, INDICATOR, MALWARE, REPORT):
        assert f'data-id="{sid}"' in svg
    assert 'data-type="uses"' in svg and 'data-type="indicates"' in svg and 'data-type="object-ref"' in svg
    assert '<option value="2" selected>2 ホップ</option>' in page


def test_bad_depth_and_bad_version_are_refused_clearly(logged_in: Login) -> None:
    client = logged_in("analyst")
    response = client.get(f"/intel/objects/{INDICATOR}?depth=9")
    assert response.status_code == 422
    assert "depth" in response.text
    response = client.get(f"/intel/objects/{INDICATOR}?version=last-tuesday")
    assert response.status_code == 400
    assert "not an RFC 3339 timestamp" in response.text


def test_lookup_finds_current_indicators_and_explains_bad_values(logged_in: Login) -> None:
    client = logged_in("partner")
    hits = client.get("/intel/lookup?value=198.51.100.7").text
    assert f'href="/intel/objects/{INDICATOR}"' in hits
    none = client.get("/intel/lookup?value=192.0.2.1").text
    assert 'data-testid="no-hits"' in none
    bad = client.get("/intel/lookup?value=%3F%3F%3F")
    assert bad.status_code == 400
    assert "<code>value</code>" in bad.text


def test_times_are_shown_in_jst_for_the_users_locale(logged_in: Login) -> None:
    japanese = logged_in("analyst").get(f"/intel/objects/{ACTOR}").text
    assert "2026/11/01 12:00:00 JST" in japanese  # added at 2026-11-01T03:00Z
    english = logged_in("english").get(f"/intel/objects/{ACTOR}").text
    assert "Nov 1, 2026, 12:00:00\u202fPM JST" in english or "Nov 1, 2026, 12:00:00 PM JST" in english
    assert "JST (Asia/Tokyo)" in english


def test_unknown_path_gets_an_html_not_found_page(anonymous: TestClient) -> None:
    response = anonymous.get("/no/such/page", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.text


def test_api_paths_keep_problem_json(anonymous: TestClient) -> None:
    response = anonymous.get("/api/v1/intel/objects")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_static_stylesheet_is_served(anonymous: TestClient) -> None:
    response = anonymous.get("/static/mamori.css")
    assert response.status_code == 200
    assert ".topbar" in response.text



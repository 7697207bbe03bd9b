"""The traffic JSON API: findings for national staff, measures, constituencies, early warning per operator,
and bad input refused with a clear reason and nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.integration.traffic.test_traffic_cli import zeek_conn_log
from tests.stixgen import indicator
from tests.unit.traffic.test_findings_store import DAY1, create_tables, make_finding

from mamori.api.app import create_app
from mamori.bootstrap import Context
from mamori.traffic.detect.model import FindingKind
from mamori.traffic.findings_store import SqlFindingStore, finding_id

API = "/api/v1/traffic"
BEACON = make_finding(src="203.0.113.5", dst="198.51.100.7")
SCAN = make_finding(FindingKind.VERTICAL_SCAN, src="192.0.2.66", dst="198.18.0.9", score=0.75,
                    first=DAY1 + timedelta(hours=3))


def _token(ctx: Context, username: str, role: str, org: str | None = None) -> dict[str, str]:
    ctx.identity.create_user(username, role, password="correct horse battery", organisation=org)
    return {"Authorization": f"Bearer {ctx.identity.issue_token(username).secret}"}


@pytest.fixture
def client(ctx: Context) -> TestClient:
    ft = create_tables(ctx)
    with ctx.db.begin() as conn:
        SqlFindingStore(conn, ft).save([BEACON, SCAN], engine="duckdb", now=DAY1)
    ctx.identity.create_organisation("power-co", "Power Co", "operator")
    ctx.identity.create_organisation("water-co", "Water Co", "operator")
    return TestClient(create_app(ctx))


@pytest.fixture
def analyst(ctx: Context, client: TestClient) -> dict[str, str]:
    return _token(ctx, "ana", "analyst")


@pytest.fixture
def operator(ctx: Context, client: TestClient) -> dict[str, str]:
    return _token(ctx, "op", "operator", "power-co")


def test_analyst_lists_filters_and_opens_a_finding_with_its_evidence(client: TestClient,
                                                                     analyst: dict[str, str]) -> None:
    page = client.get(f"{API}/findings", headers=analyst).json()
    assert page["total"] == 2 and page["items"][0]["kind"] == "beacon"
    only = client.get(f"{API}/findings", params={"kind": "vertical_scan"}, headers=analyst).json()
    assert [f["kind"] for f in only["items"]] == ["vertical_scan"]
    assert client.get(f"{API}/findings", params={"min_severity": "critical"}, headers=analyst).json()["total"] == 1
    assert client.get(f"{API}/findings", params={"since": "2026-11-02"}, headers=analyst).json()["total"] == 0
    detail = client.get(f"{API}/findings/{finding_id(BEACON)}", headers=analyst).json()
    assert detail["source"]["address"] == "203.0.113.5" and detail["destination"]["address"] == "198.51.100.7"
    assert detail["fired"] == ["min_connections", "min_score"]
    assert detail["thresholds"] == {"min_connections": 24.0, "min_score": 0.5}
    assert [e["note"] for e in detail["evidence"]] == ["first", "last"]
    assert detail["sub_scores"]["timestamp"] == 0.95


def test_bad_filters_and_unknown_finding_are_clear_errors(client: TestClient, analyst: dict[str, str]) -> None:
    r = client.get(f"{API}/findings", params={"kind": "beacons"}, headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "kind" and "beacons" in r.json()["detail"]
    r = client.get(f"{API}/findings", params={"since": "last week"}, headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "since"
    r = client.get(f"{API}/findings/nope", headers=analyst)
    assert r.status_code == 404 and "no finding 'nope'" in r.json()["detail"]


def test_operators_do_not_see_findings(client: TestClient, operator: dict[str, str]) -> None:
    assert client.get(f"{API}/findings", headers=operator).status_code == 403
    assert client.get(f"{API}/findings/{finding_id(BEACON)}", headers=operator).status_code == 403
    assert client.get(f"{API}/findings").status_code == 401


def test_proposing_a_measure_records_it_as_proposed(client: TestClient, analyst: dict[str, str],
                                                     operator: dict[str, str]) -> None:
    fid = finding_id(BEACON)
    r = client.post(f"{API}/findings/{fid}/measures", json={"kind": "block", "reason": "C2"}, headers=analyst)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["state"], m["kind"], m["target"], m["proposed_by"]) == ("proposed", "block", "198.51.100.7", "ana")
    assert m["evidence_package"]["finding"]["id"] == fid and len(m["evidence_sha256"]) == 64
    assert [x["id"] for x in client.get(f"{API}/findings/{fid}", headers=analyst).json()["measures"]] == [m["id"]]
    assert client.post(f"{API}/findings/{fid}/measures", json={"kind": "block"}, headers=operator).status_code == 403


def test_bad_measure_requests_store_nothing(client: TestClient, analyst: dict[str, str]) -> None:
    fid = finding_id(BEACON)
    r = client.post(f"{API}/findings/{fid}/measures", json={"kind": "nuke"}, headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "kind"
    r = client.post(f"{API}/findings/unknown/measures", json={"kind": "block"}, headers=analyst)
    assert r.status_code == 404 and r.json()["where"] == "finding_id"
    r = client.post(f"{API}/findings/{fid}/measures", json={"kind": "block", "extra": 1}, headers=analyst)
    assert r.status_code == 422
    assert client.get(f"{API}/measures", headers=analyst).json() == []


def test_constituency_bad_cidr_or_unknown_organisation_stores_nothing(client: TestClient,
                                                                      analyst: dict[str, str]) -> None:
    r = client.post(f"{API}/constituencies/power-co", json={"prefixes": ["203.0.113.0/24", "203.0.113.0/33"]},
                    headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "prefix[1]" and "203.0.113.0/33" in r.json()["detail"]
    assert client.get(f"{API}/constituencies/power-co", headers=analyst).json()["entries"] == []
    r = client.post(f"{API}/constituencies/ghost-co", json={"prefixes": ["203.0.113.0/24"]}, headers=analyst)
    assert r.status_code == 404 and "ghost-co" in r.json()["detail"]
    r = client.post(f"{API}/constituencies/power-co", json={"asns": ["AS-x"]}, headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "asn[0]"
    r = client.post(f"{API}/constituencies/power-co", json={"prefixes": ["203.0.113.0/24"], "asns": [64500]},
                    headers=analyst)
    assert r.status_code == 201
    assert {(e["kind"], e["value"]) for e in r.json()["entries"]} == {("prefix", "203.0.113.0/24"),
                                                                       ("asn", "64500")}


def test_operator_reads_only_its_own_early_warning(client: TestClient, ctx: Context, analyst: dict[str, str],
                                                   operator: dict[str, str]) -> None:
    client.post(f"{API}/constituencies/power-co", json={"prefixes": ["203.0.113.0/24"]}, headers=analyst)
    client.post(f"{API}/constituencies/water-co", json={"prefixes": ["198.18.0.0/24"]}, headers=analyst)
    own = client.get(f"{API}/early-warning/power-co", params={"day": "2026-11-01"}, headers=operator)
    assert own.status_code == 200
    assert [(r["tag"], r["ip"], r["dst_ip"]) for r in own.json()["rows"]] == [
        ("infected-host", "203.0.113.5", "198.51.100.7")]
    power = ctx.identity.organisation("power-co")
    assert client.get(f"{API}/early-warning/{power.id}", params={"day": "2026-11-01"},
                      headers=operator).status_code == 200
    for other in ("water-co", ctx.identity.organisation("water-co").id, "ghost-co"):
        r = client.get(f"{API}/early-warning/{other}", params={"day": "2026-11-01"}, headers=operator)
        assert r.status_code == 404, other
        assert client.get(f"{API}/early-warning/{other}/csv", headers=operator).status_code == 404
    assert client.get(f"{API}/constituencies/water-co", headers=operator).status_code == 404
    csv_text = client.get(f"{API}/early-warning/power-co/csv", params={"day": "2026-11-01"}, headers=operator)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.splitlines()[0].startswith("timestamp,ip,port,protocol,asn,hostname,tag,severity")
    assert "2026-11-01-mamori-early-warning-power-co.csv" in csv_text.headers["content-disposition"]
    # national staff read any operator's report
    water = client.get(f"{API}/early-warning/water-co", params={"day": "2026-11-01"}, headers=analyst).json()
    assert [(r["tag"], r["ip"], r["src_ip"]) for r in water["rows"]] == [
        ("exposed-service", "198.18.0.9", "192.0.2.66")]
    r = client.get(f"{API}/early-warning/power-co", params={"day": "01/11/2026"}, headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "day"


def test_operator_registers_its_own_constituency_only(client: TestClient, operator: dict[str, str]) -> None:
    r = client.post(f"{API}/constituencies/power-co", json={"domains": ["power.example"]}, headers=operator)
    assert r.status_code == 201 and r.json()["entries"][0]["value"] == "power.example"
    r = client.post(f"{API}/constituencies/water-co", json={"domains": ["water.example"]}, headers=operator)
    assert r.status_code == 404


def test_partners_get_no_early_warning(client: TestClient, ctx: Context) -> None:
    ctx.identity.create_organisation("nato-cert", "NATO CERT", "partner")
    partner = _token(ctx, "liaison", "partner", "nato-cert")
    assert client.get(f"{API}/early-warning/power-co", headers=partner).status_code == 403


def test_upload_ingest_then_detect_finds_the_beacon(client: TestClient, ctx: Context, analyst: dict[str, str],
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    c2_indicator = indicator(1, "198.51.100.7")
    assert ctx.intel.ingest([c2_indicator]).added == 1
    log = zeek_conn_log(tmp_path_factory.mktemp("upload") / "conn.log")
    r = client.post(f"{API}/ingest", headers=analyst, data={"format": "zeek", "channel": "agreement",
                                                            "approval": "AGR-1", "sensor": "s1"},
                    files={"file": ("conn.log", log.read_bytes(), "text/plain")})
    assert r.status_code == 200, r.text
    assert r.json()["records_stored"] == 148
    r = client.post(f"{API}/detect", json={}, headers=analyst)
    assert r.status_code == 200, r.text
    assert r.json()["flows"] == 148 and r.json()["added"] > 0 and r.json()["stix_problems"] == []
    items = client.get(f"{API}/findings", headers=analyst).json()["items"]
    assert {"horizontal_scan", "beacon", "indicator_match"} <= {f["kind"] for f in items}
    match = next(f for f in items if f["kind"] == "indicator_match")
    assert (match["source"]["address"], match["destination"]["address"]) == ("203.0.113.5", "198.51.100.7")
    # written to the intelligence store: a sighting of the indicator, and the C2 server it indicates
    detail = client.get(f"{API}/findings/{match['id']}", headers=analyst).json()
    sighting_id = next(i for i in detail["stix_ids"] if i.startswith("sighting--"))
    sighting = client.get(f"/api/v1/intel/objects/{sighting_id}", headers=analyst).json()["object"]
    assert sighting["sighting_of_ref"] == c2_indicator["id"] and sighting["count"] == 48
    found = client.get("/api/v1/intel/objects", params={"type": "infrastructure"}, headers=analyst).json()
    assert "Command-and-control server 198.51.100.7" in {o["name"] for o in found["items"]}
    graph = client.get(f"/api/v1/intel/objects/{c2_indicator['id']}/graph", headers=analyst).json()
    assert any(e["type"] == "indicates" for e in graph["edges"])
    r = client.post(f"{API}/ingest", headers=analyst, data={"channel": "transit"},
                    files={"file": ("conn.log", log.read_bytes(), "text/plain")})
    assert r.status_code == 403 and r.json()["where"] == "approval_id"
    r = client.post(f"{API}/detect", json={"engine": "oracle"}, headers=analyst)
    assert r.status_code == 400 and r.json()["where"] == "engine"

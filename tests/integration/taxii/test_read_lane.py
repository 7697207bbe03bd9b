"""TAXII reads served past the general router (``ReadLane``) answer exactly as the routed application does,
successes and errors alike, and run on the event loop only when nothing can make them wait."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.stixgen import indicator, malware

from mamori.api.app import create_app
from mamori.api.routers.taxii import Reader, ReadLane, ReadRoute
from mamori.bootstrap import Context
from mamori.intel.taxii import TAXII_MEDIA_TYPE, taxii_service

TAXII = {"Accept": TAXII_MEDIA_TYPE}


def _without_lane(ctx: Context) -> FastAPI:
    app = create_app(ctx)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not ReadLane]
    return app


def _bearer(ctx: Context, username: str) -> dict[str, str]:
    return {**TAXII, "Authorization": f"Bearer {ctx.identity.issue_token(username).secret}"}


@pytest.fixture
def world(ctx: Context) -> dict[str, Any]:
    cid = ctx.intel.create_collection("exchange")["id"]
    hidden_cid = ctx.intel.create_collection("not shared")["id"]
    newer = {**indicator(1, "192.0.2.1"), "modified": "2026-10-02T00:00:00.000Z"}
    objs = [indicator(1, "192.0.2.1"), newer, indicator(2, "192.0.2.2"), malware(3, tlp="amber")]
    ctx.intel.ingest(objs, collections=[cid, hidden_cid])
    org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner")
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[cid])
    ctx.identity.create_user("liaison", "partner", organisation="allied-cert")
    ctx.identity.create_user("analyst", "analyst")
    ctx.identity.create_user("reader", "analyst")
    return {"cid": cid, "hidden": hidden_cid, "ind": objs[0]["id"], "mal": objs[3]["id"],
            "analyst": _bearer(ctx, "analyst"), "partner": _bearer(ctx, "liaison")}


def _requests(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    col = f"/taxii2/partners/collections/{w['cid']}/"
    hidden = f"/taxii2/partners/collections/{w['hidden']}/"
    a, p = w["analyst"], w["partner"]
    return [
        ("GET", col + "objects/", {}, a),
        ("GET", col + "objects/", {"limit": 1}, a),
        ("GET", col + "objects/", {"limit": 1, "match[version]": "all"}, p),
        ("GET", col + "objects/", {"match[type]": "malware"}, p),
        ("GET", col + "objects/", {"limit": 0}, a),
        ("GET", col + "objects/", {"next": "forged.cursor"}, a),
        ("GET", col + f"objects/{w['ind']}/", {}, a),
        ("GET", col + f"objects/{w['ind']}/", {"match[version]": "first"}, p),
        ("GET", col + f"objects/{w['mal']}/", {}, p),  # above the partner's TLP: as if absent
        ("GET", col + "objects/indicator--00000000-0000-4000-8000-000000000000/", {}, a),
        ("GET", col + f"objects/{w['ind']}/versions/", {}, a),
        ("GET", col + "manifest/", {"limit": 2}, p),
        ("GET", hidden + "objects/", {}, p),  # not in the partner's agreement: 404
        ("GET", "/taxii2/nowhere/collections/x/objects/", {}, a),
        ("GET", col + "objects/", {}, {}),  # no credentials: 401
        ("GET", col + "objects/", {}, {**a, "Accept": "text/html"}),  # 406
        ("HEAD", col + "objects/", {}, a),  # not a read route's method: 405 from the router
        ("PUT", col + f"objects/{w['ind']}/", {}, a),
    ]


def test_reads_answer_as_the_routed_application_does(ctx: Context, world: dict[str, Any]) -> None:
    lane, routed = TestClient(create_app(ctx)), TestClient(_without_lane(ctx))
    for method, path, params, headers in _requests(world):
        got = lane.request(method, path, params=params, headers=headers)
        want = routed.request(method, path, params=params, headers=headers)
        assert (got.status_code, got.content) == (want.status_code, want.content), (method, path, params)
        assert dict(got.headers) == dict(want.headers), (method, path, params)
        assert got.headers["content-type"] == TAXII_MEDIA_TYPE


def test_a_route_that_does_not_fit_the_read_handler_is_refused_at_startup() -> None:
    async def takes_a_query_parameter(request: Any, api_root: str, principal: Reader, limit: int = 1) -> Any:
        return None

    with pytest.raises(TypeError, match="does not fit ReadRoute"):
        ReadRoute("/taxii2/{api_root}/", takes_a_query_parameter)


def test_only_reads_that_cannot_wait_run_on_the_event_loop(ctx: Context, world: dict[str, Any]) -> None:
    taxii = taxii_service(ctx)
    analyst = ctx.identity.authenticate_token(world["analyst"]["Authorization"].removeprefix("Bearer "))
    partner = ctx.identity.authenticate_token(world["partner"]["Authorization"].removeprefix("Bearer "))
    inline, clearance = taxii.plan_read(analyst, None, one_object=True)
    assert inline and clearance is not None and not clearance.record_disclosures
    assert taxii.plan_read(analyst, 1, one_object=False)[0]
    assert taxii.plan_read(analyst, 1000, one_object=False) == (False, None)  # a large page: a worker thread
    inline, clearance = taxii.plan_read(partner, 1, one_object=False)
    assert not inline and clearance is not None and clearance.record_disclosures  # it writes disclosures


def test_reads_on_postgresql_always_run_in_a_worker_thread(any_ctx: Context) -> None:
    any_ctx.identity.create_user("analyst", "analyst")
    analyst = any_ctx.identity.authenticate_token(any_ctx.identity.issue_token("analyst").secret)
    inline, _clearance = taxii_service(any_ctx).plan_read(analyst, 1, one_object=True)
    assert inline is (any_ctx.db.dialect == "sqlite")

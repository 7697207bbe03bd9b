"""The OASIS ``taxii2-client`` library (taxii2client.v21) against a running mamori: discovery, collections,
paged objects, filters, manifest, versions, add objects with status polling, and delete."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from requests.auth import AuthBase
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from tests.conftest import LiveServer
from tests.stixgen import indicator, malware, relationship

from mamori.bootstrap import Context

PASSWORD = "correct horse battery"
TOTAL = 250


class Bearer(AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture
def world(ctx: Context, live_server: LiveServer) -> dict[str, Any]:
    """A collection of 250 objects (one with two versions, one AMBER+STRICT above the partner), a partner who may
    read and write it with a password, and an analyst with a bearer token."""
    cid = ctx.intel.create_collection("Partner exchange", description="shared with allies")["id"]
    org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner")
    ctx.intel.set_agreement(org.id, "TLP:AMBER", read=[cid], write=[cid])
    ctx.identity.create_user("liaison", "partner", password=PASSWORD, organisation="allied-cert")
    partner_token = ctx.identity.issue_token("liaison").secret
    ctx.identity.create_user("analyst", "analyst")
    token = ctx.identity.issue_token("analyst").secret
    objs: list[dict[str, Any]] = [indicator(n, f"198.51.100.{n % 250}", tlp="green") for n in range(1, 240)]
    mals = [malware(n, f"family {n}", tlp="amber") for n in range(240, 250)]
    rel = relationship(250, objs[0]["id"], mals[0]["id"], tlp="clear")
    secret = indicator(999, "203.0.113.9", tlp="amber+strict")
    v2 = indicator(1, "198.51.100.1", tlp="green", modified="2026-10-02T00:00:00.000Z")
    report = ctx.intel.ingest([*objs, *mals, rel, secret], collections=[cid])
    assert report.invalid == 0, report.problems
    assert ctx.intel.ingest([v2], collections=[cid]).added == 1
    return {"cid": cid, "url": f"{live_server.url}/taxii2/", "token": token, "partner_token": partner_token,
            "v2": v2, "secret": secret, "ids": {o["id"] for o in [*objs, *mals, rel]}}


def _status(error: requests.HTTPError) -> int:
    assert error.response is not None
    return error.response.status_code


def _partner_collection(world: dict[str, Any], *, password: bool = False) -> tuple[Server, ApiRoot, Collection]:
    """HTTP Basic as the partner: with the password, or (cheaper than Argon2 per request) with its API token."""
    server = Server(world["url"], user="liaison", password=PASSWORD if password else world["partner_token"])
    root = server.default
    assert root is not None
    (col,) = [c for c in root.collections if c.id == world["cid"]]
    return server, root, col


def test_discovery_and_collections(world: dict[str, Any]) -> None:
    server, root, col = _partner_collection(world, password=True)
    assert server.title == "mamori TAXII 2.1"
    assert [r.url for r in server.api_roots] == [world["url"] + "partners/"]
    assert root.versions == ["application/taxii+json;version=2.1"]
    assert root.max_content_length > 0
    assert col.title == "Partner exchange" and col.description == "shared with allies"
    assert col.can_read and col.can_write
    assert col.media_types == ["application/stix+json;version=2.1"]


def test_paginated_objects_cover_the_visible_collection_once(world: dict[str, Any]) -> None:
    _server, _root, col = _partner_collection(world)
    pages = list(as_pages(col.get_objects, per_request=100))
    assert [len(p.get("objects", [])) for p in pages] == [100, 100, 50]
    assert [p["more"] for p in pages] == [True, True, False]
    ids = [o["id"] for p in pages for o in p["objects"]]
    assert len(ids) == len(set(ids)) == TOTAL
    assert set(ids) == world["ids"], "the AMBER+STRICT object must not reach an AMBER partner"
    latest = next(o for p in pages for o in p["objects"] if o["id"] == world["v2"]["id"])
    assert latest["modified"] == world["v2"]["modified"]


def test_filters_by_type_id_and_version(world: dict[str, Any]) -> None:
    _server, _root, col = _partner_collection(world)
    malware_env = col.get_objects(type="malware")
    assert {o["type"] for o in malware_env["objects"]} == {"malware"} and len(malware_env["objects"]) == 10
    vid = world["v2"]["id"]
    assert [o["modified"] for o in col.get_objects(id=vid)["objects"]] == ["2026-10-02T00:00:00.000Z"]
    every = col.get_objects(id=vid, version="all")["objects"]
    assert sorted(o["modified"] for o in every) == ["2026-10-01T00:00:00.000Z", "2026-10-02T00:00:00.000Z"]
    assert [o["modified"] for o in col.get_objects(id=vid, version="first")["objects"]] == \
        ["2026-10-01T00:00:00.000Z"]
    exact = col.get_objects(id=vid, version="2026-10-01T00:00:00.000Z")["objects"]
    assert [o["modified"] for o in exact] == ["2026-10-01T00:00:00.000Z"]
    one = col.get_object(vid)
    assert [o["id"] for o in one["objects"]] == [vid]
    with pytest.raises(requests.HTTPError) as e:
        col.get_object(world["secret"]["id"])
    assert _status(e.value) == 404


def test_manifest_and_versions(world: dict[str, Any]) -> None:
    _server, _root, col = _partner_collection(world)
    pages = list(as_pages(col.get_manifest, per_request=100))
    entries = [m for p in pages for m in p["objects"]]
    assert {m["id"] for m in entries} == world["ids"]
    assert all(m["media_type"] == "application/stix+json;version=2.1" and m["date_added"] for m in entries)
    versions = col.object_versions(world["v2"]["id"])
    assert versions["versions"] == ["2026-10-01T00:00:00.000000Z", "2026-10-02T00:00:00.000000Z"]
    assert versions["more"] is False


def test_add_objects_with_status_polling(world: dict[str, Any]) -> None:
    _server, root, col = _partner_collection(world)
    new = indicator(5000, "192.0.2.200", tlp="green")
    new["id"] = f"indicator--{uuid.uuid4()}"
    bad = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}"}
    status = col.add_objects({"objects": [new, bad]}, wait_for_completion=True, poll_interval=0.1, timeout=10)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (2, 1, 1, 0)
    assert status.successes[0]["id"] == new["id"]
    assert status.failures[0]["id"] == bad["id"] and status.failures[0]["message"]
    again = root.get_status(status.id)
    assert again.status == "complete" and again.success_count == 1
    status.refresh()  # the URL the library builds itself, without the trailing slash
    assert status.failure_count == 1
    assert [o["id"] for o in col.get_objects(id=new["id"])["objects"]] == [new["id"]]
    with pytest.raises(requests.HTTPError) as e:
        col.get_object(bad["id"])
    assert _status(e.value) == 404


def test_delete_with_a_bearer_token_and_refused_to_partners(world: dict[str, Any]) -> None:
    _server, _root, partner_col = _partner_collection(world)
    target = world["v2"]["id"]
    with pytest.raises(requests.HTTPError) as e:
        partner_col.delete_object(target)
    assert _status(e.value) == 403
    staff = Server(world["url"], auth=Bearer(world["token"]))
    assert staff.default is not None
    (col,) = [c for c in staff.default.collections if c.id == world["cid"]]
    col.delete_object(target, version="2026-10-02T00:00:00.000Z")
    assert [o["modified"] for o in col.get_object(target)["objects"]] == ["2026-10-01T00:00:00.000Z"]
    col.delete_object(target)
    with pytest.raises(requests.HTTPError) as e:
        col.get_object(target)
    assert _status(e.value) == 404
    remaining = [o["id"] for p in as_pages(col.get_objects, per_request=100) for o in p["objects"]]
    assert target not in remaining and len(remaining) == TOTAL  # the AMBER+STRICT one is visible to staff

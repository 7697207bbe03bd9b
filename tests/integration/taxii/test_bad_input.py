"""Bad TAXII requests get a TAXII error message (section 3.6.1) with a clear description, and store nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.conftest import T0, make_settings
from tests.stixgen import indicator

from mamori.adapters.storage.schema import collection_entries, disclosures, stix_objects, taxii_status
from mamori.api.app import create_app
from mamori.bootstrap import Context, build_context
from mamori.intel.taxii import TAXII_MEDIA_TYPE
from mamori.kernel.clock import FixedClock

MAX_BODY = 4096
TAXII = {"Accept": TAXII_MEDIA_TYPE}
POST = {**TAXII, "Content-Type": TAXII_MEDIA_TYPE}


@pytest.fixture
def small_ctx(tmp_path: Path) -> Iterator[Context]:
    c = build_context(make_settings(tmp_path, taxii_max_content_length=MAX_BODY, taxii_default_page_size=2),
                      clock=FixedClock(T0))
    yield c
    c.close()


@pytest.fixture
def setup(small_ctx: Context) -> dict[str, Any]:
    ctx = small_ctx
    shared = ctx.intel.create_collection("shared")["id"]
    readonly = ctx.intel.create_collection("read only")["id"]
    secret = ctx.intel.create_collection("national only")["id"]
    org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner")
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[shared, readonly], write=[shared])
    ctx.identity.create_user("liaison", "partner", organisation="allied-cert")
    ctx.identity.create_user("other", "partner", organisation="allied-cert")
    ctx.identity.create_user("analyst", "analyst")
    objs = [indicator(n, f"192.0.2.{n}", tlp="green") for n in range(1, 6)]
    assert ctx.intel.ingest(objs, collections=[shared, readonly, secret]).added == 5
    return {
        "client": TestClient(create_app(ctx)), "ctx": ctx, "shared": shared, "readonly": readonly, "secret": secret,
        "partner": {"Authorization": f"Bearer {ctx.identity.issue_token('liaison').secret}"},
        "other": {"Authorization": f"Bearer {ctx.identity.issue_token('other').secret}"},
        "analyst": {"Authorization": f"Bearer {ctx.identity.issue_token('analyst').secret}"},
    }


def stored(ctx: Context) -> tuple[int, int, int, int]:
    with ctx.db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (stix_objects, collection_entries, taxii_status, disclosures)
        )


def assert_taxii_error(r: Any, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII_MEDIA_TYPE
    body: dict[str, Any] = r.json()
    assert body["http_status"] == str(status) and body["title"]
    for w in words:
        assert w in body["description"], body
    return body


def objects_url(s: dict[str, Any], collection: str = "shared", root: str = "partners") -> str:
    return f"/taxii2/{root}/collections/{s[collection]}/objects/"


def test_malformed_json_is_a_400_naming_the_position(setup: dict[str, Any]) -> None:
    before = stored(setup["ctx"])
    r = setup["client"].post(objects_url(setup), headers={**POST, **setup["partner"]},
                             content=b'{"objects": [\n {"type": "indicator",,}]}')
    body = assert_taxii_error(r, 400, "malformed JSON", "line 2")
    assert body["details"]["where"].startswith("body:2:")
    assert stored(setup["ctx"]) == before


@pytest.mark.parametrize(("payload", "words"), [
    (b"[]", ("JSON array",)),
    (b'{"type": "bundle", "id": "bundle--0", "objects": []}', ("bundle",)),
    (b'{"objects": "all of them"}', ("must be a list",)),
    (b"{}", ("no 'objects'",)),
])
def test_an_invalid_envelope_is_a_400(setup: dict[str, Any], payload: bytes, words: tuple[str, ...]) -> None:
    before = stored(setup["ctx"])
    r = setup["client"].post(objects_url(setup), headers={**POST, **setup["partner"]}, content=payload)
    assert_taxii_error(r, 400, *words)
    assert stored(setup["ctx"]) == before


def test_invalid_stix_objects_are_failures_and_only_valid_ones_are_stored(setup: dict[str, Any]) -> None:
    ctx, client = setup["ctx"], setup["client"]
    good = indicator(100, "198.51.100.100", tlp="green")
    no_pattern = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                  "created": "2026-10-01T00:00:00.000Z", "modified": "2026-10-01T00:00:00.000Z",
                  "pattern_type": "stix", "valid_from": "2026-10-01T00:00:00Z"}
    bad_id = dict(indicator(101, "198.51.100.101"), id="indicator--not-a-uuid")
    objects_before, entries_before, statuses_before, _ = stored(ctx)
    r = client.post(objects_url(setup), headers={**POST, **setup["partner"]},
                    content=json.dumps({"objects": [no_pattern, good, bad_id, "text"]}))
    assert r.status_code == 202 and r.headers["content-type"] == TAXII_MEDIA_TYPE
    status = r.json()
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (4, 1, 3)
    assert [s["id"] for s in status["successes"]] == [good["id"]]
    messages = {f["message"].split(":")[0] for f in status["failures"]}
    assert messages == {"objects[0]", "objects[2]", "objects[3]"}
    assert all(len(f["message"]) > len("objects[0]: ") for f in status["failures"])
    assert stored(ctx)[:3] == (objects_before + 1, entries_before + 1, statuses_before + 1)
    manifest = client.get(f"/taxii2/partners/collections/{setup['shared']}/manifest/?limit=100",
                          headers={**TAXII, **setup["analyst"]}).json()
    ids = {m["id"] for m in manifest["objects"]}
    assert good["id"] in ids and no_pattern["id"] not in ids and bad_id["id"] not in ids
    polled = client.get(f"/taxii2/partners/status/{status['id']}/", headers={**TAXII, **setup["partner"]})
    assert polled.status_code == 200 and polled.json() == status


def test_the_wrong_content_type_is_a_415(setup: dict[str, Any]) -> None:
    before = stored(setup["ctx"])
    body = json.dumps({"objects": [indicator(200, "198.51.100.200")]})
    for ctype in ("application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0"):
        r = setup["client"].post(objects_url(setup), headers={**setup["partner"], "Accept": TAXII_MEDIA_TYPE,
                                                              "Content-Type": ctype}, content=body)
        assert_taxii_error(r, 415, TAXII_MEDIA_TYPE)
    assert stored(setup["ctx"]) == before


def test_an_unacceptable_accept_header_is_a_406(setup: dict[str, Any]) -> None:
    before = stored(setup["ctx"])
    for accept in ("text/html", "application/taxii+json;version=2.0", "application/vnd.oasis.taxii+json"):
        r = setup["client"].get(objects_url(setup), headers={**setup["partner"], "Accept": accept})
        assert_taxii_error(r, 406, "Accept")
        r = setup["client"].post(objects_url(setup), headers={**setup["partner"], "Accept": accept,
                                                              "Content-Type": TAXII_MEDIA_TYPE},
                                 content=json.dumps({"objects": [indicator(201, "198.51.100.201")]}))
        assert_taxii_error(r, 406, "Accept")
    assert stored(setup["ctx"]) == before


def test_an_oversized_envelope_is_a_413(setup: dict[str, Any]) -> None:
    before = stored(setup["ctx"])
    many = {"objects": [indicator(300 + n, f"198.51.100.{n}") for n in range(20)]}
    body = json.dumps(many).encode()
    assert len(body) > MAX_BODY
    r = setup["client"].post(objects_url(setup), headers={**POST, **setup["partner"]}, content=body)
    assert_taxii_error(r, 413, str(MAX_BODY))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on the stream itself
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    r = setup["client"].post(objects_url(setup), headers={**POST, **setup["partner"]}, content=chunks())
    assert_taxii_error(r, 413, str(MAX_BODY))
    assert stored(setup["ctx"]) == before


def test_unknown_collection_and_unknown_api_root_are_404(setup: dict[str, Any]) -> None:
    client, before = setup["client"], stored(setup["ctx"])
    unknown = str(uuid.uuid4())
    for path in (f"/taxii2/partners/collections/{unknown}/", f"/taxii2/partners/collections/{unknown}/objects/",
                 f"/taxii2/partners/collections/{unknown}/manifest/"):
        assert_taxii_error(client.get(path, headers={**TAXII, **setup["partner"]}), 404, unknown)
    r = client.post(f"/taxii2/partners/collections/{unknown}/objects/", headers={**POST, **setup["partner"]},
                    content=json.dumps({"objects": [indicator(400, "198.51.100.40")]}))
    assert_taxii_error(r, 404, unknown)
    for path in ("/taxii2/nowhere/", "/taxii2/nowhere/collections/",
                 f"/taxii2/nowhere/collections/{setup['shared']}/objects/"):
        assert_taxii_error(client.get(path, headers={**TAXII, **setup["partner"]}), 404, "nowhere")
    assert stored(setup["ctx"]) == before


def test_a_collection_outside_the_agreement_is_invisible(setup: dict[str, Any]) -> None:
    client, before = setup["client"], stored(setup["ctx"])
    listed = client.get("/taxii2/partners/collections/", headers={**TAXII, **setup["partner"]}).json()
    assert setup["secret"] not in {c["id"] for c in listed["collections"]}
    hidden = client.get(f"/taxii2/partners/collections/{setup['secret']}/", headers={**TAXII, **setup["partner"]})
    missing = client.get(f"/taxii2/partners/collections/{uuid.uuid4()}/", headers={**TAXII, **setup["partner"]})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]
    assert stored(setup["ctx"]) == before


@pytest.mark.parametrize("auth", [
    None, "Bearer mamori_wrong", "Basic bGlhaXNvbjpub3BlIG5vcGUgbm9wZQ==", "Basic !!!", "Digest abc",
    "Basic YW5hbHlzdDp3cm9uZyBwYXNzd29yZCE=",
])
def test_missing_or_wrong_credentials_are_401_with_a_challenge(setup: dict[str, Any], auth: str | None) -> None:
    before = stored(setup["ctx"])
    headers = {**POST, **({"Authorization": auth} if auth else {})}
    for r in (setup["client"].get("/taxii2/", headers=headers),
              setup["client"].get(objects_url(setup), headers=headers),
              setup["client"].post(objects_url(setup), headers=headers,
                                   content=json.dumps({"objects": [indicator(500, "198.51.100.50")]}))):
        assert_taxii_error(r, 401)
        assert "Basic" in r.headers["WWW-Authenticate"] and "Bearer" in r.headers["WWW-Authenticate"]
    assert stored(setup["ctx"]) == before


def test_writing_without_the_agreement_allowing_it_is_403(setup: dict[str, Any]) -> None:
    before = stored(setup["ctx"])
    r = setup["client"].post(objects_url(setup, "readonly"), headers={**POST, **setup["partner"]},
                             content=json.dumps({"objects": [indicator(600, "198.51.100.60")]}))
    assert_taxii_error(r, 403, "agreement")
    r = setup["client"].delete(f"{objects_url(setup)}{indicator(1)['id']}/", headers={**TAXII, **setup["partner"]})
    assert_taxii_error(r, 403, "national staff")
    assert stored(setup["ctx"]) == before


def test_a_forged_or_modified_next_cursor_is_400(setup: dict[str, Any]) -> None:
    client = setup["client"]
    first = client.get(objects_url(setup), headers={**TAXII, **setup["partner"]})
    assert first.status_code == 200 and first.json()["more"] is True
    cursor = first.json()["next"]
    before = stored(setup["ctx"])
    body, _, mac = cursor.partition(".")
    tampered = [body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac,
                body + "." + mac[::-1], "eyJ2IjoxfQ.c2lnbmF0dXJl", "not a cursor"]
    for bad in tampered:
        r = client.get(objects_url(setup), params={"next": bad}, headers={**TAXII, **setup["partner"]})
        assert_taxii_error(r, 400, "'next' cursor")
    # A genuine cursor replayed by another user, on another endpoint, or with other filters.
    r = client.get(objects_url(setup), params={"next": cursor}, headers={**TAXII, **setup["other"]})
    assert_taxii_error(r, 400, "another user")
    r = client.get(objects_url(setup).replace("objects/", "manifest/"), params={"next": cursor},
                   headers={**TAXII, **setup["partner"]})
    assert_taxii_error(r, 400, "another endpoint")
    r = client.get(objects_url(setup), params={"next": cursor, "match[type]": "malware"},
                   headers={**TAXII, **setup["partner"]})
    assert_taxii_error(r, 400, "filters differ")
    assert stored(setup["ctx"]) == before
    ok = client.get(objects_url(setup), params={"next": cursor}, headers={**TAXII, **setup["partner"]})
    assert ok.status_code == 200 and ok.json()["objects"]


@pytest.mark.parametrize(("query", "where"), [
    ("limit=0", "limit"), ("limit=many", "limit"), ("added_after=last-week", "added_after"),
    ("match[version]=newest", "match[version]"),
])
def test_bad_query_parameters_are_400_naming_them(setup: dict[str, Any], query: str, where: str) -> None:
    r = setup["client"].get(f"{objects_url(setup)}?{query}", headers={**TAXII, **setup["partner"]})
    assert assert_taxii_error(r, 400)["details"]["where"] == where


def test_status_is_served_only_to_its_author_or_national_staff(setup: dict[str, Any]) -> None:
    client = setup["client"]
    r = client.post(objects_url(setup), headers={**POST, **setup["partner"]},
                    content=json.dumps({"objects": [indicator(700, "198.51.100.70")]}))
    sid = r.json()["id"]
    assert client.get(f"/taxii2/partners/status/{sid}/", headers={**TAXII, **setup["partner"]}).status_code == 200
    assert client.get(f"/taxii2/partners/status/{sid}/", headers={**TAXII, **setup["analyst"]}).status_code == 200
    assert_taxii_error(client.get(f"/taxii2/partners/status/{sid}/", headers={**TAXII, **setup["other"]}), 404)
    assert_taxii_error(client.get(f"/taxii2/partners/status/{uuid.uuid4()}/",
                                  headers={**TAXII, **setup["partner"]}), 404)

"""The JSON API: authentication, roles, TLP clearance and bad input."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.stixgen import indicator, malware, relationship

from mamori.api.app import create_app
from mamori.bootstrap import Context


@pytest.fixture
def client(ctx: Context) -> TestClient:
    return TestClient(create_app(ctx))


def _token(ctx: Context, username: str, role: str, org: str | None = None) -> dict[str, str]:
    ctx.identity.create_user(username, role, password="correct horse battery", organisation=org)
    return {"Authorization": f"Bearer {ctx.identity.issue_token(username).secret}"}


def _partner(ctx: Context, max_tlp: str) -> dict[str, str]:
    org = ctx.identity.create_organisation("nato-cert", "NATO CERT", "partner")
    col = ctx.intel.create_collection("exchange")
    ctx.intel.set_agreement(org.id, max_tlp, read=[col["id"]])
    return _token(ctx, "liaison", "partner", "nato-cert")


def test_every_api_route_needs_credentials(client: TestClient) -> None:
    for path in ("/api/v1/me", "/api/v1/intel/objects", "/api/v1/intel/lookup?value=1.2.3.4"):
        r = client.get(path)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "WWW-Authenticate" in r.headers


def test_wrong_and_revoked_tokens_are_refused(ctx: Context, client: TestClient) -> None:
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer mamori_nope"}).status_code == 401
    headers = _token(ctx, "alice", "analyst")
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "analyst"
    token_id = client.get("/api/v1/me/tokens", headers=headers).json()[0]["id"]
    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_basic_auth_with_password(ctx: Context, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx.identity.create_user("bob", "analyst", password="correct horse battery")
    checked_on_loop: list[bool] = []
    original = ctx.identity.authenticate_password

    def spy(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            checked_on_loop.append(True)
        except RuntimeError:
            checked_on_loop.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(ctx.identity, "authenticate_password", spy)
    assert client.get("/api/v1/me", auth=("bob", "correct horse battery")).status_code == 200
    assert client.get("/api/v1/me", auth=("bob", "wrong password!!")).status_code == 401
    # the password hash is checked in a worker thread, never on the event loop that serves other requests
    assert checked_on_loop == [False, False]


def test_partner_sees_only_its_clearance(ctx: Context, client: TestClient) -> None:
    ind, mal = indicator(1, tlp="green"), malware(2, tlp="amber")
    ctx.intel.ingest([ind, mal, relationship(3, ind["id"], mal["id"], tlp="green")])
    headers = _partner(ctx, "TLP:GREEN")
    r = client.get("/api/v1/intel/objects", headers=headers).json()
    assert r["total"] == 1 and [i["id"] for i in r["items"]] == [ind["id"]]
    assert client.get(f"/api/v1/intel/objects/{mal['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/intel/objects/{ind['id']}/graph", headers=headers).json()["edges"] == []


def test_partner_cannot_write_intelligence(ctx: Context, client: TestClient) -> None:
    headers = _partner(ctx, "TLP:AMBER")
    r = client.post("/api/v1/intel/bundles", headers=headers, json={"type": "bundle", "id": "bundle--x",
                                                                   "objects": [malware(9)]})
    assert r.status_code == 403
    assert ctx.intel.count() == 0


def test_bundle_upload_reports_invalid_objects_and_stores_valid_ones(ctx: Context, client: TestClient) -> None:
    headers = _token(ctx, "alice", "analyst")
    body = {"type": "bundle", "id": "bundle--6c2c2a4c-0b39-4b8e-b0ae-1d4b0a5f0a11",
            "objects": [malware(1), {"type": "malware", "id": "malware--bad"}]}
    r = client.post("/api/v1/intel/bundles", headers=headers, json=body)
    assert r.status_code == 200
    data = r.json()
    assert data["added"] == 1 and data["invalid"] == 1 and data["problems"][0]["index"] == 1


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2", "application/json", 400),
        (b"42", "application/json", 400),
        (json.dumps({"objects": [malware(1)]}).encode(), "text/plain", 415),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(ctx: Context, client: TestClient, content: bytes, ctype: str,
                                                   status: int) -> None:
    headers = _token(ctx, "alice", "analyst") | {"Content-Type": ctype}
    r = client.post("/api/v1/intel/bundles", headers=headers, content=content)
    assert r.status_code == status
    assert r.json()["detail"]
    assert ctx.intel.count() == 0


def test_oversized_upload_is_refused(ctx: Context, client: TestClient) -> None:
    ctx.settings.taxii_max_content_length = 1000
    headers = _token(ctx, "alice", "analyst")
    r = client.post("/api/v1/intel/bundles", headers=headers, json={"objects": [malware(i) for i in range(50)]})
    assert r.status_code == 413
    assert ctx.intel.count() == 0


def test_lookup_and_export(ctx: Context, client: TestClient) -> None:
    headers = _token(ctx, "alice", "analyst")
    ctx.intel.ingest([indicator(1, "evil.example", kind="domain-name")])
    hits = client.get("/api/v1/intel/lookup", params={"value": "www.evil.example"}, headers=headers).json()
    assert [h["value"] for h in hits] == ["evil.example"]
    assert client.get("/api/v1/intel/lookup", params={"value": "???"}, headers=headers).status_code == 400
    zeek = client.get("/api/v1/intel/export", params={"format": "zeek"}, headers=headers).text
    assert "evil.example\tIntel::DOMAIN" in zeek
    bundle = client.get("/api/v1/intel/export", headers=headers).json()
    assert bundle["type"] == "bundle"

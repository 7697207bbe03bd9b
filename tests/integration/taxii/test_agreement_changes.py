"""A partner's clearance follows its sharing agreement from one request to the next, however often it reads."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.stixgen import indicator

from mamori.api.app import create_app
from mamori.bootstrap import Context
from mamori.intel.taxii import TAXII_MEDIA_TYPE


def test_a_narrowed_or_widened_agreement_takes_effect_on_the_next_request(any_ctx: Context) -> None:
    ctx = any_ctx
    cid = ctx.intel.create_collection("exchange")["id"]
    other = ctx.intel.create_collection("other")["id"]
    green, amber = indicator(1, "192.0.2.1", tlp="green"), indicator(2, "192.0.2.2", tlp="amber")
    ctx.intel.ingest([green, amber], collections=[cid, other])
    org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner")
    ctx.intel.set_agreement(org.id, "TLP:AMBER", read=[cid])
    ctx.identity.create_user("liaison", "partner", organisation="allied-cert")
    client = TestClient(create_app(ctx))
    headers = {"Accept": TAXII_MEDIA_TYPE, "Authorization": f"Bearer {ctx.identity.issue_token('liaison').secret}"}

    def ids(collection: str) -> tuple[int, set[str]]:
        r = client.get(f"/taxii2/partners/collections/{collection}/objects/", headers=headers)
        return r.status_code, {o["id"] for o in r.json().get("objects", [])}

    for _ in range(3):
        assert ids(cid) == (200, {green["id"], amber["id"]})
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[cid])
    assert ids(cid) == (200, {green["id"]})
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[cid, other])
    assert ids(other) == (200, {green["id"]})
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[other])
    assert ids(cid)[0] == 404
    assert client.get(f"/taxii2/partners/collections/{cid}/objects/{green['id']}/", headers=headers).status_code == 404

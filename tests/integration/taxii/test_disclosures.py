"""Every object version served through TAXII to a partner or operator is recorded (who, what, when)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.stixgen import indicator, malware

from mamori.adapters.storage.schema import disclosures
from mamori.api.app import create_app
from mamori.bootstrap import Context
from mamori.intel.taxii import TAXII_MEDIA_TYPE


def _disclosed(ctx: Context) -> list[tuple[Any, ...]]:
    with ctx.db.connect() as conn:
        q = select(disclosures.c.user_id, disclosures.c.organisation_id, disclosures.c.channel,
                   disclosures.c.stix_id, disclosures.c.version, disclosures.c.at)
        return [tuple(r) for r in conn.execute(q.order_by(disclosures.c.seq))]


def test_each_page_served_to_a_partner_is_recorded_and_nothing_else(ctx: Context) -> None:
    cid = ctx.intel.create_collection("exchange")["id"]
    org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner")
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[cid])
    user = ctx.identity.create_user("liaison", "partner", organisation="allied-cert")
    ctx.identity.create_user("analyst", "analyst")
    shown = [indicator(n, f"192.0.2.{n}", tlp="green") for n in range(1, 6)]
    hidden = [malware(10, "hidden", tlp="amber")]
    ctx.intel.ingest([*shown, *hidden], collections=[cid])
    client = TestClient(create_app(ctx))
    partner = {"Accept": TAXII_MEDIA_TYPE, "Authorization": f"Bearer {ctx.identity.issue_token('liaison').secret}"}
    staff = {"Accept": TAXII_MEDIA_TYPE, "Authorization": f"Bearer {ctx.identity.issue_token('analyst').secret}"}
    base = f"/taxii2/partners/collections/{cid}/"

    first = client.get(base + "objects/", params={"limit": 3}, headers=partner).json()
    assert len(_disclosed(ctx)) == 3
    client.get(base + "objects/", params={"next": first["next"]}, headers=partner)
    rows = _disclosed(ctx)
    assert sorted(r[3] for r in rows) == sorted(o["id"] for o in shown)
    assert {(r[0], r[1], r[2]) for r in rows} == {(user.id, org.id, "taxii")}
    assert all(r[4] == "2026-10-01T00:00:00.000000Z" and r[5] for r in rows)

    client.get(base + f"objects/{shown[0]['id']}/", headers=partner)
    assert len(_disclosed(ctx)) == 6
    client.get(base + f"objects/{hidden[0]['id']}/", headers=partner)  # 404: nothing served, nothing recorded
    client.get(base + "manifest/", headers=partner)  # ids and versions only, not the objects
    client.get(base + "objects/", headers=staff)  # national staff reads are not disclosures to anyone
    assert len(_disclosed(ctx)) == 6

"""A small, hand-made intelligence picture and community for the web UI tests.

Objects (STIX 2.1, TLP 2.0 markings):

* identity ``National Cyber Office`` (CLEAR), the producer;
* threat-actor ``Mirror Lantern`` (GREEN);
* indicator ``Lantern C2 address`` (GREEN), two versions, pattern on 198.51.100.7;
* indicator ``Expired beacon domain`` (GREEN), valid until before T0 and revoked in its second version;
* malware ``LanternLoader`` (AMBER) — hidden from a GREEN-cleared partner;
* relationships: indicator *indicates* threat-actor (GREEN), threat-actor *uses* malware (AMBER),
  indicator *indicates* malware (AMBER);
* report ``Operation Paper Lantern`` (RED) referring to the threat actor.

Users, each with password ``PASSWORD``: ``analyst`` (national office analyst), ``admin``, ``commissioner``,
``operator`` (bound to an operator organisation), ``partner`` (bound to a partner CERT whose agreement allows
TLP:GREEN), ``english`` (an analyst whose language is English).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import T0, make_settings

from mamori.bootstrap import Context, build_context
from mamori.intel.tlp import Tlp
from mamori.kernel.clock import FixedClock

PASSWORD = "correct horse battery staple"

PRODUCER = "identity--0f9b6c43-2f1c-4b8a-9d3e-7c1a5b2d4e60"
ACTOR = "threat-actor--6b1f0a2e-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
INDICATOR = "indicator--3d0c1b2a-9f8e-4d7c-b6a5-4f3e2d1c0b9a"
EXPIRED = "indicator--8e7d6c5b-4a39-4281-b7f6-e5d4c3b2a190"
MALWARE = "malware--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
REL_INDICATES_ACTOR = "relationship--aa11bb22-cc33-4d44-8e55-ff6677889900"
REL_USES = "relationship--bb22cc33-dd44-4e55-9f66-001122334455"
REL_INDICATES_MALWARE = "relationship--cc33dd44-ee55-4f66-a077-112233445566"
REPORT = "report--dd44ee55-ff66-4077-8188-223344556677"

V1 = "2026-10-01T00:00:00.000Z"
V2 = "2026-10-15T06:30:00.000Z"


def _common(stix_id: str, tlp: Tlp, *, created: str = V1, modified: str | None = None) -> dict[str, Any]:
    return {
        "type": stix_id.split("--")[0],
        "spec_version": "2.1",
        "id": stix_id,
        "created": created,
        "modified": modified or created,
        "created_by_ref": PRODUCER,
        "object_marking_refs": [tlp.marking_id],
    }


def intelligence() -> list[dict[str, Any]]:
    producer = {"type": "identity", "spec_version": "2.1", "id": PRODUCER, "created": V1, "modified": V1,
                "name": "National Cyber Office", "identity_class": "organization",
                "object_marking_refs": [Tlp.CLEAR.marking_id]}
    actor = {**_common(ACTOR, Tlp.GREEN), "name": "Mirror Lantern", "threat_actor_types": ["nation-state"],
             "aliases": ["Paper Lantern"], "labels": ["apt"]}
    indicator_v1 = {**_common(INDICATOR, Tlp.GREEN), "name": "Lantern C2 address (draft)",
                    "indicator_types": ["malicious-activity"], "pattern_type": "stix",
                    "pattern": "[ipv4-addr:value = '198.51.100.7']", "valid_from": V1,
                    "valid_until": "2027-10-01T00:00:00.000Z", "confidence": 70, "labels": ["c2"]}
    indicator_v2 = {**indicator_v1, "modified": V2, "name": "Lantern C2 address", "confidence": 85}
    expired_v1 = {**_common(EXPIRED, Tlp.GREEN), "name": "Expired beacon domain",
                  "indicator_types": ["malicious-activity"], "pattern_type": "stix",
                  "pattern": "[domain-name:value = 'beacon.example.net']", "valid_from": V1,
                  "valid_until": "2026-10-20T00:00:00.000Z"}
    expired_v2 = {**expired_v1, "modified": V2, "revoked": True}
    malware = {**_common(MALWARE, Tlp.AMBER), "name": "LanternLoader", "malware_types": ["loader"],
               "is_family": True, "description": "Loader used by Mirror Lantern."}
    rel_actor = {**_common(REL_INDICATES_ACTOR, Tlp.GREEN), "relationship_type": "indicates",
                 "source_ref": INDICATOR, "target_ref": ACTOR}
    rel_uses = {**_common(REL_USES, Tlp.AMBER), "relationship_type": "uses", "source_ref": ACTOR,
                "target_ref": MALWARE}
    rel_malware = {**_common(REL_INDICATES_MALWARE, Tlp.AMBER), "relationship_type": "indicates",
                   "source_ref": INDICATOR, "target_ref": MALWARE}
    report = {**_common(REPORT, Tlp.RED), "name": "Operation Paper Lantern", "report_types": ["threat-actor"],
              "published": V2, "object_refs": [ACTOR, INDICATOR]}
    return [producer, actor, indicator_v1, indicator_v2, expired_v1, expired_v2, malware, rel_actor, rel_uses,
            rel_malware, report]


@dataclass(frozen=True)
class World:
    collection_id: str
    partner_org_id: str
    operator_org_id: str


def seed(ctx: Context) -> World:
    """Store the objects, the collection, the organisations, the partner's agreement and the users."""
    collection = ctx.intel.create_collection("Partner sharing", api_root="partners")
    report = ctx.intel.ingest(intelligence(), collections=[collection["id"]])
    assert not report.problems, report.problems
    partner_org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner",
                                                   name_ja="同盟国CERT", country="XX")
    operator_org = ctx.identity.create_organisation("grid-east", "Grid East Power", "operator",
                                                    name_ja="東部送電", sector="energy")
    ctx.intel.set_agreement(partner_org.id, "TLP:GREEN", read=[collection["id"]])
    ctx.identity.create_user("analyst", "analyst", password=PASSWORD, display_name="Aoi Analyst")
    ctx.identity.create_user("admin", "admin", password=PASSWORD)
    ctx.identity.create_user("commissioner", "commissioner", password=PASSWORD)
    ctx.identity.create_user("operator", "operator", password=PASSWORD, organisation="grid-east")
    ctx.identity.create_user("partner", "partner", password=PASSWORD, organisation="allied-cert", locale="en")
    ctx.identity.create_user("english", "analyst", password=PASSWORD, locale="en")
    return World(collection_id=collection["id"], partner_org_id=partner_org.id, operator_org_id=operator_org.id)


def seed_template(directory: Path) -> World:
    """Seed a data directory once (password hashing makes seeding slow); tests copy it with :func:`context_from`."""
    ctx = build_context(make_settings(directory), clock=FixedClock(T0))
    try:
        return seed(ctx)
    finally:
        ctx.close()


def context_from(template: Path, data_dir: Path, **settings: object) -> Context:
    """A context on a fresh copy of a seeded data directory, with the clock at T0."""
    shutil.copytree(template, data_dir, dirs_exist_ok=True)
    return build_context(make_settings(data_dir, **settings), clock=FixedClock(T0))


__all__ = ["ACTOR", "EXPIRED", "INDICATOR", "MALWARE", "PASSWORD", "PRODUCER", "REPORT", "World", "context_from",
           "intelligence", "seed", "seed_template"]

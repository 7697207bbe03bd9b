"""Domain types of the demo seed: the organisations, people, sharing agreements and TAXII collections of a
fictitious national cyber-defence community, and the STIX 2.1 objects it starts with.

Everything here is pure data. Nothing in the seed names a real organisation or person; every organisation
name carries "demo" (「デモ」 in Japanese).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

OrgKind = Literal["national_office", "operator", "partner", "commission"]
Role = Literal["admin", "analyst", "operator", "commissioner", "partner"]
Locale = Literal["ja", "en"]
Tlp = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]

ORG_KINDS: tuple[OrgKind, ...] = ("national_office", "operator", "partner", "commission")
ROLES: tuple[Role, ...] = ("admin", "analyst", "operator", "commissioner", "partner")
TLP_LEVELS: tuple[Tlp, ...] = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")

# The fifteen critical-infrastructure sectors an operator belongs to, by their stable keys.
CRITICAL_INFRASTRUCTURE_SECTORS: tuple[str, ...] = (
    "information-communications",
    "finance",
    "aviation",
    "airports",
    "railway",
    "electric-power",
    "gas",
    "government-administrative-services",
    "medical",
    "water",
    "logistics",
    "chemicals",
    "credit-cards",
    "petroleum",
    "ports",
)

# OASIS TLP 2.0 marking-definition ids (STIX 2.1 TLP 2.0 extension). The store provides the objects.
TLP_MARKING_IDS: Mapping[Tlp, str] = {
    "TLP:CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "TLP:GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "TLP:AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "TLP:AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "TLP:RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


@dataclass(frozen=True, slots=True)
class DemoOrg:
    """An organisation of the demo community; `sector` is set for operators only."""

    key: str
    name: str
    name_ja: str
    kind: OrgKind
    sector: str | None
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo account; its password is generated at seeding time and never part of the seed."""

    username: str
    role: Role
    organisation_key: str
    locale: Locale
    display_name: str


@dataclass(frozen=True, slots=True)
class DemoAgreement:
    """What one partner may read and write over TAXII, and the most sensitive TLP it may receive."""

    partner_key: str
    max_tlp: Tlp
    read_collections: tuple[str, ...]
    write_collections: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoCollection:
    """A TAXII 2.1 collection (TAXII 2.1 section 5.2) under the given API root."""

    key: str
    uuid: str
    title: str
    description: str
    api_root: str


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """The whole demo: community, collections and STIX content.

    `objects` holds STIX 2.1 objects as plain JSON-ready dicts, oldest version first where an object has
    several versions; `object_collections` maps each object id to the collection keys that hold it (every
    version of an object lives in the same collections); `org_identities` maps organisation keys to the
    STIX identity that stands for them in the content.
    """

    organisations: tuple[DemoOrg, ...]
    users: tuple[DemoUser, ...]
    agreements: tuple[DemoAgreement, ...]
    collections: tuple[DemoCollection, ...]
    objects: tuple[dict[str, Any], ...]
    object_collections: Mapping[str, tuple[str, ...]]
    org_identities: Mapping[str, str]

    def objects_in(self, collection_key: str) -> tuple[dict[str, Any], ...]:
        """Every object version assigned to one collection, in seed order."""
        return tuple(o for o in self.objects if collection_key in self.object_collections.get(o["id"], ()))

    def to_json(self) -> str:
        """The seed as one JSON document: the same `now` and seed always give the same text."""
        document = {
            "organisations": [_fields(o) for o in self.organisations],
            "users": [_fields(u) for u in self.users],
            "agreements": [_fields(a) for a in self.agreements],
            "collections": [_fields(c) for c in self.collections],
            "objects": list(self.objects),
            "object_collections": {k: list(v) for k, v in self.object_collections.items()},
            "org_identities": dict(self.org_identities),
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1)


def _fields(item: DemoOrg | DemoUser | DemoAgreement | DemoCollection) -> dict[str, Any]:
    return asdict(item)

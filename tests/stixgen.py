"""Small STIX 2.1 objects for tests, built by hand so expectations are obvious."""

from __future__ import annotations

import uuid
from typing import Any

TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TS = "2026-10-01T00:00:00.000Z"


def sid(kind: str, n: int) -> str:
    return f"{kind}--{uuid.UUID(int=(0x4000 << 64) | (0x8 << 60) | n)}"


def marked(obj: dict[str, Any], tlp: str | None) -> dict[str, Any]:
    if tlp:
        obj["object_marking_refs"] = [TLP2[tlp]]
    return obj


def indicator(n: int, value: str = "198.51.100.7", *, tlp: str | None = "green", modified: str = TS,
              kind: str = "ipv4-addr", valid_until: str | None = None, revoked: bool = False,
              name: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": sid("indicator", n), "created": TS, "modified": modified,
        "name": name or f"indicator {n}", "pattern": f"[{kind}:value = '{value}']", "pattern_type": "stix",
        "valid_from": TS, "indicator_types": ["malicious-activity"],
    }
    if valid_until:
        obj["valid_until"] = valid_until
    if revoked:
        obj["revoked"] = True
    return marked(obj, tlp)


def malware(n: int, name: str = "LanternDoor", *, tlp: str | None = "green") -> dict[str, Any]:
    obj = {"type": "malware", "spec_version": "2.1", "id": sid("malware", n), "created": TS, "modified": TS,
           "name": name, "is_family": True, "malware_types": ["backdoor"]}
    return marked(obj, tlp)


def relationship(n: int, src: str, dst: str, rel: str = "indicates", *, tlp: str | None = "green") -> dict[str, Any]:
    obj = {"type": "relationship", "spec_version": "2.1", "id": sid("relationship", n), "created": TS,
           "modified": TS, "relationship_type": rel, "source_ref": src, "target_ref": dst}
    return marked(obj, tlp)

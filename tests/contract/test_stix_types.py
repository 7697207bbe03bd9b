"""Every kind of STIX 2.1 object can be stored, read back unchanged and exported."""

from __future__ import annotations

import stix2
from stix2validator import ValidationOptions, validate_instance

from mamori.bootstrap import Context
from mamori.intel.model import TLP_RED, Clearance

FULL = Clearance(max_tlp=TLP_RED, unmarked_as=TLP_RED)
TS = "2026-10-01T00:00:00.000Z"
IDENT = "identity--f0f5a3a9-8d6e-4a4b-9b5c-1c2d3e4f5a6b"


def _objects() -> list[dict]:
    ext_id = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
    sdo = dict(spec_version="2.1", created=TS, modified=TS)
    objs = [
        {"type": "identity", "id": IDENT, "name": "National Office (test)", "identity_class": "organization", **sdo},
        {"type": "attack-pattern", "id": "attack-pattern--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
         "name": "Spearphishing Attachment", "external_references": [
             {"source_name": "mitre-attack", "external_id": "T1566.001"}], **sdo},
        {"type": "campaign", "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "name": "C", **sdo},
        {"type": "course-of-action", "id": "course-of-action--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30", "name": "Block",
         **sdo},
        {"type": "grouping", "id": "grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3", "context": "suspicious-activity",
         "object_refs": [IDENT], **sdo},
        {"type": "infrastructure", "id": "infrastructure--38c47d93-d984-4fd9-b87b-d69d0841628d", "name": "C2",
         "infrastructure_types": ["command-and-control"], **sdo},
        {"type": "intrusion-set", "id": "intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29", "name": "IS", **sdo},
        {"type": "location", "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64", "country": "JP", **sdo},
        {"type": "malware", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "name": "M", "is_family": True,
         **sdo},
        {"type": "malware-analysis", "id": "malware-analysis--d25167b7-fed0-4068-9ccd-a73dd2c5b07c",
         "product": "sandbox", "result": "malicious", **sdo},
        {"type": "note", "id": "note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0062", "content": "n", "object_refs": [IDENT],
         **sdo},
        {"type": "opinion", "id": "opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7", "opinion": "agree",
         "object_refs": [IDENT], **sdo},
        {"type": "report", "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb4", "name": "R", "published": TS,
         "object_refs": [IDENT], **sdo},
        {"type": "threat-actor", "id": "threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd31", "name": "TA", **sdo},
        {"type": "tool", "id": "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd32", "name": "T", **sdo},
        {"type": "vulnerability", "id": "vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0063", "name": "CVE-2021-44228",
         **sdo},
        {"type": "observed-data", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
         "first_observed": TS, "last_observed": TS, "number_observed": 1,
         "object_refs": ["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"], **sdo},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
         "value": "198.51.100.3"},
        {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
         "value": "example.com"},
        {"type": "file", "spec_version": "2.1", "id": "file--fb0419a8-f09c-57f8-be64-71a80417591c",
         "hashes": {"SHA-256": "a" * 64}, "name": "x.exe"},
        {"type": "relationship", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
         "relationship_type": "uses", "source_ref": "intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29",
         "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", **sdo},
        {"type": "sighting", "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
         "sighting_of_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "where_sighted_refs": [IDENT], **sdo},
        {"type": "marking-definition", "spec_version": "2.1",
         "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41d5", "created": TS,
         "name": "Internal use", "definition_type": "statement", "definition": {"statement": "Internal use only"}},
        {"type": "extension-definition", "id": ext_id, "created_by_ref": IDENT, "name": "x-example",
         "schema": "https://example.com/schema", "version": "1.0", "extension_types": ["new-sdo"], **sdo},
        {"type": "x-mamori-test", "id": "x-mamori-test--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0064",
         "spec_version": "2.1", "created": TS, "modified": TS,
         "extensions": {ext_id: {"extension_type": "new-sdo"}}, "x_detail": "custom"},
    ]
    return objs


def test_every_object_type_round_trips(any_ctx: Context) -> None:
    objs = _objects()
    report = any_ctx.intel.ingest(objs)
    assert report.problems == () and report.added == len(objs)
    for obj in objs:
        assert any_ctx.intel.get(obj["id"], FULL).raw == obj


def test_exported_bundle_is_valid_stix(any_ctx: Context) -> None:
    any_ctx.intel.ingest(_objects())
    bundle = any_ctx.intel.export_bundle(FULL)
    results = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert results.is_valid, [str(e) for r in results.object_results for e in r.errors]
    stix2.parse(bundle, allow_custom=True)

"""Behaviour of the MISP event to STIX 2.1 conversion."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import stix2

from mamori.errors import InvalidInput
from mamori.intel.misp import misp_event_to_stix, misp_to_stix
from mamori.intel.patterns import Observable, observables_of
from mamori.intel.tlp import Tlp
from mamori.intel.validate import validate_objects

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def attribute(index: int, kind: str, value: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": f"5f0c1a2b-0000-4000-8000-{index:012d}",
        "type": kind,
        "category": "Network activity",
        "value": value,
        "to_ids": True,
        "timestamp": "1767225600",  # 2026-01-01T00:00:00Z
        "comment": "",
    }
    base.update(extra)
    return base


def event() -> dict[str, Any]:
    return {
        "Event": {
            "uuid": "5f0c1a2b-aaaa-4bbb-8ccc-000000000001",
            "info": "Phishing wave against energy operators",
            "date": "2025-12-30",
            "timestamp": "1767312000",  # 2026-01-02
            "publish_timestamp": "1767398400",  # 2026-01-03
            "threat_level_id": "2",
            "Orgc": {"name": "CERT Example", "uuid": "5f0c1a2b-bbbb-4ccc-8ddd-000000000002"},
            "Tag": [{"name": "tlp:amber"}, {"name": "circl:incident-classification=phishing"}],
            "Attribute": [
                attribute(1, "ip-dst", "198.51.100.7", comment="C2"),
                attribute(2, "domain", "Evil.Example"),
                attribute(3, "url", "http://evil.example/login"),
                attribute(4, "sha256", SHA256, Tag=[{"name": "tlp:red"}]),
                attribute(5, "ip-dst|port", "198.51.100.8|8443"),
                attribute(6, "domain|ip", "c2.example|192.0.2.5"),
                attribute(7, "email-src", "boss@evil.example"),
                attribute(8, "comment", "not for detection", to_ids=False),
                attribute(9, "regkey", "HKLM\\Software\\Evil"),
                attribute(10, "ip-src", "not-an-ip"),
                attribute(11, "md5", "d41d8cd98f00b204e9800998ecf8427e", deleted=True),
                attribute(
                    15, "ip-src", "203.0.113.0/24", first_seen="2025-12-01T00:00:00Z", last_seen="2026-02-01T00:00:00Z"
                ),
            ],
            "Object": [
                {
                    "name": "file",
                    "Attribute": [
                        attribute(12, "filename|sha256", f"invoice.pdf.exe|{SHA256}"),
                        attribute(13, "size-in-bytes", "1024", to_ids=False),
                        attribute(14, "mutex", "Global\\evil"),
                    ],
                }
            ],
        }
    }


def by_type(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == kind]


def test_event_becomes_identity_indicators_and_report_all_valid() -> None:
    objects, _ = misp_event_to_stix(event())
    assert [o["type"] for o in objects] == ["identity"] + ["indicator"] * 9 + ["report"]
    for obj in objects:
        stix2.parse(obj, version="2.1")
    valid, problems = validate_objects(objects)
    assert problems == [] and len(valid) == len(objects)


def test_only_convertible_to_ids_attributes_become_indicators() -> None:
    objects, _ = misp_event_to_stix(event())
    found = [observables_of(o) for o in by_type(objects, "indicator")]
    assert found == [
        [Observable("ipv4", "198.51.100.7")],
        [Observable("domain", "evil.example")],
        [Observable("url", "http://evil.example/login")],
        [Observable("sha256", SHA256)],
        [Observable("ipv4", "198.51.100.8"), Observable("port", "8443")],
        [Observable("domain", "c2.example"), Observable("ipv4", "192.0.2.5")],
        [Observable("email", "boss@evil.example")],
        [Observable("ipv4-cidr", "203.0.113.0/24")],
        [Observable("sha256", SHA256)],
    ]


def test_unconvertible_attributes_are_reported_with_index_type_and_location() -> None:
    _, problems = misp_event_to_stix(event())
    assert [(p.index, p.attribute_type, p.where) for p in problems] == [
        (8, "regkey", "$.Event.Attribute[8]"),
        (9, "ip-src", "$.Event.Attribute[9].value"),
        (14, "mutex", "$.Event.Object[0].Attribute[2]"),
    ]
    assert "no STIX pattern mapping" in problems[0].reason
    assert "not-an-ip" in problems[1].reason


def test_tlp_tags_become_tlp2_markings_and_attribute_tags_raise_the_level() -> None:
    objects, _ = misp_event_to_stix(event())
    report = by_type(objects, "report")[0]
    indicators = by_type(objects, "indicator")
    assert report["object_marking_refs"] == [Tlp.AMBER.marking_id]
    assert indicators[0]["object_marking_refs"] == [Tlp.AMBER.marking_id]
    assert indicators[3]["object_marking_refs"] == [Tlp.RED.marking_id]
    assert report["labels"] == ["misp:threat-level=2", "circl:incident-classification=phishing"]


def test_default_tlp_applies_only_to_untagged_events() -> None:
    untagged = event()
    untagged["Event"]["Tag"] = []
    objects, _ = misp_event_to_stix(untagged, default_tlp=Tlp.GREEN)
    assert by_type(objects, "report")[0]["object_marking_refs"] == [Tlp.GREEN.marking_id]
    objects, _ = misp_event_to_stix(event(), default_tlp=Tlp.GREEN)
    assert by_type(objects, "report")[0]["object_marking_refs"] == [Tlp.AMBER.marking_id]


def test_reimport_is_idempotent_and_edits_make_new_versions_of_the_same_ids() -> None:
    first, _ = misp_event_to_stix(event())
    again, _ = misp_event_to_stix(event())
    assert first == again
    edited = event()
    edited["Event"]["Attribute"][0]["timestamp"] = "1767400000"
    second, _ = misp_event_to_stix(edited)
    assert [o["id"] for o in first] == [o["id"] for o in second]
    assert second[1]["modified"] > first[1]["modified"]
    assert second[2:] == [*first[2:-1], second[-1]]


def test_times_come_from_the_event_and_attributes() -> None:
    objects, _ = misp_event_to_stix(event())
    report = by_type(objects, "report")[0]
    assert report["created"] == "2025-12-30T00:00:00.000Z"
    assert report["modified"] == "2026-01-02T00:00:00.000Z"
    assert report["published"] == "2026-01-03T00:00:00.000Z"
    seen = by_type(objects, "indicator")[7]
    assert seen["valid_from"] == "2025-12-01T00:00:00.000Z"
    assert seen["valid_until"] == "2026-02-01T00:00:00.000Z"


def test_creator_organisation_is_the_author_of_everything() -> None:
    objects, _ = misp_event_to_stix(event())
    identity = by_type(objects, "identity")[0]
    assert identity["name"] == "CERT Example"
    assert all(o["created_by_ref"] == identity["id"] for o in objects if o["type"] != "identity")


def test_grouping_container_is_available() -> None:
    objects, _ = misp_event_to_stix(event(), container="grouping")
    grouping = by_type(objects, "grouping")[0]
    stix2.parse(grouping, version="2.1")
    assert grouping["context"] == "suspicious-activity"


def test_event_without_indicators_has_no_container() -> None:
    quiet = event()
    quiet["Event"]["Attribute"] = [attribute(1, "comment", "x", to_ids=False)]
    quiet["Event"]["Object"] = []
    objects, problems = misp_event_to_stix(quiet)
    assert [o["type"] for o in objects] == ["identity"] and problems == []


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda e: e["Event"].pop("uuid"), "$.Event.uuid"),
        (lambda e: e["Event"].pop("info"), "$.Event.info"),
        (lambda e: e["Event"].update(date="30/12/2025"), "$.Event.date"),
        (lambda e: e["Event"].update(Attribute="nope"), "$.Event.Attribute"),
        (lambda e: e["Event"].update(Object=[1]), "$.Event.Object[0]"),
    ],
)
def test_documents_that_are_not_misp_events_are_refused_with_the_location(mutate: Any, where: str) -> None:
    broken = copy.deepcopy(event())
    mutate(broken)
    with pytest.raises(InvalidInput) as e:
        misp_event_to_stix(broken)
    assert e.value.where == where


def test_exports_with_several_events_are_merged() -> None:
    other = event()
    other["Event"]["uuid"] = "5f0c1a2b-aaaa-4bbb-8ccc-000000000099"
    other["Event"]["Attribute"] = [attribute(99, "hostname", "other.example")]
    other["Event"]["Object"] = []
    other["Event"]["Tag"] = []
    objects, problems = misp_to_stix({"response": [event(), other]}, default_tlp="green")
    assert len(by_type(objects, "report")) == 2
    assert len(by_type(objects, "identity")) == 1
    assert [p.where for p in problems] == [
        "$.response[0].Event.Attribute[8]",
        "$.response[0].Event.Attribute[9].value",
        "$.response[0].Event.Object[0].Attribute[2]",
    ]
    assert by_type(objects, "report")[1]["object_marking_refs"] == [Tlp.GREEN.marking_id]
    with pytest.raises(InvalidInput) as e:
        misp_to_stix([event(), "nope"])
    assert e.value.where == "$[1]"

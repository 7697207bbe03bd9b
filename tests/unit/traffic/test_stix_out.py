"""Findings as STIX 2.1: sightings, infrastructure, observed data, relationships; deterministic and marked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import stix2
from tests.stixgen import indicator
from tests.unit.traffic.test_findings_store import DAY1, create_tables, make_finding

from mamori.bootstrap import Context
from mamori.intel.tlp import Tlp
from mamori.traffic.detect.model import Credibility, Finding, FindingKind
from mamori.traffic.findings_store import StoredFinding, finding_id
from mamori.traffic.stix_out import OfficeIdentity, build_stix

OFFICE = OfficeIdentity(key="nco", name="National Cyber Office")
DOMESTIC = ("203.0.113.",)


def domestic(address: str) -> bool:
    return address.startswith(DOMESTIC)


def stored(f: Finding, updated: datetime = DAY1) -> StoredFinding:
    return StoredFinding(id=finding_id(f), finding=f, engine="duckdb", created_at=DAY1, updated_at=updated)


def by_type(objects: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == kind]


def test_beacon_to_a_foreign_server_becomes_c2_infrastructure_consisting_of_its_address() -> None:
    s = stored(make_finding())
    out = build_stix([s], office=OFFICE, is_domestic=domestic)
    (infra,) = by_type(out.objects, "infrastructure")
    assert infra["infrastructure_types"] == ["command-and-control"]
    assert infra["confidence"] == 70  # Admiralty 2 (probably true)
    addr = next(o for o in by_type(out.objects, "ipv4-addr") if o["value"] == "198.51.100.7")
    rel = next(o for o in by_type(out.objects, "relationship") if o["relationship_type"] == "consists-of")
    assert (rel["source_ref"], rel["target_ref"]) == (infra["id"], addr["id"])
    (observed,) = by_type(out.objects, "observed-data")
    assert observed["number_observed"] == 30 and addr["id"] in observed["object_refs"]
    assert any(r.startswith("network-traffic--") for r in observed["object_refs"])
    assert set(out.by_finding[s.id]) >= {infra["id"], observed["id"], addr["id"]}


def test_every_object_is_valid_stix_and_carries_the_policy_marking() -> None:
    findings = [stored(make_finding()), stored(make_finding(FindingKind.FAN_IN_C2, src=None))]
    out = build_stix(findings, office=OFFICE, tlp=Tlp.RED, is_domestic=domestic)
    for obj in out.objects:
        if obj["type"] == "marking-definition":
            assert obj["id"] == Tlp.RED.marking_id
            continue
        assert obj["object_marking_refs"] == [Tlp.RED.marking_id], obj["id"]
        stix2.parse(obj, allow_custom=False)


def test_the_same_findings_give_the_same_objects_and_ids() -> None:
    findings = [stored(make_finding()), stored(make_finding(FindingKind.DNS_TUNNEL, dst=None,
                                                              dst_name="t.exfil.example"))]
    a = build_stix(findings, office=OFFICE, is_domestic=domestic)
    b = build_stix(list(reversed(findings)), office=OFFICE, is_domestic=domestic)
    assert sorted(o["id"] for o in a.objects) == sorted(o["id"] for o in b.objects)
    assert {o["id"]: o for o in a.objects} == {o["id"]: o for o in b.objects}


def test_domestic_hosts_never_become_infrastructure() -> None:
    victim_as_dst = stored(make_finding(src="192.0.2.9", dst="203.0.113.7"))
    domestic_scanner = stored(make_finding(FindingKind.HORIZONTAL_SCAN, src="203.0.113.8", dst=None, dst_port=445))
    out = build_stix([victim_as_dst, domestic_scanner], office=OFFICE, is_domestic=domestic)
    assert by_type(out.objects, "infrastructure") == []
    assert len(by_type(out.objects, "observed-data")) == 2


def test_weak_findings_give_observed_data_but_no_infrastructure() -> None:
    out = build_stix([stored(make_finding(score=0.55))], office=OFFICE, is_domestic=domestic)
    assert by_type(out.objects, "infrastructure") == [] and len(by_type(out.objects, "observed-data")) == 1


def test_fan_in_gives_a_botnet_consisting_of_its_command_server() -> None:
    out = build_stix([stored(make_finding(FindingKind.FAN_IN_C2, src=None))], office=OFFICE, is_domestic=domestic)
    infra = {o["infrastructure_types"][0]: o for o in by_type(out.objects, "infrastructure")}
    assert set(infra) == {"command-and-control", "botnet"}
    assert any(r["source_ref"] == infra["botnet"]["id"] and r["target_ref"] == infra["command-and-control"]["id"]
               for r in by_type(out.objects, "relationship"))


def test_indicator_match_is_a_sighting_and_the_indicator_indicates_the_c2() -> None:
    ind = indicator(1, "198.51.100.7")
    match = make_finding(FindingKind.INDICATOR_MATCH, score=0.85, count=7, fired=(f"indicator:{ind['id']}",),
                         credibility=Credibility.CONFIRMED)
    out = build_stix([stored(match), stored(make_finding())], office=OFFICE, is_domestic=domestic)
    (sighting,) = by_type(out.objects, "sighting")
    assert sighting["sighting_of_ref"] == ind["id"]
    assert sighting["count"] == 7
    assert sighting["where_sighted_refs"] == [OFFICE.stix_id]
    assert sighting["first_seen"].startswith("2026-11-01T01:00:00") and sighting["last_seen"].startswith(
        "2026-11-01T03:00:00")
    (observed_for_match,) = sighting["observed_data_refs"]
    assert observed_for_match in {o["id"] for o in by_type(out.objects, "observed-data")}
    c2 = by_type(out.objects, "infrastructure")[0]
    assert any(r["relationship_type"] == "indicates" and r["source_ref"] == ind["id"] and r["target_ref"] == c2["id"]
               for r in by_type(out.objects, "relationship"))


def test_writing_twice_into_the_intelligence_store_adds_nothing_the_second_time(ctx: Context) -> None:
    create_tables(ctx)
    ind = indicator(1, "198.51.100.7")
    assert ctx.intel.ingest([ind]).added == 1
    match = make_finding(FindingKind.INDICATOR_MATCH, fired=(f"indicator:{ind['id']}",))
    findings = [stored(match), stored(make_finding())]
    out = build_stix(findings, office=OFFICE, is_domestic=domestic)
    first = ctx.intel.ingest(list(out.objects))
    assert first.problems == () and first.added == len(out.objects)
    again = ctx.intel.ingest(list(build_stix(findings, office=OFFICE, is_domestic=domestic).objects))
    assert again.added == 0 and again.problems == ()
    # a finding that changed gets a new version of its objects, not a second object
    changed = [stored(match, updated=DAY1 + timedelta(days=1)), stored(make_finding())]
    third = ctx.intel.ingest(list(build_stix(changed, office=OFFICE, is_domestic=domestic).objects))
    assert third.problems == () and third.added > 0
    sighting_id = by_type(out.objects, "sighting")[0]["id"]
    assert len(ctx.intel.versions(sighting_id, ctx.intel.full_clearance())) == 2

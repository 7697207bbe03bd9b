"""Behaviour of the demo seed: deterministic, valid STIX 2.1, closed references, documentation-only
network values, a connected graph, and a community every role can log into."""

from __future__ import annotations

import ipaddress
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
import stix2
import stix2validator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.demo import (
    CRITICAL_INFRASTRUCTURE_SECTORS,
    TLP_MARKING_IDS,
    DemoSeed,
    build_demo,
)
from mamori.errors import InvalidInput
from mamori.kernel.timefmt import parse_timestamp

NOW = datetime(2026, 11, 25, 9, 30, 15, 123000, tzinfo=UTC)
TLP_IDS = frozenset(TLP_MARKING_IDS.values())
SCO_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "file"})
DOC_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
RESERVED_DOMAIN_SUFFIXES = (".example", ".test", "example.com", "example.net", "example.org")


@pytest.fixture(scope="module")
def demo() -> DemoSeed:
    return build_demo(NOW)


def _refs(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (property, id) pair under a *_ref or *_refs property, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _refs(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item, key)
    elif isinstance(value, str) and (key.endswith("_ref") or key.endswith("_refs")):
        yield key, value


def _latest(demo: DemoSeed) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for obj in demo.objects:
        latest[obj["id"]] = obj
    return latest


# ---- determinism ---------------------------------------------------------------------------------------


def test_same_now_and_seed_give_byte_identical_output(demo: DemoSeed) -> None:
    assert build_demo(NOW).to_json() == demo.to_json()
    assert build_demo(NOW, seed=7).objects == demo.objects


def test_the_same_instant_in_another_time_zone_gives_the_same_output(demo: DemoSeed) -> None:
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert build_demo(tokyo).to_json() == demo.to_json()


def test_a_different_seed_changes_the_content_but_not_the_collections(demo: DemoSeed) -> None:
    other = build_demo(NOW, seed=8)
    assert other.to_json() != demo.to_json()
    assert other.collections == demo.collections
    assert {o["id"] for o in other.objects}.isdisjoint(
        {o["id"] for o in demo.objects if o["type"] not in SCO_TYPES}
    )


def test_ids_do_not_depend_on_now(demo: DemoSeed) -> None:
    later = build_demo(NOW + timedelta(days=40))
    assert [o["id"] for o in later.objects] == [o["id"] for o in demo.objects]
    assert later.objects != demo.objects


# ---- bad input -------------------------------------------------------------------------------------------


def test_naive_now_is_rejected_with_where() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware") as caught:
        build_demo(datetime(2026, 11, 25, 9, 30))
    assert caught.value.where == "build_demo(now)"


@pytest.mark.parametrize("seed", ["7", 7.0, True, None])
def test_non_integer_seed_is_rejected(seed: Any) -> None:
    with pytest.raises(InvalidInput, match="seed must be an integer") as caught:
        build_demo(NOW, seed=seed)
    assert caught.value.where == "build_demo(seed)"


def test_now_that_is_not_a_datetime_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="must be a datetime"):
        build_demo("2026-11-25T00:00:00Z")  # type: ignore[arg-type]


def test_now_out_of_the_supported_years_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="between the years"):
        build_demo(datetime(1, 1, 5, tzinfo=UTC))


# ---- STIX validity --------------------------------------------------------------------------------------


def test_every_object_parses_with_stix2_without_custom_content(demo: DemoSeed) -> None:
    for obj in demo.objects:
        parsed = stix2.parse(dict(obj), allow_custom=False)
        assert parsed.id == obj["id"]


def test_every_object_passes_the_oasis_validator_without_errors(demo: DemoSeed) -> None:
    failures = {}
    for obj in demo.objects:
        result = stix2validator.validate_instance(obj)
        if not result.is_valid or result.errors:
            failures[obj["id"]] = [str(e) for e in result.errors]
    assert failures == {}


def test_observable_ids_are_the_deterministic_ids_stix2_computes(demo: DemoSeed) -> None:
    classes = {
        "ipv4-addr": stix2.IPv4Address,
        "ipv6-addr": stix2.IPv6Address,
        "domain-name": stix2.DomainName,
        "url": stix2.URL,
        "file": stix2.File,
    }
    observables = [o for o in demo.objects if o["type"] in SCO_TYPES]
    assert len(observables) >= 30
    for obj in observables:
        props = {
            k: v for k, v in obj.items() if k not in {"type", "id", "spec_version", "object_marking_refs"}
        }
        assert classes[obj["type"]](**props).id == obj["id"]


def test_no_marking_definition_objects_are_included(demo: DemoSeed) -> None:
    assert not [o for o in demo.objects if o["type"] == "marking-definition"]


# ---- references and graph -------------------------------------------------------------------------------


def test_every_reference_resolves_inside_the_seed(demo: DemoSeed) -> None:
    ids = {o["id"] for o in demo.objects}
    dangling = [
        (obj["id"], prop, ref)
        for obj in demo.objects
        for prop, ref in _refs(obj)
        if ref not in ids and not (prop == "object_marking_refs" and ref in TLP_IDS)
    ]
    assert dangling == []


def test_objects_come_after_everything_they_reference(demo: DemoSeed) -> None:
    seen: set[str] = set()
    for obj in demo.objects:
        seen.add(obj["id"])
        late = [ref for prop, ref in _refs(obj) if ref not in seen and prop != "object_marking_refs"]
        assert late == [], obj["id"]


def test_every_domain_object_and_relationship_is_created_by_the_national_office(demo: DemoSeed) -> None:
    office = demo.org_identities["national-office"]
    creators = {o.get("created_by_ref") for o in demo.objects if o["type"] not in SCO_TYPES}
    assert creators == {office}
    assert _latest(demo)[office]["type"] == "identity"


def test_the_graph_is_connected_without_counting_creator_or_marking_refs(demo: DemoSeed) -> None:
    parent = {o["id"]: o["id"] for o in demo.objects}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for obj in demo.objects:
        for prop, ref in _refs(obj):
            if prop in {"created_by_ref", "object_marking_refs"}:
                continue
            parent[find(obj["id"])] = find(ref)
    components = {find(i) for i in parent}
    assert len(components) == 1


def test_the_content_uses_the_expected_kinds_of_relationship(demo: DemoSeed) -> None:
    kinds = {o["relationship_type"] for o in demo.objects if o["type"] == "relationship"}
    assert {
        "uses",
        "indicates",
        "targets",
        "attributed-to",
        "communicates-with",
        "consists-of",
        "located-at",
        "based-on",
        "variant-of",
    } <= kinds
    talks = [
        o
        for o in demo.objects
        if o["type"] == "relationship" and o["relationship_type"] == "communicates-with"
    ]
    assert talks
    for rel in talks:
        assert rel["source_ref"].startswith("infrastructure--")
        assert rel["target_ref"].startswith("infrastructure--")


def test_organisation_identities_point_at_identity_objects(demo: DemoSeed) -> None:
    latest = _latest(demo)
    org_keys = {o.key for o in demo.organisations}
    assert set(demo.org_identities) <= org_keys
    assert {o.key for o in demo.organisations if o.kind == "operator"} <= set(demo.org_identities)
    for key, identity_id in demo.org_identities.items():
        assert latest[identity_id]["type"] == "identity", key


# ---- network values --------------------------------------------------------------------------------------

_STIX_ID = re.compile(r"[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_IPV4_TEXT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_IPV6_TEXT = re.compile(r"(?<![0-9a-fA-F:])([0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})(?![0-9a-fA-F:])")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _is_documentation_address(text: str) -> bool:
    address = ipaddress.ip_address(text)
    return any(address in net for net in DOC_NETWORKS if net.version == address.version)


def test_every_address_anywhere_in_the_content_is_a_documentation_address(demo: DemoSeed) -> None:
    seen = []
    for obj in demo.objects:
        for text in _strings(obj):
            if _STIX_ID.fullmatch(text):
                continue  # object ids contain hex groups, not addresses
            for match in _IPV4_TEXT.findall(text):
                seen.append(match)
                assert _is_documentation_address(match), (obj["id"], match)
            for match in _IPV6_TEXT.findall(text):
                try:
                    ipaddress.IPv6Address(match)
                except ValueError:
                    continue
                seen.append(match)
                assert _is_documentation_address(match), (obj["id"], match)
    assert any(":" in s for s in seen) and any("." in s for s in seen)


def test_every_domain_and_url_uses_reserved_names(demo: DemoSeed) -> None:
    hosts = []
    for obj in demo.objects:
        if obj["type"] == "domain-name":
            hosts.append(obj["value"])
        if obj["type"] == "url":
            hosts.append(urlsplit(obj["value"]).hostname)
        if obj["type"] == "indicator":
            hosts += re.findall(r"domain-name:value = '([^']+)'", obj["pattern"])
            hosts += [urlsplit(u).hostname for u in re.findall(r"url:value = '([^']+)'", obj["pattern"])]
            for ip in re.findall(r"ipv[46]-addr:value = '([^']+)'", obj["pattern"]):
                assert _is_documentation_address(ip), obj["id"]
        for text in _strings(obj):
            hosts += [m.split("@", 1)[1] for m in re.findall(r"[\w.-]+@[\w.-]+", text)]
    assert len(hosts) > 20
    for host in hosts:
        assert host is not None and host.endswith(RESERVED_DOMAIN_SUFFIXES), host


# ---- indicators, versions, markings ---------------------------------------------------------------------


def test_about_sixty_indicators_of_every_kind_with_varied_validity(demo: DemoSeed) -> None:
    latest = [o for o in _latest(demo).values() if o["type"] == "indicator"]
    assert 55 <= len(latest) <= 70
    patterns = " ".join(o["pattern"] for o in latest)
    for kind in (
        "ipv4-addr:value",
        "ipv6-addr:value",
        "domain-name:value",
        "url:value",
        "file:hashes.'SHA-256'",
    ):
        assert kind in patterns
    expired = [o for o in latest if "valid_until" in o and parse_timestamp(o["valid_until"]) < NOW]
    active = [o for o in latest if "valid_until" not in o or parse_timestamp(o["valid_until"]) > NOW]
    assert expired and len(active) > len(expired)
    assert len([o for o in latest if o.get("revoked")]) == 1
    assert len({o["confidence"] for o in latest}) >= 4


def test_some_objects_have_a_later_version_with_the_same_created(demo: DemoSeed) -> None:
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in demo.objects:
        versions[obj["id"]].append(obj)
    versioned = {i: v for i, v in versions.items() if len(v) > 1}
    assert len(versioned) >= 2
    for chain in versioned.values():
        assert len({v["created"] for v in chain}) == 1
        modified = [v["modified"] for v in chain]
        assert modified == sorted(modified) and len(set(modified)) == len(modified)


def test_markings_cover_every_tlp_level_and_some_objects_are_unmarked(demo: DemoSeed) -> None:
    used = set()
    unmarked = 0
    for obj in demo.objects:
        refs = obj.get("object_marking_refs", [])
        assert set(refs) <= TLP_IDS
        used |= set(refs)
        unmarked += not refs
    assert used == TLP_IDS
    assert unmarked > 0


def test_no_timestamp_of_record_lies_after_now(demo: DemoSeed) -> None:
    for obj in demo.objects:
        for prop in (
            "created",
            "modified",
            "published",
            "first_seen",
            "last_seen",
            "first_observed",
            "last_observed",
        ):
            if prop in obj:
                assert parse_timestamp(obj[prop]) <= NOW, (obj["id"], prop)


def test_campaigns_fall_within_the_last_year(demo: DemoSeed) -> None:
    campaigns = [o for o in _latest(demo).values() if o["type"] == "campaign"]
    assert 2 <= len(campaigns) <= 3
    for campaign in campaigns:
        assert NOW - timedelta(days=366) <= parse_timestamp(campaign["first_seen"]) <= NOW


def test_operators_sight_indicators(demo: DemoSeed) -> None:
    latest = _latest(demo)
    sightings = [o for o in latest.values() if o["type"] == "sighting"]
    assert sightings
    operator_identities = {demo.org_identities[o.key] for o in demo.organisations if o.kind == "operator"}
    for sighting in sightings:
        assert latest[sighting["sighting_of_ref"]]["type"] == "indicator"
        assert set(sighting["where_sighted_refs"]) <= operator_identities


# ---- collections and community ---------------------------------------------------------------------------


def test_every_object_belongs_to_existing_collections(demo: DemoSeed) -> None:
    keys = {c.key for c in demo.collections}
    assert {o["id"] for o in demo.objects} == set(demo.object_collections)
    for object_id, collection_keys in demo.object_collections.items():
        assert collection_keys and set(collection_keys) <= keys, object_id


def test_collection_ids_are_unique_uuids_under_the_partners_root(demo: DemoSeed) -> None:
    uuids = [c.uuid for c in demo.collections]
    assert len(set(uuids)) == len(uuids)
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u) for u in uuids
    )
    assert {c.api_root for c in demo.collections} == {"partners"}


def test_red_stays_national_and_the_public_collection_holds_only_clear_or_unmarked(demo: DemoSeed) -> None:
    red, clear = TLP_MARKING_IDS["TLP:RED"], TLP_MARKING_IDS["TLP:CLEAR"]
    for obj in demo.objects:
        refs = set(obj.get("object_marking_refs", []))
        holders = demo.object_collections[obj["id"]]
        if red in refs:
            assert holders == ("national-restricted",), obj["id"]
        if "public-advisories" in holders:
            assert refs <= {clear}, obj["id"]
    assert demo.objects_in("public-advisories")
    assert not any("national-restricted" in a.read_collections for a in demo.agreements)


def test_each_partner_agreement_names_existing_collections(demo: DemoSeed) -> None:
    keys = {c.key for c in demo.collections}
    partners = {o.key for o in demo.organisations if o.kind == "partner"}
    assert {a.partner_key for a in demo.agreements} == partners
    for agreement in demo.agreements:
        assert agreement.read_collections
        assert set(agreement.read_collections) | set(agreement.write_collections) <= keys
    assert len({a.max_tlp for a in demo.agreements}) >= 3


def test_every_role_has_at_least_one_user_in_a_fitting_organisation(demo: DemoSeed) -> None:
    kinds = {o.key: o.kind for o in demo.organisations}
    fitting = {
        "admin": "national_office",
        "analyst": "national_office",
        "operator": "operator",
        "commissioner": "commission",
        "partner": "partner",
    }
    assert {u.role for u in demo.users} == set(fitting)
    for user in demo.users:
        assert kinds[user.organisation_key] == fitting[user.role], user.username
    usernames = [u.username for u in demo.users]
    assert len(set(usernames)) == len(usernames)
    assert {u.locale for u in demo.users} == {"ja", "en"}


def test_operators_cover_the_fifteen_sectors_and_every_organisation_is_labelled_demo(demo: DemoSeed) -> None:
    operators = [o for o in demo.organisations if o.kind == "operator"]
    assert 18 <= len(operators) <= 22
    assert {o.sector for o in operators} == set(CRITICAL_INFRASTRUCTURE_SECTORS)
    assert len(CRITICAL_INFRASTRUCTURE_SECTORS) == 15
    assert all(o.sector is None for o in demo.organisations if o.kind != "operator")
    assert [o.kind for o in demo.organisations].count("national_office") == 1
    assert [o.kind for o in demo.organisations].count("commission") == 1
    assert {o.country for o in demo.organisations if o.kind == "partner"} == {"BE", "US", "AU", "IN", "LT"}
    for org in demo.organisations:
        assert "demo" in org.name.lower() and "デモ" in org.name_ja, org.key
    keys = [o.key for o in demo.organisations]
    assert len(set(keys)) == len(keys)


def test_seed_values_are_immutable(demo: DemoSeed) -> None:
    with pytest.raises(AttributeError):
        demo.users = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        demo.object_collections["x"] = ("y",)  # type: ignore[index]


def test_observed_files_match_the_indicators_based_on_them(demo: DemoSeed) -> None:
    latest = _latest(demo)
    based_on = [
        o for o in latest.values() if o["type"] == "relationship" and o["relationship_type"] == "based-on"
    ]
    assert len(based_on) >= 3
    for rel in based_on:
        indicator, observation = latest[rel["source_ref"]], latest[rel["target_ref"]]
        files = [latest[ref] for ref in observation["object_refs"]]
        assert any(f["hashes"]["SHA-256"] in indicator["pattern"] for f in files), rel["id"]


def test_relationships_are_never_less_restrictive_than_their_ends(demo: DemoSeed) -> None:
    rank = {marking: n for n, marking in enumerate(TLP_MARKING_IDS.values())}

    def level(obj: dict[str, Any]) -> int:
        return max((rank[m] for m in obj.get("object_marking_refs", [])), default=-1)

    latest = _latest(demo)
    for rel in (o for o in latest.values() if o["type"] == "relationship"):
        assert level(rel) >= max(level(latest[rel["source_ref"]]), level(latest[rel["target_ref"]])), rel[
            "id"
        ]


def test_objects_in_a_collection_and_the_json_document_agree_with_the_seed(demo: DemoSeed) -> None:
    in_feed = demo.objects_in("indicator-feed")
    assert in_feed and all("indicator-feed" in demo.object_collections[o["id"]] for o in in_feed)
    document = json.loads(demo.to_json())
    assert document["objects"] == list(demo.objects)
    assert {c["key"] for c in document["collections"]} == {c.key for c in demo.collections}


# ---- the same invariants at any time and for any seed --------------------------------------------------


def _check_time_invariants(seed_value: DemoSeed, now: datetime) -> None:
    latest = _latest(seed_value)
    for obj in seed_value.objects:
        for prop in ("created", "modified", "published", "first_seen", "last_seen", "last_observed"):
            if prop in obj:
                assert parse_timestamp(obj[prop]) <= now, (obj["id"], prop)
        if obj["type"] in {"indicator", "sighting", "observed-data", "campaign", "relationship"}:
            stix2.parse(dict(obj), allow_custom=False)  # enforces valid_until > valid_from and the like
        if obj["type"] == "relationship":
            for end in (obj["source_ref"], obj["target_ref"]):
                assert obj["created"] >= latest[end].get("created", ""), obj["id"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    now=st.datetimes(
        # Naive bounds: hypothesis attaches one of the time zones below.
        min_value=datetime(2001, 1, 1),
        max_value=datetime(2199, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]),
    ),
    seed=st.integers(min_value=-(2**63), max_value=2**63),
)
def test_invariants_hold_for_any_time_and_seed(now: datetime, seed: int) -> None:
    built = build_demo(now, seed=seed)
    ids = {o["id"] for o in built.objects}
    for obj in built.objects:
        for prop, ref in _refs(obj):
            assert ref in ids or (prop == "object_marking_refs" and ref in TLP_IDS), (obj["id"], prop, ref)
    _check_time_invariants(built, now)
    latest = [o for o in _latest(built).values() if o["type"] == "indicator"]
    assert len([o for o in latest if o.get("revoked")]) == 1
    assert any("valid_until" in o and parse_timestamp(o["valid_until"]) < now for o in latest)
    assert build_demo(now, seed=seed).to_json() == built.to_json()

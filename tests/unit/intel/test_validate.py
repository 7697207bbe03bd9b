"""Behaviour of STIX 2.1 object validation; the fast path and the stix2 reference path must agree."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.intel.tlp import Tlp, tlp2_marking_definitions
from mamori.intel.validate import Problem, validate_object, validate_objects

U1 = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
U2 = "0b8e7a1c-3f0e-4c1e-9a55-6d2f3c4b5a61"
TS = "2026-01-01T00:00:00.000Z"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def sdo(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{U1}", "created": TS, "modified": TS, **props}


def sco(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{U2}", **props}


INDICATOR = sdo(
    "indicator",
    name="c2",
    pattern="[ipv4-addr:value = '198.51.100.7']",
    pattern_type="stix",
    pattern_version="2.1",
    valid_from="2026-01-01T00:00:00Z",
    valid_until="2026-06-01T00:00:00Z",
    confidence=80,
    labels=["c2"],
    object_marking_refs=[Tlp.AMBER.marking_id],
    created_by_ref=f"identity--{U2}",
    external_references=[{"source_name": "partner", "external_id": "X-1"}],
    kill_chain_phases=[{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "c2"}],
)

VALID: list[dict[str, Any]] = [
    INDICATOR,
    sdo("indicator", pattern="title: x", pattern_type="sigma", valid_from=TS),
    sdo("malware", name="EvilRAT", is_family=True, malware_types=["remote-access-trojan"]),
    sdo("malware", is_family=False),
    sdo("infrastructure", name="c2 net", first_seen=TS, last_seen="2026-02-01T00:00:00Z"),
    sdo("identity", name="CERT", identity_class="organization", sectors=["energy"]),
    sdo("report", name="r", published=TS, object_refs=[f"indicator--{U1}", f"ipv4-addr--{U2}"]),
    sdo("grouping", context="suspicious-activity", object_refs=[f"indicator--{U1}"]),
    sdo(
        "observed-data",
        first_observed=TS,
        last_observed=TS,
        number_observed=3,
        object_refs=[f"ipv4-addr--{U2}"],
    ),
    sdo("relationship", relationship_type="indicates", source_ref=f"indicator--{U1}", target_ref=f"malware--{U2}"),
    sdo("sighting", sighting_of_ref=f"indicator--{U1}", count=4, where_sighted_refs=[f"identity--{U2}"]),
    *tlp2_marking_definitions(),
    sco("ipv4-addr", value="198.51.100.7"),
    {"type": "ipv6-addr", "id": f"ipv6-addr--{U2}", "value": "2001:db8::1"},
    sco("domain-name", value="evil.example"),
    sco("url", value="http://evil.example/"),
    sco("email-addr", value="a@evil.example"),
    sco("autonomous-system", number=64500),
    sco("file", hashes={"SHA-256": SHA256}, name="x.exe", size=10),
    # for the reference path: custom properties, extensions, granular markings, rarer types
    sdo("indicator", pattern="[x-thing:size > 3]", pattern_type="stix", valid_from=TS, x_source_score=7),
    sdo("threat-actor", name="APT-X", threat_actor_types=["nation-state"]),
    sdo("x-custom-thing", label_text="anything"),
    sdo(
        "vehicle",
        extensions={f"extension-definition--{U2}": {"extension_type": "new-sdo"}},
    ),
    sdo(
        "indicator",
        name="n",
        pattern="[domain-name:value = 'evil.example']",
        pattern_type="stix",
        valid_from=TS,
        granular_markings=[{"selectors": ["name"], "marking_ref": Tlp.RED.marking_id}],
    ),
    {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{U1}",
        "created": TS,
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2026 CERT Example"},
    },
    sdo(
        "indicator",
        pattern="[ipv4-addr:value = '192.0.2.1']",
        pattern_type="stix",
        valid_from=TS,
        created="2026-01-01T00:00:00.123456789Z",
        modified="2026-01-01T00:00:00.123456789Z",
    ),
]


def broken(base: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    obj = copy.deepcopy(base)
    change(obj)
    return obj


MALWARE = sdo("malware", name="m", is_family=True)
REPORT = sdo("report", name="r", published=TS, object_refs=[f"indicator--{U1}"])
RELATIONSHIP = sdo("relationship", relationship_type="uses", source_ref=f"malware--{U1}", target_ref=f"tool--{U2}")
SIGHTING = sdo("sighting", sighting_of_ref=f"indicator--{U1}")
OBSERVED = sdo("observed-data", first_observed=TS, last_observed=TS, number_observed=1, object_refs=[f"file--{U2}"])
FILE = sco("file", name="a.exe")

INVALID: list[tuple[str, object, str]] = [
    ("not an object", ["indicator"], "not a JSON object"),
    ("no type", broken(INDICATOR, lambda o: o.pop("type")), "missing 'type'"),
    ("bundle", {"type": "bundle", "id": f"bundle--{U1}", "objects": []}, "bundle"),
    ("unknown type", sdo("vehicle"), "unknown type"),
    ("bad type name", sdo("x-Vehicle"), "'type'"),
    ("no id", broken(INDICATOR, lambda o: o.pop("id")), "missing 'id'"),
    ("id of another type", broken(INDICATOR, lambda o: o.update(id=f"malware--{U1}")), "must start with"),
    ("id not a uuid", broken(INDICATOR, lambda o: o.update(id="indicator--1234")), "not a STIX identifier"),
    (
        "id bad variant",
        broken(INDICATOR, lambda o: o.update(id="indicator--8e2e2d2b-17d4-4cbf-038f-98ee46b3cd3f")),
        "not a STIX identifier",
    ),
    ("id uppercase", broken(INDICATOR, lambda o: o.update(id=f"indicator--{U1.upper()}")), "not a STIX identifier"),
    ("stix 2.0", broken(INDICATOR, lambda o: o.pop("spec_version")), "STIX 2.0"),
    ("spec 2.0", broken(INDICATOR, lambda o: o.update(spec_version="2.0")), "'spec_version'"),
    ("no created", broken(INDICATOR, lambda o: o.pop("created")), "missing 'created'"),
    ("no modified", broken(MALWARE, lambda o: o.pop("modified")), "missing 'modified'"),
    ("timestamp without Z", broken(INDICATOR, lambda o: o.update(created="2026-01-01T00:00:00.000")), "'created'"),
    ("timestamp offset", broken(INDICATOR, lambda o: o.update(modified="2026-01-01T00:00:00+00:00")), "'modified'"),
    ("impossible date", broken(INDICATOR, lambda o: o.update(valid_from="2026-02-30T00:00:00Z")), "real date"),
    ("timestamp number", broken(MALWARE, lambda o: o.update(created=1767225600)), "'created'"),
    (
        "modified before created",
        broken(INDICATOR, lambda o: o.update(modified="2025-01-01T00:00:00Z")),
        "earlier than 'created'",
    ),
    ("confidence 101", broken(INDICATOR, lambda o: o.update(confidence=101)), "'confidence'"),
    ("confidence text", broken(INDICATOR, lambda o: o.update(confidence="80")), "'confidence'"),
    ("labels text", broken(INDICATOR, lambda o: o.update(labels="c2")), "'labels'"),
    ("name number", broken(MALWARE, lambda o: o.update(name=5)), "'name'"),
    ("revoked text", broken(MALWARE, lambda o: o.update(revoked="yes")), "'revoked'"),
    ("author not identity", broken(INDICATOR, lambda o: o.update(created_by_ref=f"malware--{U2}")), "'created_by_ref'"),
    (
        "marking ref not marking",
        broken(INDICATOR, lambda o: o.update(object_marking_refs=[f"identity--{U2}"])),
        "'object_marking_refs'",
    ),
    ("custom property bad name", broken(INDICATOR, lambda o: o.update({"X-Score": 1})), "property name"),
    ("custom property short", broken(INDICATOR, lambda o: o.update(xs=1)), "property name"),
    ("indicator no pattern", broken(INDICATOR, lambda o: o.pop("pattern")), "pattern"),
    ("indicator bad pattern", broken(INDICATOR, lambda o: o.update(pattern="[ipv4-addr:value = ]")), "pattern"),
    (
        "indicator bad hash in pattern",
        broken(INDICATOR, lambda o: o.update(pattern="[file:hashes.MD5 = 'zz']")),
        "hash",
    ),
    ("indicator no valid_from", broken(INDICATOR, lambda o: o.pop("valid_from")), "valid_from"),
    (
        "valid_until not after valid_from",
        broken(INDICATOR, lambda o: o.update(valid_until="2026-01-01T00:00:00Z")),
        "valid_until",
    ),
    (
        "external reference without id",
        broken(INDICATOR, lambda o: o.update(external_references=[{"source_name": "x"}])),
        "external",
    ),
    (
        "kill chain phase incomplete",
        broken(INDICATOR, lambda o: o.update(kill_chain_phases=[{"kill_chain_name": "k"}])),
        "phase",
    ),
    ("malware no is_family", broken(MALWARE, lambda o: o.pop("is_family")), "is_family"),
    ("malware family without name", broken(MALWARE, lambda o: o.pop("name")), "name"),
    (
        "malware seen backwards",
        broken(MALWARE, lambda o: o.update(first_seen="2026-02-01T00:00:00Z", last_seen=TS)),
        "last_seen",
    ),
    ("identity no name", sdo("identity"), "name"),
    ("report no published", broken(REPORT, lambda o: o.pop("published")), "published"),
    ("report empty refs", broken(REPORT, lambda o: o.update(object_refs=[])), "object_refs"),
    ("report bad ref", broken(REPORT, lambda o: o.update(object_refs=["indicator--x"])), "object_refs"),
    ("relationship to marking", broken(RELATIONSHIP, lambda o: o.update(target_ref=Tlp.RED.marking_id)), "target_ref"),
    ("relationship without type", broken(RELATIONSHIP, lambda o: o.pop("relationship_type")), "relationship_type"),
    (
        "relationship stops before start",
        broken(RELATIONSHIP, lambda o: o.update(start_time=TS, stop_time=TS)),
        "stop_time",
    ),
    (
        "sighting of an observable",
        broken(SIGHTING, lambda o: o.update(sighting_of_ref=f"ipv4-addr--{U2}")),
        "sighting_of_ref",
    ),
    ("sighting negative count", broken(SIGHTING, lambda o: o.update(count=-1)), "count"),
    (
        "sighting where not identity",
        broken(SIGHTING, lambda o: o.update(where_sighted_refs=[f"malware--{U2}"])),
        "where_sighted_refs",
    ),
    ("observed-data of an SDO", broken(OBSERVED, lambda o: o.update(object_refs=[f"indicator--{U1}"])), "object_refs"),
    ("observed-data zero count", broken(OBSERVED, lambda o: o.update(number_observed=0)), "number_observed"),
    ("observed-data without refs", broken(OBSERVED, lambda o: o.pop("object_refs")), "object_refs"),
    (
        "observed-data backwards",
        broken(OBSERVED, lambda o: o.update(first_observed="2026-02-01T00:00:00Z")),
        "last_observed",
    ),
    ("file without name or hashes", broken(FILE, lambda o: o.pop("name")), "hashes"),
    ("file bad hash", broken(FILE, lambda o: o.update(hashes={"MD5": "zz"})), "MD5"),
    ("ipv4 without value", sco("ipv4-addr"), "value"),
    ("ipv4 value number", sco("ipv4-addr", value=5), "'value'"),
    ("sco spec 2.0", sco("url", value="http://a.example/", spec_version="2.0"), "'spec_version'"),
    (
        "marking definition without definition",
        {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{U1}", "created": TS},
        "definition",
    ),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("obj", VALID, ids=[f"{i}-{o['type']}" for i, o in enumerate(VALID)])
def test_valid_objects_pass_both_paths(obj: dict[str, Any], fast: bool) -> None:
    validate_object(obj, fast=fast)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize(("case", "obj", "reason"), INVALID, ids=[case for case, _, _ in INVALID])
def test_invalid_objects_are_refused_by_both_paths(case: str, obj: object, reason: str, fast: bool) -> None:
    with pytest.raises(InvalidInput) as e:
        validate_object(obj, fast=fast)
    assert reason.lower() in e.value.message.lower(), e.value.message


def test_batch_returns_valid_objects_as_given_and_problems_by_index() -> None:
    bad = broken(INDICATOR, lambda o: o.update(confidence=500))
    objects: list[object] = [VALID[0], bad, "junk", VALID[-1]]
    valid, problems = validate_objects(objects)
    assert valid[0] is VALID[0] and valid[1] is VALID[-1]
    assert valid[1]["created"] == "2026-01-01T00:00:00.123456789Z"
    assert [(p.index, p.object_id) for p in problems] == [(1, INDICATOR["id"]), (2, None)]
    assert isinstance(problems[0], Problem) and "'confidence'" in problems[0].reason


def test_extension_types_named_by_the_caller_are_accepted() -> None:
    vehicle = sdo("vehicle")
    with pytest.raises(InvalidInput):
        validate_object(vehicle)
    validate_object(vehicle, extension_types={"vehicle"})


def test_failed_validation_leaves_the_input_unchanged() -> None:
    bad = broken(INDICATOR, lambda o: o.update(created="2026-01-01T00:00:00.123456789Z", confidence=500))
    before = copy.deepcopy(bad)
    validate_objects([bad], fast=False)
    assert bad == before


_MUTATIONS: list[Callable[[dict[str, Any]], None]] = [
    lambda o: o.pop("name", None),
    lambda o: o.pop("pattern", None),
    lambda o: o.pop("valid_from", None),
    lambda o: o.update(valid_until="2025-01-01T00:00:00Z"),
    lambda o: o.update(confidence=-1),
    lambda o: o.update(pattern="[ipv4-addr:value = '1.2.3.4'"),
    lambda o: o.update(pattern="[file:hashes.'SHA-1' = 'abc']"),
    lambda o: o.update(is_family="yes"),
    lambda o: o.pop("is_family", None),
    lambda o: o.update(object_refs=[]),
    lambda o: o.update(count=1_000_000_000),
    lambda o: o.update(number_observed=1_000_000_000),
    lambda o: o.update(first_seen="2026-03-01T00:00:00Z", last_seen="2026-02-01T00:00:00Z"),
    lambda o: o.update(external_references=[{"source_name": "a", "url": 5}]),
    lambda o: o.update(kill_chain_phases=[{"kill_chain_name": 1, "phase_name": "x"}]),
    lambda o: o.update(hashes={"SHA-256": "0" * 63}),
    lambda o: o.update(value=None),
    lambda o: o.update(start_time="2026-02-01T00:00:00Z", stop_time="2026-01-01T00:00:00Z"),
    lambda o: o.update(sighting_of_ref=f"relationship--{U2}"),
    lambda o: o.update(relationship_type=7),
    lambda o: o.update(source_ref=f"sighting--{U2}"),
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([o for o in VALID[:19]]),
    st.lists(st.sampled_from(range(len(_MUTATIONS))), min_size=1, max_size=3),
)
def test_both_paths_agree_on_mutated_objects(base: dict[str, Any], changes: list[int]) -> None:
    obj = copy.deepcopy(base)
    for change in changes:
        _MUTATIONS[change](obj)
    verdicts = []
    for fast in (True, False):
        try:
            validate_object(obj, fast=fast)
            verdicts.append(True)
        except InvalidInput:
            verdicts.append(False)
    assert verdicts[0] == verdicts[1], obj


def test_remembered_identifiers_and_timestamps_stay_bounded_and_never_excuse_bad_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mamori.intel import validate as v

    monkeypatch.setattr(v, "_MEMO_LIMIT", 4)
    monkeypatch.setattr(v, "_id_types", {})
    monkeypatch.setattr(v, "_timestamp_keys", {})
    for i in range(10):
        uid = f"indicator--{i:08d}-0000-4000-8000-000000000000"
        assert v._id_type(uid, "id") == "indicator"
        assert v._id_type(uid, "id") == "indicator"  # the remembered answer is the same
        stamp = f"2026-01-0{i % 9 + 1}T00:00:00.5Z"
        assert v._timestamp_key(stamp, "created") == f"2026-01-0{i % 9 + 1}T00:00:00500000000"
        assert len(v._id_types) <= 4 and len(v._timestamp_keys) <= 4
    for _ in range(2):  # refused every time, never remembered
        with pytest.raises(v._Invalid):
            v._id_type("indicator--not-a-uuid", "id")
        with pytest.raises(v._Invalid):
            v._timestamp_key("2026-02-30T00:00:00Z", "created")
    assert "indicator--not-a-uuid" not in v._id_types and "2026-02-30T00:00:00Z" not in v._timestamp_keys

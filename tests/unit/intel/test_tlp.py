"""Behaviour of TLP 2.0 levels, the OASIS marking definitions and the TLP of STIX objects."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import stix2

from mamori.errors import InvalidInput
from mamori.intel.tlp import (
    TLP1_MARKING_IDS,
    TLP2_EXTENSION_ID,
    TLP2_MARKING_IDS,
    Tlp,
    effective_tlp,
    tlp2_marking_definitions,
    tlp_of,
    tlp_of_marking_definition,
)

SHARED_DATA = Path(os.environ.get("MAMORI_SHARED_DATA", Path(__file__).resolve().parents[3] / ".." / "shared" / "data"))
CUSTOM = "marking-definition--0b8e7a1c-3f0e-4c1e-9a55-6d2f3c4b5a61"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("TLP:CLEAR", Tlp.CLEAR),
        ("white", Tlp.CLEAR),
        ("TLP:WHITE", Tlp.CLEAR),
        ("tlp:green", Tlp.GREEN),
        (" Amber ", Tlp.AMBER),
        ("TLP:AMBER+STRICT", Tlp.AMBER_STRICT),
        ("amber+strict", Tlp.AMBER_STRICT),
        ("AMBER_STRICT", Tlp.AMBER_STRICT),
        ("red", Tlp.RED),
    ],
)
def test_levels_are_parsed_from_their_usual_spellings(text: str, level: Tlp) -> None:
    assert Tlp.parse(text) is level


@pytest.mark.parametrize("text", ["", "TLP:", "purple", "tlp:unclear", "amber+"])
def test_unknown_levels_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as e:
        Tlp.parse(text)
    assert e.value.where == "tlp"


def test_levels_are_ordered_by_restriction() -> None:
    assert Tlp.CLEAR < Tlp.GREEN < Tlp.AMBER < Tlp.AMBER_STRICT < Tlp.RED


def test_labels_and_ids() -> None:
    assert Tlp.AMBER_STRICT.label == "TLP:AMBER+STRICT"
    assert Tlp.CLEAR.label == "TLP:CLEAR"
    assert Tlp.AMBER_STRICT.marking_id == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    assert Tlp.AMBER_STRICT.tlp1_marking_id is None
    assert Tlp.CLEAR.tlp1_marking_id == stix2.TLP_WHITE.id
    assert Tlp.RED.tlp1_marking_id == stix2.TLP_RED.id


def test_tlp1_ids_are_those_of_the_stix2_library() -> None:
    assert TLP1_MARKING_IDS == {
        Tlp.CLEAR: stix2.TLP_WHITE.id,
        Tlp.GREEN: stix2.TLP_GREEN.id,
        Tlp.AMBER: stix2.TLP_AMBER.id,
        Tlp.RED: stix2.TLP_RED.id,
    }


def test_the_five_tlp2_marking_definitions_are_valid_stix() -> None:
    definitions = tlp2_marking_definitions()
    assert [d["name"] for d in definitions] == [
        "TLP:CLEAR",
        "TLP:GREEN",
        "TLP:AMBER",
        "TLP:AMBER+STRICT",
        "TLP:RED",
    ]
    for definition, level in zip(definitions, Tlp, strict=True):
        stix2.parse(definition, version="2.1")
        assert definition["id"] == TLP2_MARKING_IDS[level]
        assert definition["created"] == "2022-10-01T00:00:00.000Z"
        assert definition["created_by_ref"] == "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"
        assert definition["extensions"][TLP2_EXTENSION_ID] == {
            "extension_type": "property-extension",
            "tlp_2_0": level.tlp2_value,
        }
        assert tlp_of_marking_definition(definition) is level


def test_unmarked_object_has_no_tlp() -> None:
    assert tlp_of({"type": "indicator", "id": "indicator--1"}) is None


def test_highest_of_tlp1_and_tlp2_markings_wins() -> None:
    obj = {"type": "indicator", "object_marking_refs": [stix2.TLP_GREEN.id, Tlp.AMBER.marking_id]}
    assert tlp_of(obj) is Tlp.AMBER


def test_granular_markings_count_towards_the_level() -> None:
    obj = {
        "type": "report",
        "object_marking_refs": [Tlp.GREEN.marking_id],
        "granular_markings": [{"selectors": ["description"], "marking_ref": Tlp.RED.marking_id}],
    }
    assert tlp_of(obj) is Tlp.RED


def test_non_tlp_markings_are_ignored() -> None:
    statement = {"id": CUSTOM, "definition_type": "statement", "definition": {"statement": "Copyright"}}
    obj = {"type": "indicator", "object_marking_refs": [CUSTOM, Tlp.GREEN.marking_id]}
    assert tlp_of(obj, {CUSTOM: statement}) is Tlp.GREEN


@pytest.mark.parametrize(
    ("definition", "level"),
    [
        ({"definition_type": "tlp", "definition": {"tlp": "amber"}}, Tlp.AMBER),
        ({"extensions": {"extension-definition--x": {"tlp_2_0": "amber+strict"}}}, Tlp.AMBER_STRICT),
        ({"name": "TLP:GREEN"}, Tlp.GREEN),
        ({"name": "TLP:UNHEARD-OF"}, Tlp.RED),
        ({"definition_type": "tlp", "definition": {"tlp": 7}}, Tlp.RED),
    ],
)
def test_custom_marking_definitions_that_state_a_tlp_are_recognised(definition: dict[str, object], level: Tlp) -> None:
    obj = {"type": "indicator", "object_marking_refs": [CUSTOM]}
    assert tlp_of(obj, {CUSTOM: {"id": CUSTOM, **definition}}) is level


def test_unknown_marking_reference_without_definition_is_no_tlp() -> None:
    assert tlp_of({"type": "indicator", "object_marking_refs": [CUSTOM]}) is None


def test_a_marking_definition_is_clear() -> None:
    assert tlp_of({"type": "marking-definition", "object_marking_refs": [Tlp.RED.marking_id]}) is Tlp.CLEAR


def test_effective_tlp_uses_the_default_only_for_unmarked_objects() -> None:
    assert effective_tlp(None, Tlp.AMBER) is Tlp.AMBER
    assert effective_tlp(Tlp.CLEAR, Tlp.AMBER) is Tlp.CLEAR


@pytest.mark.shared_data
def test_every_level_of_the_misp_tlp_taxonomy_is_understood_or_refused() -> None:
    path = SHARED_DATA / "taxonomies" / "tlp" / "machinetag.json"
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    taxonomy = json.loads(path.read_text(encoding="utf-8"))
    values = [predicate["value"] for predicate in taxonomy["predicates"]]
    understood: dict[str, Tlp | None] = {}
    for value in values:
        try:
            understood[value] = Tlp.parse(f"{taxonomy['namespace']}:{value}")
        except InvalidInput:
            understood[value] = None
    assert understood["clear"] is understood["white"] is Tlp.CLEAR
    assert understood["amber+strict"] is Tlp.AMBER_STRICT
    assert understood["red"] is Tlp.RED
    # the taxonomy's non-level values are not mistaken for levels
    assert all(level is None for value, level in understood.items() if value in ("ex:chr", "unclear"))

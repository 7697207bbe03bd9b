"""Traffic Light Protocol 2.0 (FIRST, 2022) levels and how STIX 2.1 objects carry them.

STIX 2.1 marks objects by reference (section 7.2): ``object_marking_refs`` for the whole object and
``granular_markings`` for parts of it. Two sets of TLP marking definitions are in use:

* TLP 1.0, predefined by STIX 2.1 section 7.2.1.4 (``stix2.TLP_WHITE`` … ``stix2.TLP_RED``);
  TLP 1.0 WHITE is read as TLP 2.0 CLEAR, and TLP 1.0 has no AMBER+STRICT;
* TLP 2.0, published by OASIS as marking definitions that carry the property extension
  ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`` with a ``tlp_2_0`` value.

:func:`tlp_of` fails closed: it takes the highest level found among object and granular markings,
since a consumer that honours only part of an object's markings would leak the rest; a marking that
says it is TLP but names no level it understands counts as RED.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any, Final

from mamori.errors import InvalidInput

TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDENTITY_ID: Final = "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"
TLP2_CREATED: Final = "2022-10-01T00:00:00.000Z"

_ALIASES: Final[dict[str, int]] = {
    "clear": 0,
    "white": 0,
    "green": 1,
    "amber": 2,
    "amber+strict": 3,
    "amber_strict": 3,
    "amber-strict": 3,
    "amberstrict": 3,
    "red": 4,
}


class Tlp(IntEnum):
    """A TLP 2.0 level; the order is the order of restriction (CLEAR < … < RED)."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @classmethod
    def parse(cls, text: str | Tlp) -> Tlp:
        """Read ``TLP:AMBER+STRICT``, ``amber+strict``, ``tlp:white`` (TLP 1.0 WHITE = CLEAR) and so on."""
        if isinstance(text, Tlp):
            return text
        if not isinstance(text, str):
            raise InvalidInput(f"TLP level must be text, got {type(text).__name__}", where="tlp")
        key = text.strip().lower().replace(" ", "")
        if key.startswith("tlp:"):
            key = key[4:]
        elif key.startswith("tlp-") or key.startswith("tlp_"):
            key = key[4:]
        level = _ALIASES.get(key)
        if level is None:
            raise InvalidInput(
                f"unknown TLP level {text!r}: expected CLEAR, GREEN, AMBER, AMBER+STRICT or RED", where="tlp"
            )
        return cls(level)

    @property
    def label(self) -> str:
        """The TLP 2.0 label: ``TLP:CLEAR``, ``TLP:AMBER+STRICT``, …"""
        return "TLP:" + self.name.replace("_", "+")

    @property
    def tlp2_value(self) -> str:
        """The ``tlp_2_0`` value of the OASIS extension: ``clear``, ``amber+strict``, …"""
        return self.name.lower().replace("_", "+")

    @property
    def marking_id(self) -> str:
        """The id of the OASIS TLP 2.0 marking definition for this level."""
        return TLP2_MARKING_IDS[self]

    @property
    def tlp1_marking_id(self) -> str | None:
        """The id of the STIX 2.1 predefined TLP 1.0 marking (None for AMBER+STRICT, which TLP 1.0 lacks)."""
        return TLP1_MARKING_IDS.get(self)


TLP2_MARKING_IDS: Final[dict[Tlp, str]] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# The predefined TLP 1.0 markings of STIX 2.1 section 7.2.1.4 (the same ids as stix2.TLP_*).
TLP1_MARKING_IDS: Final[dict[Tlp, str]] = {
    Tlp.CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    Tlp.GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    Tlp.AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    Tlp.RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

KNOWN_TLP_MARKINGS: Final[dict[str, Tlp]] = {
    **{marking: level for level, marking in TLP2_MARKING_IDS.items()},
    **{marking: level for level, marking in TLP1_MARKING_IDS.items()},
}


def tlp2_marking_definition(level: Tlp) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking definition object of one level, as a plain STIX 2.1 dict."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": level.marking_id,
        "created": TLP2_CREATED,
        "created_by_ref": TLP2_IDENTITY_ID,
        "name": level.label,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level.tlp2_value}},
    }


def tlp2_marking_definitions() -> list[dict[str, Any]]:
    """The five OASIS TLP 2.0 marking definitions, CLEAR to RED."""
    return [tlp2_marking_definition(level) for level in Tlp]


def tlp_of_marking_definition(definition: Mapping[str, Any]) -> Tlp | None:
    """The TLP level a marking definition stands for, or None when it is no TLP marking.

    Recognised: the well-known ids, ``definition_type: tlp`` with ``definition.tlp`` (TLP 1.0 style),
    the ``tlp_2_0`` property of any extension, and a ``name`` of the form ``TLP:<level>``. A marking
    that claims to be TLP but names an unknown level is RED (fail closed).
    """
    known = KNOWN_TLP_MARKINGS.get(str(definition.get("id", "")))
    if known is not None:
        return known
    claims: list[object] = []
    if definition.get("definition_type") == "tlp":
        body = definition.get("definition")
        claims.append(body.get("tlp") if isinstance(body, Mapping) else None)
    extensions = definition.get("extensions")
    if isinstance(extensions, Mapping):
        for extension in extensions.values():
            if isinstance(extension, Mapping) and "tlp_2_0" in extension:
                claims.append(extension.get("tlp_2_0"))
    name = definition.get("name")
    if isinstance(name, str) and name.strip().upper().startswith("TLP:"):
        claims.append(name)
    if not claims:
        return None
    levels: list[Tlp] = []
    for claim in claims:
        try:
            levels.append(Tlp.parse(claim) if isinstance(claim, str) else Tlp.RED)
        except InvalidInput:
            levels.append(Tlp.RED)
    return max(levels)


def _marking_refs(obj: Mapping[str, Any]) -> Iterable[str]:
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list):
        yield from (ref for ref in refs if isinstance(ref, str))
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        for marking in granular:
            if isinstance(marking, Mapping) and isinstance(marking.get("marking_ref"), str):
                yield marking["marking_ref"]


def tlp_of(obj: Mapping[str, Any], known_markings: Mapping[str, Mapping[str, Any]] | None = None) -> Tlp | None:
    """The highest TLP level among an object's markings (object-level and granular); None if it has none.

    ``known_markings`` maps marking-definition ids to their objects, so that custom marking definitions
    that stand for a TLP level are recognised too. A marking definition itself is TLP:CLEAR.
    """
    if obj.get("type") == "marking-definition":
        return Tlp.CLEAR
    found: Tlp | None = None
    for ref in _marking_refs(obj):
        level = KNOWN_TLP_MARKINGS.get(ref)
        if level is None and known_markings is not None and ref in known_markings:
            level = tlp_of_marking_definition(known_markings[ref])
        if level is not None and (found is None or level > found):
            found = level
    return found


def effective_tlp(tlp: Tlp | None, default_unmarked: Tlp) -> Tlp:
    """The level to enforce: the object's own, or the deployment's default for unmarked objects."""
    return default_unmarked if tlp is None else tlp

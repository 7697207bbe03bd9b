"""Validation of STIX 2.1 objects (OASIS STIX 2.1, sections 2-7 and 11) before they are stored.

Every object first goes through the checks that ``stix2`` leaves out or is lenient about:

* ``type`` is a STIX 2.1 type, an ``x-`` custom type, or a type that an extension definition introduces
  (``extension_type`` ``new-sdo`` / ``new-sco`` / ``new-sro`` in the object's ``extensions``, or a type
  the caller names in ``extension_types``), section 11.1 / 7.3; ``bundle`` is not an object;
* ``id`` is ``<type>--<RFC 4122 UUID>`` in lowercase, matching ``type`` (section 2.9);
* ``spec_version`` is ``"2.1"``; it is required on everything but cyber-observables (SCOs), so STIX
  2.0 objects are refused with that reason rather than upgraded silently (section 3.2);
* timestamps are RFC 3339 in UTC with ``Z`` (section 2.15), ``modified >= created`` (section 3.2);
* custom property names are 3-250 characters of ``a-z``, ``0-9`` and ``_`` (section 11.1);
* common and well-known properties have their JSON types (``confidence`` an integer 0-100, ``labels``
  a list of strings, references identifiers of the right type, …).

Then one of two paths checks the rest:

* the **fast path**, for plain instances of the common types (indicator, malware, infrastructure,
  identity, relationship, sighting, report, observed-data, TLP 2.0 marking definitions and the simple
  cyber-observables): required properties, value ranges, ordering of time pairs, and STIX patterns with
  :func:`mamori.intel.patterns.parse_pattern`;
* the **reference path**, ``stix2.parse(..., allow_custom=True)``, for everything else (custom
  properties, extensions, granular markings, rarer types) and for every object when ``fast=False``.

Both paths reject the same objects in the test suite. Valid objects are returned exactly as given
(timestamps keep their precision).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, NamedTuple

from mamori.errors import InvalidInput
from mamori.intel.patterns import Comparison, hash_value_ok, parse_pattern
from mamori.intel.tlp import TLP2_EXTENSION_ID


@dataclass(frozen=True)
class Problem:
    """Why the object at ``index`` was refused."""

    index: int
    object_id: str | None
    reason: str


class Checked(NamedTuple):
    """What validation learnt about a valid object, so that storing it need not work it out again."""

    kind: str
    stamps: dict[str, str]  # timestamp property -> sortable key (``_timestamp_key``)
    comparisons: list[Comparison] | None  # a STIX pattern's comparisons, when the fast path parsed it


class _Invalid(Exception):
    """Internal: one reason an object is invalid."""


class _NeedsReference(Exception):
    """Internal: the fast path does not cover this object; use stix2."""


# --------------------------------------------------------------------------------------------------
# Vocabulary of STIX 2.1 types
# --------------------------------------------------------------------------------------------------

SDO_TYPES: Final = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
SRO_TYPES: Final = frozenset({"relationship", "sighting"})
META_TYPES: Final = frozenset({"marking-definition", "language-content", "extension-definition"})
SCO_TYPES: Final = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
KNOWN_TYPES: Final = SDO_TYPES | SRO_TYPES | META_TYPES | SCO_TYPES
_NOT_REFERENCEABLE: Final = frozenset({"bundle", "language-content", "marking-definition", "extension-definition"})

_TYPE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_ID = re.compile(r"^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--" + _UUID + r"$")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.(\d{1,9}))?Z$"
)
_PROPERTY_NAME = re.compile(r"^[a-z0-9_]{3,250}$")

# Top-level timestamp properties of SDOs, SROs and meta objects (checked on every object).
TIMESTAMP_PROPERTIES: Final = frozenset(
    {
        "created",
        "modified",
        "valid_from",
        "valid_until",
        "published",
        "first_seen",
        "last_seen",
        "first_observed",
        "last_observed",
        "start_time",
        "stop_time",
    }
)


# --------------------------------------------------------------------------------------------------
# Property checks (shared by both paths)
# --------------------------------------------------------------------------------------------------


# Checked identifiers and timestamps, by text: a bundle names the same markings, identities and targets, and often
# the same instants, again and again. Bounded: emptied when full.
_MEMO_LIMIT = 1 << 16
_id_types: dict[str, str] = {}
_timestamp_keys: dict[str, str] = {}


def _timestamp_key(text: object, name: str) -> str:
    """A key that sorts as the instant does (fraction padded to nanoseconds); _Invalid if no timestamp."""
    key = _timestamp_keys.get(text) if type(text) is str else None
    if key is not None:
        return key
    key = _timestamp_key_of(text, name)
    if len(_timestamp_keys) >= _MEMO_LIMIT:
        _timestamp_keys.clear()
    _timestamp_keys[text] = key  # type: ignore[index]  # a str: _timestamp_key_of accepted it
    return key


def _timestamp_key_of(text: object, name: str) -> str:
    if not isinstance(text, str):
        raise _Invalid(f"'{name}' must be a timestamp string")
    match = _TIMESTAMP.match(text)
    if match is None:
        raise _Invalid(f"'{name}' is not an RFC 3339 UTC timestamp ending in 'Z': {text!r}")
    if match.group(3) > "28":  # only the last days of a month can fail to exist
        try:
            date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError as e:
            raise _Invalid(f"'{name}' is not a real date and time: {text!r}") from e
    return text[:19] + (match.group(4) or "").ljust(9, "0")


def _is_string(value: object, name: str) -> None:
    if not isinstance(value, str):
        raise _Invalid(f"'{name}' must be a string")


def _is_bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise _Invalid(f"'{name}' must be true or false")


def _integer(low: int, high: int) -> Callable[[object, str], None]:
    def check(value: object, name: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"'{name}' must be an integer")
        if not low <= value <= high:
            raise _Invalid(f"'{name}' must be between {low} and {high}, got {value}")

    return check


def _string_list(value: object, name: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid(f"'{name}' must be a list of strings")


def _id_type(value: object, name: str) -> str:
    kind = _id_types.get(value) if type(value) is str else None
    if kind is not None:
        return kind
    if not isinstance(value, str):
        raise _Invalid(f"'{name}' must be an identifier string")
    match = _ID.match(value)
    if match is None:
        raise _Invalid(f"'{name}' is not a STIX identifier (<type>--<lowercase RFC 4122 UUID>): {value!r}")
    if len(_id_types) >= _MEMO_LIMIT:
        _id_types.clear()
    kind = _id_types[value] = match.group(1)
    return kind


def _reference(*allowed: str) -> Callable[[object, str], None]:
    def check(value: object, name: str) -> None:
        kind = _id_type(value, name)
        if allowed and kind not in allowed:
            raise _Invalid(f"'{name}' must refer to {' or '.join(allowed)}, not {kind}")

    return check


def _reference_list(*allowed: str, non_empty: bool = False) -> Callable[[object, str], None]:
    single = _reference(*allowed)

    def check(value: object, name: str) -> None:
        if not isinstance(value, list):
            raise _Invalid(f"'{name}' must be a list of identifiers")
        if non_empty and not value:
            raise _Invalid(f"'{name}' must not be empty")
        for item in value:
            single(item, name)

    return check


def _any_reference(value: object, name: str) -> None:
    _id_type(value, name)


PropertyCheck = Callable[[object, str], None]

_COMMON_RULES: Final[dict[str, PropertyCheck]] = {
    "created_by_ref": _reference("identity"),
    "revoked": _is_bool,
    "labels": _string_list,
    "confidence": _integer(0, 100),
    "lang": _is_string,
    "object_marking_refs": _reference_list("marking-definition"),
    "name": _is_string,
    "description": _is_string,
    "defanged": _is_bool,
}

# Type-specific property rules: JSON types only; presence and cross-field rules come later.
_TYPE_RULES: Final[dict[str, dict[str, PropertyCheck]]] = {
    "indicator": {
        "pattern": _is_string,
        "pattern_type": _is_string,
        "pattern_version": _is_string,
        "indicator_types": _string_list,
    },
    "malware": {
        "is_family": _is_bool,
        "malware_types": _string_list,
        "aliases": _string_list,
        "capabilities": _string_list,
        "architecture_execution_envs": _string_list,
        "implementation_languages": _string_list,
    },
    "infrastructure": {"infrastructure_types": _string_list, "aliases": _string_list},
    "identity": {
        "identity_class": _is_string,
        "sectors": _string_list,
        "roles": _string_list,
        "contact_information": _is_string,
    },
    "report": {"report_types": _string_list, "object_refs": _reference_list(non_empty=True)},
    "grouping": {"context": _is_string, "object_refs": _reference_list(non_empty=True)},
    "observed-data": {"number_observed": _integer(1, 999999999), "object_refs": _reference_list(non_empty=True)},
    "relationship": {
        "relationship_type": _is_string,
        "source_ref": _any_reference,
        "target_ref": _any_reference,
    },
    "sighting": {
        "count": _integer(0, 999999999),
        "sighting_of_ref": _any_reference,
        "observed_data_refs": _reference_list("observed-data"),
        "where_sighted_refs": _reference_list("identity", "location"),
        "summary": _is_bool,
    },
    "ipv4-addr": {"value": _is_string},
    "ipv6-addr": {"value": _is_string},
    "domain-name": {"value": _is_string},
    "url": {"value": _is_string},
    "email-addr": {"value": _is_string, "display_name": _is_string},
    "mac-addr": {"value": _is_string},
    "autonomous-system": {"number": _integer(0, 4294967295), "rir": _is_string},
    "file": {"size": _integer(0, 2**63 - 1), "mime_type": _is_string},
}

# Properties every SDO/SRO may carry, and the extra ones the fast path understands per type.
_SDO_COMMON: Final = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "created_by_ref",
        "revoked",
        "labels",
        "confidence",
        "lang",
        "external_references",
        "object_marking_refs",
    }
)
_SCO_COMMON: Final = frozenset({"type", "spec_version", "id", "object_marking_refs", "defanged"})
_FAST_PROPERTIES: Final[dict[str, frozenset[str]]] = {
    "indicator": _SDO_COMMON
    | {
        "name",
        "description",
        "indicator_types",
        "pattern",
        "pattern_type",
        "pattern_version",
        "valid_from",
        "valid_until",
        "kill_chain_phases",
    },
    "malware": _SDO_COMMON
    | {
        "name",
        "description",
        "malware_types",
        "is_family",
        "aliases",
        "kill_chain_phases",
        "first_seen",
        "last_seen",
        "capabilities",
        "architecture_execution_envs",
        "implementation_languages",
    },
    "infrastructure": _SDO_COMMON
    | {
        "name",
        "description",
        "infrastructure_types",
        "aliases",
        "kill_chain_phases",
        "first_seen",
        "last_seen",
    },
    "identity": _SDO_COMMON | {"name", "description", "roles", "identity_class", "sectors", "contact_information"},
    "report": _SDO_COMMON | {"name", "description", "report_types", "published", "object_refs"},
    "grouping": _SDO_COMMON | {"name", "description", "context", "object_refs"},
    "observed-data": _SDO_COMMON | {"first_observed", "last_observed", "number_observed", "object_refs"},
    "relationship": _SDO_COMMON
    | {"relationship_type", "description", "source_ref", "target_ref", "start_time", "stop_time"},
    "sighting": _SDO_COMMON
    | {
        "description",
        "first_seen",
        "last_seen",
        "count",
        "sighting_of_ref",
        "observed_data_refs",
        "where_sighted_refs",
        "summary",
    },
    "marking-definition": frozenset(
        {
            "type",
            "spec_version",
            "id",
            "created",
            "created_by_ref",
            "name",
            "extensions",
            "object_marking_refs",
        }
    ),
    "ipv4-addr": _SCO_COMMON | {"value"},
    "ipv6-addr": _SCO_COMMON | {"value"},
    "domain-name": _SCO_COMMON | {"value"},
    "url": _SCO_COMMON | {"value"},
    "email-addr": _SCO_COMMON | {"value", "display_name"},
    "mac-addr": _SCO_COMMON | {"value"},
    "autonomous-system": _SCO_COMMON | {"number", "name", "rir"},
    "file": _SCO_COMMON | {"hashes", "name", "size", "mime_type"},
}
# Names that need no check against the custom-property rule (``id`` is shorter than custom names may be).
_STANDARD_NAMES: Final = frozenset().union(*_FAST_PROPERTIES.values())

_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "malware": ("is_family",),
    "infrastructure": ("name",),
    "identity": ("name",),
    "report": ("name", "published", "object_refs"),
    "grouping": ("context", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed", "object_refs"),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "domain-name": ("value",),
    "url": ("value",),
    "email-addr": ("value",),
    "mac-addr": ("value",),
    "autonomous-system": ("number",),
}
_FAST_HASHES: Final = frozenset({"MD5", "SHA-1", "SHA-256", "SHA-512"})
# Required by STIX 2.1 but filled in with "now" by stix2 when absent, so checked before either path.
_DEFAULTED_BY_STIX2: Final[dict[str, tuple[str, ...]]] = {"indicator": ("valid_from",)}


def _declares_new_type(obj: Mapping[str, Any]) -> bool:
    extensions = obj.get("extensions")
    if not isinstance(extensions, Mapping):
        return False
    return any(
        isinstance(key, str)
        and key.startswith("extension-definition--")
        and isinstance(body, Mapping)
        and body.get("extension_type") in ("new-sdo", "new-sco", "new-sro")
        for key, body in extensions.items()
    )


def _timestamp_rule(value: object, name: str) -> None:
    """Marks timestamp properties in a rules table: ``_common_checks`` keys them instead."""
    raise AssertionError(name)


_RULES_BY_KIND: dict[str, dict[str, PropertyCheck]] = {}


def _rules_for(kind: str) -> dict[str, PropertyCheck]:
    """Every property check for one type in one table: timestamps, common rules, then the type's own."""
    rules = _RULES_BY_KIND.get(kind)
    if rules is None:
        rules = dict.fromkeys(TIMESTAMP_PROPERTIES, _timestamp_rule)
        rules.update(_COMMON_RULES)
        rules["external_references"] = _external_references
        rules["kill_chain_phases"] = _kill_chain_phases
        rules.update(_TYPE_RULES.get(kind, {}))
        if len(_RULES_BY_KIND) < 1024:  # custom types are unbounded: cache only so many
            _RULES_BY_KIND[kind] = rules
    return rules


class _Shape(NamedTuple):
    """What follows from an object's type and property names alone, worked out once per distinct shape (a feed
    sends thousands of objects with the same properties)."""

    is_sco: bool
    stamps: tuple[str, ...]  # timestamp properties present
    checks: tuple[tuple[str, PropertyCheck], ...]  # value checks to run
    missing: str | None  # why the object lacks a property every object of its type needs
    fast: bool  # the fast path understands every property
    fast_missing: str | None  # a property the fast path requires that is absent


_SHAPES: dict[tuple[str, tuple[str, ...]], _Shape] = {}


def _shape_of(kind: str, names: tuple[str, ...]) -> _Shape:
    shape = _SHAPES.get((kind, names))
    if shape is not None:
        return shape
    rules = _rules_for(kind)
    stamps: list[str] = []
    checks: list[tuple[str, PropertyCheck]] = []
    for name in names:
        rule = rules.get(name)
        if rule is None:
            if name not in _STANDARD_NAMES and not _PROPERTY_NAME.match(name):
                raise _Invalid(f"property name {name!r} must be 3-250 characters of a-z, 0-9 and '_'")
        elif rule is _timestamp_rule:
            stamps.append(name)
        else:
            checks.append((name, rule))
    present = frozenset(names)
    is_sco = kind in SCO_TYPES or (kind not in KNOWN_TYPES and "created" not in present)
    missing = None
    if kind in KNOWN_TYPES and not is_sco:
        for name in ("created",) if kind == "marking-definition" else ("created", "modified"):
            if name not in present:
                missing = f"missing '{name}'"
                break
    if missing is None:
        for name in _DEFAULTED_BY_STIX2.get(kind, ()):
            if name not in present:
                missing = f"missing required property '{name}' for {kind}"
                break
    allowed = _FAST_PROPERTIES.get(kind)
    fast_missing = next((f"missing required property '{n}' for {kind}" for n in _REQUIRED.get(kind, ())
                         if n not in present), None)
    shape = _Shape(is_sco, tuple(stamps), tuple(checks), missing,
                   allowed is not None and allowed.issuperset(present), fast_missing)
    if len(_SHAPES) < 4096:  # shapes are as many as producers make: keep only so many
        _SHAPES[(kind, names)] = shape
    return shape


def _common_checks(obj: Mapping[str, Any], extension_types: Collection[str]) -> tuple[str, _Shape, dict[str, str]]:
    """Checks shared by both paths; returns (type, its shape, timestamp keys)."""
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind:
        raise _Invalid("missing 'type'")
    if kind not in KNOWN_TYPES:
        if kind == "bundle":
            raise _Invalid("a bundle is not a STIX object: submit the objects it contains")
        if not (3 <= len(kind) <= 250) or not _TYPE.match(kind):
            raise _Invalid(f"'type' {kind!r} must be 3-250 characters of a-z, 0-9 and single hyphens")
        if not (kind.startswith("x-") or kind in extension_types or _declares_new_type(obj)):
            raise _Invalid(
                f"unknown type {kind!r}: custom object types must start with 'x-' "
                "or be defined by an extension-definition (new-sdo/new-sco/new-sro)"
            )
    if "id" not in obj:
        raise _Invalid("missing 'id'")
    if _id_type(obj["id"], "id") != kind:
        raise _Invalid(f"'id' must start with '{kind}--'")
    shape = _shape_of(kind, tuple(obj))
    spec = obj.get("spec_version")
    if spec is None and not shape.is_sco:
        raise _Invalid("missing 'spec_version': only STIX 2.1 objects are accepted (upgrade STIX 2.0 content first)")
    if spec is not None and spec != "2.1":
        raise _Invalid(f"'spec_version' must be '2.1', got {spec!r}")
    keys = {name: _timestamp_key(obj[name], name) for name in shape.stamps}
    if shape.missing is not None:
        raise _Invalid(shape.missing)
    if "created" in keys and "modified" in keys and keys["modified"] < keys["created"]:
        raise _Invalid("'modified' is earlier than 'created'")
    for name, rule in shape.checks:
        rule(obj[name], name)
    return kind, shape, keys


# --------------------------------------------------------------------------------------------------
# Fast path
# --------------------------------------------------------------------------------------------------


def _order(keys: Mapping[str, str], first: str, last: str, *, strict: bool) -> None:
    if first in keys and last in keys:
        a, b = keys[first], keys[last]
        if b < a or (strict and b == a):
            relation = "later than" if strict else "at or after"
            raise _Invalid(f"'{last}' must be {relation} '{first}'")


def _external_references(value: object, name: str = "external_references") -> None:
    if not isinstance(value, list):
        raise _Invalid("'external_references' must be a list")
    for reference in value:
        if not isinstance(reference, Mapping):
            raise _Invalid("'external_references' items must be objects")
        if not isinstance(reference.get("source_name"), str):
            raise _Invalid("an external reference needs a 'source_name' string")
        for field in ("description", "url", "external_id"):
            if field in reference and not isinstance(reference[field], str):
                raise _Invalid(f"external reference '{field}' must be a string")
        if not ({"description", "url", "external_id"} & set(reference)):
            raise _Invalid("an external reference needs a description, url or external_id")


def _kill_chain_phases(value: object, name: str = "kill_chain_phases") -> None:
    if not isinstance(value, list):
        raise _Invalid("'kill_chain_phases' must be a list")
    for phase in value:
        if not isinstance(phase, Mapping):
            raise _Invalid("'kill_chain_phases' items must be objects")
        for field in ("kill_chain_name", "phase_name"):
            if not isinstance(phase.get(field), str):
                raise _Invalid(f"a kill chain phase needs a '{field}' string")


def _plain_parts(obj: Mapping[str, Any]) -> None:
    """External references and kill chain phases with keys beyond the fast path's go to stix2."""
    for reference in obj.get("external_references", ()):
        if set(reference) - {"source_name", "description", "url", "external_id"}:
            raise _NeedsReference
    for phase in obj.get("kill_chain_phases", ()):
        if set(phase) - {"kill_chain_name", "phase_name"}:
            raise _NeedsReference


def _refs_are_known(value: object, allowed: frozenset[str]) -> None:
    """Reference lists whose types the fast path cannot judge go to stix2."""
    refs = value if isinstance(value, list) else [value]
    for ref in refs:
        if str(ref).split("--", 1)[0] not in allowed:
            raise _NeedsReference


_OBJECT_REF_TYPES: Final = SDO_TYPES | SRO_TYPES | SCO_TYPES
_SOURCE_TARGET_TYPES: Final = SDO_TYPES | SCO_TYPES


def _fast(obj: Mapping[str, Any], kind: str, shape: _Shape, keys: Mapping[str, str]) -> list[Comparison] | None:
    """The rest of the checks for the common shapes; a STIX pattern's comparisons when it parsed one."""
    if not shape.fast:
        raise _NeedsReference
    if shape.fast_missing is not None:
        raise _Invalid(shape.fast_missing)
    _plain_parts(obj)
    if kind == "indicator":
        _order(keys, "valid_from", "valid_until", strict=True)
        if obj["pattern_type"] == "stix":
            try:
                return parse_pattern(obj["pattern"])
            except InvalidInput as e:
                raise _Invalid(f"bad STIX pattern at {e.where}: {e.message}") from e
    elif kind == "malware":
        _order(keys, "first_seen", "last_seen", strict=False)
        if obj["is_family"] and "name" not in obj:
            raise _Invalid("'name' is required for malware families")
    elif kind == "infrastructure":
        _order(keys, "first_seen", "last_seen", strict=False)
    elif kind in ("report", "grouping"):
        _refs_are_known(obj["object_refs"], _OBJECT_REF_TYPES)
    elif kind == "observed-data":
        _order(keys, "first_observed", "last_observed", strict=False)
        for ref in obj["object_refs"]:
            ref_type = ref.split("--", 1)[0]
            if ref_type in SDO_TYPES or ref_type in META_TYPES:
                raise _Invalid(f"'object_refs' of observed-data must refer to SCOs or SROs, not {ref_type}")
        _refs_are_known(obj["object_refs"], SCO_TYPES | SRO_TYPES)
    elif kind == "relationship":
        _order(keys, "start_time", "stop_time", strict=True)
        for name in ("source_ref", "target_ref"):
            ref_type = obj[name].split("--", 1)[0]
            if ref_type in _NOT_REFERENCEABLE or ref_type in SRO_TYPES:
                raise _Invalid(f"'{name}' may not refer to a {ref_type}")
            _refs_are_known(obj[name], _SOURCE_TARGET_TYPES)
    elif kind == "sighting":
        _order(keys, "first_seen", "last_seen", strict=False)
        ref_type = obj["sighting_of_ref"].split("--", 1)[0]
        if ref_type in SCO_TYPES or ref_type in SRO_TYPES or ref_type in META_TYPES:
            raise _Invalid(f"'sighting_of_ref' must refer to an SDO, not {ref_type}")
        _refs_are_known(obj["sighting_of_ref"], SDO_TYPES)
    elif kind == "marking-definition":
        extensions = obj.get("extensions")
        if not (
            isinstance(extensions, Mapping)
            and set(extensions) == {TLP2_EXTENSION_ID}
            and isinstance(extensions[TLP2_EXTENSION_ID], Mapping)
            and set(extensions[TLP2_EXTENSION_ID]) == {"extension_type", "tlp_2_0"}
            and extensions[TLP2_EXTENSION_ID]["extension_type"] == "property-extension"
            and isinstance(extensions[TLP2_EXTENSION_ID]["tlp_2_0"], str)
        ):
            raise _NeedsReference
    elif kind == "file":
        if "hashes" not in obj and "name" not in obj:
            raise _Invalid("a file needs 'hashes' or 'name'")
        hashes = obj.get("hashes", {})
        if not isinstance(hashes, Mapping) or not _FAST_HASHES.issuperset(hashes):
            raise _NeedsReference
        for algorithm, digest in hashes.items():
            if not isinstance(digest, str) or not hash_value_ok(algorithm, digest):
                raise _Invalid(f"{digest!r} is not a valid {algorithm} hash")
    return None


# --------------------------------------------------------------------------------------------------
# Reference path
# --------------------------------------------------------------------------------------------------


def _for_stix2(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy whose timestamps have at most microseconds, which is all that stix2 parses."""
    copy = dict(obj)
    for name in TIMESTAMP_PROPERTIES.intersection(copy):
        text = copy[name]
        if isinstance(text, str) and "." in text and len(text.rsplit(".", 1)[1]) > 7:
            head, fraction = text.rsplit(".", 1)
            copy[name] = f"{head}.{fraction[:6]}Z"
    return copy


def _reference_path(obj: Mapping[str, Any]) -> None:
    import stix2
    import stix2.exceptions

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation notes (observed-data 'objects') are not errors
            stix2.parse(_for_stix2(obj), allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, AttributeError, KeyError, NameError) as e:
        raise _Invalid(str(e) or type(e).__name__) from e


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def validate_object(obj: object, *, extension_types: Collection[str] = (), fast: bool = True) -> Checked:
    """Raise :class:`InvalidInput` (``where`` = the object id) unless ``obj`` is a valid STIX 2.1 object."""
    object_id = obj.get("id") if isinstance(obj, Mapping) else None
    where = object_id if isinstance(object_id, str) else None
    try:
        if not isinstance(obj, Mapping):
            raise _Invalid("not a JSON object")
        kind, shape, keys = _common_checks(obj, extension_types)
        if fast:
            try:
                return Checked(kind, keys, _fast(obj, kind, shape, keys))
            except _NeedsReference:
                pass
        _reference_path(obj)
        return Checked(kind, keys, None)
    except _Invalid as e:
        raise InvalidInput(str(e), where=where) from e


def validate_objects(
    objects: Sequence[object], *, extension_types: Collection[str] = (), fast: bool = True
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Split ``objects`` into the valid ones (as given) and a :class:`Problem` for each invalid one."""
    valid: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for index, obj in enumerate(objects):
        try:
            validate_object(obj, extension_types=extension_types, fast=fast)
        except InvalidInput as e:
            problems.append(Problem(index, e.where, e.message))
            continue
        assert isinstance(obj, Mapping)  # validate_object proved it
        valid.append(obj if isinstance(obj, dict) else dict(obj))
    return valid, problems

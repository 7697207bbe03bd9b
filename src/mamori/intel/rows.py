"""From a validated STIX object (dict) to the row and index entries the store keeps for it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from mamori.errors import InvalidInput
from mamori.intel.model import UNMARKED, ObjectRow
from mamori.intel.patterns import ip_bounds, observables_in_comparisons, observables_of
from mamori.intel.tlp import tlp_of
from mamori.intel.validate import Checked
from mamori.kernel.timefmt import normalise_timestamp

CONTAINER_TYPES = frozenset({"report", "grouping", "note", "opinion", "observed-data"})
MAX_REFS = 2000
_TEXT_FIELDS = ("name", "description", "pattern", "value", "aliases", "labels", "x_mitre_id", "id", "abstract",
                "content", "explanation", "relationship_type")


def links_of(obj: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The graph edges an object states: (source id, target id, link type)."""
    t = obj.get("type")
    oid = str(obj.get("id"))
    links: list[tuple[str, str, str]] = []
    if t == "relationship":
        links.append((str(obj["source_ref"]), str(obj["target_ref"]), str(obj.get("relationship_type", "related-to"))))
    elif t == "sighting":
        links.append((oid, str(obj["sighting_of_ref"]), "sighting-of"))
        links.extend((oid, str(r), "where-sighted") for r in obj.get("where_sighted_refs", ()))
        links.extend((oid, str(r), "observed-data") for r in obj.get("observed_data_refs", ()))
    elif t in CONTAINER_TYPES:
        links.extend((oid, str(r), "object-ref") for r in list(obj.get("object_refs", ()))[:MAX_REFS])
    return links


def _search_text(obj: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for f in _TEXT_FIELDS:
        v = obj.get(f)
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, list):
            parts.extend(str(x) for x in v if isinstance(x, str))
    for ref in obj.get("external_references", ()) or ():
        if isinstance(ref, dict) and isinstance(ref.get("external_id"), str):
            parts.append(ref["external_id"])
    return " ".join(parts).lower()[:4000]


def display_name(obj: Mapping[str, Any]) -> str | None:
    for f in ("name", "value", "display_name", "abstract", "relationship_type"):
        v = obj.get(f)
        if isinstance(v, str) and v:
            return v[:500]
    hashes = obj.get("hashes")
    if isinstance(hashes, dict) and hashes:
        return str(next(iter(hashes.values())))[:500]
    if obj.get("type") == "sighting":
        return "sighting"
    return None


def _ts(obj: Mapping[str, Any], field: str, where: str) -> str | None:
    v = obj.get(field)
    return normalise_timestamp(v, where=f"{where}.{field}") if isinstance(v, str) else None


def _stamp(keys: Mapping[str, str], field: str) -> str | None:
    """The store's form of a timestamp from its validation key (seconds, then the fraction to nanoseconds)."""
    k = keys.get(field)
    return None if k is None else f"{k[:19]}.{k[19:25]}Z"


def row_of(obj: Mapping[str, Any], *, fallback_version: str, where: str,
           known_markings: Mapping[str, dict[str, Any]] | None = None, checked: Checked | None = None) -> ObjectRow:
    """``checked``: what validation learnt about ``obj`` (timestamps, parsed pattern), so it is not redone."""
    stix_id = obj.get("id")
    otype = obj.get("type")
    if not isinstance(stix_id, str) or not isinstance(otype, str):
        raise InvalidInput("object has no id or type", where=where)
    if checked is not None:
        keys = checked.stamps
        created, modified = _stamp(keys, "created"), _stamp(keys, "modified")
        valid_from, valid_until = _stamp(keys, "valid_from"), _stamp(keys, "valid_until")
    else:
        created, modified = _ts(obj, "created", where), _ts(obj, "modified", where)
        valid_from, valid_until = _ts(obj, "valid_from", where), _ts(obj, "valid_until", where)
    version = modified or created or fallback_version
    tlp = tlp_of(obj, known_markings)
    values: list[tuple[str, str, int | None, int | None]] = []
    if otype == "indicator":
        seen: set[tuple[str, str]] = set()
        found = (observables_in_comparisons(checked.comparisons)
                 if checked is not None and checked.comparisons is not None else observables_of(obj))
        for ob in found:
            key = (ob.kind, ob.value)
            if key in seen:
                continue
            seen.add(key)
            bounds = ip_bounds(ob.kind, ob.value)
            values.append((ob.kind, ob.value, bounds[0] if bounds else None, bounds[1] if bounds else None))
    labels = obj.get("labels")
    confidence = obj.get("confidence")
    raw = orjson.dumps(obj).decode("utf-8")
    return ObjectRow(
        stix_id=stix_id, type=otype, spec_version=str(obj.get("spec_version", "2.1")), version=version,
        created=created, modified=modified, revoked=1 if obj.get("revoked") is True else 0,
        valid_from=valid_from, valid_until=valid_until,
        confidence=int(confidence) if isinstance(confidence, int) else None,
        tlp=int(tlp) if tlp is not None else UNMARKED, name=display_name(obj),
        labels=orjson.dumps(labels).decode("utf-8") if isinstance(labels, list) and labels else None,
        search_text=_search_text(obj),
        content_hash=hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest(),
        raw=raw, values=tuple(values), refs=tuple(links_of(obj)),
    )

"""A small builder that assembles the demo's STIX 2.1 objects as plain dicts.

It gives every SDO and SRO a UUIDv5 id under mamori's namespace (the seed is part of the name, the time is
not), computes SCO ids the way STIX 2.1 section 2.9 prescribes (UUIDv5 over the canonical JSON of the
ID-contributing properties, in the SCO namespace), stamps `created_by_ref` and TLP 2.0
`object_marking_refs`, and records which collections hold each object. Seed-dependent choices are drawn
from SHA-256 over (seed, label), so adding one choice never shifts another.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from mamori.demo.model import TLP_LEVELS, TLP_MARKING_IDS, Tlp
from mamori.kernel.canonical import canonical_json
from mamori.kernel.ids import stable_uuid
from mamori.kernel.timefmt import format_stix

# STIX 2.1 section 2.9: the namespace for deterministic SCO identifiers.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# STIX 2.1 section 6: the properties that determine each SCO type's id.
_SCO_ID_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "domain-name": ("value",),
    "url": ("value",),
    "file": ("hashes", "name", "extensions", "parent_directory_ref"),
}


def sco_id(sco_type: str, properties: Mapping[str, Any]) -> str:
    """The deterministic id of a cyber-observable object (STIX 2.1 section 2.9)."""
    names = _SCO_ID_PROPERTIES[sco_type]
    contributing = {name: properties[name] for name in names if name in properties}
    return f"{sco_type}--{uuid.uuid5(SCO_NAMESPACE, canonical_json(contributing))}"


def tlp_rank(tlp: Tlp | None) -> int:
    """Order of restrictiveness; an unmarked object ranks below TLP:CLEAR."""
    return -1 if tlp is None else TLP_LEVELS.index(tlp)


class StixGraphBuilder:
    """Accumulates object versions in insertion order, with their TLP and collections."""

    def __init__(
        self,
        *,
        now: datetime,
        seed: int,
        creator_slug: str,
        placement: Callable[[Tlp | None, Sequence[str]], tuple[str, ...]],
    ) -> None:
        """`placement` turns an object's TLP and wished-for collections into the collections that hold it,
        so that one rule (say, TLP:RED only in a restricted collection) governs every object."""
        self.now = now
        self._placement = placement
        self.seed = seed
        self.creator_id = self.sdo_id("identity", creator_slug)
        self._objects: list[dict[str, Any]] = []
        self._latest: dict[str, dict[str, Any]] = {}
        self._tlp: dict[str, Tlp | None] = {}
        self._collections: dict[str, tuple[str, ...]] = {}

    # ---- deterministic choices -------------------------------------------------------------------
    def draw(self, label: str, choices: int) -> int:
        """A number in [0, choices) fixed by the seed and the label."""
        digest = hashlib.sha256(f"mamori-demo\x1f{self.seed}\x1f{label}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % choices

    def pick(self, label: str, options: Sequence[Any]) -> Any:
        return options[self.draw(label, len(options))]

    def shuffled(self, label: str, items: Iterable[str]) -> list[str]:
        """The items in a seed-dependent order."""
        return sorted(
            items, key=lambda item: hashlib.sha256(f"{self.seed}\x1f{label}\x1f{item}".encode()).digest()
        )

    def digest_hex(self, label: str) -> str:
        """A SHA-256-shaped value standing for a fictitious file."""
        return hashlib.sha256(f"mamori-demo-file\x1f{self.seed}\x1f{label}".encode()).hexdigest()

    # ---- time ------------------------------------------------------------------------------------
    def ago(self, days: float, hours: float = 0.0) -> str:
        """A STIX timestamp `days` (and `hours`) before now."""
        return format_stix(self.now - timedelta(days=days, hours=hours))

    def ahead(self, days: float) -> str:
        return format_stix(self.now + timedelta(days=days))

    # ---- ids ---------------------------------------------------------------------------------------
    def sdo_id(self, stix_type: str, slug: str) -> str:
        return f"{stix_type}--{stable_uuid('demo', str(self.seed), stix_type, slug)}"

    # ---- adding objects -----------------------------------------------------------------------------
    def sdo(
        self,
        stix_type: str,
        slug: str,
        *,
        created: str,
        tlp: Tlp | None,
        collections: Sequence[str],
        **properties: Any,
    ) -> str:
        """Add the first version of a domain object created by the national office; return its id."""
        object_id = self.sdo_id(stix_type, slug)
        body: dict[str, Any] = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": self.creator_id,
            "created": created,
            "modified": created,
        }
        body.update(properties)
        self._add(body, tlp, collections)
        return object_id

    def relate(
        self,
        source_id: str,
        relationship_type: str,
        target_id: str,
        *,
        created: str | None = None,
        tlp: Tlp | None = None,
        collections: Sequence[str] | None = None,
        description: str | None = None,
    ) -> str:
        """Add a relationship; by default as restrictive as its most restrictive end, in its source's
        collections. It is never dated before either end was created."""
        ends_created = [self._latest[i].get("created", "") for i in (source_id, target_id)]
        # Fixed-width ISO timestamps order correctly as text.
        created = max([created or "", *ends_created])
        if tlp is None:
            tlp = max(self._tlp[source_id], self._tlp[target_id], key=tlp_rank)
        if collections is None:
            collections = self._collections[source_id]
        object_id = (
            f"relationship--{stable_uuid('demo', str(self.seed), source_id, relationship_type, target_id)}"
        )
        body: dict[str, Any] = {
            "type": "relationship",
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": self.creator_id,
            "created": created,
            "modified": created,
            "relationship_type": relationship_type,
        }
        if description is not None:
            body["description"] = description
        body["source_ref"] = source_id
        body["target_ref"] = target_id
        self._add(body, tlp, collections)
        return object_id

    def sighting(
        self,
        slug: str,
        *,
        created: str,
        tlp: Tlp | None,
        collections: Sequence[str],
        **properties: Any,
    ) -> str:
        return self.sdo("sighting", slug, created=created, tlp=tlp, collections=collections, **properties)

    def sco(self, sco_type: str, *, tlp: Tlp | None, collections: Sequence[str], **properties: Any) -> str:
        """Add a cyber-observable once (same properties give the same id); return its id."""
        object_id = sco_id(sco_type, properties)
        if object_id not in self._latest:
            body: dict[str, Any] = {"type": sco_type, "spec_version": "2.1", "id": object_id}
            body.update(properties)
            self._add(body, tlp, collections)
        return object_id

    def new_version(self, object_id: str, *, modified: str, **changes: Any) -> None:
        """Add a later version of an object (STIX 2.1 section 3.6): same id and created, later modified."""
        previous = self._latest[object_id]
        if modified <= previous["modified"]:
            raise ValueError(f"new version of {object_id} must be modified after {previous['modified']}")
        body = copy.deepcopy(previous)
        body.pop("object_marking_refs", None)
        body["modified"] = modified
        body.update(changes)
        self._add(body, self._tlp[object_id], self._collections[object_id])

    def tlp_of(self, object_id: str) -> Tlp | None:
        return self._tlp[object_id]

    def _add(self, body: dict[str, Any], tlp: Tlp | None, collections: Sequence[str]) -> None:
        if tlp is not None:
            body["object_marking_refs"] = [TLP_MARKING_IDS[tlp]]
        object_id = body["id"]
        self._objects.append(body)
        self._latest[object_id] = body
        self._tlp[object_id] = tlp
        self._collections[object_id] = tuple(dict.fromkeys(self._placement(tlp, collections)))

    # ---- result ------------------------------------------------------------------------------------
    def objects(self) -> tuple[dict[str, Any], ...]:
        return tuple(copy.deepcopy(o) for o in self._objects)

    def object_collections(self) -> dict[str, tuple[str, ...]]:
        return dict(self._collections)

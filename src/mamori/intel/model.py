"""Threat-intelligence domain types (STIX 2.1 objects travel as plain dicts; these describe them in the store).

A ``Clearance`` says what a viewer may see. It is applied inside the store's queries, never as a filter on
results, so that a partner can neither receive nor count nor infer an object above its clearance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

TLP_CLEAR, TLP_GREEN, TLP_AMBER, TLP_AMBER_STRICT, TLP_RED = 0, 1, 2, 3, 4
UNMARKED = -1


@dataclass(frozen=True)
class Clearance:
    """What one viewer may see and do in the intelligence store.

    ``max_tlp``: highest TLP rank visible (4 = TLP:RED, everything). ``unmarked_as``: the rank an unmarked object
    counts as (a configured default that fails closed). ``collections_read`` / ``collections_write``: the TAXII
    collections allowed (``None`` = all). ``record_as``: organisation/user/channel to record disclosures for.
    """

    max_tlp: int
    unmarked_as: int
    collections_read: frozenset[str] | None = None
    collections_write: frozenset[str] | None = None
    organisation_id: str | None = None
    user_id: str | None = None
    channel: str = "api"
    record_disclosures: bool = False
    contributor: str | None = None  # a partner organisation writing: it may only version what it contributed

    @property
    def unmarked_visible(self) -> bool:
        return self.unmarked_as <= self.max_tlp

    def may_read_collection(self, collection_id: str) -> bool:
        return self.collections_read is None or collection_id in self.collections_read

    def may_write_collection(self, collection_id: str) -> bool:
        return self.collections_write is None or collection_id in self.collections_write

    def sees(self, tlp: int, ref_tlp: int) -> bool:
        own = self.unmarked_as if tlp == UNMARKED else tlp
        return own <= self.max_tlp and ref_tlp <= self.max_tlp

    def for_channel(self, channel: str) -> Clearance:
        """TLP:RED never leaves through TAXII."""
        cap = min(self.max_tlp, TLP_AMBER_STRICT) if channel == "taxii" else self.max_tlp
        return Clearance(
            max_tlp=cap, unmarked_as=self.unmarked_as, collections_read=self.collections_read,
            collections_write=self.collections_write, organisation_id=self.organisation_id, user_id=self.user_id,
            channel=channel, record_disclosures=self.record_disclosures, contributor=self.contributor,
        )


@dataclass(frozen=True)
class Problem:
    """One object of a batch that was not stored, and why."""

    index: int
    object_id: str | None
    reason: str


@dataclass(frozen=True)
class IngestReport:
    received: int
    added: int
    duplicates: int
    problems: tuple[Problem, ...] = ()
    added_ids: tuple[str, ...] = ()

    @property
    def invalid(self) -> int:
        return len(self.problems)


@dataclass(frozen=True)
class ObjectSummary:
    """One stored version, as lists and graphs show it."""

    stix_id: str
    type: str
    version: str
    name: str | None
    tlp: int  # effective rank for display (own, or the unmarked default)
    revoked: bool
    date_added: str
    labels: tuple[str, ...] = ()
    valid_until: str | None = None
    confidence: int | None = None


@dataclass(frozen=True)
class StoredObject:
    summary: ObjectSummary
    raw: dict[str, Any]
    is_latest: bool


@dataclass(frozen=True)
class SearchQuery:
    types: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    tlp: tuple[int, ...] = ()  # effective ranks to include
    text: str | None = None
    added_since: str | None = None
    added_until: str | None = None
    modified_since: str | None = None
    modified_until: str | None = None
    include_revoked: bool = True
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class SearchPage:
    items: tuple[ObjectSummary, ...]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    type: str
    via: str


@dataclass(frozen=True)
class Graph:
    center: str
    nodes: tuple[ObjectSummary, ...]
    edges: tuple[Edge, ...]
    truncated: bool = False


@dataclass(frozen=True)
class IndicatorHit:
    stix_id: str
    name: str | None
    kind: str
    value: str
    valid_until: str | None
    confidence: int | None
    tlp: int


@dataclass(frozen=True)
class FeedIndicator:
    """A current, unexpired, unrevoked indicator value ready for a sensor feed."""

    kind: str
    value: str
    indicator_id: str
    name: str | None
    confidence: int | None
    tlp: int
    valid_until: str | None
    labels: tuple[str, ...] = field(default_factory=tuple)
    score: float = 0.0  # life-cycle score now (mamori.intel.lifecycle)
    state: str = "active"  # active | decayed


class ObjectRow(NamedTuple):
    """A prepared row for ``stix_objects`` plus what the indexes need (a tuple: built once per object on ingest)."""

    stix_id: str
    type: str
    spec_version: str
    version: str
    created: str | None
    modified: str | None
    revoked: int  # 1 or 0: flags are bound as plain integers, which the SQLite driver passes through unadapted
    valid_from: str | None
    valid_until: str | None
    confidence: int | None
    tlp: int
    name: str | None
    labels: str | None
    search_text: str
    content_hash: str
    raw: str
    values: tuple[tuple[str, str, int | None, int | None], ...]  # indicator (kind, value, ip_lo, ip_hi)
    refs: tuple[tuple[str, str, str], ...]  # (src, dst, type) links stated by this object

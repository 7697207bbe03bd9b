"""SQL for TAXII 2.1 (SQLite and PostgreSQL): keyset pages over collection entries, status resources, feeds.

A page is one index range scan of ``ix_collection_entries_page`` ``(collection_id, date_added, stix_id,
version)`` starting strictly after the last key served and stopping after ``limit + 1`` visible rows, joined to
``stix_objects`` only for the raw JSON. There is no OFFSET and no COUNT, so the first page of a collection of a
million objects costs what the first page of a collection of a hundred does. The viewer's clearance is part of
every WHERE clause (``visible``), including the "is there a later visible version" test behind
``match[version]=last``, so nothing hidden is served, counted, or changes ``more``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)

from mamori.adapters.storage.intel_store import SqlIntelStore, visible
from mamori.adapters.storage.schema import (
    collection_entries,
    stix_objects,
    taxii_feeds,
    taxii_status,
)
from mamori.intel.model import Clearance
from mamori.intel.taxii import Entry, EntryQuery, Keyset, StatusDetail, StatusResource

_E = collection_entries


def _version_condition(clearance: Clearance, tokens: Sequence[str]) -> ColumnElement[bool] | None:
    """``match[version]``: ``last``/``first`` are the last/first version the viewer may see."""
    if "all" in tokens:
        return None
    conds: list[ColumnElement[bool]] = []
    other = collection_entries.alias("other_version")
    same_object = and_(other.c.collection_id == _E.c.collection_id, other.c.stix_id == _E.c.stix_id,
                       visible(other, clearance))
    if "last" in tokens:
        later = exists(select(literal(1)).where(same_object, other.c.version > _E.c.version))
        conds.append(or_(_E.c.is_latest == true(), ~later))
    if "first" in tokens:
        earlier = exists(select(literal(1)).where(same_object, other.c.version < _E.c.version))
        conds.append(or_(_E.c.is_first == true(), ~earlier))
    stamps = [t for t in tokens if t not in ("last", "first")]
    if stamps:
        conds.append(_E.c.version.in_(stamps))
    return or_(*conds)


def _where(collection_id: str, clearance: Clearance, query: EntryQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [_E.c.collection_id == collection_id, visible(_E, clearance)]
    if query.ids:
        where.append(_E.c.stix_id.in_(query.ids))
    if query.types:
        where.append(_E.c.type.in_(query.types))
    if query.spec_versions:
        where.append(_E.c.spec_version.in_(query.spec_versions))
    if query.added_after:
        where.append(_E.c.date_added > query.added_after)
    cond = _version_condition(clearance, query.versions or ("last",))
    if cond is not None:
        where.append(cond)
    return where


class SqlTaxiiStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- pages -------------------------------------------------------------------------------------------
    def page(self, collection_id: str, clearance: Clearance, query: EntryQuery, after: Keyset | None,
             limit: int, *, with_raw: bool) -> tuple[list[Entry], bool]:
        """Up to ``limit`` visible entries after ``after`` in (date_added, stix_id, version) order, and
        whether another visible one follows."""
        cols: list[Any] = [_E.c.stix_id, _E.c.type, _E.c.version, _E.c.spec_version, _E.c.date_added]
        if with_raw:
            cols.append(stix_objects.c.raw)
        q: Select[Any] = select(*cols)
        if with_raw:
            q = q.select_from(_E.join(stix_objects, stix_objects.c.pk == _E.c.object_pk))
        where = _where(collection_id, clearance, query)
        if after is not None:
            # The redundant lower bound on date_added lets every planner use the index range directly.
            where.append(_E.c.date_added >= after.date_added)
            where.append(tuple_(_E.c.date_added, _E.c.stix_id, _E.c.version)
                         > tuple_(literal(after.date_added), literal(after.stix_id), literal(after.version)))
        # With ids, look them up by (collection_id, stix_id) and sort the handful found rather than walk the
        # whole collection in page order, which SQLite (without statistics) prefers because it avoids a sort:
        # ordering by an expression of date_added (same values, same order) takes that option away.
        first_key: ColumnElement[Any] = _E.c.date_added.concat("") if query.ids else _E.c.date_added
        q = q.where(*where).order_by(first_key, _E.c.stix_id, _E.c.version).limit(limit + 1)
        rows = self.conn.execute(q).all()
        more = len(rows) > limit
        return [
            Entry(stix_id=r[0], type=r[1], version=r[2], spec_version=r[3], date_added=r[4],
                  raw=r[5] if with_raw else None)
            for r in rows[:limit]
        ], more

    def has_visible(self, collection_id: str, clearance: Clearance, stix_id: str) -> bool:
        q = select(literal(1)).where(_E.c.collection_id == collection_id, _E.c.stix_id == stix_id,
                                     visible(_E, clearance)).limit(1)
        return self.conn.execute(q).first() is not None

    def delete_entries(self, collection_id: str, clearance: Clearance, stix_id: str, query: EntryQuery) -> int:
        """Remove the matching visible versions of one object from one collection (the object stays stored)."""
        where = _where(collection_id, clearance,
                       EntryQuery(ids=(stix_id,), versions=query.versions or ("all",),
                                  spec_versions=query.spec_versions))
        seqs = [s for (s,) in self.conn.execute(select(_E.c.seq).where(*where))]
        if not seqs:
            return 0
        self.conn.execute(delete(_E).where(_E.c.seq.in_(seqs)))
        SqlIntelStore(self.conn).refresh_entry_flags(collection_id, [stix_id])
        return len(seqs)

    def record_disclosures(self, at: str, clearance: Clearance, items: Sequence[tuple[str, str]]) -> None:
        SqlIntelStore(self.conn).record_disclosures(at, clearance, items)

    # --- status ------------------------------------------------------------------------------------------
    def save_status(self, status: StatusResource) -> None:
        detail = {
            name: [{"id": d.id, "version": d.version, "message": d.message} for d in details]
            for name, details in (("successes", status.successes), ("failures", status.failures),
                                  ("pendings", status.pendings))
        }
        self.conn.execute(taxii_status.insert().values(
            id=status.id, api_root=status.api_root, collection_id=status.collection_id, user_id=status.user_id,
            status=status.status, request_timestamp=status.request_timestamp, total_count=status.total_count,
            success_count=status.success_count, failure_count=status.failure_count,
            pending_count=status.pending_count, detail=json.dumps(detail, ensure_ascii=False),
        ))

    def status(self, status_id: str) -> StatusResource | None:
        row = self.conn.execute(select(taxii_status).where(taxii_status.c.id == status_id)).first()
        if row is None:
            return None
        m = row._mapping
        detail = json.loads(m["detail"])

        def details(name: str) -> tuple[StatusDetail, ...]:
            return tuple(StatusDetail(id=d["id"], version=d["version"], message=d.get("message"))
                         for d in detail.get(name, []))

        return StatusResource(
            id=m["id"], api_root=m["api_root"], collection_id=m["collection_id"], user_id=m["user_id"],
            status=m["status"], request_timestamp=m["request_timestamp"], total_count=m["total_count"],
            success_count=m["success_count"], failure_count=m["failure_count"], pending_count=m["pending_count"],
            successes=details("successes"), failures=details("failures"), pendings=details("pendings"),
        )

    # --- feeds (partners' collections this instance pulls) -------------------------------------------------
    def add_feed(self, values: dict[str, Any]) -> None:
        self.conn.execute(taxii_feeds.insert().values(**values))

    def feeds(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(select(taxii_feeds).order_by(taxii_feeds.c.name))]

    def feed(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(taxii_feeds).where(taxii_feeds.c.name == name)).first()
        return dict(row._mapping) if row else None

    def update_feed(self, feed_id: str, **values: Any) -> None:
        self.conn.execute(update(taxii_feeds).where(taxii_feeds.c.id == feed_id).values(**values))

    def remove_feed(self, name: str) -> bool:
        return bool(self.conn.execute(delete(taxii_feeds).where(taxii_feeds.c.name == name)).rowcount)


__all__ = ["SqlTaxiiStore"]

"""SQL for TAXII 2.1 (SQLite and PostgreSQL): keyset pages over collection entries, status resources, feeds.

A page is one index range scan of ``ix_collection_entries_page`` ``(collection_id, date_added, stix_id,
version)`` starting strictly after the last key served and stopping after ``limit + 1`` visible rows, joined to
``stix_objects`` only for the raw JSON. There is no OFFSET and no COUNT, so the first page of a collection of a
million objects costs what the first page of a collection of a hundred does. The viewer's clearance is part of
every WHERE clause (``visible``), including the "is there a later visible version" test behind
``match[version]=last``, so nothing hidden is served, counted, or changes ``more``.

The read path (collection, page, "is anything visible", disclosures) runs statements compiled once per query
shape and dialect (``Prepared``): the request's values are bound parameters, and only the TLP part of the
clearance and the number of values in each filter change the SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Dialect,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from mamori.adapters.storage.intel_store import SqlIntelStore, visible
from mamori.adapters.storage.schema import (
    agreement_collections,
    collection_entries,
    disclosures,
    sharing_agreements,
    stix_objects,
    taxii_collections,
    taxii_feeds,
    taxii_status,
)
from mamori.intel.model import Clearance
from mamori.intel.taxii import Entry, EntryQuery, Keyset, StatusDetail, StatusResource

_E = collection_entries


def _version_condition(clearance: Clearance, tokens: Sequence[str],
                       stamps: Sequence[ColumnElement[Any]]) -> ColumnElement[bool] | None:
    """``match[version]``: ``last``/``first`` are the last/first version the viewer may see."""
    if "all" in tokens:
        return None
    conds: list[ColumnElement[bool]] = []
    other = collection_entries.alias("other_version")
    same_object = and_(other.c.object_pk.in_(_versions_of(_E.c.stix_id).correlate(_E)),
                       other.c.collection_id == _E.c.collection_id, visible(other, clearance))
    if "last" in tokens:
        later = exists(select(literal_column("1")).where(same_object, other.c.version > _E.c.version))
        conds.append(or_(_E.c.is_latest == true(), ~later))
    if "first" in tokens:
        earlier = exists(select(literal_column("1")).where(same_object, other.c.version < _E.c.version))
        conds.append(or_(_E.c.is_first == true(), ~earlier))
    if stamps:
        conds.append(_E.c.version.in_(stamps))
    return or_(*conds)


def _versions_of(stix_id: ColumnElement[Any]) -> Select[Any]:
    """The stored versions of an object, by primary key: entries are found by ``(object_pk, collection_id)``
    (an index keyed by STIX id would cost every ingest a scattered write)."""
    return select(stix_objects.c.pk).where(stix_objects.c.stix_id == stix_id)


def _params(name: str, n: int) -> list[BindParameter[Any]]:
    return [bindparam(f"{name}_{i}") for i in range(n)]


def _where(clearance: Clearance, query: EntryQuery) -> list[ColumnElement[bool]]:
    """The WHERE clause of a query, with one named parameter per value (see :func:`_values`)."""
    where: list[ColumnElement[bool]] = [_E.c.collection_id == bindparam("collection_id"), visible(_E, clearance)]
    if query.ids:
        where.append(_E.c.object_pk.in_(
            select(stix_objects.c.pk).where(stix_objects.c.stix_id.in_(_params("id", len(query.ids))))))
    if query.types:
        where.append(_E.c.type.in_(_params("type", len(query.types))))
    if query.spec_versions:
        where.append(_E.c.spec_version.in_(_params("spec", len(query.spec_versions))))
    if query.added_after:
        where.append(_E.c.date_added > bindparam("added_after"))
    tokens = query.versions or ("last",)
    stamps = [t for t in tokens if t not in ("last", "first", "all")]
    cond = _version_condition(clearance, tokens, _params("version", len(stamps)))
    if cond is not None:
        where.append(cond)
    return where


def _values(collection_id: str, query: EntryQuery) -> dict[str, Any]:
    """The parameters of :func:`_where` for one request."""
    values: dict[str, Any] = {"collection_id": collection_id}
    if query.added_after:
        values["added_after"] = query.added_after
    stamps = [t for t in query.versions if t not in ("last", "first", "all")]
    for name, items in (("id", query.ids), ("type", query.types), ("spec", query.spec_versions),
                        ("version", stamps)):
        for i, item in enumerate(items):
            values[f"{name}_{i}"] = item
    return values


@dataclass(frozen=True)
class _PageShape:
    """What decides the text of a page query; the values of one request are bound as parameters.

    Only the TLP part of a clearance (``max_tlp``, ``unmarked_as``) shapes the SQL (``visible``); which
    collections a viewer may read is settled before any page query runs.
    """

    dialect: str
    max_tlp: int
    unmarked_as: int
    with_raw: bool
    versions: tuple[str, ...]  # the keywords given, with one "@" per timestamp
    ids: int
    types: int
    spec_versions: int
    added_after: bool
    after: bool

    @classmethod
    def of(cls, dialect: str, clearance: Clearance, query: EntryQuery, after: bool, with_raw: bool) -> _PageShape:
        return cls(dialect=dialect, max_tlp=clearance.max_tlp, unmarked_as=clearance.unmarked_as,
                   with_raw=with_raw,
                   versions=tuple(v if v in ("last", "first", "all") else "@" for v in query.versions or ("last",)),
                   ids=len(query.ids), types=len(query.types), spec_versions=len(query.spec_versions),
                   added_after=bool(query.added_after), after=after)

    def query(self) -> EntryQuery:
        """A query of this shape with placeholder values (the values themselves are bound at execution)."""
        return EntryQuery(ids=("?",) * self.ids, types=("?",) * self.types,
                          versions=tuple("?" if v == "@" else v for v in self.versions),
                          spec_versions=("?",) * self.spec_versions, added_after="?" if self.added_after else None)

    def clearance(self) -> Clearance:
        return Clearance(max_tlp=self.max_tlp, unmarked_as=self.unmarked_as)


class Prepared:
    """A statement compiled once for one dialect and run on the connection's DBAPI cursor.

    SQLAlchemy's per-execution work (cache key, parameter processing, result wrapping) costs more than a small
    indexed query itself; the statements of the read path are compiled once per shape and dialect instead.
    """

    __slots__ = ("fixed", "names", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        converted = sorted(name for bp, name in compiled.bind_names.items() if bp.type.bind_processor(dialect))
        if converted:  # values go to the driver as they are: none may need converting
            raise TypeError(f"parameters {converted} would need converting for {dialect.name}")
        self.sql = compiled.string
        # Values fixed in the statement itself (the viewer's TLP ceiling in ``visible``); the rest are given per call.
        self.fixed = {name: bp.effective_value for bp, name in compiled.bind_names.items() if not bp.required}
        self.names: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positiontup else None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        merged = {**self.fixed, **values}
        if self.names is None:
            return merged
        return tuple(merged[n] for n in self.names)

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self.parameters(values))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def run_many(self, conn: Connection, values: Sequence[Mapping[str, Any]]) -> None:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql, [self.parameters(v) for v in values])
        finally:
            cursor.close()


@lru_cache(maxsize=512)
def _page_statement(shape: _PageShape, dialect: Dialect) -> Prepared:
    cols: list[Any] = [_E.c.stix_id, _E.c.type, _E.c.version, _E.c.spec_version, _E.c.date_added]
    if shape.with_raw:
        cols.append(stix_objects.c.raw)
    q: Select[Any] = select(*cols)
    if shape.with_raw:
        q = q.select_from(_E.join(stix_objects, stix_objects.c.pk == _E.c.object_pk))
    query = shape.query()
    where = _where(shape.clearance(), query)
    if shape.after:
        # The row value alone: both engines start the index range at the whole key. (Given also a separate
        # bound on date_added, SQLite starts at that column only and walks every entry added at the same moment
        # that precedes the key, so late pages of a large import cost the square of its size.)
        where.append(tuple_(_E.c.date_added, _E.c.stix_id, _E.c.version)
                     > tuple_(bindparam("after_date"), bindparam("after_id"), bindparam("after_version")))
    # With ids, look them up by (collection_id, stix_id) and sort the handful found rather than walk the
    # whole collection in page order, which SQLite (without statistics) prefers because it avoids a sort:
    # ordering by an expression of date_added (same values, same order) takes that option away.
    first_key: ColumnElement[Any] = _E.c.date_added.concat("") if query.ids else _E.c.date_added
    q = q.where(*where).order_by(first_key, _E.c.stix_id, _E.c.version).limit(bindparam("limit", type_=Integer))
    return Prepared(q, dialect)


@lru_cache(maxsize=64)
def _has_visible_statement(max_tlp: int, unmarked_as: int, dialect: Dialect) -> Prepared:
    q: Select[Any] = select(literal_column("1")).where(
        _E.c.object_pk.in_(_versions_of(bindparam("stix_id"))), _E.c.collection_id == bindparam("collection_id"),
        visible(_E, Clearance(max_tlp=max_tlp, unmarked_as=unmarked_as))).limit(1)
    return Prepared(q, dialect)


@lru_cache(maxsize=8)
def _collection_statement(dialect: Dialect) -> Prepared:
    c = taxii_collections.c
    return Prepared(select(c.id, c.api_root, c.title, c.description, c.alias).where(c.id == bindparam("id")),
                    dialect)


@lru_cache(maxsize=8)
def _agreement_statement(dialect: Dialect) -> Prepared:
    a, c = sharing_agreements.c, agreement_collections.c
    q = (select(a.max_tlp, a.updated_at, c.collection_id, c.can_read, c.can_write)
         .select_from(sharing_agreements.outerjoin(agreement_collections, c.agreement_id == a.id))
         .where(a.organisation_id == bindparam("organisation_id")))
    return Prepared(q, dialect)


@lru_cache(maxsize=8)
def _disclosure_statement(dialect: Dialect) -> Prepared:
    return Prepared(disclosures.insert().values(
        at=bindparam("at"), user_id=bindparam("user_id"), organisation_id=bindparam("organisation_id"),
        channel=bindparam("channel"), stix_id=bindparam("stix_id"), version=bindparam("version")), dialect)


class SqlTaxiiStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._dialect = conn.dialect

    # --- collections and pages -----------------------------------------------------------------------------
    def collection(self, collection_id: str) -> dict[str, Any] | None:
        """One collection row (``id``, ``api_root``, ``title``, ``description``, ``alias``), or None."""
        rows = _collection_statement(self._dialect).rows(self.conn, {"id": collection_id})
        if not rows:
            return None
        cid, api_root, title, description, alias = rows[0]
        return {"id": cid, "api_root": api_root, "title": title, "description": description, "alias": alias}

    def agreement_state(self, organisation_id: str) -> tuple[Any, ...]:
        """Everything an organisation's sharing agreement holds, in a fixed order: equal states, equal agreements
        (an empty tuple when it has none)."""
        rows = _agreement_statement(self._dialect).rows(self.conn, {"organisation_id": organisation_id})
        return tuple(sorted((tuple(r) for r in rows), key=repr))

    def page(self, collection_id: str, clearance: Clearance, query: EntryQuery, after: Keyset | None,
             limit: int, *, with_raw: bool) -> tuple[list[Entry], bool]:
        """Up to ``limit`` visible entries after ``after`` in (date_added, stix_id, version) order, and
        whether another visible one follows."""
        if clearance.max_tlp < 0:
            return [], False
        shape = _PageShape.of(self._dialect.name, clearance, query, after is not None, with_raw)
        values = _values(collection_id, query)
        values["limit"] = limit + 1
        if after is not None:
            values.update(after_date=after.date_added, after_id=after.stix_id, after_version=after.version)
        rows = _page_statement(shape, self._dialect).rows(self.conn, values)
        more = len(rows) > limit
        if with_raw:
            return [Entry(stix_id=r[0], type=r[1], version=r[2], spec_version=r[3], date_added=r[4], raw=r[5])
                    for r in rows[:limit]], more
        return [Entry(stix_id=r[0], type=r[1], version=r[2], spec_version=r[3], date_added=r[4])
                for r in rows[:limit]], more

    def has_visible(self, collection_id: str, clearance: Clearance, stix_id: str) -> bool:
        if clearance.max_tlp < 0:
            return False
        st = _has_visible_statement(clearance.max_tlp, clearance.unmarked_as, self._dialect)
        return bool(st.rows(self.conn, {"collection_id": collection_id, "stix_id": stix_id}))

    def delete_entries(self, collection_id: str, clearance: Clearance, stix_id: str, query: EntryQuery) -> int:
        """Remove the matching visible versions of one object from one collection (the object stays stored)."""
        narrowed = EntryQuery(ids=(stix_id,), versions=query.versions or ("all",), spec_versions=query.spec_versions)
        q = select(_E.c.seq).where(*_where(clearance, narrowed))
        seqs = [s for (s,) in self.conn.execute(q, _values(collection_id, narrowed))]
        if not seqs:
            return 0
        self.conn.execute(delete(_E).where(_E.c.seq.in_(seqs)))
        SqlIntelStore(self.conn).refresh_entry_flags(collection_id, [stix_id])
        return len(seqs)

    def record_disclosures(self, at: str, clearance: Clearance, items: Sequence[tuple[str, str]]) -> None:
        """One ``disclosures`` row per object version served (see ``SqlIntelStore.record_disclosures``)."""
        if items:
            who = {"at": at, "user_id": clearance.user_id, "organisation_id": clearance.organisation_id,
                   "channel": clearance.channel}
            _disclosure_statement(self._dialect).run_many(
                self.conn, [{**who, "stix_id": sid, "version": ver} for sid, ver in items])

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

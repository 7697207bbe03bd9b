"""SQL store of STIX 2.1 objects (SQLite and PostgreSQL): versions, indexes, clearance-filtered queries.

Every read takes a ``Clearance`` and applies it in the WHERE clause (``visible``), so counts, pages and graph
neighbours never include what the viewer may not see. Links between objects (relationships, sightings, container
``object_refs``) raise the linking object's ``ref_tlp`` to the highest TLP of what it points to, so that a
TLP:CLEAR relationship cannot reveal the id of a TLP:RED object.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)

from mamori.adapters.storage.schema import (
    agreement_collections,
    collection_entries,
    disclosures,
    indicator_values,
    sharing_agreements,
    stix_objects,
    stix_refs,
    taxii_collections,
)
from mamori.errors import InvalidInput
from mamori.intel.model import (
    UNMARKED,
    Clearance,
    Edge,
    IndicatorHit,
    ObjectRow,
    ObjectSummary,
    SearchQuery,
)

CHUNK = 500


def visible(table: Any, clearance: Clearance) -> ColumnElement[bool]:
    """The clearance as SQL over a table with ``tlp``, ``ref_tlp`` and ``ref_unmarked`` columns."""
    if clearance.max_tlp < 0:
        return false()
    own_ok = and_(table.c.tlp >= 0, table.c.tlp <= clearance.max_tlp)
    if clearance.unmarked_visible:
        own_ok = or_(own_ok, table.c.tlp == UNMARKED)
    cond = and_(own_ok, table.c.ref_tlp <= clearance.max_tlp)
    if not clearance.unmarked_visible:
        cond = and_(cond, table.c.ref_unmarked == false())
    return cond


def _chunks(items: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def summary_of(m: Any, unmarked_as: int) -> ObjectSummary:
    labels = json.loads(m["labels"]) if m["labels"] else []
    return ObjectSummary(
        stix_id=m["stix_id"], type=m["type"], version=m["version"], name=m["name"],
        tlp=unmarked_as if m["tlp"] == UNMARKED else m["tlp"], revoked=bool(m["revoked"]),
        date_added=m["date_added"], labels=tuple(labels), valid_until=m["valid_until"], confidence=m["confidence"],
    )


_SUMMARY_COLS = (
    stix_objects.c.pk, stix_objects.c.stix_id, stix_objects.c.type, stix_objects.c.version, stix_objects.c.name,
    stix_objects.c.tlp, stix_objects.c.revoked, stix_objects.c.date_added, stix_objects.c.labels,
    stix_objects.c.valid_until, stix_objects.c.confidence,
)


class SqlIntelStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- writes ------------------------------------------------------------------------------------------
    # The ingest path speaks to the driver directly: one statement per step whatever the batch size, a set of
    # ids bound as one parameter (a JSON array on SQLite, an array on PostgreSQL), and no SQL compiled per call.

    @property
    def _sqlite(self) -> bool:
        return self.conn.dialect.name == "sqlite"

    def _in(self, column: str) -> str:
        """``column`` is one of a set bound as a single parameter (see ``_set``)."""
        if self._sqlite:
            return f"{column} IN (SELECT value FROM json_each(?))"  # noqa: S608 - column names come from the code
        return f"{column} = ANY(%s)"

    def _set(self, values: Iterable[Any]) -> Any:
        items = list(values)
        return orjson.dumps(items).decode() if self._sqlite else items

    def _rows(self, sql: str, *params: Any) -> list[Any]:
        if not self._sqlite:
            sql = sql.replace("?", "%s")
        return list(self.conn.exec_driver_sql(sql, tuple(params)))

    def _objects_of(self, columns: str, stix_ids: Iterable[str], *, latest: bool = False) -> list[Any]:
        """``columns`` of the stored versions (``latest``: the latest only) of these ids, in one statement."""
        ids = set(stix_ids)
        if not ids:
            return []
        sql = f"SELECT {columns} FROM stix_objects WHERE {self._in('stix_id')}"  # noqa: S608 - columns come from the code, values bound
        return self._rows(sql + " AND is_latest" if latest else sql, self._set(ids))

    def existing_versions(self, stix_ids: Iterable[str]) -> dict[str, dict[str, tuple[int, str]]]:
        """stix_id → {version: (pk, content_hash)} for the given ids."""
        out: dict[str, dict[str, tuple[int, str]]] = {}
        for sid, ver, pk, h in self._objects_of("stix_id, version, pk, content_hash", stix_ids):
            out.setdefault(sid, {})[ver] = (pk, h)
        return out

    def restriction_of_ids(self, stix_ids: Iterable[str]) -> dict[str, tuple[int, bool]]:
        """How restricted each known id is when something links to it: (highest marked TLP of it and of what
        it links to, whether any of those is unmarked). Latest versions only."""
        rows = self._objects_of("stix_id, tlp, ref_tlp, ref_unmarked", stix_ids, latest=True)
        return {sid: (max(tlp, ref_tlp), tlp == UNMARKED or bool(ref_unmarked))
                for sid, tlp, ref_tlp, ref_unmarked in rows}

    def owners(self, stix_ids: Iterable[str], clearance: Clearance) -> dict[str, tuple[frozenset[str | None], bool]]:
        """For ids already held: who added their versions (None: the national side) and whether the viewer
        may see any of them."""
        out: dict[str, tuple[set[str | None], bool]] = {}
        ids = sorted(set(stix_ids))
        seen = visible(stix_objects, clearance)
        for part in _chunks(ids):
            q = select(stix_objects.c.stix_id, stix_objects.c.added_by, seen.label("seen")).where(
                stix_objects.c.stix_id.in_(part)
            )
            for sid, added_by, is_seen in self.conn.execute(q):
                owners, any_seen = out.get(sid, (set(), False))
                owners.add(added_by)
                out[sid] = (owners, any_seen or bool(is_seen))
        return {k: (frozenset(o), v) for k, (o, v) in out.items()}

    def _insert_many(self, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk insert straight through the driver: the hot path of ingest (no per-row SQL compilation)."""
        if not rows:
            return
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608 - table and column names come from the schema, values are bound
        if not self._sqlite:
            # Flags are built as 1/0 (SQLite binds plain integers fastest); PostgreSQL's boolean wants booleans.
            flags = {i for i, name in enumerate(columns) if isinstance(table.c[name].type, Boolean)}
            if flags:
                rows = [tuple(bool(v) if i in flags and v is not None else v for i, v in enumerate(row))
                        for row in rows]
        self.conn.exec_driver_sql(sql, list(rows))

    _OBJECT_COLUMNS = (
        "stix_id", "type", "spec_version", "version", "created", "modified", "revoked", "valid_from", "valid_until",
        "confidence", "tlp", "ref_tlp", "ref_unmarked", "name", "labels", "search_text", "is_latest", "date_added",
        "added_by", "content_hash", "raw",
    )

    def insert_objects(
        self, rows: Sequence[ObjectRow], date_added: str, ref_levels: dict[str, tuple[int, bool]],
        latest_ids: frozenset[str] = frozenset(), added_by: str | None = None,
    ) -> list[int]:
        """Insert new versions (caller removed duplicates); returns their primary keys, in order.

        ``latest_ids``: objects known to be the only version, inserted already flagged as latest.
        """
        if not rows:
            return []
        none = (UNMARKED, 0)
        flags = {sid: (lvl, 1 if um else 0) for sid, (lvl, um) in ref_levels.items()}
        self._insert_many(stix_objects, self._OBJECT_COLUMNS, [
            (r.stix_id, r.type, r.spec_version, r.version, r.created, r.modified, r.revoked, r.valid_from,
             r.valid_until, r.confidence, r.tlp, *flags.get(r.stix_id, none), r.name, r.labels, r.search_text,
             1 if r.stix_id in latest_ids else 0, date_added, added_by, r.content_hash, r.raw)
            for r in rows
        ])
        if self._sqlite:
            # One writer holds the database: an executemany without explicit keys numbers its rows one after the
            # other from the largest key. Checked at both ends; otherwise they are read back.
            last = int(self._rows("SELECT last_insert_rowid()")[0][0])
            first = last - len(rows) + 1
            ends = dict(self._rows("SELECT pk, stix_id || '|' || version FROM stix_objects WHERE pk IN (?, ?)",
                                   first, last))
            if (ends.get(first) == f"{rows[0].stix_id}|{rows[0].version}"
                    and ends.get(last) == f"{rows[-1].stix_id}|{rows[-1].version}"):
                return list(range(first, last + 1))
        held = self.existing_versions(r.stix_id for r in rows)
        return [held[r.stix_id][r.version][0] for r in rows]

    def refresh_latest(self, stix_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Recompute ``is_latest`` for these ids; returns stix_id → (pk, version) of the latest."""
        latest: dict[str, tuple[int, str]] = {}
        flagged: dict[int, bool] = {}
        for sid, ver, pk, is_latest in self._objects_of("stix_id, version, pk, is_latest", stix_ids):
            flagged[pk] = bool(is_latest)
            if sid not in latest or ver > latest[sid][1]:
                latest[sid] = (pk, ver)
        winners = {pk for pk, _v in latest.values()}
        # Updates by primary key only: the planner cannot pick a poor index for them.
        clear = [{"p": pk} for pk, is_latest in flagged.items() if is_latest and pk not in winners]
        mark = [{"p": pk} for pk in winners if not flagged.get(pk)]
        if clear:
            self.conn.execute(update(stix_objects).where(stix_objects.c.pk == bindparam("p")).values(is_latest=False),
                              clear)
        if mark:
            self.conn.execute(update(stix_objects).where(stix_objects.c.pk == bindparam("p")).values(is_latest=True),
                              mark)
        return latest

    def replace_indexes(self, latest_rows: Sequence[tuple[int, ObjectRow]], *,
                        fresh: frozenset[str] | None = None) -> None:
        """Indicator values and links follow the latest version of each object. ``fresh``: ids that had no
        version stored before, so have nothing to remove (None: any may have)."""
        if not latest_rows:
            return
        stale = [r.stix_id for _pk, r in latest_rows if fresh is None or r.stix_id not in fresh]
        if stale:
            versions = f"SELECT pk FROM stix_objects WHERE {self._in('stix_id')}"  # noqa: S608 - fixed SQL
            for table, column in ((indicator_values, "object_pk"), (stix_refs, "via_pk")):
                sql = f"DELETE FROM {table.name} WHERE {column} IN ({versions})"  # noqa: S608 - fixed SQL, values bound
                self.conn.exec_driver_sql(sql if self._sqlite else sql.replace("?", "%s"), (self._set(stale),))
        self._insert_many(indicator_values, ("object_pk", "stix_id", "kind", "value", "ip_lo", "ip_hi"), [
            (pk, r.stix_id, k, v, lo, hi) for pk, r in latest_rows for (k, v, lo, hi) in r.values
        ])
        self._insert_many(stix_refs, ("src_id", "dst_id", "ref_type", "via_id", "via_pk"), [
            (s, d, t, r.stix_id, pk) for pk, r in latest_rows for (s, d, t) in r.refs
        ])

    def raise_referrers(self, levels: dict[str, tuple[int, bool]], depth: int = 6, *,
                        stated_before: tuple[int, int] | None = None) -> None:
        """Objects that link to these ids inherit how restricted they are, through chains of links (a report
        naming a relationship that names a TLP:RED object is itself treated as TLP:RED). Restriction only
        ratchets up: fail closed.

        ``stated_before``: the primary keys (lo, hi) of the versions just stored, all of them and nothing else,
        whose links among themselves the caller has already taken into account: the first step skips them."""
        skip = stated_before
        for _ in range(depth):
            if not levels:
                return
            via_max: dict[str, tuple[int, bool]] = {}
            found: set[tuple[str, str, str]] = set()
            # two indexed look-ups rather than one OR, which the planner may answer with a scan
            for column in ("dst_id", "src_id"):
                sql = f"SELECT via_id, src_id, dst_id FROM stix_refs WHERE {self._in(column)}"  # noqa: S608 - fixed SQL, values bound
                params: tuple[Any, ...] = (self._set(levels),)
                if skip is not None:
                    sql += " AND (via_pk IS NULL OR via_pk NOT BETWEEN ? AND ?)"
                    params += skip
                found.update(tuple(r) for r in self._rows(sql, *params))
            skip = None
            for via, src, dst in found:
                for end in (src, dst):
                    if end in levels and end != via:
                        lvl, um = levels[end]
                        cur = via_max.get(via, (UNMARKED, False))
                        via_max[via] = (max(cur[0], lvl), cur[1] or um)
            if not via_max:
                return
            before = self.restriction_of_ids(via_max)
            current = {sid: (int(rt), bool(ru))
                       for sid, rt, ru in self._objects_of("stix_id, ref_tlp, ref_unmarked", via_max, latest=True)}
            changed = {v: lv for v, lv in via_max.items()
                       if v in current and (lv[0] > current[v][0] or (lv[1] and not current[v][1]))}
            if not changed:
                return
            updates = [{"vid": v, "lvl": lvl, "um": um} for v, (lvl, um) in changed.items()]
            versions = select(stix_objects.c.pk).where(stix_objects.c.stix_id == bindparam("vid")).scalar_subquery()
            for table, which in ((stix_objects, stix_objects.c.stix_id == bindparam("vid")),
                                 (collection_entries, collection_entries.c.object_pk.in_(versions))):
                self.conn.execute(
                    update(table)
                    .where(which)
                    .values(
                        ref_tlp=case((table.c.ref_tlp < bindparam("lvl"), bindparam("lvl")), else_=table.c.ref_tlp),
                        ref_unmarked=or_(table.c.ref_unmarked, bindparam("um")),
                    ),
                    updates,
                )
            after = self.restriction_of_ids(changed)
            levels = {v: after[v] for v in changed if v in after and after[v] != before.get(v)}

    # --- collections -------------------------------------------------------------------------------------
    _ENTRY_COLUMNS = ("collection_id", "object_pk", "stix_id", "type", "version", "spec_version", "date_added", "tlp",
                      "ref_tlp", "ref_unmarked", "is_latest", "is_first")

    def add_entries(
        self, collection_id: str, items: Sequence[tuple[int, str, str, str, str, int]], date_added: str, *,
        fresh: frozenset[str] = frozenset(), levels: dict[str, tuple[int, bool]] | None = None,
    ) -> int:
        """Add (pk, stix_id, type, version, spec_version, tlp) to a collection, skipping those already there.

        ``fresh``: ids first stored by this transaction, one version each, whose ``ref_tlp``/``ref_unmarked``
        are ``levels`` (default: none): they cannot be in any collection yet, so they are inserted directly.
        """
        if not items:
            return 0
        none = (UNMARKED, 0)
        known = {sid: (lvl, 1 if um else 0) for sid, (lvl, um) in (levels or {}).items()}
        direct = [i for i in items if i[1] in fresh]
        self._insert_many(collection_entries, self._ENTRY_COLUMNS, [
            (collection_id, pk, sid, typ, ver, sv, date_added, tlp, *known.get(sid, none), 1, 1)
            for pk, sid, typ, ver, sv, tlp in direct
        ])
        rest = [i for i in items if i[1] not in fresh] if direct else list(items)
        return len(direct) + (self._add_entries_checked(collection_id, rest, date_added) if rest else 0)

    def _add_entries_checked(
        self, collection_id: str, items: Sequence[tuple[int, str, str, str, str, int]], date_added: str
    ) -> int:
        present: set[int] = set()
        held_ids: set[str] = set()
        for pk, sid in self._rows(
            "SELECT object_pk, stix_id FROM collection_entries WHERE object_pk IN "  # noqa: S608 - fixed SQL, values bound
            f"(SELECT pk FROM stix_objects WHERE {self._in('stix_id')}) AND collection_id = ?",
            self._set({i[1] for i in items}), collection_id,
        ):
            present.add(pk)
            held_ids.add(sid)
        new = [i for i in items if i[0] not in present]
        if not new:
            return 0
        ref_levels = {int(pk): (int(rt), bool(ru)) for pk, rt, ru in self._rows(
            f"SELECT pk, ref_tlp, ref_unmarked FROM stix_objects WHERE {self._in('pk')}",  # noqa: S608 - fixed SQL, values bound
            self._set(i[0] for i in new),
        )}
        # An object new to the collection with one version here is its own first and latest entry; only the
        # others need their flags worked out from all their entries.
        per_id: dict[str, int] = {}
        for i in new:
            per_id[i[1]] = per_id.get(i[1], 0) + 1
        alone = {sid for sid, n in per_id.items() if n == 1 and sid not in held_ids}
        self._insert_many(
            collection_entries, self._ENTRY_COLUMNS,
            [(collection_id, pk, sid, typ, ver, sv, date_added, tlp, *ref_levels[pk], sid in alone, sid in alone)
             for pk, sid, typ, ver, sv, tlp in new],
        )
        others = {i[1] for i in new} - alone
        if others:
            self.refresh_entry_flags(collection_id, others)
        return len(new)

    def refresh_entry_flags(self, collection_id: str, stix_ids: Iterable[str]) -> None:
        ids = sorted(set(stix_ids))
        flags: list[dict[str, Any]] = []
        by_id: dict[str, list[tuple[str, int]]] = {}
        for seq, sid, ver in self._rows(
            "SELECT seq, stix_id, version FROM collection_entries WHERE object_pk IN "  # noqa: S608 - fixed SQL, values bound
            f"(SELECT pk FROM stix_objects WHERE {self._in('stix_id')}) AND collection_id = ?",
            self._set(ids), collection_id,
        ):
            by_id.setdefault(sid, []).append((ver, seq))
        for versions in by_id.values():
            versions.sort()
            first, last = versions[0][1], versions[-1][1]
            for _ver, seq in versions:
                flags.append({"s": seq, "l": seq == last, "f": seq == first})
        if flags:
            self.conn.execute(
                update(collection_entries)
                .where(collection_entries.c.seq == bindparam("s"))
                .values(is_latest=bindparam("l"), is_first=bindparam("f")),
                flags,
            )

    def create_collection(self, cid: str, api_root: str, title: str, description: str | None,
                          alias: str | None, created_at: str) -> None:
        self.conn.execute(
            taxii_collections.insert().values(
                id=cid, api_root=api_root, title=title, description=description, alias=alias, created_at=created_at
            )
        )

    def collections(self, api_root: str | None = None) -> list[dict[str, Any]]:
        q = select(taxii_collections).order_by(taxii_collections.c.title)
        if api_root is not None:
            q = q.where(taxii_collections.c.api_root == api_root)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def collection(self, cid: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(taxii_collections).where(taxii_collections.c.id == cid)).first()
        return dict(row._mapping) if row else None

    # --- agreements --------------------------------------------------------------------------------------
    def agreement(self, organisation_id: str) -> tuple[int, frozenset[str], frozenset[str]] | None:
        row = self.conn.execute(
            select(sharing_agreements).where(sharing_agreements.c.organisation_id == organisation_id)
        ).first()
        if row is None:
            return None
        reads: set[str] = set()
        writes: set[str] = set()
        q = select(agreement_collections).where(agreement_collections.c.agreement_id == row._mapping["id"])
        for r in self.conn.execute(q):
            m = r._mapping
            if m["can_read"]:
                reads.add(m["collection_id"])
            if m["can_write"]:
                writes.add(m["collection_id"])
        return int(row._mapping["max_tlp"]), frozenset(reads), frozenset(writes)

    def set_agreement(self, aid: str, organisation_id: str, max_tlp: int, reads: Iterable[str],
                      writes: Iterable[str], at: str) -> None:
        row = self.conn.execute(
            select(sharing_agreements.c.id).where(sharing_agreements.c.organisation_id == organisation_id)
        ).first()
        if row is None:
            self.conn.execute(
                sharing_agreements.insert().values(
                    id=aid, organisation_id=organisation_id, max_tlp=max_tlp, created_at=at, updated_at=at
                )
            )
        else:
            aid = row[0]
            self.conn.execute(
                update(sharing_agreements).where(sharing_agreements.c.id == aid).values(max_tlp=max_tlp, updated_at=at)
            )
            self.conn.execute(agreement_collections.delete().where(agreement_collections.c.agreement_id == aid))
        reads, writes = set(reads), set(writes)
        rows = [
            {"agreement_id": aid, "collection_id": c, "can_read": c in reads, "can_write": c in writes}
            for c in sorted(reads | writes)
        ]
        if rows:
            self.conn.execute(agreement_collections.insert(), rows)

    # --- reads ---------------------------------------------------------------------------------------------
    def get(self, stix_id: str, clearance: Clearance, version: str | None = None) -> Any | None:
        q = select(stix_objects).where(stix_objects.c.stix_id == stix_id, visible(stix_objects, clearance))
        q = q.where(stix_objects.c.version == version) if version else q.where(stix_objects.c.is_latest == true())
        row = self.conn.execute(q).first()
        return row._mapping if row else None

    def versions(self, stix_id: str, clearance: Clearance) -> list[Any]:
        q = (
            select(*_SUMMARY_COLS, stix_objects.c.is_latest)
            .where(stix_objects.c.stix_id == stix_id, visible(stix_objects, clearance))
            .order_by(stix_objects.c.version)
        )
        return [r._mapping for r in self.conn.execute(q)]

    def _search_where(self, clearance: Clearance, query: SearchQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [stix_objects.c.is_latest == true(), visible(stix_objects, clearance)]
        if query.types:
            where.append(stix_objects.c.type.in_(query.types))
        for label in query.labels:
            where.append(stix_objects.c.labels.contains(json.dumps(label)))
        if query.tlp:
            ranks = [t for t in query.tlp if t >= 0]
            cond: ColumnElement[bool] = stix_objects.c.tlp.in_(ranks)
            if clearance.unmarked_as in ranks:
                cond = or_(cond, stix_objects.c.tlp == UNMARKED)
            where.append(cond)
        if query.text:
            for word in query.text.lower().split()[:8]:
                where.append(stix_objects.c.search_text.contains(word, autoescape=True))
        if query.added_since:
            where.append(stix_objects.c.date_added >= query.added_since)
        if query.added_until:
            where.append(stix_objects.c.date_added < query.added_until)
        if query.modified_since:
            where.append(stix_objects.c.version >= query.modified_since)
        if query.modified_until:
            where.append(stix_objects.c.version < query.modified_until)
        if not query.include_revoked:
            where.append(stix_objects.c.revoked == false())
        return where

    def search(self, clearance: Clearance, query: SearchQuery) -> tuple[list[Any], int, str | None]:
        where = self._search_where(clearance, query)
        total = int(self.conn.execute(select(func.count()).select_from(stix_objects).where(*where)).scalar_one())
        page_where = list(where)
        if query.cursor:
            try:
                after = int(json.loads(base64.urlsafe_b64decode(query.cursor.encode()))["pk"])
            except (ValueError, KeyError, TypeError) as e:
                raise InvalidInput("bad page cursor", where="cursor") from e
            page_where.append(stix_objects.c.pk < after)
        limit = max(1, min(query.limit, 500))
        q = select(*_SUMMARY_COLS).where(*page_where).order_by(stix_objects.c.pk.desc()).limit(limit + 1)
        rows = [r._mapping for r in self.conn.execute(q)]
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = base64.urlsafe_b64encode(json.dumps({"pk": rows[-1]["pk"]}).encode()).decode()
        return rows, total, nxt

    def neighbours(self, stix_ids: Sequence[str], clearance: Clearance, limit: int) -> list[Edge]:
        """Links touching these ids whose stating object and both ends are visible."""
        via = stix_objects.alias("via")
        src = stix_objects.alias("src")
        dst = stix_objects.alias("dst")
        q = (
            select(stix_refs.c.src_id, stix_refs.c.dst_id, stix_refs.c.ref_type, stix_refs.c.via_id)
            .join(via, and_(via.c.stix_id == stix_refs.c.via_id, via.c.is_latest == true()))
            .join(src, and_(src.c.stix_id == stix_refs.c.src_id, src.c.is_latest == true()))
            .join(dst, and_(dst.c.stix_id == stix_refs.c.dst_id, dst.c.is_latest == true()))
            .where(
                or_(stix_refs.c.src_id.in_(stix_ids), stix_refs.c.dst_id.in_(stix_ids)),
                visible(via, clearance), visible(src, clearance), visible(dst, clearance),
            )
            .limit(limit)
        )
        return [Edge(source=s, target=d, type=t, via=v) for s, d, t, v in self.conn.execute(q)]

    def summaries(self, stix_ids: Sequence[str], clearance: Clearance) -> list[Any]:
        out: list[Any] = []
        for part in _chunks(list(stix_ids)):
            q = select(*_SUMMARY_COLS).where(
                stix_objects.c.stix_id.in_(part), stix_objects.c.is_latest == true(), visible(stix_objects, clearance)
            )
            out.extend(r._mapping for r in self.conn.execute(q))
        return out

    def lookup(self, candidates: Sequence[tuple[str, str]], ipv4: int | None, clearance: Clearance,
               now: str) -> list[IndicatorHit]:
        """Indicators whose value equals one of (kind, value), or whose IPv4 CIDR covers ``ipv4``."""
        conds: list[ColumnElement[bool]] = [
            and_(indicator_values.c.kind == k, indicator_values.c.value == v) for k, v in candidates
        ]
        if ipv4 is not None:
            nets = sorted({(ipv4 >> (32 - p)) << (32 - p) for p in range(0, 33)})
            conds.append(
                and_(indicator_values.c.ip_lo.in_(nets), indicator_values.c.ip_hi >= ipv4,
                     indicator_values.c.kind == "ipv4-cidr")
            )
        if not conds:
            return []
        q = (
            select(indicator_values.c.stix_id, indicator_values.c.kind, indicator_values.c.value,
                   stix_objects.c.name, stix_objects.c.valid_until, stix_objects.c.confidence, stix_objects.c.tlp)
            .join(stix_objects, stix_objects.c.pk == indicator_values.c.object_pk)
            .where(
                or_(*conds), stix_objects.c.revoked == false(), visible(stix_objects, clearance),
                or_(stix_objects.c.valid_until.is_(None), stix_objects.c.valid_until > now),
                or_(stix_objects.c.valid_from.is_(None), stix_objects.c.valid_from <= now),
            )
        )
        return [
            IndicatorHit(stix_id=s, kind=k, value=v, name=n, valid_until=vu, confidence=c,
                         tlp=clearance.unmarked_as if t == UNMARKED else t)
            for s, k, v, n, vu, c, t in self.conn.execute(q)
        ]

    def active_values(self, now: str, clearance: Clearance) -> Iterator[Any]:
        q = (
            select(indicator_values.c.kind, indicator_values.c.value, indicator_values.c.stix_id,
                   stix_objects.c.name, stix_objects.c.confidence, stix_objects.c.tlp, stix_objects.c.valid_until,
                   stix_objects.c.labels, stix_objects.c.valid_from, stix_objects.c.version)
            .join(stix_objects, stix_objects.c.pk == indicator_values.c.object_pk)
            .where(
                stix_objects.c.revoked == false(), visible(stix_objects, clearance),
                or_(stix_objects.c.valid_until.is_(None), stix_objects.c.valid_until > now),
                or_(stix_objects.c.valid_from.is_(None), stix_objects.c.valid_from <= now),
            )
            .order_by(indicator_values.c.kind, indicator_values.c.value)
        )
        yield from (r._mapping for r in self.conn.execute(q))

    def last_sightings(self) -> dict[str, str]:
        """Indicator (or any sighted object) id → time of its latest sighting record."""
        q = (
            select(stix_refs.c.dst_id, func.max(stix_objects.c.version))
            .join(stix_objects, and_(stix_objects.c.stix_id == stix_refs.c.via_id, stix_objects.c.is_latest == true()))
            .where(stix_refs.c.ref_type == "sighting-of")
            .group_by(stix_refs.c.dst_id)
        )
        return {dst: ts for dst, ts in self.conn.execute(q)}

    def raw_objects(self, clearance: Clearance, types: Sequence[str] = (), latest_only: bool = True) -> Iterator[str]:
        q = select(stix_objects.c.raw).where(visible(stix_objects, clearance))
        if latest_only:
            q = q.where(stix_objects.c.is_latest == true())
        if types:
            q = q.where(stix_objects.c.type.in_(types))
        yield from (r for (r,) in self.conn.execute(q.order_by(stix_objects.c.pk)))

    def record_disclosures(self, at: str, clearance: Clearance, items: Iterable[tuple[str, str]]) -> None:
        rows = [
            {"at": at, "user_id": clearance.user_id, "organisation_id": clearance.organisation_id,
             "channel": clearance.channel, "stix_id": sid, "version": ver}
            for sid, ver in items
        ]
        if rows:
            self.conn.execute(disclosures.insert(), rows)

    def count_by_type(self, clearance: Clearance) -> dict[str, int]:
        q = (
            select(stix_objects.c.type, func.count())
            .where(stix_objects.c.is_latest == true(), visible(stix_objects, clearance))
            .group_by(stix_objects.c.type)
        )
        return {t: int(n) for t, n in self.conn.execute(q)}

    def count_objects(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(stix_objects)).scalar_one())


__all__ = ["ObjectRow", "SqlIntelStore", "literal", "summary_of", "visible"]

"""Threat-intelligence use cases: ingest, browse, search, graph, look up, export, sharing agreements.

Indicator life-cycle (one rule, documented in docs/intel.md): an indicator is *active* from ``valid_from`` until
``valid_until`` unless revoked; its score starts at its confidence and decays with age (``lifecycle.score_at``);
a sighting refreshes it; expiry and revocation end it. Sensor feeds carry only active indicators.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from mamori.adapters.storage.database import Database
from mamori.adapters.storage.intel_store import SqlIntelStore, summary_of
from mamori.errors import InvalidInput, NotFound, PermissionDenied
from mamori.identity.model import Principal, Role
from mamori.intel import lifecycle
from mamori.intel.bulk import collector_paused, ingest_in_chunks
from mamori.intel.model import (
    TLP_AMBER,
    TLP_AMBER_STRICT,
    TLP_RED,
    UNMARKED,
    Clearance,
    FeedIndicator,
    Graph,
    IndicatorHit,
    IngestReport,
    ObjectRow,
    ObjectSummary,
    Problem,
    SearchPage,
    SearchQuery,
    StoredObject,
)
from mamori.intel.patterns import detect_kind, ip_bounds, normalise
from mamori.intel.prepare import prepare_objects
from mamori.intel.tlp import Tlp, tlp2_marking_definitions
from mamori.kernel.clock import Clock
from mamori.kernel.ids import IdFactory
from mamori.kernel.timefmt import format_timestamp, normalise_timestamp, parse_timestamp

OPERATOR_MAX_TLP = TLP_AMBER
PARTNER_CEILING = TLP_AMBER_STRICT


def parse_tlp(text: str, where: str = "tlp") -> int:
    try:
        return int(Tlp.parse(text))
    except (ValueError, KeyError) as e:
        raise InvalidInput(f"unknown TLP level {text!r}", where=where) from e


class IntelService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdFactory,
        *,
        unmarked_default: int = TLP_RED,
        store: Callable[[Connection], SqlIntelStore] = SqlIntelStore,
        import_chunk: int = 2000,
        import_workers: int | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.unmarked_default = unmarked_default
        self._store = store
        self.import_chunk = import_chunk
        self.import_workers = import_workers  # None: one per core beyond the writer's

    # --- who sees what ---------------------------------------------------------------------------------
    def full_clearance(self, channel: str = "api") -> Clearance:
        return Clearance(max_tlp=TLP_RED, unmarked_as=self.unmarked_default, channel=channel).for_channel(channel)

    def clearance_for(self, principal: Principal, channel: str = "api") -> Clearance:
        role = principal.role
        org_id = principal.organisation.id if principal.organisation else None
        if role in (Role.ADMIN, Role.ANALYST, Role.COMMISSIONER):
            c = Clearance(max_tlp=TLP_RED, unmarked_as=self.unmarked_default, organisation_id=org_id,
                          user_id=principal.user.id)
        elif role == Role.OPERATOR:
            c = Clearance(max_tlp=OPERATOR_MAX_TLP, unmarked_as=self.unmarked_default, collections_read=None,
                          collections_write=frozenset(), organisation_id=org_id, user_id=principal.user.id,
                          record_disclosures=True)
        else:  # partner: only what its sharing agreement allows; no agreement, nothing
            agreement = None
            if org_id:
                with self.db.connect() as conn:
                    agreement = self._store(conn).agreement(org_id)
            if agreement is None:
                c = Clearance(max_tlp=-1, unmarked_as=self.unmarked_default, collections_read=frozenset(),
                              collections_write=frozenset(), organisation_id=org_id, user_id=principal.user.id,
                              record_disclosures=True)
            else:
                max_tlp, reads, writes = agreement
                c = Clearance(max_tlp=min(max_tlp, PARTNER_CEILING), unmarked_as=self.unmarked_default,
                              collections_read=reads, collections_write=writes, organisation_id=org_id,
                              user_id=principal.user.id, record_disclosures=True, contributor=org_id)
        return c.for_channel(channel)

    def set_agreement(self, organisation_id: str, max_tlp: str, read: Iterable[str] = (),
                      write: Iterable[str] = ()) -> None:
        rank = parse_tlp(max_tlp, "max_tlp")
        if rank > PARTNER_CEILING:
            raise InvalidInput("TLP:RED is never shared with partners; the highest is TLP:AMBER+STRICT",
                               where="max_tlp")
        read, write = list(read), list(write)
        with self.db.begin() as conn:
            st = self._store(conn)
            for cid in (*read, *write):
                if st.collection(cid) is None:
                    raise NotFound(f"no collection {cid!r}", where="collections")
            st.set_agreement(self.ids.new(), organisation_id, rank, read, write, self._now())

    def agreement(self, organisation_id: str) -> tuple[int, frozenset[str], frozenset[str]] | None:
        with self.db.connect() as conn:
            return self._store(conn).agreement(organisation_id)

    # --- collections -----------------------------------------------------------------------------------
    def create_collection(self, title: str, *, collection_id: str | None = None, api_root: str = "partners",
                          description: str | None = None, alias: str | None = None) -> dict[str, Any]:
        import uuid

        if not title.strip():
            raise InvalidInput("collection title is empty", where="title")
        cid = collection_id or self.ids.new()
        try:
            cid = str(uuid.UUID(cid))
        except ValueError as e:
            raise InvalidInput(f"collection id {cid!r} is not a UUID", where="id") from e
        if not api_root or not api_root.replace("-", "").replace("_", "").isalnum():
            raise InvalidInput(f"API root name {api_root!r} must be letters, digits, '-' or '_'", where="api_root")
        with self.db.begin() as conn:
            st = self._store(conn)
            if st.collection(cid):
                raise InvalidInput(f"collection {cid} already exists", where="id")
            st.create_collection(cid, api_root, title.strip(), description, alias, self._now())
            created = st.collection(cid)
        assert created is not None
        return created

    def collections(self, api_root: str | None = None) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return self._store(conn).collections(api_root)

    def collection(self, cid: str) -> dict[str, Any]:
        with self.db.connect() as conn:
            c = self._store(conn).collection(cid)
        if c is None:
            raise NotFound(f"no collection {cid!r}", where="collection")
        return c

    # --- ingest ----------------------------------------------------------------------------------------
    def _now(self) -> str:
        return format_timestamp(self.clock.now())

    def now_text(self) -> str:
        return self._now()

    @staticmethod
    def check_write_access(collections: Sequence[str], clearance: Clearance | None) -> None:
        if clearance is not None:
            for cid in collections:
                if not clearance.may_write_collection(cid):
                    raise PermissionDenied(f"no write access to collection {cid}", where="collection")

    def ingest(
        self,
        objects: Sequence[Any],
        *,
        collections: Sequence[str] = (),
        clearance: Clearance | None = None,
        offset: int = 0,
    ) -> IngestReport:
        """Validate each object, store the valid ones, report each invalid one by index; idempotent.

        One transaction: for a few thousand objects. Large inputs go through :meth:`ingest_many`."""
        self.check_write_access(collections, clearance)
        now = self._now()
        prepared, problems = prepare_objects(objects, fallback_version=now, offset=offset)
        return self.store_prepared(prepared, problems, received=len(objects), collections=collections,
                                   clearance=clearance, offset=offset, now=now)

    def ingest_many(
        self,
        objects: Sequence[Any],
        *,
        collections: Sequence[str] = (),
        clearance: Clearance | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """:meth:`ingest` for inputs of any size: in chunks of ``import_chunk`` objects, one transaction each,
        prepared in ``import_workers`` worker processes while this one writes (``mamori.intel.bulk``)."""
        return ingest_in_chunks(self, objects, collections=collections, clearance=clearance,
                                chunk=self.import_chunk, workers=self.import_workers, progress=progress)

    def store_prepared(
        self,
        prepared: Sequence[tuple[int, ObjectRow]],
        problems: list[Problem],
        *,
        received: int,
        collections: Sequence[str] = (),
        clearance: Clearance | None = None,
        offset: int = 0,
        now: str | None = None,
    ) -> IngestReport:
        """The writing half of :meth:`ingest`: one transaction for rows that ``prepare_objects`` built."""
        now = now or self._now()
        problems = list(problems)
        added_ids: list[str] = []
        duplicates = 0
        with self.db.begin() as conn:
            st = self._store(conn)
            for cid in collections:
                if st.collection(cid) is None:
                    raise NotFound(f"no collection {cid!r}", where="collection")
            existing = st.existing_versions(r.stix_id for _i, r in prepared)
            contributor = clearance.contributor if clearance is not None else None
            foreign: set[str] = set()
            if contributor is not None and existing:
                # A partner may add versions only of objects it contributed. Someone else's object that the
                # partner cannot see is passed over as if already held, so the answer reveals nothing.
                for sid, (owners, any_seen) in st.owners(existing, clearance).items():  # type: ignore[arg-type]
                    if owners != frozenset({contributor}):
                        foreign.add(sid)
                        if any_seen:
                            for i, r in prepared:
                                if r.stix_id == sid:
                                    problems.append(Problem(
                                        index=i + offset, object_id=sid,
                                        reason="this object was contributed by another organisation; a partner "
                                               "may add versions only of objects it contributed",
                                    ))
                        else:
                            duplicates += sum(1 for _i, r in prepared if r.stix_id == sid)
            new_rows: list[ObjectRow] = []
            seen: dict[tuple[str, str], str] = {}
            for i, r in prepared:
                if r.stix_id in foreign:
                    continue
                key = (r.stix_id, r.version)
                known = existing.get(r.stix_id, {}).get(r.version)
                if known is not None or key in seen:
                    h = known[1] if known is not None else seen[key]
                    if h != r.content_hash:
                        problems.append(Problem(
                            index=i + offset, object_id=r.stix_id,
                            reason=f"a different object with this id and version {r.version} is already stored; "
                                   "a changed object needs a later 'modified'",
                        ))
                    else:
                        duplicates += 1
                    continue
                seen[key] = r.content_hash
                new_rows.append(r)
            ref_levels = self._ref_levels(st, new_rows)
            counts: dict[str, int] = {}
            for r in new_rows:
                counts[r.stix_id] = counts.get(r.stix_id, 0) + 1
            fresh = frozenset(sid for sid, n in counts.items() if n == 1 and sid not in existing)
            new_pks = st.insert_objects(new_rows, now, ref_levels, fresh, added_by=contributor)
            pairs = list(zip(new_pks, new_rows, strict=True))
            if len(fresh) == len(new_rows):  # all new: each is its own latest version
                latest_rows = pairs
            else:
                latest = st.refresh_latest({r.stix_id for r in new_rows if r.stix_id not in fresh})
                latest_rows = [(pk, r) for pk, r in pairs if r.stix_id in fresh or latest[r.stix_id][0] == pk]
            st.replace_indexes(latest_rows, fresh=fresh)
            added_ids = [r.stix_id for r in new_rows]
            if collections:
                # Entries before the referrers are raised, so that raising reaches the entries too.
                items = [(pk, r.stix_id, r.type, r.version, r.spec_version, r.tlp) for pk, r in pairs]
                if len(new_rows) < len(prepared):  # objects already held go into the collections too
                    pks = {(r.stix_id, r.version): pk for pk, r in pairs}
                    done = set(new_pks)
                    for _i, r in prepared:
                        held = existing.get(r.stix_id, {}).get(r.version)
                        found = held[0] if held is not None else pks.get((r.stix_id, r.version))
                        if found is None or found in done:
                            continue
                        done.add(found)
                        items.append((found, r.stix_id, r.type, r.version, r.spec_version, r.tlp))
                for cid in collections:
                    st.add_entries(cid, items, now, fresh=fresh, levels=ref_levels)
            # Links stated by this batch to this batch are in ref_levels already: only earlier ones can rise.
            lo, hi = (min(new_pks), max(new_pks)) if new_pks else (0, -1)
            st.raise_referrers({
                r.stix_id: (max(r.tlp, ref_levels.get(r.stix_id, (UNMARKED, False))[0]),
                            r.tlp == UNMARKED or ref_levels.get(r.stix_id, (UNMARKED, False))[1])
                for _pk, r in latest_rows
            }, stated_before=(lo, hi) if hi - lo + 1 == len(new_pks) else None)
        problems.sort(key=lambda p: p.index)
        return IngestReport(received=received, added=len(new_rows), duplicates=duplicates,
                            problems=tuple(problems), added_ids=tuple(added_ids))

    def _ref_levels(self, st: SqlIntelStore, rows: Sequence[ObjectRow]) -> dict[str, tuple[int, bool]]:
        """For each new object that links to others: the highest TLP among what it links to (transitively) and
        whether any of those is unmarked. Objects of the same batch count, in any order."""
        linked = [r for r in rows if r.refs]
        if not linked:
            return {}
        in_batch = {r.stix_id: r for r in rows}
        ends = {r.stix_id: {e for s, d, _t in r.refs for e in (s, d)} - {r.stix_id} for r in linked}
        known = st.restriction_of_ids(set().union(*ends.values()).difference(in_batch))
        out: dict[str, tuple[int, bool]] = {}

        def level(of: str) -> tuple[int, bool]:
            lvl, unmarked = UNMARKED, False
            for end in ends[of]:
                other = in_batch.get(end)
                if other is not None:
                    o_lvl, o_um = out.get(end, (UNMARKED, False))
                    cand = (max(other.tlp, o_lvl), other.tlp == UNMARKED or o_um)
                else:
                    found = known.get(end)
                    if found is None:
                        continue
                    cand = found
                lvl, unmarked = max(lvl, cand[0]), unmarked or cand[1]
            return lvl, unmarked

        pending = linked
        while pending:  # links inside one batch settle in a few passes; levels only rise, so this ends
            changed: set[str] = set()
            for r in pending:
                lv = level(r.stix_id)
                if (lv[0] != UNMARKED or lv[1]) and out.get(r.stix_id) != lv:
                    out[r.stix_id] = lv
                    changed.add(r.stix_id)
            # only objects that link to one that changed can change next
            pending = [r for r in linked if not ends[r.stix_id].isdisjoint(changed)] if changed else []
        return out

    def ingest_json(self, data: bytes | str, *, collections: Sequence[str] = (),
                    clearance: Clearance | None = None, where: str = "body") -> IngestReport:
        """A STIX bundle, a TAXII envelope, a JSON list of objects, or one object."""
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise InvalidInput(f"malformed JSON: {e}", where=where) from e
        return self.ingest(objects_of_document(doc, where), collections=collections, clearance=clearance)

    def import_file(self, path: Path, *, fmt: str = "auto", collections: Sequence[str] = (),
                    default_tlp: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Import a STIX bundle, MISP event JSON, or a plain indicator list (text/CSV).

        ``progress(done, total)`` is called after each chunk of objects is stored."""
        # A large file is millions of small acyclic objects: with the cycle collector running, each generation
        # of it would walk them all again. The parsed document is freed (by reference counting) before it runs.
        with collector_paused():
            return self._import_file(path, fmt=fmt, collections=collections, default_tlp=default_tlp,
                                     progress=progress)

    def _import_file(self, path: Path, *, fmt: str, collections: Sequence[str], default_tlp: str | None,
                     progress: Callable[[int, int], None] | None) -> IngestReport:
        from mamori.intel import misp, plainlist

        try:
            data = path.read_bytes()
        except OSError as e:
            raise InvalidInput(f"cannot read: {e.strerror}", where=str(path)) from e
        kind = fmt
        doc: Any = None
        if kind in ("stix", "misp") or (kind == "auto" and path.suffix.lower() == ".json"):
            try:
                doc = orjson.loads(data)
            except orjson.JSONDecodeError as e:
                raise InvalidInput(f"malformed JSON: {e}", where=str(path)) from e
        if kind == "auto":
            suffix = path.suffix.lower()
            if suffix == ".json":
                kind = "misp" if _looks_like_misp(doc) else "stix"
            elif suffix == ".csv":
                kind = "csv"
            else:
                kind = "text"
        extra: list[Problem] = []
        if kind == "stix":
            objects = objects_of_document(doc, str(path))
        elif kind == "misp":
            objects, mproblems = misp.misp_to_stix(doc, **_tlp_kw(default_tlp))
            extra = [Problem(index=p.index, object_id=None, reason=p.reason) for p in mproblems]
        elif kind in ("csv", "text"):
            text = data.decode("utf-8", errors="strict")
            parse = plainlist.parse_csv if kind == "csv" else plainlist.parse_text
            objects, pproblems = parse(text, created=self.clock.now(), **_tlp_kw(default_tlp))
            extra = [Problem(index=p.line, object_id=None, reason=p.reason) for p in pproblems]
            # A list names values, not versions: a value already held is a duplicate, so re-import adds nothing.
            with self.db.connect() as conn:
                held = self._store(conn).existing_versions(str(o["id"]) for o in objects)
            already = sum(1 for o in objects if o["id"] in held)
            objects = [o for o in objects if o["id"] not in held]
            report = self.ingest_many(objects, collections=collections, progress=progress)
            return IngestReport(received=report.received + already + len(extra), added=report.added,
                                duplicates=report.duplicates + already, problems=tuple(extra) + report.problems,
                                added_ids=report.added_ids)
        else:
            raise InvalidInput(f"unknown import format {fmt!r} (stix, misp, csv, text)", where="format")
        report = self.ingest_many(objects, collections=collections, progress=progress)
        if extra:
            report = IngestReport(received=report.received + len(extra), added=report.added,
                                  duplicates=report.duplicates, problems=tuple(extra) + report.problems,
                                  added_ids=report.added_ids)
        return report

    # --- reads -----------------------------------------------------------------------------------------
    def get(self, stix_id: str, clearance: Clearance, version: str | None = None) -> StoredObject:
        ver = normalise_timestamp(version, where="version") if version else None
        with self.db.begin() as conn:
            st = self._store(conn)
            m = st.get(stix_id, clearance, ver)
            if m is None:
                raise NotFound(f"no object {stix_id!r}", where="id")
            if clearance.record_disclosures:
                st.record_disclosures(self._now(), clearance, [(m["stix_id"], m["version"])])
        return StoredObject(summary=summary_of(m, clearance.unmarked_as), raw=json.loads(m["raw"]),
                            is_latest=bool(m["is_latest"]))

    def versions(self, stix_id: str, clearance: Clearance) -> list[ObjectSummary]:
        with self.db.connect() as conn:
            rows = self._store(conn).versions(stix_id, clearance)
        if not rows:
            raise NotFound(f"no object {stix_id!r}", where="id")
        return [summary_of(m, clearance.unmarked_as) for m in rows]

    def search(self, clearance: Clearance, query: SearchQuery) -> SearchPage:
        with self.db.connect() as conn:
            rows, total, nxt = self._store(conn).search(clearance, query)
        return SearchPage(items=tuple(summary_of(m, clearance.unmarked_as) for m in rows), total=total,
                          next_cursor=nxt)

    def graph(self, stix_id: str, clearance: Clearance, *, depth: int = 1, limit: int = 150) -> Graph:
        depth = max(1, min(depth, 3))
        with self.db.connect() as conn:
            st = self._store(conn)
            if st.get(stix_id, clearance) is None:
                raise NotFound(f"no object {stix_id!r}", where="id")
            frontier = [stix_id]
            seen = {stix_id}
            edges: dict[tuple[str, str, str, str], Any] = {}
            truncated = False
            for _ in range(depth):
                found = st.neighbours(frontier, clearance, limit + 1)
                nxt: list[str] = []
                for e in found:
                    edges[(e.source, e.target, e.type, e.via)] = e
                    for end in (e.source, e.target, e.via):
                        if end not in seen and len(seen) < limit:
                            seen.add(end)
                            nxt.append(end)
                        elif end not in seen:
                            truncated = True
                frontier = nxt
                if not frontier:
                    break
            nodes = [summary_of(m, clearance.unmarked_as) for m in st.summaries(sorted(seen), clearance)]
        present = {n.stix_id for n in nodes}
        kept = tuple(e for e in edges.values() if e.source in present and e.target in present)
        return Graph(center=stix_id, nodes=tuple(nodes), edges=kept, truncated=truncated)

    def lookup(self, value: str, clearance: Clearance) -> list[IndicatorHit]:
        """Current indicators matching a value: exact, by parent domain, or by covering IPv4 CIDR."""
        text = value.strip()
        kind = detect_kind(text)
        if kind is None:
            raise InvalidInput(f"cannot tell what kind of value {value!r} is", where="value")
        norm = normalise(kind, text)
        candidates: list[tuple[str, str]] = [(kind, norm)]
        ipv4 = None
        if kind == "domain":
            labels = norm.split(".")
            candidates.extend(("domain", ".".join(labels[i:])) for i in range(1, len(labels) - 1))
        if kind == "ipv4":
            b = ip_bounds("ipv4", norm)
            ipv4 = b[0] if b else None
        with self.db.connect() as conn:
            return self._store(conn).lookup(candidates, ipv4, clearance, self._now())

    def active_indicators(self, clearance: Clearance | None = None) -> list[FeedIndicator]:
        """Current indicator values (valid, unexpired, unrevoked) with their life-cycle score now."""
        c = clearance or self.full_clearance()
        at = self.clock.now()
        with self.db.connect() as conn:
            st = self._store(conn)
            rows = list(st.active_values(self._now(), c))
            sightings = st.last_sightings()
        out: list[FeedIndicator] = []
        for m in rows:
            facts = {"valid_from": m["valid_from"], "modified": m["version"], "valid_until": m["valid_until"]}
            if m["confidence"] is not None:
                facts["confidence"] = m["confidence"]
            seen = sightings.get(m["stix_id"])
            last = parse_timestamp(seen) if seen else None
            out.append(FeedIndicator(
                kind=m["kind"], value=m["value"], indicator_id=m["stix_id"], name=m["name"],
                confidence=m["confidence"], tlp=c.unmarked_as if m["tlp"] == UNMARKED else m["tlp"],
                valid_until=m["valid_until"], labels=tuple(json.loads(m["labels"]) if m["labels"] else ()),
                score=lifecycle.score_at(facts, at, last, kind=m["kind"]),
                state=lifecycle.state_at(facts, at, last, kind=m["kind"]),
            ))
        return out

    # --- export ----------------------------------------------------------------------------------------
    def export_bundle(self, clearance: Clearance, *, types: Sequence[str] = ()) -> dict[str, Any]:
        import uuid

        with self.db.begin() as conn:
            st = self._store(conn)
            objects = [json.loads(r) for r in st.raw_objects(clearance, types)]
            if clearance.record_disclosures:
                st.record_disclosures(self._now(), clearance, [(o["id"], o.get("modified", "")) for o in objects])
        present = {o["id"] for o in objects}
        used = {m for o in objects for m in o.get("object_marking_refs", ())}
        for md in tlp2_marking_definitions():
            if md["id"] in used and md["id"] not in present:
                objects.insert(0, md)
        return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}

    def export_feed(self, fmt: str, clearance: Clearance | None = None) -> dict[str, str]:
        """Sensor feed files (name → text) from current indicators: suricata or zeek."""
        from mamori.intel import feeds

        records = [
            {"kind": f.kind, "value": f.value, "indicator_id": f.indicator_id, "name": f.name,
             "confidence": round(f.score), "tlp": f.tlp, "valid_until": f.valid_until}
            for f in self.active_indicators(clearance)
        ]
        if fmt == "suricata":
            return feeds.suricata_files(records)
        if fmt == "zeek":
            return {"mamori.intel": feeds.zeek_intel(records)}
        raise InvalidInput(f"unknown feed format {fmt!r} (suricata, zeek)", where="format")

    def count_by_type(self, clearance: Clearance) -> dict[str, int]:
        """Current objects the viewer may see, per STIX type (one grouped query under the clearance)."""
        with self.db.connect() as conn:
            return self._store(conn).count_by_type(clearance)

    def count(self) -> int:
        with self.db.connect() as conn:
            return self._store(conn).count_objects()


def _tlp_kw(default_tlp: str | None) -> dict[str, Any]:
    return {"default_tlp": default_tlp} if default_tlp else {}


def _looks_like_misp(doc: Any) -> bool:
    if isinstance(doc, dict):
        return "Event" in doc or ("response" in doc and isinstance(doc["response"], list))
    return isinstance(doc, list) and bool(doc) and isinstance(doc[0], dict) and "Event" in doc[0]


def objects_of_document(doc: Any, where: str) -> list[Any]:
    if isinstance(doc, dict):
        if doc.get("type") == "bundle":
            objs = doc.get("objects", [])
        elif "objects" in doc and "type" not in doc:  # TAXII envelope
            objs = doc["objects"]
        elif "type" in doc:
            objs = [doc]
        else:
            raise InvalidInput("expected a STIX bundle, an envelope with 'objects', or a STIX object", where=where)
    elif isinstance(doc, list):
        objs = doc
    else:
        raise InvalidInput("expected a JSON object or array", where=where)
    if not isinstance(objs, list):
        raise InvalidInput("'objects' must be an array", where=where)
    return objs



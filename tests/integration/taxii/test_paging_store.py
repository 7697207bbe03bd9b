"""The TAXII paging store on SQLite and PostgreSQL: keyset pages return every visible entry exactly once, in
(date_added, id, version) order, across ``added_after`` boundaries, with ``added_after`` exclusive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.stixgen import TLP2, indicator, malware

from mamori.adapters.storage.taxii_store import SqlTaxiiStore
from mamori.bootstrap import Context
from mamori.intel.model import TLP_AMBER, TLP_GREEN, TLP_RED, Clearance
from mamori.intel.taxii import Entry, EntryQuery, Keyset
from mamori.kernel.clock import FixedClock
from mamori.kernel.timefmt import format_timestamp, parse_timestamp

GREEN_VIEWER = Clearance(max_tlp=TLP_GREEN, unmarked_as=TLP_RED)


def _tlp_name(n: int) -> str | None:
    return [None, "clear", "green", "amber", "red"][n % 5]


def _seed(ctx: Context) -> tuple[str, list[tuple[str, str, str, str | None]], list[str]]:
    """Three batches a minute apart; returns the collection, (date_added, id, version, tlp) rows, batch times."""
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    cid = ctx.intel.create_collection("paging")["id"]
    rows: list[tuple[str, str, str, str | None]] = []
    times: list[str] = []
    n = 0
    for batch in range(3):
        clock.advance(timedelta(minutes=1))
        at = format_timestamp(clock.now())
        times.append(at)
        objs: list[dict[str, Any]] = []
        for _ in range(17):
            n += 1
            tlp = _tlp_name(n)
            obj = indicator(n, f"192.0.2.{n % 250}", tlp=tlp) if n % 3 else malware(n, f"family {n}", tlp=tlp)
            objs.append(obj)
            rows.append((at, obj["id"], obj["modified"], tlp))
        if batch == 2:  # a newer version of some earlier objects, with a different marking
            for old in range(1, 10, 2):
                tlp = _tlp_name(old + 1)
                newer = indicator(old, f"192.0.2.{old % 250}", tlp=tlp) if old % 3 else \
                    malware(old, f"family {old}", tlp=tlp)
                newer["modified"] = "2026-10-05T00:00:00.000Z"
                objs.append(newer)
                rows.append((at, newer["id"], newer["modified"], tlp))
        report = ctx.intel.ingest(objs, collections=[cid])
        assert report.invalid == 0, report.problems
    return cid, rows, times


def _norm(ts: str) -> str:
    return ts.replace("Z", "000Z") if len(ts) == 24 else ts


def _visible(rows: list[tuple[str, str, str, str | None]], clearance: Clearance) -> list[tuple[str, str, str]]:
    rank = {None: clearance.unmarked_as, "clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}
    return sorted((at, sid, _norm(ver)) for at, sid, ver, tlp in rows if rank[tlp] <= clearance.max_tlp)


def _walk(ctx: Context, cid: str, clearance: Clearance, query: EntryQuery, limit: int) -> list[Entry]:
    out: list[Entry] = []
    after: Keyset | None = None
    for _ in range(1000):
        with ctx.db.connect() as conn:
            page, more = SqlTaxiiStore(conn).page(cid, clearance, query, after, limit, with_raw=True)
        assert len(page) <= limit
        assert page or not more, "an empty page must not promise more"
        out.extend(page)
        if not more:
            return out
        after = page[-1].key
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("limit", [1, 4, 17, 1000])
def test_keyset_pages_return_every_visible_version_once_in_order(any_ctx: Context, limit: int) -> None:
    cid, rows, _times = _seed(any_ctx)
    got = _walk(any_ctx, cid, GREEN_VIEWER, EntryQuery(versions=("all",)), limit)
    keys = [(e.date_added, e.stix_id, e.version) for e in got]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert keys == _visible(rows, GREEN_VIEWER)
    assert all(e.raw and f'"{e.stix_id}"' in e.raw for e in got)
    assert TLP2["red"] not in "".join(e.raw or "" for e in got)


def test_added_after_is_exclusive_and_pages_cross_batch_boundaries(any_ctx: Context) -> None:
    cid, rows, times = _seed(any_ctx)
    everything = _visible(rows, GREEN_VIEWER)
    for i, t in enumerate(times):
        got = _walk(any_ctx, cid, GREEN_VIEWER, EntryQuery(versions=("all",), added_after=t), 3)
        expected = [k for k in everything if k[0] > t]
        assert [(e.date_added, e.stix_id, e.version) for e in got] == expected
        assert all(e.date_added != t for e in got), f"batch {i} added exactly at added_after was returned"
    just_before = format_timestamp(parse_timestamp(times[0]) - timedelta(microseconds=1))
    got = _walk(any_ctx, cid, GREEN_VIEWER, EntryQuery(versions=("all",), added_after=just_before), 5)
    assert len(got) == len(everything)


def test_last_version_is_the_last_one_the_viewer_may_see(any_ctx: Context) -> None:
    cid, rows, _times = _seed(any_ctx)
    amber = Clearance(max_tlp=TLP_AMBER, unmarked_as=TLP_RED)
    for clearance in (GREEN_VIEWER, amber):
        visible = _visible(rows, clearance)
        last: dict[str, str] = {}
        for _at, sid, ver in visible:
            last[sid] = max(last.get(sid, ver), ver)
        got = _walk(any_ctx, cid, clearance, EntryQuery(versions=("last",)), 6)
        assert {(e.stix_id, e.version) for e in got} == set(last.items())
        first: dict[str, str] = {}
        for _at, sid, ver in visible:
            first[sid] = min(first.get(sid, ver), ver)
        got = _walk(any_ctx, cid, clearance, EntryQuery(versions=("first",)), 6)
        assert {(e.stix_id, e.version) for e in got} == set(first.items())


def test_filters_by_id_and_type_keep_keyset_order(any_ctx: Context) -> None:
    cid, rows, _times = _seed(any_ctx)
    visible = _visible(rows, GREEN_VIEWER)
    got = _walk(any_ctx, cid, GREEN_VIEWER, EntryQuery(types=("malware",), versions=("all",)), 2)
    assert [(e.date_added, e.stix_id, e.version) for e in got] == [k for k in visible if k[1].startswith("malware")]
    some = sorted({k[1] for k in visible})[:3]
    got = _walk(any_ctx, cid, GREEN_VIEWER, EntryQuery(ids=tuple(some), versions=("all",)), 1)
    assert [(e.date_added, e.stix_id, e.version) for e in got] == [k for k in visible if k[1] in some]


def test_a_viewer_without_clearance_gets_nothing_and_no_more(any_ctx: Context) -> None:
    cid, _rows, _times = _seed(any_ctx)
    nobody = Clearance(max_tlp=-1, unmarked_as=TLP_RED)
    with any_ctx.db.connect() as conn:
        page, more = SqlTaxiiStore(conn).page(cid, nobody, EntryQuery(versions=("all",)), None, 10, with_raw=False)
    assert page == [] and more is False


def test_a_prepared_statement_refuses_parameters_the_driver_would_need_converted() -> None:
    from sqlalchemy import Boolean, bindparam, select
    from sqlalchemy.dialects import sqlite

    from mamori.adapters.storage.schema import collection_entries
    from mamori.adapters.storage.taxii_store import Prepared

    q = select(collection_entries.c.seq).where(collection_entries.c.is_latest == bindparam("flag", type_=Boolean))
    with pytest.raises(TypeError, match="flag"):
        Prepared(q, sqlite.dialect())


def test_a_later_page_starts_at_its_key_even_when_every_entry_was_added_at_once(any_ctx: Context) -> None:
    """One import gives every entry the same date_added: the next page must seek to the whole key, not walk the
    entries that precede it (a cost that would grow with the square of the import)."""
    cid = any_ctx.intel.create_collection("one import")["id"]
    objs = [indicator(n, f"198.51.{n >> 8}.{n & 255}") for n in range(1, 121)]
    assert any_ctx.intel.ingest(objs, collections=[cid]).added == 120
    full = Clearance(max_tlp=TLP_RED, unmarked_as=TLP_RED)
    assert [e.stix_id for e in _walk(any_ctx, cid, full, EntryQuery(), 7)] == sorted(o["id"] for o in objs)
    if any_ctx.db.dialect != "sqlite":
        return  # PostgreSQL takes the row comparison as its index condition with or without another bound
    from mamori.adapters.storage import taxii_store

    with any_ctx.db.connect() as conn:
        dialect = conn.dialect
        shape = taxii_store._PageShape.of(dialect.name, full, EntryQuery(), True, True)
        prepared = taxii_store._page_statement(shape, dialect)
        values = taxii_store._values(cid, EntryQuery())
        values.update(limit=10, after_date="2026-11-01T00:00:00.000000Z", after_id=objs[60]["id"],
                      after_version="2026-10-01T00:00:00.000000Z")
        plan = " ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + prepared.sql,
                                                          prepared.parameters(values)))
    assert "(date_added,stix_id,version)>(?,?,?)" in plan, plan

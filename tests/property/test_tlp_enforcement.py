"""TLP enforcement through TAXII 2.1, as a property: for random objects, markings, agreements and unmarked
defaults, no viewer receives, counts or infers anything above its clearance on any endpoint or filter.

The oracle is computed here from what was generated: an object version is visible when its own TLP (the
configured default when unmarked) is within the viewer's ceiling and, for relationships, sightings and reports,
so is the TLP of every object it references. TLP:RED never leaves through TAXII.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import T0, make_settings

from mamori.api.app import create_app
from mamori.bootstrap import Context, build_context
from mamori.intel.service import IntelService
from mamori.intel.taxii import TAXII_MEDIA_TYPE
from mamori.kernel.clock import FixedClock
from mamori.kernel.timefmt import format_timestamp, normalise_timestamp

# (rank, marking id); rank None = unmarked. TLP 1.0 (STIX 2.1 section 7.2.1.4) and TLP 2.0 (OASIS) ids.
MARKINGS: list[tuple[int | None, str | None]] = [
    (None, None),
    (0, "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),  # TLP 1.0 WHITE
    (1, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),  # TLP 1.0 GREEN
    (2, "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),  # TLP 1.0 AMBER
    (4, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),  # TLP 1.0 RED
    (0, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),  # TLP 2.0 CLEAR
    (1, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),  # TLP 2.0 GREEN
    (2, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),  # TLP 2.0 AMBER
    (3, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),  # TLP 2.0 AMBER+STRICT
    (4, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),  # TLP 2.0 RED
]
RED_MARKINGS = {m for rank, m in MARKINGS if rank == 4}
RANK_OF_MARKING: dict[str, int] = {m: rank for rank, m in MARKINGS if m and rank is not None}
LEVELS = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
VERSION_TIMES = ["2026-10-01T00:00:00.000Z", "2026-10-02T00:00:00.000Z", "2026-10-03T00:00:00.000Z"]
TAXII = {"Accept": TAXII_MEDIA_TYPE}


# --- the generated world -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Version:
    obj: dict[str, Any]
    rank: int | None  # own TLP, None when unmarked
    batch: int  # 0 or 1: which of the two ingests added it


@dataclasses.dataclass
class World:
    versions: list[Version]
    refs: dict[str, list[str]]  # referencing id → referenced ids
    unmarked_default: int
    viewer: str  # partner | operator | analyst
    agreement_max: int
    readable: bool
    writable: bool
    limit: int


marking_index = st.integers(0, len(MARKINGS) - 1)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    versions: list[Version] = []
    refs: dict[str, list[str]] = {}

    def add(obj: dict[str, Any], mi: int, batch: int) -> None:
        rank, marking = MARKINGS[mi]
        if marking:
            obj["object_marking_refs"] = [marking]
        versions.append(Version(obj=obj, rank=rank, batch=batch))

    def base(kind: str, i: int, version: int) -> dict[str, Any]:
        ts = VERSION_TIMES[version]
        if kind == "indicator":
            return {"type": "indicator", "spec_version": "2.1", "id": "", "created": VERSION_TIMES[0],
                    "modified": ts, "name": f"indicator {i}", "pattern": f"[ipv4-addr:value = '198.51.100.{i}']",
                    "pattern_type": "stix", "valid_from": "2026-10-01T00:00:00Z"}
        return {"type": "malware", "spec_version": "2.1", "id": "", "created": VERSION_TIMES[0], "modified": ts,
                "name": f"family {i}", "is_family": True}

    # Referenceable objects: every version carries the same marking, so "the TLP of what is referenced" is one
    # level. Versioned objects: each version marked independently (a hidden newest or oldest version), never
    # referenced.
    referenceable: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["indicator", "malware"]))
        sid = f"{kind}--{uuid.uuid4()}"
        mi = draw(marking_index)
        for v in range(draw(st.integers(1, 2))):
            obj = base(kind, i, v)
            obj["id"] = sid
            add(obj, mi, draw(st.integers(0, 1)))
        referenceable.append(sid)
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["indicator", "malware"]))
        sid = f"{kind}--{uuid.uuid4()}"
        for v in range(draw(st.integers(1, 3))):
            obj = base(kind, 100 + i, v)
            obj["id"] = sid
            add(obj, draw(marking_index), draw(st.integers(0, 1)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["relationship", "sighting", "report"]))
        sid = f"{kind}--{uuid.uuid4()}"
        link: dict[str, Any] = {"type": kind, "spec_version": "2.1", "id": sid, "created": VERSION_TIMES[0],
                               "modified": VERSION_TIMES[0]}
        if kind == "relationship":
            src, dst = draw(st.sampled_from(referenceable)), draw(st.sampled_from(referenceable))
            link.update(relationship_type="related-to", source_ref=src, target_ref=dst)
            refs[sid] = [src, dst]
        elif kind == "sighting":
            target = draw(st.sampled_from(referenceable))
            link.update(sighting_of_ref=target, count=1)
            refs[sid] = [target]
        else:
            chosen = draw(st.lists(st.sampled_from(referenceable), min_size=1, max_size=4, unique=True))
            link.update(name="weekly report", published="2026-10-01T00:00:00Z", object_refs=chosen,
                       report_types=["threat-report"])
            refs[sid] = chosen
        add(link, draw(marking_index), draw(st.integers(0, 1)))
    viewer = draw(st.sampled_from(["partner", "partner", "partner", "operator", "analyst"]))
    return World(
        versions=versions, refs=refs, unmarked_default=draw(st.integers(0, 4)), viewer=viewer,
        agreement_max=draw(st.integers(0, 3)), readable=draw(st.booleans()), writable=draw(st.booleans()),
        limit=draw(st.integers(1, 5)),
    )


# --- the oracle ----------------------------------------------------------------------------------------------


def ceiling(w: World) -> int:
    return {"partner": w.agreement_max, "operator": 2, "analyst": 3}[w.viewer]


def expected_visible(w: World, times: list[str]) -> dict[tuple[str, str], str]:
    """(id, normalised version) → date_added of every version the viewer may receive."""
    top = ceiling(w)
    latest_rank: dict[str, int] = {}
    for v in w.versions:
        latest_rank[v.obj["id"]] = w.unmarked_default if v.rank is None else v.rank
    out: dict[tuple[str, str], str] = {}
    for v in w.versions:
        own = w.unmarked_default if v.rank is None else v.rank
        referenced = [latest_rank[r] for r in w.refs.get(v.obj["id"], [])]
        if own <= top and all(r <= top for r in referenced):
            out[(v.obj["id"], normalise_timestamp(v.obj["modified"]))] = times[v.batch]
    return out


def last_of(keys: set[tuple[str, str]], pick: Any = max) -> set[tuple[str, str]]:
    by_id: dict[str, list[str]] = {}
    for sid, ver in keys:
        by_id.setdefault(sid, []).append(ver)
    return {(sid, pick(vers)) for sid, vers in by_id.items()}


# --- the harness ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    path: Path = tmp_path_factory.mktemp("tlp")
    c = build_context(make_settings(path), clock=FixedClock(T0))
    yield c
    c.close()


class Viewer:
    def __init__(self, client: TestClient, headers: dict[str, str], root: str) -> None:
        self.client, self.headers, self.root = client, {**TAXII, **headers}, root

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"{self.root}{path}", params=params, headers=self.headers)


def walk(viewer: Viewer, path: str, limit: int, key: str = "objects", **params: Any) -> list[tuple[Any, Any]]:
    """Every page of an endpoint, checking the paging contract on the way: (page body, response) pairs."""
    pages: list[tuple[Any, Any]] = []
    nxt: str | None = None
    for _ in range(500):
        extra = {"next": nxt} if nxt else {}
        r = viewer.get(path, limit=limit, **params, **extra)
        assert r.status_code == 200, r.text
        body = r.json()
        items = body.get(key, [])
        assert len(items) <= limit
        if body["more"]:
            assert items and body.get("next"), "more=true must come with objects and a next cursor"
        else:
            assert "next" not in body
        pages.append((body, r))
        if not body["more"]:
            return pages
        nxt = body["next"]
    raise AssertionError("paging did not end")


def check_objects_served(w: World, objects: list[dict[str, Any]]) -> None:
    top = ceiling(w)
    for o in objects:
        markings = o.get("object_marking_refs", [])
        assert not RED_MARKINGS & set(markings), f"TLP:RED left through TAXII: {o['id']}"
        rank = max((RANK_OF_MARKING[m] for m in markings), default=w.unmarked_default)
        assert rank <= top, f"{o['id']} above the viewer's ceiling"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(w=worlds())
def test_no_viewer_receives_counts_or_infers_what_is_above_its_clearance(base_ctx: Context, w: World) -> None:
    ctx = base_ctx
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    intel = IntelService(ctx.db, ctx.clock, ctx.ids, unmarked_default=w.unmarked_default)
    client = TestClient(create_app(dataclasses.replace(ctx, intel=intel)))

    cid = ctx.intel.create_collection(f"exchange {uuid.uuid4().hex[:6]}")["id"]
    elsewhere = ctx.intel.create_collection("not in any agreement")["id"]
    name = f"v{uuid.uuid4().hex[:10]}"
    org = None
    if w.viewer in ("partner", "operator"):
        org = ctx.identity.create_organisation(name, f"Org {name}", w.viewer)
    if w.viewer == "partner":
        assert org is not None
        ctx.intel.set_agreement(org.id, LEVELS[w.agreement_max], read=[cid] if w.readable else [],
                                write=[cid] if w.writable else [])
    ctx.identity.create_user(name, w.viewer, organisation=name if org else None)
    viewer = Viewer(client, {"Authorization": f"Bearer {ctx.identity.issue_token(name).secret}"},
                    "/taxii2/partners/")

    times: list[str] = []
    for batch in (0, 1):
        clock.advance(timedelta(seconds=1))
        times.append(format_timestamp(clock.now()))
        objs = [v.obj for v in w.versions if v.batch == batch]
        if objs:
            report = ctx.intel.ingest(objs, collections=[cid, elsewhere])
            assert report.invalid == 0, report.problems

    # Collections: a partner sees only what its agreement names; others are indistinguishable from absent ones.
    listed = viewer.get("collections/").json().get("collections", [])
    listed_ids = {c["id"] for c in listed}
    if w.viewer == "partner":
        assert elsewhere not in listed_ids
        assert viewer.get(f"collections/{elsewhere}/objects/").status_code == 404
        if not (w.readable or w.writable):
            assert cid not in listed_ids
            assert viewer.get(f"collections/{cid}/").status_code == 404
            assert viewer.get(f"collections/{cid}/objects/").status_code == 404
            return
        (mine,) = [c for c in listed if c["id"] == cid]
        assert mine["can_read"] is w.readable and mine["can_write"] is w.writable
        if not w.readable:
            for path in ("objects/", "manifest/", f"objects/{w.versions[0].obj['id']}/"):
                assert viewer.get(f"collections/{cid}/{path}").status_code == 403
            return

    visible = expected_visible(w, times)
    keys = set(visible)
    col = f"collections/{cid}/"

    def served(pages: list[tuple[Any, Any]], key: str = "objects") -> list[dict[str, Any]]:
        items = [o for body, _r in pages for o in body.get(key, [])]
        for body, r in pages:
            page_items = body.get(key, [])
            if not page_items:
                assert "X-TAXII-Date-Added-First" not in r.headers
                continue
            dates = [visible[(o["id"], normalise_timestamp(o.get("modified") or o["version"]))]
                     for o in page_items]
            assert r.headers["X-TAXII-Date-Added-First"] == dates[0]
            assert r.headers["X-TAXII-Date-Added-Last"] == dates[-1]
        return items

    def key_of(o: dict[str, Any]) -> tuple[str, str]:
        return o["id"], normalise_timestamp(o.get("modified") or o["version"])

    # Objects: every page walk yields exactly the visible set, in order, each once.
    for mode, expect in (("last", last_of(keys)), ("first", last_of(keys, min)), ("all", keys)):
        objects = served(walk(viewer, col + "objects/", w.limit, **{"match[version]": mode}))
        check_objects_served(w, objects)
        got = [key_of(o) for o in objects]
        assert len(got) == len(set(got))
        assert set(got) == expect, mode
        order = [(visible[k], k[0], k[1]) for k in got]
        assert order == sorted(order)
    default = [key_of(o) for o in served(walk(viewer, col + "objects/", w.limit))]
    assert set(default) == last_of(keys)

    # added_after is exclusive and hides nothing extra and reveals nothing hidden.
    later = served(walk(viewer, col + "objects/", w.limit, added_after=times[0], **{"match[version]": "all"}))
    assert {key_of(o) for o in later} == {k for k in keys if visible[k] > times[0]}

    # Filters by type and id, on visible and hidden ids alike.
    all_ids = sorted({v.obj["id"] for v in w.versions})
    for t in ("indicator", "malware", "relationship", "sighting", "report"):
        typed = served(walk(viewer, col + "objects/", w.limit, **{"match[type]": t, "match[version]": "all"}))
        assert {key_of(o) for o in typed} == {k for k in keys if k[0].startswith(t + "--")}
    for sid in all_ids:
        one = served(walk(viewer, col + "objects/", w.limit, **{"match[id]": sid, "match[version]": "all"}))
        assert {key_of(o) for o in one} == {k for k in keys if k[0] == sid}

    # Manifest: the same entries, the same dates, nothing hidden.
    manifest = served(walk(viewer, col + "manifest/", w.limit, **{"match[version]": "all"}))
    assert {(m["id"], m["version"]) for m in manifest} == keys
    assert all(m["date_added"] == visible[(m["id"], m["version"])] for m in manifest)

    # One object and its versions: a hidden object answers exactly like one that never existed.
    absent = f"indicator--{uuid.uuid4()}"
    nothing = viewer.get(f"{col}objects/{absent}/")
    nothing_versions = viewer.get(f"{col}objects/{absent}/versions/")
    assert nothing.status_code == nothing_versions.status_code == 404
    for sid in all_ids:
        mine_keys = {k for k in keys if k[0] == sid}
        r = viewer.get(f"{col}objects/{sid}/")
        rv = viewer.get(f"{col}objects/{sid}/versions/")
        if not mine_keys:
            assert r.status_code == rv.status_code == 404
            assert r.json() == _replace(nothing.json(), absent, sid)
            assert rv.json() == _replace(nothing_versions.json(), absent, sid)
            assert r.headers.keys() == nothing.headers.keys()
            continue
        check_objects_served(w, r.json()["objects"])
        assert {key_of(o) for o in r.json()["objects"]} == last_of(mine_keys)
        assert set(rv.json()["versions"]) == {ver for _sid, ver in mine_keys}
        assert rv.json()["more"] is False


def _replace(body: Any, old: str, new: str) -> Any:
    if isinstance(body, dict):
        return {k: _replace(v, old, new) for k, v in body.items()}
    if isinstance(body, str):
        return body.replace(old, new)
    return body

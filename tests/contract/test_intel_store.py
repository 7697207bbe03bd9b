"""The intelligence store's contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.stixgen import indicator, malware, relationship

from mamori.bootstrap import Context
from mamori.intel.model import TLP_AMBER, TLP_GREEN, TLP_RED, Clearance, SearchQuery

FULL = Clearance(max_tlp=TLP_RED, unmarked_as=TLP_RED)
GREEN = Clearance(max_tlp=TLP_GREEN, unmarked_as=TLP_RED)


def test_ingest_stores_valid_objects_and_reports_invalid_ones_by_index(any_ctx: Context) -> None:
    objs = [indicator(1), {"type": "indicator", "id": "nonsense"}, malware(2)]
    report = any_ctx.intel.ingest(objs)
    assert report.added == 2
    assert [p.index for p in report.problems] == [1]
    assert any_ctx.intel.count() == 2


def test_reingest_is_idempotent(any_ctx: Context) -> None:
    objs = [indicator(1), malware(2), relationship(3, indicator(1)["id"], malware(2)["id"])]
    assert any_ctx.intel.ingest(objs).added == 3
    again = any_ctx.intel.ingest(objs)
    assert (again.added, again.duplicates) == (0, 3)
    assert any_ctx.intel.count() == 3


def test_a_changed_object_with_the_same_version_is_refused(any_ctx: Context) -> None:
    any_ctx.intel.ingest([malware(1, "A")])
    report = any_ctx.intel.ingest([malware(1, "B")])
    assert report.added == 0 and "later 'modified'" in report.problems[0].reason
    assert any_ctx.intel.get(malware(1)["id"], FULL).raw["name"] == "A"


def test_new_versions_supersede_and_old_ones_stay_readable(any_ctx: Context) -> None:
    v1 = indicator(1, "198.51.100.1")
    v2 = indicator(1, "198.51.100.2", modified="2026-10-02T00:00:00.000Z")
    any_ctx.intel.ingest([v2])
    any_ctx.intel.ingest([v1])  # an older version arriving late does not become the latest
    latest = any_ctx.intel.get(v1["id"], FULL)
    assert latest.raw["pattern"] == v2["pattern"] and latest.is_latest
    assert [s.version for s in any_ctx.intel.versions(v1["id"], FULL)] == [
        "2026-10-01T00:00:00.000000Z", "2026-10-02T00:00:00.000000Z"]
    old = any_ctx.intel.get(v1["id"], FULL, version="2026-10-01T00:00:00.000Z")
    assert old.raw["pattern"] == v1["pattern"] and not old.is_latest
    # lookups follow the latest version only
    assert any_ctx.intel.lookup("198.51.100.2", FULL)
    assert not any_ctx.intel.lookup("198.51.100.1", FULL)


def test_lookup_finds_exact_parent_domain_and_covering_cidr(any_ctx: Context) -> None:
    any_ctx.intel.ingest([
        indicator(1, "evil.example", kind="domain-name"),
        indicator(2, "203.0.113.0/24"),
        indicator(3, "2001:db8::1", kind="ipv6-addr"),
    ])
    assert [h.stix_id for h in any_ctx.intel.lookup("cdn.evil.example", FULL)] == [indicator(1)["id"]]
    assert [h.kind for h in any_ctx.intel.lookup("203.0.113.77", FULL)] == ["ipv4-cidr"]
    assert any_ctx.intel.lookup("2001:db8::1", FULL)
    assert not any_ctx.intel.lookup("203.0.114.1", FULL)


def test_expired_and_revoked_indicators_are_not_current(any_ctx: Context) -> None:
    any_ctx.intel.ingest([
        indicator(1, "198.51.100.1", valid_until="2026-10-15T00:00:00.000Z"),  # before the test clock
        indicator(2, "198.51.100.2", revoked=True),
        indicator(3, "198.51.100.3"),
    ])
    assert not any_ctx.intel.lookup("198.51.100.1", FULL)
    assert not any_ctx.intel.lookup("198.51.100.2", FULL)
    assert [f.value for f in any_ctx.intel.active_indicators()] == ["198.51.100.3"]


def test_clearance_hides_objects_from_get_search_counts_and_graph(any_ctx: Context) -> None:
    ind, mal = indicator(1, tlp="green"), malware(2, tlp="amber")
    rel = relationship(3, ind["id"], mal["id"], tlp="clear")
    any_ctx.intel.ingest([ind, mal, rel])
    page = any_ctx.intel.search(GREEN, SearchQuery())
    assert {s.stix_id for s in page.items} == {ind["id"]} and page.total == 1
    # the CLEAR relationship points at an AMBER object, so it is AMBER for sharing purposes
    assert any_ctx.intel.search(Clearance(max_tlp=TLP_AMBER, unmarked_as=TLP_RED), SearchQuery()).total == 3
    g = any_ctx.intel.graph(ind["id"], GREEN)
    assert {n.stix_id for n in g.nodes} == {ind["id"]} and not g.edges
    full = any_ctx.intel.graph(ind["id"], FULL)
    assert {n.stix_id for n in full.nodes} == {ind["id"], mal["id"], rel["id"]}
    assert [(e.source, e.target, e.type) for e in full.edges] == [(ind["id"], mal["id"], "indicates")]


def test_relationship_stored_before_its_target_inherits_the_target_tlp(any_ctx: Context) -> None:
    ind, mal = indicator(1, tlp="green"), malware(2, tlp="red")
    any_ctx.intel.ingest([ind, relationship(3, ind["id"], mal["id"], tlp="green")])
    assert any_ctx.intel.search(GREEN, SearchQuery(types=("relationship",))).total == 1
    any_ctx.intel.ingest([mal])
    assert any_ctx.intel.search(GREEN, SearchQuery(types=("relationship",))).total == 0


def test_unmarked_objects_follow_the_configured_default(any_ctx: Context) -> None:
    any_ctx.intel.ingest([malware(1, tlp=None)])
    assert any_ctx.intel.search(GREEN, SearchQuery()).total == 0
    lenient = Clearance(max_tlp=TLP_GREEN, unmarked_as=TLP_GREEN)
    assert any_ctx.intel.search(lenient, SearchQuery()).total == 1


def test_search_filters_and_pages(any_ctx: Context) -> None:
    any_ctx.intel.ingest([indicator(i, f"198.51.100.{i}", name=f"beacon host {i}") for i in range(1, 8)]
                         + [malware(100, "PaperCrane loader")])
    page = any_ctx.intel.search(FULL, SearchQuery(types=("indicator",), limit=3))
    seen = [s.stix_id for s in page.items]
    while page.next_cursor:
        page = any_ctx.intel.search(FULL, SearchQuery(types=("indicator",), limit=3, cursor=page.next_cursor))
        seen += [s.stix_id for s in page.items]
    assert len(seen) == len(set(seen)) == 7
    assert any_ctx.intel.search(FULL, SearchQuery(text="papercrane")).total == 1
    assert any_ctx.intel.search(FULL, SearchQuery(text="beacon 3")).total == 1


def test_export_bundle_contains_visible_objects_and_their_markings(any_ctx: Context) -> None:
    any_ctx.intel.ingest([indicator(1, tlp="green"), malware(2, tlp="red")])
    bundle = any_ctx.intel.export_bundle(GREEN)
    types = sorted(o["type"] for o in bundle["objects"])
    assert types == ["indicator", "marking-definition"]


def test_indicator_scores_decay_and_sightings_refresh_them(any_ctx: Context) -> None:
    # confidence 80, valid from 2026-10-01; the clock stands at 2026-11-01 (31 days: about one IP half-life)
    ind = indicator(1, "198.51.100.1") | {"confidence": 80}
    pending = indicator(2, "198.51.100.2") | {"valid_from": "2027-01-01T00:00:00.000Z"}
    any_ctx.intel.ingest([ind, pending])
    [feed] = any_ctx.intel.active_indicators()  # a not-yet-valid indicator is not current
    assert feed.value == "198.51.100.1" and 35 < feed.score < 45
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--6f0f7c4e-2b0a-4c55-9a43-2f4d1c9e8b01",
                "created": "2026-10-31T00:00:00.000Z", "modified": "2026-10-31T00:00:00.000Z",
                "sighting_of_ref": ind["id"], "count": 3}
    any_ctx.intel.ingest([sighting])
    [refreshed] = any_ctx.intel.active_indicators()
    assert refreshed.score > 75


def _report(n: int, refs: list[str], tlp: str = "green") -> dict:
    from tests.stixgen import TS, marked, sid

    return marked({"type": "report", "spec_version": "2.1", "id": sid("report", n), "created": TS, "modified": TS,
                   "name": f"report {n}", "published": TS, "object_refs": refs}, tlp)


def test_restriction_follows_chains_of_links_in_any_order(any_ctx: Context) -> None:
    ind, red = indicator(1, tlp="green"), malware(2, tlp="red")
    rel = relationship(3, ind["id"], red["id"], tlp="green")
    rep = _report(4, [rel["id"]])
    # the report and relationship arrive first, the RED object last, in separate batches
    any_ctx.intel.ingest([ind, rep])
    any_ctx.intel.ingest([rel])
    any_ctx.intel.ingest([red])
    seen = {s.stix_id for s in any_ctx.intel.search(GREEN, SearchQuery()).items}
    assert seen == {ind["id"]}


def test_restriction_follows_chains_inside_one_batch(any_ctx: Context) -> None:
    ind, red = indicator(1, tlp="green"), malware(2, tlp="red")
    rel = relationship(3, ind["id"], red["id"], tlp="green")
    any_ctx.intel.ingest([_report(4, [rel["id"]]), rel, ind, red])
    assert {s.stix_id for s in any_ctx.intel.search(GREEN, SearchQuery()).items} == {ind["id"]}


def test_restriction_reaches_a_new_link_to_an_old_link_to_a_new_red_object(any_ctx: Context) -> None:
    ind, red = indicator(1, tlp="green"), malware(2, tlp="red")
    rel = relationship(3, ind["id"], red["id"], tlp="green")  # names the RED object before it arrives
    col = any_ctx.intel.create_collection("shared")["id"]
    any_ctx.intel.ingest([ind, rel], collections=[col])
    # one batch: a report naming the old relationship, and the RED object the relationship names
    any_ctx.intel.ingest([_report(4, [rel["id"]]), red], collections=[col])
    assert {s.stix_id for s in any_ctx.intel.search(GREEN, SearchQuery()).items} == {ind["id"]}
    with any_ctx.db.connect() as conn:
        rows = conn.exec_driver_sql("SELECT stix_id, ref_tlp FROM collection_entries").all()
    assert {sid for sid, ref_tlp in rows if ref_tlp > TLP_GREEN} == {rel["id"], _report(4, [])["id"]}


def test_a_partner_cannot_version_someone_elses_object_nor_learn_that_it_exists(any_ctx: Context) -> None:
    hidden = malware(1, "national", tlp="red")
    shown = malware(2, "shared", tlp="green")
    any_ctx.intel.ingest([hidden, shown])
    partner = Clearance(max_tlp=TLP_GREEN, unmarked_as=TLP_RED, organisation_id="org-p", contributor="org-p")
    newer = "2026-10-05T00:00:00.000Z"
    attempt_hidden = malware(1, "overwritten", tlp="green") | {"modified": newer}
    attempt_shown = malware(2, "overwritten", tlp="green") | {"modified": newer}
    report = any_ctx.intel.ingest([attempt_hidden, attempt_shown], clearance=partner)
    assert report.added == 0
    # the visible one is refused with a reason; the hidden one looks like an object already held
    assert [p.object_id for p in report.problems] == [shown["id"]] and report.duplicates == 1
    assert any_ctx.intel.get(hidden["id"], FULL).raw["name"] == "national"
    assert any_ctx.intel.get(shown["id"], FULL).raw["name"] == "shared"
    # its own objects it may version
    own = malware(3, "mine", tlp="green")
    assert any_ctx.intel.ingest([own], clearance=partner).added == 1
    assert any_ctx.intel.ingest([own | {"modified": newer, "name": "mine v2"}], clearance=partner).added == 1


def test_counts_by_type_respect_the_clearance(any_ctx: Context) -> None:
    any_ctx.intel.ingest([indicator(1, tlp="green"), indicator(2, "198.51.100.2", tlp="amber"), malware(3)])
    assert any_ctx.intel.count_by_type(FULL) == {"indicator": 2, "malware": 1}
    assert any_ctx.intel.count_by_type(GREEN) == {"indicator": 1, "malware": 1}

"""The findings store: findings persisted, de-duplicated across days, re-graded, listed and filtered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamori.adapters.storage.schema import metadata
from mamori.bootstrap import Context
from mamori.errors import InvalidInput, NotFound
from mamori.traffic import finding_tables
from mamori.traffic.detect.model import (
    Credibility,
    Endpoint,
    EvidenceRow,
    Finding,
    FindingKind,
    Severity,
    severity_for_score,
)
from mamori.traffic.finding_tables import FindingTables
from mamori.traffic.findings_store import FindingFilter, SqlFindingStore, finding_id, parse_kinds, parse_severity

DAY1 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def create_tables(ctx: Context) -> FindingTables:
    """The traffic tables of the shared schema (the storage migrations created them with the context)."""
    return finding_tables.define_tables(metadata)


def make_finding(kind: FindingKind = FindingKind.BEACON, src: str | None = "203.0.113.5",
                 dst: str | None = "198.51.100.7", *, score: float = 0.9, first: datetime = DAY1,
                 hours: float = 2.0, count: int = 30, credibility: Credibility = Credibility.PROBABLY_TRUE,
                 dst_name: str | None = None, dst_port: int | None = None,
                 fired: tuple[str, ...] = ("min_connections", "min_score")) -> Finding:
    last = first + timedelta(hours=hours)
    return Finding(
        kind=kind, src=Endpoint(address=src), dst=Endpoint(address=dst, name=dst_name, port=dst_port),
        score=score, severity=severity_for_score(score), sub_scores={"timestamp": 0.95, "data_size": 0.9},
        thresholds={"min_connections": 24.0, "min_score": 0.5}, fired=fired, first_seen=first, last_seen=last,
        evidence_count=count,
        evidence_sample=(
            EvidenceRow(start_ts=first.timestamp(), src_ip=src or "192.0.2.1", dst_ip=dst, dst_port=443,
                        bytes_total=612, duration=0.5, note="first"),
            EvidenceRow(start_ts=last.timestamp(), src_ip=src or "192.0.2.1", dst_ip=dst, dst_port=443,
                        bytes_total=612, duration=0.5, note="last"),
        ),
        credibility=credibility,
    )


@pytest.fixture
def db(any_ctx: Context) -> Context:
    """The store tests run on SQLite and, when MAMORI_TEST_POSTGRES_URL is set, on PostgreSQL."""
    return any_ctx


@pytest.fixture
def ft(db: Context) -> FindingTables:
    return create_tables(db)


def test_saved_finding_reads_back_with_scores_thresholds_and_evidence(db: Context, ft: FindingTables) -> None:
    f = make_finding()
    with db.db.begin() as conn:
        report = SqlFindingStore(conn, ft).save([f], engine="duckdb", now=DAY1)
    assert report.added == (finding_id(f),)
    with db.db.connect() as conn:
        got = SqlFindingStore(conn, ft).get(finding_id(f))
    assert got.finding.comparable() == f.comparable()
    assert dict(got.finding.thresholds) == {"min_connections": 24.0, "min_score": 0.5}
    assert got.finding.fired == ("min_connections", "min_score")
    assert [r.note for r in got.finding.evidence_sample] == ["first", "last"]
    assert got.engine == "duckdb"


def test_saving_the_same_finding_again_changes_nothing(db: Context, ft: FindingTables) -> None:
    f = make_finding()
    with db.db.begin() as conn:
        SqlFindingStore(conn, ft).save([f], engine="duckdb", now=DAY1)
    later = DAY1 + timedelta(days=1)
    with db.db.begin() as conn:
        report = SqlFindingStore(conn, ft).save([f], engine="duckdb", now=later)
        assert report.unchanged == (finding_id(f),) and not report.added and not report.changed
        stored = SqlFindingStore(conn, ft).get(finding_id(f))
    assert stored.updated_at == DAY1
    assert stored.finding.evidence_count == 30


def test_findings_of_two_days_fold_into_one_with_first_and_last_seen(db: Context, ft: FindingTables) -> None:
    day1 = make_finding(score=0.75, credibility=Credibility.DOUBTFUL)
    day2 = make_finding(score=0.72, first=DAY1 + timedelta(days=1), count=12, credibility=Credibility.DOUBTFUL)
    with db.db.begin() as conn:
        SqlFindingStore(conn, ft).save([day1], engine="duckdb", now=DAY1)
    with db.db.begin() as conn:
        report = SqlFindingStore(conn, ft).save([day2], engine="duckdb", now=DAY1 + timedelta(days=1))
        got = SqlFindingStore(conn, ft).get(finding_id(day1))
    assert report.changed == (finding_id(day1),)
    assert got.finding.first_seen == day1.first_seen
    assert got.finding.last_seen == day2.last_seen
    assert got.finding.days_seen == ("2026-11-01", "2026-11-02")
    assert got.finding.evidence_count == 42
    assert got.finding.score == 0.75  # the strongest day's explanation
    # seen on two days: possibly true, better than either day's own grade
    assert got.finding.credibility == Credibility.POSSIBLY_TRUE


def test_one_batch_repeating_a_finding_stores_it_once(db: Context, ft: FindingTables) -> None:
    a = make_finding()
    b = make_finding(first=DAY1 + timedelta(hours=5), count=5)
    with db.db.begin() as conn:
        report = SqlFindingStore(conn, ft).save([a, b], engine="duckdb", now=DAY1)
        assert SqlFindingStore(conn, ft).count() == 1
    assert len(report.added) == 1 and report.stored[0].finding.evidence_count == 35


def test_list_filters_by_kind_window_severity_and_address(db: Context, ft: FindingTables) -> None:
    beacon = make_finding(score=0.95)
    scan = make_finding(FindingKind.HORIZONTAL_SCAN, src="192.0.2.66", dst=None, dst_port=23, score=0.75,
                        first=DAY1 + timedelta(days=3))
    weak = make_finding(FindingKind.LONG_CONNECTION, dst="198.51.100.9", score=0.55)
    with db.db.begin() as conn:
        SqlFindingStore(conn, ft).save([beacon, scan, weak], engine="duckdb", now=DAY1)
    with db.db.connect() as conn:
        st = SqlFindingStore(conn, ft)
        items, total = st.find(FindingFilter())
        assert total == 3 and items[0].kind is FindingKind.BEACON  # strongest first
        assert [s.kind for s in st.find(FindingFilter(kinds=(FindingKind.HORIZONTAL_SCAN,)))[0]] == [
            FindingKind.HORIZONTAL_SCAN]
        assert st.find(FindingFilter(since=DAY1 + timedelta(days=2)))[1] == 1
        assert st.find(FindingFilter(until=DAY1 + timedelta(days=1)))[1] == 2
        assert {s.kind for s in st.find(FindingFilter(min_severity=Severity.MEDIUM))[0]} == {
            FindingKind.BEACON, FindingKind.HORIZONTAL_SCAN}
        assert [s.kind for s in st.find(FindingFilter(address="198.51.100.9"))[0]] == [FindingKind.LONG_CONNECTION]
        page, total = st.find(FindingFilter(limit=1, offset=1))
        assert total == 3 and len(page) == 1


def test_unknown_finding_is_not_found(db: Context, ft: FindingTables) -> None:
    with db.db.connect() as conn, pytest.raises(NotFound, match="no finding"):
        SqlFindingStore(conn, ft).get("nope")


def test_bad_filters_name_what_is_wrong() -> None:
    with pytest.raises(InvalidInput) as e:
        FindingFilter(since=DAY1, until=DAY1)
    assert e.value.where == "until"
    with pytest.raises(InvalidInput) as e:
        FindingFilter(since=datetime(2026, 1, 1))
    assert e.value.where == "since"
    with pytest.raises(InvalidInput, match=r"unknown finding kind 'beacons'.*beacon"):
        parse_kinds(["beacons"])
    with pytest.raises(InvalidInput, match="unknown severity"):
        parse_severity("urgent")
    assert parse_kinds(["horizontal-scan"]) == (FindingKind.HORIZONTAL_SCAN,)


def test_finding_id_depends_on_kind_and_endpoints_only() -> None:
    a = make_finding(score=0.9)
    assert finding_id(a) == finding_id(make_finding(score=0.6, count=3))
    assert finding_id(a) != finding_id(make_finding(dst="198.51.100.8"))
    assert finding_id(a) != finding_id(make_finding(FindingKind.LONG_CONNECTION))

"""All detectors on DuckDB over a seeded synthetic day: every planted behaviour found, benign hosts quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mamori.adapters.analytics.duckdb_engine import DuckDBEngine
from mamori.errors import InvalidInput, NotFound
from mamori.traffic.detect.model import Finding, FindingKind, Severity
from mamori.traffic.detect.service import DetectionRun, run_detectors
from mamori.traffic.match.indicators import Indicator, IndicatorKind
from mamori.traffic.synthetic import Planted, SyntheticDay, generate_day


@pytest.fixture(scope="module")
def day() -> SyntheticDay:
    return generate_day(seed=7, background_flows=30_000, hosts=150)


@pytest.fixture(scope="module")
def run(day: SyntheticDay) -> DetectionRun:
    with DuckDBEngine() as engine:
        return run_detectors(engine, day.table)


def found(findings: tuple[Finding, ...], p: Planted) -> list[Finding]:
    return [
        f
        for f in findings
        if f.kind is p.kind
        and (p.src is None or f.src.address == p.src)
        and (p.dst is None or f.dst.address == p.dst)
        and (p.dst_name is None or f.dst.name == p.dst_name)
        and (p.dst_port is None or f.dst.port == p.dst_port)
    ]


def test_every_planted_behaviour_is_found_at_medium_or_higher(run: DetectionRun, day: SyntheticDay) -> None:
    for p in day.planted:
        hits = found(run.findings, p)
        assert hits, f"not found: {p}"
        assert max(h.severity.rank for h in hits) >= Severity.MEDIUM.rank, p


def test_no_benign_host_is_flagged_at_medium_or_higher(run: DetectionRun, day: SyntheticDay) -> None:
    flagged = [
        f
        for f in run.at_least(Severity.MEDIUM)
        if f.src.address in day.benign_hosts
        or (f.dst.address in day.benign_hosts and f.kind is not FindingKind.VERTICAL_SCAN)
    ]
    assert flagged == []


def test_findings_explain_themselves(run: DetectionRun) -> None:
    beacon = next(f for f in run.of_kind(FindingKind.BEACON) if f.dst.address)
    assert {"timestamp", "data_size", "duration", "histogram", "prevalence_modifier"} <= set(beacon.sub_scores)
    assert beacon.thresholds["min_connections"] == 24.0
    assert "min_score" in beacon.fired
    assert beacon.evidence_count >= 24 and 0 < len(beacon.evidence_sample) <= 5
    assert all(e.src_ip == beacon.src.address for e in beacon.evidence_sample)
    assert beacon.first_seen <= beacon.last_seen
    assert 1 <= int(beacon.credibility) <= 6


def test_results_are_deterministic(day: SyntheticDay, run: DetectionRun) -> None:
    with DuckDBEngine() as engine:
        again = run_detectors(engine, day.table)
    assert [f.comparable() for f in again.findings] == [f.comparable() for f in run.findings]


def test_parquet_source_gives_the_same_findings(tmp_path: Path, day: SyntheticDay, run: DetectionRun) -> None:
    part = tmp_path / "flows" / "channel=agreement" / "hour=2026-01-01T00"
    part.mkdir(parents=True)
    pq.write_table(day.table.drop_columns(["channel"]), part / "b1-0.parquet")
    with DuckDBEngine() as engine:
        from_files = run_detectors(engine, tmp_path / "flows")
    assert [f.comparable() for f in from_files.findings] == [f.comparable() for f in run.findings]


def test_indicator_matches_become_findings(day: SyntheticDay) -> None:
    beacon = day.planted[0]
    assert beacon.dst is not None
    inds = [
        Indicator(IndicatorKind.IP, beacon.dst, "ind--c2", confidence=90),
        Indicator(IndicatorKind.DOMAIN, "badupdate.example", "ind--dom", valid_until=datetime(2025, 1, 1, tzinfo=UTC)),
    ]
    with DuckDBEngine() as engine:
        result = run_detectors(engine, day.table, indicators=inds, at=datetime(2026, 1, 2, tzinfo=UTC))
    matches = result.of_kind(FindingKind.INDICATOR_MATCH)
    assert {(f.src.address, f.dst.address) for f in matches} == {(beacon.src, beacon.dst)}
    (m,) = matches
    assert m.score == 0.9 and m.fired == ("indicator:ind--c2",)
    assert m.evidence_count == 288
    corroborated = next(f for f in result.of_kind(FindingKind.BEACON) if f.dst.address == beacon.dst)
    assert int(corroborated.credibility) == 1


def test_empty_source_gives_no_findings(day: SyntheticDay) -> None:
    with DuckDBEngine() as engine:
        result = run_detectors(engine, day.table.slice(0, 0))
    assert result.findings == () and result.flows == 0


def test_missing_flow_folder_is_not_found(tmp_path: Path) -> None:
    with DuckDBEngine() as engine, pytest.raises(NotFound) as err:
        run_detectors(engine, tmp_path / "nowhere")
    assert err.value.where == str(tmp_path / "nowhere")


def test_table_without_required_columns_is_invalid_input() -> None:
    with DuckDBEngine() as engine, pytest.raises(InvalidInput, match="flow query failed"):
        run_detectors(engine, pa.table({"start_ts": [1.0]}))


def test_corrupt_parquet_is_invalid_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really parquet")
    with DuckDBEngine() as engine, pytest.raises(InvalidInput) as err:
        run_detectors(engine, bad)
    assert str(bad) in str(err.value)


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput, match="hosts >= 1"):
        generate_day(hosts=0)


def test_engine_rereads_files_after_forget(tmp_path: Path, day: SyntheticDay) -> None:
    store = tmp_path / "flows.parquet"
    pq.write_table(day.table, store)
    with DuckDBEngine() as engine:
        first = run_detectors(engine, store)
        pq.write_table(day.table.slice(0, 1000), store)
        engine.forget()
        second = run_detectors(engine, store)
    assert first.flows == day.table.num_rows
    assert second.flows == 1000

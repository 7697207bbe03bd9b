"""Parquet flow store: Hive layout, atomic writes, DuckDB reads, retention purge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.unit.traffic.flow_fixtures import PRIVATE, observations

from mamori.errors import InvalidInput
from mamori.traffic.flowstore import ParquetFlowStore
from mamori.traffic.minimise import minimise
from mamori.traffic.model import Channel, TrafficPolicy
from mamori.traffic.schema import FLOW_SCHEMA

HOUR = 1_700_000_000 - 1_700_000_000 % 3600


def _batch(batch_id: str, acquired_at: float, starts: list[float], channel: Channel = Channel.AGREEMENT):  # type: ignore[no-untyped-def]
    table = observations([{"start_ts": s, "src_ip": "203.0.113.1", "dst_ip": "10.0.0.1"} for s in starts])
    return minimise(
        table,
        policy=TrafficPolicy.from_settings(PRIVATE, retention_days={"agreement": 1}),
        channel=channel,
        approval_id="A",
        sensor="s",
        batch_id=batch_id,
        acquired_at=acquired_at,
    ).table


def test_write_partitions_by_channel_and_hour(tmp_path: Path) -> None:
    store = ParquetFlowStore(tmp_path / "flows")
    files = store.write(_batch("b1", HOUR, [HOUR + 10, HOUR + 20, HOUR + 3700]), "b1")
    rel = sorted(str(Path(f).relative_to(tmp_path / "flows")) for f in files)
    label = datetime.fromtimestamp(HOUR, UTC).strftime("%Y-%m-%dT%H")
    label2 = datetime.fromtimestamp(HOUR + 3600, UTC).strftime("%Y-%m-%dT%H")
    assert rel == [f"channel=agreement/hour={label}/b1-0.parquet", f"channel=agreement/hour={label2}/b1-1.parquet"]
    assert pq.ParquetFile(files[0]).schema_arrow == FLOW_SCHEMA
    assert not list((tmp_path / "flows").rglob("*.tmp"))


def test_read_returns_a_time_window_via_duckdb(tmp_path: Path) -> None:
    store = ParquetFlowStore(tmp_path / "flows")
    store.write(_batch("b1", HOUR, [HOUR + 10, HOUR + 20, HOUR + 3700]), "b1")
    got = store.read(HOUR, HOUR + 3600)
    assert got.schema == FLOW_SCHEMA
    assert got.column("start_ts").to_pylist() == [HOUR + 10, HOUR + 20]
    assert store.read(HOUR, HOUR + 7200, Channel.TRANSIT).num_rows == 0


def test_purge_removes_expired_records_and_keeps_the_rest(tmp_path: Path) -> None:
    store = ParquetFlowStore(tmp_path / "flows")
    store.write(_batch("old", HOUR, [HOUR + 10, HOUR + 3700]), "old")  # expires HOUR + 1 day
    store.write(_batch("new", HOUR + 86400, [HOUR + 20]), "new")  # same hour folder as "old"'s first file
    report = store.purge(datetime.fromtimestamp(HOUR + 86400, UTC))
    assert (report.files_deleted, report.records_removed, report.records_kept) == (2, 2, 1)
    left = store.read(0, 2**40)
    assert left.column("batch_id").to_pylist() == ["new"]
    assert len(store.files()) == 1


def test_purge_rewrites_files_with_mixed_expiry(tmp_path: Path) -> None:
    store = ParquetFlowStore(tmp_path / "flows")
    t1 = _batch("b1", HOUR, [HOUR + 10])
    t2 = _batch("b1", HOUR + 86400, [HOUR + 20])
    import pyarrow as pa

    store.write(pa.concat_tables([t1, t2]), "b1")
    report = store.purge(datetime.fromtimestamp(HOUR + 86400 + 1, UTC))
    assert (report.files_rewritten, report.records_removed, report.records_kept) == (1, 1, 1)
    assert store.read(0, 2**40).column("start_ts").to_pylist() == [HOUR + 20]


def test_write_refuses_wrong_schema_and_unsafe_batch_ids(tmp_path: Path) -> None:
    store = ParquetFlowStore(tmp_path / "flows")
    with pytest.raises(InvalidInput, match="schema"):
        store.write(observations([{"start_ts": 1.0, "src_ip": "1.1.1.1", "dst_ip": "2.2.2.2"}]), "b1")
    with pytest.raises(InvalidInput, match="safe file name"):
        store.write(_batch("x", HOUR, [HOUR]), "../escape")
    assert store.files() == []


def test_same_batch_twice_is_refused_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = ParquetFlowStore(tmp_path / "flows")
    batch = _batch("b1", HOUR, [HOUR + 1])
    store.write(batch, "b1")
    with pytest.raises(InvalidInput, match="already stored"):
        store.write(batch, "b1")
    assert len(store.files()) == 1 and not list((tmp_path / "flows").rglob(".*"))

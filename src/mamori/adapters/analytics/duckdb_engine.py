"""DuckDB analytics engine: the embedded default for detectors, over Parquet files or in-memory Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from mamori.errors import InvalidInput, NotFound
from mamori.traffic.detect.ports import BatchMapper, FlowSource
from mamori.traffic.detect.queries import render

_BATCH_ROWS = 1 << 20


def parquet_glob(path: Path | str) -> str:
    """A Parquet path, folder (hive partitions below it) or glob, as a DuckDB file pattern."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        return text
    p = Path(text)
    if p.is_dir():
        return str(p / "**" / "*.parquet")
    if p.is_file():
        return str(p)
    raise NotFound(f"no flow files at {text}", where=text)


class DuckDBEngine:
    """Runs detector queries on DuckDB; one connection per engine, closed with :meth:`close`."""

    name = "duckdb"

    def __init__(
        self, *, threads: int | None = None, memory_limit: str | None = None, materialize_files: bool = True
    ) -> None:
        """``materialize_files``: load Parquet sources into a temporary table once, since a detection run
        queries the same source about a dozen times (DuckDB spills the table to disk past ``memory_limit``)."""
        self._con = duckdb.connect()
        self._materialize = materialize_files
        self._bound: FlowSource | None = None
        if threads is not None:
            self._con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self._con.execute("SET memory_limit = ?", [memory_limit])

    def forget(self) -> None:
        """Drop the bound source so the next query reads it afresh (the engine keeps the last source it was
        given, by identity, for the many queries of one detection run)."""
        self._bound = None
        self._con.execute("DROP VIEW IF EXISTS flows")
        self._con.execute("DROP TABLE IF EXISTS flows_files")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bind(self, source: FlowSource) -> None:
        if self._bound is not None and source is self._bound:
            return
        self._bound = None
        self._con.execute("DROP VIEW IF EXISTS flows")
        self._con.execute("DROP TABLE IF EXISTS flows_files")
        if isinstance(source, pa.Table):
            self._con.register("flows_arrow", source)
            self._con.execute("CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM flows_arrow")
            self._bound = source
            return
        pattern = parquet_glob(source)
        try:
            quoted = "'" + pattern.replace("'", "''") + "'"
            files = f"read_parquet({quoted}, hive_partitioning = true, union_by_name = true)"
            if self._materialize:
                self._con.execute(f"CREATE TEMP TABLE flows_files AS SELECT * FROM {files}")  # noqa: S608 - quoted literal
                self._con.execute("CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM flows_files")
            else:
                self._con.execute(f"CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM {files}")  # noqa: S608 - quoted literal
        except duckdb.Error as e:
            raise InvalidInput(f"cannot read flow files: {e}", where=pattern) from e
        self._bound = source

    def aggregate(self, source: FlowSource, query: str) -> pa.Table:
        self._bind(source)
        try:
            return self._con.sql(render(query, "duckdb")).to_arrow_table()
        except duckdb.Error as e:
            where = "flows" if isinstance(source, pa.Table) else str(source)
            raise InvalidInput(f"flow query failed: {e}", where=where) from e

    def map_batches(
        self, source: FlowSource, columns: Sequence[str], mapper: BatchMapper, result_schema: pa.Schema
    ) -> pa.Table:
        self._bind(source)
        select = ", ".join(f'"{c}"' for c in columns)
        reader = self._con.sql(f"SELECT {select} FROM flows").to_arrow_reader(_BATCH_ROWS)  # noqa: S608 - column names come from code, not input
        parts = [mapper(batch) for batch in reader]
        parts = [p for p in parts if p.num_rows]
        if not parts:
            return result_schema.empty_table()
        return pa.concat_tables(parts).cast(result_schema)

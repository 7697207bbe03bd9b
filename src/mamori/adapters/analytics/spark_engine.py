"""Apache Spark analytics engine (PySpark 4): the same detector queries, for flow stores too big for one node.

The SparkSession is injected (build it with :func:`local_session` for tests and single-node runs); this module
imports PySpark lazily so the rest of mamori works without the ``spark`` extra.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from mamori.errors import InvalidInput, NotFound, Unsupported
from mamori.traffic.detect.ports import BatchMapper, FlowSource
from mamori.traffic.detect.queries import render

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _require_pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise Unsupported("the Spark engine needs PySpark: install mamori[spark]") from e
    return pyspark.sql


def local_session(*, cores: int = 2, shuffle_partitions: int = 4, app_name: str = "mamori-detect") -> SparkSession:
    """A local SparkSession suited to tests and single-node runs (UI off, few shuffle partitions)."""
    sql = _require_pyspark()
    # Python workers must run the interpreter that has mamori and the matching kernel installed; local mode
    # reads this from the environment when the SparkContext starts.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (  # type: ignore[no-any-return]
        sql.SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )


class SparkEngine:
    """Runs detector queries on Spark SQL; the caller owns (and stops) the session."""

    name = "spark"

    def __init__(self, session: SparkSession) -> None:
        self._spark = session
        self._last: tuple[FlowSource, DataFrame] | None = None

    def _frame(self, source: FlowSource) -> DataFrame:
        # detectors query the same source many times in a row: convert and cache it once
        if self._last is not None and self._last[0] is source:
            return self._last[1]
        if self._last is not None:
            self._last[1].unpersist()
        frame = self._load(source).cache()
        self._last = (source, frame)
        return frame

    def _load(self, source: FlowSource) -> DataFrame:
        if isinstance(source, pa.Table):
            return self._spark.createDataFrame(source)
        text = str(source)
        if not any(ch in text for ch in "*?[") and not Path(text).exists():
            raise NotFound(f"no flow files at {text}", where=text)
        try:
            return self._spark.read.option("mergeSchema", "true").parquet(text)
        except Exception as e:
            raise InvalidInput(f"cannot read flow files: {e}", where=text) from e

    def aggregate(self, source: FlowSource, query: str) -> pa.Table:
        self._frame(source).createOrReplaceTempView("flows")
        try:
            return self._spark.sql(render(query, "spark")).toArrow()
        except Exception as e:
            raise InvalidInput(f"flow query failed: {e}", where="flows") from e

    def map_batches(
        self, source: FlowSource, columns: Sequence[str], mapper: BatchMapper, result_schema: pa.Schema
    ) -> pa.Table:
        frame = self._frame(source).select(*columns)

        def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                yield from mapper(batch).cast(result_schema).to_batches()

        ddl = ", ".join(f"{f.name} {_spark_type(f.type)}" for f in result_schema)
        out = frame.mapInArrow(apply, ddl).toArrow()
        return out.cast(result_schema) if out.num_rows else result_schema.empty_table()


def _spark_type(t: pa.DataType) -> str:
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_int16(t):
        return "smallint"
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    raise Unsupported(f"no Spark type for Arrow type {t}", where="result_schema")

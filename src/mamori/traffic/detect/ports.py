"""The analytics port: what a detector needs from an engine (DuckDB embedded, Spark on clusters).

Engines run the portable aggregate queries of :mod:`mamori.traffic.detect.queries` over a flow source that
follows :data:`mamori.traffic.schema.FLOW_SCHEMA`, and stream selected columns through the indicator-matching
kernel. They return Arrow tables; all scoring happens in shared numpy code so every engine gives the same
findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeAlias

import pyarrow as pa

#: Stored flows: an in-memory Arrow table, or Parquet files (a file, a folder of hive partitions, a glob).
FlowSource: TypeAlias = pa.Table | Path | str

#: A function applied to each Arrow record batch of selected columns, returning a (possibly empty) table.
BatchMapper: TypeAlias = Callable[[pa.RecordBatch], pa.Table]


class AnalyticsEngine(Protocol):
    """An SQL engine over stored flows."""

    name: str

    def aggregate(self, source: FlowSource, query: str) -> pa.Table:
        """Run one query template of :mod:`~mamori.traffic.detect.queries` with ``flows`` bound to ``source``.

        The template's dialect placeholders (``@COLLECT(...)``/``@COLLECT_SET(...)``, see ``queries.render``)
        are filled in by the engine.
        """
        ...

    def map_batches(
        self, source: FlowSource, columns: Sequence[str], mapper: BatchMapper, result_schema: pa.Schema
    ) -> pa.Table:
        """Apply ``mapper`` to record batches holding ``columns`` and concatenate the results."""
        ...

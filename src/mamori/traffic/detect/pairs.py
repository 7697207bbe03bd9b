"""Per-pair connection series as the engines return them, unpacked into flat numpy arrays with offsets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mamori.traffic.detect.model import EvidenceRow


def list_column(table: pa.Table, name: str, dtype: type) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Flat values and offsets of a list column (null lists count as empty)."""
    arr = table.column(name).combine_chunks() if table.num_rows else pa.array([], pa.list_(pa.float64()))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.fill_null([]) if arr.null_count else arr
    offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    values = arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    flat: npt.NDArray[Any] = np.asarray(values.fill_null(0).to_numpy(zero_copy_only=False), dtype=dtype)
    return flat, offsets - offsets[0]


def sort_table(table: pa.Table, keys: list[str]) -> pa.Table:
    """Rows in a deterministic order, whatever order the engine produced."""
    if table.num_rows == 0:
        return table
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending", "at_start") for k in keys]))


@dataclass(frozen=True)
class Series:
    """Connection series of many pairs: per-connection arrays sharing ``offsets`` plus per-pair columns."""

    table: pa.Table
    ts: npt.NDArray[np.float64]
    sizes: npt.NDArray[np.float64]
    durations: npt.NDArray[np.float64]
    ports: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]

    @classmethod
    def from_table(cls, table: pa.Table, keys: list[str]) -> Series:
        table = sort_table(table, keys)
        ts, offsets = list_column(table, "ts", np.float64)
        sizes, _ = list_column(table, "sizes", np.float64)
        durations, _ = list_column(table, "durations", np.float64)
        ports, _ = list_column(table, "dst_ports", np.int64)
        return cls(table, ts, sizes, durations, ports, offsets)

    def evidence(
        self, i: int, src: str, dst: str | None, limit: int, note: str | None = None
    ) -> tuple[EvidenceRow, ...]:
        """The first ``limit`` connections of pair ``i`` in time order (ties broken by size, duration, port)."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        order = np.lexsort((self.ports[lo:hi], self.durations[lo:hi], self.sizes[lo:hi], self.ts[lo:hi]))[:limit]
        return tuple(
            EvidenceRow(
                start_ts=float(self.ts[lo + j]),
                src_ip=src,
                dst_ip=dst,
                dst_port=int(self.ports[lo + j]),
                bytes_total=int(self.sizes[lo + j]),
                duration=round(float(self.durations[lo + j]), 6),
                note=note,
            )
            for j in order
        )

    def span(self, i: int) -> tuple[float, float]:
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        seg = self.ts[lo:hi]
        return float(seg.min()), float(seg.max())

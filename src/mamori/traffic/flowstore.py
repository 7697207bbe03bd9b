"""Parquet flow store: atomic batch writes in a Hive layout, DuckDB reads, retention purge.

Layout: ``<root>/channel=<channel>/hour=<YYYY-MM-DDTHH>/<batch_id>-<n>.parquet`` (``root`` is
``<data_dir>/flows``), ``hour`` being the UTC hour of the flows' start. Each file is written to a hidden
temporary name in its final directory and renamed into place (atomic on POSIX); a batch becomes
visible only after all its files were written, and a failed batch leaves no file behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mamori.errors import InvalidInput
from mamori.traffic.model import Channel, PurgeReport
from mamori.traffic.schema import FLOW_SCHEMA, MAX_TS, MIN_TS

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class ParquetFlowStore:
    """:class:`~mamori.traffic.ports.FlowStore` on a directory of Hive-partitioned Parquet files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, table: pa.Table, batch_id: str) -> list[str]:
        if not _SAFE_ID.match(batch_id):
            raise InvalidInput(f"batch id {batch_id!r} is not a safe file name", where="batch_id")
        if table.schema.remove_metadata() != FLOW_SCHEMA:
            raise InvalidInput("batch does not have the stored flow schema", where=f"batch {batch_id}")
        if table.num_rows == 0:
            return []
        starts = table.column("start_ts").to_numpy(zero_copy_only=False)
        if not bool(np.all(np.isfinite(starts) & (starts >= MIN_TS) & (starts <= MAX_TS))):
            raise InvalidInput("batch has flow start times out of range", where=f"batch {batch_id}")
        channels = table.column("channel").to_numpy(zero_copy_only=False).astype(str)
        hours = (np.floor(table.column("start_ts").to_numpy(zero_copy_only=False) / 3600.0)).astype(np.int64)
        keys = sorted({(c, h) for c, h in zip(channels.tolist(), hours.tolist(), strict=True)})
        staged: list[tuple[Path, Path]] = []
        renamed: list[Path] = []
        try:
            for n, (channel, hour) in enumerate(keys):
                Channel.parse(channel, where=f"batch {batch_id} channel")
                label = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H")
                folder = self.root / f"channel={channel}" / f"hour={label}"
                folder.mkdir(parents=True, exist_ok=True)
                final = folder / f"{batch_id}-{n}.parquet"
                if final.exists():
                    raise InvalidInput(f"batch {batch_id} was already stored", where=str(final))
                tmp = folder / f".{batch_id}-{n}.{uuid.uuid4().hex}.tmp"
                part = table.filter(pa.array((channels == channel) & (hours == hour)))
                pq.write_table(part, tmp, compression="zstd")
                staged.append((tmp, final))
            for tmp, final in staged:
                os.replace(tmp, final)
                renamed.append(final)
        except BaseException:
            for path in [tmp for tmp, _ in staged] + renamed:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            raise
        return [str(final) for _, final in staged]

    def files(self) -> list[Path]:
        return sorted(self.root.glob("channel=*/hour=*/*.parquet")) if self.root.exists() else []

    def read(self, start: float, end: float, channel: Channel | None = None) -> pa.Table:
        """Records with ``start <= start_ts < end``, in FLOW_SCHEMA order (via DuckDB)."""
        if not self.files():
            return FLOW_SCHEMA.empty_table()
        pattern = str(self.root / "channel=*" / "hour=*" / "*.parquet")
        columns = ", ".join(f'"{f.name}"' for f in FLOW_SCHEMA)
        # Column names come from FLOW_SCHEMA; every value is a bound parameter.
        sql = (
            f"SELECT {columns} FROM read_parquet(?, hive_partitioning=true, union_by_name=true) "  # noqa: S608
            "WHERE start_ts >= ? AND start_ts < ?"
        )
        params: list[object] = [pattern, start, end]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel.value)
        sql += " ORDER BY start_ts"
        con = duckdb.connect(":memory:")
        try:
            result = con.sql(sql, params=params).to_arrow_table()
        finally:
            con.close()
        return result.cast(FLOW_SCHEMA)

    def purge(self, now: datetime) -> PurgeReport:
        """Delete files whose records all expired; rewrite files that hold some expired records."""
        cutoff = now.timestamp()
        deleted = rewritten = removed = kept = 0
        for path in self.files():
            expires = pq.ParquetFile(path).read(columns=["expires_at"]).column("expires_at")
            total = len(expires)
            expired = int(pc.sum(pc.less_equal(expires, cutoff)).as_py() or 0)
            if expired == 0:
                kept += total
                continue
            if expired == total:
                path.unlink()
                deleted += 1
            else:
                table = pq.ParquetFile(path).read()
                remaining = table.filter(pc.greater(table.column("expires_at"), cutoff))
                tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp")
                pq.write_table(remaining.cast(FLOW_SCHEMA), tmp, compression="zstd")
                os.replace(tmp, path)
                rewritten += 1
                kept += total - expired
            removed += expired
        self._remove_empty_dirs()
        return PurgeReport(deleted, rewritten, removed, kept)

    def _remove_empty_dirs(self) -> None:
        if not self.root.exists():
            return
        for folder in sorted(self.root.glob("channel=*/hour=*"), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()

"""Minimisation: reduce a parsed batch to what the channel's profile allows, before anything is stored.

Keeps mechanical information only (addresses, ports, protocol, times, sizes, TCP-flag summary), plus
the optional fields the channel's profile lists; drops every other column (payloads, URLs, headers,
user agents, certificates, Zeek uids, labels, any unknown column) and every domestic-to-domestic flow,
and, on the ``transit`` channel (foreign-to-foreign traffic), every flow with a domestic end; then
stamps each record with its provenance and expiry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mamori.errors import InvalidInput
from mamori.traffic.model import Channel, TrafficPolicy
from mamori.traffic.schema import FLOW_SCHEMA, MECHANICAL_COLUMNS, OPTIONAL_COLUMNS


@dataclass(frozen=True)
class MinimisedBatch:
    """A batch ready to store (FLOW_SCHEMA), with what minimisation removed."""

    table: pa.Table
    records_in: int
    dropped_domestic: int
    dropped_fields: list[str]


def minimise(
    table: pa.Table,
    *,
    policy: TrafficPolicy,
    channel: Channel,
    approval_id: str | None,
    sensor: str,
    batch_id: str,
    acquired_at: float,
) -> MinimisedBatch:
    """Apply the channel profile and the domestic rule to ``table``; add provenance columns."""
    missing = sorted(MECHANICAL_COLUMNS - set(table.column_names))
    if missing:
        raise InvalidInput(f"batch lacks flow column(s): {', '.join(missing)}", where=f"batch {batch_id}")
    allowed = policy.allowed_optional(channel)
    n_in = table.num_rows
    dropped_fields = sorted(
        name
        for name in table.column_names
        if name not in MECHANICAL_COLUMNS
        and name not in allowed
        and not (name in OPTIONAL_COLUMNS and table.column(name).null_count == table.num_rows)
    )

    src_dom = policy.domestic.contains(
        table.column("src_ip").combine_chunks(), table.column("src_ip_num").combine_chunks()
    )
    dst_dom = policy.domestic.contains(
        table.column("dst_ip").combine_chunks(), table.column("dst_ip_num").combine_chunks()
    )
    # Domestic-to-domestic traffic is never collected; the transit channel is foreign-to-foreign only.
    keep = ~(src_dom | dst_dom) if channel is Channel.TRANSIT else ~(src_dom & dst_dom)
    dropped_domestic = int(n_in - keep.sum())

    mask = pa.array(keep)
    n = int(keep.sum())
    retention = policy.retention[channel].total_seconds()
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for f in FLOW_SCHEMA:
        if f.name in MECHANICAL_COLUMNS:
            columns[f.name] = pc.filter(table.column(f.name), mask).cast(f.type)
        elif f.name in OPTIONAL_COLUMNS:
            if f.name in allowed and f.name in table.column_names:
                columns[f.name] = pc.filter(table.column(f.name), mask).cast(f.type)
            else:
                columns[f.name] = pa.nulls(n, f.type)
    columns["channel"] = pa.array(np.full(n, channel.value, dtype=object), pa.string())
    columns["approval_id"] = pa.array([approval_id] * n, pa.string())
    columns["sensor"] = pa.array([sensor] * n, pa.string())
    columns["batch_id"] = pa.array([batch_id] * n, pa.string())
    columns["acquired_at"] = pa.array(np.full(n, acquired_at, dtype=np.float64))
    columns["expires_at"] = pa.array(np.full(n, acquired_at + retention, dtype=np.float64))
    columns["src_domestic"] = pa.array(src_dom[keep])
    columns["dst_domestic"] = pa.array(dst_dom[keep])
    out = pa.table({f.name: columns[f.name] for f in FLOW_SCHEMA}, schema=FLOW_SCHEMA)
    return MinimisedBatch(out, n_in, dropped_domestic, dropped_fields)

"""Builders shared by the flow-ingest tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Engine, MetaData, create_engine

from mamori.kernel.ids import SequentialIds
from mamori.traffic.approvals import SqlApprovalRegistry
from mamori.traffic.flowstore import ParquetFlowStore
from mamori.traffic.ingest import FlowIngestService
from mamori.traffic.model import TrafficPolicy
from mamori.traffic.schema import OBSERVATION_SCHEMA
from mamori.traffic.tables import define_tables

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def registry() -> tuple[SqlApprovalRegistry, Engine]:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    tables = define_tables(metadata)
    metadata.create_all(engine)
    return SqlApprovalRegistry(engine, tables), engine


def service(
    tmp_path: Path, policy: TrafficPolicy | None = None
) -> tuple[FlowIngestService, ParquetFlowStore, SqlApprovalRegistry]:
    approvals, _ = registry()
    store = ParquetFlowStore(tmp_path / "flows")
    svc = FlowIngestService(
        store=store,
        approvals=approvals,
        policy=policy or TrafficPolicy.from_settings(PRIVATE),
        ids=SequentialIds(),
    )
    return svc, store, approvals


def observations(rows: list[dict[str, object]]) -> pa.Table:
    """A parser-shaped table; unspecified schema columns are null, extra keys become source columns."""
    import ipaddress

    full = []
    for r in rows:
        row = {f.name: None for f in OBSERVATION_SCHEMA}
        row.update({"duration": 0.0, "proto": 6, "src_port": 1234, "dst_port": 443, "bytes_out": 100, "pkts_out": 1})
        row.update(r)
        for side in ("src", "dst"):
            addr = ipaddress.ip_address(str(row[f"{side}_ip"]))
            row[f"{side}_ip_num"] = int(addr) if addr.version == 4 else None
        full.append(row)
    extra = [k for k in full[0] if k not in OBSERVATION_SCHEMA.names]
    schema = OBSERVATION_SCHEMA
    for name in extra:
        schema = schema.append(pa.field(name, pa.string()))
    return pa.Table.from_pylist(full, schema=schema)

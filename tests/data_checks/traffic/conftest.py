"""Fixtures for the labelled Stratosphere Zeek logs under ../shared/data/flows/stratosphere.

Logs are parsed with the flow-ingest parser (:func:`mamori.traffic.zeek.parse_zeek`); the fixture adds the
provenance columns of the stored flow record (domestic space = the private IPv4 ranges) and keeps the
Stratosphere ``label`` column apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mamori.traffic.addresses import AddressSpace
from mamori.traffic.schema import FLOW_SCHEMA, OBSERVATION_SCHEMA
from mamori.traffic.zeek import parse_zeek

PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def shared_data() -> Path:
    env = os.environ.get("MAMORI_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def stratosphere_dir() -> Path:
    return shared_data() / "flows" / "stratosphere"


def read_zeek(path: Path, kind: str = "conn") -> tuple[pa.Table, list[str | None]]:
    """A Zeek log as stored flow records plus the per-row Stratosphere label (None when unlabelled)."""
    log = parse_zeek(path, kind)
    obs = log.table.select(OBSERVATION_SCHEMA.names)
    n = obs.num_rows
    space = AddressSpace.from_prefixes(PRIVATE)
    provenance = {
        "channel": pa.array(["agreement"] * n, pa.string()),
        "approval_id": pa.nulls(n, pa.string()),
        "sensor": pa.array(["stratosphere"] * n, pa.string()),
        "batch_id": pa.array([path.parent.name] * n, pa.string()),
        "acquired_at": np.zeros(n),
        "expires_at": np.zeros(n),
        "src_domestic": space.contains(
            obs.column("src_ip").combine_chunks(), obs.column("src_ip_num").combine_chunks()
        ),
        "dst_domestic": space.contains(
            obs.column("dst_ip").combine_chunks(), obs.column("dst_ip_num").combine_chunks()
        ),
    }
    for name, values in provenance.items():
        obs = obs.append_column(name, pa.array(values) if not isinstance(values, pa.Array) else values)
    labels = log.table.column("label").to_pylist() if "label" in log.table.column_names else [None] * n
    return obs.select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA), labels


@pytest.fixture(scope="session")
def stratosphere() -> Callable[..., tuple[pa.Table, list[str | None]]]:
    root = stratosphere_dir()
    if not root.is_dir():
        pytest.skip(f"labelled Stratosphere Zeek logs not found at {root} (set MAMORI_SHARED_DATA)")

    def load(relative: str, kind: str = "conn") -> tuple[pa.Table, list[str | None]]:
        path = root / relative
        if not path.is_file():
            pytest.skip(f"{path} is absent")
        return read_zeek(path, kind)

    return load

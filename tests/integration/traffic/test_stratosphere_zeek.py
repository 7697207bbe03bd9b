"""Zeek logs of the Stratosphere Lab test captures (../shared/data/flows/stratosphere) parse and ingest,
in their TSV form and converted to Zeek JSON lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.compute as pc
import pytest
from tests.unit.traffic.flow_fixtures import NOW, PRIVATE, service

from mamori.traffic.model import TrafficPolicy
from mamori.traffic.schema import OBSERVATION_SCHEMA
from mamori.traffic.zeek import parse_zeek

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("MAMORI_SHARED_DATA", REPO / ".." / "shared" / "data"))
STRATOSPHERE = SHARED / "flows" / "stratosphere"

LOGS = {
    "001-zeek-scenario-malicious/labeled-conn.log": ("conn", "tsv"),
    "002-zeek-scenario-port-scanning/conn.log": ("conn", "json"),
    "005-zeek-scenario-malicious/conn.log": ("conn", "tsv"),
    "005-zeek-scenario-malicious/dns.log": ("dns", "tsv"),
    "008-zeek-mixed/data/conn.log.labeled": ("conn", "tsv"),
}

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not STRATOSPHERE.is_dir(), reason=f"shared test data not present: {STRATOSPHERE}"),
]


def _data_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("name", sorted(LOGS))
def test_stratosphere_log_parses_every_line(name: str) -> None:
    path = STRATOSPHERE / name
    log = parse_zeek(path)
    assert (log.kind, log.source_format) == LOGS[name]
    assert log.table.num_rows == len(_data_lines(path))
    assert log.table.schema.names[: len(OBSERVATION_SCHEMA)] == OBSERVATION_SCHEMA.names
    assert log.table.column("src_ip").null_count == 0
    assert pc.min(log.table.column("dst_port")).as_py() >= 0


def _tsv_to_json(path: Path, out: Path) -> Path:
    """Zeek's JSON writer form of a TSV log: typed values, unset fields left out."""
    fields: list[str] = []
    types: list[str] = []
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#types"):
            types = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            obj: dict[str, object] = {}
            for name, typ, value in zip(fields, types, line.split("\t"), strict=True):
                if value == "-":
                    continue
                if typ in ("time", "interval", "double"):
                    obj[name] = float(value)
                elif typ in ("count", "port", "int"):
                    obj[name] = int(value)
                elif typ == "bool":
                    obj[name] = value == "T"
                elif typ.startswith(("set", "vector")):
                    obj[name] = [] if value == "(empty)" else value.split(",")
                else:
                    obj[name] = value
            lines.append(json.dumps(obj))
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("name", sorted(n for n, (_, fmt) in LOGS.items() if fmt == "tsv"))
def test_tsv_and_json_forms_give_the_same_flows(tmp_path: Path, name: str) -> None:
    tsv = parse_zeek(STRATOSPHERE / name)
    as_json = parse_zeek(_tsv_to_json(STRATOSPHERE / name, tmp_path / Path(name).name), kind=tsv.kind)
    assert as_json.source_format == "json"
    for column in OBSERVATION_SCHEMA.names:
        assert tsv.table.column(column).to_pylist() == as_json.table.column(column).to_pylist(), column


def test_ingest_of_stratosphere_logs_keeps_no_domestic_only_flow(tmp_path: Path) -> None:
    svc, store, _ = service(tmp_path, TrafficPolicy.from_settings(PRIVATE))
    paths = [STRATOSPHERE / n for n in sorted(LOGS)]
    report = svc.ingest_paths(paths, "zeek", "agreement", "AGR-STRATO", "lab", NOW)
    assert report.records_in == sum(len(_data_lines(p)) for p in paths)
    assert report.dropped_domestic > 0
    assert report.records_stored == report.records_in - report.dropped_domestic
    assert "label" in report.dropped_fields and "uid" in report.dropped_fields
    stored = store.read(-(2**40), 2**40)
    assert stored.num_rows == report.records_stored
    both = pc.and_(stored.column("src_domestic"), stored.column("dst_domestic"))
    assert not pc.any(both).as_py()
    assert stored.column("dns_query").null_count == stored.num_rows  # strict profile

"""Smoke test of the threat-intelligence benchmark (bench/bench_intel.py) at tiny sizes: every figure it
reports is produced and positive, and the answers the servers gave were complete and right. No timing is
asserted here; speed is what the benchmark script itself reports."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench_modules() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(BENCH_DIR))
    try:
        yield importlib.import_module("bench_intel"), importlib.import_module("stix_corpus")
    finally:
        sys.path.remove(str(BENCH_DIR))


def test_corpus_is_deterministic_and_plans_known_answers(bench_modules: tuple[ModuleType, ModuleType]) -> None:
    _bench, corpus = bench_modules
    first, plan = corpus.mixed_corpus(400, seed=5)
    again, _ = corpus.mixed_corpus(400, seed=5)
    other, _ = corpus.mixed_corpus(400, seed=6)
    assert first == again
    assert first != other
    assert len({o["id"] for o in first}) == 400
    assert {"indicator", "relationship", "sighting", "malware", "identity"} <= {o["type"] for o in first}
    lookups = corpus.lookup_values(plan, 60)
    assert {expected for expected, _value in lookups} == {"hit", "miss"}


def _figures(node: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _figures(value, f"{path}.{key}")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, float(node)


@pytest.mark.slow
def test_quick_run_reports_every_figure(bench_modules: tuple[ModuleType, ModuleType], tmp_path: Path) -> None:
    pytest.importorskip("medallion", reason="medallion (the peer TAXII server) is a dev dependency")
    bench, _corpus = bench_modules
    sizes = bench.Sizes(
        ingest_objects=600,
        envelope_objects=200,
        medallion_ingest_budget_s=20.0,
        rate_collection_objects=20,
        rate_clients=2,
        rate_requests_per_client=25,
        page_limit=100,
        mamori_read_sizes=(300, 600),
        medallion_read_sizes=(200, 300),
        medallion_read_timeout_s=60.0,
        lookup_store_indicators=1_000,
        lookup_batch=500,
        lookups=60,
        first_page_requests=10,
        first_page_limit=20,
    )
    out = tmp_path / "intel.json"
    bench.run(sizes, out, mode="test")
    doc = json.loads(out.read_text())
    r = doc["results"]

    assert doc["machine"]["cpu_count"] > 0 and doc["machine"]["python"]
    assert doc["sizes"]["ingest_objects"] == 600
    assert r["ingest_service"]["added"] == 600 and r["ingest_service"]["objects_per_s"] > 0
    assert r["ingest_bundle"]["added"] == 600 and r["ingest_bundle"]["objects_per_s"] > 0
    for server in ("mamori", "medallion"):
        ingest = r["ingest_taxii"][server]
        assert ingest["objects_accepted"] == ingest["objects_sent"] == 600
        assert ingest["objects_per_s"] > 0
        for kind in ("get_object", "get_objects_limit_1"):
            rate = r["request_rate"][server][kind]
            assert rate["requests"] == 50 and rate["requests_per_s"] > 0 and rate["p99_ms"] > 0
    for server, sizes_read in (("mamori", (300, 600)), ("medallion", (200, 300))):
        for n in sizes_read:
            read = r["pagination"][server][str(n)]
            assert read["completed"], read
            assert read["objects"] == read["distinct_ids"] == n
            assert read["objects_per_s"] > 0
    assert r["lookup"]["store"]["indicators"] == 1_000 and r["lookup"]["store"]["objects_per_s"] > 0
    assert r["lookup"]["lookups"] == 60 and r["lookup"]["wrong_answers"] == 0
    assert r["lookup"]["p50_ms"] > 0 and r["lookup"]["p99_ms"] >= r["lookup"]["p50_ms"]
    assert r["first_page"]["objects_per_page"] == 20 and r["first_page"]["p99_ms"] > 0
    assert set(doc["goals"]) >= {
        "ingest_bundle_objects_per_s",
        "pagination_objects_per_s",
        "lookup_p99_ms",
        "first_page_p99_ms",
        "request_rate_ratio_get_object",
    }
    negatives = [(path, value) for path, value in _figures(r) if value < 0]
    assert not negatives


def test_the_median_run_counts_and_every_run_is_kept(bench_modules: tuple[ModuleType, ModuleType]) -> None:
    bench, _corpus = bench_modules
    runs = [{"objects_per_s": 30.0, "n": 1}, {"objects_per_s": 10.0, "n": 2}, {"objects_per_s": 20.0, "n": 3}]
    median = bench.median_run(runs)
    assert median["n"] == 3 and median["objects_per_s"] == 20.0
    assert median["runs_objects_per_s"] == [30.0, 10.0, 20.0]

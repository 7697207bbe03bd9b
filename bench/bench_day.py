"""A synthetic 10-million-flow day end to end through every detector on DuckDB, from hive-partitioned Parquet.

Steps: generate a seeded day (benign background plus one of each planted behaviour), write it as the flow store
lays it out (``flows/channel=agreement/hour=<YYYY-MM-DDTHH>/<batch>.parquet``), then, in a fresh process so the
memory figure is the detector run's own, run ``run_detectors`` with 100,000 indicator addresses and 10,000
prefixes. Reports wall time, CPU time, peak resident memory (getrusage ru_maxrss), findings per kind, and whether
every planted behaviour was found.

Writes bench/results/day.json and prints a table. Run: .venv/bin/python bench/bench_day.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

RESULTS = Path(__file__).resolve().parent / "results"


def write_store(table: pa.Table, root: Path) -> int:
    hours = pc.cast(pc.floor(pc.divide(table.column("start_ts"), 3600.0)), pa.int64()).to_numpy()
    files = 0
    for hour in np.unique(hours):
        label = datetime.fromtimestamp(int(hour) * 3600, UTC).strftime("%Y-%m-%dT%H")
        part = root / "flows" / "channel=agreement" / f"hour={label}"
        part.mkdir(parents=True, exist_ok=True)
        rows = table.filter(pa.array(hours == hour)).drop_columns(["channel"])
        pq.write_table(rows, part / "bench-0.parquet")
        files += 1
    return files


def detect_child(store: str, indicators_path: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    from mamori.adapters.analytics.duckdb_engine import DuckDBEngine
    from mamori.traffic.detect.service import run_detectors
    from mamori.traffic.match.indicators import Indicator, IndicatorKind

    raw = json.loads(Path(indicators_path).read_text())
    inds = [Indicator(IndicatorKind(k), v, f"ind-{i}") for i, (k, v) in enumerate(raw)]
    t, c = time.perf_counter(), time.process_time()
    with DuckDBEngine(threads=2) as engine:
        run = run_detectors(engine, Path(store) / "flows", indicators=inds, at=datetime(2026, 1, 2, tzinfo=UTC))
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put(
        {
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "peak_rss_mib": round(peak_kib / 1024, 1),
            "flows": run.flows,
            "findings": len(run.findings),
            "by_kind_and_severity": sorted(
                [k, s, n] for (k, s), n in Counter((f.kind.value, f.severity.value) for f in run.findings).items()
            ),
            "found": sorted(
                {
                    (f.kind.value, f.src.address or "", f.dst.address or f.dst.name or str(f.dst.port))
                    for f in run.findings
                    if f.severity.rank >= 2
                }
            ),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    from mamori.traffic.synthetic import generate_day

    t = time.perf_counter()
    day = generate_day(seed=5, background_flows=args.rows, hosts=20_000, servers=50_000)
    gen_s = time.perf_counter() - t
    work = Path(tempfile.mkdtemp(prefix="mamori-day-"))
    try:
        t = time.perf_counter()
        files = write_store(day.table, work)
        write_s = time.perf_counter() - t
        rng = np.random.default_rng(9)
        ips = rng.integers(1 << 24, 224 << 24, 100_000)
        nets = rng.integers(1 << 24, 224 << 24, 10_000) & 0xFFFFFF00
        planted_c2 = [p.dst for p in day.planted if p.dst and not p.dst.startswith("10.")]
        raw = [["ip", f"{(a >> 24) & 255}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"] for a in ips.tolist()]
        raw += [["cidr", f"{(a >> 24) & 255}.{(a >> 16) & 255}.{(a >> 8) & 255}.0/24"] for a in nets.tolist()]
        raw += [["ip", ip] for ip in planted_c2] + [["domain", "badupdate.example"]]
        ind_path = work / "indicators.json"
        ind_path.write_text(json.dumps(raw))
        n_rows = day.table.num_rows
        planted = [(p.kind.value, p.src or "", p.dst or p.dst_name or str(p.dst_port)) for p in day.planted]
        del day
        load = os.getloadavg()[0]
        queue: mp.Queue = mp.get_context("spawn").Queue()  # type: ignore[type-arg]
        proc = mp.get_context("spawn").Process(target=detect_child, args=(str(work), str(ind_path), queue))
        proc.start()
        child = queue.get()
        proc.join()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found = {tuple(x) for x in child.pop("found")}
    missing = [p for p in planted if not any(f[0] == p[0] and (not p[1] or f[1] == p[1]) for f in found)]
    result = {
        "rows": n_rows,
        "parquet_files": files,
        "generate_s": round(gen_s, 2),
        "write_parquet_s": round(write_s, 2),
        "detect": child,
        "rows_per_s": round(n_rows / child["wall_s"]),
        "planted_missing_at_medium_or_higher": missing,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_start": round(load, 2)},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "day.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'step':<28}{'seconds':>10}")
    print(f"{'generate day':<28}{gen_s:>10.2f}")
    print(f"{'write parquet store':<28}{write_s:>10.2f}")
    detail = f"cpu {child['cpu_s']} s, peak RSS {child['peak_rss_mib']} MiB"
    print(f"{'all detectors (duckdb)':<28}{child['wall_s']:>10.2f}   {detail}")
    print(f"rows {n_rows:,}; {result['rows_per_s']:,} rows/s; findings {child['findings']}; missing planted: {missing}")
    print(f"load average at start {load:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

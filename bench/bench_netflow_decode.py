"""NetFlow v9 / IPFIX decoding speed: mamori's vectorised decoder next to the `netflow` package.

Generates ~1M flow records as MTU-sized export datagrams (30 records each, template every 20
datagrams), decodes them with mamori (numeric columns, then the Arrow table of the stored schema) and
with the `netflow` PyPI package (python-netflow-v9-softflowd), and prints records/s for each and the
ratio. The peer decodes a prefix of the same datagrams (it is much slower); rates are per record, on one
core (single thread). Figures go to bench/results/netflow_decode.json.

    python bench/bench_netflow_decode.py [--records 1000000] [--peer-records 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mamori.traffic.flowexport import encode_ipfix, encode_v9, synthetic_columns
from mamori.traffic.netflow import NetflowDecoder

EXPORT_SECS = 1_700_010_000
UPTIME_MS = 100_000_000


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds over ``repeat`` runs, and the last result."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, result


def _mamori(datagrams: list[bytes], repeat: int) -> dict[str, Any]:
    pairs = [(d, "192.0.2.1:2055") for d in datagrams]

    def columns() -> Any:
        return NetflowDecoder().decode(pairs)

    def table() -> Any:
        return NetflowDecoder().decode(pairs).to_table()

    wall, cpu, result = _best(columns, repeat)
    twall, tcpu, tab = _best(table, repeat)
    n = len(result.flows)
    assert not result.errors and tab.num_rows == n
    return {
        "records": n,
        "columns_wall_s": wall,
        "columns_records_per_s": n / wall,
        "columns_records_per_cpu_s": n / cpu,
        "table_wall_s": twall,
        "table_records_per_s": n / twall,
        "table_records_per_cpu_s": n / tcpu,
        "bytes_sum": int(result.flows.bytes_out.sum()),
    }


def _peer(datagrams: list[bytes], limit: int) -> dict[str, Any]:
    import netflow  # the peer, from PyPI (dev extra)

    templates: dict[str, Any] = {"netflow": {}, "ipfix": {}}
    chosen = []
    count = 0
    for d in datagrams:
        chosen.append(d)
        count += 30
        if count >= limit:
            break
    w0, c0 = time.perf_counter(), time.process_time()
    n = 0
    byte_sum = 0
    for d in chosen:
        packet = netflow.parse_packet(d, templates)
        for flow in packet.flows:
            n += 1
            byte_sum += int(flow.data.get("IN_BYTES", flow.data.get("octetDeltaCount", 0)))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {
        "package": f"netflow {importlib.metadata.version('netflow')}",
        "records": n,
        "datagrams": len(chosen),
        "wall_s": wall,
        "records_per_s": n / wall,
        "records_per_cpu_s": n / cpu,
        "bytes_sum": byte_sum,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--peer-records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "netflow_decode.json")
    args = parser.parse_args(argv)

    cols = synthetic_columns(args.records, seed=42, start=EXPORT_SECS - 3700)
    encoders = {
        "netflow_v9": lambda: encode_v9(cols, export_secs=EXPORT_SECS, uptime_ms=UPTIME_MS),
        "ipfix": lambda: encode_ipfix(cols, export_secs=EXPORT_SECS),
    }
    figures: dict[str, Any] = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "numpy": np.__version__,
        "records_per_datagram": 30,
        "formats": {},
    }
    print(f"{'format':<11} {'decoder':<22} {'records':>9} {'records/s':>12} {'per CPU s':>12}")
    for name, encode in encoders.items():
        datagrams = encode()
        ours = _mamori(datagrams, args.repeat)
        peer = _peer(datagrams, args.peer_records)
        prefix_sum = int(cols["bytes"][: peer["records"]].astype(np.int64).sum())
        if peer["bytes_sum"] != prefix_sum:
            print(f"warning: {name}: peer byte sum {peer['bytes_sum']} != expected {prefix_sum}", file=sys.stderr)
        ratio = ours["columns_records_per_cpu_s"] / peer["records_per_cpu_s"]
        ratio_table = ours["table_records_per_cpu_s"] / peer["records_per_cpu_s"]
        figures["formats"][name] = {
            "datagrams": len(datagrams),
            "mamori": ours,
            "peer": peer,
            "speedup_columns": ratio,
            "speedup_table": ratio_table,
            "goal_records_per_core_s": 5_000_000,
            "goal_met_columns": ours["columns_records_per_cpu_s"] >= 5_000_000,
        }
        print(
            f"{name:<11} {'mamori (columns)':<22} {ours['records']:>9} {ours['columns_records_per_s']:>12,.0f} "
            f"{ours['columns_records_per_cpu_s']:>12,.0f}"
        )
        print(
            f"{name:<11} {'mamori (Arrow table)':<22} {ours['records']:>9} {ours['table_records_per_s']:>12,.0f} "
            f"{ours['table_records_per_cpu_s']:>12,.0f}"
        )
        print(
            f"{name:<11} {peer['package']:<22} {peer['records']:>9} {peer['records_per_s']:>12,.0f} "
            f"{peer['records_per_cpu_s']:>12,.0f}"
        )
        print(f"{name:<11} ratio mamori/peer: {ratio:,.0f}x (columns), {ratio_table:,.0f}x (Arrow table)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(figures, indent=2) + "\n")
    tmp.replace(args.out)
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Threat-intelligence benchmarks: mamori side by side with the OASIS reference TAXII 2.1 server, medallion.

Both servers receive the same deterministic STIX 2.1 objects (bench/stix_corpus.py) from the same client
(httpx, one keep-alive connection per client thread), each in its own process on a loopback port:

1. ingest rate of a bundle: mamori through ``IntelService.ingest`` (SQLite) and through TAXII 2.1
   "Add Objects" (section 5.5) in envelopes; medallion through the same envelopes;
2. TAXII requests per second for one small response ("Get An Object", section 5.6, and "Get Objects"
   with ``limit=1``, section 5.4) from concurrent keep-alive clients;
3. objects per second reading a whole collection through pagination (``limit`` and ``next``, section 3.4);
4. value look-ups (``IntelService.lookup``) in a large indicator store: p50/p99 latency;
5. latency of the first page of that large collection over TAXII.

    python bench/bench_intel.py            # full run (about 10-15 minutes on 2 cores)
    python bench/bench_intel.py --quick    # small sizes, well under a minute: a smoke check
    python bench/bench_intel.py --full-scale   # parts 4 and 5 at 1,000,000 indicators

Figures go to the terminal (a rich table) and to bench/results/intel.json (``--out`` to change).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from stix_corpus import CorpusGenerator, lookup_values, mixed_corpus  # noqa: E402
from taxii_servers import (  # noqa: E402
    MEDALLION_API_ROOT,
    TAXII_MEDIA_TYPE,
    mamori_server,
    medallion_collection,
    medallion_config,
    medallion_server,
    process_cpu_seconds,
)

API_ROOT = "partners"
USER = "bench"
PASSWORD = "bench-password-not-secret-0123456789"  # noqa: S105 - a throwaway account on a loopback server
SECRET_KEY = "bench-secret-key-" + "0" * 40
DEFAULT_OUT = BENCH_DIR / "results" / "intel.json"

GOALS = {
    "ingest_bundle_objects_per_s": 20_000,
    "request_rate_ratio_vs_medallion": 5.0,
    "pagination_objects_per_s": 20_000,
    "lookup_p99_ms": 5.0,
    "first_page_p99_ms": 50.0,
}


@dataclass(frozen=True)
class Sizes:
    """Every size the benchmarks use; recorded in the results."""

    ingest_objects: int = 100_000
    bundle_imports: int = 3  # the bundle import runs this many times, each into a fresh store; the median counts
    envelope_objects: int = 1_000
    medallion_ingest_budget_s: float = 90.0
    mamori_ingest_budget_s: float = 180.0
    rate_collection_objects: int = 100
    rate_clients: int = 2
    rate_requests_per_client: int = 2_000
    rate_budget_s: float = 30.0
    page_limit: int = 1_000
    mamori_read_sizes: tuple[int, ...] = (10_000, 100_000)
    medallion_read_sizes: tuple[int, ...] = (2_000, 10_000)
    medallion_read_timeout_s: float = 120.0
    lookup_store_indicators: int = 100_000
    lookup_batch: int = 10_000
    lookup_build_budget_s: float = 240.0
    lookups: int = 2_000
    first_page_requests: int = 200
    first_page_limit: int = 100
    seed: int = 2026


# A rare failed request (medallion once answered a GET with a 500 under two concurrent clients) is reported beside
# the rate, which counts answered requests only; more than this share of them stops the benchmark.
MAX_FAILED_SHARE = 0.01

FULL = Sizes()
FULL_SCALE = replace(FULL, lookup_store_indicators=1_000_000, lookup_build_budget_s=900.0)
QUICK = Sizes(
    ingest_objects=3_000,
    bundle_imports=1,
    envelope_objects=500,
    medallion_ingest_budget_s=10.0,
    mamori_ingest_budget_s=20.0,
    lookup_build_budget_s=20.0,
    rate_collection_objects=50,
    rate_clients=2,
    rate_requests_per_client=150,
    page_limit=200,
    mamori_read_sizes=(1_000, 3_000),
    medallion_read_sizes=(500, 1_000),
    medallion_read_timeout_s=30.0,
    lookup_store_indicators=5_000,
    lookup_batch=1_000,
    lookups=300,
    first_page_requests=40,
    first_page_limit=50,
)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the samples."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def envelopes(objects: Sequence[dict[str, Any]], size: int) -> list[tuple[int, bytes]]:
    """TAXII 2.1 envelopes (section 3.7) of ``size`` objects as (count, body), serialised outside any timing."""
    return [
        (len(objects[i : i + size]), orjson.dumps({"objects": list(objects[i : i + size])}))
        for i in range(0, len(objects), size)
    ]


# --- the TAXII client both servers get ---------------------------------------------------------------
@dataclass(frozen=True)
class TaxiiTarget:
    """Where one server's API root is and how to authenticate to it (HTTP Basic for both)."""

    name: str
    api_root_url: str
    auth: tuple[str, str]
    server_pid: int | None = None
    log_path: Path | None = None

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's log, to explain a failed request."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def server_cpu_s(self) -> float | None:
        """CPU seconds the server process has used so far: a figure the machine's other load barely moves."""
        return process_cpu_seconds(self.server_pid) if self.server_pid is not None else None

    def client(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(
            auth=self.auth,
            timeout=timeout,
            headers={"Accept": TAXII_MEDIA_TYPE},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def objects_url(self, collection_id: str) -> str:
        return f"{self.api_root_url}collections/{collection_id}/objects/"


def cpu_between(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def post_envelopes(
    target: TaxiiTarget, collection_id: str, bodies: Sequence[tuple[int, bytes]], *, budget_s: float | None = None
) -> dict[str, Any]:
    """POST each envelope in turn, waiting for each status to complete; stop when the budget is spent."""
    url = target.objects_url(collection_id)
    sent = accepted = 0
    per_envelope: list[float] = []
    cpu0 = target.server_cpu_s()
    start = time.perf_counter()
    timed_out = False
    with target.client(timeout=max(60.0, budget_s or 0.0)) as client:
        for count, body in bodies:
            t0 = time.perf_counter()
            r = client.post(url, content=body, headers={"Content-Type": TAXII_MEDIA_TYPE})
            if r.status_code != 202:
                raise RuntimeError(f"{target.name}: POST objects answered {r.status_code}: {r.text[:300]}")
            status = wait_for_status(client, target, r.json())
            accepted += int(status.get("success_count", 0))
            sent += count
            per_envelope.append(time.perf_counter() - t0)
            if budget_s is not None and time.perf_counter() - start > budget_s:
                timed_out = len(per_envelope) < len(bodies)
                break
    elapsed = time.perf_counter() - start
    cpu = cpu_between(cpu0, target.server_cpu_s())
    return {
        "objects_sent": sent,
        "server_cpu_s": cpu,
        "server_cpu_us_per_object": cpu / sent * 1e6 if cpu is not None and sent else None,
        "objects_accepted": accepted,
        "envelopes": len(per_envelope),
        "seconds": elapsed,
        "objects_per_s": sent / elapsed if elapsed else 0.0,
        "first_envelope_s": per_envelope[0] if per_envelope else None,
        "last_envelope_s": per_envelope[-1] if per_envelope else None,
        "stopped_at_budget": timed_out,
    }


def wait_for_status(client: httpx.Client, target: TaxiiTarget, status: dict[str, Any]) -> dict[str, Any]:
    """A TAXII status resource (section 4.3) polled until it is no longer pending."""
    while status.get("status") == "pending":
        time.sleep(0.01)
        r = client.get(f"{target.api_root_url}status/{status['id']}/")
        r.raise_for_status()
        status = r.json()
    return status


def request_rate(
    target: TaxiiTarget, url: str, clients: int, per_client: int, budget_s: float | None = None
) -> dict[str, Any]:
    """``clients`` threads, each with its own keep-alive connection, each sending ``per_client`` GETs
    (fewer if the time budget runs out first)."""
    barrier = threading.Barrier(clients + 1)
    failures: list[str] = []
    latencies: list[list[float]] = [[] for _ in range(clients)]

    def worker(slot: int) -> None:
        with target.client() as client:
            client.get(url).raise_for_status()  # open the connection before the clock starts
            barrier.wait()
            mine = latencies[slot]
            stop_at = time.perf_counter() + budget_s if budget_s is not None else float("inf")
            for _ in range(per_client):
                t0 = time.perf_counter()
                if t0 > stop_at:
                    return
                r = client.get(url)
                if r.status_code != 200:  # counted apart; too many of them stop the benchmark
                    failures.append(f"{r.status_code}: {r.text[:200]}")
                    continue
                mine.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    cpu0 = target.server_cpu_s()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu = cpu_between(cpu0, target.server_cpu_s())
    flat = [x for per in latencies for x in per]
    if len(failures) > MAX_FAILED_SHARE * (len(flat) + len(failures)):
        raise RuntimeError(f"{target.name}: {len(failures)} of {len(flat) + len(failures)} GET {url} failed, "
                           f"first: {failures[0]}\n{target.name}'s log ends:\n{target.log_tail()}")
    return {
        "requests": len(flat),
        "failed_requests": len(failures),  # not in the rate
        "first_failure": (failures[0] + "\n" + target.log_tail()) if failures else None,
        "requests_planned": clients * per_client,
        "clients": clients,
        "seconds": elapsed,
        "requests_per_s": len(flat) / elapsed,
        "server_cpu_s": cpu,
        "server_cpu_ms_per_request": cpu / len(flat) * 1000 if cpu is not None and flat else None,
        "p50_ms": percentile(flat, 50) * 1000,
        "p99_ms": percentile(flat, 99) * 1000,
    }


def read_collection(
    target: TaxiiTarget, collection_id: str, limit: int, *, timeout_s: float | None = None
) -> dict[str, Any]:
    """Read every object of a collection, page by page, following ``next`` while ``more`` is true."""
    url = target.objects_url(collection_id)
    objects = pages = 0
    ids: set[str] = set()
    cpu0 = target.server_cpu_s()
    start = time.perf_counter()
    params: dict[str, str | int] = {"limit": limit}
    first_page_s = None
    try:
        with target.client(timeout=timeout_s or 120.0) as client:
            while True:
                if timeout_s is not None and time.perf_counter() - start > timeout_s:
                    raise httpx.ReadTimeout("benchmark time budget spent")
                r = client.get(url, params=params)
                if r.status_code != 200:
                    raise RuntimeError(f"{target.name}: GET objects answered {r.status_code}: {r.text[:300]}")
                page = orjson.loads(r.content)
                pages += 1
                if first_page_s is None:
                    first_page_s = time.perf_counter() - start
                batch = page.get("objects", [])
                objects += len(batch)
                ids.update(o["id"] for o in batch)
                if not page.get("more") or not page.get("next"):
                    break
                params = {"limit": limit, "next": page["next"]}
    except httpx.TimeoutException:
        elapsed = time.perf_counter() - start
        return {
            "completed": False,
            "objects": objects,
            "pages": pages,
            "seconds": elapsed,
            "objects_per_s": objects / elapsed if elapsed else 0.0,
            "first_page_s": first_page_s,
            "note": f"stopped after {timeout_s:.0f} s without finishing",
        }
    elapsed = time.perf_counter() - start
    cpu = cpu_between(cpu0, target.server_cpu_s())
    return {
        "completed": True,
        "objects": objects,
        "distinct_ids": len(ids),
        "pages": pages,
        "seconds": elapsed,
        "objects_per_s": objects / elapsed,
        "first_page_s": first_page_s,
        "server_cpu_s": cpu,
        "server_cpu_us_per_object": cpu / objects * 1e6 if cpu is not None and objects else None,
    }


def first_page_latency(target: TaxiiTarget, collection_id: str, limit: int, requests: int) -> dict[str, Any]:
    url = target.objects_url(collection_id)
    samples: list[float] = []
    with target.client() as client:
        client.get(url, params={"limit": limit}).raise_for_status()
        cpu0 = target.server_cpu_s()
        for _ in range(requests):
            t0 = time.perf_counter()
            r = client.get(url, params={"limit": limit})
            samples.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"{target.name}: first page answered {r.status_code}: {r.text[:300]}")
            returned = len(orjson.loads(r.content).get("objects", []))
        cpu = cpu_between(cpu0, target.server_cpu_s())
    return {
        "requests": requests,
        "server_cpu_ms_per_request": cpu / requests * 1000 if cpu is not None else None,
        "limit": limit,
        "objects_per_page": returned,
        "p50_ms": percentile(samples, 50) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "max_ms": max(samples) * 1000,
    }


# --- mamori stores -----------------------------------------------------------------------------------
@contextmanager
def mamori_context(data_dir: Path) -> Iterator[Any]:
    from mamori.bootstrap import build_context
    from mamori.config import Settings

    settings = Settings(
        data_dir=data_dir,
        env="development",
        secret_key=SecretStr(SECRET_KEY),
        database_url=f"sqlite:///{data_dir / 'mamori.db'}",
    )
    ctx = build_context(settings)
    try:
        yield ctx
    finally:
        ctx.close()


def mamori_account(ctx: Any) -> tuple[str, str]:
    """An analyst and an API token; TAXII clients send it as the Basic password, as medallion's get theirs."""
    ctx.identity.create_user(USER, "analyst", password=PASSWORD)
    return USER, ctx.identity.issue_token(USER).secret


def new_collection(ctx: Any, title: str) -> str:
    cid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mamori-bench:{title}"))
    ctx.intel.create_collection(title, collection_id=cid, api_root=API_ROOT)
    return cid


def service_ingest(
    ctx: Any,
    objects: Sequence[dict[str, Any]],
    batch: int,
    collection_id: str,
    profile: cProfile.Profile | None = None,
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Time ``IntelService.ingest`` over the objects in batches (every object must be stored); stop after
    the batch that spends the budget."""
    added = done = 0
    cpu0 = time.process_time()
    start = time.perf_counter()
    for i in range(0, len(objects), batch):
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
        if profile is not None:
            profile.enable()
        report = ctx.intel.ingest(objects[i : i + batch], collections=[collection_id])
        if profile is not None:
            profile.disable()
        if report.problems:
            p = report.problems[0]
            raise RuntimeError(f"mamori refused object {p.index + i} ({p.object_id}): {p.reason}")
        added += report.added
        done += report.received
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    return {
        "cpu_s": cpu,
        "cpu_us_per_object": cpu / done * 1e6 if done else None,
        "objects": done,
        "added": added,
        "batch": batch,
        "seconds": elapsed,
        "objects_per_s": done / elapsed,
        "stopped_at_budget": done < len(objects),
        "objects_offered": len(objects),
    }


def bundle_import(ctx: Any, objects: Sequence[dict[str, Any]], path: Path, collection_id: str) -> dict[str, Any]:
    """Time ``IntelService.import_file`` of one STIX bundle, what ``mamori intel import`` does: JSON parsing,
    validation, rows and writing, with the worker processes it starts (their CPU is counted apart)."""
    import resource

    path.write_bytes(orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}))
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = time.process_time()
    start = time.perf_counter()
    report = ctx.intel.import_file(path, collections=[collection_id])
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    if report.problems:
        p = report.problems[0]
        raise RuntimeError(f"mamori refused object {p.index} ({p.object_id}): {p.reason}")
    return {
        "objects": report.received,
        "added": report.added,
        "bytes": path.stat().st_size,
        "chunk": ctx.intel.import_chunk,
        "workers": ctx.intel.import_workers,
        "seconds": elapsed,
        "objects_per_s": report.received / elapsed,
        "cpu_s": cpu,
        "cpu_us_per_object": cpu / report.received * 1e6,
        "workers_cpu_s": workers_cpu,
        "workers_cpu_us_per_object": workers_cpu / report.received * 1e6,
        "stopped_at_budget": False,
    }


def median_run(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate, with every run's rate beside it."""
    ordered = sorted(runs, key=lambda r: r["objects_per_s"])
    return {**ordered[(len(ordered) - 1) // 2], "runs_objects_per_s": [r["objects_per_s"] for r in runs]}


def profile_summary(profile: cProfile.Profile, top: int = 15) -> list[dict[str, Any]]:
    """The functions with the most cumulative time, as shares of the total, for the report."""
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "mamori" in filename or "sqlalchemy" in filename or func.startswith("<method"):
            short = filename.split("site-packages/")[-1].split("src/")[-1]
            rows.append(
                {
                    "function": f"{short}:{line}({func})",
                    "cumulative_s": round(ct, 3),
                    "own_s": round(tt, 3),
                    "share_cumulative": round(ct / total, 3) if total else 0.0,
                }
            )
    rows.sort(key=lambda r: -r["cumulative_s"])
    return rows[:top]


# --- the benchmarks ----------------------------------------------------------------------------------
def run_benchmarks(
    sizes: Sizes,
    workdir: Path,
    *,
    profile_ingest: bool = False,
    skip_medallion: bool = False,
    only: str | None = None,
) -> dict[str, Any]:
    if only == "requests":
        return request_rate_only(sizes, workdir, skip_medallion=skip_medallion)
    results: dict[str, Any] = {}
    log(f"generating {sizes.ingest_objects:,} STIX objects (seed {sizes.seed})")
    corpus, _plan = mixed_corpus(
        max(sizes.ingest_objects, *sizes.mamori_read_sizes, *sizes.medallion_read_sizes), sizes.seed
    )
    ingest_objs = corpus[: sizes.ingest_objects]
    bodies = envelopes(ingest_objs, sizes.envelope_objects)
    rate_objs = corpus[: sizes.rate_collection_objects]
    rate_object_id = next(o["id"] for o in reversed(rate_objs) if o["type"] == "indicator")

    # 1a. mamori imports the bundle file on SQLite, as `mamori intel import` does; the same store then serves
    # the reads.
    store_a = workdir / "mamori-a"
    log(f"mamori: import of one bundle of {len(ingest_objs):,} objects (IntelService.import_file)")
    with mamori_context(store_a) as ctx:
        auth = mamori_account(ctx)
        big = new_collection(ctx, f"ingest {len(ingest_objs)}")
        runs = [bundle_import(ctx, ingest_objs, workdir / "bundle.json", big)]
        stored = runs[0]["objects"]
        read_collections = {stored: big}
        for n in sizes.mamori_read_sizes:
            if n not in read_collections and n < stored:
                read_collections[n] = new_collection(ctx, f"read {n}")
                service_ingest(ctx, corpus[:n], sizes.envelope_objects, read_collections[n])
        rate_collection = new_collection(ctx, "request rate")
        service_ingest(ctx, rate_objs, sizes.envelope_objects, rate_collection)

    # The host is shared: the same import again into fresh stores, and the median run counts.
    for i in range(1, sizes.bundle_imports):
        log(f"mamori: bundle import, run {i + 1} of {sizes.bundle_imports}, into a fresh store")
        with mamori_context(workdir / f"mamori-a{i}") as ctx:
            runs.append(bundle_import(ctx, ingest_objs, workdir / "bundle.json", new_collection(ctx, "again")))
        shutil.rmtree(workdir / f"mamori-a{i}", ignore_errors=True)
    results["ingest_bundle"] = median_run(runs)

    # 1b. mamori, in process: IntelService.ingest called once per 1,000 objects (a TAXII envelope's worth, one
    # transaction each, no worker processes), into a fresh store.
    log(f"mamori: IntelService.ingest of {len(ingest_objs):,} objects in batches of {sizes.envelope_objects:,}")
    profile = cProfile.Profile() if profile_ingest else None
    with mamori_context(workdir / "mamori-c") as ctx:
        batches = new_collection(ctx, f"ingest {len(ingest_objs)} in batches")
        results["ingest_service"] = service_ingest(
            ctx, ingest_objs, sizes.envelope_objects, batches, profile, budget_s=sizes.mamori_ingest_budget_s
        )
    if profile is not None:
        results["ingest_service"]["profile_top"] = profile_summary(profile)

    # 2, 3 (mamori): requests per second and pagination, over TAXII.
    with mamori_server(store_a, SECRET_KEY, auth, log_path=workdir / "mamori-a.log") as server:
        target = TaxiiTarget("mamori", f"{server.url}/taxii2/{API_ROOT}/", auth, server.pid, server.log_path)
        results["request_rate"] = {"mamori": rate_suite(target, rate_collection, rate_object_id, sizes)}
        results["pagination"] = {"mamori": {}}
        for n in sorted(read_collections):
            log(f"mamori: reading a {n:,}-object collection, limit={sizes.page_limit}")
            results["pagination"]["mamori"][str(n)] = read_collection(target, read_collections[n], sizes.page_limit)

    # 1b. mamori over TAXII: the same envelopes POSTed to a fresh store.
    store_b = workdir / "mamori-b"
    with mamori_context(store_b) as ctx:
        auth_b = mamori_account(ctx)
        post_collection = new_collection(ctx, "taxii ingest")
    with mamori_server(store_b, SECRET_KEY, auth_b, log_path=workdir / "mamori-b.log") as server:
        target = TaxiiTarget("mamori", f"{server.url}/taxii2/{API_ROOT}/", auth_b, server.pid, server.log_path)
        log(f"mamori: POST {len(bodies)} envelopes of {sizes.envelope_objects:,} objects")
        results["ingest_taxii"] = {
            "mamori": post_envelopes(target, post_collection, bodies, budget_s=sizes.mamori_ingest_budget_s)
        }

    # medallion: the same envelopes, then the same reads.
    if not skip_medallion:
        medallion_suite(results, sizes, workdir, corpus, bodies, rate_objs, rate_object_id)

    # 4, 5. A large indicator store: look-ups in process, first page over TAXII.
    results["lookup"], results["first_page"] = lookup_suite(sizes, workdir)
    return results


def request_rate_only(sizes: Sizes, workdir: Path, *, skip_medallion: bool) -> dict[str, Any]:
    """Part 2 alone: mamori serves the request-rate collection from a store holding only it."""
    rate_objs, _plan = mixed_corpus(sizes.rate_collection_objects, sizes.seed)
    rate_object_id = next(o["id"] for o in reversed(rate_objs) if o["type"] == "indicator")
    store = workdir / "mamori-requests"
    with mamori_context(store) as ctx:
        auth = mamori_account(ctx)
        rate_collection = new_collection(ctx, "request rate")
        service_ingest(ctx, rate_objs, sizes.envelope_objects, rate_collection)
    results: dict[str, Any] = {}
    with mamori_server(store, SECRET_KEY, auth, log_path=workdir / "mamori-requests.log") as server:
        target = TaxiiTarget("mamori", f"{server.url}/taxii2/{API_ROOT}/", auth, server.pid, server.log_path)
        results["request_rate"] = {"mamori": rate_suite(target, rate_collection, rate_object_id, sizes)}
    if not skip_medallion:
        rate_cid = str(uuid.uuid5(uuid.NAMESPACE_URL, "medallion-bench:rate"))
        users = {USER: PASSWORD}
        with medallion_read_server(sizes, workdir, "rate", rate_cid, rate_objs, users, "2026-11-01T00:00:00.000Z") \
                as medallion:
            results["request_rate"]["medallion"] = rate_suite(medallion, rate_cid, rate_object_id, sizes)
    return results


def print_request_rates(results: dict[str, Any]) -> None:
    rates = results["request_rate"]
    for kind, m in rates["mamori"].items():
        line = f"{kind}: mamori {m['requests_per_s']:,.0f} req/s, {m['server_cpu_ms_per_request'] or 0:.2f} ms CPU/req"
        if "medallion" in rates:
            md = rates["medallion"][kind]
            line += (f"; medallion {md['requests_per_s']:,.0f} req/s, {md['server_cpu_ms_per_request'] or 0:.2f} ms"
                     f" CPU/req; ratio {m['requests_per_s'] / md['requests_per_s']:.1f}x")
        print(line)


def rate_suite(target: TaxiiTarget, collection_id: str, object_id: str, sizes: Sizes) -> dict[str, Any]:
    out = {}
    for name, url in (
        ("get_object", f"{target.objects_url(collection_id)}{object_id}/"),
        ("get_objects_limit_1", f"{target.objects_url(collection_id)}?limit=1"),
    ):
        log(f"{target.name}: {sizes.rate_clients} clients x {sizes.rate_requests_per_client:,} {name} requests")
        out[name] = request_rate(
            target, url, sizes.rate_clients, sizes.rate_requests_per_client, budget_s=sizes.rate_budget_s
        )
    return out


def medallion_suite(
    results: dict[str, Any],
    sizes: Sizes,
    workdir: Path,
    corpus: list[dict[str, Any]],
    bodies: list[tuple[int, bytes]],
    rate_objs: list[dict[str, Any]],
    rate_object_id: str,
) -> None:
    users = {USER: PASSWORD}
    auth = (USER, PASSWORD)
    now = "2026-11-01T00:00:00.000Z"
    ingest_cid = str(uuid.uuid5(uuid.NAMESPACE_URL, "medallion-bench:ingest"))
    config = medallion_config(
        [medallion_collection(ingest_cid, "ingest", [], now)],
        workdir / "medallion-ingest-data.json",
        users,
        sizes.page_limit,
    )
    with medallion_server(
        config, workdir / "medallion-ingest.json", auth, log_path=workdir / "medallion-ingest.log"
    ) as server:
        target = TaxiiTarget("medallion", f"{server.url}/{MEDALLION_API_ROOT}/", auth, server.pid, server.log_path)
        log(
            f"medallion: POST envelopes of {sizes.envelope_objects:,} objects for at most "
            f"{sizes.medallion_ingest_budget_s:.0f} s"
        )
        results["ingest_taxii"]["medallion"] = post_envelopes(
            target, ingest_cid, bodies, budget_s=sizes.medallion_ingest_budget_s
        )

    # medallion copies every collection of the API root several times per request (memory backend
    # get_collection), so each read benchmark gets a server holding only its own collection: medallion's
    # best case, while mamori serves all its collections from one store.
    rate_cid = str(uuid.uuid5(uuid.NAMESPACE_URL, "medallion-bench:rate"))
    with medallion_read_server(sizes, workdir, "rate", rate_cid, rate_objs, users, now) as target:
        results["request_rate"]["medallion"] = rate_suite(target, rate_cid, rate_object_id, sizes)
    results["pagination"]["medallion"] = {}
    for n in sorted(set(sizes.medallion_read_sizes)):
        cid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"medallion-bench:read {n}"))
        with medallion_read_server(sizes, workdir, f"read-{n}", cid, corpus[:n], users, now) as target:
            log(
                f"medallion: reading a {n:,}-object collection, limit={sizes.page_limit} "
                f"(at most {sizes.medallion_read_timeout_s:.0f} s)"
            )
            res = read_collection(target, cid, sizes.page_limit, timeout_s=sizes.medallion_read_timeout_s)
        results["pagination"]["medallion"][str(n)] = res
        if not res["completed"]:
            break


@contextmanager
def medallion_read_server(
    sizes: Sizes,
    workdir: Path,
    name: str,
    collection_id: str,
    objects: Sequence[dict[str, Any]],
    users: dict[str, str],
    now: str,
) -> Iterator[TaxiiTarget]:
    """medallion serving one collection, loaded from a data file; stopped (even mid-request) on exit."""
    config = medallion_config(
        [medallion_collection(collection_id, name, objects, now)],
        workdir / f"medallion-{name}-data.json",
        users,
        sizes.page_limit,
    )
    auth = (USER, users[USER])
    with medallion_server(
        config, workdir / f"medallion-{name}.json", auth, log_path=workdir / f"medallion-{name}.log"
    ) as server:
        yield TaxiiTarget("medallion", f"{server.url}/{MEDALLION_API_ROOT}/", auth, server.pid, server.log_path)


def lookup_suite(sizes: Sizes, workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    n = sizes.lookup_store_indicators
    store_c = workdir / "mamori-c"
    gen = CorpusGenerator(sizes.seed + 100)
    with mamori_context(store_c) as ctx:
        auth = mamori_account(ctx)
        cid = new_collection(ctx, f"indicators {n}")
        log(f"mamori: building a {n:,}-indicator store in batches of {sizes.lookup_batch:,}")
        added = 0
        ingest_seconds = ingest_cpu = 0.0
        stream = gen.indicators(n)
        while added < n and ingest_seconds <= sizes.lookup_build_budget_s:
            batch = [next(stream) for _ in range(min(sizes.lookup_batch, n - added))]
            t0, c0 = time.perf_counter(), time.process_time()
            report = ctx.intel.ingest(batch, collections=[cid])
            ingest_seconds += time.perf_counter() - t0
            ingest_cpu += time.process_time() - c0
            if report.problems:
                raise RuntimeError(f"mamori refused an indicator: {report.problems[0].reason}")
            added += len(batch)
            if added % (10 * sizes.lookup_batch) == 0:
                log(f"  {added:,} indicators, {added / ingest_seconds:,.0f}/s")
        build = {
            "indicators": added,
            "indicators_planned": n,
            "batch": sizes.lookup_batch,
            "seconds": ingest_seconds,
            "objects_per_s": added / ingest_seconds,
            "cpu_s": ingest_cpu,
            "cpu_us_per_object": ingest_cpu / added * 1e6,
            "stopped_at_budget": added < n,
        }
        if added < n:
            log(f"mamori: store build budget of {sizes.lookup_build_budget_s:.0f} s spent at {added:,} indicators")
        clearance = ctx.intel.full_clearance()
        plan = lookup_values(gen.plan, sizes.lookups, seed=sizes.seed)
        for _expected, value in plan[:50]:  # warm the page cache and statement cache
            ctx.intel.lookup(value, clearance)
        samples: dict[str, list[float]] = {"hit": [], "miss": []}
        cpu_samples: list[float] = []
        wrong = []
        for expected, value in plan:
            t0, c0 = time.perf_counter(), time.thread_time()
            hits = ctx.intel.lookup(value, clearance)
            cpu_samples.append(time.thread_time() - c0)
            samples[expected].append(time.perf_counter() - t0)
            if (expected == "hit") != bool(hits):
                wrong.append(value)
        every = samples["hit"] + samples["miss"]
        lookup = {
            "store": build,
            "lookups": len(every),
            "hits": len(samples["hit"]),
            "misses": len(samples["miss"]),
            "wrong_answers": len(wrong),
            "wrong_examples": wrong[:5],
            "p50_ms": percentile(every, 50) * 1000,
            "p99_ms": percentile(every, 99) * 1000,
            "hit_p99_ms": percentile(samples["hit"], 99) * 1000,
            "miss_p99_ms": percentile(samples["miss"], 99) * 1000,
            "mean_ms": statistics.fmean(every) * 1000,
            "cpu_p50_ms": percentile(cpu_samples, 50) * 1000,
            "cpu_p99_ms": percentile(cpu_samples, 99) * 1000,
        }
    with mamori_server(store_c, SECRET_KEY, auth, log_path=workdir / "mamori-c.log") as server:
        target = TaxiiTarget("mamori", f"{server.url}/taxii2/{API_ROOT}/", auth, server.pid, server.log_path)
        log(f"mamori: first page of the {added:,}-object collection, {sizes.first_page_requests} requests")
        first = first_page_latency(target, cid, sizes.first_page_limit, sizes.first_page_requests)
        first["collection_objects"] = added
    return lookup, first


# --- report ------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "versions": {
            name: installed(name) for name in ("medallion", "fastapi", "uvicorn", "sqlalchemy", "werkzeug", "httpx")
        },
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def goal_checks(results: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    ing = results["ingest_bundle"]["objects_per_s"]
    checks["ingest_bundle_objects_per_s"] = {
        "goal": GOALS["ingest_bundle_objects_per_s"],
        "value": ing,
        "met": ing >= GOALS["ingest_bundle_objects_per_s"],
    }
    rates = results["request_rate"]
    if "medallion" in rates:
        for kind in rates["mamori"]:
            ratio = rates["mamori"][kind]["requests_per_s"] / rates["medallion"][kind]["requests_per_s"]
            checks[f"request_rate_ratio_{kind}"] = {
                "goal": GOALS["request_rate_ratio_vs_medallion"],
                "value": ratio,
                "met": ratio >= GOALS["request_rate_ratio_vs_medallion"],
            }
    slowest = min(r["objects_per_s"] for r in results["pagination"]["mamori"].values())
    checks["pagination_objects_per_s"] = {
        "goal": GOALS["pagination_objects_per_s"],
        "value": slowest,
        "met": slowest >= GOALS["pagination_objects_per_s"],
    }
    p99 = results["lookup"]["p99_ms"]
    checks["lookup_p99_ms"] = {
        "goal": GOALS["lookup_p99_ms"],
        "value": p99,
        "met": p99 < GOALS["lookup_p99_ms"],
        "store": results["lookup"]["store"]["indicators"],
    }
    fp = results["first_page"]["p99_ms"]
    checks["first_page_p99_ms"] = {
        "goal": GOALS["first_page_p99_ms"],
        "value": fp,
        "met": fp < GOALS["first_page_p99_ms"],
        "collection": results["first_page"]["collection_objects"],
    }
    return checks


def print_table(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    r = doc["results"]
    med = "medallion" in r["request_rate"]
    table = Table(
        title=f"mamori vs medallion {doc['machine']['versions']['medallion']} — threat intelligence "
        f"({doc['machine']['cpu_count']} CPUs, Python {doc['machine']['python']})"
    )
    table.add_column("benchmark")
    table.add_column("mamori", justify="right")
    table.add_column("medallion", justify="right")
    table.add_column("mamori / medallion", justify="right")

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:,.1f}x" if a and b else "—"

    def cpu_cell(value: float | None, digits: int = 0) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    def ingest_cell(d: dict[str, Any] | None, count_key: str) -> str:
        if not d:
            return "—"
        cell = f"{d['objects_per_s']:,.0f}"
        if d["stopped_at_budget"]:
            cell += f" (budget spent at {d[count_key]:,} after {d['seconds']:.0f} s)"
        return cell

    n = doc["sizes"]["ingest_objects"]
    mb = r["ingest_bundle"]
    bundle_cell = ingest_cell(mb, "objects")
    if len(mb.get("runs_objects_per_s", ())) > 1:
        bundle_cell += f" (median of {' / '.join(f'{x:,.0f}' for x in mb['runs_objects_per_s'])})"
    table.add_row(f"import one {n:,}-object bundle file, IntelService.import_file (obj/s)", bundle_cell, "—", "—")
    ms = r["ingest_service"]
    table.add_row(
        f"ingest {n:,} objects, IntelService, batches of {ms['batch']:,} (obj/s)", ingest_cell(ms, "objects"), "—", "—"
    )
    mt = r["ingest_taxii"]["mamori"]
    dt = r["ingest_taxii"].get("medallion")
    table.add_row(
        f"ingest {n:,} over TAXII, envelopes of {doc['sizes']['envelope_objects']:,} (obj/s)",
        ingest_cell(mt, "objects_sent"),
        ingest_cell(dt, "objects_sent"),
        ratio(mt["objects_per_s"], dt and dt["objects_per_s"]),
    )
    table.add_row(
        "  same, server CPU per object (µs)",
        cpu_cell(mt.get("server_cpu_us_per_object")),
        cpu_cell(dt and dt.get("server_cpu_us_per_object")),
        ratio(dt and dt.get("server_cpu_us_per_object"), mt.get("server_cpu_us_per_object")),
    )
    for kind, label in (("get_object", "GET one object"), ("get_objects_limit_1", "GET objects?limit=1")):
        m = r["request_rate"]["mamori"][kind]
        d = r["request_rate"]["medallion"][kind] if med else None
        def rate_cell(x: dict[str, Any]) -> str:
            failed = x.get("failed_requests") or 0
            return f"{x['requests_per_s']:,.0f}" + (f" ({failed} failed)" if failed else "")

        table.add_row(
            f"{label}, {m['clients']} clients (req/s)",
            rate_cell(m),
            rate_cell(d) if d else "—",
            ratio(m["requests_per_s"], d and d["requests_per_s"]),
        )
        table.add_row(
            "  same, server CPU per request (ms)",
            cpu_cell(m.get("server_cpu_ms_per_request"), 2),
            cpu_cell(d and d.get("server_cpu_ms_per_request"), 2),
            ratio(d and d.get("server_cpu_ms_per_request"), m.get("server_cpu_ms_per_request")),
        )
    sizes = sorted({int(k) for side in r["pagination"].values() for k in side})
    for size in sizes:
        m = r["pagination"]["mamori"].get(str(size))
        d = r["pagination"].get("medallion", {}).get(str(size))
        dcell = "—"
        if d:
            dcell = f"{d['objects_per_s']:,.0f}" if d["completed"] else f"timed out after {d['seconds']:.0f} s"
        table.add_row(
            f"read {size:,}-object collection, limit={doc['sizes']['page_limit']} (obj/s)",
            f"{m['objects_per_s']:,.0f}" if m else "—",
            dcell,
            ratio(m and m["objects_per_s"], d and d["completed"] and d["objects_per_s"]),
        )
        table.add_row(
            "  same, server CPU per object (µs)",
            cpu_cell(m and m.get("server_cpu_us_per_object")),
            cpu_cell(d and d.get("server_cpu_us_per_object")),
            ratio(d and d.get("server_cpu_us_per_object"), m and m.get("server_cpu_us_per_object")),
        )
    lk = r["lookup"]
    table.add_row(
        f"build {lk['store']['indicators_planned']:,}-indicator store, batches of {lk['store']['batch']:,} (obj/s)",
        ingest_cell(lk["store"], "indicators"),
        "—",
        "—",
    )
    table.add_row(
        f"{lk['lookups']:,} look-ups in {lk['store']['indicators']:,}, p50 / p99 (ms; {lk['wrong_answers']} wrong)",
        f"{lk['p50_ms']:.2f} / {lk['p99_ms']:.2f}",
        "—",
        "—",
    )
    fp = r["first_page"]
    table.add_row(
        f"first page (limit={fp['limit']}) of {fp['collection_objects']:,}, p50 / p99 (ms)",
        f"{fp['p50_ms']:.1f} / {fp['p99_ms']:.1f}",
        "—",
        "—",
    )
    console = Console(width=None if sys.stdout.isatty() else 150)
    console.print(table)
    for name, check in doc["goals"].items():
        mark = "[green]met[/green]" if check["met"] else "[red]missed[/red]"
        console.print(f"goal {name}: {check['value']:,.2f} vs {check['goal']:,} — {mark}")


def run(
    sizes: Sizes,
    out: Path | None,
    *,
    mode: str,
    profile_ingest: bool = False,
    skip_medallion: bool = False,
    keep_workdir: bool = False,
    only: str | None = None,
) -> dict[str, Any]:
    """Run every benchmark and return (and write, if ``out``) the results document."""
    started = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-intel-"))
    try:
        info = machine()
        t0 = time.perf_counter()
        results = run_benchmarks(
            sizes, workdir, profile_ingest=profile_ingest, skip_medallion=skip_medallion, only=only
        )
        doc = {
            "benchmark": "intel",
            "mode": mode,
            "date": started.isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - t0, 1),
            "machine": info,
            "sizes": asdict(sizes),
            "results": results,
        }
        doc["goals"] = goal_checks(results) if only is None else {}
    finally:
        if keep_workdir:
            log(f"work files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="small sizes, under a minute (smoke check)")
    scale.add_argument("--full-scale", action="store_true", help="look-ups and first page at 1,000,000 indicators")
    parser.add_argument("--out", type=Path, default=None, help=f"results JSON (default {DEFAULT_OUT})")
    parser.add_argument("--profile-ingest", action="store_true", help="cProfile IntelService.ingest")
    parser.add_argument("--skip-medallion", action="store_true", help="mamori only")
    parser.add_argument("--keep-workdir", action="store_true", help="keep stores and server logs")
    parser.add_argument("--only", choices=["requests"], default=None, help="run part 2 (requests per second) alone")
    args = parser.parse_args(argv)
    sizes, mode = (QUICK, "quick") if args.quick else (FULL_SCALE, "full-scale") if args.full_scale else (FULL, "full")
    out = args.out or (DEFAULT_OUT.with_name("intel-quick.json") if args.quick else DEFAULT_OUT)
    if args.only and not args.out:
        out = out.with_name(f"{out.stem}-{args.only}.json")
    doc = run(
        sizes,
        out,
        mode=mode,
        profile_ingest=args.profile_ingest,
        skip_medallion=args.skip_medallion,
        keep_workdir=args.keep_workdir,
        only=args.only,
    )
    if args.only == "requests":
        print_request_rates(doc["results"])
    else:
        print_table(doc)
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

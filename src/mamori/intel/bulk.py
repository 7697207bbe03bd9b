"""Large imports in chunks: validation and row building (``prepare_objects``, pure CPU) run in worker processes
while this process writes the chunks in order, one transaction each.

Chunks travel to the workers as JSON (orjson writes and reads it faster than pickle handles nested dicts) and
come back as rows. Writing in input order keeps the meaning of one call: the first of two different objects with
the same id and version wins, later ones are reported, and a second import adds nothing. Marking definitions
anywhere in the input count for every chunk, as they would in one batch.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import orjson

from mamori.errors import InvalidInput
from mamori.intel.model import Clearance, IngestReport
from mamori.intel.prepare import Prepared, prepare_objects
from mamori.intel.validate import validate_object

if TYPE_CHECKING:
    from mamori.intel.service import IntelService

DEFAULT_CHUNK = 5000
# Below this many objects a worker's start-up costs more than it saves.
PARALLEL_FROM = 20_000

Progress = Callable[[int, int], None]  # (objects done, objects in all)


def default_workers() -> int:
    """One preparing process per core beyond the writer's, and at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores - 1))


def _prepare_json(payload: bytes, offset: int, fallback_version: str,
                  markings: Mapping[str, dict[str, Any]]) -> Prepared:
    """Worker side: one chunk as JSON → rows and problems."""
    return prepare_objects(orjson.loads(payload), fallback_version=fallback_version, offset=offset,
                           known_markings=markings)


def _input_markings(objects: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Valid marking definitions anywhere in the input, by id."""
    found: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if isinstance(obj, dict) and obj.get("type") == "marking-definition":
            try:
                validate_object(obj)
            except InvalidInput:
                continue
            found[str(obj["id"])] = obj
    return found


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Bulk work allocates many small acyclic objects: the cyclic collector only slows it down."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def ingest_in_chunks(
    service: IntelService,
    objects: Sequence[Any],
    *,
    collections: Sequence[str] = (),
    clearance: Clearance | None = None,
    chunk: int = DEFAULT_CHUNK,
    workers: int | None = None,
    progress: Progress | None = None,
    parallel_from: int | None = None,
) -> IngestReport:
    """Ingest ``objects`` chunk by chunk (``workers``: preparing processes, used from ``parallel_from``
    objects on, default ``PARALLEL_FROM``; 0 prepares in this process)."""
    if chunk < 1:
        raise InvalidInput(f"chunk size must be positive, got {chunk}", where="chunk")
    total = len(objects)
    starts = list(range(0, total, chunk)) or [0]
    markings = _input_markings(objects)
    now = service.now_text()
    n_workers = default_workers() if workers is None else workers
    if total < (PARALLEL_FROM if parallel_from is None else parallel_from):
        n_workers = 0
    reports: list[IngestReport] = []

    def store(start: int, prepared: Prepared) -> None:
        rows, problems = prepared
        size = min(chunk, total - start)
        reports.append(service.store_prepared(rows, problems, received=size, collections=collections,
                                              clearance=clearance, offset=start, now=now))
        if progress is not None:
            progress(start + size, total)

    service.check_write_access(collections, clearance)
    with _collector_paused():
        if n_workers == 0:
            for start in starts:
                part = objects[start:start + chunk]
                store(start, prepare_objects(part, fallback_version=now, offset=start, known_markings=markings))
        else:
            payloads: Iterator[tuple[int, bytes]] = (
                (start, orjson.dumps(list(objects[start:start + chunk]))) for start in starts
            )
            # spawn: safe in a process that runs threads (a server), and a worker starts in well under a second
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=gc.disable) as pool:
                pending: deque[tuple[int, Future[Prepared]]] = deque()
                for start, payload in payloads:
                    pending.append((start, pool.submit(_prepare_json, payload, start, now, markings)))
                    if len(pending) > n_workers + 1:
                        store(*_result(pending.popleft()))
                while pending:
                    store(*_result(pending.popleft()))
    return _merge(reports, total)


def _result(item: tuple[int, Future[Prepared]]) -> tuple[int, Prepared]:
    start, future = item
    return start, future.result()


def _merge(reports: Sequence[IngestReport], received: int) -> IngestReport:
    return IngestReport(
        received=received,
        added=sum(r.added for r in reports),
        duplicates=sum(r.duplicates for r in reports),
        problems=tuple(p for r in reports for p in r.problems),
        added_ids=tuple(i for r in reports for i in r.added_ids),
    )

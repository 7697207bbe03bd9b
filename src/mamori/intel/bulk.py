"""Large imports in chunks: validation and row building (``prepare_objects``, pure CPU) run in worker processes
while this process writes the chunks in order, one transaction each.

Forked workers (the command line) read their chunks from the input they inherit; spawned ones (a server) are sent
them as JSON, which orjson writes and reads faster than pickle handles nested dicts. Rows come back marshalled,
through files in a spool directory (see ``_pack``). Writing in input order keeps the meaning of one call: the
first of two different objects with the same id and version wins, later ones are reported, and a second import
adds nothing. Marking definitions anywhere in the input count for every chunk, as they would in one batch.
"""

from __future__ import annotations

import gc
import logging
import marshal
import multiprocessing
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import orjson

from mamori.errors import InvalidInput
from mamori.intel.model import Clearance, IngestReport, ObjectRow, Problem
from mamori.intel.prepare import Prepared, prepare_objects
from mamori.intel.validate import validate_object

if TYPE_CHECKING:
    from mamori.intel.service import IntelService

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 2000
DEFAULT_TRANSACTION = 10_000
# Below this many objects a worker's start-up costs more than it saves.
PARALLEL_FROM = 20_000

Progress = Callable[[int, int], None]  # (objects done, objects in all)


def default_workers() -> int:
    """One preparing process per core beyond the writer's, and at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores - 1))


# The input of the import under way, for workers forked from this process: they inherit it as it was at the fork
# (copy-on-write), so a chunk travels to them as two numbers rather than as JSON.
_inherited: Sequence[Any] | None = None


def _prepare_json(spool: str, payload: bytes, offset: int, fallback_version: str,
                  markings: Mapping[str, dict[str, Any]]) -> str:
    """Worker side: one chunk as JSON → rows and problems, packed into a file of ``spool`` (see ``_unpack``)."""
    return _pack(spool, offset, prepare_objects(orjson.loads(payload), fallback_version=fallback_version,
                                                offset=offset, known_markings=markings))


def _prepare_inherited(spool: str, start: int, end: int, fallback_version: str,
                       markings: Mapping[str, dict[str, Any]]) -> str:
    """Worker side, forked: objects ``start:end`` of the inherited input → rows and problems, packed."""
    if _inherited is None:
        raise RuntimeError("this worker was not forked from an import")
    return _pack(spool, start, prepare_objects(_inherited[start:end], fallback_version=fallback_version,
                                               offset=start, known_markings=markings))


def _pack(spool: str, offset: int, prepared: Prepared) -> str:
    """Rows are tuples of str, int and None: marshal writes and reads them faster than pickle handles named
    tuples. They go through a file rather than the pool's pipe: a busy writer would otherwise keep the worker
    waiting until it reads the pipe (64 KiB at a time, each read needing the interpreter lock)."""
    rows, problems = prepared
    packed = marshal.dumps(([(i, tuple(r)) for i, r in rows], [(p.index, p.object_id, p.reason) for p in problems]))
    path = os.path.join(spool, f"chunk-{offset}")
    with open(path, "wb") as f:
        f.write(packed)
    return path


def _unpack(path: str) -> Prepared:
    with open(path, "rb") as f:
        packed = f.read()
    os.unlink(path)
    rows, problems = marshal.loads(packed)  # noqa: S302 - written by our own worker process, never from input
    return [(i, _as_row(r)) for i, r in rows], [Problem(*p) for p in problems]


def _as_row(fields: tuple[Any, ...]) -> ObjectRow:
    return tuple.__new__(ObjectRow, fields)


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


def _spool_parent() -> str | None:
    """Prepared chunks pass through memory where the system offers a RAM file system."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None  # noqa: S108


def _start_method() -> multiprocessing.context.BaseContext:
    """fork when this process runs no other thread (the command line): a worker is ready at once and imports
    nothing; spawn otherwise (a server), where forking could copy a lock another thread holds."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@contextmanager
def collector_paused() -> Iterator[None]:
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
    transaction: int = DEFAULT_TRANSACTION,
) -> IngestReport:
    """Ingest ``objects`` chunk by chunk (``workers``: preparing processes, used from ``parallel_from``
    objects on, default ``PARALLEL_FROM``; 0 prepares in this process), writing about ``transaction`` objects
    in each transaction."""
    if chunk < 1:
        raise InvalidInput(f"chunk size must be positive, got {chunk}", where="chunk")
    total = len(objects)
    n_workers = default_workers() if workers is None else workers
    if total < (PARALLEL_FROM if parallel_from is None else parallel_from):
        n_workers = 0
    service.check_write_access(collections, clearance)
    plan = _Plan(service, objects, chunk, collections, clearance, progress)
    global _inherited
    with collector_paused():
        if n_workers:
            context = _start_method()
            plan.inherit = context.get_start_method() == "fork"
            if plan.inherit:
                _inherited = objects  # the workers are forked at the first submit, after this
            try:
                with (tempfile.TemporaryDirectory(prefix="mamori-import-", dir=_spool_parent()) as spool,
                      ProcessPoolExecutor(max_workers=n_workers, mp_context=context, initializer=gc.disable) as pool):
                    plan.spool = spool
                    plan.run(pool, n_workers, transaction)
            except BrokenProcessPool as e:
                # A worker could not start or died (a script without a ``__main__`` guard, memory): what is not
                # written yet is prepared here instead. Nothing was lost: chunks are written only whole, in order.
                log.warning("import workers stopped (%s); preparing the rest in this process", e)
            finally:
                _inherited = None
        per_write = max(1, transaction // chunk)
        for k in range(plan.written, len(plan.starts), per_write):
            plan.write([(j, plan.prepare_here(j)) for j in range(k, min(k + per_write, len(plan.starts)))])
    service.db.settle()  # the import is done when its log is back in the database file
    return _merge(plan.reports, total)


class _Plan:
    """Chunks of one input, who prepares which, and writing them in order."""

    def __init__(self, service: IntelService, objects: Sequence[Any], chunk: int, collections: Sequence[str],
                 clearance: Clearance | None, progress: Progress | None) -> None:
        self.service, self.objects, self.chunk = service, objects, chunk
        self.collections, self.clearance, self.progress = collections, clearance, progress
        self.starts = list(range(0, len(objects), chunk)) or [0]
        self.markings = _input_markings(objects)
        self.now = service.now_text()
        self.reports: list[IngestReport] = []
        self.written = 0  # chunks written so far
        self.inherit = False  # whether the workers were forked with the input (else chunks travel as JSON)
        self.spool = ""  # where workers leave prepared chunks

    def _part(self, k: int) -> Sequence[Any]:
        return self.objects[self.starts[k]:self.starts[k] + self.chunk]

    def prepare_here(self, k: int) -> Prepared:
        return prepare_objects(self._part(k), fallback_version=self.now, offset=self.starts[k],
                               known_markings=self.markings)

    def submit(self, pool: ProcessPoolExecutor, k: int) -> Future[str]:
        start = self.starts[k]
        if self.inherit:
            return pool.submit(_prepare_inherited, self.spool, start, min(start + self.chunk, len(self.objects)),
                               self.now, self.markings)
        return pool.submit(_prepare_json, self.spool, orjson.dumps(list(self._part(k))), start, self.now,
                           self.markings)

    def write(self, done: Sequence[tuple[int, Prepared]]) -> None:
        """Prepared chunks, consecutive and in order, in one transaction."""
        rows = [(self.starts[k] + i, row) for k, (part_rows, _p) in done for i, row in part_rows]
        problems = [p for _k, (_r, part_problems) in done for p in part_problems]
        end = min(len(self.objects), self.starts[done[-1][0]] + self.chunk)
        self.reports.append(self.service.store_prepared(
            rows, problems, received=end - self.starts[done[0][0]], collections=self.collections,
            clearance=self.clearance, now=self.now))
        self.written = done[-1][0] + 1
        self.service.db.checkpoint_soon()
        if self.progress is not None:
            self.progress(end, len(self.objects))

    def run(self, pool: ProcessPoolExecutor, workers: int, transaction: int) -> None:
        """Keep the workers busy and write ``transaction`` objects at a time, in order (fewer, larger
        transactions write each index page fewer times); prepare a later chunk here rather than wait."""
        n = len(self.starts)
        per_write = max(1, transaction // self.chunk)
        ahead = workers + 2 * per_write  # chunks out at the workers, so they stay busy while this process writes
        futures: dict[int, Future[str]] = {}
        ready: dict[int, Prepared] = {}
        submitted = written = 0
        while written < n:
            while submitted < n and len(futures) < ahead:
                futures[submitted] = self.submit(pool, submitted)
                submitted += 1
            for k in [k for k, f in futures.items() if f.done()]:
                ready[k] = _unpack(futures.pop(k).result())
            run = 0
            while written + run in ready:
                run += 1
            want = min(per_write if written else 1, n - written)  # start writing as soon as there is something
            if run >= want:
                self.write([(k, ready.pop(k)) for k in range(written, written + want)])
            elif submitted < n and written == 0:  # nothing written yet: prepare a later chunk here meanwhile
                ready[submitted] = self.prepare_here(submitted)
                submitted += 1
            else:
                ready[written + run] = _unpack(futures.pop(written + run).result())
            written = self.written


def _merge(reports: Sequence[IngestReport], received: int) -> IngestReport:
    return IngestReport(
        received=received,
        added=sum(r.added for r in reports),
        duplicates=sum(r.duplicates for r in reports),
        problems=tuple(p for r in reports for p in r.problems),
        added_ids=tuple(i for r in reports for i in r.added_ids),
    )

"""Large inputs in chunks (``IntelService.ingest_many``): the same outcome as one batch, whether the chunks are
prepared in this process or in worker processes."""

from __future__ import annotations

import gc
import json
import multiprocessing
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import make_settings
from tests.stixgen import TS, indicator, malware, relationship, sid

from mamori.bootstrap import Context, build_context
from mamori.errors import InvalidInput
from mamori.intel import bulk
from mamori.intel.bulk import ingest_in_chunks
from mamori.intel.model import TLP_GREEN, TLP_RED, Clearance, IngestReport, SearchQuery

FULL = Clearance(max_tlp=TLP_RED, unmarked_as=TLP_RED)
# unmarked objects visible: an object whose marking went unrecognised would show
GREEN = Clearance(max_tlp=TLP_GREEN, unmarked_as=TLP_GREEN)
LATER = "2026-10-02T00:00:00.000Z"


def _custom_red_marking() -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": sid("marking-definition", 77),
            "created": TS, "name": "TLP:RED", "definition_type": "statement",
            "definition": {"statement": "Partner X, for named recipients only"}}


def _mixed_input() -> list[dict[str, Any]]:
    """Valid and invalid objects, duplicates and new versions spread over several chunks of 3."""
    red = _custom_red_marking()
    secret = malware(50, "secret family", tlp=None) | {"object_marking_refs": [red["id"]]}
    objects: list[dict[str, Any]] = [red]
    objects += [indicator(i, f"198.51.100.{i}") for i in range(1, 8)]
    objects += [{"type": "indicator", "id": "not-an-id"}]  # invalid
    objects += [indicator(3, "198.51.100.3")]  # the same object again: a duplicate
    objects += [indicator(4, "198.51.100.99")]  # same id and version, other content: refused
    objects += [indicator(5, "198.51.100.55", modified=LATER)]  # a later version
    objects += [secret, relationship(60, sid("indicator", 1), secret["id"])]  # marked by a chunk far away
    return objects


def _outcome(ctx: Context, report: IngestReport) -> tuple[Any, ...]:
    problems = [(p.index, p.object_id, p.reason) for p in report.problems]
    seen_green = sorted(s.stix_id for s in ctx.intel.search(GREEN, SearchQuery(limit=500)).items)
    latest_5 = ctx.intel.get(sid("indicator", 5), FULL).raw["pattern"]
    versions_5 = len(ctx.intel.versions(sid("indicator", 5), FULL))
    return report.received, report.added, report.duplicates, problems, seen_green, latest_5, versions_5


@pytest.mark.parametrize(("workers", "start"), [(0, None), (1, "fork"), (1, "spawn")])
def test_chunks_give_the_outcome_of_one_batch(any_ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              workers: int, start: str | None) -> None:
    """Forked workers read their chunks from the input they inherit; spawned ones (a server) get them as JSON."""
    if start is not None:
        monkeypatch.setattr("mamori.intel.bulk._start_method", lambda: multiprocessing.get_context(start))
    reference = build_context(make_settings(tmp_path / "one-batch"))
    try:
        expected = _outcome(reference, reference.intel.ingest(_mixed_input()))
    finally:
        reference.db.dispose()
    report = ingest_in_chunks(any_ctx.intel, _mixed_input(), chunk=3, workers=workers, parallel_from=0)
    assert _outcome(any_ctx, report) == expected
    # the problems name their place in the whole input, not in a chunk
    assert [p.index for p in report.problems] == [8, 10]
    # the custom TLP:RED marking of the first chunk hides the malware of the last one, and the link to it
    assert sid("malware", 50) not in expected[4] and sid("relationship", 60) not in expected[4]
    again = ingest_in_chunks(any_ctx.intel, _mixed_input(), chunk=3, workers=workers, parallel_from=0)
    assert again.added == 0


def test_progress_is_reported_after_each_transaction(any_ctx: Context) -> None:
    objects = [indicator(i, f"198.51.100.{i}") for i in range(1, 8)]
    col = any_ctx.intel.create_collection("bulk")["id"]
    for transaction, expected in ((3, [(3, 7), (6, 7), (7, 7)]), (6, [(6, 7), (7, 7)])):
        seen: list[tuple[int, int]] = []
        ingest_in_chunks(any_ctx.intel, objects, collections=[col], chunk=3, workers=0, transaction=transaction,
                         progress=lambda done, total: seen.append((done, total)))  # noqa: B023 - used at once
        assert seen == expected
    assert any_ctx.intel.count() == 7


def test_a_chunk_size_below_one_is_refused(any_ctx: Context) -> None:
    with pytest.raises(InvalidInput, match="chunk size"):
        ingest_in_chunks(any_ctx.intel, [indicator(1)], chunk=0)


def test_import_file_uses_worker_processes_for_large_bundles(any_ctx: Context, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    objects = [indicator(i, f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}") for i in range(1, 301)]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "id": sid("bundle", 1), "objects": objects}))
    any_ctx.intel.import_chunk, any_ctx.intel.import_workers = 64, 2
    monkeypatch.setattr("mamori.intel.bulk.PARALLEL_FROM", 100)
    spool = Path(bulk._spool_parent() or tempfile.gettempdir())
    before = set(spool.glob("mamori-import-*"))
    assert gc.isenabled()
    report = any_ctx.intel.import_file(path)
    assert (report.received, report.added, report.invalid) == (300, 300, 0)
    assert any_ctx.intel.lookup("10.0.1.44", FULL)
    assert gc.isenabled()  # paused for the import only
    assert set(spool.glob("mamori-import-*")) == before  # the workers' prepared chunks are gone
    # its log checkpointed, the import leaves no thread behind: the next one may fork its workers
    assert not any(t.name == "mamori-sqlite-checkpoint" for t in threading.enumerate())


def test_a_failed_import_turns_the_cycle_collector_back_on(any_ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "bundle", "objects": [')
    with pytest.raises(InvalidInput, match="malformed JSON"):
        any_ctx.intel.import_file(path)
    assert gc.isenabled()


def test_import_chunking_is_configured_by_settings(tmp_path: Path) -> None:
    from pydantic import ValidationError

    ctx = build_context(make_settings(tmp_path, intel_import_chunk=3, intel_import_workers=0))
    try:
        assert (ctx.intel.import_chunk, ctx.intel.import_workers) == (3, 0)
    finally:
        ctx.db.dispose()
    with pytest.raises(ValidationError, match="intel_import_chunk"):
        make_settings(tmp_path, intel_import_chunk=0)


def test_a_worker_that_dies_leaves_the_rest_to_this_process(any_ctx: Context, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    import os

    monkeypatch.setattr(bulk._Plan, "submit", lambda self, pool, k: pool.submit(os._exit, 1))
    report = ingest_in_chunks(any_ctx.intel, _mixed_input(), chunk=3, workers=1, parallel_from=0)
    # a marking, seven indicators, a later version, the malware and the relationship
    assert (report.received, report.added, [p.index for p in report.problems]) == (14, 11, [8, 10])
    assert "import workers stopped" in caplog.text

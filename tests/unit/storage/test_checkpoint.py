"""Background checkpoints: after ``settle`` the database file alone holds what was committed."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from mamori.adapters.storage import checkpoint
from mamori.adapters.storage.checkpoint import Checkpointer
from mamori.adapters.storage.database import Database


def _rows_in_file_alone(db_file: Path, tmp_path: Path) -> int:
    """Rows visible from a copy of the database file without its write-ahead log."""
    copy = tmp_path / "alone.db"
    shutil.copyfile(db_file, copy)
    with sqlite3.connect(copy) as conn:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])


def test_committed_rows_reach_the_database_file(tmp_path: Path) -> None:
    db_file = tmp_path / "c.db"
    db = Database(f"sqlite:///{db_file}")
    try:
        with db.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (a INTEGER, b TEXT)")
        db.checkpoint_soon()
        db.settle()
        with db.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (?, ?)", [(i, "x" * 200) for i in range(5000)])
        assert _rows_in_file_alone(db_file, tmp_path) == 0  # still only in the log
        db.checkpoint_soon()
        db.settle()
        assert _rows_in_file_alone(db_file, tmp_path) == 5000
    finally:
        db.dispose()


def test_the_thread_ends_when_idle_and_starts_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint, "IDLE_EXIT_S", 0.05)
    db_file = tmp_path / "i.db"
    with sqlite3.connect(db_file) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (a)")
    cp = Checkpointer(str(db_file))

    def running() -> bool:
        return any(t.name == "mamori-sqlite-checkpoint" for t in threading.enumerate())

    for _ in range(2):  # left idle, the thread ends by itself
        cp.poke()
        deadline = time.monotonic() + 10
        while (running() or cp.checkpoints == 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not running()
    for _ in range(2):  # settling ends it at once
        cp.poke()
        assert cp.settle(timeout=10)
        assert not running()
    assert cp.checkpoints >= 3
    cp.stop()


def test_a_database_that_cannot_be_opened_does_not_hang_the_writer(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    cp = Checkpointer(str(tmp_path / "missing-dir" / "x.db"))
    cp.poke()
    assert cp.settle(timeout=10)
    cp.stop()
    assert "background checkpoint" in caplog.text


def test_an_in_memory_database_starts_no_checkpoint_thread() -> None:
    db = Database("sqlite:///:memory:")
    db.checkpoint_soon()  # nothing to do, and nothing raised
    db.settle()
    assert not any(t.name == "mamori-sqlite-checkpoint" for t in threading.enumerate())
    db.dispose()

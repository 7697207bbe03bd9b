"""Copying SQLite's write-ahead log back into the database file from a thread of its own.

SQLite checkpoints inside the commit that pushes the log past ``wal_autocheckpoint`` pages, so a writer that
commits a lot pays for its own checkpoints. A bulk writer pokes this instead after each commit: a thread with
its own connection runs a PASSIVE checkpoint (it never blocks the writer or readers) while the writer goes on,
and the log stays short enough that the writer's own automatic checkpoint does not fire. The thread starts on
the first poke and ends after a second without one, so an idle process runs no extra thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

log = logging.getLogger(__name__)

IDLE_EXIT_S = 1.0


class Checkpointer:
    """Background PASSIVE checkpoints of one SQLite database file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._asked = 0  # pokes so far
        self._done = 0  # pokes covered by a finished checkpoint
        self._stopping = False
        self._leave = False  # end the thread as soon as it is idle (after settle)
        self.checkpoints = 0  # checkpoints run (for tests and diagnostics)

    def poke(self) -> None:
        """Something was committed: checkpoint soon, off the caller's thread."""
        with self._lock:
            if self._stopping:
                return
            self._asked += 1
            self._leave = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mamori-sqlite-checkpoint", daemon=True)
                self._thread.start()
            else:
                self._wake.notify()

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until every poke so far is covered by a finished checkpoint, and let the thread end (a process
        that forks workers next is better off without it); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._asked
            while self._done < target and self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
            self._leave = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        return True

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            thread = self._thread
            self._wake.notify_all()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            while True:
                with self._lock:
                    if self._done >= self._asked and not (self._stopping or self._leave):
                        self._wake.wait(IDLE_EXIT_S)
                    if self._done >= self._asked:  # idle for a while, or stopping with nothing left
                        self._thread = None
                        self._wake.notify_all()
                        return
                    target = self._asked
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                with self._lock:
                    self.checkpoints += 1
                    self._done = target
                    self._wake.notify_all()
        except sqlite3.Error as e:  # the file went away, or the disk is full: the writer checkpoints itself
            log.warning("background checkpoint of %s stopped: %s", self.path, e)
            with self._lock:
                self._thread = None
                self._done = self._asked
                self._wake.notify_all()
        finally:
            if conn is not None:
                conn.close()

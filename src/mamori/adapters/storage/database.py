"""Engine construction and transactions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from mamori.adapters.storage.checkpoint import Checkpointer
from mamori.errors import InvalidInput, Unsupported


class Database:
    """One engine; ``begin()`` is the unit of work: everything inside commits together or not at all."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except Exception as e:
            raise InvalidInput(f"not a database URL: {e}", where="MAMORI_DATABASE_URL") from e
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            try:
                import psycopg  # noqa: F401
            except ImportError as e:
                raise Unsupported(
                    "PostgreSQL needs the psycopg driver: pip install 'mamori[postgres]'", where="MAMORI_DATABASE_URL"
                ) from e
            kwargs["pool_pre_ping"] = True
        else:
            raise Unsupported(f"database engine {self.dialect!r} is not supported (sqlite, postgresql)")
        self.engine: Engine = create_engine(parsed, **kwargs)
        self._checkpointer: Checkpointer | None = None
        if self.dialect == "sqlite":
            _fast_sqlite_binding()
            event.listen(self.engine, "connect", _sqlite_pragmas)
            if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
                self._checkpointer = Checkpointer(parsed.database)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def checkpoint_soon(self) -> None:
        """For a writer that commits a lot (bulk ingest): the SQLite log is copied back into the database file
        by a thread of its own rather than inside a later commit. Nothing to do on PostgreSQL."""
        if self._checkpointer is not None:
            self._checkpointer.poke()

    def settle(self) -> None:
        """Wait for the checkpoints asked for so far (a bulk writer's work is done when they are)."""
        if self._checkpointer is not None:
            self._checkpointer.settle()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


def _fast_sqlite_binding() -> None:
    """The sqlite3 driver binds int, float, str and bytearray directly, but looks every other parameter up in
    its adapter registry and then probes it for ``__adapt__``/``__conform__``: four times the cost of an int for
    each None and each bool (bulk ingest binds millions). Registering the identity for them (NULL stays NULL, a
    bool binds as the integer it already is) ends the probing; stored values do not change."""
    sqlite3.register_adapter(type(None), _NULL_ADAPTER)
    sqlite3.register_adapter(bool, int)


_NULL_ADAPTER: Callable[[Any], None] = {}.get  # a C callable that returns None for its one argument


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # Before the first table exists (no effect later): large pages write bulk ingest's scattered index updates
    # in fewer, larger frames, and suit the long JSON rows of the intelligence store.
    cur.execute("PRAGMA page_size=16384")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA wal_autocheckpoint=10000")  # fewer, larger checkpoints during bulk ingest
    cur.close()

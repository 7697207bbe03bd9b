"""The SQLite engine registers identity adapters for None and bool (they skip the driver's slow adapter probe):
what is stored must be exactly what the driver would store without them."""

from __future__ import annotations

from pathlib import Path

from mamori.adapters.storage.database import Database


def test_none_and_bool_bind_as_null_and_integers(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        with db.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (a, b, c, d)")
            conn.exec_driver_sql("INSERT INTO t VALUES (?, ?, ?, ?)", [(None, True, False, 7), (1, None, True, None)])
            rows = list(conn.exec_driver_sql("SELECT typeof(a), a, typeof(b), b, typeof(c), c, typeof(d), d FROM t"))
            assert rows[0] == ("null", None, "integer", 1, "integer", 0, "integer", 7)
            assert rows[1] == ("integer", 1, "null", None, "integer", 1, "null", None)
            # NULL still compares as NULL, not as some adapted stand-in
            assert conn.exec_driver_sql("SELECT count(*) FROM t WHERE a IS ?", (None,)).scalar() == 1
    finally:
        db.dispose()

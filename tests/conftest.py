"""Fixtures shared by the whole suite: settings in a temporary data dir, contexts on SQLite or PostgreSQL,
the ASGI app, and a real server on a free loopback port."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mamori.bootstrap import Context, build_context
from mamori.config import Settings
from mamori.kernel.clock import FixedClock

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get("MAMORI_TEST_POSTGRES_URL")
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp, "env": "development", "secret_key": "x" * 48}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _postgres_database(base_url: str) -> str:
    """A fresh database on the test server, so tests never see each other's rows."""
    import sqlalchemy as sa

    name = "mamori_t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    head, _, _ = base_url.rpartition("/")
    return f"{head}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    """A context on each storage engine (PostgreSQL when MAMORI_TEST_POSTGRES_URL is set)."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("set MAMORI_TEST_POSTGRES_URL to run the PostgreSQL contract tests")
        settings = make_settings(tmp_path, database_url=_postgres_database(POSTGRES_URL))
    else:
        settings = make_settings(tmp_path)
    ctx = build_context(settings, clock=FixedClock(T0))
    yield ctx
    ctx.close()


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    """A context on SQLite with a fixed clock at T0."""
    c = build_context(make_settings(tmp_path), clock=FixedClock(T0))
    yield c
    c.close()


@pytest.fixture
def clock(ctx: Context) -> FixedClock:
    assert isinstance(ctx.clock, FixedClock)
    return ctx.clock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, ctx: Context) -> None:
        import uvicorn

        from mamori.api.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(ctx: Context) -> Iterator[LiveServer]:
    """mamori served by uvicorn on a free loopback port, on the ``ctx`` fixture's database."""
    with LiveServer(ctx) as server:
        yield server

"""Browser fixtures: Debian's Chromium driven by Playwright (browsers cannot be downloaded here), and the
seeded data the browser tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.web.web_seed import World, context_from, seed_template

from mamori.bootstrap import Context

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; install Debian's chromium package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    directory = tmp_path_factory.mktemp("e2e-seed")
    return directory, seed_template(directory)


@pytest.fixture
def ctx(seeded: tuple[Path, World], tmp_path: Path) -> Iterator[Context]:
    """The suite's ``ctx`` (SQLite, clock at T0) on a copy of the seeded data; ``live_server`` serves it."""
    c = context_from(seeded[0], tmp_path / "data")
    yield c
    c.close()


@pytest.fixture
def world(seeded: tuple[Path, World], ctx: Context) -> World:
    return seeded[1]

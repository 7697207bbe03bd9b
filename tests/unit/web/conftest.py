"""Fixtures of the web UI tests: the seeded world, the app, and logged-in test clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.unit.web.web_seed import PASSWORD, World, context_from, seed_template

from mamori.api.app import create_app
from mamori.bootstrap import Context

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    directory = tmp_path_factory.mktemp("web-seed")
    return directory, seed_template(directory)


@pytest.fixture
def ctx(seeded: tuple[Path, World], tmp_path: Path) -> Iterator[Context]:
    """The suite's ``ctx`` (SQLite, clock at T0), on a copy of the seeded data directory."""
    c = context_from(seeded[0], tmp_path / "data")
    yield c
    c.close()


@pytest.fixture
def world(seeded: tuple[Path, World], ctx: Context) -> World:
    return seeded[1]


@pytest.fixture
def app(ctx: Context, world: World) -> FastAPI:
    return create_app(ctx)


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    form = client.get("/login")
    assert form.status_code == 200
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_of(form.text), "next": "/"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    return csrf_of(client.get("/").text)


@pytest.fixture
def logged_in(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """``logged_in("partner")``: a client with a session of that user."""
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        log_in(client, username)
        return client

    yield make
    for client in clients:
        client.close()

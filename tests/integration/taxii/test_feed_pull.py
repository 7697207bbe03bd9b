"""Pulling a partner's collection from a running mamori into another: incremental, paged, secrets sealed,
failures recorded; and the ``mamori taxii`` commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import T0, LiveServer, make_settings
from tests.stixgen import indicator, malware
from typer.testing import CliRunner

from mamori.adapters.storage.schema import collection_entries
from mamori.adapters.storage.schema import taxii_feeds as feeds_table
from mamori.bootstrap import Context, build_context
from mamori.cli.main import app
from mamori.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from mamori.intel.taxii_client import PageProgress, taxii_feeds
from mamori.kernel.clock import FixedClock
from mamori.kernel.timefmt import format_timestamp

PASSWORD = "correct horse battery"


@pytest.fixture
def partner_side(ctx: Context, live_server: LiveServer) -> dict[str, Any]:
    """The serving side: 230 GREEN objects and 5 AMBER ones the partner may not see."""
    cid = ctx.intel.create_collection("outbound")["id"]
    org = ctx.identity.create_organisation("allied-cert", "Allied CERT", "partner")
    ctx.intel.set_agreement(org.id, "TLP:GREEN", read=[cid])
    ctx.identity.create_user("liaison", "partner", password=PASSWORD, organisation="allied-cert")
    objs = [indicator(n, f"198.51.{n // 250}.{n % 250}", tlp="green") for n in range(1, 231)]
    objs += [malware(1000 + n, f"hidden {n}", tlp="amber") for n in range(5)]
    assert ctx.intel.ingest(objs, collections=[cid]).added == 235
    return {"url": f"{live_server.url}/taxii2/partners/collections/{cid}/", "cid": cid,
            "token": ctx.identity.issue_token("liaison").secret}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Context]:
    """The pulling side: another instance with its own database and key."""
    c = build_context(make_settings(tmp_path / "home", secret_key="h" * 48), clock=FixedClock(T0 + timedelta(hours=1)))
    yield c
    c.close()


def _entries(ctx: Context, cid: str) -> int:
    with ctx.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(collection_entries)
                                .where(collection_entries.c.collection_id == cid)).scalar_one())


def test_pull_follows_pages_then_only_fetches_what_is_new(ctx: Context, partner_side: dict[str, Any],
                                                          home: Context) -> None:
    into = home.intel.create_collection("from allies")["id"]
    feeds = taxii_feeds(home)
    feeds.add("allies", partner_side["url"], username="liaison", token=partner_side["token"], interval_s=60,
              into=into)
    progress: list[PageProgress] = []
    first = feeds.pull("allies", on_page=progress.append)
    assert (first.pages, first.received, first.added, first.invalid) == (3, 230, 230, 0)
    assert [p.received for p in progress] == [100, 200, 230]
    assert home.intel.count() == 230 and _entries(home, into) == 230
    feed = feeds.get("allies")
    assert feed.added_after == format_timestamp(T0) and feed.last_pull_at is not None
    assert '"added": 230' in (feed.last_result or "")

    again = feeds.pull("allies")
    assert (again.received, again.added) == (0, 0)

    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(timedelta(minutes=5))
    ctx.intel.ingest([indicator(5000 + n, f"203.0.113.{n}", tlp="clear") for n in range(7)],
                     collections=[partner_side["cid"]])
    third = feeds.pull("allies")
    assert (third.received, third.added, third.duplicates) == (7, 7, 0)
    assert feeds.get("allies").added_after == format_timestamp(T0 + timedelta(minutes=5))
    assert home.intel.count() == 237


def test_password_and_bearer_credentials_and_the_secret_is_sealed(partner_side: dict[str, Any],
                                                                  home: Context) -> None:
    feeds = taxii_feeds(home)
    feeds.add("by-password", partner_side["url"], username="liaison", password=PASSWORD)
    feeds.add("by-bearer", partner_side["url"], token=partner_side["token"])
    assert feeds.pull("by-password").added == 230
    assert feeds.pull("by-bearer").duplicates == 230
    with home.db.connect() as conn:
        sealed = [s for (s,) in conn.execute(select(feeds_table.c.secret))]
    assert len(sealed) == 2 and all(PASSWORD not in s and partner_side["token"] not in s for s in sealed)


def test_refused_credentials_are_recorded_and_the_cursor_stays(partner_side: dict[str, Any], home: Context) -> None:
    feeds = taxii_feeds(home)
    feeds.add("wrong", partner_side["url"], username="liaison", password="not the password")
    with pytest.raises(Unauthenticated) as e:
        feeds.pull("wrong")
    assert e.value.where == partner_side["url"] + "objects/"
    feed = feeds.get("wrong")
    assert feed.added_after is None and "401" in (feed.last_result or "")
    assert home.intel.count() == 0


def test_pulling_an_unknown_collection_is_not_found(partner_side: dict[str, Any], home: Context) -> None:
    feeds = taxii_feeds(home)
    url = partner_side["url"].replace(partner_side["cid"], "00000000-0000-4000-8000-000000000000")
    feeds.add("gone", url, token=partner_side["token"])
    with pytest.raises(NotFound):
        feeds.pull("gone")


@pytest.mark.parametrize(("kwargs", "error", "where"), [
    ({"url": "ftp://example.org/c/"}, InvalidInput, "url"),
    ({"url": "https://example.org/c/?x=1"}, InvalidInput, "url"),
    ({"password": "p" * 12}, InvalidInput, "username"),
    ({"password": "p" * 12, "token": "t", "username": "u"}, InvalidInput, "secret"),
    ({"interval_s": 1}, InvalidInput, "interval"),
    ({"into": "00000000-0000-4000-8000-000000000000"}, NotFound, "collection"),
    ({"name": "bad name!"}, InvalidInput, "name"),
])
def test_bad_feed_definitions_are_refused_and_store_nothing(home: Context, kwargs: dict[str, Any],
                                                            error: type[Exception], where: str) -> None:
    args: dict[str, Any] = {"name": "feed", "url": "https://partner.example/taxii2/r/collections/c/"}
    args.update(kwargs)
    with pytest.raises(error) as e:
        taxii_feeds(home).add(args.pop("name"), args.pop("url"), **args)
    assert getattr(e.value, "where", None) == where
    assert taxii_feeds(home).feeds() == []


def test_a_feed_name_is_unique(home: Context) -> None:
    feeds = taxii_feeds(home)
    feeds.add("one", "https://partner.example/taxii2/r/collections/c")
    assert feeds.get("one").collection_url.endswith("/collections/c/")
    with pytest.raises(Conflict):
        feeds.add("one", "https://partner.example/taxii2/r/collections/d/")


# --- the commands ------------------------------------------------------------------------------------------


runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAMORI_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("MAMORI_SECRET_KEY", "c" * 48)
    monkeypatch.delenv("MAMORI_DATABASE_URL", raising=False)
    return tmp_path


def test_cli_collections_feeds_and_pull(cli_env: Path, partner_side: dict[str, Any],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    r = runner.invoke(app, ["taxii", "collection", "create", "--title", "From allies",
                            "--id", "5b1ad6b4-22a8-4e59-8a4c-2d6f7e0e4c11"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["taxii", "collection", "list"])
    assert r.output.split() == ["5b1ad6b4-22a8-4e59-8a4c-2d6f7e0e4c11", "partners", "From", "allies"]
    monkeypatch.setenv("ALLIES_TOKEN", partner_side["token"])
    r = runner.invoke(app, ["taxii", "feed", "add", "allies", "--url", partner_side["url"], "--username", "liaison",
                            "--token-env", "ALLIES_TOKEN", "--interval", "600",
                            "--into", "5b1ad6b4-22a8-4e59-8a4c-2d6f7e0e4c11"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["taxii", "feed", "list"])
    assert "allies" in r.output and "secret stored" in r.output and partner_side["token"] not in r.output
    r = runner.invoke(app, ["taxii", "pull", "allies"])
    assert r.exit_code == 0, r.output
    assert "230 received, 230 added, 0 already present, 0 invalid" in r.output
    r = runner.invoke(app, ["taxii", "pull", "--all"])
    assert r.exit_code == 0 and "0 received" in r.output


def test_cli_errors_are_one_line_and_non_zero(cli_env: Path) -> None:
    r = runner.invoke(app, ["taxii", "pull", "nowhere"])
    assert r.exit_code == 1 and "no feed 'nowhere'" in r.output
    r = runner.invoke(app, ["taxii", "pull"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["taxii", "feed", "add", "x", "--url", "https://p.example/c/", "--token-env", "UNSET_VAR"])
    assert r.exit_code == 1 and "UNSET_VAR" in r.output
    r = runner.invoke(app, ["taxii", "collection", "create", "--title", "x", "--id", "not-a-uuid"])
    assert r.exit_code == 1 and "not a UUID" in r.output


def test_pull_due_pulls_only_scheduled_feeds_whose_interval_elapsed(partner_side: dict[str, Any],
                                                                   home: Context) -> None:
    feeds = taxii_feeds(home)
    feeds.add("hourly", partner_side["url"], token=partner_side["token"], interval_s=3600)
    feeds.add("manual", partner_side["url"], token=partner_side["token"])
    feeds.add("broken", partner_side["url"] + "nowhere/", token=partner_side["token"], interval_s=60)
    outcomes = dict(feeds.pull_due())
    assert set(outcomes) == {"hourly", "broken"}
    assert getattr(outcomes["hourly"], "added", None) == 230
    assert isinstance(outcomes["broken"], NotFound), "one partner failing must not stop the others"
    assert dict(feeds.pull_due()) == {}, "nothing is due again within the interval"
    assert isinstance(home.clock, FixedClock)
    home.clock.advance(timedelta(seconds=61))
    assert set(dict(feeds.pull_due())) == {"broken"}


def test_cli_watch_pulls_due_feeds_then_stops_on_interrupt(cli_env: Path, partner_side: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIES_TOKEN", partner_side["token"])
    r = runner.invoke(app, ["taxii", "feed", "add", "allies", "--url", partner_side["url"],
                            "--token-env", "ALLIES_TOKEN", "--interval", "600"])
    assert r.exit_code == 0, r.output
    pauses: list[float] = []

    def interrupted(seconds: float) -> None:
        pauses.append(seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr("mamori.cli.taxii._sleep", interrupted)
    r = runner.invoke(app, ["taxii", "watch", "--max-sleep", "30"])
    assert r.exit_code == 0, r.output
    assert "allies: 230 received, 230 added" in r.output and "stopped" in r.output
    assert pauses == [30.0], "the next feed is due in 600 s, so watch sleeps its longest pause"

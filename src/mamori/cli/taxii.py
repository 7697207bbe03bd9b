"""``mamori taxii``: TAXII 2.1 collections served here, and feeds of partners' collections pulled from elsewhere."""

from __future__ import annotations

import os
import time
from datetime import datetime

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mamori.cli.common import console, context, fail, out
from mamori.errors import MamoriError
from mamori.intel.taxii_client import PageProgress, PullResult, TaxiiFeeds, next_due, taxii_feeds

app = typer.Typer(help="TAXII 2.1: collections served here, feeds pulled from partners.", no_args_is_help=True)
collection_app = typer.Typer(help="Collections this instance serves.", no_args_is_help=True)
feed_app = typer.Typer(help="Partners' collections this instance pulls.", no_args_is_help=True)
app.add_typer(collection_app, name="collection")
app.add_typer(feed_app, name="feed")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="taxii")


# --- collections ----------------------------------------------------------------------------------------------


@collection_app.command("create")
def collection_create(
    title: str = typer.Option(..., "--title", help="Title shown to TAXII clients."),
    collection_id: str | None = typer.Option(None, "--id", help="UUID of the collection (random if omitted)."),
    api_root: str = typer.Option("partners", "--api-root", help="API root that serves it."),
    description: str | None = typer.Option(None, "--description", help="Description shown to TAXII clients."),
) -> None:
    """Create a collection; partners see it once a sharing agreement names it."""
    with context() as ctx:
        c = ctx.intel.create_collection(title, collection_id=collection_id, api_root=api_root,
                                        description=description)
    out.print(f"{c['id']}\t{c['api_root']}\t{c['title']}", highlight=False)


@collection_app.command("list")
def collection_list() -> None:
    """List collections: id, API root, title."""
    with context() as ctx:
        rows = ctx.intel.collections()
    for c in rows:
        out.print(f"{c['id']}\t{c['api_root']}\t{c['title']}", highlight=False)


# --- feeds ----------------------------------------------------------------------------------------------------


def _secret_from_env(var: str | None, what: str) -> str | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        fail(f"--{what}-env: environment variable {var} is not set or empty")
    return value


@feed_app.command("add")
def feed_add(
    name: str = typer.Argument(..., help="A short name for the feed."),
    url: str = typer.Option(..., "--url", help="The partner's collection URL (…/collections/{id}/)."),
    username: str | None = typer.Option(None, "--username", help="User name for HTTP Basic."),
    password_env: str | None = typer.Option(None, "--password-env", help="Environment variable holding the "
                                                                          "password."),
    token_env: str | None = typer.Option(None, "--token-env", help="Environment variable holding an API token "
                                                                    "(Bearer, or Basic with --username)."),
    interval: int | None = typer.Option(None, "--interval", help="Pull every this many seconds under "
                                                                 "'mamori taxii watch'."),
    into: str | None = typer.Option(None, "--into", help="Local collection id to file pulled objects in."),
) -> None:
    """Register a partner's collection. Secrets are read from the environment and stored encrypted."""
    if password_env and token_env:
        fail("give --password-env or --token-env, not both")
    password = _secret_from_env(password_env, "password")
    token = _secret_from_env(token_env, "token")
    with context() as ctx:
        feed = taxii_feeds(ctx).add(name, url, username=username, password=password, token=token,
                                    interval_s=interval, into=into)
    out.print(f"feed {feed.name} → {feed.collection_url}" + (f" every {feed.interval_s}s" if feed.interval_s
                                                              else ""), highlight=False)


@feed_app.command("list")
def feed_list() -> None:
    """List feeds: name, URL, interval, cursor and last result (never secrets)."""
    with context() as ctx:
        feeds = taxii_feeds(ctx).feeds()
    for f in feeds:
        auth = "secret stored" if f.has_secret else "no secret"
        out.print(f"{f.name}\t{f.collection_url}\t{f.interval_s or '-'}s\t{auth}\tadded_after={f.added_after or '-'}"
                  f"\t{f.last_result or ''}", highlight=False)


@feed_app.command("remove")
def feed_remove(name: str = typer.Argument(..., help="The feed to remove.")) -> None:
    """Forget a feed and its stored secret (objects already pulled stay)."""
    with context() as ctx:
        taxii_feeds(ctx).remove(name)
    out.print(f"feed {name} removed", highlight=False)


# --- pulling --------------------------------------------------------------------------------------------------


def _print_result(r: PullResult) -> None:
    out.print(f"{r.feed}: {r.received} received, {r.added} added, {r.duplicates} already present, "
              f"{r.invalid} invalid", highlight=False)
    for p in r.problems[:20]:
        out.print(f"  [{p.index}] {p.object_id or ''} {p.reason}", highlight=False)
    if r.invalid > 20:
        out.print(f"  ... and {r.invalid - 20} more", highlight=False)


def _pull_with_progress(feeds: TaxiiFeeds, name: str) -> PullResult:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(f"pulling {name}", total=None)

        def on_page(p: PageProgress) -> None:
            bar.update(task, description=f"pulling {p.feed}: page {p.pages}, {p.received} objects, "
                                         f"{p.added} new")

        return feeds.pull(name, on_page=on_page)


@app.command("pull")
def pull(
    feed: str | None = typer.Argument(None, help="The feed to pull."),
    all_: bool = typer.Option(False, "--all", help="Pull every enabled feed."),
) -> None:
    """Pull what partners added since the last pull (incremental, follows paging)."""
    if (feed is None) == (not all_):
        fail("name one FEED or give --all", code=2)
    invalid = 0
    failed = 0
    with context() as ctx:
        feeds = taxii_feeds(ctx)
        names = [feed] if feed else [f.name for f in feeds.feeds() if f.enabled]
        for name in names:
            if all_:
                try:
                    result = _pull_with_progress(feeds, name)
                except MamoriError as e:  # one partner failing must not stop the others
                    console.print(f"[red]error:[/red] {name}: {e}", highlight=False)
                    failed += 1
                    continue
            else:
                result = _pull_with_progress(feeds, name)
            _print_result(result)
            invalid += result.invalid
    if failed:
        raise typer.Exit(1)
    if invalid:
        raise typer.Exit(3)


@app.command("watch")
def watch(
    max_sleep: float = typer.Option(60.0, "--max-sleep", help="Longest pause between checks, in seconds."),
) -> None:
    """Pull each feed on its interval until interrupted (Ctrl-C)."""
    with context() as ctx:
        feeds = taxii_feeds(ctx)
        console.print("watching feeds; Ctrl-C to stop")
        try:
            while True:
                for name, outcome in feeds.pull_due():
                    if isinstance(outcome, PullResult):
                        _print_result(outcome)
                    else:
                        console.print(f"[red]error:[/red] {name}: {outcome}", highlight=False)
                now = ctx.clock.now()
                upcoming = next_due(feeds.feeds(), now)
                pause = max_sleep if upcoming is None else min(max_sleep, max(1.0, _seconds(upcoming, now)))
                _sleep(pause)
        except KeyboardInterrupt:
            console.print("stopped")


def _sleep(seconds: float) -> None:
    """The pause between checks (its own name, so tests replace it without touching other threads' sleeps)."""
    time.sleep(seconds)


def _seconds(at: datetime, now: datetime) -> float:
    return (at - now).total_seconds()


__all__ = ["app", "register"]

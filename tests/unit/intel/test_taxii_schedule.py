"""Which partner feeds ``mamori taxii watch`` pulls now, and when it next has work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mamori.intel.taxii_client import Feed, due_feeds, next_due
from mamori.kernel.timefmt import format_timestamp

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def feed(name: str, *, interval: int | None = 300, last: timedelta | None = None, enabled: bool = True) -> Feed:
    return Feed(
        id=name,
        name=name,
        collection_url="https://p.example/taxii2/r/collections/c/",
        username=None,
        has_secret=False,
        added_after=None,
        interval_s=interval,
        enabled=enabled,
        target_collection_id=None,
        last_pull_at=format_timestamp(NOW - last) if last is not None else None,
        last_result=None,
        created_at=format_timestamp(NOW),
    )


def test_a_feed_never_pulled_is_due() -> None:
    assert [f.name for f in due_feeds([feed("a")], NOW)] == ["a"]


def test_a_feed_is_due_exactly_when_its_interval_has_elapsed() -> None:
    assert due_feeds([feed("a", last=timedelta(seconds=299))], NOW) == []
    assert [f.name for f in due_feeds([feed("a", last=timedelta(seconds=300))], NOW)] == ["a"]


def test_disabled_and_unscheduled_feeds_are_never_due() -> None:
    assert due_feeds([feed("off", enabled=False), feed("manual", interval=None), feed("zero", interval=0)], NOW) == []


def test_most_overdue_first_and_never_pulled_before_all() -> None:
    feeds = [
        feed("late", last=timedelta(seconds=400)),
        feed("later", last=timedelta(seconds=900)),
        feed("new"),
        feed("fresh", last=timedelta(seconds=10)),
    ]
    assert [f.name for f in due_feeds(feeds, NOW)] == ["new", "later", "late"]


def test_next_due_is_the_earliest_upcoming_time() -> None:
    feeds = [
        feed("a", last=timedelta(seconds=100)),
        feed("b", interval=60, last=timedelta(seconds=30)),
        feed("manual", interval=None),
    ]
    assert next_due(feeds, NOW) == NOW + timedelta(seconds=30)
    assert next_due([feed("x")], NOW) == NOW
    assert next_due([feed("manual", interval=None)], NOW) is None

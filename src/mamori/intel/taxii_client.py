"""Pulling partners' TAXII 2.1 collections into mamori (TAXII 2.1 sections 3.4, 3.6 and 5.4, client side).

A *feed* is one remote collection URL with its credentials, an optional pull interval and an optional local
collection to file what arrives in. Pulls are incremental: each asks for ``added_after`` = the last
``X-TAXII-Date-Added-Last`` the partner sent, follows ``next`` until ``more`` is false, ingests every page
through ``IntelService.ingest`` (invalid objects are reported, valid ones stored) and advances the stored cursor
after each page, so an interrupted pull resumes where it stopped. Secrets are kept encrypted with Fernet
(AES-128-CBC + HMAC-SHA256) under a key derived from the instance secret with HKDF, and are never shown.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx
import orjson

from mamori.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    MamoriError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from mamori.intel.model import Problem
from mamori.intel.taxii import TAXII_MEDIA_TYPE, derive_key
from mamori.kernel.clock import Clock
from mamori.kernel.ids import IdFactory
from mamori.kernel.timefmt import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mamori.adapters.storage.database import Database
    from mamori.bootstrap import Context
    from mamori.intel.service import IntelService

USER_AGENT = "mamori-taxii-client/2.1"
MAX_PAGES_PER_PULL = 100_000


@dataclass(frozen=True)
class Feed:
    """A partner collection this instance pulls. The secret itself never leaves the store decrypted here."""

    id: str
    name: str
    collection_url: str
    username: str | None
    has_secret: bool
    added_after: str | None
    interval_s: int | None
    enabled: bool
    target_collection_id: str | None
    last_pull_at: str | None
    last_result: str | None
    created_at: str


@dataclass(frozen=True)
class PageProgress:
    """Reported after each page: for progress bars."""

    feed: str
    pages: int
    received: int
    added: int


@dataclass(frozen=True)
class PullResult:
    feed: str
    pages: int
    received: int
    added: int
    duplicates: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    added_after: str | None = None

    @property
    def invalid(self) -> int:
        return len(self.problems)


# --- scheduling (pure) ---------------------------------------------------------------------------------------


def _last_pull(feed: Feed) -> datetime | None:
    return parse_timestamp(feed.last_pull_at, where="last_pull_at") if feed.last_pull_at else None


def due_at(feed: Feed) -> datetime | None:
    """When an enabled feed with an interval is next due (None: never pulled on a schedule, or never pulled)."""
    last = _last_pull(feed)
    if last is None or not feed.interval_s:
        return None
    return last + timedelta(seconds=feed.interval_s)


def due_feeds(feeds: Iterable[Feed], now: datetime) -> list[Feed]:
    """Enabled feeds with an interval that were never pulled or whose interval has elapsed, most overdue first.

    Feeds without an interval are pulled only on demand (``mamori taxii pull``).
    """
    due: list[tuple[datetime, str, Feed]] = []
    for f in feeds:
        if not f.enabled or not f.interval_s or f.interval_s <= 0:
            continue
        at = due_at(f)
        if at is None:
            due.append((datetime.min.replace(tzinfo=now.tzinfo), f.name, f))
        elif at <= now:
            due.append((at, f.name, f))
    return [f for _at, _name, f in sorted(due, key=lambda t: (t[0], t[1]))]


def next_due(feeds: Iterable[Feed], now: datetime) -> datetime | None:
    """The earliest moment a scheduled feed becomes due (``now`` if one already is); None without any."""
    times: list[datetime] = []
    for f in feeds:
        if not f.enabled or not f.interval_s or f.interval_s <= 0:
            continue
        at = due_at(f)
        times.append(now if at is None or at <= now else at)
    return min(times) if times else None


# --- secrets -------------------------------------------------------------------------------------------------


class SecretBox:
    """Fernet under a key derived from the instance secret (HKDF-SHA256, purpose-bound)."""

    def __init__(self, secret_key: str) -> None:
        from cryptography.fernet import Fernet

        key = base64.urlsafe_b64encode(derive_key(secret_key, b"mamori taxii feed secrets v1"))
        self._fernet = Fernet(key)

    def seal(self, kind: str, value: str) -> str:
        return self._fernet.encrypt(orjson.dumps({"kind": kind, "value": value})).decode("ascii")

    def open(self, token: str, where: str) -> tuple[str, str]:
        from cryptography.fernet import InvalidToken

        try:
            data = orjson.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, orjson.JSONDecodeError, ValueError) as e:
            raise IntegrityError("the stored feed secret cannot be decrypted with this instance's key "
                                 "(was MAMORI_SECRET_KEY changed?); add the feed again", where=where) from e
        return str(data["kind"]), str(data["value"])


# --- the service -------------------------------------------------------------------------------------------


class FeedStore(Protocol):
    """What feeds need from storage (``mamori.adapters.storage.taxii_store``)."""

    def add_feed(self, values: dict[str, Any]) -> None: ...

    def feeds(self) -> list[dict[str, Any]]: ...

    def feed(self, name: str) -> dict[str, Any] | None: ...

    def update_feed(self, feed_id: str, **values: Any) -> None: ...

    def remove_feed(self, name: str) -> bool: ...


def _feed_of(row: dict[str, Any]) -> Feed:
    return Feed(
        id=row["id"], name=row["name"], collection_url=row["collection_url"], username=row["username"],
        has_secret=bool(row["secret"]), added_after=row["added_after"], interval_s=row["interval_s"],
        enabled=bool(row["enabled"]), target_collection_id=row["target_collection_id"],
        last_pull_at=row["last_pull_at"], last_result=row["last_result"], created_at=row["created_at"],
    )


def normalise_collection_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"collection URL {url!r} must be an absolute http(s) URL", where="url")
    if parts.query or parts.fragment:
        raise InvalidInput(f"collection URL {url!r} must not carry a query or fragment", where="url")
    text = url.strip()
    return text if text.endswith("/") else text + "/"


class TaxiiFeeds:
    """Feeds of partners' collections: register, list, pull."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdFactory,
        intel: IntelService,
        *,
        secret_key: str,
        store: Callable[[Connection], FeedStore],
        http: Callable[[], httpx.Client] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.intel = intel
        self._box = SecretBox(secret_key)
        self._store = store
        self._http = http or (lambda: httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=False,
                                                   headers={"User-Agent": USER_AGENT}))

    def _now(self) -> str:
        return format_timestamp(self.clock.now())

    # --- registry ----------------------------------------------------------------------------------------
    def add(self, name: str, url: str, *, username: str | None = None, password: str | None = None,
            token: str | None = None, interval_s: int | None = None, into: str | None = None) -> Feed:
        name = name.strip()
        if not name or len(name) > 100 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidInput(f"feed name {name!r} must be 1-100 letters, digits, '-', '_' or '.'", where="name")
        collection_url = normalise_collection_url(url)
        if password is not None and token is not None:
            raise InvalidInput("give a password or a token, not both", where="secret")
        if password is not None and not username:
            raise InvalidInput("a password needs a username", where="username")
        if (password is not None and not password) or (token is not None and not token):
            raise InvalidInput("the secret is empty", where="secret")
        if interval_s is not None and interval_s < 10:
            raise InvalidInput(f"interval must be at least 10 seconds, got {interval_s}", where="interval")
        if into is not None:
            into = self.intel.collection(into)["id"]
        secret = None
        if password is not None:
            secret = self._box.seal("password", password)
        elif token is not None:
            secret = self._box.seal("token", token)
        with self.db.begin() as conn:
            st = self._store(conn)
            if st.feed(name) is not None:
                raise Conflict(f"feed {name!r} already exists", where="name")
            st.add_feed({
                "id": self.ids.new(), "name": name, "collection_url": collection_url, "username": username,
                "secret": secret, "added_after": None, "interval_s": interval_s, "enabled": True,
                "target_collection_id": into, "last_pull_at": None, "last_result": None,
                "created_at": self._now(),
            })
            row = st.feed(name)
        assert row is not None
        return _feed_of(row)

    def feeds(self) -> list[Feed]:
        with self.db.connect() as conn:
            return [_feed_of(r) for r in self._store(conn).feeds()]

    def get(self, name: str) -> Feed:
        with self.db.connect() as conn:
            row = self._store(conn).feed(name)
        if row is None:
            raise NotFound(f"no feed {name!r}", where="feed")
        return _feed_of(row)

    def remove(self, name: str) -> None:
        with self.db.begin() as conn:
            if not self._store(conn).remove_feed(name):
                raise NotFound(f"no feed {name!r}", where="feed")

    def _credentials(self, name: str) -> tuple[str | None, tuple[str, str] | None]:
        with self.db.connect() as conn:
            row = self._store(conn).feed(name)
        if row is None:
            raise NotFound(f"no feed {name!r}", where="feed")
        if not row["secret"]:
            return row["username"], None
        return row["username"], self._box.open(row["secret"], where=f"feed {name}")

    # --- pulling -----------------------------------------------------------------------------------------
    def pull(self, name: str, *, on_page: Callable[[PageProgress], None] | None = None) -> PullResult:
        """Fetch what the partner added since the last pull; the outcome is kept in ``last_result``."""
        feed = self.get(name)
        try:
            result = self._pull(feed, on_page)
        except MamoriError as e:
            self._finish(feed, {"at": self._now(), "error": str(e)})
            raise
        self._finish(feed, {"at": self._now(), "pages": result.pages, "received": result.received,
                            "added": result.added, "duplicates": result.duplicates, "invalid": result.invalid})
        return result

    def pull_due(self, now: datetime | None = None,
                 on_page: Callable[[PageProgress], None] | None = None) -> list[tuple[str, PullResult | MamoriError]]:
        """Pull every feed that is due; one partner failing does not stop the others."""
        out: list[tuple[str, PullResult | MamoriError]] = []
        for f in due_feeds(self.feeds(), now or self.clock.now()):
            try:
                out.append((f.name, self.pull(f.name, on_page=on_page)))
            except MamoriError as e:
                out.append((f.name, e))
        return out

    def _finish(self, feed: Feed, outcome: dict[str, Any]) -> None:
        with self.db.begin() as conn:
            self._store(conn).update_feed(feed.id, last_pull_at=outcome["at"],
                                          last_result=json.dumps(outcome, ensure_ascii=False))

    def _pull(self, feed: Feed, on_page: Callable[[PageProgress], None] | None) -> PullResult:
        username, secret = self._credentials(feed.name)
        headers = {"Accept": TAXII_MEDIA_TYPE}
        auth: httpx.Auth | None = None
        if secret is not None:
            kind, value = secret
            if username:
                auth = httpx.BasicAuth(username, value)
            elif kind == "token":
                headers["Authorization"] = f"Bearer {value}"
        url = feed.collection_url + "objects/"
        added_after = feed.added_after
        filters: dict[str, str] = {"added_after": added_after} if added_after else {}
        nxt: str | None = None
        pages = received = added = duplicates = 0
        problems: list[Problem] = []
        newest = parse_timestamp(added_after, where="added_after") if added_after else None
        with self._http() as client:
            for _ in range(MAX_PAGES_PER_PULL):
                params = dict(filters)
                if nxt:
                    params["next"] = nxt
                envelope, last_added = self._get_page(client, url, params, headers, auth)
                objects = envelope.get("objects", [])
                if not isinstance(objects, list):
                    raise InvalidInput("the partner's envelope has an 'objects' that is not a list", where=url)
                pages += 1
                if objects:
                    report = self.intel.ingest(
                        objects, collections=[feed.target_collection_id] if feed.target_collection_id else (),
                        offset=received)
                    added += report.added
                    duplicates += report.duplicates
                    problems.extend(report.problems)
                received += len(objects)
                if last_added is not None:
                    seen = parse_timestamp(last_added, where=f"{url} X-TAXII-Date-Added-Last")
                    if newest is None or seen > newest:
                        newest, added_after = seen, last_added
                        with self.db.begin() as conn:
                            self._store(conn).update_feed(feed.id, added_after=added_after)
                if on_page is not None:
                    on_page(PageProgress(feed=feed.name, pages=pages, received=received, added=added))
                nxt = envelope.get("next") if envelope.get("more") else None
                if not nxt or not isinstance(nxt, str):
                    break
        return PullResult(feed=feed.name, pages=pages, received=received, added=added, duplicates=duplicates,
                          problems=tuple(problems), added_after=added_after)

    @staticmethod
    def _get_page(client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str],
                  auth: httpx.Auth | None) -> tuple[dict[str, Any], str | None]:
        try:
            resp = client.get(url, params=params, headers=headers, auth=auth) if auth is not None else \
                client.get(url, params=params, headers=headers)
        except httpx.HTTPError as e:
            raise InvalidInput(f"cannot reach the partner: {e.__class__.__name__}: {e}", where=url) from e
        if resp.status_code != 200:
            reason = _error_description(resp)
            if resp.status_code == 401:
                raise Unauthenticated(f"the partner refused our credentials (401): {reason}", where=url)
            if resp.status_code == 403:
                raise PermissionDenied(f"the partner does not let us read this collection (403): {reason}",
                                       where=url)
            if resp.status_code == 404:
                raise NotFound(f"the partner has no such collection (404): {reason}", where=url)
            raise InvalidInput(f"the partner answered {resp.status_code}: {reason}", where=url)
        ctype = resp.headers.get("content-type", "")
        if not ctype.replace(" ", "").lower().startswith("application/taxii+json"):
            raise InvalidInput(f"the partner answered with {ctype or 'no content type'}, not TAXII 2.1 JSON",
                               where=url)
        try:
            envelope = orjson.loads(resp.content)
        except orjson.JSONDecodeError as e:
            raise InvalidInput(f"the partner sent malformed JSON: {e}", where=url) from e
        if not isinstance(envelope, dict):
            raise InvalidInput("the partner's answer is not a TAXII envelope", where=url)
        return envelope, resp.headers.get("X-TAXII-Date-Added-Last")


def _error_description(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.reason_phrase or "error"
    if isinstance(body, dict):
        return str(body.get("description") or body.get("title") or resp.reason_phrase)
    return resp.reason_phrase or "error"


def taxii_feeds(ctx: Context, http: Callable[[], httpx.Client] | None = None) -> TaxiiFeeds:
    """The feed service of a context."""
    from mamori.adapters.storage.taxii_store import SqlTaxiiStore

    return TaxiiFeeds(ctx.db, ctx.clock, ctx.ids, ctx.intel, secret_key=ctx.secret_key, store=SqlTaxiiStore,
                      http=http)


__all__ = [
    "Feed",
    "PageProgress",
    "PullResult",
    "SecretBox",
    "TaxiiFeeds",
    "due_feeds",
    "next_due",
    "normalise_collection_url",
    "taxii_feeds",
]

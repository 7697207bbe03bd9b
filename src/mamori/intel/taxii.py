"""TAXII 2.1 semantics (OASIS TAXII 2.1, sections 3-5): discovery, API roots, collections, objects, manifests,
versions, add/delete objects and status, with TLP enforced in every store query.

Decisions this module implements:

* **Visibility of collections.** A viewer sees a collection when its clearance lets it read *or* write it; any
  other collection does not exist for it (404, absent from lists), and an API root exists for a viewer only when
  it holds at least one collection the viewer sees. A visible collection the viewer may not read answers 403
  on its objects; one it may not write answers 403 on POST. ``can_read``/``can_write`` describe the viewer.
* **Versions.** ``match[version]=last`` (the default) and ``first`` mean the last and first version *the viewer
  may see*, so that a hidden newer or older version can neither be received nor inferred by comparing answers.
* **Hidden objects.** An object the viewer may not see answers exactly like one that does not exist.
* **Stateless paging.** ``next`` is an opaque, HMAC-signed cursor carrying the endpoint, collection, viewer,
  filters and the last ``(date_added, id, version)`` served; the next page is a keyset query after that key,
  so any server holding the same secret answers it and a page costs the same at any depth. The viewer's
  clearance is never in the cursor: it is recomputed on every request, so a narrowed agreement takes effect
  at once.
* **Disclosures.** Every object version served to a viewer whose clearance records disclosures (partners,
  operators) is written to ``disclosures`` in the transaction that read it, one batch per page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from mamori.errors import InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from mamori.identity.model import Principal, Role, Scope
from mamori.intel.model import Clearance, IngestReport
from mamori.kernel.clock import Clock
from mamori.kernel.ids import IdFactory
from mamori.kernel.timefmt import format_timestamp, normalise_timestamp

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mamori.adapters.storage.database import Database
    from mamori.bootstrap import Context
    from mamori.intel.service import IntelService

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
VERSION_KEYWORDS = frozenset({"last", "first", "all"})
CURSOR_VERSION = 1
CLEARANCE_CACHE_MAX = 4096
INLINE_ROWS = 10  # the largest page read on the server's event loop (see TaxiiService.plan_read)


# --- domain types ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryQuery:
    """The filters of a TAXII request (section 3.4): each tuple is an OR of its values, the fields an AND.

    ``versions`` holds ``last``, ``first``, ``all`` and/or normalised timestamps; empty means the endpoint's
    default (``last``; ``all`` for the versions endpoint). ``added_after`` is exclusive.
    """

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()
    added_after: str | None = None

    def with_default_versions(self, default: str) -> EntryQuery:
        if self.versions:
            return self
        return EntryQuery(ids=self.ids, types=self.types, versions=(default,), spec_versions=self.spec_versions,
                          added_after=self.added_after)

    def as_json(self) -> dict[str, Any]:
        return {"i": list(self.ids), "t": list(self.types), "v": list(self.versions),
                "s": list(self.spec_versions), "a": self.added_after}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntryQuery:
        return cls(ids=tuple(data["i"]), types=tuple(data["t"]), versions=tuple(data["v"]),
                   spec_versions=tuple(data["s"]), added_after=data["a"])


@dataclass(frozen=True, order=True)
class Keyset:
    """Position in a collection: the order of the page index ``(date_added, stix_id, version)``."""

    date_added: str
    stix_id: str
    version: str


@dataclass(frozen=True)
class Entry:
    """One object version in a collection as the viewer may see it; ``raw`` is its JSON text when fetched."""

    stix_id: str
    type: str
    version: str
    spec_version: str
    date_added: str
    raw: str | None = None

    @property
    def key(self) -> Keyset:
        return Keyset(self.date_added, self.stix_id, self.version)


@dataclass(frozen=True)
class Page:
    entries: tuple[Entry, ...]
    more: bool
    next: str | None

    @property
    def first_added(self) -> str | None:
        return self.entries[0].date_added if self.entries else None

    @property
    def last_added(self) -> str | None:
        return self.entries[-1].date_added if self.entries else None


@dataclass(frozen=True)
class CollectionView:
    """A collection resource (section 5.2.1) as one viewer sees it."""

    id: str
    api_root: str
    title: str
    description: str | None
    alias: str | None
    can_read: bool
    can_write: bool


@dataclass(frozen=True)
class StatusDetail:
    id: str
    version: str
    message: str | None = None


@dataclass(frozen=True)
class StatusResource:
    """The status of an add-objects request (section 4.3.1); mamori completes every request synchronously."""

    id: str
    api_root: str
    collection_id: str
    user_id: str | None
    status: str
    request_timestamp: str
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    successes: tuple[StatusDetail, ...] = field(default_factory=tuple)
    failures: tuple[StatusDetail, ...] = field(default_factory=tuple)
    pendings: tuple[StatusDetail, ...] = field(default_factory=tuple)


class TaxiiStore(Protocol):
    """What the TAXII service needs from storage (``mamori.adapters.storage.taxii_store``)."""

    def collection(self, collection_id: str) -> Mapping[str, Any] | None: ...

    def agreement_state(self, organisation_id: str) -> tuple[Any, ...]: ...

    def page(self, collection_id: str, clearance: Clearance, query: EntryQuery, after: Keyset | None,
             limit: int, *, with_raw: bool) -> tuple[list[Entry], bool]: ...

    def has_visible(self, collection_id: str, clearance: Clearance, stix_id: str) -> bool: ...

    def delete_entries(self, collection_id: str, clearance: Clearance, stix_id: str, query: EntryQuery) -> int: ...

    def record_disclosures(self, at: str, clearance: Clearance, items: Sequence[tuple[str, str]]) -> None: ...

    def save_status(self, status: StatusResource) -> None: ...

    def status(self, status_id: str) -> StatusResource | None: ...


# --- the next-page cursor --------------------------------------------------------------------------------


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose from the instance secret (HKDF-SHA256, RFC 5869)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    """Opaque ``next`` cursors: url-safe base64 of compact JSON, then ``.`` and its HMAC-SHA256."""

    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, b"mamori taxii next-page cursor v1")

    def issue(self, payload: Mapping[str, Any]) -> str:
        body = _b64(orjson.dumps(payload))
        return f"{body}.{self._mac(body)}"

    def open(self, token: str) -> dict[str, Any]:
        bad = InvalidInput("the 'next' cursor was not issued by this server or has been modified", where="next")
        body, dot, mac = token.partition(".")
        if not dot or not body or not hmac.compare_digest(self._mac(body), mac):
            raise bad
        try:
            payload = orjson.loads(_unb64(body))
        except (binascii.Error, ValueError, orjson.JSONDecodeError) as e:
            raise bad from e
        if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
            raise bad
        return payload

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())


# --- the service ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxiiLimits:
    default_page_size: int = 100
    max_page_size: int = 1000
    max_content_length: int = 10 * 1024 * 1024


class TaxiiService:
    """TAXII 2.1 use cases for one authenticated principal per call."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdFactory,
        intel: IntelService,
        *,
        secret_key: str,
        store: Callable[[Connection], TaxiiStore],
        limits: TaxiiLimits | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.intel = intel
        self.limits = limits or TaxiiLimits()
        self.limits_key = (self.limits.default_page_size, self.limits.max_page_size, self.limits.max_content_length)
        self._store = store
        self._cursors = CursorSigner(secret_key)
        # (user id, organisation id) -> (agreement snapshot, clearance); see ``clearance``
        self._clearances: dict[tuple[str, str], tuple[tuple[Any, ...], Clearance]] = {}

    def _now(self) -> str:
        return format_timestamp(self.clock.now())

    def clearance(self, principal: Principal) -> Clearance:
        """The viewer's clearance on the TAXII channel, as ``IntelService.clearance_for`` gives it.

        A partner's clearance depends only on its user, its organisation and that organisation's sharing
        agreement (``IntelService.clearance_for``), which takes two queries and their mapping to read. It is
        kept per user together with a snapshot of the agreement's rows (one small query) and used again only
        while a fresh snapshot is equal: a changed agreement takes effect at once, as before.
        """
        org = principal.organisation
        if principal.role is not Role.PARTNER or org is None:
            return self.intel.clearance_for(principal, "taxii")
        with self.db.connect() as conn:
            state = (self._store(conn).agreement_state(org.id), self.intel.unmarked_default)
        key = (principal.user.id, org.id)
        cached = self._clearances.get(key)
        if cached is not None and cached[0] == state:
            return cached[1]
        clearance = self.intel.clearance_for(principal, "taxii")
        if len(self._clearances) >= CLEARANCE_CACHE_MAX:
            self._clearances.clear()
        self._clearances[key] = (state, clearance)
        return clearance

    # --- discovery, API roots, collections -----------------------------------------------------------------
    def collections(self, principal: Principal, api_root: str | None = None,
                    clearance: Clearance | None = None) -> list[CollectionView]:
        """Collections the viewer may read or write (all API roots when ``api_root`` is None)."""
        c = clearance or self.clearance(principal)
        views = (_view_of(row, c, principal) for row in self.intel.collections(api_root))
        return [v for v in views if v is not None]

    def api_roots(self, principal: Principal, clearance: Clearance | None = None) -> list[str]:
        """API roots holding at least one collection the viewer sees, in name order."""
        return sorted({v.api_root for v in self.collections(principal, clearance=clearance)})

    def api_root(self, principal: Principal, name: str) -> dict[str, Any]:
        if name not in self.api_roots(principal):
            raise NotFound(f"no API root {name!r}", where="api_root")
        return {"title": name, "description": f"mamori TAXII 2.1 API root '{name}'",
                "versions": [TAXII_MEDIA_TYPE], "max_content_length": self.limits.max_content_length}

    def collection(self, principal: Principal, api_root: str, collection_id: str,
                   clearance: Clearance | None = None) -> CollectionView:
        c = clearance or self.clearance(principal)
        try:  # the common case, one row by id; the listing below only words the error
            row: dict[str, Any] | None = self.intel.collection(collection_id)
        except NotFound:
            row = None
        view = _view_of(row, c, principal) if row is not None and row["api_root"] == api_root else None
        if view is not None:
            return view
        if api_root not in self.api_roots(principal, c):
            raise NotFound(f"no API root {api_root!r}", where="api_root")
        raise NotFound(f"no collection {collection_id!r} in API root {api_root!r}", where="collection")

    # --- reads -----------------------------------------------------------------------------------------------
    def objects(self, principal: Principal, api_root: str, collection_id: str, query: EntryQuery,
                limit: int | None = None, next_cursor: str | None = None, *,
                clearance: Clearance | None = None) -> Page:
        """Get Objects (section 5.4): the raw objects of one page, recorded as disclosed."""
        return self._page("objects", principal, api_root, collection_id, None, query, limit, next_cursor,
                          default_version="last", with_raw=True, clearance=clearance)

    def manifest(self, principal: Principal, api_root: str, collection_id: str, query: EntryQuery,
                 limit: int | None = None, next_cursor: str | None = None, *,
                 clearance: Clearance | None = None) -> Page:
        """Get Object Manifests (section 5.3)."""
        return self._page("manifest", principal, api_root, collection_id, None, query, limit, next_cursor,
                          default_version="last", with_raw=False, clearance=clearance)

    def object(self, principal: Principal, api_root: str, collection_id: str, object_id: str, query: EntryQuery,
               limit: int | None = None, next_cursor: str | None = None, *,
               clearance: Clearance | None = None) -> Page:
        """Get an Object (section 5.6): 404 unless a version is visible, whatever the filters."""
        return self._page("object", principal, api_root, collection_id, object_id, query, limit, next_cursor,
                          default_version="last", with_raw=True, clearance=clearance)

    def versions(self, principal: Principal, api_root: str, collection_id: str, object_id: str,
                 query: EntryQuery, limit: int | None = None, next_cursor: str | None = None, *,
                 clearance: Clearance | None = None) -> Page:
        """Get Object Versions (section 5.8)."""
        if query.versions:
            raise InvalidInput("the versions endpoint takes no match[version]", where="match[version]")
        return self._page("versions", principal, api_root, collection_id, object_id, query, limit, next_cursor,
                          default_version="all", with_raw=False, clearance=clearance)

    def plan_read(self, principal: Principal, limit: int | None, *,
                  one_object: bool) -> tuple[bool, Clearance | None]:
        """Whether a read may run on the server's event loop rather than in a worker thread, and the viewer's
        clearance when it was settled here (to be passed on to the read).

        On the embedded SQLite store a read of one object, or of a page of at most ``INLINE_ROWS`` entries,
        for a viewer whose reads record nothing is a few index look-ups that never wait for a lock (readers
        do not, in WAL mode): less work than the hop to a worker thread and back. PostgreSQL round trips,
        larger pages and reads that write (disclosures, which may wait for SQLite's write lock) stay off
        the loop. On SQLite a partner's clearance (one read of its agreement) is settled here, on the loop.
        """
        if self.db.dialect != "sqlite" or (not one_object and self._limit(limit) > INLINE_ROWS):
            return False, None
        clearance = self.clearance(principal)
        return not clearance.record_disclosures, clearance

    def _page(self, endpoint: str, principal: Principal, api_root: str, collection_id: str, object_id: str | None,
              query: EntryQuery, limit: int | None, next_cursor: str | None, *, default_version: str,
              with_raw: bool, clearance: Clearance | None = None) -> Page:
        clearance = clearance or self.clearance(principal)
        disclose = with_raw and clearance.record_disclosures
        # One connection for the collection, the page and (when served objects are disclosures) their record:
        # a read-only one unless something is written.
        with self.db.begin() if disclose else self.db.connect() as conn:
            st = self._store(conn)
            self._check_readable(principal, api_root, collection_id, clearance, st.collection(collection_id))
            size = self._limit(limit)
            after: Keyset | None = None
            if next_cursor:
                query, after = self._resume(next_cursor, endpoint, principal, api_root, collection_id, object_id,
                                            query, default_version)
            query = query.with_default_versions(default_version)
            if object_id is not None:
                query = EntryQuery(ids=(object_id,), types=query.types, versions=query.versions,
                                   spec_versions=query.spec_versions, added_after=query.added_after)
            entries, more = st.page(collection_id, clearance, query, after, size, with_raw=with_raw)
            if object_id is not None and not entries and after is None \
                    and not st.has_visible(collection_id, clearance, object_id):
                raise NotFound(f"no object {object_id!r} in collection {collection_id}", where="object")
            if disclose and entries:
                st.record_disclosures(self._now(), clearance, [(e.stix_id, e.version) for e in entries])
        nxt = None
        if more:
            nxt = self._cursors.issue({
                "v": CURSOR_VERSION, "e": endpoint, "r": api_root, "c": collection_id, "o": object_id,
                "u": principal.user.id, "q": query.as_json(), "k": list(_astuple(entries[-1].key)),
            })
        return Page(entries=tuple(entries), more=more, next=nxt)

    def _check_readable(self, principal: Principal, api_root: str, collection_id: str, clearance: Clearance,
                        row: Mapping[str, Any] | None) -> None:
        """Refuse a collection the viewer does not see (404, worded as ``collection`` does) or may not read (403)."""
        view = _view_of(row, clearance, principal) if row is not None and row["api_root"] == api_root else None
        if view is None:
            self.collection(principal, api_root, collection_id, clearance)  # raises the NotFound that fits
            raise NotFound(f"no collection {collection_id!r} in API root {api_root!r}", where="collection")
        if not view.can_read:
            raise PermissionDenied(f"your sharing agreement does not let you read collection {collection_id}",
                                   where="collection")

    def _limit(self, limit: int | None) -> int:
        if limit is None:
            return max(1, min(self.limits.default_page_size, self.limits.max_page_size))
        if limit < 1:
            raise InvalidInput(f"limit must be a positive integer, got {limit}", where="limit")
        return min(limit, self.limits.max_page_size)

    def _resume(self, token: str, endpoint: str, principal: Principal, api_root: str, collection_id: str,
                object_id: str | None, query: EntryQuery, default_version: str) -> tuple[EntryQuery, Keyset]:
        payload = self._cursors.open(token)
        if (payload.get("e"), payload.get("r"), payload.get("c"), payload.get("o")) != \
                (endpoint, api_root, collection_id, object_id):
            raise InvalidInput("the 'next' cursor belongs to another endpoint or collection", where="next")
        if payload.get("u") != principal.user.id:
            raise InvalidInput("the 'next' cursor was issued to another user", where="next")
        try:
            issued = EntryQuery.from_json(payload["q"])
            key = Keyset(*(str(k) for k in payload["k"]))
        except (KeyError, TypeError) as e:
            raise InvalidInput("the 'next' cursor is malformed", where="next") from e
        public = _without_ids(issued, object_id)
        if query != EntryQuery() and query.with_default_versions(default_version) != public:
            raise InvalidInput("the filters differ from those the 'next' cursor was issued for; "
                               "repeat the same filters or send none", where="next")
        return public, key

    # --- writes ----------------------------------------------------------------------------------------------
    def add_objects(self, principal: Principal, api_root: str, collection_id: str, body: bytes) -> StatusResource:
        """Add Objects (section 5.5): valid objects are stored, invalid ones reported as failures."""
        clearance = self.clearance(principal)
        view = self.collection(principal, api_root, collection_id, clearance)
        if not view.can_write:
            raise PermissionDenied(f"your sharing agreement does not let you add objects to collection "
                                   f"{collection_id}", where="collection")
        if len(body) > self.limits.max_content_length:
            raise PayloadTooLarge(f"the envelope exceeds the {self.limits.max_content_length}-byte limit "
                                  "of this API root", where="body")
        objects = parse_envelope(body)
        report = self.intel.ingest(objects, collections=[collection_id], clearance=clearance)
        status = status_of_report(self.ids.new(), api_root, collection_id, principal.user.id, self._now(),
                                  objects, report)
        with self.db.begin() as conn:
            self._store(conn).save_status(status)
        return status

    def status(self, principal: Principal, api_root: str, status_id: str) -> StatusResource:
        """Get Status (section 4.3): only to whoever made the request, or national staff."""
        with self.db.connect() as conn:
            found = self._store(conn).status(status_id)
        if found is None or found.api_root != api_root or \
                (found.user_id != principal.user.id and not principal.is_national):
            raise NotFound(f"no status {status_id!r}", where="status")
        return found

    def delete_object(self, principal: Principal, api_root: str, collection_id: str, object_id: str,
                      query: EntryQuery) -> int:
        """Delete an Object (section 5.7) from this collection only; national staff with taxii:write only."""
        clearance = self.clearance(principal)
        self.collection(principal, api_root, collection_id, clearance)
        if not (principal.is_national and principal.has(Scope.TAXII_WRITE)):
            raise PermissionDenied("only national staff with the taxii:write scope may delete objects",
                                   where="collection")
        q = EntryQuery(ids=(object_id,), versions=query.versions or ("all",), spec_versions=query.spec_versions)
        with self.db.begin() as conn:
            st = self._store(conn)
            if not st.has_visible(collection_id, clearance, object_id):
                raise NotFound(f"no object {object_id!r} in collection {collection_id}", where="object")
            return st.delete_entries(collection_id, clearance, object_id, q)


def _astuple(k: Keyset) -> tuple[str, str, str]:
    return (k.date_added, k.stix_id, k.version)


def _without_ids(q: EntryQuery, object_id: str | None) -> EntryQuery:
    if object_id is None:
        return q
    return EntryQuery(types=q.types, versions=q.versions, spec_versions=q.spec_versions, added_after=q.added_after)


# --- request parsing --------------------------------------------------------------------------------------


def parse_filters(params: Sequence[tuple[str, str]]) -> tuple[EntryQuery, int | None, str | None]:
    """``added_after``, ``limit``, ``next`` and ``match[id|type|version|spec_version]`` (section 3.4).

    Values may repeat and be comma-separated. Unknown parameters are ignored, as section 3.4 allows.
    """
    found: dict[str, list[str]] = {}
    single: dict[str, str] = {}
    for key, value in params:
        if key in ("added_after", "limit", "next"):
            if key in single and single[key] != value:
                raise InvalidInput(f"{key} given twice with different values", where=key)
            single[key] = value
        elif key in ("match[id]", "match[type]", "match[version]", "match[spec_version]"):
            parts = [p.strip() for p in value.split(",")]
            if any(not p for p in parts):
                raise InvalidInput(f"empty value in {key}={value!r}", where=key)
            found.setdefault(key, []).extend(parts)
    versions: list[str] = []
    for v in found.get("match[version]", []):
        versions.append(v if v in VERSION_KEYWORDS else normalise_timestamp(v, where="match[version]"))
    added_after = single.get("added_after")
    limit_text = single.get("limit")
    limit: int | None = None
    if limit_text is not None:
        try:
            limit = int(limit_text)
        except ValueError as e:
            raise InvalidInput(f"limit must be a positive integer, got {limit_text!r}", where="limit") from e
        if limit < 1:
            raise InvalidInput(f"limit must be a positive integer, got {limit_text!r}", where="limit")
    query = EntryQuery(
        ids=_unique(found.get("match[id]", [])), types=_unique(found.get("match[type]", [])),
        versions=_unique(versions), spec_versions=_unique(found.get("match[spec_version]", [])),
        added_after=normalise_timestamp(added_after, where="added_after") if added_after else None,
    )
    return query, limit, single.get("next") or None


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def parse_envelope(body: bytes) -> list[Any]:
    """The ``objects`` of a TAXII envelope (section 3.7); anything else is a 400 naming what is wrong."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidInput(f"malformed JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                           where=f"body:{e.lineno}:{e.colno}") from e
    if not isinstance(doc, dict):
        raise InvalidInput(f"the body must be a TAXII envelope (a JSON object), not a JSON {_json_kind(doc)}",
                           where="body")
    if doc.get("type") == "bundle":
        raise InvalidInput("the body is a STIX bundle; TAXII 2.1 takes an envelope {\"objects\": [...]}",
                           where="body")
    if "objects" not in doc:
        raise InvalidInput("the envelope has no 'objects' member", where="body.objects")
    objects = doc["objects"]
    if not isinstance(objects, list):
        raise InvalidInput(f"'objects' must be a list, not a JSON {_json_kind(objects)}", where="body.objects")
    if not objects:
        raise InvalidInput("the envelope's 'objects' list is empty", where="body.objects")
    return objects


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def status_of_report(status_id: str, api_root: str, collection_id: str, user_id: str | None, at: str,
                     objects: Sequence[Any], report: IngestReport) -> StatusResource:
    failed = {p.index: p for p in report.problems}
    successes: list[StatusDetail] = []
    failures: list[StatusDetail] = []
    for i, obj in enumerate(objects):
        oid, ver = _id_and_version(obj)
        p = failed.get(i)
        if p is None:
            successes.append(StatusDetail(id=oid, version=ver))
        else:
            failures.append(StatusDetail(id=p.object_id or oid, version=ver, message=f"objects[{i}]: {p.reason}"))
    return StatusResource(
        id=status_id, api_root=api_root, collection_id=collection_id, user_id=user_id, status="complete",
        request_timestamp=at, total_count=len(objects), success_count=len(successes),
        failure_count=len(failures), pending_count=0, successes=tuple(successes), failures=tuple(failures),
    )


def _id_and_version(obj: Any) -> tuple[str, str]:
    if not isinstance(obj, dict):
        return "", ""
    oid = obj.get("id")
    ver = obj.get("modified") or obj.get("created") or ""
    return (oid if isinstance(oid, str) else ""), (ver if isinstance(ver, str) else "")


def status_json(s: StatusResource) -> dict[str, Any]:
    """The status resource as TAXII 2.1 section 4.3.1 writes it (empty lists omitted)."""
    body: dict[str, Any] = {
        "id": s.id, "status": s.status, "request_timestamp": s.request_timestamp, "total_count": s.total_count,
        "success_count": s.success_count, "failure_count": s.failure_count, "pending_count": s.pending_count,
    }
    for name, details in (("successes", s.successes), ("failures", s.failures), ("pendings", s.pendings)):
        if details:
            body[name] = [
                {"id": d.id, "version": d.version, **({"message": d.message} if d.message else {})} for d in details
            ]
    return body


# --- composition ------------------------------------------------------------------------------------------


def _view_of(row: Mapping[str, Any], c: Clearance, principal: Principal) -> CollectionView | None:
    """The collection as this viewer sees it, or None when it may neither read nor write it."""
    may_read, may_write = c.may_read_collection(row["id"]), c.may_write_collection(row["id"])
    if not (may_read or may_write):
        return None
    return CollectionView(id=row["id"], api_root=row["api_root"], title=row["title"],
                          description=row["description"], alias=row["alias"],
                          can_read=may_read and principal.has(Scope.TAXII_READ),
                          can_write=may_write and principal.has(Scope.TAXII_WRITE))


def taxii_service(ctx: Context) -> TaxiiService:
    """The TAXII service over a context's database, intelligence service and settings: one per context (its
    cursor key is derived once), built again only when the settings or the intelligence service change."""
    from mamori.adapters.storage.taxii_store import SqlTaxiiStore

    s = ctx.settings
    key = (s.taxii_default_page_size, s.taxii_max_page_size, s.taxii_max_content_length)
    cached = ctx.extras.get("taxii_service")
    if isinstance(cached, TaxiiService) and cached.intel is ctx.intel and cached.limits_key == key:
        return cached
    limits = TaxiiLimits(default_page_size=key[0], max_page_size=key[1], max_content_length=key[2])
    service = TaxiiService(
        ctx.db, ctx.clock, ctx.ids, ctx.intel, secret_key=ctx.secret_key, store=SqlTaxiiStore, limits=limits,
    )
    ctx.extras["taxii_service"] = service
    return service


__all__ = [
    "STIX_MEDIA_TYPE",
    "TAXII_MEDIA_TYPE",
    "CollectionView",
    "CursorSigner",
    "Entry",
    "EntryQuery",
    "Keyset",
    "Page",
    "StatusDetail",
    "StatusResource",
    "TaxiiLimits",
    "TaxiiService",
    "derive_key",
    "parse_envelope",
    "parse_filters",
    "status_json",
    "status_of_report",
    "taxii_service",
]

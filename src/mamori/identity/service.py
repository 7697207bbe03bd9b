"""Identity use cases: organisations, users, passwords, API tokens and web sessions.

API tokens and session ids are random secrets shown once; only their SHA-256 is stored, so a stolen database
does not yield usable credentials. Passwords use Argon2id.

Token authentication is on the path of every API and TAXII call, so each process keeps the principals of tokens
it has just verified for at most ``token_cache_s`` seconds (5 by default), keyed by the token's SHA-256, never the
secret. A token revoked, or its user disabled (``set_active``), through this process stops working at once (the
cache is emptied); through another process, within ``token_cache_s``. An expiry date is checked on every call,
cached or not. ``token_cache_s=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Connection

from mamori.adapters.storage.database import Database
from mamori.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from mamori.identity.model import (
    ROLE_ORG_KIND,
    ROLE_SCOPES,
    ApiToken,
    IssuedToken,
    Organisation,
    OrgKind,
    Principal,
    Role,
    Scope,
    User,
    WebSession,
)
from mamori.identity.passwords import MIN_LENGTH, hash_password, verify_password
from mamori.identity.ports import IdentityStore
from mamori.kernel.clock import Clock
from mamori.kernel.ids import IdFactory
from mamori.kernel.timefmt import format_timestamp

TOKEN_PREFIX = "mamori_"  # noqa: S105 - a public marker, not a secret
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,149}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
LOCALES = ("ja", "en")
TOKEN_CACHE_S = 5.0
TOKEN_CACHE_MAX = 4096


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class IdentityService:
    def __init__(
        self,
        db: Database,
        store: Callable[[Connection], IdentityStore],
        clock: Clock,
        ids: IdFactory,
        session_max_age_s: int = 8 * 3600,
        token_cache_s: float = TOKEN_CACHE_S,
    ) -> None:
        self.db = db
        self._store = store
        self.clock = clock
        self.ids = ids
        self.session_max_age_s = session_max_age_s
        self.token_cache_s = token_cache_s
        # token hash -> (principal, token expiry, monotonic time after which the entry is not used)
        self._tokens: dict[str, tuple[Principal, str | None, float]] = {}
        self._tokens_generation = 0  # moved on by forget_tokens: a verification begun before is not cached

    def _now(self) -> str:
        return format_timestamp(self.clock.now())

    # --- organisations ---------------------------------------------------------------------------------
    def create_organisation(
        self,
        key: str,
        name: str,
        kind: OrgKind | str,
        *,
        name_ja: str | None = None,
        sector: str | None = None,
        country: str | None = None,
    ) -> Organisation:
        if not _KEY.match(key):
            raise InvalidInput(f"organisation key {key!r} must be lower-case letters, digits and '-'", where="key")
        try:
            kind = OrgKind(kind)
        except ValueError as e:
            raise InvalidInput(f"unknown organisation kind {kind!r}", where="kind") from e
        if not name.strip():
            raise InvalidInput("organisation name is empty", where="name")
        org = Organisation(
            id=self.ids.new(), key=key, name=name.strip(), kind=kind, name_ja=name_ja, sector=sector, country=country
        )
        with self.db.begin() as conn:
            st = self._store(conn)
            if st.organisation_by_key(key):
                raise Conflict(f"organisation {key!r} already exists", where="key")
            st.add_organisation(org, self._now())
        return org

    def organisation(self, ref: str) -> Organisation:
        """By id or key."""
        with self.db.connect() as conn:
            st = self._store(conn)
            org = st.organisation(ref) or st.organisation_by_key(ref)
        if org is None:
            raise NotFound(f"no organisation {ref!r}", where="organisation")
        return org

    def organisations(self) -> list[Organisation]:
        with self.db.connect() as conn:
            return self._store(conn).organisations()

    # --- users -----------------------------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        role: Role | str,
        *,
        password: str | None = None,
        organisation: str | None = None,
        locale: str = "ja",
        display_name: str | None = None,
    ) -> User:
        if not _USERNAME.match(username or ""):
            raise InvalidInput(
                f"username {username!r} must be 2-150 letters, digits or . _ @ -", where="username"
            )
        try:
            role = Role(role)
        except ValueError as e:
            raise InvalidInput(
                f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}", where="role"
            ) from e
        if locale not in LOCALES:
            raise InvalidInput(f"unknown locale {locale!r}; one of {', '.join(LOCALES)}", where="locale")
        if password is not None and len(password) < MIN_LENGTH:
            raise InvalidInput(f"password must have at least {MIN_LENGTH} characters", where="password")
        with self.db.begin() as conn:
            st = self._store(conn)
            org = None
            if organisation:
                org = st.organisation(organisation) or st.organisation_by_key(organisation)
                if org is None:
                    raise NotFound(f"no organisation {organisation!r}", where="organisation")
            need = ROLE_ORG_KIND[role]
            if need is not None and (org is None or org.kind != need):
                raise InvalidInput(
                    f"role {role.value} must be bound to an organisation of kind {need.value}", where="organisation"
                )
            if st.user_by_username(username):
                raise Conflict(f"user {username!r} already exists", where="username")
            user = User(
                id=self.ids.new(), username=username, role=role, organisation_id=org.id if org else None,
                locale=locale, display_name=display_name,
            )
            st.add_user(user, hash_password(password) if password else None, self._now())
        return user

    def user(self, ref: str) -> User:
        with self.db.connect() as conn:
            st = self._store(conn)
            user = st.user(ref)
            if user is None:
                found = st.user_by_username(ref)
                user = found[0] if found else None
        if user is None:
            raise NotFound(f"no user {ref!r}", where="username")
        return user

    def users(self) -> list[User]:
        with self.db.connect() as conn:
            return self._store(conn).users()

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_LENGTH:
            raise InvalidInput(f"password must have at least {MIN_LENGTH} characters", where="password")
        user = self.user(username)
        with self.db.begin() as conn:
            self._store(conn).set_password(user.id, hash_password(password), self._now())

    def set_active(self, username: str, active: bool) -> User:
        """Disable an account (it can no longer log in, its web sessions end and its API tokens stop working at
        once in this process, within the token cache's few seconds in others) or enable it again (its tokens
        that were not revoked work again)."""
        user = self.user(username)
        with self.db.begin() as conn:
            st = self._store(conn)
            st.set_active(user.id, active)
            if not active:
                st.delete_sessions_of(user.id)
        if not active:
            self.forget_tokens()
        return self.user(user.id)

    def set_locale(self, user_id: str, locale: str) -> None:
        if locale not in LOCALES:
            raise InvalidInput(f"unknown locale {locale!r}", where="locale")
        with self.db.begin() as conn:
            self._store(conn).set_locale(user_id, locale)

    def principal_of(self, user: User, scopes: frozenset[Scope] | None = None, via: str = "session") -> Principal:
        org = None
        if user.organisation_id:
            with self.db.connect() as conn:
                org = self._store(conn).organisation(user.organisation_id)
        granted = ROLE_SCOPES[user.role] if scopes is None else scopes & ROLE_SCOPES[user.role]
        return Principal(user=user, organisation=org, scopes=granted, via=via)

    # --- authentication --------------------------------------------------------------------------------
    def authenticate_password(self, username: str, password: str, via: str = "session") -> Principal:
        with self.db.connect() as conn:
            found = self._store(conn).user_by_username(username)
        user, stored = found if found else (None, None)
        ok = verify_password(stored, password)
        if not ok or user is None or not user.active:
            raise Unauthenticated("wrong username or password")
        return self.principal_of(user, via=via)

    def issue_token(
        self, username: str, *, name: str = "api", scopes: list[str] | None = None, ttl_days: int | None = None
    ) -> IssuedToken:
        user = self.user(username)
        allowed = ROLE_SCOPES[user.role]
        if scopes:
            try:
                wanted = frozenset(Scope(s) for s in scopes)
            except ValueError as e:
                raise InvalidInput(f"unknown scope in {scopes!r}", where="scopes") from e
            if not wanted <= allowed:
                extra = ", ".join(sorted(s.value for s in wanted - allowed))
                raise PermissionDenied(f"role {user.role.value} cannot hold scopes: {extra}", where="scopes")
        else:
            wanted = allowed
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        token = ApiToken(
            id=self.ids.new(), user_id=user.id, name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], scopes=wanted,
            created_at=format_timestamp(now),
            expires_at=format_timestamp(now + timedelta(days=ttl_days)) if ttl_days else None, revoked_at=None,
        )
        with self.db.begin() as conn:
            self._store(conn).add_token(token, secret_hash(secret))
        return IssuedToken(token=token, secret=secret)

    def authenticate_token(self, secret: str) -> Principal:
        """Read-only: every API call passes through here, so it takes no write lock (and, for a token verified
        in the last ``token_cache_s`` seconds, no query)."""
        token_hash = secret_hash(secret)
        cached = self._tokens.get(token_hash)
        if cached is not None:
            principal, expires_at, fresh_until = cached
            if time.monotonic() < fresh_until:
                if expires_at and expires_at <= self._now():
                    self._tokens.pop(token_hash, None)
                    raise Unauthenticated("invalid, expired or revoked token")
                return principal
            self._tokens.pop(token_hash, None)
        generation = self._tokens_generation
        with self.db.connect() as conn:
            st = self._store(conn)
            token = st.token_by_hash(token_hash)
            now = self._now()
            if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
                raise Unauthenticated("invalid, expired or revoked token")
            user = st.user(token.user_id)
            if user is None or not user.active:
                raise Unauthenticated("invalid, expired or revoked token")
            org = st.organisation(user.organisation_id) if user.organisation_id else None
        principal = Principal(user=user, organisation=org, scopes=token.scopes & ROLE_SCOPES[user.role], via="token")
        if self.token_cache_s > 0 and generation == self._tokens_generation:
            if len(self._tokens) >= TOKEN_CACHE_MAX:
                self._tokens.clear()
            self._tokens[token_hash] = (principal, token.expires_at, time.monotonic() + self.token_cache_s)
        return principal

    def forget_tokens(self) -> None:
        """Drop every cached token verification, so the next call of each token reads the database again."""
        self._tokens_generation += 1
        self._tokens.clear()

    def tokens(self, username: str) -> list[ApiToken]:
        user = self.user(username)
        with self.db.connect() as conn:
            return self._store(conn).tokens_of(user.id)

    def revoke_token(self, token_id: str) -> None:
        with self.db.begin() as conn:
            if not self._store(conn).revoke_token(token_id, self._now()):
                raise NotFound(f"no active token {token_id!r}", where="token")
        self.forget_tokens()

    # --- web sessions ----------------------------------------------------------------------------------
    def open_session(self, principal: Principal) -> tuple[str, WebSession]:
        sid = secrets.token_urlsafe(32)
        now = self.clock.now()
        session = WebSession(
            user_id=principal.user.id, csrf_token=secrets.token_urlsafe(24),
            expires_at=format_timestamp(now + timedelta(seconds=self.session_max_age_s)),
        )
        with self.db.begin() as conn:
            st = self._store(conn)
            st.purge_sessions(format_timestamp(now))
            st.add_session(secret_hash(sid), session, format_timestamp(now))
        return sid, session

    def resolve_session(self, sid: str) -> tuple[Principal, WebSession]:
        with self.db.connect() as conn:
            st = self._store(conn)
            session = st.session(secret_hash(sid))
            user = st.user(session.user_id) if session else None
        if session is None or session.expires_at <= self._now() or user is None or not user.active:
            raise Unauthenticated("session expired; please log in again")
        return self.principal_of(user), session

    def close_session(self, sid: str) -> None:
        with self.db.begin() as conn:
            self._store(conn).delete_session(secret_hash(sid))

"""SQL implementation of the identity store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sqlalchemy import Connection, delete, select, update

from mamori.adapters.storage.schema import api_tokens, organisations, users, web_sessions
from mamori.identity.model import ApiToken, Organisation, OrgKind, Role, Scope, User, WebSession


def _org(row: object) -> Organisation:
    m = row._mapping  # type: ignore[attr-defined]
    return Organisation(
        id=m["id"], key=m["key"], name=m["name"], kind=OrgKind(m["kind"]), name_ja=m["name_ja"],
        sector=m["sector"], country=m["country"],
    )


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(
        id=m["id"], username=m["username"], role=Role(m["role"]), organisation_id=m["organisation_id"],
        locale=m["locale"], display_name=m["display_name"], active=bool(m["active"]),
    )


def _token(row: object) -> ApiToken:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiToken(
        id=m["id"], user_id=m["user_id"], name=m["name"], prefix=m["prefix"],
        scopes=frozenset(Scope(s) for s in json.loads(m["scopes"])), created_at=m["created_at"],
        expires_at=m["expires_at"], revoked_at=m["revoked_at"],
    )


class SqlIdentityStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # organisations
    def add_organisation(self, org: Organisation, created_at: str) -> None:
        self.conn.execute(
            organisations.insert().values(
                id=org.id, key=org.key, name=org.name, name_ja=org.name_ja, kind=org.kind.value,
                sector=org.sector, country=org.country, created_at=created_at,
            )
        )

    def organisation(self, org_id: str) -> Organisation | None:
        row = self.conn.execute(select(organisations).where(organisations.c.id == org_id)).first()
        return _org(row) if row else None

    def organisation_by_key(self, key: str) -> Organisation | None:
        row = self.conn.execute(select(organisations).where(organisations.c.key == key)).first()
        return _org(row) if row else None

    def organisations(self) -> list[Organisation]:
        return [_org(r) for r in self.conn.execute(select(organisations).order_by(organisations.c.name))]

    # users
    def add_user(self, user: User, password_hash: str | None, created_at: str) -> None:
        self.conn.execute(
            users.insert().values(
                id=user.id, username=user.username, display_name=user.display_name, password_hash=password_hash,
                role=user.role.value, organisation_id=user.organisation_id, locale=user.locale,
                active=user.active, created_at=created_at, password_changed_at=created_at if password_hash else None,
            )
        )

    def user(self, user_id: str) -> User | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def user_by_username(self, username: str) -> tuple[User, str | None] | None:
        row = self.conn.execute(select(users).where(users.c.username == username)).first()
        return (_user(row), row._mapping["password_hash"]) if row else None

    def users(self) -> list[User]:
        return [_user(r) for r in self.conn.execute(select(users).order_by(users.c.username))]

    def set_password(self, user_id: str, password_hash: str, at: str) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash, password_changed_at=at)
        )

    def set_locale(self, user_id: str, locale: str) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(locale=locale))

    def set_active(self, user_id: str, active: bool) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(active=active))

    # tokens
    def add_token(self, token: ApiToken, token_hash: str) -> None:
        self.conn.execute(
            api_tokens.insert().values(
                id=token.id, user_id=token.user_id, name=token.name, token_hash=token_hash, prefix=token.prefix,
                scopes=json.dumps(sorted(s.value for s in token.scopes)), created_at=token.created_at,
                expires_at=token.expires_at, revoked_at=None,
            )
        )

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
        return _token(row) if row else None

    def tokens_of(self, user_id: str) -> list[ApiToken]:
        q = select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.created_at)
        return [_token(r) for r in self.conn.execute(q)]

    def revoke_token(self, token_id: str, at: str) -> bool:
        res = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(res.rowcount)

    def touch_token(self, token_id: str, at: str) -> None:
        self.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at))

    # sessions
    def add_session(self, id_hash: str, session: WebSession, created_at: str) -> None:
        self.conn.execute(
            web_sessions.insert().values(
                id_hash=id_hash, user_id=session.user_id, csrf_token=session.csrf_token, created_at=created_at,
                expires_at=session.expires_at,
            )
        )

    def session(self, id_hash: str) -> WebSession | None:
        row = self.conn.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash)).first()
        if not row:
            return None
        m = row._mapping
        return WebSession(user_id=m["user_id"], csrf_token=m["csrf_token"], expires_at=m["expires_at"])

    def delete_sessions_of(self, user_id: str) -> int:
        return int(self.conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount)

    def delete_session(self, id_hash: str) -> None:
        self.conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))

    def purge_sessions(self, before: str) -> int:
        return int(self.conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < before)).rowcount)

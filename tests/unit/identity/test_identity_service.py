"""Users, organisations, tokens and sessions."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from mamori.bootstrap import Context
from mamori.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from mamori.identity.model import Scope
from mamori.kernel.clock import FixedClock


def test_passwords_are_hashed_with_argon2(ctx: Context) -> None:
    ctx.identity.create_user("alice", "analyst", password="correct horse battery")
    from sqlalchemy import select

    from mamori.adapters.storage.schema import users

    with ctx.db.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert ctx.identity.authenticate_password("alice", "correct horse battery").user.username == "alice"
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_password("alice", "wrong")
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_password("nobody", "correct horse battery")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"username": "a b", "role": "analyst"}, InvalidInput),
        ({"username": "carol", "role": "wizard"}, InvalidInput),
        ({"username": "carol", "role": "operator"}, InvalidInput),  # operators need an operator organisation
        ({"username": "carol", "role": "partner", "organisation": "nowhere"}, NotFound),
        ({"username": "carol", "role": "analyst", "password": "short"}, InvalidInput),
        ({"username": "carol", "role": "analyst", "locale": "fr"}, InvalidInput),
    ],
)
def test_bad_user_input_is_refused_and_creates_nothing(ctx: Context, kwargs: dict[str, str],
                                                       error: type[Exception]) -> None:
    with pytest.raises(error):
        ctx.identity.create_user(**kwargs)  # type: ignore[arg-type]
    assert ctx.identity.users() == []


def test_duplicates_conflict(ctx: Context) -> None:
    ctx.identity.create_organisation("bank-a", "Bank A", "operator", sector="finance")
    with pytest.raises(Conflict):
        ctx.identity.create_organisation("bank-a", "Bank A again", "operator")
    ctx.identity.create_user("op", "operator", organisation="bank-a")
    with pytest.raises(Conflict):
        ctx.identity.create_user("op", "analyst")


def test_tokens_are_stored_hashed_scoped_and_revocable(ctx: Context) -> None:
    ctx.identity.create_user("alice", "analyst")
    issued = ctx.identity.issue_token("alice", scopes=["intel:read"])
    from sqlalchemy import select

    from mamori.adapters.storage.schema import api_tokens

    with ctx.db.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert issued.secret not in stored
    p = ctx.identity.authenticate_token(issued.secret)
    assert p.scopes == frozenset({Scope.INTEL_READ})
    ctx.identity.revoke_token(issued.token.id)
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_token(issued.secret)


def test_a_token_cannot_exceed_its_role(ctx: Context) -> None:
    ctx.identity.create_organisation("bank-a", "Bank A", "operator")
    ctx.identity.create_user("op", "operator", organisation="bank-a")
    with pytest.raises(PermissionDenied):
        ctx.identity.issue_token("op", scopes=["intel:write"])


def test_tokens_and_sessions_expire(ctx: Context) -> None:
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    ctx.identity.create_user("alice", "analyst", password="correct horse battery")
    issued = ctx.identity.issue_token("alice", ttl_days=1)
    principal = ctx.identity.authenticate_password("alice", "correct horse battery")
    sid, _session = ctx.identity.open_session(principal)
    assert ctx.identity.resolve_session(sid)[0].user.username == "alice"
    clock.advance(timedelta(days=2))
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_token(issued.secret)
    with pytest.raises(Unauthenticated):
        ctx.identity.resolve_session(sid)


def test_closed_sessions_are_gone(ctx: Context) -> None:
    ctx.identity.create_user("alice", "analyst", password="correct horse battery")
    sid, _ = ctx.identity.open_session(ctx.identity.authenticate_password("alice", "correct horse battery"))
    ctx.identity.close_session(sid)
    with pytest.raises(Unauthenticated):
        ctx.identity.resolve_session(sid)


def test_a_disabled_account_loses_every_way_in_at_once_and_enabling_restores_it(ctx: Context) -> None:
    ctx.identity.create_user("alice", "analyst", password="correct horse battery")
    secret = ctx.identity.issue_token("alice").secret
    assert ctx.identity.authenticate_token(secret).user.username == "alice"  # now in the token cache
    sid, _ = ctx.identity.open_session(ctx.identity.authenticate_password("alice", "correct horse battery"))
    assert not ctx.identity.set_active("alice", False).active
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_password("alice", "correct horse battery")
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_token(secret)  # the cached verification is gone with it
    with pytest.raises(Unauthenticated):
        ctx.identity.resolve_session(sid)
    assert ctx.identity.set_active("alice", True).active
    assert ctx.identity.authenticate_token(secret).user.username == "alice"  # its token was not revoked
    assert ctx.identity.authenticate_password("alice", "correct horse battery").user.active
    with pytest.raises(Unauthenticated):
        ctx.identity.resolve_session(sid)  # ended sessions stay ended
    with pytest.raises(NotFound):
        ctx.identity.set_active("ghost", False)


def test_a_cached_token_stops_working_when_it_expires(ctx: Context, clock: FixedClock) -> None:
    ctx.identity.create_user("alice", "analyst")
    issued = ctx.identity.issue_token("alice", ttl_days=1)
    assert ctx.identity.authenticate_token(issued.secret).user.username == "alice"  # now cached
    clock.advance(timedelta(days=1, seconds=1))
    with pytest.raises(Unauthenticated):
        ctx.identity.authenticate_token(issued.secret)


def test_a_token_revoked_by_another_process_stops_working_within_the_cache_lifetime(ctx: Context) -> None:
    from mamori.adapters.storage.identity_store import SqlIdentityStore
    from mamori.identity.service import IdentityService

    server = IdentityService(ctx.db, SqlIdentityStore, ctx.clock, ctx.ids, token_cache_s=0.2)
    ctx.identity.create_user("alice", "analyst")
    issued = ctx.identity.issue_token("alice")
    server.authenticate_token(issued.secret)
    ctx.identity.revoke_token(issued.token.id)  # "another process": this service's cache is not told
    server.authenticate_token(issued.secret)  # still within token_cache_s
    time.sleep(0.25)
    with pytest.raises(Unauthenticated):
        server.authenticate_token(issued.secret)


def test_without_the_token_cache_every_call_reads_the_database(ctx: Context) -> None:
    from mamori.adapters.storage.identity_store import SqlIdentityStore
    from mamori.identity.service import IdentityService

    server = IdentityService(ctx.db, SqlIdentityStore, ctx.clock, ctx.ids, token_cache_s=0)
    ctx.identity.create_user("alice", "analyst")
    issued = ctx.identity.issue_token("alice")
    server.authenticate_token(issued.secret)
    ctx.identity.revoke_token(issued.token.id)
    with pytest.raises(Unauthenticated):
        server.authenticate_token(issued.secret)


def test_the_token_cache_holds_hashes_never_secrets(ctx: Context) -> None:
    ctx.identity.create_user("alice", "analyst")
    issued = ctx.identity.issue_token("alice")
    ctx.identity.authenticate_token(issued.secret)
    assert issued.secret not in repr(vars(ctx.identity))

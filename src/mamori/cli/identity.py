"""``mamori user``, ``mamori token`` and ``mamori org``: accounts, credentials and organisations."""

from __future__ import annotations

import secrets

import typer

from mamori.cli.common import _, context, out
from mamori.identity.model import OrgKind, Role

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
org_app = typer.Typer(help="Manage organisations.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    username: str = typer.Option(..., "--username", "-u", help="Login name."),
    role: Role = typer.Option(..., "--role", "-r", help="admin, analyst, operator, commissioner or partner."),
    organisation: str | None = typer.Option(None, "--organisation", "-o", help="Organisation key or id."),
    password: str | None = typer.Option(None, "--password", help="Set this password (else one is generated)."),
    locale: str = typer.Option("ja", "--locale", help="ja or en."),
    display_name: str | None = typer.Option(None, "--display-name"),
) -> None:
    """Create a user; prints the generated password once when none is given."""
    generated = password is None
    pw = password or secrets.token_urlsafe(15)
    with context() as ctx:
        user = ctx.identity.create_user(username, role, password=pw, organisation=organisation, locale=locale,
                                        display_name=display_name)
    out.print(_("created user {username} ({role})", username=user.username, role=user.role.value))
    if generated:
        out.print(_("password: {password}", password=pw), highlight=False)


@user_app.command("list")
def user_list() -> None:
    """List users."""
    with context() as ctx:
        for u in ctx.identity.users():
            state = "active" if u.active else "disabled"
            out.print(f"{u.username}\t{u.role.value}\t{u.organisation_id or '-'}\t{u.locale}\t{state}",
                      highlight=False)


@user_app.command("disable")
def user_disable(username: str = typer.Option(..., "--username", "-u")) -> None:
    """Disable an account: no more logins, its web sessions end and its API tokens stop working."""
    with context() as ctx:
        ctx.identity.set_active(username, False)
    out.print(_("disabled {username}", username=username))


@user_app.command("enable")
def user_enable(username: str = typer.Option(..., "--username", "-u")) -> None:
    """Enable a disabled account again (its unrevoked API tokens work again)."""
    with context() as ctx:
        ctx.identity.set_active(username, True)
    out.print(_("enabled {username}", username=username))


@user_app.command("set-password")
def user_set_password(
    username: str = typer.Option(..., "--username", "-u"),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password."""
    with context() as ctx:
        ctx.identity.set_password(username, password)
    out.print(_("password changed for {username}", username=username))


@token_app.command("create")
def token_create(
    username: str = typer.Option(..., "--username", "-u"),
    name: str = typer.Option("cli", "--name"),
    scope: list[str] = typer.Option([], "--scope", help="Limit the token to these scopes (repeatable)."),
    ttl_days: int | None = typer.Option(None, "--ttl-days", min=1),
) -> None:
    """Create an API token and print it (it is shown only once)."""
    with context() as ctx:
        issued = ctx.identity.issue_token(username, name=name, scopes=scope or None, ttl_days=ttl_days)
    out.print(issued.secret, highlight=False)


@token_app.command("list")
def token_list(username: str = typer.Option(..., "--username", "-u")) -> None:
    """List a user's tokens (never the secrets)."""
    with context() as ctx:
        for t in ctx.identity.tokens(username):
            state = "revoked" if t.revoked_at else "active"
            out.print(f"{t.id}\t{t.prefix}…\t{t.name}\t{state}\t{','.join(sorted(t.scopes))}", highlight=False)


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(...)) -> None:
    """Revoke a token by id."""
    with context() as ctx:
        ctx.identity.revoke_token(token_id)
    out.print(_("revoked {token_id}", token_id=token_id))


@org_app.command("create")
def org_create(
    key: str = typer.Option(..., "--key"),
    name: str = typer.Option(..., "--name"),
    kind: OrgKind = typer.Option(..., "--kind"),
    name_ja: str | None = typer.Option(None, "--name-ja"),
    sector: str | None = typer.Option(None, "--sector"),
    country: str | None = typer.Option(None, "--country"),
) -> None:
    """Create an organisation."""
    with context() as ctx:
        org = ctx.identity.create_organisation(key, name, kind, name_ja=name_ja, sector=sector, country=country)
    out.print(_("created organisation {key} ({kind}) id={id}", key=org.key, kind=org.kind.value, id=org.id))


@org_app.command("list")
def org_list() -> None:
    """List organisations."""
    with context() as ctx:
        for o in ctx.identity.organisations():
            out.print(f"{o.key}\t{o.kind.value}\t{o.sector or '-'}\t{o.name}", highlight=False)

"""The ``mamori`` command: subcommands per capability, ``serve`` and ``demo``."""

from __future__ import annotations

import importlib

import typer

from mamori.cli import identity, intel
from mamori.cli.common import _, context, out

app = typer.Typer(
    name="mamori",
    help="mamori (守り): national cyber-defence platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(identity.user_app, name="user")
app.add_typer(identity.token_app, name="token")
app.add_typer(identity.org_app, name="org")
app.add_typer(intel.app, name="intel")

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done on every start)."""
    with context() as ctx:
        out.print(_("database at {url} is up to date", url=ctx.db.engine.url.render_as_string(hide_password=True)))


@app.command()
def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (MAMORI_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (MAMORI_PORT)."),
) -> None:
    """Serve the API, TAXII 2.1 and the web UI."""
    import uvicorn

    from mamori.api.app import create_app
    from mamori.logging_setup import configure_logging

    configure_logging()
    with context() as ctx:
        uvicorn.run(create_app(ctx), host=host or ctx.settings.host, port=port or ctx.settings.port,
                    log_config=None, access_log=False)


for _name in ("demo", "taxii", "traffic"):
    try:
        _mod = importlib.import_module(f"mamori.cli.{_name}")
    except ModuleNotFoundError as _e:
        if _e.name != f"mamori.cli.{_name}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    app()

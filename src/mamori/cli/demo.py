"""``mamori demo``: seed the fictitious demo community and serve it."""

from __future__ import annotations

import typer

from mamori.cli.common import _, console, context, out


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        host: str | None = typer.Option(None, "--host", help="Address to listen on (MAMORI_HOST)."),
        port: int | None = typer.Option(None, "--port", help="Port (MAMORI_PORT)."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve after seeding."),
    ) -> None:
        """Seed demo data (idempotent), print where to log in, and serve."""
        import uvicorn

        from mamori.api.app import create_app
        from mamori.demo.loader import load_demo
        from mamori.logging_setup import configure_logging

        with context() as ctx:
            with console.status(_("seeding demo data")):
                loaded = load_demo(ctx)
            r = loaded.report
            out.print(_("demo: {orgs} organisations and {users} users created; {added} intelligence objects added "
                        "({duplicates} already present, {invalid} invalid)", orgs=loaded.organisations,
                        users=loaded.users, added=r.added, duplicates=r.duplicates, invalid=r.invalid),
                      highlight=False)
            out.print(_("demo logins (username, role, password): {path}", path=loaded.credentials_file),
                      highlight=False)
            if loaded.credentials_file.exists():
                out.print(loaded.credentials_file.read_text(), highlight=False, markup=False)
            if not serve:
                return
            h, p = host or ctx.settings.host, port or ctx.settings.port
            serving = "serving on http://{host}:{port}/ (TAXII 2.1 discovery at /taxii2/, OpenAPI at /api/openapi.json)"
            out.print(_(serving, host=h, port=p))
            configure_logging()
            uvicorn.run(create_app(ctx), host=h, port=p, log_config=None, access_log=False)

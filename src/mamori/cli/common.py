"""What every command shares: building the context, one-line failures, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from mamori.bootstrap import Context, build_context
from mamori.config import Settings
from mamori.errors import MamoriError
from mamori.i18n import cli_locale, translations

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


@contextmanager
def context() -> Iterator[Context]:
    """Build the context from MAMORI_* settings; any mamori error becomes a one-line reason and exit 1."""
    try:
        settings = Settings()
    except Exception as e:
        console.print(f"[red]{_('error')}:[/red] configuration: {e}".splitlines()[0])
        raise typer.Exit(2) from e
    ctx = None
    try:
        ctx = build_context(settings)
        yield ctx
    except MamoriError as e:
        console.print(f"[red]{_('error')}:[/red] {e}", highlight=False, markup=True)
        raise typer.Exit(1) from e
    finally:
        if ctx is not None:
            ctx.close()


def _(message: str, **values: object) -> str:
    """The CLI message in the user's language (MAMORI_LOCALE, else LC_ALL / LC_MESSAGES / LANG)."""
    text = translations(cli_locale()).gettext(message)
    return text.format(**values) if values else text


def fail(message: str, code: int = 1) -> None:
    console.print(f"[red]{_('error')}:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def is_tty() -> bool:
    return sys.stderr.isatty()

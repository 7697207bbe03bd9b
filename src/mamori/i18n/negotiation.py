"""Choosing the language to speak: the HTTP ``Accept-Language`` header (RFC 9110 §12.5.4) for visitors who
have not logged in, and the POSIX locale variables for the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping

from mamori.i18n.catalogs import SUPPORTED_LOCALES


def _primary(tag: str) -> str:
    """``ja-JP`` → ``ja``; ``en_GB.UTF-8`` → ``en``."""
    return tag.strip().split(".")[0].split("@")[0].replace("_", "-").split("-")[0].lower()


def negotiate(accept_language: str | None, default: str = "ja") -> str:
    """The supported locale the client prefers most, by quality value; ``default`` when none matches.

    Malformed parts of the header are skipped rather than refused: a browser's header is a wish, not input to
    validate. A range with ``q=0`` means "not this one".
    """
    if not accept_language:
        return default
    wishes: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.partition(";")
        tag = tag.strip()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        if quality > 0:
            wishes.append((-quality, position, tag))
    for _q, _pos, tag in sorted(wishes):
        if tag == "*":
            return default
        primary = _primary(tag)
        if primary in SUPPORTED_LOCALES:
            return primary
    return default


def cli_locale(environ: Mapping[str, str] | None = None, default: str = "ja") -> str:
    """The command line's language: ``MAMORI_LOCALE``, else ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` as POSIX
    orders them; ``C``/``POSIX`` and languages mamori does not speak give ``default``."""
    env = os.environ if environ is None else environ
    explicit = env.get("MAMORI_LOCALE", "").strip()
    if explicit:
        primary = _primary(explicit)
        if primary in SUPPORTED_LOCALES:
            return primary
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if not value:
            continue
        primary = _primary(value)
        return primary if primary in SUPPORTED_LOCALES else default
    return default


__all__ = ["cli_locale", "negotiate"]

"""Message catalogs of mamori (GNU gettext PO files) compiled in memory on first use.

The PO files under ``locale/<lang>/LC_MESSAGES/mamori.po`` are the only source: they are read with Babel and
turned into ``babel.support.Translations`` when a locale is first asked for, so no build step produces ``.mo``
files. Message ids are the English text; fuzzy entries are ignored, as ``msgfmt`` would.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations

from mamori.errors import IntegrityError, InvalidInput

DOMAIN: Final = "mamori"
SUPPORTED_LOCALES: Final = ("ja", "en")
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"


def catalog_path(locale: str) -> Path:
    """Where the PO file of one supported locale lives."""
    return LOCALE_DIR / check_locale(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


def check_locale(locale: str) -> str:
    """The locale itself when mamori speaks it; otherwise a clear error."""
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(
            f"unsupported locale {locale!r}; one of {', '.join(SUPPORTED_LOCALES)}", where="locale"
        )
    return locale


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet (gettext_noop)."""
    return message


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> Translations:
    """The compiled catalog of ``locale`` (``ja`` or ``en``), read once per process."""
    path = catalog_path(locale)
    try:
        with path.open("rb") as f:
            catalog = read_po(f, locale=locale, domain=DOMAIN, abort_invalid=True)
    except FileNotFoundError as e:
        raise IntegrityError(f"message catalog missing for locale {locale!r}", where=str(path)) from e
    except PoFileError as e:
        raise IntegrityError(f"message catalog is malformed: {e}", where=str(path)) from e
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


__all__ = ["DOMAIN", "LOCALE_DIR", "N_", "SUPPORTED_LOCALES", "catalog_path", "check_locale", "translations"]

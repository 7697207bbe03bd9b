"""Internationalisation of mamori: Japanese and English catalogs, language negotiation, and locale-aware
formatting of times (shown in JST, stored in UTC) and numbers.

The catalogs are GNU gettext PO files compiled at first use (see :mod:`mamori.i18n.catalogs`).
"""

from __future__ import annotations

from mamori.i18n.catalogs import DOMAIN, N_, SUPPORTED_LOCALES, check_locale, translations
from mamori.i18n.formatting import (
    DISPLAY_TIMEZONE,
    as_utc,
    format_date_local,
    format_datetime_jst,
    format_number,
    format_ratio,
)
from mamori.i18n.negotiation import cli_locale, negotiate

__all__ = [
    "DISPLAY_TIMEZONE",
    "DOMAIN",
    "N_",
    "SUPPORTED_LOCALES",
    "as_utc",
    "check_locale",
    "cli_locale",
    "format_date_local",
    "format_datetime_jst",
    "format_number",
    "format_ratio",
    "negotiate",
    "translations",
]

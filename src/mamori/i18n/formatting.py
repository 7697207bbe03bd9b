"""Dates, times and numbers written the way each locale reads them (CLDR data through Babel).

Times are stored in UTC (RFC 3339 text with ``Z``) and shown in the deployment's display time zone, Japan
Standard Time by default, with the zone's abbreviation so nobody mistakes them for UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal, format_percent

from mamori.errors import InvalidInput
from mamori.i18n.catalogs import check_locale
from mamori.kernel.timefmt import parse_timestamp

DISPLAY_TIMEZONE = "Asia/Tokyo"


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone called ``name``, or a clear error naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InvalidInput(f"unknown time zone {name!r}", where="display_timezone") from e


def as_utc(value: str | datetime, *, where: str = "timestamp") -> datetime:
    """An aware UTC datetime from RFC 3339 text or an aware datetime; naive datetimes are refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput("a date/time without a time zone cannot be placed in time", where=where)
        return value.astimezone(UTC)
    return parse_timestamp(value, where=where)


def format_datetime_jst(
    value: str | datetime | None,
    locale: str,
    *,
    timezone: str = DISPLAY_TIMEZONE,
    style: str = "medium",
) -> str:
    """A stored UTC time shown in the display zone (JST by default) for ``locale``: ``2026/11/01 12:00:00 JST``
    in Japanese, ``Nov 1, 2026, 12:00:00 PM JST`` in English; ``""`` for no value."""
    if value is None or value == "":
        return ""
    tz = zone(timezone)
    local = as_utc(value).astimezone(tz)
    text = babel_format_datetime(local, style, tzinfo=tz, locale=check_locale(locale))
    abbreviation = local.tzname() or timezone
    return f"{text} {abbreviation}"


def format_date_local(value: str | datetime | date | None, locale: str, *, timezone: str = DISPLAY_TIMEZONE,
                      style: str = "medium") -> str:
    """The calendar date in the display zone (a UTC time near midnight falls on the local day)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) or isinstance(value, str):
        value = as_utc(value).astimezone(zone(timezone)).date()
    return babel_format_date(value, style, locale=check_locale(locale))


def format_number(value: int | float, locale: str) -> str:
    """Digits grouped the way ``locale`` groups them (``12,345``)."""
    return format_decimal(value, locale=check_locale(locale))


def format_ratio(value: float, locale: str) -> str:
    """A fraction (0.25) as a percentage for ``locale``."""
    return format_percent(value, locale=check_locale(locale))


__all__ = ["DISPLAY_TIMEZONE", "as_utc", "format_date_local", "format_datetime_jst", "format_number",
           "format_ratio", "zone"]

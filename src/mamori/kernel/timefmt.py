"""Timestamps as STIX/TAXII write them (RFC 3339, UTC, 'Z') and parsing of what clients send."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mamori.errors import InvalidInput

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(text: str, *, where: str = "timestamp") -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime (fractions beyond microseconds truncated)."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        raise InvalidInput(f"not an RFC 3339 timestamp: {text!r}", where=where)
    m = _RFC3339.match(text)
    assert m is not None
    frac = (m.group(7) or ".0")[1:7].ljust(6, "0")
    base = f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}:{m.group(5)}:{m.group(6)}.{frac}"
    tz = m.group(8)
    tz = "+00:00" if tz in ("Z", "z") else tz
    try:
        return datetime.fromisoformat(base + tz).astimezone(UTC)
    except ValueError as e:
        raise InvalidInput(f"not a valid date/time: {text!r}", where=where) from e


def format_timestamp(dt: datetime) -> str:
    """Microsecond precision, UTC, 'Z': sortable as text, which the store relies on."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_UTC_Z = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$")


def normalise_timestamp(text: str, *, where: str = "timestamp") -> str:
    """Any RFC 3339 text → the store's sortable form."""
    m = _UTC_Z.match(text) if isinstance(text, str) else None
    if m is not None:  # already UTC with at most microseconds: check the fields, pad the fraction
        y, mo, d, h, mi, sec, frac = m.groups()
        try:
            datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec))
        except ValueError as e:
            raise InvalidInput(f"not a valid date/time: {text!r}", where=where) from e
        return f"{y}-{mo}-{d}T{h}:{mi}:{sec}.{(frac or '').ljust(6, '0')}Z"
    return format_timestamp(parse_timestamp(text, where=where))


def format_stix(dt: datetime) -> str:
    """Millisecond precision, as STIX producers conventionally write timestamps."""
    s = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return s[:-3] + "Z"

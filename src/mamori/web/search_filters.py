"""The intelligence search form: query-string values in, a ``SearchQuery`` out, and links back.

Dates are calendar days in the display time zone (what a person in Japan means by "added on 1 November"),
turned into UTC bounds for the store: ``added from`` is the start of that day, ``added until`` includes the
whole day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from mamori.errors import InvalidInput
from mamori.i18n.formatting import zone
from mamori.intel.model import SearchQuery
from mamori.intel.tlp import Tlp
from mamori.kernel.timefmt import format_timestamp

PAGE_SIZE = 25
MAX_TEXT = 200
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,249}$")

SEARCH_TYPES: tuple[str, ...] = (
    "indicator", "malware", "threat-actor", "intrusion-set", "campaign", "attack-pattern", "tool",
    "vulnerability", "infrastructure", "identity", "location", "course-of-action", "report", "grouping",
    "note", "opinion", "observed-data", "incident", "malware-analysis", "relationship", "sighting",
    "ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr", "autonomous-system",
    "network-traffic", "software", "x509-certificate", "marking-definition",
)
"""The types offered in the type filter and counted on the dashboard, most frequent first."""


@dataclass(frozen=True)
class SearchFilters:
    text: str = ""
    type: str = ""
    label: str = ""
    tlp: tuple[str, ...] = ()
    added_since: str = ""
    added_until: str = ""
    cursor: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> SearchFilters:
        """Read and check the form; each problem names its field."""

        def one(name: str) -> str:
            values = params.get(name) or []
            return values[0].strip() if values else ""

        text = one("q")
        if len(text) > MAX_TEXT:
            raise InvalidInput(f"search text is longer than {MAX_TEXT} characters", where="q")
        stix_type = one("type")
        if stix_type and not _TYPE.match(stix_type):
            raise InvalidInput(f"{stix_type!r} is not a STIX type name", where="type")
        label = one("label")
        if len(label) > MAX_TEXT:
            raise InvalidInput(f"label is longer than {MAX_TEXT} characters", where="label")
        levels: list[str] = []
        for raw in params.get("tlp") or []:
            if raw.strip():
                levels.append(Tlp.parse(raw).label)
        for name in ("added_since", "added_until"):
            value = one(name)
            if value:
                _day(value, name)
        page_text = one("page") or "1"
        if not page_text.isdigit() or int(page_text) < 1:
            raise InvalidInput(f"page {page_text!r} is not a positive whole number", where="page")
        return cls(text=text, type=stix_type, label=label, tlp=tuple(dict.fromkeys(levels)),
                   added_since=one("added_since"), added_until=one("added_until"), cursor=one("cursor"),
                   page=int(page_text))

    @property
    def active(self) -> bool:
        return bool(self.text or self.type or self.label or self.tlp or self.added_since or self.added_until)

    def to_query(self, display_timezone: str, limit: int = PAGE_SIZE) -> SearchQuery:
        return SearchQuery(
            types=(self.type,) if self.type else (),
            labels=(self.label,) if self.label else (),
            tlp=tuple(int(Tlp.parse(t)) for t in self.tlp),
            text=self.text or None,
            added_since=_bound(self.added_since, "added_since", display_timezone, 0) if self.added_since else None,
            added_until=_bound(self.added_until, "added_until", display_timezone, 1) if self.added_until else None,
            limit=limit,
            cursor=self.cursor or None,
        )

    def query_string(self, **changes: object) -> str:
        """The query string of these filters with some values changed (for paging links)."""
        f = replace(self, **changes)  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = []
        for key, value in (("q", f.text), ("type", f.type), ("label", f.label)):
            if value:
                pairs.append((key, value))
        pairs.extend(("tlp", t) for t in f.tlp)
        for key, value in (("added_since", f.added_since), ("added_until", f.added_until), ("cursor", f.cursor)):
            if value:
                pairs.append((key, value))
        if f.page > 1:
            pairs.append(("page", str(f.page)))
        return urlencode(pairs)


def _day(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", where=where) from e


def _bound(value: str, where: str, display_timezone: str, plus_days: int) -> str:
    day = _day(value, where) + timedelta(days=plus_days)
    return format_timestamp(datetime.combine(day, time(0, 0), tzinfo=zone(display_timezone)))


__all__ = ["PAGE_SIZE", "SEARCH_TYPES", "SearchFilters"]

"""The indicator life-cycle of mamori: one documented decay model, as pure ``*_at(time)`` functions.

An indicator's score starts at its STIX 2.1 ``confidence`` (section 3.2; 50 when absent, the middle of
the 0-100 scale) and halves every *half-life* of its observable kind, counted from the most recent of
``valid_from``, ``modified`` and the last sighting (a sighting refreshes an indicator). Half-lives,
in days, follow how fast each kind of infrastructure turns over:

========  =========  ================================================================
family    half-life  kinds
========  =========  ================================================================
ip        30         ipv4, ipv6, ipv4-cidr, ipv6-cidr, port, asn (reassigned quickly)
url       60         url
domain    90         domain, email (registrations last months)
hash      365        md5, sha1, sha256, sha512 (a file's digest never changes)
default   90         anything else, and patterns with no recognised observable
========  =========  ================================================================

The score is 0 once the indicator is revoked or at/after its ``valid_until`` (STIX 2.1 section 4.7:
the indicator is no longer considered valid). States, in order of precedence:

* ``revoked``  - ``revoked: true``;
* ``expired``  - ``at >= valid_until``;
* ``pending``  - ``at < valid_from`` (not yet valid; score 0);
* ``decayed``  - score below the threshold (default 20: two half-lives from confidence 80);
* ``active``   - otherwise.

Nothing here reads the clock: the caller passes ``at``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

from mamori.errors import InvalidInput
from mamori.kernel.timefmt import parse_timestamp

IndicatorState = Literal["active", "decayed", "expired", "revoked", "pending"]

HALF_LIFE_DAYS: Final[Mapping[str, float]] = {"ip": 30.0, "domain": 90.0, "url": 60.0, "hash": 365.0}
DEFAULT_HALF_LIFE_DAYS: Final = 90.0
DEFAULT_CONFIDENCE: Final = 50
DECAYED_BELOW: Final = 20.0

_FAMILY: Final[Mapping[str, str]] = {
    "ipv4": "ip",
    "ipv6": "ip",
    "ipv4-cidr": "ip",
    "ipv6-cidr": "ip",
    "port": "ip",
    "asn": "ip",
    "domain": "domain",
    "email": "domain",
    "url": "url",
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    "sha512": "hash",
}


def kind_family(kind: str | None) -> str | None:
    """The half-life family (``ip``, ``domain``, ``url``, ``hash``) of an observable kind or family name."""
    if kind is None:
        return None
    if kind in HALF_LIFE_DAYS:
        return kind
    return _FAMILY.get(kind)


def _kind_of(indicator: Mapping[str, Any]) -> str | None:
    # Imported here so that callers passing the kind never pay for pattern parsing.
    from mamori.intel.patterns import observables_of

    try:
        found = observables_of(indicator)
    except InvalidInput:
        return None
    return found[0].kind if found else None


def _time(indicator: Mapping[str, Any], name: str) -> datetime | None:
    value = indicator.get(name)
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            where = f"{indicator.get('id', 'indicator')}.{name}"
            raise InvalidInput(f"{name} is a naive datetime", where=where)
        return value
    return parse_timestamp(str(value), where=f"{indicator.get('id', 'indicator')}.{name}")


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} must be timezone-aware", where=name)
    return moment


def _confidence(indicator: Mapping[str, Any]) -> float:
    value = indicator.get("confidence", DEFAULT_CONFIDENCE)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise InvalidInput(
            f"confidence must be a number 0..100, got {value!r}",
            where=f"{indicator.get('id', 'indicator')}.confidence",
        )
    return float(value)


def half_life_for(
    kind: str | None,
    half_life_days: Mapping[str, float] = HALF_LIFE_DAYS,
    default_half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> float:
    """The half-life in days for an observable kind (``ipv4``…) or family (``ip``…)."""
    family = kind_family(kind)
    return half_life_days.get(family, default_half_life_days) if family else default_half_life_days


def score_at(
    indicator: Mapping[str, Any],
    at: datetime,
    last_sighting: datetime | None = None,
    *,
    kind: str | None = None,
    half_life_days: Mapping[str, float] = HALF_LIFE_DAYS,
    default_half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> float:
    """The indicator's score (0..100) at ``at``; ``kind`` defaults to the first observable of its pattern."""
    at = _aware(at, "at")
    if indicator.get("revoked") is True:
        return 0.0
    valid_until = _time(indicator, "valid_until")
    if valid_until is not None and at >= valid_until:
        return 0.0
    valid_from = _time(indicator, "valid_from")
    if valid_from is not None and at < valid_from:
        return 0.0
    confidence = _confidence(indicator)
    anchors = [t for t in (valid_from, _time(indicator, "modified"), _time(indicator, "created")) if t]
    if last_sighting is not None:
        anchors.append(_aware(last_sighting, "last_sighting"))
    if not anchors:
        return confidence
    age_days = max(0.0, (at - max(anchors)).total_seconds() / 86400.0)
    half_life = half_life_for(kind or _kind_of(indicator), half_life_days, default_half_life_days)
    if half_life <= 0:
        raise InvalidInput(f"half-life must be positive, got {half_life}", where="half_life_days")
    return confidence * math.pow(0.5, age_days / half_life)


def state_at(
    indicator: Mapping[str, Any],
    at: datetime,
    last_sighting: datetime | None = None,
    *,
    kind: str | None = None,
    decayed_below: float = DECAYED_BELOW,
    half_life_days: Mapping[str, float] = HALF_LIFE_DAYS,
    default_half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> IndicatorState:
    """The life-cycle state at ``at``: revoked, expired, pending, decayed or active (see module doc)."""
    at = _aware(at, "at")
    if indicator.get("revoked") is True:
        return "revoked"
    valid_until = _time(indicator, "valid_until")
    if valid_until is not None and at >= valid_until:
        return "expired"
    valid_from = _time(indicator, "valid_from")
    if valid_from is not None and at < valid_from:
        return "pending"
    score = score_at(
        indicator,
        at,
        last_sighting,
        kind=kind,
        half_life_days=half_life_days,
        default_half_life_days=default_half_life_days,
    )
    return "decayed" if score < decayed_below else "active"

"""The demo seed: a deterministic, fictitious national cyber-defence community and its STIX 2.1 content,
so that a fresh mamori shows a living system.

`build_demo(now, seed)` is pure: it stores nothing, reads no clock, and the same `now` and `seed` always
give byte-identical output (`DemoSeed.to_json()`). Object ids do not depend on `now`; times are relative
to it, so a demo seeded today looks as fresh as one seeded a year ago.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import MappingProxyType

from mamori.demo.community import (
    MIRROR_LANTERN,
    NATIONAL_OFFICE,
    NATIONAL_RESTRICTED,
    PUBLIC_ADVISORIES,
    demo_agreements,
    demo_collections,
    demo_organisations,
    demo_users,
)
from mamori.demo.mirror_lantern import build_mirror_lantern
from mamori.demo.model import DemoSeed, Tlp
from mamori.demo.stix_graph import StixGraphBuilder, tlp_rank
from mamori.errors import InvalidInput

DEFAULT_SEED = 7
# The content reaches about three years back and two years ahead of `now`.
_EARLIEST_YEAR = 1980
_LATEST_YEAR = 9990


def build_demo(now: datetime, seed: int = DEFAULT_SEED) -> DemoSeed:
    """Build the demo community and its intelligence as of `now` (timezone-aware)."""
    if not isinstance(now, datetime):
        raise InvalidInput(f"now must be a datetime, got {type(now).__name__}", where="build_demo(now)")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput(
            f"now must be timezone-aware, got naive {now.isoformat()}", where="build_demo(now)"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(f"seed must be an integer, got {seed!r}", where="build_demo(seed)")
    if not _EARLIEST_YEAR <= now.year <= _LATEST_YEAR:
        raise InvalidInput(
            f"now must fall between the years {_EARLIEST_YEAR} and {_LATEST_YEAR}, got {now.isoformat()}",
            where="build_demo(now)",
        )
    # STIX timestamps carry milliseconds; dropping the rest keeps output independent of sub-ms jitter.
    instant = now.astimezone(UTC)
    instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)

    organisations = demo_organisations()
    builder = StixGraphBuilder(now=instant, seed=seed, creator_slug=NATIONAL_OFFICE, placement=_place)
    org_identities = build_mirror_lantern(builder, organisations)
    return DemoSeed(
        organisations=organisations,
        users=demo_users(),
        agreements=demo_agreements(),
        collections=demo_collections(),
        objects=builder.objects(),
        object_collections=MappingProxyType(builder.object_collections()),
        org_identities=MappingProxyType(org_identities),
    )


def _place(tlp: Tlp | None, wished: Sequence[str]) -> tuple[str, ...]:
    """TLP:RED stays in the national collection; the public collection takes only CLEAR or unmarked."""
    if tlp == "TLP:RED":
        return (NATIONAL_RESTRICTED,)
    kept = tuple(c for c in wished if c != PUBLIC_ADVISORIES or tlp_rank(tlp) <= tlp_rank("TLP:CLEAR"))
    return kept or (MIRROR_LANTERN,)

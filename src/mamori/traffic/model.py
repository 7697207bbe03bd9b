"""Domain types of lawful flow collection: channels, approvals, the traffic policy, ingest reports.

Channels follow the active-cyber-defence statute's three collection routes: ``agreement`` (foreign to
domestic traffic under an agreement with an operator), ``transit`` (foreign to foreign) and ``specific``
(foreign to and from suspect servers); the latter two only under an approval of the oversight
commission. Only mechanical information is kept, for a limited time per channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from mamori.errors import InvalidInput
from mamori.traffic.addresses import AddressSpace
from mamori.traffic.schema import OPTIONAL_COLUMNS


class Channel(StrEnum):
    """The legal route a stream of flows is collected under."""

    AGREEMENT = "agreement"
    TRANSIT = "transit"
    SPECIFIC = "specific"

    @classmethod
    def parse(cls, value: str, where: str = "channel") -> Channel:
        try:
            return cls(value)
        except ValueError as e:
            raise InvalidInput(
                f"unknown channel {value!r} (expected agreement, transit or specific)", where=where
            ) from e


#: Channels that need a valid approval of the oversight commission.
COMMISSION_CHANNELS: Final = frozenset({Channel.TRANSIT, Channel.SPECIFIC})

#: Default retention per channel (configurable through :meth:`TrafficPolicy.from_settings`).
DEFAULT_RETENTION: Final[Mapping[Channel, timedelta]] = {
    Channel.AGREEMENT: timedelta(days=30),
    Channel.TRANSIT: timedelta(days=30),
    Channel.SPECIFIC: timedelta(days=90),
}


@dataclass(frozen=True)
class Approval:
    """An approval of the oversight commission (or, for ``agreement``, the operator agreement)."""

    id: str
    channel: Channel
    scope: tuple[str, ...] | None  # CIDR prefixes of the suspect servers; None = any address
    valid_from: datetime
    valid_until: datetime
    granted_by: str
    created_at: datetime
    revoked_at: datetime | None = None

    def is_valid_at(self, at: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        return self.valid_from <= at < self.valid_until

    def scope_space(self) -> AddressSpace | None:
        return None if self.scope is None else AddressSpace.from_prefixes(self.scope, where=f"approval {self.id} scope")


@dataclass(frozen=True)
class TrafficPolicy:
    """What may be kept, from where, and for how long (profiles, domestic space, retention)."""

    domestic: AddressSpace
    profiles: Mapping[Channel, frozenset[str]]
    retention: Mapping[Channel, timedelta]

    @classmethod
    def from_settings(
        cls,
        domestic_prefixes: Iterable[str] = (),
        *,
        domestic_asns: Iterable[int] = (),
        prefix_asns: Mapping[str, int] | None = None,
        agreement_fields: Iterable[str] = (),
        retention_days: Mapping[str, float] | None = None,
    ) -> TrafficPolicy:
        """Build a policy from plain values (as configuration holds them).

        ``prefix_asns`` maps prefixes to origin ASNs: prefixes whose ASN is in ``domestic_asns`` count as
        domestic. ``agreement_fields`` lists the optional fields (dns_query, dns_rcode, tls_sni,
        http_host) the agreement profile keeps; transit and specific keep only mechanical fields.
        """
        prefixes = list(domestic_prefixes)
        asns = set(domestic_asns)
        if asns and prefix_asns is None:
            raise InvalidInput("domestic ASNs given without a prefix-to-ASN table", where="domestic_asns")
        prefixes += [p for p, asn in (prefix_asns or {}).items() if asn in asns]
        extras = frozenset(agreement_fields)
        unknown = sorted(extras - OPTIONAL_COLUMNS)
        if unknown:
            raise InvalidInput(
                f"agreement profile names field(s) that may not be kept: {', '.join(unknown)}",
                where="agreement_fields",
                detail={"allowed": sorted(OPTIONAL_COLUMNS)},
            )
        retention = dict(DEFAULT_RETENTION)
        for name, days in (retention_days or {}).items():
            channel = Channel.parse(name, where=f"retention_days[{name!r}]")
            if not days > 0:
                raise InvalidInput(f"retention must be positive, got {days}", where=f"retention_days[{name!r}]")
            retention[channel] = timedelta(days=days)
        return cls(
            domestic=AddressSpace.from_prefixes(prefixes, where="domestic_prefixes"),
            profiles={Channel.AGREEMENT: extras, Channel.TRANSIT: frozenset(), Channel.SPECIFIC: frozenset()},
            retention=retention,
        )

    def allowed_optional(self, channel: Channel) -> frozenset[str]:
        return self.profiles.get(channel, frozenset())


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did: records seen and stored, what minimisation removed, errors collected."""

    records_in: int
    records_stored: int
    dropped_domestic: int
    dropped_fields: list[str]
    errors: list[InvalidInput] = field(default_factory=list)
    batch_id: str | None = None
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PurgeReport:
    """What one retention purge did."""

    files_deleted: int
    files_rewritten: int
    records_removed: int
    records_kept: int

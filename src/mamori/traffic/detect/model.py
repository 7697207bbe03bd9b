"""Findings of the detectors: what was seen, how strongly, and why (the thresholds that fired).

Credibility uses the Admiralty (NATO AJP-2.1 / STANAG 2511) information scale 1-6: 1 confirmed by other
sources, 2 probably true, 3 possibly true, 4 doubtful, 5 improbable, 6 truth cannot be judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType


class Severity(StrEnum):
    """How urgently an analyst should look at a finding."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}

#: Lower bounds of the score bands; a score maps to the highest band whose bound it reaches.
SEVERITY_BANDS: tuple[tuple[float, Severity], ...] = (
    (0.9, Severity.CRITICAL),
    (0.8, Severity.HIGH),
    (0.7, Severity.MEDIUM),
    (0.5, Severity.LOW),
)


def severity_for_score(score: float, bands: tuple[tuple[float, Severity], ...] = SEVERITY_BANDS) -> Severity:
    """Map a 0..1 score to a severity band (see :data:`SEVERITY_BANDS`)."""
    for bound, severity in bands:
        if score >= bound:
            return severity
    return Severity.INFO


class Credibility(IntEnum):
    """Admiralty-scale credibility of the information a finding carries."""

    CONFIRMED = 1
    PROBABLY_TRUE = 2
    POSSIBLY_TRUE = 3
    DOUBTFUL = 4
    IMPROBABLE = 5
    CANNOT_BE_JUDGED = 6


class FindingKind(StrEnum):
    """What a detector found."""

    INDICATOR_MATCH = "indicator_match"
    BEACON = "beacon"
    FAN_IN_C2 = "fan_in_c2"
    SCAN = "scan"  # threshold random walk on first contacts
    HORIZONTAL_SCAN = "horizontal_scan"
    VERTICAL_SCAN = "vertical_scan"
    NXDOMAIN_BURST = "nxdomain_burst"
    DNS_TUNNEL = "dns_tunnel"
    LONG_CONNECTION = "long_connection"


@dataclass(frozen=True, order=True)
class Endpoint:
    """One side of a finding: an address, a name, a port, or a mix, whichever is known."""

    address: str | None = None
    name: str | None = None
    port: int | None = None

    def label(self) -> str:
        parts = [p for p in (self.name, self.address) if p]
        text = " / ".join(parts) if parts else "*"
        return f"{text}:{self.port}" if self.port is not None else text


@dataclass(frozen=True, order=True)
class EvidenceRow:
    """One flow (or DNS answer) that supports a finding, reduced to what explains it."""

    start_ts: float
    src_ip: str
    dst_ip: str | None
    dst_port: int | None = None
    bytes_total: int | None = None
    duration: float | None = None
    note: str | None = None


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class Finding:
    """One explained detection: scores, sub-scores, the thresholds that fired, and sample evidence."""

    kind: FindingKind
    src: Endpoint
    dst: Endpoint
    score: float
    severity: Severity
    sub_scores: Mapping[str, float]
    thresholds: Mapping[str, float]
    fired: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    evidence_count: int
    evidence_sample: tuple[EvidenceRow, ...]
    credibility: Credibility = Credibility.CANNOT_BE_JUDGED
    days_seen: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "sub_scores", _frozen(self.sub_scores))
        object.__setattr__(self, "thresholds", _frozen(self.thresholds))
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"finding score must lie in 0..1, got {self.score!r}")
        if self.first_seen > self.last_seen:
            raise ValueError("finding first_seen is after last_seen")
        if not self.days_seen:
            object.__setattr__(self, "days_seen", _days_between(self.first_seen, self.last_seen))

    @property
    def key(self) -> tuple[str, Endpoint, Endpoint]:
        """Identity across days: the same kind between the same endpoints is the same finding."""
        return (self.kind.value, self.src, self.dst)

    def comparable(self) -> tuple[object, ...]:
        """Everything that must agree between engines, as plain values."""
        return (
            self.kind.value,
            self.src,
            self.dst,
            self.score,
            self.severity.value,
            tuple(self.sub_scores.items()),
            tuple(self.thresholds.items()),
            self.fired,
            self.first_seen,
            self.last_seen,
            self.evidence_count,
            self.evidence_sample,
            int(self.credibility),
        )


def _days_between(first: datetime, last: datetime) -> tuple[str, ...]:
    days = {first.date().isoformat(), last.date().isoformat()}
    return tuple(sorted(days))


def utc(ts: float) -> datetime:
    """Epoch seconds to a timezone-aware UTC datetime (the stored flow record keeps epoch seconds)."""
    return datetime.fromtimestamp(ts, UTC)


def ramp_score(value: float, threshold: float, *, at_threshold: float = 0.7, saturate_at: float = 2.0) -> float:
    """Score of a fixed-threshold rule: ``at_threshold`` when value equals the threshold, rising linearly to 1.0
    at ``saturate_at`` times the threshold, and below the threshold falling linearly towards 0.

    This puts a rule that just fires at the medium band and one exceeded twice over at critical.
    """
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    ratio = value / threshold
    if ratio >= 1.0:
        rise = (ratio - 1.0) / (saturate_at - 1.0)
        return round(min(1.0, at_threshold + (1.0 - at_threshold) * rise), 6)
    return round(max(0.0, at_threshold * ratio), 6)

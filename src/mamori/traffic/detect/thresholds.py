"""Detector thresholds, one frozen dataclass per detector, gathered in a :class:`DetectionProfile`.

Defaults follow the published methods each detector cites (RITA v5 for beaconing, Jung et al. 2004 for the
threshold random walk); the fixed thresholds are conservative so that ordinary hosts stay below medium.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from mamori.errors import InvalidInput


@dataclass(frozen=True)
class BeaconThresholds:
    """RITA-style beacon scoring (see :mod:`mamori.traffic.detect.beacon`)."""

    min_connections: int = 24  # RITA v5 skips pairs with fewer unique connections than this
    min_score: float = 0.5  # pairs scoring lower give no finding
    hist_bimodal_min_hours: int = 11  # below this many active hours the bimodal fit is not trusted
    hist_bimodal_tolerance: float = 0.05  # share of the busiest hour that two counts may differ by
    alert_min_timestamp: float = 0.8  # below this timestamp score a pair is not clock-driven: at most low
    prevalence_min_hosts: int = 10  # with fewer internal hosts a share says nothing; no modifier
    prevalence_low: float = 0.1  # destinations reached by up to this share of internal hosts keep full score
    prevalence_high: float = 0.5  # ... and by this share or more get the full penalty
    prevalence_penalty: float = 0.5  # score multiplier at or above prevalence_high
    data_size_mode_ceiling: int = 65535  # a modal size at or above this scores 0 on smallness
    sample_size: int = 5


@dataclass(frozen=True)
class FanInThresholds:
    """Many sources contacting one foreign destination, each with regular timing."""

    min_sources: int = 5
    min_timestamp_score: float = 0.8
    min_connections: int = 12
    min_regular_share: float = 0.5  # of the sources with min_connections to the destination, this many regular


@dataclass(frozen=True)
class ScanThresholds:
    """Threshold random walk (Jung, Paxson, Berger, Balakrishnan 2004) plus fixed spread thresholds."""

    theta0: float = 0.8  # P(first contact succeeds | benign source)
    theta1: float = 0.2  # P(first contact succeeds | scanner)
    alpha: float = 0.01  # target false-positive probability (P_F)
    beta: float = 0.99  # target detection probability (P_D)
    trw_min_failed: int = 20  # failed first contacts at which a TRW scanner reaches the medium band
    horizontal_addresses: int = 64  # distinct addresses on one port, mostly failed
    vertical_ports: int = 64  # distinct ports on one address, mostly failed
    min_failure_share: float = 0.5
    sample_size: int = 5


@dataclass(frozen=True)
class DnsThresholds:
    """NXDOMAIN bursts (domain-generation algorithms) and subdomain spread (tunnelling)."""

    nx_window_s: float = 300.0
    nx_unique_names: int = 20  # distinct NXDOMAIN names from one source within one window
    tunnel_unique_subdomains: int = 200  # distinct names under one registered domain in the data
    sample_size: int = 5


@dataclass(frozen=True)
class LongConnectionThresholds:
    """Connections that stay open unusually long (weak evidence alone: low at the threshold, medium only at
    ``medium_multiple`` times it)."""

    single_duration_s: float = 3600.0
    pair_total_duration_s: float = 4 * 3600.0
    medium_multiple: float = 8.0
    sample_size: int = 5


@dataclass(frozen=True)
class DetectionProfile:
    """Everything the detectors need besides the flows: domestic space and thresholds."""

    domestic_prefixes: tuple[str, ...] = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    beacon: BeaconThresholds = field(default_factory=BeaconThresholds)
    fan_in: FanInThresholds = field(default_factory=FanInThresholds)
    scan: ScanThresholds = field(default_factory=ScanThresholds)
    dns: DnsThresholds = field(default_factory=DnsThresholds)
    long_connection: LongConnectionThresholds = field(default_factory=LongConnectionThresholds)
    names_allowed: bool = True  # pair beacons by tls_sni/http_host too, where the profile permits names

    def __post_init__(self) -> None:
        for i, prefix in enumerate(self.domestic_prefixes):
            try:
                ipaddress.ip_network(prefix, strict=False)
            except ValueError as e:
                raise InvalidInput(
                    f"domestic prefix {prefix!r} is not a CIDR prefix", where=f"domestic_prefixes[{i}]"
                ) from e
        scan = self.scan
        if not (0 < scan.theta1 < scan.theta0 < 1) or not (0 < scan.alpha < scan.beta < 1):
            raise InvalidInput(
                "threshold random walk needs 0 < theta1 < theta0 < 1 and 0 < alpha < beta < 1",
                where="scan",
            )
        if self.beacon.min_connections < 4:
            raise InvalidInput("beacon scoring needs at least 4 connections", where="beacon.min_connections")

"""Run every detector over one flow source on one analytics engine and return graded findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mamori.traffic.detect import queries
from mamori.traffic.detect.beacon import detect_beacons, detect_fan_in, score_pairs
from mamori.traffic.detect.dns import detect_nxdomain_bursts, detect_tunnels
from mamori.traffic.detect.indicators import detect_indicator_matches
from mamori.traffic.detect.longconn import detect_long_connections
from mamori.traffic.detect.merge import grade_credibility
from mamori.traffic.detect.model import Finding, FindingKind, Severity
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.detect.scan import detect_scans
from mamori.traffic.detect.thresholds import DetectionProfile
from mamori.traffic.match.indicators import CompiledIndicators, Indicator


@dataclass(frozen=True)
class DetectionRun:
    """Findings of one run plus the observed window they were scored over."""

    findings: tuple[Finding, ...]
    window_start: float
    window_end: float
    flows: int

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [f for f in self.findings if f.kind is kind]

    def at_least(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity.at_least(severity)]


def _order(f: Finding) -> tuple[object, ...]:
    return (f.kind.value, -f.score, f.src, f.dst)


def run_detectors(
    engine: AnalyticsEngine,
    source: FlowSource,
    profile: DetectionProfile | None = None,
    *,
    indicators: Sequence[Indicator] = (),
    at: datetime | None = None,
) -> DetectionRun:
    """All detectors over ``source``. ``at`` (the time indicators are judged valid at) is required with indicators."""
    profile = profile or DetectionProfile()
    window = engine.aggregate(source, queries.fill(queries.WINDOW)).to_pylist()[0]
    n_flows = int(window["n_flows"] or 0)
    if n_flows == 0:
        return DetectionRun((), 0.0, 0.0, 0)
    span = (float(window["window_start"]), float(window["window_end"]))
    n_dom = int(window["n_domestic_sources"])
    internal = (n_dom, True) if n_dom else (int(window["n_sources"]), False)
    min_conn = min(profile.beacon.min_connections, profile.fan_in.min_connections)
    by_address = score_pairs(engine, source, profile, span, by_name=False, min_connections=min_conn)
    findings: list[Finding] = []
    findings += detect_beacons(engine, source, profile, span, internal, by_address)
    findings += detect_fan_in(*by_address, profile.fan_in)
    findings += detect_scans(engine, source, profile.scan)
    findings += detect_nxdomain_bursts(engine, source, profile.dns)
    findings += detect_tunnels(engine, source, profile.dns)
    findings += detect_long_connections(engine, source, profile.long_connection)
    if indicators:
        if at is None:
            raise ValueError("run_detectors needs `at` to judge indicator validity")
        findings += detect_indicator_matches(engine, source, CompiledIndicators.compile(indicators, at))
    graded = grade_credibility(findings)
    return DetectionRun(tuple(sorted(graded, key=_order)), span[0], span[1], n_flows)

"""Beaconing and fan-in command-and-control, scored the way RITA v5 scores beacons.

For every (source, destination address) pair, and where the channel's profile keeps names, every (source,
destination name) pair with the name taken from ``tls_sni`` or else ``http_host``, the engine collects the
connection start times, sizes (bytes out + in), durations and ports. Eligibility, as in RITA v5: a pair is
scored only when it has at least ``min_connections`` distinct start times (RITA's own default is 4; mamori
defaults higher because a national sensor sees far more low-volume benign pairs). The four sub-scores
(timestamp, data size, duration, hourly histogram; formulas in :mod:`mamori.traffic.detect.regularity`) are
averaged. Only routable unicast destinations are paired (``queries.ROUTABLE_DST``). A pair whose timestamp
score stays below ``alert_min_timestamp`` is not clock-driven, so its severity is capped at low whatever the
other sub-scores say (steady bulk services score high on size, duration and histogram alone).

Prevalence modifier (RITA v5 lowers the score of destinations that much of the network talks to, since a
destination everyone contacts is far more likely a common service than a command server): with ``p`` the
share of internal hosts (domestic sources, or all sources when none is domestic) that contacted the
destination, and at least ``prevalence_min_hosts`` internal hosts seen, the score is multiplied by 1 when
``p <= prevalence_low``, by ``prevalence_penalty`` when ``p >= prevalence_high``, and by the linear
interpolation in between.

Fan-in C2: one foreign destination contacted with regular timing (timestamp score ``>= min_timestamp_score``)
by at least ``min_sources`` distinct sources, counting domestic sources and, for transit traffic, foreign
sources too, where those regular sources are at least ``min_regular_share`` of all sources that talk to the
destination often enough to be scored (a popular service has a few clock-like clients among thousands; a
command server's clients are all clock-driven). The score is the smaller of the source-count ramp
(:func:`~mamori.traffic.detect.model.ramp_score`) and the mean timestamp score of the regular pairs; prevalence
does not lower it, since many hosts are the point.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from mamori.traffic.detect import queries
from mamori.traffic.detect.model import (
    Credibility,
    Endpoint,
    Finding,
    FindingKind,
    Severity,
    ramp_score,
    severity_for_score,
    utc,
)
from mamori.traffic.detect.pairs import Series
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.detect.regularity import SeriesScores, concat_scores, score_series
from mamori.traffic.detect.thresholds import BeaconThresholds, DetectionProfile, FanInThresholds

#: Beacon scores are averages of four sub-scores that sit around 0.5-0.7 for busy benign pairs, so the beacon
#: bands start higher than the general ones.
BEACON_SEVERITY_BANDS: tuple[tuple[float, Severity], ...] = (
    (0.95, Severity.CRITICAL),
    (0.9, Severity.HIGH),
    (0.85, Severity.MEDIUM),
    (0.7, Severity.LOW),
)


def prevalence_multiplier(share: np.ndarray, t: BeaconThresholds) -> np.ndarray:
    """Score multiplier for the share of internal hosts that contacted a destination."""
    span = max(t.prevalence_high - t.prevalence_low, 1e-9)
    frac = np.clip((share - t.prevalence_low) / span, 0.0, 1.0)
    return 1.0 - frac * (1.0 - t.prevalence_penalty)


def _r(x: float) -> float:
    return round(float(x), 6)


def _sub_scores(s: SeriesScores, i: int) -> dict[str, float]:
    return {
        "timestamp": _r(s.ts_score[i]),
        "timestamp_skew": _r(s.ts_skew[i]),
        "timestamp_madm": _r(s.ts_madm[i]),
        "data_size": _r(s.ds_score[i]),
        "data_size_skew": _r(s.ds_skew[i]),
        "data_size_madm": _r(s.ds_madm[i]),
        "data_size_smallness": _r(s.ds_smallness[i]),
        "duration": _r(s.dur_score[i]),
        "duration_coverage": _r(s.dur_coverage[i]),
        "duration_consistency": _r(s.dur_consistency[i]),
        "histogram": _r(s.hist_score[i]),
        "histogram_cv": _r(s.hist_cv[i]),
        "histogram_bimodal": _r(s.hist_bimodal[i]),
        "median_interval_s": _r(s.median_interval[i]),
        "mode_bytes": _r(s.mode_bytes[i]),
        "unique_connections": float(s.unique_connections[i]),
    }


_PARALLEL_MIN_CONNECTIONS = 1_000_000


def _score(series: Series, window: tuple[float, float], t: BeaconThresholds) -> SeriesScores:
    """Score every pair; large inputs are cut into two halves of pairs scored on two threads (numpy's sorts
    and arithmetic release the GIL), which gives the same arrays as one pass since pairs are independent."""

    def run(lo: int, hi: int) -> SeriesScores:
        a, b = int(series.offsets[lo]), int(series.offsets[hi])
        return score_series(
            series.ts[a:b],
            series.offsets[lo : hi + 1] - a,
            series.sizes[a:b],
            window[0],
            window[1],
            mode_ceiling=t.data_size_mode_ceiling,
            bimodal_min_hours=t.hist_bimodal_min_hours,
            bimodal_tolerance=t.hist_bimodal_tolerance,
        )

    n = len(series.offsets) - 1
    if n < 2 or len(series.ts) < _PARALLEL_MIN_CONNECTIONS:
        return run(0, n)
    # cut where half of the connections (not half of the pairs) lie, so both threads get equal work
    half = int(np.searchsorted(series.offsets, series.offsets[-1] // 2))
    half = min(max(half, 1), n - 1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(run, 0, half)
        second = run(half, n)
        return concat_scores(first.result(), second)


def _prevalence_shares(prevalence: pa.Table, keys: list[str | None], internal_hosts: int, domestic: bool) -> np.ndarray:
    column = "n_domestic_sources" if domestic else "n_sources"
    counts = dict(zip(prevalence.column("dst_key").to_pylist(), prevalence.column(column).to_pylist(), strict=True))
    return np.array([counts.get(k, 0) / max(internal_hosts, 1) for k in keys], dtype=np.float64)


def score_pairs(
    engine: AnalyticsEngine,
    source: FlowSource,
    profile: DetectionProfile,
    window: tuple[float, float],
    *,
    by_name: bool,
    min_connections: int,
) -> tuple[Series, SeriesScores]:
    """Collect and score the eligible pair series (by address or by name)."""
    template = queries.PAIR_SERIES_BY_NAME if by_name else queries.PAIR_SERIES_BY_ADDRESS
    table = engine.aggregate(source, queries.fill(template, min_connections=min_connections))
    keys = ["src_ip", "dst_name"] if by_name else ["src_ip", "dst_ip"]
    series = Series.from_table(table, keys)
    return series, _score(series, window, profile.beacon)


def detect_beacons(
    engine: AnalyticsEngine,
    source: FlowSource,
    profile: DetectionProfile,
    window: tuple[float, float],
    internal_hosts: tuple[int, bool],
    scored_by_address: tuple[Series, SeriesScores] | None = None,
) -> list[Finding]:
    """Beacon findings for address pairs and, when the profile keeps names, for name pairs."""
    t = profile.beacon
    findings: list[Finding] = []
    modes = [False, True] if profile.names_allowed else [False]
    n_hosts, domestic = internal_hosts
    for by_name in modes:
        if not by_name and scored_by_address is not None:
            series, scores = scored_by_address
        else:
            series, scores = score_pairs(
                engine, source, profile, window, by_name=by_name, min_connections=t.min_connections
            )
        table = series.table
        if table.num_rows == 0:
            continue
        key_col = "dst_name" if by_name else "dst_ip"
        dst_keys = table.column(key_col).to_pylist()
        prevalence = engine.aggregate(
            source, queries.fill(queries.PREVALENCE_BY_NAME if by_name else queries.PREVALENCE_BY_ADDRESS)
        )
        share = _prevalence_shares(prevalence, dst_keys, n_hosts, domestic)
        modifier = prevalence_multiplier(share, t) if n_hosts >= t.prevalence_min_hosts else np.ones(len(share))
        final = scores.score * modifier
        src_ips = table.column("src_ip").to_pylist()
        dst_ips = table.column("dst_ip").to_pylist()
        for i in np.flatnonzero((final >= t.min_score) & (scores.unique_connections >= t.min_connections)).tolist():
            score = _r(final[i])
            subs = _sub_scores(scores, i)
            subs["prevalence_share"] = _r(share[i])
            subs["prevalence_modifier"] = _r(modifier[i])
            subs["raw_score"] = _r(scores.score[i])
            first, last = series.span(i)
            n = int(series.offsets[i + 1] - series.offsets[i])
            fired = ["min_connections", "min_score"]
            if modifier[i] < 1.0:
                fired.append("prevalence_low")
            severity = severity_for_score(score, BEACON_SEVERITY_BANDS)
            if scores.ts_score[i] < t.alert_min_timestamp and severity.at_least(Severity.MEDIUM):
                severity = Severity.LOW
                fired.append("alert_min_timestamp")
            findings.append(
                Finding(
                    kind=FindingKind.BEACON,
                    src=Endpoint(address=src_ips[i]),
                    dst=Endpoint(address=None if by_name else dst_ips[i], name=dst_keys[i] if by_name else None),
                    score=score,
                    severity=severity,
                    sub_scores=subs,
                    thresholds={
                        "min_connections": float(t.min_connections),
                        "min_score": t.min_score,
                        "prevalence_low": t.prevalence_low,
                        "prevalence_high": t.prevalence_high,
                        "prevalence_min_hosts": float(t.prevalence_min_hosts),
                        "alert_min_timestamp": t.alert_min_timestamp,
                    },
                    fired=tuple(fired),
                    first_seen=utc(first),
                    last_seen=utc(last),
                    evidence_count=n,
                    evidence_sample=series.evidence(i, src_ips[i], dst_ips[i], t.sample_size),
                    credibility=Credibility.CANNOT_BE_JUDGED,
                )
            )
    return findings


def detect_fan_in(
    series: Series, scores: SeriesScores, thresholds: FanInThresholds, sample_size: int = 5
) -> list[Finding]:
    """Fan-in C2 findings from scored address pairs."""
    table = series.table
    if table.num_rows == 0:
        return []
    src_ips = table.column("src_ip").to_pylist()
    dst_ips = table.column("dst_ip").to_pylist()
    src_dom = np.asarray(table.column("src_domestic").to_numpy(zero_copy_only=False), dtype=bool)
    dst_dom = np.asarray(table.column("dst_domestic").to_numpy(zero_copy_only=False), dtype=bool)
    transit = np.asarray(table.column("transit").to_numpy(zero_copy_only=False), dtype=bool)
    n_conn = np.diff(series.offsets)
    busy = ~dst_dom & (src_dom | transit) & (n_conn >= thresholds.min_connections)
    eligible = busy & (scores.ts_score >= thresholds.min_timestamp_score)
    busy_sources: dict[str, set[str]] = {}
    for i in np.flatnonzero(busy).tolist():
        busy_sources.setdefault(dst_ips[i], set()).add(src_ips[i])
    by_dst: dict[str, list[int]] = {}
    for i in np.flatnonzero(eligible).tolist():
        by_dst.setdefault(dst_ips[i], []).append(i)
    findings: list[Finding] = []
    for dst, members in sorted(by_dst.items()):
        sources = sorted({src_ips[i] for i in members})
        share = len(sources) / len(busy_sources[dst])
        if len(sources) < thresholds.min_sources or share < thresholds.min_regular_share:
            continue
        mean_ts = float(np.mean(scores.ts_score[members]))
        ramp = ramp_score(len(sources), thresholds.min_sources)
        score = _r(min(ramp, mean_ts))
        firsts, lasts = zip(*(series.span(i) for i in members), strict=True)
        sample = tuple(
            row for i in members[:sample_size] for row in series.evidence(i, src_ips[i], dst, 1, note="regular source")
        )
        findings.append(
            Finding(
                kind=FindingKind.FAN_IN_C2,
                src=Endpoint(),
                dst=Endpoint(address=dst),
                score=score,
                severity=severity_for_score(score),
                sub_scores={
                    "regular_sources": float(len(sources)),
                    "regular_share": _r(share),
                    "mean_timestamp": _r(mean_ts),
                    "source_ramp": _r(ramp),
                    "median_interval_s": _r(float(np.median(scores.median_interval[members]))),
                },
                thresholds={
                    "min_sources": float(thresholds.min_sources),
                    "min_timestamp_score": thresholds.min_timestamp_score,
                    "min_connections": float(thresholds.min_connections),
                    "min_regular_share": thresholds.min_regular_share,
                },
                fired=("min_sources", "min_timestamp_score", "min_regular_share"),
                first_seen=utc(min(firsts)),
                last_seen=utc(max(lasts)),
                evidence_count=int(n_conn[members].sum()),
                evidence_sample=sample,
            )
        )
    return findings

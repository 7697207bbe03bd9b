"""Long connections: a single connection open at least ``single_duration_s``, or a pair whose connections
add up to at least ``pair_total_duration_s`` (persistent C2 channels and tunnels hold sessions open).

Long sessions are common for benign services (push notification, MQTT, sync clients), so duration alone is weak
evidence: each rule scores 0.5 (low) at its threshold, rising linearly to 0.75 (medium) at ``medium_multiple``
times the threshold and capped there; the finding takes the larger of the two.
"""

from __future__ import annotations

import numpy as np

from mamori.traffic.detect import queries
from mamori.traffic.detect.model import (
    Endpoint,
    EvidenceRow,
    Finding,
    FindingKind,
    severity_for_score,
    utc,
)
from mamori.traffic.detect.pairs import list_column, sort_table
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.detect.thresholds import LongConnectionThresholds


def duration_score(value: float, threshold: float, medium_multiple: float) -> float:
    """0.5 at the threshold, 0.75 at ``medium_multiple`` times it (and beyond); proportionally less below."""
    ratio = value / threshold
    if ratio < 1.0:
        return round(0.5 * ratio, 6)
    return round(0.5 + 0.25 * min(1.0, (ratio - 1.0) / (medium_multiple - 1.0)), 6)


def detect_long_connections(engine: AnalyticsEngine, source: FlowSource, t: LongConnectionThresholds) -> list[Finding]:
    table = engine.aggregate(
        source,
        queries.fill(queries.LONG_CONNECTIONS, single_s=t.single_duration_s, total_s=t.pair_total_duration_s),
    )
    table = sort_table(table, ["src_ip", "dst_ip"])
    ts, off = list_column(table, "ts", np.float64)
    dur, _ = list_column(table, "durations", np.float64)
    ports, _ = list_column(table, "dst_ports", np.int64)
    sizes, _ = list_column(table, "sizes", np.int64)
    findings: list[Finding] = []
    for i, row in enumerate(table.drop_columns(["ts", "durations", "dst_ports", "sizes"]).to_pylist()):
        lo, hi = int(off[i]), int(off[i + 1])
        d = dur[lo:hi]
        # sum in sorted order so every engine's list order gives the same float
        total = round(float(np.sum(np.sort(d))), 3)
        longest = float(d.max()) if len(d) else 0.0
        single = duration_score(longest, t.single_duration_s, t.medium_multiple)
        pair = duration_score(total, t.pair_total_duration_s, t.medium_multiple)
        score = max(single, pair)
        fired = tuple(
            name
            for name, ok in (
                ("single_duration_s", longest >= t.single_duration_s),
                ("pair_total_duration_s", total >= t.pair_total_duration_s),
            )
            if ok
        )
        order = np.lexsort((ports[lo:hi], ts[lo:hi], -d))[: t.sample_size]
        findings.append(
            Finding(
                kind=FindingKind.LONG_CONNECTION,
                src=Endpoint(address=row["src_ip"]),
                dst=Endpoint(address=row["dst_ip"]),
                score=score,
                severity=severity_for_score(score),
                sub_scores={
                    "longest_s": round(longest, 3),
                    "total_duration_s": total,
                    "long_connections": float(row["n_long"]),
                    "connections": float(row["n"]),
                },
                thresholds={
                    "single_duration_s": t.single_duration_s,
                    "pair_total_duration_s": t.pair_total_duration_s,
                },
                fired=fired,
                first_seen=utc(float(ts[lo:hi].min())),
                last_seen=utc(float((ts[lo:hi] + d).max())),
                evidence_count=int(row["n"]),
                evidence_sample=tuple(
                    EvidenceRow(
                        start_ts=float(ts[lo + j]),
                        src_ip=row["src_ip"],
                        dst_ip=row["dst_ip"],
                        dst_port=int(ports[lo + j]),
                        bytes_total=int(sizes[lo + j]),
                        duration=round(float(d[j]), 6),
                    )
                    for j in order
                ),
            )
        )
    return findings

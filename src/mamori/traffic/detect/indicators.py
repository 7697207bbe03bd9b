"""Indicator-match findings: flows touching listed addresses, prefixes, names or ports.

One finding per (source, destination, indicator). The score is the indicator's STIX 2.1 confidence (0-100)
scaled to 0..1; credibility follows the confidence (see :func:`mamori.traffic.detect.merge.grade_credibility`).
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa

from mamori.traffic.detect.model import Endpoint, EvidenceRow, Finding, FindingKind, severity_for_score, utc
from mamori.traffic.detect.pairs import sort_table
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.match.indicators import HIT_SCHEMA, MATCH_COLUMNS, CompiledIndicators

_NAME_FIELDS = ("dns_query", "tls_sni", "http_host")


def match_flows(engine: AnalyticsEngine, source: FlowSource, compiled: CompiledIndicators) -> pa.Table:
    """Every (flow, indicator) hit, in :data:`~mamori.traffic.match.indicators.HIT_SCHEMA`."""
    return engine.map_batches(source, MATCH_COLUMNS, compiled.match_batch, HIT_SCHEMA)


def detect_indicator_matches(
    engine: AnalyticsEngine, source: FlowSource, compiled: CompiledIndicators, sample_size: int = 5
) -> list[Finding]:
    hits = sort_table(
        match_flows(engine, source, compiled),
        ["indicator", "src_ip", "dst_ip", "start_ts", "field", "dst_port"],
    )
    groups: dict[tuple[int, str, str], list[dict[str, object]]] = defaultdict(list)
    for row in hits.to_pylist():
        groups[(int(row["indicator"]), str(row["src_ip"]), str(row["dst_ip"]))].append(row)
    findings: list[Finding] = []
    for (ind_row, src, dst), rows in sorted(groups.items()):
        ind = compiled.indicators[ind_row]
        score = round(max(0, min(100, ind.confidence)) / 100.0, 6)
        fields = sorted({str(r["field"]) for r in rows})
        names = sorted({str(r["matched"]) for r in rows if r["field"] in _NAME_FIELDS})
        first = min(float(r["start_ts"]) for r in rows)  # type: ignore[arg-type]
        last = max(float(r["start_ts"]) for r in rows)  # type: ignore[arg-type]
        sub = {f"matched_{f}": float(sum(1 for r in rows if r["field"] == f)) for f in fields}
        sub["indicator_confidence"] = float(ind.confidence)
        findings.append(
            Finding(
                kind=FindingKind.INDICATOR_MATCH,
                src=Endpoint(address=src),
                dst=Endpoint(address=dst, name=names[0] if names else None),
                score=score,
                severity=severity_for_score(score),
                sub_scores=sub,
                thresholds={"valid_until": ind.valid_until.timestamp() if ind.valid_until else 0.0},
                fired=(f"indicator:{ind.indicator_id}",),
                first_seen=utc(first),
                last_seen=utc(last),
                evidence_count=len(rows),
                evidence_sample=tuple(
                    EvidenceRow(
                        start_ts=float(r["start_ts"]),  # type: ignore[arg-type]
                        src_ip=src,
                        dst_ip=dst,
                        dst_port=None if r["dst_port"] is None else int(r["dst_port"]),  # type: ignore[call-overload]
                        bytes_total=int(r["bytes_total"] or 0),  # type: ignore[call-overload]
                        duration=float(r["duration"] or 0.0),  # type: ignore[arg-type]
                        note=f"{r['field']}={r['matched']}",
                    )
                    for r in rows[:sample_size]
                ),
            )
        )
    return findings

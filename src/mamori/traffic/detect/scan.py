"""Scanning: threshold random walk on first contacts, plus fixed horizontal and vertical spread thresholds.

Threshold random walk (TRW; J. Jung, V. Paxson, A. Berger, H. Balakrishnan, "Fast Portscan Detection Using
Sequential Hypothesis Testing", IEEE S&P 2004): for each source, walk over its *first contacts* (the first
connection to each distinct destination address, in time order). A first contact succeeds when the connection
was established (Zeek conn_state S1/S2/S3/SF/RSTO/RSTR, or SYN+ACK among the TCP flags with reply packets, or
any reply for other protocols) and fails otherwise. With ``theta0`` = P(success | benign) = 0.8 and ``theta1``
= P(success | scanner) = 0.2, each success multiplies the likelihood ratio by ``theta1 / theta0`` and each
failure by ``(1 - theta1) / (1 - theta0)``. The walk declares the source a scanner when the ratio reaches
``eta1 = beta / alpha`` (``beta`` = 0.99 detection, ``alpha`` = 0.01 false-positive targets) and benign when it
falls to ``eta0 = (1 - beta) / (1 - alpha)``; whichever is reached first decides, as in the paper's offline
form. Ties in time are broken by destination address so every engine walks the same order.

A TRW decision alone needs only four failures in a row, so the finding's score ramps with the number of failed
first contacts (medium at ``trw_min_failed`` of them).

Horizontal scan: one source, one (protocol, port), at least ``horizontal_addresses`` distinct destination
addresses of which at least ``min_failure_share`` failed. Vertical scan: one source, one destination address, at
least ``vertical_ports`` distinct ports with the same failure share. ICMP (whose "ports" are type and code) is
left to TRW.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow.compute as pc

from mamori.traffic.detect import queries
from mamori.traffic.detect.model import (
    Endpoint,
    EvidenceRow,
    Finding,
    FindingKind,
    ramp_score,
    severity_for_score,
    utc,
)
from mamori.traffic.detect.pairs import list_column, sort_table
from mamori.traffic.detect.ports import AnalyticsEngine, FlowSource
from mamori.traffic.detect.thresholds import ScanThresholds


def trw_walk(success: np.ndarray, offsets: np.ndarray, t: ScanThresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the TRW over many sources at once.

    ``success`` holds first-contact outcomes in walk order, grouped by source with ``offsets``. Returns per
    source: whether it was declared a scanner, the index (within its walk) of the deciding contact (-1 when
    undecided) and the final log likelihood ratio.
    """
    step_ok = math.log(t.theta1 / t.theta0)
    step_fail = math.log((1 - t.theta1) / (1 - t.theta0))
    upper = math.log(t.beta / t.alpha)
    lower = math.log((1 - t.beta) / (1 - t.alpha))
    n_src = len(offsets) - 1
    steps = np.where(success, step_ok, step_fail)
    csum = np.cumsum(steps)
    lengths = np.diff(offsets)
    base = np.concatenate([[0.0], csum])[offsets[:-1]]
    walk = csum - np.repeat(base, lengths)
    idx = np.arange(len(walk)) - np.repeat(offsets[:-1], lengths)
    seg = np.repeat(np.arange(n_src), lengths)
    big = np.iinfo(np.int64).max
    up_idx = np.full(n_src, big, dtype=np.int64)
    low_idx = np.full(n_src, big, dtype=np.int64)
    hit_up = walk >= upper - 1e-12
    hit_low = walk <= lower + 1e-12
    np.minimum.at(up_idx, seg[hit_up], idx[hit_up])
    np.minimum.at(low_idx, seg[hit_low], idx[hit_low])
    scanner = up_idx < low_idx
    decided_at = np.where(scanner, up_idx, np.where(low_idx < big, low_idx, -1))
    final = np.where(lengths > 0, np.concatenate([[0.0], walk])[offsets[1:]], 0.0) if len(walk) else np.zeros(n_src)
    return scanner, decided_at, final


def detect_trw(engine: AnalyticsEngine, source: FlowSource, t: ScanThresholds) -> list[Finding]:
    table = sort_table(engine.aggregate(source, queries.fill(queries.FIRST_CONTACTS)), ["src_ip", "first_ts", "dst_ip"])
    n = table.num_rows
    if n == 0:
        return []
    src_col = table.column("src_ip").combine_chunks()
    first_ts = np.asarray(table.column("first_ts").to_numpy(), dtype=np.float64)
    success = np.asarray(
        pc.fill_null(pc.equal(table.column("first_ok_ts"), table.column("first_ts")), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    change = np.asarray(
        pc.not_equal(src_col.slice(1), src_col.slice(0, n - 1)).to_numpy(zero_copy_only=False), dtype=bool
    )
    offsets = np.concatenate([[0], np.flatnonzero(change) + 1, [n]]).astype(np.int64)
    scanner, decided_at, final = trw_walk(success, offsets, t)
    dst_col = table.column("dst_ip")
    findings: list[Finding] = []
    for s in np.flatnonzero(scanner):
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        src = {lo: str(src_col[lo])}
        dst = dict(zip(range(lo, hi), dst_col.slice(lo, hi - lo).to_pylist(), strict=True))
        failed = int((~success[lo:hi]).sum())
        contacts = hi - lo
        score = ramp_score(failed, t.trw_min_failed)
        sample = tuple(
            EvidenceRow(start_ts=float(first_ts[j]), src_ip=src[lo], dst_ip=dst[j], note="failed first contact")
            for j in range(lo, hi)
            if not success[j]
        )[: t.sample_size]
        findings.append(
            Finding(
                kind=FindingKind.SCAN,
                src=Endpoint(address=src[lo]),
                dst=Endpoint(),
                score=score,
                severity=severity_for_score(score),
                sub_scores={
                    "first_contacts": float(contacts),
                    "failed_first_contacts": float(failed),
                    "failure_share": round(failed / contacts, 6),
                    "decided_at_contact": float(decided_at[s] + 1),
                    "log_likelihood_ratio": round(float(final[s]), 6),
                },
                thresholds={
                    "theta0": t.theta0,
                    "theta1": t.theta1,
                    "alpha": t.alpha,
                    "beta": t.beta,
                    "trw_min_failed": float(t.trw_min_failed),
                },
                fired=("eta1",) + (("trw_min_failed",) if failed >= t.trw_min_failed else ()),
                first_seen=utc(float(first_ts[lo:hi].min())),
                last_seen=utc(float(first_ts[lo:hi].max())),
                evidence_count=contacts,
                evidence_sample=sample,
            )
        )
    return findings


def _spread_findings(engine: AnalyticsEngine, source: FlowSource, t: ScanThresholds, vertical: bool) -> list[Finding]:
    if vertical:
        q = queries.fill(queries.VERTICAL_SPREAD, min_ports=t.vertical_ports)
        keys = ["src_ip", "dst_ip"]
        count_col, failed_col, threshold = "n_ports", "n_failed_ports", t.vertical_ports
    else:
        q = queries.fill(queries.HORIZONTAL_SPREAD, min_addresses=t.horizontal_addresses)
        keys = ["src_ip", "proto", "dst_port"]
        count_col, failed_col, threshold = "n_addresses", "n_failed_addresses", t.horizontal_addresses
    table = sort_table(engine.aggregate(source, q), keys)
    findings: list[Finding] = []
    rows = table.drop_columns(["ts", "dst_ips" if not vertical else "dst_ports"]).to_pylist()
    ts_flat, ts_off = list_column(table, "ts", np.float64)
    other_col = "dst_ports" if vertical else "dst_ips"
    others = table.column(other_col).to_pylist()
    for i, row in enumerate(rows):
        spread, failed = int(row[count_col]), int(row[failed_col])
        share = failed / spread if spread else 0.0
        if share < t.min_failure_share:
            continue
        score = ramp_score(spread, threshold)
        ts = ts_flat[ts_off[i] : ts_off[i + 1]]
        other = others[i]
        order = sorted(range(len(ts)), key=lambda j: (ts[j], str(other[j])))[: t.sample_size]
        sample = tuple(
            EvidenceRow(
                start_ts=float(ts[j]),
                src_ip=row["src_ip"],
                dst_ip=row["dst_ip"] if vertical else str(other[j]),
                dst_port=int(other[j]) if vertical else int(row["dst_port"]),
            )
            for j in order
        )
        kind = FindingKind.VERTICAL_SCAN if vertical else FindingKind.HORIZONTAL_SCAN
        dst = Endpoint(address=row["dst_ip"]) if vertical else Endpoint(port=int(row["dst_port"]))
        name = "vertical_ports" if vertical else "horizontal_addresses"
        findings.append(
            Finding(
                kind=kind,
                src=Endpoint(address=row["src_ip"]),
                dst=dst,
                score=score,
                severity=severity_for_score(score),
                sub_scores={
                    count_col: float(spread),
                    failed_col: float(failed),
                    "failure_share": round(share, 6),
                },
                thresholds={name: float(threshold), "min_failure_share": t.min_failure_share},
                fired=(name, "min_failure_share"),
                first_seen=utc(float(row["first_ts"])),
                last_seen=utc(float(row["last_ts"])),
                evidence_count=int(row["n"]),
                evidence_sample=sample,
            )
        )
    return findings


def detect_scans(engine: AnalyticsEngine, source: FlowSource, t: ScanThresholds) -> list[Finding]:
    """TRW, horizontal and vertical scan findings."""
    return (
        detect_trw(engine, source, t)
        + _spread_findings(engine, source, t, vertical=False)
        + _spread_findings(engine, source, t, vertical=True)
    )

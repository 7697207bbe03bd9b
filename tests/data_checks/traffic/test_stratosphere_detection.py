"""Detectors on the labelled Stratosphere Zeek captures (domestic space = the private IPv4 ranges)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from mamori.adapters.analytics.duckdb_engine import DuckDBEngine
from mamori.traffic.detect.model import FindingKind, Severity
from mamori.traffic.detect.service import DetectionRun, run_detectors
from mamori.traffic.evaluate import false_positive_rate, pair_labels, rank_of

pytestmark = pytest.mark.shared_data

Loader = Callable[..., tuple[pa.Table, list[str | None]]]
SCAN_KINDS = {FindingKind.SCAN, FindingKind.HORIZONTAL_SCAN, FindingKind.VERTICAL_SCAN}


def detect(table: pa.Table) -> DetectionRun:
    with DuckDBEngine() as engine:
        return run_detectors(engine, table)


def test_njrat_c2_pair_ranks_first_among_beacons(stratosphere: Loader) -> None:
    table, labels = stratosphere("001-zeek-scenario-malicious/labeled-conn.log")
    by_pair = pair_labels(table, labels)
    assert by_pair[("192.168.1.115", "41.108.179.197")] == "malicious"
    beacons = detect(table).of_kind(FindingKind.BEACON)
    assert rank_of(beacons, "192.168.1.115", "41.108.179.197") == 1
    top = max(beacons, key=lambda f: f.score)
    assert top.sub_scores["timestamp"] > 0.8


def test_only_the_nmap_host_is_flagged_for_scanning(stratosphere: Loader) -> None:
    table, _ = stratosphere("002-zeek-scenario-port-scanning/conn.log")
    run = detect(table)
    scanners = {f.src.address for f in run.findings if f.kind in SCAN_KINDS and f.severity.at_least(Severity.MEDIUM)}
    assert scanners == {"172.16.1.11"}
    trw = [f for f in run.of_kind(FindingKind.SCAN) if f.src.address == "172.16.1.11"]
    assert trw and trw[0].sub_scores["failed_first_contacts"] >= 20
    others = {f.src.address for f in run.findings if f.kind in SCAN_KINDS} - {"172.16.1.11"}
    assert others == set()


def test_simda_host_is_flagged_for_dga(stratosphere: Loader) -> None:
    # The infected machine is dual-stack; its IPv6 address sends the bulk of the generated names.
    table, _ = stratosphere("005-zeek-scenario-malicious/dns.log", "dns")
    bursts = detect(table).of_kind(FindingKind.NXDOMAIN_BURST)
    simda = "fd77:48a1:c0bb:0:b96c:506d:6c7f:e8be"
    assert [f.src.address for f in bursts if f.severity.at_least(Severity.MEDIUM)] == [simda]
    (finding,) = [f for f in bursts if f.src.address == simda]
    assert finding.sub_scores["peak_nx_names"] >= 50
    assert all(e.note and e.note.endswith(".com") for e in finding.evidence_sample)


def test_normal_day_false_positive_rate_is_under_goal(stratosphere: Loader) -> None:
    table, labels = stratosphere("008-zeek-mixed/data/conn.log.labeled")
    by_pair = pair_labels(table, labels)
    report = false_positive_rate(detect(table).findings, by_pair, Severity.MEDIUM)
    assert report.benign_pairs > 100
    assert report.rate < 0.001, report.flagged_benign_pairs

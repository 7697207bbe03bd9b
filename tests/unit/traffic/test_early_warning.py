"""Early-warning reports: an operator's assets in findings, one Shadowserver-style CSV row per event."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta

from tests.unit.traffic.test_findings_store import DAY1, make_finding

from mamori.traffic.constituency import Constituency, PrefixAsnTable, parse_entries
from mamori.traffic.detect.model import FindingKind
from mamori.traffic.early_warning import COLUMNS, Contact, build_report
from mamori.traffic.findings_store import StoredFinding, finding_id

OWN = Constituency("org-1", tuple(parse_entries(["203.0.113.0/24"], [], ["power.example"])))


def stored(kind: FindingKind = FindingKind.BEACON, **kw: object) -> StoredFinding:
    f = make_finding(kind, **kw)  # type: ignore[arg-type]
    return StoredFinding(id=finding_id(f), finding=f, engine="duckdb", created_at=DAY1, updated_at=DAY1)


class Flows:
    def __init__(self, contacts: Sequence[Contact]) -> None:
        self.items = list(contacts)
        self.asked: list[tuple[str | None, str | None]] = []

    def contacts(self, *, src: str | None, dst: str | None, start: float, end: float) -> list[Contact]:
        self.asked.append((src, dst))
        return [c for c in self.items if (src is None or c.src_ip == src) and (dst is None or c.dst_ip == dst)]


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_infected_host_scan_target_and_c2_contact_rows() -> None:
    beacon = stored(src="203.0.113.5", dst="198.51.100.7")
    scan = stored(FindingKind.VERTICAL_SCAN, src="192.0.2.66", dst="203.0.113.9", count=400)
    match = stored(FindingKind.INDICATOR_MATCH, src="203.0.113.6", dst="198.51.100.99",
                   fired=("indicator:indicator--x",))
    other = stored(src="198.18.0.5", dst="198.51.100.7")  # someone else's host
    report = build_report("org-1", "power-co", OWN, [beacon, scan, match, other], date(2026, 11, 1),
                          generated_at=DAY1)
    tags = {(r.tag, r.ip) for r in report.rows}
    assert tags == {("infected-host", "203.0.113.5"), ("exposed-service", "203.0.113.9"),
                    ("c2-contact", "203.0.113.6")}
    infected = next(r for r in report.rows if r.tag == "infected-host")
    assert (infected.dst_ip, infected.infection, infected.severity, infected.count) == (
        "198.51.100.7", "beacon", "critical", 30)
    rows = rows_of(report.to_csv())
    assert tuple(rows[0].keys()) == COLUMNS
    assert rows[0]["timestamp"] == "2026-11-01 03:00:00"  # Shadowserver time style, UTC


def test_a_day_without_the_finding_gives_no_rows() -> None:
    beacon = stored(src="203.0.113.5")
    assert build_report("org-1", "k", OWN, [beacon], date(2026, 11, 3), generated_at=DAY1).rows == ()
    assert build_report("org-1", "k", Constituency("org-1", ()), [beacon], date(2026, 11, 1),
                        generated_at=DAY1).rows == ()


def test_fan_in_and_horizontal_scan_sides_come_from_the_flows() -> None:
    fan_in = stored(FindingKind.FAN_IN_C2, src=None, dst="198.51.100.7")
    scan = stored(FindingKind.HORIZONTAL_SCAN, src="192.0.2.66", dst=None, dst_port=23)
    t = DAY1.timestamp()
    flows = Flows([
        Contact("203.0.113.20", "198.51.100.7", 80, 6, 12, t, t + 600),
        Contact("203.0.113.21", "198.51.100.7", 80, 6, 11, t, t + 700),
        Contact("198.18.0.1", "198.51.100.7", 80, 6, 10, t, t + 800),
        Contact("192.0.2.66", "203.0.113.40", 23, 6, 1, t, t),
        Contact("192.0.2.66", "203.0.113.41", 23, 6, 2, t, t + 1),
        Contact("192.0.2.66", "203.0.113.41", 2323, 6, 2, t, t + 1),
    ])
    report = build_report("org-1", "k", OWN, [fan_in, scan], date(2026, 11, 1), generated_at=DAY1, contacts=flows)
    infected = sorted((r.ip, r.count) for r in report.rows if r.tag == "infected-host")
    assert infected == [("203.0.113.20", 12), ("203.0.113.21", 11)]
    exposed = sorted((r.ip, r.port, r.protocol, r.src_ip) for r in report.rows if r.tag == "exposed-service")
    assert exposed == [("203.0.113.40", 23, "tcp", "192.0.2.66"), ("203.0.113.41", 23, "tcp", "192.0.2.66")]


def test_asn_column_is_filled_from_a_routing_table() -> None:
    routing = PrefixAsnTable({"203.0.113.0/24": 64500})
    report = build_report("org-1", "k", OWN, [stored(src="203.0.113.5")], date(2026, 11, 1), generated_at=DAY1,
                          resolver=routing)
    assert report.rows[0].asn == 64500
    assert rows_of(report.to_csv())[0]["asn"] == "64500"


def test_multi_day_finding_reports_on_each_day_with_that_days_time() -> None:
    long = stored(src="203.0.113.5", hours=30.0)
    day1 = build_report("org-1", "k", OWN, [long], date(2026, 11, 1), generated_at=DAY1).rows
    day2 = build_report("org-1", "k", OWN, [long], date(2026, 11, 2), generated_at=DAY1).rows
    assert day1[0].timestamp < DAY1.replace(hour=0) + timedelta(days=1) <= day2[0].timestamp
    assert report_filename() == "2026-11-01-mamori-early-warning-power-co.csv"


def report_filename() -> str:
    return build_report("org-1", "power-co", OWN, [], date(2026, 11, 1), generated_at=DAY1).filename

"""``mamori traffic`` end to end on a small synthetic Zeek log: ingest -> detect -> findings -> report."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.bootstrap import build_context
from mamori.cli.main import app
from mamori.config import Settings

runner = CliRunner()
START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC).timestamp()
FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
          "orig_bytes", "resp_bytes", "conn_state", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts",
          "resp_ip_bytes"]
HEADER = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
          "#open\t2026-11-01-00-00-00\n#fields\t" + "\t".join(FIELDS) + "\n#types\t"
          + "\t".join("string" for _ in FIELDS) + "\n")


def zeek_conn_log(path: Path) -> Path:
    """A domestic host beaconing every 5 minutes to a foreign server, and a foreign scanner sweeping port 23."""
    rows = []
    for i in range(48):
        rows.append([f"{START + 60 + i * 300.0:.6f}", f"B{i}", "203.0.113.5", str(40000 + i), "198.51.100.7", "443",
                     "tcp", "ssl", "0.5", "300", "300", "SF", "ShADadFf", "4", "512", "4", "512"])
    for i in range(1, 101):
        rows.append([f"{START + 7200 + i * 0.1:.6f}", f"S{i}", "192.0.2.66", "51000", f"203.0.113.{i}", "23", "tcp",
                     "-", "-", "-", "-", "S0", "S", "1", "44", "0", "0"])
    path.write_text(HEADER + "".join("\t".join(r) + "\n" for r in rows) + "#close\t2026-11-01-03-00-00\n")
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAMORI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAMORI_DOMESTIC_PREFIXES", '["203.0.113.0/24"]')
    monkeypatch.setenv("MAMORI_LOCALE", "en")
    monkeypatch.delenv("MAMORI_DATABASE_URL", raising=False)
    ctx = build_context(Settings())
    ctx.identity.create_organisation("power-co", "Power Co", "operator")
    ctx.close()
    return tmp_path


def test_ingest_detect_findings_report_and_propose(env: Path) -> None:
    log = zeek_conn_log(env / "conn.log")
    r = runner.invoke(app, ["traffic", "ingest", "--format", "zeek", "--channel", "agreement", "--approval", "AGR-1",
                            "--sensor", "tokyo-1", str(log)])
    assert r.exit_code == 0, r.output
    assert "148 of 148 records stored" in r.output

    r = runner.invoke(app, ["traffic", "detect"])
    assert r.exit_code == 0, r.output
    assert "148 flows over 1 day(s) on duckdb" in r.output and "0 updated" in r.output

    r = runner.invoke(app, ["traffic", "findings", "--format", "json"])
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)
    beacon = next(f for f in found if f["kind"] == "beacon" and f["destination"] == "198.51.100.7")
    assert beacon["source"] == "203.0.113.5" and beacon["evidence_count"] == 48
    assert beacon["sub_scores"]["timestamp"] > 0.9 and beacon["first_seen"].startswith("2026-11-01T00:01:00")
    scan = next(f for f in found if f["kind"] == "horizontal_scan")
    assert scan["source"] == "192.0.2.66" and scan["destination_port"] == 23

    r = runner.invoke(app, ["traffic", "findings", "--kind", "beacon", "--format", "csv"])
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert rows and {row["kind"] for row in rows} == {"beacon"}

    # running detection again over the same flows adds nothing
    r = runner.invoke(app, ["traffic", "detect"])
    assert r.exit_code == 0 and "0 new, 0 updated" in r.output and "0 STIX objects added" in r.output

    r = runner.invoke(app, ["traffic", "constituency", "add", "--organisation", "power-co", "--prefix",
                            "203.0.113.0/25", "--asn", "64500", "--domain", "power.example"])
    assert r.exit_code == 0 and "constituency of power-co: 3 added" in r.output, r.output

    r = runner.invoke(app, ["traffic", "report", "--organisation", "power-co", "--day", "2026-11-01"])
    assert r.exit_code == 0, r.output
    report = list(csv.DictReader(io.StringIO(r.output)))
    infected = [row for row in report if row["tag"] == "infected-host"]
    assert {row["ip"] for row in infected} == {"203.0.113.5"} and infected[0]["dst_ip"] == "198.51.100.7"
    exposed = {row["ip"] for row in report if row["tag"] == "exposed-service"}
    assert exposed == {f"203.0.113.{i}" for i in range(1, 101) if i < 128}  # only the operator's /25
    assert all(row["src_ip"] == "192.0.2.66" for row in report if row["tag"] == "exposed-service")

    r = runner.invoke(app, ["traffic", "measure", "propose", beacon["id"], "--kind", "sinkhole", "--by", "analyst"])
    assert r.exit_code == 0 and "sinkhole of 198.51.100.7 proposed" in r.output, r.output
    r = runner.invoke(app, ["traffic", "measure", "list"])
    assert "proposed" in r.output and beacon["id"] in r.output


def test_failures_are_one_line_and_store_nothing(env: Path) -> None:
    log = zeek_conn_log(env / "conn.log")
    r = runner.invoke(app, ["traffic", "ingest", "--channel", "transit", str(log)])
    assert r.exit_code == 1 and "approval" in r.output and len(r.output.strip().splitlines()) == 1
    bad = env / "bad.log"
    bad.write_text(HEADER + "not-a-time\tC1\t203.0.113.5\t1\t198.51.100.7\t443\ttcp\t-\t-\t-\t-\tSF\t-\t1\t1\t1\t1\n")
    r = runner.invoke(app, ["traffic", "ingest", "--approval", "AGR-1", str(log), str(bad)])
    assert r.exit_code == 1 and "bad.log" in r.output
    r = runner.invoke(app, ["traffic", "detect"])
    assert "0 flows" in r.output
    r = runner.invoke(app, ["traffic", "constituency", "add", "--organisation", "power-co", "--prefix",
                            "203.0.113.0/24", "--prefix", "203.0.113.0/99"])
    assert r.exit_code == 1 and "prefix[1]" in r.output
    r = runner.invoke(app, ["traffic", "constituency", "list", "--organisation", "power-co"])
    assert r.exit_code == 0 and r.output.strip() == ""
    r = runner.invoke(app, ["traffic", "report", "--organisation", "ghost-co"])
    assert r.exit_code == 1 and "no organisation 'ghost-co'" in r.output
    r = runner.invoke(app, ["traffic", "findings", "--kind", "bogus"])
    assert r.exit_code == 1 and "--kind" in r.output
    r = runner.invoke(app, ["traffic", "measure", "propose", "missing", "--kind", "block"])
    assert r.exit_code == 1 and "no finding 'missing'" in r.output
    r = runner.invoke(app, ["traffic", "detect", "--since", "yesterday"])
    assert r.exit_code == 1 and "--since" in r.output
    r = runner.invoke(app, ["traffic", "collect", "--listen", "nowhere"])
    assert r.exit_code == 1 and "listen" in r.output and len(r.output.strip().splitlines()) == 1


def test_approvals_are_recorded_and_listed(env: Path) -> None:
    r = runner.invoke(app, ["traffic", "approval", "add", "--id", "OC-2026-17", "--channel", "specific",
                            "--valid-from", "2026-11-01", "--valid-until", "2026-12-01", "--granted-by",
                            "commission", "--scope", "198.51.100.0/24"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["traffic", "approval", "list"])
    assert r.output.split()[:2] == ["OC-2026-17", "specific"] and "198.51.100.0/24" in r.output
    r = runner.invoke(app, ["traffic", "approval", "add", "--id", "OC-2026-18", "--channel", "specific",
                            "--valid-from", "2026-11-01", "--valid-until", "2026-10-01", "--granted-by", "c"])
    assert r.exit_code == 1 and "valid_until" in r.output


def test_detection_window_and_the_daily_run_for_every_operator(env: Path) -> None:
    log = zeek_conn_log(env / "conn.log")
    assert runner.invoke(app, ["traffic", "ingest", "--approval", "AGR-1", str(log)]).exit_code == 0
    r = runner.invoke(app, ["traffic", "detect", "--until", "2026-11-01T01:00:00Z"])
    assert r.exit_code == 0 and "12 flows over 1 day(s)" in r.output, r.output
    r = runner.invoke(app, ["traffic", "findings", "--format", "json"])
    assert "horizontal_scan" not in {f["kind"] for f in json.loads(r.output)}  # the sweep came after 02:00
    r = runner.invoke(app, ["traffic", "detect", "--since", "2026-11-02"])
    assert r.exit_code == 0 and "0 flows" in r.output
    assert runner.invoke(app, ["traffic", "detect"]).exit_code == 0
    assert runner.invoke(app, ["traffic", "constituency", "add", "-o", "power-co", "--prefix",
                               "203.0.113.0/24"]).exit_code == 0
    r = runner.invoke(app, ["traffic", "report", "--all", "--day", "2026-11-01", "--output", str(env / "daily")])
    assert r.exit_code == 0, r.output
    text = (env / "daily" / "2026-11-01-mamori-early-warning-power-co.csv").read_text()
    assert text.startswith("timestamp,ip,port") and "infected-host" in text and "exposed-service" in text
    r = runner.invoke(app, ["traffic", "report"])
    assert r.exit_code == 1 and "--organisation" in r.output


@pytest.mark.spark
@pytest.mark.slow
def test_spark_engine_finds_what_duckdb_finds(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark", reason="the Spark engine needs PySpark (mamori[spark])")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs Java 17")
    log = zeek_conn_log(env / "conn.log")
    assert runner.invoke(app, ["traffic", "ingest", "--approval", "AGR-1", str(log)]).exit_code == 0
    results = {}
    for engine in ("duckdb", "spark"):
        copy = env / f"copy-{engine}"
        shutil.copytree(env, copy, ignore=shutil.ignore_patterns("copy-*"))
        monkeypatch.setenv("MAMORI_DATA_DIR", str(copy))
        r = runner.invoke(app, ["traffic", "detect", "--engine", engine])
        assert r.exit_code == 0 and f"on {engine}" in r.output, r.output
        r = runner.invoke(app, ["traffic", "findings", "--format", "json"])
        results[engine] = json.loads(r.output)
    assert results["spark"] == results["duckdb"] and results["duckdb"]


def test_messages_follow_the_cli_language(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_LOCALE", "ja")
    r = runner.invoke(app, ["traffic", "detect"])
    assert r.exit_code == 0 and "0 件のフロー" in r.output, r.output
    r = runner.invoke(app, ["traffic", "constituency", "add", "-o", "power-co", "--domain", "power.example"])
    assert "power-co の担当範囲: 1 件を追加" in r.output


def test_agreement_profile_and_retention_come_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.traffic.model import Channel
    from mamori.traffic.service import traffic_service

    monkeypatch.setenv("MAMORI_TRAFFIC_AGREEMENT_FIELDS", '["dns_query", "dns_rcode"]')
    monkeypatch.setenv("MAMORI_TRAFFIC_RETENTION_DAYS", '{"agreement": 7}')
    monkeypatch.setenv("MAMORI_DATA_DIR", str(tmp_path))
    ctx = build_context(Settings())
    try:
        policy = traffic_service(ctx).policy
        assert policy.retention[Channel.AGREEMENT].days == 7
        assert policy.allowed_optional(Channel.AGREEMENT) == {"dns_query", "dns_rcode"}
        assert policy.allowed_optional(Channel.TRANSIT) == frozenset()
    finally:
        ctx.close()

"""Detector conformance: DuckDB and Spark give identical findings on the same synthetic day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mamori.adapters.analytics.duckdb_engine import DuckDBEngine
from mamori.traffic.detect.model import Severity
from mamori.traffic.detect.service import DetectionRun, run_detectors
from mamori.traffic.match.indicators import Indicator, IndicatorKind
from mamori.traffic.synthetic import SyntheticDay, generate_day

pytestmark = pytest.mark.spark
AT = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def day() -> SyntheticDay:
    return generate_day(seed=11, background_flows=20_000, hosts=120)


def _indicators(day: SyntheticDay) -> list[Indicator]:
    c2 = day.planted[0].dst
    assert c2 is not None
    return [
        Indicator(IndicatorKind.IP, c2, "ind--ip"),
        Indicator(IndicatorKind.CIDR, c2.rsplit(".", 1)[0] + ".0/24", "ind--net"),
        Indicator(IndicatorKind.DOMAIN, "badupdate.example", "ind--dom"),
        Indicator(IndicatorKind.PORT, "tcp/445", "ind--port", revoked=True),
    ]


@pytest.fixture(scope="module")
def duck(day: SyntheticDay) -> DetectionRun:
    with DuckDBEngine() as engine:
        return run_detectors(engine, day.table, indicators=_indicators(day), at=AT)


@pytest.fixture(scope="module")
def spark(day: SyntheticDay, spark_session: Any) -> DetectionRun:
    from mamori.adapters.analytics.spark_engine import SparkEngine

    return run_detectors(SparkEngine(spark_session), day.table, indicators=_indicators(day), at=AT)


def test_duckdb_and_spark_give_identical_findings(duck: DetectionRun, spark: DetectionRun) -> None:
    assert len(duck.findings) > 10
    assert [f.comparable() for f in spark.findings] == [f.comparable() for f in duck.findings]


@pytest.mark.parametrize("engine", ["duck", "spark"])
def test_every_planted_behaviour_is_found_on_each_engine(
    engine: str, request: pytest.FixtureRequest, day: SyntheticDay
) -> None:
    run: DetectionRun = request.getfixturevalue(engine)
    for p in day.planted:
        assert any(
            f.kind is p.kind
            and (p.src is None or f.src.address == p.src)
            and (p.dst is None or f.dst.address == p.dst)
            and (p.dst_name is None or f.dst.name == p.dst_name)
            and f.severity.at_least(Severity.MEDIUM)
            for f in run.findings
        ), p
    benign = [f for f in run.at_least(Severity.MEDIUM) if f.src.address in day.benign_hosts]
    assert benign == []

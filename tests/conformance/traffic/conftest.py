"""One local SparkSession for the whole test session (Spark takes ~10 s to start)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="PySpark is not installed (mamori[spark])")
    pytest.importorskip("pandas", reason="PySpark's Arrow batch functions need pandas")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH; Spark needs Java 17")
    from mamori.adapters.analytics.spark_engine import local_session

    session = local_session(cores=2, shuffle_partitions=4)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()

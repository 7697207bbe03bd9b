"""Scoring pairs in two halves on two threads gives exactly the arrays of one pass."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pyarrow as pa
import pytest

from mamori.traffic.detect import beacon
from mamori.traffic.detect.pairs import Series
from mamori.traffic.detect.thresholds import BeaconThresholds


def test_two_halves_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    lengths = rng.integers(1, 60, size=400)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(offsets[-1])
    ts = 1_700_000_000 + rng.uniform(0, 86_400, size=n)
    sizes = rng.integers(40, 5_000, size=n).astype(np.float64)
    series = Series(pa.table({"x": list(range(len(lengths)))}), ts, sizes, np.zeros(n), np.zeros(n, np.int64), offsets)
    window = (1_700_000_000.0, 1_700_086_400.0)
    t = BeaconThresholds()
    monkeypatch.setattr(beacon, "_PARALLEL_MIN_CONNECTIONS", 10**12)
    single = beacon._score(series, window, t)
    monkeypatch.setattr(beacon, "_PARALLEL_MIN_CONNECTIONS", 1)
    split = beacon._score(series, window, t)
    for f in fields(single):
        np.testing.assert_array_equal(getattr(single, f.name), getattr(split, f.name), err_msg=f.name)

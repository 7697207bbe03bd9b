"""Hand-computed expectations for the RITA-style regularity statistics."""

from __future__ import annotations

import numpy as np
import pytest

from mamori.traffic.detect.regularity import (
    bowley_skewness,
    duration_scores,
    histogram_scores,
    hourly_histograms,
    median_absolute_deviation,
    score_series,
    segment_mode,
    segment_quantiles,
    timestamp_scores,
)


def test_bowley_skewness_of_right_skewed_series() -> None:
    # quartiles (linear, positions 1.5/3/4.5 of 0..6): Q1 = 1.5, Q2 = 3, Q3 = 13 -> (1.5 + 13 - 6) / 11.5
    values = [1, 1, 2, 3, 4, 22, 30]
    q = np.quantile(values, [0.25, 0.5, 0.75])
    assert tuple(q) == (1.5, 3.0, 13.0)
    assert bowley_skewness(values) == pytest.approx(8.5 / 11.5)


def test_bowley_skewness_is_zero_for_symmetric_and_degenerate_series() -> None:
    assert bowley_skewness([1, 2, 3, 4, 5]) == 0.0
    assert bowley_skewness([7, 7, 7, 7]) == 0.0  # Q3 == Q1
    assert bowley_skewness([1, 2, 2, 2, 9]) == 0.0  # median on a quartile


def test_bowley_skewness_of_left_skewed_series_is_negative() -> None:
    # Q1 = 5, Q2 = 9, Q3 = 10 -> (5 + 10 - 18) / 5 = -0.6
    assert bowley_skewness([1, 5, 9, 10, 11]) == pytest.approx(-0.6)


def test_median_absolute_deviation() -> None:
    # median 3; deviations 2,1,0,1,7 -> sorted 0,1,1,2,7 -> MAD 1
    assert median_absolute_deviation([1, 2, 3, 4, 10]) == 1.0
    assert median_absolute_deviation([5, 5, 5]) == 0.0


def test_segment_quantiles_match_numpy_per_series() -> None:
    rng = np.random.default_rng(3)
    a, b = np.sort(rng.normal(size=11)), np.sort(rng.normal(size=4))
    values = np.concatenate([a, b])
    offsets = np.array([0, 11, 15])
    for q in (0.25, 0.5, 0.75):
        got = segment_quantiles(values, offsets, q)
        assert got == pytest.approx([np.quantile(a, q), np.quantile(b, q)])


def test_segment_mode_prefers_most_frequent_then_smallest() -> None:
    values = np.array([1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0, 9.0])
    offsets = np.array([0, 5, 8])
    assert list(segment_mode(values, offsets)) == [2.0, 5.0]


def test_timestamp_score_of_perfect_timer_is_one() -> None:
    ts = np.arange(0.0, 3600.0, 60.0)
    skew, madm, score, median = timestamp_scores(ts, np.array([0, len(ts)]))
    assert (skew[0], madm[0], score[0], median[0]) == (1.0, 1.0, 1.0, 60.0)


def test_timestamp_score_by_hand() -> None:
    # deltas 10, 10, 20, 40: Q1 = 10, Q2 = 15, Q3 = 25 -> bowley (10 + 25 - 30)/15 = 1/3 -> skew score 2/3
    # median 15, |d - 15| = 5, 5, 5, 25 -> MAD 5 -> madm score 1 - 5/15 = 2/3
    ts = np.array([0.0, 10.0, 20.0, 40.0, 80.0])
    skew, madm, score, _ = timestamp_scores(ts, np.array([0, 5]))
    assert skew[0] == pytest.approx(2 / 3)
    assert madm[0] == pytest.approx(2 / 3)
    assert score[0] == pytest.approx(2 / 3)


def test_duration_score_takes_larger_of_coverage_and_consistency() -> None:
    # connections in hours 0 and 1 only, spanning 1.5 h of a 4 h window: coverage 0.375, consistency 2/4
    ts = np.array([0.0, 1800.0, 5400.0])
    coverage, consistency, score = duration_scores(ts, np.array([0, 3]), 0.0, 4 * 3600.0)
    assert coverage[0] == pytest.approx(5400 / 14400)
    assert consistency[0] == pytest.approx(0.5)
    assert score[0] == pytest.approx(0.5)


def test_flat_hourly_histogram_scores_one() -> None:
    ts = np.arange(0.0, 86400.0, 900.0)
    hist = hourly_histograms(ts, np.array([0, len(ts)]), 0.0)
    assert hist.tolist() == [[4] * 24]
    cv, bimodal, score = histogram_scores(hist, 11, 0.05)
    assert cv[0] == 1.0 and bimodal[0] == 1.0 and score[0] == 1.0


def test_bimodal_fit_needs_enough_active_hours() -> None:
    # business hours only: 12 active hours with 6 each, 12 idle: two buckets cover all 24 bins
    busy = np.array([[6] * 12 + [0] * 12])
    cv, bimodal, score = histogram_scores(busy, 11, 0.05)
    assert cv[0] == pytest.approx(0.0)
    assert bimodal[0] == 1.0 and score[0] == 1.0
    sparse = np.array([[1] * 5 + [0] * 19])
    assert histogram_scores(sparse, 11, 0.05)[1][0] == 0.0


def test_score_series_separates_timer_from_random_traffic() -> None:
    rng = np.random.default_rng(5)
    timer = np.arange(0.0, 86400.0, 300.0) + rng.normal(0, 1, 288)
    noise = rng.uniform(0, 86400, 288)
    ts = np.concatenate([timer, noise])
    sizes = np.concatenate([np.full(288, 500.0), rng.lognormal(8, 2, 288)])
    s = score_series(ts, np.array([0, 288, 576]), sizes, 0.0, 86400.0)
    assert s.score[0] > 0.95
    assert s.ts_score[1] < 0.7
    assert s.score[0] - s.score[1] > 0.15


def test_score_series_counts_unique_timestamps_only() -> None:
    ts = np.array([0.0, 0.0, 60.0, 60.0, 120.0, 180.0])
    s = score_series(ts, np.array([0, 6]), np.full(6, 10.0), 0.0, 180.0)
    assert s.unique_connections.tolist() == [4]

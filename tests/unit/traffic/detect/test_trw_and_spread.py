"""Threshold random walk decisions with the paper's defaults (theta0 .8, theta1 .2, alpha .01, beta .99)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mamori.traffic.detect.scan import trw_walk
from mamori.traffic.detect.thresholds import ScanThresholds

T = ScanThresholds()


def test_thresholds_follow_the_paper() -> None:
    # eta1 = 0.99 / 0.01 = 99; each failure multiplies by 0.8 / 0.2 = 4, so 4 failures (256) cross, 3 (64) do not
    assert math.log(T.beta / T.alpha) == math.log(99)
    assert 4**3 < 99 < 4**4


def test_four_straight_failures_make_a_scanner_at_the_fourth_contact() -> None:
    scanner, decided, final = trw_walk(np.array([False] * 4), np.array([0, 4]), T)
    assert scanner.tolist() == [True]
    assert decided.tolist() == [3]
    assert final[0] == pytest.approx(math.log(4**4))


def test_three_failures_stay_undecided() -> None:
    scanner, decided, _ = trw_walk(np.array([False] * 3), np.array([0, 3]), T)
    assert scanner.tolist() == [False]
    assert decided.tolist() == [-1]


def test_successes_first_accept_benign_before_later_failures() -> None:
    # 4 successes: 0.25^4 = 1/256 <= eta0 = 0.01/0.99 -> benign at index 3, later failures ignored
    outcomes = np.array([True] * 4 + [False] * 10)
    scanner, decided, _ = trw_walk(outcomes, np.array([0, 14]), T)
    assert scanner.tolist() == [False]
    assert decided.tolist() == [3]


def test_walks_of_several_sources_are_independent() -> None:
    outcomes = np.array([False, False, False, True, False, False, False, False, False])
    offsets = np.array([0, 3, 9])
    scanner, decided, _ = trw_walk(outcomes, offsets, T)
    # source 0: 3 failures, undecided; source 1: S F F F F F -> log: -1.386 + 5*1.386 = 5.545 >= 4.595 at index 5
    assert scanner.tolist() == [False, True]
    assert decided.tolist() == [-1, 5]

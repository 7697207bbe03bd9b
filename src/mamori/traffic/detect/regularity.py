"""Regularity statistics behind beacon scoring, vectorised over many (source, destination) series at once.

The method follows the beacon analysis of RITA v5 (Active Countermeasures), restated here in our own words and
implemented independently:

* **Bowley (quartile) skewness** of a series: ``(Q1 + Q3 - 2*Q2) / (Q3 - Q1)``; 0 when ``Q3 == Q1`` or when the
  median equals either quartile (the series is then as symmetric as it can be measured). Quartiles use linear
  interpolation between order statistics (numpy's default ``linear`` method: position ``q*(n-1)``).
* **MAD** (median absolute deviation about the median): ``median(|x - median(x)|)``.
* **Timestamp score**: on the sorted, de-duplicated connection start times of a pair, take the inter-arrival
  deltas ``d``. ``skew = 1 - |bowley(d)|``; ``madm = 1 - MAD(d) / median(d)`` clamped to 0..1 (0 when the
  median delta is 0). Timestamp score = mean of the two. A clock-driven beacon has near-constant deltas, hence
  skew ~ 1 and MAD ~ 0.
* **Data-size score**: on the bytes of each connection (out + in): ``skew = 1 - |bowley(bytes)|``,
  ``madm = 1 - MAD / median`` clamped, and ``smallness = 1 - mode / 65535`` clamped (beacons tend to send the
  same small payload; the mode is the most frequent size, the smallest one on ties). Score = mean of the three.
* **Duration score**: ``coverage = (last - first) / (window end - window start)`` (how much of the observed
  window the pair spans) and ``consistency = hours with a connection / hours in the window`` (how steadily it
  keeps talking); score = the larger of the two.
* **Histogram score**: connections counted in 24 hourly bins (hour of day, counted from the window start).
  ``cv = 1 - min(1, std / mean)`` of the bin counts (flat histogram = regular). Because real beacons often run
  only part of the day, a **bimodal fit** is also computed: bin counts are bucketed with a tolerance of
  ``max(1, tol * busiest bin)``, and the fit is the share of the 24 bins falling in the two most common buckets;
  it only counts when at least ``hist_bimodal_min_hours`` bins are active (otherwise a sparse, irregular pair
  would look "bimodal" between 0 and 1). Score = the larger of cv and bimodal fit.
* **Beacon score** = the plain average of the four scores, times the prevalence modifier (see
  :mod:`mamori.traffic.detect.beacon`).

A series is given as a flat value array plus ``offsets`` (length ``n_series + 1``) in the Arrow list layout.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600.0


def _segment_ids(offsets: IntArray) -> IntArray:
    lengths = np.diff(offsets)
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def sort_segments(values: npt.NDArray[np.float64], offsets: IntArray) -> FloatArray:
    """Sort each series within its own segment (series stay in their order).

    Only the sorted values are needed, never a permutation, so segments are sorted as rows of padded 2-D blocks
    (one block per power-of-two length class, padding with +inf): ``ndarray.sort(axis=1)`` on short rows is much
    faster than a two-key lexsort over everything, and equal values make the result exact whatever the order.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    lengths = np.diff(offsets)
    if len(values) == 0:
        return out
    classes = np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    for cls in np.unique(classes[lengths > 0]):
        segs = np.flatnonzero((classes == cls) & (lengths > 0))
        width = int(lengths[segs].max())
        cols = np.arange(width)
        inside = cols[None, :] < lengths[segs][:, None]
        idx = offsets[:-1][segs][:, None] + cols[None, :]
        block = np.full((len(segs), width), np.inf)
        block[inside] = values[idx[inside]]
        block.sort(axis=1)
        out[idx[inside]] = block[inside]
    return out


def dedupe_sorted_segments(values: FloatArray, offsets: IntArray) -> tuple[FloatArray, IntArray]:
    """Drop repeated values inside each already-sorted series; returns the values and new offsets."""
    seg = _segment_ids(offsets)
    keep = np.ones(len(values), dtype=bool)
    if len(values) > 1:
        keep[1:] = (values[1:] != values[:-1]) | (seg[1:] != seg[:-1])
    counts = np.bincount(seg[keep], minlength=len(offsets) - 1)
    new_offsets = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(counts, out=new_offsets[1:])
    return values[keep], new_offsets


def segment_quantiles(sorted_values: FloatArray, offsets: IntArray, q: float) -> FloatArray:
    """Linear-interpolated quantile ``q`` of every sorted series (NaN for an empty series)."""
    n = np.diff(offsets)
    out = np.full(len(n), np.nan)
    ok = n > 0
    pos = q * (n[ok] - 1).astype(np.float64)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    hi = np.minimum(lo + 1, n[ok] - 1)
    base = offsets[:-1][ok]
    v_lo = sorted_values[base + lo]
    v_hi = sorted_values[base + hi]
    out[ok] = v_lo + frac * (v_hi - v_lo)
    return out


def bowley_from_quartiles(q1: FloatArray, q2: FloatArray, q3: FloatArray) -> FloatArray:
    """Bowley skewness from quartiles; 0 where it is undefined or the median sits on a quartile."""
    den = q3 - q1
    degenerate = (den == 0) | (q2 == q1) | (q2 == q3) | np.isnan(den)
    safe_den = np.where(degenerate, 1.0, den)
    return np.where(degenerate, 0.0, (q1 + q3 - 2.0 * q2) / safe_den)


def segment_bowley(sorted_values: FloatArray, offsets: IntArray) -> FloatArray:
    q1 = segment_quantiles(sorted_values, offsets, 0.25)
    q2 = segment_quantiles(sorted_values, offsets, 0.5)
    q3 = segment_quantiles(sorted_values, offsets, 0.75)
    return bowley_from_quartiles(q1, q2, q3)


def segment_mad(sorted_values: FloatArray, offsets: IntArray) -> tuple[FloatArray, FloatArray]:
    """Median and median absolute deviation of every sorted series."""
    med = segment_quantiles(sorted_values, offsets, 0.5)
    seg = _segment_ids(offsets)
    dev = np.abs(sorted_values - med[seg])
    dev_sorted = sort_segments(dev, offsets)
    return med, segment_quantiles(dev_sorted, offsets, 0.5)


def segment_mode(sorted_values: FloatArray, offsets: IntArray) -> FloatArray:
    """Most frequent value of every sorted series; the smallest such value on ties (NaN when empty)."""
    nseg = len(offsets) - 1
    out = np.full(nseg, np.nan)
    if len(sorted_values) == 0:
        return out
    seg = _segment_ids(offsets)
    start = np.ones(len(sorted_values), dtype=bool)
    start[1:] = (sorted_values[1:] != sorted_values[:-1]) | (seg[1:] != seg[:-1])
    run_id = np.cumsum(start) - 1
    run_len = np.bincount(run_id)
    run_val = sorted_values[start]
    run_seg = seg[start]
    longest = np.zeros(nseg, dtype=np.int64)
    np.maximum.at(longest, run_seg, run_len)
    # runs are in ascending value order inside a segment, so the first longest run holds the smallest mode
    best = np.flatnonzero(run_len == longest[run_seg])
    first = np.ones(len(best), dtype=bool)
    first[1:] = run_seg[best][1:] != run_seg[best][:-1]
    chosen = best[first]
    out[run_seg[chosen]] = run_val[chosen]
    return out


def _clamp01(x: FloatArray) -> FloatArray:
    return np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0)


@dataclass(frozen=True)
class SeriesScores:
    """Per-series beacon sub-scores (each array has one entry per series)."""

    ts_skew: FloatArray
    ts_madm: FloatArray
    ts_score: FloatArray
    ds_skew: FloatArray
    ds_madm: FloatArray
    ds_smallness: FloatArray
    ds_score: FloatArray
    dur_coverage: FloatArray
    dur_consistency: FloatArray
    dur_score: FloatArray
    hist_cv: FloatArray
    hist_bimodal: FloatArray
    hist_score: FloatArray
    median_interval: FloatArray
    mode_bytes: FloatArray
    unique_connections: IntArray
    score: FloatArray


def concat_scores(a: SeriesScores, b: SeriesScores) -> SeriesScores:
    """The scores of two consecutive groups of pairs as one."""
    return SeriesScores(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(a)})


def timestamp_scores(
    sorted_unique_ts: FloatArray, offsets: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Skew score, MAD score, timestamp score and median interval from sorted unique start times."""
    seg = _segment_ids(offsets)
    same = np.zeros(len(sorted_unique_ts), dtype=bool)
    same[1:] = seg[1:] == seg[:-1]
    deltas = (sorted_unique_ts[1:] - sorted_unique_ts[:-1])[same[1:]]
    delta_counts = np.maximum(np.diff(offsets) - 1, 0)
    d_offsets = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(delta_counts, out=d_offsets[1:])
    d_sorted = sort_segments(deltas, d_offsets)
    skew = 1.0 - np.abs(segment_bowley(d_sorted, d_offsets))
    med, mad = segment_mad(d_sorted, d_offsets)
    madm = np.where(med > 0, 1.0 - mad / np.where(med > 0, med, 1.0), 0.0)
    skew, madm = _clamp01(skew), _clamp01(madm)
    return skew, madm, (skew + madm) / 2.0, med


def data_size_scores(
    sorted_bytes: FloatArray, offsets: IntArray, mode_ceiling: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Skew, MAD, smallness, data-size score and modal size from each series' sorted byte counts."""
    skew = _clamp01(1.0 - np.abs(segment_bowley(sorted_bytes, offsets)))
    med, mad = segment_mad(sorted_bytes, offsets)
    madm = _clamp01(np.where(med > 0, 1.0 - mad / np.where(med > 0, med, 1.0), 0.0))
    mode = segment_mode(sorted_bytes, offsets)
    small = _clamp01(1.0 - mode / float(mode_ceiling))
    return skew, madm, small, (skew + madm + small) / 3.0, mode


def hourly_histograms(sorted_ts: FloatArray, offsets: IntArray, window_start: float) -> IntArray:
    """Connections per hour of day (counted from the window start), one row of 24 per series."""
    nseg = len(offsets) - 1
    seg = _segment_ids(offsets)
    hour = (np.floor((sorted_ts - window_start) / SECONDS_PER_HOUR).astype(np.int64)) % HOURS_PER_DAY
    flat = np.bincount(seg * HOURS_PER_DAY + hour, minlength=nseg * HOURS_PER_DAY)
    return flat.reshape(nseg, HOURS_PER_DAY).astype(np.int64)


def histogram_scores(
    hist: IntArray, bimodal_min_hours: int, tolerance: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Coefficient-of-variation score, bimodal fit and histogram score of hourly histograms."""
    counts = hist.astype(np.float64)
    mean = counts.mean(axis=1)
    std = counts.std(axis=1)
    cv = np.where(mean > 0, 1.0 - np.minimum(1.0, std / np.where(mean > 0, mean, 1.0)), 0.0)
    nseg = hist.shape[0]
    bimodal = np.zeros(nseg)
    if nseg:
        width = np.maximum(1.0, tolerance * counts.max(axis=1))
        buckets = np.sort(np.floor(counts / width[:, None]).astype(np.int64), axis=1)
        start = np.ones_like(buckets, dtype=bool)
        start[:, 1:] = buckets[:, 1:] != buckets[:, :-1]
        flat_start = start.ravel()
        run_id = np.cumsum(flat_start) - 1
        run_len = np.bincount(run_id)
        run_row = np.repeat(np.arange(nseg), HOURS_PER_DAY)[flat_start]
        order = np.lexsort((-run_len, run_row))
        rows_sorted = run_row[order]
        first_of_row = np.searchsorted(rows_sorted, np.arange(nseg))
        rank = np.arange(len(order)) - first_of_row[rows_sorted]
        top_two = np.bincount(rows_sorted[rank < 2], weights=run_len[order][rank < 2], minlength=nseg)
        active = (hist > 0).sum(axis=1)
        bimodal = np.where(active >= bimodal_min_hours, top_two / HOURS_PER_DAY, 0.0)
    return _clamp01(cv), _clamp01(bimodal), np.maximum(_clamp01(cv), _clamp01(bimodal))


def duration_scores(
    sorted_ts: FloatArray, offsets: IntArray, window_start: float, window_end: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Coverage, consistency and duration score of each series over the observed window."""
    n = np.diff(offsets)
    ok = n > 0
    span = max(window_end - window_start, 1.0)
    first = np.where(ok, sorted_ts[np.minimum(offsets[:-1], max(len(sorted_ts) - 1, 0))], 0.0)
    last = np.where(ok, sorted_ts[np.maximum(offsets[1:] - 1, 0)], 0.0)
    coverage = np.where(ok, (last - first) / span, 0.0)
    total_hours = max(1, int(np.ceil(span / SECONDS_PER_HOUR)))
    seg = _segment_ids(offsets)
    # times are sorted within each series, so hours only grow inside a segment: count the changes
    hour = np.floor((sorted_ts - window_start) / SECONDS_PER_HOUR).astype(np.int64)
    new_hour = np.ones(len(hour), dtype=bool)
    new_hour[1:] = (hour[1:] != hour[:-1]) | (seg[1:] != seg[:-1])
    active_hours = np.bincount(seg[new_hour], minlength=len(n))
    consistency = active_hours / float(total_hours)
    coverage, consistency = _clamp01(coverage), _clamp01(consistency)
    return coverage, consistency, np.maximum(coverage, consistency)


def score_series(
    ts: FloatArray,
    ts_offsets: IntArray,
    sizes: FloatArray,
    window_start: float,
    window_end: float,
    *,
    mode_ceiling: int = 65535,
    bimodal_min_hours: int = 11,
    bimodal_tolerance: float = 0.05,
) -> SeriesScores:
    """All four RITA-style sub-scores and their average for every series.

    ``ts`` and ``sizes`` share ``ts_offsets`` (one entry per connection); neither needs to be sorted.
    """
    ts_offsets = np.asarray(ts_offsets, dtype=np.int64)
    ts_sorted = sort_segments(np.asarray(ts, dtype=np.float64), ts_offsets)
    uniq, u_offsets = dedupe_sorted_segments(ts_sorted, ts_offsets)
    ts_skew, ts_madm, ts_score, med_interval = timestamp_scores(uniq, u_offsets)
    size_sorted = sort_segments(np.asarray(sizes, dtype=np.float64), ts_offsets)
    ds_skew, ds_madm, ds_small, ds_score, mode = data_size_scores(size_sorted, ts_offsets, mode_ceiling)
    coverage, consistency, dur_score = duration_scores(uniq, u_offsets, window_start, window_end)
    hist = hourly_histograms(uniq, u_offsets, window_start)
    cv, bimodal, hist_score = histogram_scores(hist, bimodal_min_hours, bimodal_tolerance)
    score = (ts_score + ds_score + dur_score + hist_score) / 4.0
    return SeriesScores(
        ts_skew=ts_skew,
        ts_madm=ts_madm,
        ts_score=ts_score,
        ds_skew=ds_skew,
        ds_madm=ds_madm,
        ds_smallness=ds_small,
        ds_score=ds_score,
        dur_coverage=coverage,
        dur_consistency=consistency,
        dur_score=dur_score,
        hist_cv=cv,
        hist_bimodal=bimodal,
        hist_score=hist_score,
        median_interval=med_interval,
        mode_bytes=mode,
        unique_connections=np.diff(u_offsets),
        score=score,
    )


def bowley_skewness(values: npt.ArrayLike) -> float:
    """Bowley skewness of one series (convenience wrapper over the segment version)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    return float(segment_bowley(v, np.array([0, len(v)], dtype=np.int64))[0])


def median_absolute_deviation(values: npt.ArrayLike) -> float:
    """MAD about the median of one series."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    return float(segment_mad(v, np.array([0, len(v)], dtype=np.int64))[1][0])

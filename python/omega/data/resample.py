"""Resampling to a higher timeframe, and which higher-timeframe bar a primary bar may see.

Contract (docs/architecture.md, "Time and bars"; details in docs/data/resampling.md):
bucket = floor(open_time / tf_ns) * tf_ns from the UTC epoch; per side open=first, high=max,
low=min, close=last; volume summed in bar order; no bar for an empty bucket. A higher-timeframe
bar is visible at the close of primary bar t only if its close time (open + htf) <= the close
time of t (open_t + primary): a forming bar is never visible.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from omega.data.bars import PRICE_COLUMNS, BarSeries
from omega.errors import ConfigError, EmptyDataError
from omega.timeframes import Timeframe


def bucket_starts(time: np.ndarray, tf_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Bucket open times and the index of the first bar of each bucket (time must be sorted)."""
    bucket = np.floor_divide(time, tf_ns) * tf_ns
    first = np.empty(len(bucket), dtype=bool)
    first[:1] = True
    np.not_equal(bucket[1:], bucket[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return bucket[starts], starts


def sequential_segment_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per-segment sums added strictly left to right, as ``s = 0.0; for v: s += v`` in Rust.

    ``np.add.reduceat`` and ``np.sum`` do not promise that order (reduceat gives 1.0000000000001
    for [1.0] + [1e-16] * 1000, a left-to-right loop gives 1.0), so the sum is built one
    position-within-segment at a time: max(segment length) vectorised steps, in order.
    """
    values = np.asarray(values, dtype=np.float64)
    ends = np.append(starts[1:], len(values))
    lengths = ends - starts
    sums = np.zeros(len(starts), dtype=np.float64)
    if len(starts) == 0:
        return sums
    for k in range(int(lengths.max())):
        active = np.flatnonzero(lengths > k)
        sums[active] += values[starts[active] + k]
    return sums


def resample(series: BarSeries, timeframe: Timeframe | str) -> BarSeries:
    """Aggregate ``series`` to ``timeframe`` (same or coarser, a whole multiple of the source)."""
    target = Timeframe.parse(timeframe)
    source = series.timeframe
    if target.nanos < source.nanos or target.nanos % source.nanos:
        raise ConfigError(
            f"cannot resample {source} bars to {target}: the target must be a whole multiple "
            f"of the source timeframe"
        )
    if len(series) == 0:
        raise EmptyDataError("no bars to resample", file=series.source)
    if target == source:
        return replace(series, quality=None)
    open_times, starts = bucket_starts(series.time, target.nanos)
    last = np.append(starts[1:], len(series)) - 1
    columns = {}
    for name in PRICE_COLUMNS:
        values = getattr(series, name)
        if name.endswith("_open"):
            columns[name] = values[starts]
        elif name.endswith("_close"):
            columns[name] = values[last]
        elif name.endswith("_high"):
            columns[name] = np.maximum.reduceat(values, starts)  # max/min: order-free, exact
        else:
            columns[name] = np.minimum.reduceat(values, starts)
    columns["volume"] = sequential_segment_sum(series.volume, starts)
    return replace(series, time=open_times, **columns, timeframe=target, quality=None)


def last_closed_index(
    primary_open_times: np.ndarray,
    primary_tf: Timeframe | str,
    htf_open_times: np.ndarray,
    htf_tf: Timeframe | str,
) -> np.ndarray:
    """For each primary bar, the index of the last higher-timeframe bar closed by its close.

    Bar j is visible at primary bar t iff htf_open[j] + htf <= open_t + primary; the result is
    the largest such j (int64), or -1 where none has closed yet. ``htf_open_times`` must be
    increasing (as resample produces).
    """
    primary = Timeframe.parse(primary_tf).nanos
    higher = Timeframe.parse(htf_tf).nanos
    primary_close = np.asarray(primary_open_times, dtype=np.int64) + primary
    htf_open = np.asarray(htf_open_times, dtype=np.int64)
    # htf_open[j] + higher <= primary_close  <=>  htf_open[j] <= primary_close - higher
    index = np.searchsorted(htf_open, primary_close - higher, side="right") - 1
    return index.astype(np.int64, copy=False)

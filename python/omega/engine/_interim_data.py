"""TEMPORARY: resample and last_closed_index until omega.data provides them (delete then)."""

from __future__ import annotations

import numpy as np

from omega.data.bars import PRICE_COLUMNS, BarSeries
from omega.timeframes import Timeframe


def resample(series: BarSeries, timeframe: Timeframe) -> BarSeries:
    tf = timeframe.nanos
    bucket = (series.time // tf) * tf
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)] - 1
    cols = {"time": bucket[starts]}
    for name in PRICE_COLUMNS:
        col = getattr(series, name)
        if name.endswith("open"):
            cols[name] = col[starts]
        elif name.endswith("close"):
            cols[name] = col[ends]
        elif name.endswith("high"):
            cols[name] = np.maximum.reduceat(col, starts)
        else:
            cols[name] = np.minimum.reduceat(col, starts)
    cols["volume"] = np.add.reduceat(series.volume, starts)
    return BarSeries(
        **cols, timeframe=timeframe, instrument=series.instrument, source=series.source
    )


def last_closed_index(
    primary_open_times: np.ndarray,
    primary_tf: Timeframe,
    htf_open_times: np.ndarray,
    htf_tf: Timeframe,
) -> np.ndarray:
    closes = np.asarray(htf_open_times, dtype=np.int64) + htf_tf.nanos
    now = np.asarray(primary_open_times, dtype=np.int64) + primary_tf.nanos
    return (np.searchsorted(closes, now, side="right") - 1).astype(np.int64)

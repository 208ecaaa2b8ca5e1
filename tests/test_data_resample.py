"""Resampling rules and multi-timeframe visibility (contract in docs/data/resampling.md)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega.data import BarSeries, last_closed_index, resample
from omega.data.resample import sequential_segment_sum
from omega.errors import ConfigError
from omega.timeframes import Timeframe

MINUTE = 60_000_000_000


def at(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def m1_series(times, bid_open, bid_high, bid_low, bid_close, spread=0.0002, volume=None):
    cols = [np.array(c, dtype=float) for c in (bid_open, bid_high, bid_low, bid_close)]
    asks = [c + spread for c in cols]
    vol = np.ones(len(times)) if volume is None else np.array(volume, dtype=float)
    return BarSeries(np.array(times, dtype=np.int64), *cols, *asks, vol)


def test_m5_by_hand_with_an_empty_bucket():
    t0 = at("2024-01-03 10:00")
    times = [t0 + m * MINUTE for m in (0, 1, 2, 3, 4, 12, 13)]
    s = m1_series(
        times,
        bid_open=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        bid_high=[1.5, 2.9, 3.5, 4.5, 5.5, 6.5, 7.8],
        bid_low=[0.5, 1.5, 0.2, 3.5, 4.5, 5.5, 6.5],
        bid_close=[1.2, 2.2, 3.2, 4.2, 5.2, 6.2, 7.2],
        volume=[1, 2, 3, 4, 5, 10, 20],
    )
    r = resample(s, "M5")
    assert r.timeframe is Timeframe.M5
    assert r.time.tolist() == [t0, t0 + 10 * MINUTE]  # no bar for the empty 10:05 bucket
    assert r.bid_open.tolist() == [1.0, 6.0]
    assert r.bid_high.tolist() == [5.5, 7.8]
    assert r.bid_low.tolist() == [0.2, 5.5]
    assert r.bid_close.tolist() == [5.2, 7.2]
    assert r.ask_high.tolist() == [5.5 + 0.0002, 7.8 + 0.0002]
    assert r.volume.tolist() == [15.0, 30.0]
    assert r.instrument == s.instrument


def test_buckets_are_floored_from_the_utc_epoch():
    times = [at("2024-01-03 03:59"), at("2024-01-03 04:00"), at("2024-01-03 23:59")]
    s = m1_series(times, [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3])
    assert resample(s, "H4").time.tolist() == [at("2024-01-03 00:00"), at("2024-01-03 04:00"),
                                               at("2024-01-03 20:00")]  # fmt: skip
    assert resample(s, Timeframe.D1).time.tolist() == [at("2024-01-03 00:00")]


def test_finer_target_is_an_error_and_same_timeframe_is_identity(synthetic_bars):
    h1 = resample(synthetic_bars, "H1")
    with pytest.raises(ConfigError, match="whole multiple"):
        resample(h1, "M5")
    same = resample(synthetic_bars, "M1")
    assert np.array_equal(same.bid_close, synthetic_bars.bid_close)


def test_volume_sum_is_left_to_right_not_pairwise():
    values = np.array([1.0] + [1e-16] * 1000)
    loop = 0.0
    for v in values:
        loop += v
    assert loop == 1.0  # each 1e-16 vanishes against 1.0 when added in order
    assert np.add.reduceat(values, [0])[0] != loop  # why reduceat is not used
    assert sequential_segment_sum(values, np.array([0])).tolist() == [loop]
    times = [at("2024-01-03 10:00") + i * 1_000_000_000 for i in range(len(values))]  # 1 s apart
    s = m1_series(times, *(np.ones(len(values)),) * 4, volume=values)
    assert resample(s, "M30").volume.tolist() == [1.0]


def reference_resample(times, values, tf_ns):
    """Plain Python: dict of buckets in order, volume added left to right."""
    buckets: dict[int, list[int]] = {}
    for i, t in enumerate(times):
        buckets.setdefault((t // tf_ns) * tf_ns, []).append(i)
    out = []
    for start, idx in buckets.items():
        vol = 0.0
        for i in idx:
            vol += values["volume"][i]
        out.append((start, values["o"][idx[0]], max(values["h"][i] for i in idx),
                    min(values["l"][i] for i in idx), values["c"][idx[-1]], vol))  # fmt: skip
    return out


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.integers(1, 400), min_size=1, max_size=300),
    data=st.data(),
    tf=st.sampled_from(list(Timeframe)),
)
def test_resample_matches_a_plain_python_reference(steps, data, tf):
    times = (at("2024-01-05 18:00") + np.cumsum(steps) * MINUTE).tolist()
    n = len(times)
    floats = st.floats(0.5, 2.0, allow_nan=False)
    o = data.draw(st.lists(floats, min_size=n, max_size=n))
    c = data.draw(st.lists(floats, min_size=n, max_size=n))
    h = [max(a, b) + 0.1 for a, b in zip(o, c, strict=True)]
    lo = [min(a, b) - 0.1 for a, b in zip(o, c, strict=True)]
    vol = data.draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=n, max_size=n))
    s = m1_series(times, o, h, lo, c, volume=vol)
    r = resample(s, tf)
    expected = reference_resample(times, {"o": o, "h": h, "l": lo, "c": c, "volume": vol}, tf.nanos)
    columns = (r.time, r.bid_open, r.bid_high, r.bid_low, r.bid_close, r.volume)
    got = list(zip(*(c.tolist() for c in columns), strict=True))
    assert got == expected


# --- visibility ------------------------------------------------------------------------


def self_describing_m1(minutes: np.ndarray) -> BarSeries:
    """M1 bars whose close price is their own close time in minutes: after resampling, a bar's
    close says exactly which M1 bar it last absorbed."""
    t = at("2024-01-01 00:00") + minutes * MINUTE
    close = (minutes + 1).astype(float)  # close time of the M1 bar, in minutes
    return m1_series(t, close, close, close, close)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 90), min_size=2, max_size=400), st.integers(0, 1439))
def test_no_forming_bar_is_ever_visible_for_every_pair(steps, first):
    minutes = first + np.cumsum(steps) - steps[0]
    m1 = self_describing_m1(minutes)
    epoch_minute = at("2024-01-01 00:00") // MINUTE
    for p_tf, h_tf in itertools.product(list(Timeframe), repeat=2):
        primary, higher = resample(m1, p_tf), resample(m1, h_tf)
        idx = last_closed_index(primary.time, p_tf, higher.time, h_tf)
        assert idx.dtype == np.int64
        primary_close = primary.time + p_tf.nanos
        for t in range(len(primary)):
            j = int(idx[t])
            if j >= 0:
                # visible bar has closed: nominally, and by the data it contains
                assert higher.time[j] + h_tf.nanos <= primary_close[t]
                assert higher.bid_close[j] + epoch_minute <= primary_close[t] // MINUTE
            if j + 1 < len(higher):
                # the next one has not: it is still forming (or in the future) at this close
                assert higher.time[j + 1] + h_tf.nanos > primary_close[t]


def test_last_closed_index_by_hand():
    t0 = at("2024-01-03 10:00")
    m1_times = np.array([t0 + m * MINUTE for m in range(12)])
    h_times = np.array([t0, t0 + 5 * MINUTE, t0 + 10 * MINUTE])
    idx = last_closed_index(m1_times, "M1", h_times, "M5")
    # M5 bar 10:00 closes at 10:05 = close of the 10:04 M1 bar; 10:05 bar closes with 10:09.
    assert idx.tolist() == [-1, -1, -1, -1, 0, 0, 0, 0, 0, 1, 1, 1]

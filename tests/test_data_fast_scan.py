"""The Rust scan of loaded bars (omega._core.data_*) against the numpy reference path.

Both must give the same first fault (rule, row, column, hence the same error and message)
and the same quality report, field by field and example by example.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega.data import _fast, load
from omega.data.bars import PRICE_COLUMNS
from omega.data.loaders._source import SourceMap
from omega.data.quality import measure_quality
from omega.data.validation import first_fault, first_fault_numpy
from omega.errors import DataError
from omega.timeframes import Timeframe

if _fast.core() is None:
    pytest.skip("omega._core with the data scan is not built", allow_module_level=True)

MINUTE = 60_000_000_000


def _bars(n: int, seed: int) -> dict[str, np.ndarray]:
    """Valid two-sided M1 bars on a 5-decimal grid with a few gaps and crossed/zero spreads."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([1, 1, 1, 1, 2, 7, 90, 2 * 1440], size=n) * MINUTE
    time = 1_704_067_200_000_000_000 + np.cumsum(steps)
    mid = np.round(1.1 + np.cumsum(rng.normal(0, 1e-4, n)), 5)
    cols: dict[str, np.ndarray] = {"time": time.astype(np.int64)}
    spread = rng.choice([0, 0, 1, 2, 3], size=n) * 1e-5
    for side, shift in (("bid", 0.0), ("ask", 1.0)):
        base = np.round(mid + shift * spread, 5)
        wiggle = rng.integers(0, 4, size=(2, n)) * 1e-5
        cols[f"{side}_open"] = base
        cols[f"{side}_close"] = np.round(base + wiggle[0] - wiggle[1], 5)
        cols[f"{side}_high"] = np.round(np.maximum(base, cols[f"{side}_close"]) + 1e-5, 5)
        cols[f"{side}_low"] = np.round(np.minimum(base, cols[f"{side}_close"]) - 1e-5, 5)
    cols["volume"] = rng.choice([0.0, 1.0, 5.0, 12.0], size=n)
    return cols


FAULTS = [np.nan, np.inf, -np.inf, 0.0, -1.0, 10.0, 0.5, 1e-9]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**16),
    injections=st.lists(
        st.tuples(
            st.integers(0, 59),
            st.sampled_from([*PRICE_COLUMNS, "volume", "time"]),
            st.sampled_from(FAULTS),
        ),
        max_size=4,
    ),
)
def test_first_fault_matches_numpy_with_injected_faults(n, seed, injections) -> None:
    cols = _bars(n, seed)
    for row, column, value in injections:
        row %= n
        if column == "time":
            other = (row + 1) % n
            cols["time"][row] = cols["time"][other] - (MINUTE if value == 0.5 else 0)
        else:
            cols[column][row] = value
    assert first_fault(cols) == first_fault_numpy(cols)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 400),
    seed=st.integers(0, 2**16),
    volume_fault=st.booleans(),
    off_grid=st.booleans(),
    tf=st.sampled_from([Timeframe.M1, Timeframe.M5, Timeframe.H1]),
)
def test_quality_report_matches_numpy(n, seed, volume_fault, off_grid, tf) -> None:
    cols = _bars(n, seed)
    if volume_fault:
        cols["volume"][seed % n] = -3.0
    if off_grid:
        cols["time"][seed % n :] += 1_000_000_000
    _assert_same_quality(cols, tf)


def _quality(cols: dict[str, np.ndarray], tf: Timeframe):
    prices = {c: cols[c] for c in PRICE_COLUMNS}
    where = SourceMap.in_memory("mem")
    return measure_quality(cols["time"], prices, cols["volume"], tf, 1e-4, where)


def _assert_same_quality(cols: dict[str, np.ndarray], tf: Timeframe) -> None:
    fast = _quality(cols, tf)
    with _fast.numpy_only():
        reference = _quality(cols, tf)
    assert fast.to_dict() == reference.to_dict()
    assert list(fast.examples) == list(reference.examples)  # same order in summaries
    assert fast.summary() == reference.summary()


def test_quality_counts_are_the_ones_worked_out_by_hand() -> None:
    # Thursday 1970-01-01: bars at 0, 1, 4 (gap of 2 missing), 75 (gap of 70) minutes, then
    # Sunday (the gap overlaps Saturday: a weekend gap, not counted as missing bars).
    time = np.array([0, 1, 4, 75, 3 * 1440], dtype=np.int64) * MINUTE
    bid = np.full(5, 1.1)
    ask = np.array([1.1, 1.1001, 1.0999, 1.1, 1.1002])
    cols = {"time": time, "volume": np.array([0.0, 1.0, -1.0, 2.0, 0.0])}
    for f in ("open", "high", "low", "close"):
        cols[f"bid_{f}"], cols[f"ask_{f}"] = bid, ask
    q = _quality(cols, Timeframe.M1)
    assert (q.gaps_1_5, q.gaps_6_60, q.gaps_over_60) == (1, 0, 1)
    assert q.weekend_gaps == 1
    assert q.missing_bars == 2 + 70
    assert q.zero_spread_bars == 2 and q.crossed_bars == 1
    assert q.crossed_by_field == {"open": 1, "high": 1, "low": 1, "close": 1}
    assert (q.zero_volume_bars, q.negative_volume_bars) == (2, 1)
    assert [e["index"] for e in q.examples["gaps_over_60"]] == [3]
    assert q.spread_close_pips["max"] == (1.1002 - 1.1) / 1e-4
    _assert_same_quality(cols, Timeframe.M1)


def test_non_finite_spread_falls_back_to_numpy_percentiles() -> None:
    cols = _bars(5, 1)

    def spread() -> dict[str, float]:
        args = (cols["time"], {c: cols[c] for c in PRICE_COLUMNS}, cols["volume"])
        with np.errstate(all="ignore"):  # spread / pip overflows to inf
            q = measure_quality(*args, Timeframe.M1, 1e-320, SourceMap.in_memory())
        return q.spread_close_pips

    fast = spread()
    with _fast.numpy_only():
        reference = spread()
    assert repr(fast) == repr(reference)
    assert not all(np.isfinite(list(fast.values())))


def test_synthetic_series_same_report_and_faults(synthetic_bars) -> None:
    cols = {name: np.array(getattr(synthetic_bars, name)) for name in ("time", "volume")}
    cols.update({c: np.array(getattr(synthetic_bars, c)) for c in PRICE_COLUMNS})
    _assert_same_quality(cols, Timeframe.M1)
    assert first_fault(cols) is None
    cols["ask_low"][4000] = cols["ask_high"][4000] + 1.0
    cols["time"][100] = cols["time"][99]
    assert first_fault(cols) == first_fault_numpy(cols) == ("ohlc", 4000, "ask_high")


@pytest.mark.parametrize(
    ("folder", "fmt", "tz"),
    [("mt5_eurusd_2024", "mt5", "EET"), ("histdata_eurusd_2017", "histdata", None),
     ("lean_oanda_eurusd_2014", "lean", None)],
)  # fmt: skip
def test_real_data_same_series_and_report(real_data_dir, folder, fmt, tz) -> None:
    fast = load(real_data_dir / folder, fmt, tz=tz)
    with _fast.numpy_only():
        reference = load(real_data_dir / folder, fmt, tz=tz)
    assert fast.quality.to_dict() == reference.quality.to_dict()
    assert np.array_equal(fast.time, reference.time)


def test_errors_identical_on_both_paths(tmp_path) -> None:
    from omega.data import generate_synthetic, write_parquet

    series = generate_synthetic(n_bars=300, seed=3)
    series.bid_close[120] = series.bid_high[120] + 0.01
    path = tmp_path / "bad.parquet"
    write_parquet(series, path)
    with pytest.raises(DataError) as fast:
        load(path, "parquet")
    with _fast.numpy_only(), pytest.raises(DataError) as reference:
        load(path, "parquet")
    assert type(fast.value) is type(reference.value)
    assert str(fast.value) == str(reference.value)
    assert fast.value.row == 120 and fast.value.column == "bid_close"


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50),
    decimals=st.integers(0, 9),
)
def test_in_place_rounding_equals_numpy_round(values, decimals) -> None:
    from omega.data.loaders._raw import round_in_place

    array = np.array(values)
    expected = np.round(array, decimals)
    assert np.array_equal(round_in_place(array.copy(), decimals), expected)
    assert np.array_equal(round_in_place(array * 1e-5 + 1.1, 5), np.round(array * 1e-5 + 1.1, 5))

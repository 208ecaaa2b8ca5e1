"""BarSeries.from_frame and run_backtest(bars=DataFrame): pandas in, the loaders' checks applied."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import omega
from omega.data import generate_synthetic, load, quality_of
from omega.data.bars import COLUMNS, BarSeries, Instrument, as_bar_series
from omega.errors import (
    ConfigError,
    DataError,
    DuplicateTimestampError,
    MissingColumnError,
    NonFiniteValueError,
    NonMonotonicTimestampError,
    OHLCInconsistencyError,
    ParseError,
)
from omega.timeframes import Timeframe


def ohlc_frame() -> pd.DataFrame:
    """Three bid M1 bars in backtesting.py's column style, on a UTC index."""
    index = pd.date_range("2024-03-04 10:00", periods=3, freq="1min", tz="UTC")
    return pd.DataFrame(
        {
            "Open": [1.08500, 1.08510, 1.08490],
            "High": [1.08520, 1.08530, 1.08500],
            "Low": [1.08490, 1.08480, 1.08470],
            "Close": [1.08510, 1.08490, 1.08480],
            "Volume": [12.0, 7.0, 9.0],
        },
        index=index,
    )


def assert_same_bars(a: BarSeries, b: BarSeries) -> None:
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.timeframe == b.timeframe
    assert a.instrument == b.instrument


# ------------------------------------------------------------------------ layouts


def test_ohlc_frame_with_a_fixed_spread() -> None:
    bars = BarSeries.from_frame(ohlc_frame(), spread_pips=1.5)
    assert bars.timeframe is Timeframe.M1  # inferred from the 1-minute steps
    assert bars.instrument == Instrument.for_symbol("EURUSD")
    assert bars.time[0] == pd.Timestamp("2024-03-04 10:00", tz="UTC").value
    np.testing.assert_array_equal(bars.bid_open, [1.08500, 1.08510, 1.08490])
    # ask = bid + 1.5 pips, on the 5-decimal grid: the doubles these literals parse to
    np.testing.assert_array_equal(bars.ask_open, [1.08515, 1.08525, 1.08505])
    np.testing.assert_array_equal(bars.ask_high, [1.08535, 1.08545, 1.08515])
    np.testing.assert_array_equal(bars.ask_low, [1.08505, 1.08495, 1.08485])
    np.testing.assert_array_equal(bars.ask_close, [1.08525, 1.08505, 1.08495])
    np.testing.assert_array_equal(bars.volume, [12.0, 7.0, 9.0])
    assert bars.quality is not None
    assert bars.quality.n_bars == 3
    assert bars.quality.ask_source == "fixed spread"
    assert bars.quality.spread_close_pips["median"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("values", "unit"),
    [([1.5, 1.5, 1.5], "pips"), ([15.0, 15.0, 15.0], "points"), ([0.00015] * 3, "price")],
)
def test_a_spread_column_in_each_unit(values: list[float], unit: str) -> None:
    frame = ohlc_frame().assign(Spread=values)
    bars = BarSeries.from_frame(frame, spread_unit=unit)
    np.testing.assert_array_equal(bars.ask_close, [1.08525, 1.08505, 1.08495])
    assert bars.quality is not None and bars.quality.ask_source == "spread column"


def test_ask_side_frame_derives_the_bid() -> None:
    bars = BarSeries.from_frame(ohlc_frame(), side="ask", spread_pips=1.0)
    np.testing.assert_array_equal(bars.ask_close, [1.08510, 1.08490, 1.08480])
    np.testing.assert_array_equal(bars.bid_close, [1.08500, 1.08480, 1.08470])


def test_one_sided_frame_without_spread_trades_on_zero_spread_and_says_so(caplog) -> None:
    frame = ohlc_frame().drop(columns="Volume")
    with caplog.at_level("WARNING", logger="omega.data.frames"):
        bars = BarSeries.from_frame(frame)
    np.testing.assert_array_equal(bars.ask_close, bars.bid_close)
    np.testing.assert_array_equal(bars.volume, [0.0, 0.0, 0.0])
    assert bars.quality is not None and bars.quality.zero_spread_bars == 3
    assert "zero spread" in caplog.text
    assert len(bars.warnings) == 1 and "spread_pips=" in bars.warnings[0]
    assert BarSeries.from_frame(ohlc_frame(), spread_pips=0.0).warnings == []  # zero, on purpose


def test_a_backtest_on_a_frame_without_spread_says_so_in_the_result(caplog) -> None:
    config = omega.default_config().apply_overrides(["strategy.name=sma_cross"])
    with caplog.at_level("WARNING", logger="omega.data.frames"):
        result = omega.run_backtest(config, bars=ohlc_frame())
    assert any("trades on zero spread" in w for w in result.warnings)


def test_one_sided_frame_matches_the_csv_loader_on_the_same_numbers(tmp_path) -> None:
    """Derived prices round like a file's: the CSV loader given the same text agrees exactly."""
    rng = np.random.default_rng(3)
    n = 500
    close = np.round(1.1 + np.cumsum(rng.normal(0, 2e-4, n)), 5)
    open_ = np.round(close + rng.normal(0, 1e-4, n), 5)
    high = np.maximum(open_, close) + 0.00010
    low = np.minimum(open_, close) - 0.00020
    spread = np.round(rng.uniform(0.1, 3.0, n), 1)  # pips
    index = pd.date_range("2024-01-02", periods=n, freq="5min", tz="UTC")
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "spread": spread}, index=index
    )
    from_frame = BarSeries.from_frame(frame, symbol="EURUSD")
    csv = tmp_path / "eurusd.csv"
    points = frame.assign(spread=np.round(spread * 10, 6))  # the CSV loader reads points
    points.to_csv(csv, index_label="time", date_format="%Y-%m-%dT%H:%M:%SZ")
    loaded = load(csv, "csv", instrument="EURUSD")
    assert from_frame.timeframe is Timeframe.M5
    assert_same_bars(from_frame, loaded)


def test_bid_ask_frame_round_trips_a_series_and_its_quality() -> None:
    week = generate_synthetic(n_bars=10_000, seed=7)  # Monday 2024-01-01 into the next week
    keep = np.ones(len(week), dtype=bool)
    keep[[100, 101, 102, 5000]] = False  # two gaps that are not weekends
    series = BarSeries(
        *(getattr(week, name)[keep] for name in COLUMNS),
        instrument=week.instrument,
        source="<DataFrame>",  # the label from_frame gives, so located examples compare equal
    )
    bars = BarSeries.from_frame(series.to_frame())
    assert_same_bars(bars, series)
    assert bars.quality is not None
    expected = quality_of(series).to_dict()
    got = bars.quality.to_dict()
    assert got.pop("ask_source") == "file"
    expected.pop("ask_source")
    assert got == expected
    assert (bars.quality.weekend_gaps, bars.quality.gaps_1_5) == (1, 2)
    assert bars.quality.examples["gaps_1_5"][0]["row"] == 100  # the bar after the first gap


def test_column_names_match_ignoring_case_and_a_time_column_replaces_the_index() -> None:
    frame = ohlc_frame()
    upper = frame.rename(columns=str.upper).reset_index(names="Date")
    assert isinstance(upper.index, pd.RangeIndex)
    a = BarSeries.from_frame(frame, spread_pips=1.0)
    b = BarSeries.from_frame(upper, spread_pips=1.0)
    assert_same_bars(a, b)


def test_iso_text_times_are_read() -> None:
    frame = ohlc_frame().reset_index(names="time")
    frame["time"] = ["2024-03-04T10:00:00Z", "2024-03-04T10:01:00Z", "2024-03-04T10:02:00Z"]
    assert_same_bars(
        BarSeries.from_frame(frame, spread_pips=1.0),
        BarSeries.from_frame(ohlc_frame(), spread_pips=1.0),
    )


# ------------------------------------------------------------------------ times


def test_naive_and_aware_indexes_give_the_same_bars() -> None:
    aware_utc = ohlc_frame()
    naive = aware_utc.tz_convert(None)  # the same instants, no zone: taken as UTC
    athens = aware_utc.tz_convert("Europe/Athens")  # the same instants in another zone
    expected = BarSeries.from_frame(aware_utc, spread_pips=1.0)
    assert_same_bars(BarSeries.from_frame(naive, spread_pips=1.0), expected)
    assert_same_bars(BarSeries.from_frame(athens, spread_pips=1.0), expected)
    # naive local wall-clock times with tz= (10:00 UTC is 12:00 in Athens in March)
    local = athens.tz_localize(None)
    assert local.index[0] == pd.Timestamp("2024-03-04 12:00")
    assert_same_bars(BarSeries.from_frame(local, tz="Europe/Athens", spread_pips=1.0), expected)


def test_tz_with_zoned_times_is_refused() -> None:
    with pytest.raises(ConfigError, match="naive"):
        BarSeries.from_frame(ohlc_frame(), tz="EET")


def test_timeframe_given_inferred_or_unsupported() -> None:
    frame = ohlc_frame()
    assert BarSeries.from_frame(frame, timeframe="m1").timeframe is Timeframe.M1
    hourly = frame.set_axis(pd.date_range("2024-03-04", periods=3, freq="h", tz="UTC"))
    assert BarSeries.from_frame(hourly).timeframe is Timeframe.H1
    odd = frame.set_axis(pd.date_range("2024-03-04", periods=3, freq="7min", tz="UTC"))
    with pytest.raises(DataError, match="cannot infer the timeframe"):
        BarSeries.from_frame(odd)
    with pytest.raises(ConfigError, match="unknown timeframe"):
        BarSeries.from_frame(frame, timeframe="M2")


# ------------------------------------------------------------------------ errors


def test_a_nan_names_its_row_and_column() -> None:
    frame = ohlc_frame()
    frame.iloc[2, frame.columns.get_loc("Low")] = np.nan
    with pytest.raises(NonFiniteValueError) as info:
        BarSeries.from_frame(frame, spread_pips=1.0)
    assert (info.value.row, info.value.column) == (2, "Low")
    assert "2024-03-04 10:02:00+00:00" in str(info.value)  # the index label of that row


def test_a_nan_in_the_spread_column_names_it() -> None:
    frame = ohlc_frame().assign(spread=[1.0, np.nan, 1.0])
    with pytest.raises(NonFiniteValueError) as info:
        BarSeries.from_frame(frame)
    assert info.value.row == 1
    assert "spread" in info.value.column


def test_text_that_is_no_number_names_its_row() -> None:
    frame = ohlc_frame().astype({"Close": object})
    frame.iloc[1, frame.columns.get_loc("Close")] = "1.08x"
    with pytest.raises(ParseError) as info:
        BarSeries.from_frame(frame)
    assert (info.value.row, info.value.column) == (1, "Close")
    assert "1.08x" in str(info.value)


def test_bad_times_name_their_row() -> None:
    frame = ohlc_frame().reset_index(names="time")
    frame["time"] = ["2024-03-04T10:00:00Z", "yesterday", "2024-03-04T10:02:00Z"]
    with pytest.raises(ParseError) as info:
        BarSeries.from_frame(frame)
    assert (info.value.row, info.value.column) == (1, "time")
    missing = ohlc_frame()
    missing.index = pd.DatetimeIndex([missing.index[0], pd.NaT, missing.index[2]])
    with pytest.raises(ParseError) as info:
        BarSeries.from_frame(missing)
    assert (info.value.row, info.value.column) == (1, "index")


def test_unsorted_and_repeated_times_are_refused_with_the_row() -> None:
    frame = ohlc_frame()
    with pytest.raises(NonMonotonicTimestampError) as info:
        BarSeries.from_frame(frame.iloc[[0, 2, 1]])
    assert info.value.row == 2
    with pytest.raises(DuplicateTimestampError) as info:
        BarSeries.from_frame(frame.iloc[[0, 1, 1, 2]])
    assert info.value.row == 2


def test_inconsistent_ohlc_names_the_column() -> None:
    frame = ohlc_frame()
    frame.iloc[1, frame.columns.get_loc("High")] = 1.08000  # below the low
    with pytest.raises(OHLCInconsistencyError) as info:
        BarSeries.from_frame(frame, spread_pips=1.0)
    assert (info.value.row, info.value.column) == (1, "High")


def test_missing_and_ambiguous_columns() -> None:
    with pytest.raises(MissingColumnError) as info:
        BarSeries.from_frame(ohlc_frame().drop(columns="High"))
    assert info.value.column == "high"
    two_sided = BarSeries.from_frame(ohlc_frame(), spread_pips=1.0).to_frame()
    with pytest.raises(MissingColumnError) as info:
        BarSeries.from_frame(two_sided.drop(columns="ask_low"))
    assert info.value.column == "ask_low"
    with pytest.raises(DataError, match="ignoring case"):
        BarSeries.from_frame(ohlc_frame().assign(close=1.0))
    with pytest.raises(MissingColumnError, match="DatetimeIndex"):
        BarSeries.from_frame(ohlc_frame().reset_index(drop=True))
    with pytest.raises(ConfigError, match="one-sided"):
        BarSeries.from_frame(two_sided, spread_pips=1.0)


def test_an_empty_frame_is_an_error() -> None:
    with pytest.raises(DataError, match="no bars"):
        BarSeries.from_frame(ohlc_frame().iloc[:0])


@pytest.mark.parametrize("obj", [None, [1, 2, 3], {"open": [1.0]}, np.zeros((3, 4))])
def test_a_wrong_type_is_an_omega_error(obj: object) -> None:
    with pytest.raises(DataError, match="BarSeries or a pandas DataFrame"):
        as_bar_series(obj)
    if obj is not None:
        with pytest.raises(DataError, match="BarSeries or a pandas DataFrame"):
            omega.run_backtest(omega.default_config(), bars=obj)
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        BarSeries.from_frame(obj)  # type: ignore[arg-type]


def test_as_bar_series_passes_a_series_through(synthetic_bars: BarSeries) -> None:
    assert as_bar_series(synthetic_bars) is synthetic_bars
    jpy = as_bar_series(ohlc_frame().mul(100.0 / 1.085), Instrument.for_symbol("USDJPY"))
    assert jpy.instrument.symbol == "USDJPY"


# ------------------------------------------------------------------------ backtests


@pytest.mark.parametrize("engine", ["python", "auto"])
def test_a_backtest_on_a_frame_equals_the_backtest_on_the_series(engine: str) -> None:
    config = omega.default_config().apply_overrides(
        [
            "data.synthetic.n_bars=30000",
            "strategy.name=sma_cross",
            "strategy.params={fast: 5, slow: 20}",
            f"engine={engine}",
        ]
    )
    from omega.runner import load_bars

    series = load_bars(config)
    on_series = omega.run_backtest(config, bars=series)
    on_frame = omega.run_backtest(config, bars=series.to_frame())
    assert len(on_series.trades) > 50
    assert on_frame.trades_sha256 == on_series.trades_sha256
    assert on_frame.metrics == on_series.metrics
    assert on_frame.mode == on_series.mode
    assert on_frame.quality is not None and on_frame.quality.n_bars == 30_000

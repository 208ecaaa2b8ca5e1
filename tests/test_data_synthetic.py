"""Synthetic bars: deterministic, always valid, and roughly like EURUSD M1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omega.data import generate_synthetic, resample, validate_series
from omega.data.bars import COLUMNS, PRICE_COLUMNS
from omega.timeframes import Timeframe

HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=200_000, seed=11)


def test_same_seed_same_bars_other_seed_other_bars():
    a = generate_synthetic(n_bars=20_000, seed=5)
    b = generate_synthetic(n_bars=20_000, seed=5)
    c = generate_synthetic(n_bars=20_000, seed=6)
    for name in COLUMNS:
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.bid_close, c.bid_close)
    assert np.array_equal(a.time, c.time)  # the calendar does not depend on the seed


def test_every_bar_is_valid(bars):
    validate_series(bars)  # raises on any violation
    for side in ("bid", "ask"):
        o, h, lo, c = (getattr(bars, f"{side}_{f}") for f in ("open", "high", "low", "close"))
        assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    for f in ("open", "high", "low", "close"):
        assert (getattr(bars, f"ask_{f}") > getattr(bars, f"bid_{f}")).all()
    assert bars.timeframe is Timeframe.M1 and len(bars) == 200_000


def test_prices_on_the_grid(bars):
    for name in PRICE_COLUMNS:
        values = getattr(bars, name)
        assert np.array_equal(np.round(values, 5), values)
    jpy = generate_synthetic(n_bars=1_000, seed=1, symbol="USDJPY", price_decimals=3)
    assert np.array_equal(np.round(jpy.bid_close, 3), jpy.bid_close)
    assert 100 < jpy.bid_close[0] < 200 and jpy.instrument.pip_size == 0.01


def test_weekends_are_closed(bars):
    ts = pd.to_datetime(bars.time, utc=True)
    weekday, hour = ts.day_of_week.to_numpy(), ts.hour.to_numpy()
    closed = (weekday == 5) | ((weekday == 4) & (hour >= 22)) | ((weekday == 6) & (hour < 22))
    assert not closed.any()
    weeks = (bars.time[-1] - bars.time[0]) / (7 * 24 * HOUR)
    assert bars.quality.weekend_gaps == pytest.approx(weeks, abs=1)
    assert bars.quality.anomalies() == {}  # no other gap, no zero spread, no crossing
    step = np.diff(bars.time)
    assert set(np.unique(step).tolist()) == {60_000_000_000, 48 * HOUR + 60_000_000_000}


def test_start_inside_a_weekend_waits_for_sunday_open():
    s = generate_synthetic(n_bars=3, seed=0, start="2024-01-06 12:00")  # a Saturday
    assert pd.Timestamp(s.time[0], tz="UTC") == pd.Timestamp("2024-01-07 22:00", tz="UTC")


def test_spread_range_and_session_profile(bars):
    spread_pips = (bars.ask_close - bars.bid_close) / bars.instrument.pip_size
    assert spread_pips.min() >= 0.1 - 1e-9 and spread_pips.max() < 15
    assert 0.3 <= np.median(spread_pips) <= 1.5
    hour = (bars.time // HOUR) % 24
    london = np.median(spread_pips[(hour >= 8) & (hour < 16)])
    rollover = np.median(spread_pips[hour == 21])
    assert rollover > 2 * london  # wider off-session


def test_volatility_by_session_and_regimes(bars):
    hour = ((bars.time // HOUR) % 24)[1:]
    r = np.diff(np.log(bars.bid_close))
    overlap = np.std(r[(hour >= 12) & (hour < 16)])
    asia = np.std(r[(hour >= 1) & (hour < 5)])
    assert overlap > 1.8 * asia
    daily = resample(bars, "D1")
    median_range_pips = np.median((daily.bid_high - daily.bid_low) / 1e-4)
    assert 20 < median_range_pips < 150
    # Mean-reverting regimes make 1-bar returns negatively autocorrelated, but only mildly.
    ac1 = np.corrcoef(r[1:], r[:-1])[0, 1]
    assert -0.3 < ac1 < -0.02

"""The indicators against TA-Lib (C library 0.8.1) on synthetic and real series.

SMA, STDDEV and BBANDS (and the z-score built from them) are bit-identical to TA-Lib. EMA, ATR
and RSI follow the contract recurrences; TA-Lib 0.8.1 dispatches per CPU to builds that fuse
their multiply-adds (FMA) or use a two-coefficient Wilder step, so those agree to a few ulp,
asserted as relative error <= 1e-12 (see docs/indicators.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omega.indicators import (
    ATR,
    EMA,
    LOWER,
    MIDDLE,
    RSI,
    SMA,
    UPPER,
    Bollinger,
    RollingStd,
    SideBars,
    ZScore,
)
from test_indicators_inputs import (
    histdata_side,
    mt5_side,
    random_walk,
    synthetic_side,
)

talib = pytest.importorskip("talib")

PERIODS = (2, 5, 14, 50, 200)
REL_TOL = 1e-12


def assert_matches(ours: np.ndarray, reference: np.ndarray, *, exact: bool) -> None:
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference), err_msg="NaN masks differ")
    valid = ~np.isnan(reference)
    if exact:
        np.testing.assert_array_equal(ours[valid], reference[valid])
    else:
        scale = np.maximum(np.abs(reference[valid]), np.finfo(float).tiny)
        worst = np.max(np.abs(ours[valid] - reference[valid]) / scale, initial=0.0)
        assert worst <= REL_TOL, f"max relative error {worst:.3g}"


def check_all(side: SideBars, periods: tuple[int, ...] = PERIODS) -> None:
    close, high, low = side.close, side.high, side.low
    for n in periods:
        assert_matches(SMA(n).batch(close), talib.SMA(close, n), exact=True)
        assert_matches(EMA(n).batch(close), talib.EMA(close, n), exact=False)
        assert_matches(RollingStd(n).batch(close), talib.STDDEV(close, n, 1.0), exact=True)
        upper, middle, lower = talib.BBANDS(close, n, 2.0, 1.5, 0)
        for band, reference in ((UPPER, upper), (MIDDLE, middle), (LOWER, lower)):
            assert_matches(Bollinger(n, 2.0, 1.5, band).batch(close), reference, exact=True)
        assert_matches(RSI(n).batch(close), talib.RSI(close, n), exact=False)
        assert_matches(ATR(n).batch(high, low, close), talib.ATR(high, low, close, n), exact=False)
        # No TA-Lib z-score: build it from TA-Lib's SMA and STDDEV.
        std = talib.STDDEV(close, n, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.where(std > 0.0, (close - talib.SMA(close, n)) / std, np.nan)
        assert_matches(ZScore(n).batch(close), expected, exact=True)


def test_synthetic_bid_and_ask() -> None:
    check_all(synthetic_side(side="bid"))
    check_all(synthetic_side(side="ask"), periods=(3, 20))


def test_off_grid_random_walks() -> None:
    for seed in range(3):
        close = random_walk(5_000, seed)
        side = SideBars(close, close + 2e-5, close - 3e-5, close)
        check_all(side, periods=(2, 7, 30))


def test_tiny_and_huge_scales() -> None:
    # Variance far below TA-Lib's old 1e-14 epsilon, and prices in the 1e5 range.
    for close in (random_walk(3_000, 11, scale=1e-9), 1e5 * random_walk(3_000, 12)):
        side = SideBars(close, close * (1 + 1e-6), close * (1 - 1e-6), close)
        check_all(side, periods=(2, 14))


def test_flat_and_outlier_stretches() -> None:
    close = random_walk(4_000, 3)
    close[1_000:1_300] = 1.2  # flat: std exactly 0, RSI 0
    close[2_000] = 50.0  # a spike entering and leaving the window
    side = SideBars(close, close + 1e-5, close - 1e-5, close)
    check_all(side, periods=(2, 5, 50))


def test_shorter_than_warmup_is_all_nan() -> None:
    close = random_walk(10, 0)
    side = SideBars(close, close + 1e-5, close - 1e-5, close)
    check_all(side, periods=(14,))
    assert np.isnan(RSI(14).batch(close)).all()


@pytest.mark.real_data
def test_real_histdata_2017(real_data_dir: Path) -> None:
    check_all(histdata_side(real_data_dir, months=2))


@pytest.mark.real_data
def test_real_mt5_2024(real_data_dir: Path) -> None:
    check_all(mt5_side(real_data_dir), periods=(2, 14, 50))

"""The indicators added for Strategy API 0.2, by hand: small cases worked out in comments,
warm-up lengths, edge cases (flat windows, NaN prefixes), and the named parameter errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from omega.indicators import (
    ADX,
    CCI,
    MACD,
    WMA,
    Donchian,
    Hull,
    IndicatorInputError,
    IndicatorParameterError,
    Keltner,
    Stochastic,
)
from test_indicators_inputs import random_walk

NAN = math.nan


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def nan_prefix(out: np.ndarray, n: int) -> None:
    assert np.isnan(out[:n]).all(), out
    assert not np.isnan(out[n]), out


def test_wma_by_hand() -> None:
    out = WMA(3).batch([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    nan_prefix(out, 2)
    # (1*1 + 2*2 + 3*3) / 6 = 14/6, then (2 + 6 + 12) / 6 = 20/6, 26/6; index 5 recomputes the
    # sums from the window (every 3rd output): (4 + 10 + 18) / 6 = 32/6; then 38/6.
    assert out[2:].tolist() == [14 / 6, 20 / 6, 26 / 6, 32 / 6, 38 / 6]
    assert WMA(1).batch([1.5, -2.0, 7.25]).tolist() == [1.5, -2.0, 7.25]


def test_wma_does_not_drift() -> None:
    # 100,000 running-sum steps stay within a few ulp of a fresh weighted sum.
    x = random_walk(100_000, 5)
    out = WMA(7).batch(x)
    weights = np.arange(1.0, 8.0)
    exact = np.convolve(x, weights[::-1], mode="valid") / 28.0
    assert np.max(np.abs(out[6:] - exact)) < 1e-14


def test_hull_by_hand() -> None:
    # n = 4: WMA(2), WMA(4), smoothed by WMA(2). On 1..5: WMA4(3) = 30/10 = 3,
    # WMA2(3) = (3 + 8)/3 = 11/3, raw = 22/3 - 3 = 13/3; WMA4(4) = 4, WMA2(4) = 14/3,
    # raw = 16/3; Hull = (13/3 + 32/3)/3 = 5: no lag on a line.
    hull = Hull(4)
    out = hull.batch([1.0, 2.0, 3.0, 4.0, 5.0])
    nan_prefix(out, 4)
    assert out[4] == approx(5.0)
    assert hull.warmup_period == 4
    assert Hull(9).warmup_period == 9 + 3 - 2
    # n = 2: WMA(1) = 3, WMA(2) = (1 + 2*3)/3 = 7/3, raw = 6 - 7/3 = 11/3, WMA(1) of it: 11/3.
    assert Hull(2).batch([1.0, 3.0])[1] == approx(11 / 3)


def test_macd_aligns_the_fast_seed_with_the_slow_one() -> None:
    # fast 2, slow 3, signal 1. Slow seed at bar 2: (1 + 2 + 4)/3 = 7/3. The fast EMA is seeded
    # at bar 2 with the mean of bars 1..2 only (TA-Lib): 3, so macd(2) = 2/3. Bar 3 (x = 8):
    # slow = (8 - 7/3)/2 + 7/3 = 31/6, fast = (8 - 3) * 2/3 + 3 = 19/3, macd = 7/6.
    x = [1.0, 2.0, 4.0, 8.0]
    macd = MACD(2, 3, 1)
    out = macd.batch(x)
    nan_prefix(out, 2)
    assert out[2] == approx(2 / 3) and out[3] == approx(7 / 6)
    assert macd.signal == approx(macd.macd) and macd.histogram == approx(0.0)
    # signal 2: seeded with the mean of macd(2) and macd(3), so every line starts at bar 3.
    assert MACD(2, 3, 2, line=1).batch(x)[3] == approx((2 / 3 + 7 / 6) / 2)
    nan_prefix(MACD(2, 3, 2, line=0).batch(x), 3)
    assert MACD().warmup_period == 26 + 9 - 2


def test_stochastic_by_hand() -> None:
    high, low, close = [2.0, 3.0, 4.0, 4.0], [1.0, 1.0, 2.0, 4.0], [1.5, 2.0, 4.0, 4.0]
    # k_period 2: bar 1: range 1..3, (2 - 1)/(2/100) = 50; bar 2: 1..4, (4 - 1)/(3/100) = 100;
    # bar 3: 2..4, (4 - 2)/(2/100) = 100.
    out = Stochastic(2, 1, 1).batch(high, low, close)
    nan_prefix(out, 1)
    assert out[1:].tolist() == approx([50.0, 100.0, 100.0])
    # slow %K(2): 75 at bar 2, 100 at bar 3; %D(2) at bar 3: 87.5.
    st = Stochastic(2, 2, 2, line=1)
    out = st.batch(high, low, close)
    nan_prefix(out, 3)
    assert out[3] == approx(87.5) and st.slow_k == approx(100.0)
    flat = [1.0, 1.0, 1.0]
    assert Stochastic(2, 1, 1).batch(flat, flat, flat).tolist()[1:] == [0.0, 0.0]
    assert Stochastic().warmup_period == 14 + 3 + 3 - 3


def test_adx_by_hand() -> None:
    high, low, close = [10.0, 11.0, 12.0, 11.5], [9.0, 9.5, 10.0, 9.0], [9.5, 10.5, 11.0, 9.5]
    # Bar 1: +DM 1, TR 1.5 (plain sums). Bar 2: +DM = 1 - 1/2 + 1 = 1.5,
    # TR = 1.5 - 0.75 + 2 = 2.75, +DI = 100 * 1.5/2.75, -DI = 0, DX = 100. Bar 3: +DM = 0.75,
    # -DM = 1, TR = 2.75 - 1.375 + 2.5 = 3.875, DX = 100 * 0.25/1.75; ADX = (100 + 100/7)/2.
    adx = ADX(2)
    out = adx.batch(high, low, close)
    nan_prefix(out, 3)
    assert out[3] == approx(400 / 7)
    assert adx.plus_di == approx(75 / 3.875) and adx.minus_di == approx(100 / 3.875)
    plus = ADX(2, line=1).batch(high, low, close)
    nan_prefix(plus, 2)
    assert plus[2] == approx(150 / 2.75)
    assert ADX(2, line=2).batch(high, low, close)[2] == 0.0
    assert (ADX(14).warmup_period, ADX(14, line=1).warmup_period) == (27, 14)


def test_adx_of_flat_bars_is_zero_not_nan() -> None:
    # TR is 0 on every bar: the DIs are 0 (TA_PLUS_DI's rule), no DX is ever added, so the
    # first ADX is 0 / n and stays there.
    flat = [1.2] * 12
    assert ADX(3).batch(flat, flat, flat)[5:].tolist() == [0.0] * 7
    assert ADX(3, line=1).batch(flat, flat, flat)[3:].tolist() == [0.0] * 9


def test_cci_by_hand() -> None:
    # tp = 2, 4: mean 3, mean deviation 1, (4 - 3)/(0.015 * 1) = 200/3; then tp 4, 4: 0.
    out = CCI(2).batch([3.0, 6.0, 4.0], [1.0, 3.0, 4.0], [2.0, 3.0, 4.0])
    nan_prefix(out, 1)
    assert out[1] == approx(200 / 3) and out[2] == 0.0


def test_donchian_bands() -> None:
    high, low = [2.0, 5.0, 3.0, 1.0], [1.0, 2.0, 0.0, 0.5]
    bands = {b: Donchian(2, band=b).batch(high, low, low) for b in (1, 0, -1)}
    nan_prefix(bands[1], 1)
    assert bands[1][1:].tolist() == [5.0, 5.0, 3.0]
    assert bands[-1][1:].tolist() == [1.0, 0.0, 0.0]
    assert bands[0][1:].tolist() == [3.0, 2.5, 1.5]
    assert Donchian(1, band=1).batch(high, low, low).tolist() == high


def test_keltner_by_hand() -> None:
    high, low, close = [2.0, 3.0, 4.0], [1.0, 2.0, 2.0], [1.5, 2.5, 3.0]
    # EMA(2) seed at bar 1: 2; ATR(1) at bar 1: max(1, 1.5, 0.5) = 1.5, so upper = 2 + 3 = 5.
    # Bar 2: EMA = (3 - 2) * 2/3 + 2, ATR = max(2, 1.5, 0.5) = 2.
    kc = Keltner(2, 1, 2.0, band=1)
    out = kc.batch(high, low, close)
    nan_prefix(out, 1)
    assert out[1] == 5.0
    middle = (3.0 - 2.0) * (2.0 / 3.0) + 2.0
    assert (kc.upper, kc.middle, kc.lower) == (middle + 4.0, middle, middle - 4.0)
    # ATR(3) needs 3 bars: every band NaN until then, the middle too.
    nan_prefix(Keltner(2, 3).batch([*high, 4.0], [*low, 3.0], [*close, 3.5]), 3)


HLC_CLASSES = [
    Stochastic(5, 3, 2),
    ADX(5),
    ADX(5, line=2),
    CCI(5),
    Donchian(5),
    Keltner(5, 4, 1.5, band=-1),
]
SINGLE_CLASSES = [WMA(5), Hull(9), MACD(3, 8, 4, line=2)]


@pytest.mark.parametrize("ind", SINGLE_CLASSES + HLC_CLASSES, ids=lambda i: i.name)
def test_batch_is_the_fold_and_reset_repeats(ind: Any) -> None:
    x = random_walk(300, 9)
    high, low = x + 2e-5, x - 3e-5
    single = ind in SINGLE_CLASSES
    first = ind.batch(x) if single else ind.batch(high, low, x)
    ind.reset()
    folded = [
        ind.update(v) if single else ind.update(h, lo, v)
        for h, lo, v in zip(high, low, x, strict=True)
    ]
    assert np.array_equal(first, np.array(folded), equal_nan=True)
    again = ind.batch(x) if single else ind.batch(high, low, x)
    assert np.array_equal(first, again, equal_nan=True)
    assert (
        np.isnan(first[: ind.warmup_period]).all()
        and not np.isnan(first[ind.warmup_period :]).any()
    )


def test_short_series_and_empty_inputs() -> None:
    assert np.isnan(MACD().batch(random_walk(30, 0))).all()
    assert ADX(14).batch([], [], []).shape == (0,)
    with pytest.raises(IndicatorInputError, match="cci: high, low and close lengths differ"):
        CCI(3).batch([1.0, 2.0], [1.0], [1.0, 2.0])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: WMA(0), "wma: period must be >= 1"),
        (lambda: WMA(2.5), "wma: period must be an integer"),
        (lambda: Hull(1), "hull: period must be >= 2"),
        (lambda: MACD(26, 12, 9), "macd: fast must be < slow"),
        (lambda: MACD(12, 12, 9), "macd: fast must be < slow"),
        (lambda: MACD(12, 26, 0), "macd: signal must be >= 1"),
        (lambda: MACD(12, 26, 9, line=3), "macd: line must be 0"),
        (lambda: MACD(True, 26, 9), "macd: fast must be an integer"),
        (lambda: Stochastic(0, 3, 3), "stochastic: k_period must be >= 1"),
        (lambda: Stochastic(14, 0, 3), "stochastic: k_smooth must be >= 1"),
        (lambda: Stochastic(14, 3, 0), "stochastic: d_period must be >= 1"),
        (lambda: Stochastic(14, 3, 3, line=2), "stochastic: line must be 0"),
        (lambda: ADX(1), "adx: period must be >= 2"),
        (lambda: ADX(14, line=-1), "adx: line must be 0"),
        (lambda: CCI(1), "cci: period must be >= 2"),
        (lambda: Donchian(0), "donchian: period must be >= 1"),
        (lambda: Donchian(20, band=2), "donchian: band must be 1"),
        (lambda: Keltner(20, 0), "keltner: atr_period must be >= 1"),
        (lambda: Keltner(20, 10, 0.0), "keltner: k must be finite and > 0"),
        (lambda: Keltner(20, 10, math.inf), "keltner: k must be finite"),
        (lambda: Keltner(20, 10, True), "keltner: k must be a number"),
        (lambda: Keltner(20, 10, 2.0, band=True), "keltner: band must be 1"),
    ],
)
def test_bad_parameters_are_named(make: Callable[[], object], match: str) -> None:
    with pytest.raises(IndicatorParameterError, match=match):
        make()

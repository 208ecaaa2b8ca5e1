"""Hand-checked values, parameter validation, and the recurrence properties (hypothesis):
no look-ahead, batch == incremental fold, streaming continues a batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega.indicators import (
    ATR,
    EMA,
    RSI,
    SMA,
    Bollinger,
    IndicatorParameterError,
    IndicatorSpec,
    Kalman,
    KalmanZScore,
    RollingStd,
    SideBars,
    ZScore,
    compute,
    true_range,
)

NAN = math.nan


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal NaN masks and bit-identical values elsewhere."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    valid = ~np.isnan(a)
    return bool(np.array_equal(a[valid].view(np.int64), b[valid].view(np.int64)))


# ---- hand-computed values -----------------------------------------------------------------


def test_sma_hand_values() -> None:
    assert same(SMA(3).batch([1.0, 2.0, 3.0, 4.0, 6.0]), [NAN, NAN, 2.0, 3.0, 13.0 / 3.0])


def test_ema_hand_values() -> None:
    # seed mean(2, 4, 6) = 4, k = 0.5: (8 - 4) * 0.5 + 4 = 6, (2 - 6) * 0.5 + 6 = 4
    assert same(EMA(3).batch([2.0, 4.0, 6.0, 8.0, 2.0]), [NAN, NAN, 4.0, 6.0, 4.0])


def test_rsi_hand_values() -> None:
    # diffs +1, -1: gain = loss = 0.5 -> 50; then +2: gain (0.5 + 2) / 2, loss 0.5 / 2
    assert same(RSI(2).batch([1.0, 2.0, 1.0, 3.0]), [NAN, NAN, 50.0, 100.0 * (1.25 / 1.5)])
    assert same(RSI(3).batch([1.1] * 5), [NAN, NAN, NAN, 0.0, 0.0])  # flat: 0, not NaN


def test_atr_hand_values() -> None:
    high, low, close = [2.0, 3.0, 4.0, 4.0], [1.0, 2.0, 2.0, 3.0], [1.5, 2.5, 3.0, 3.5]
    # TR_1 = 1.5 (|1.5 - 3|), TR_2 = 2 (4 - 2), TR_3 = 1; seed (1.5 + 2) / 2; then (1.75 + 1) / 2
    assert same(ATR(2).batch(high, low, close), [NAN, NAN, 1.75, 1.375])
    assert true_range(5.0, 4.5, 1.0) == 4.0


def test_rolling_std_zscore_bollinger_hand_values() -> None:
    xs = [1.0, 3.0, 3.0, 7.0]
    assert same(RollingStd(2).batch(xs), [NAN, 1.0, 0.0, 2.0])
    assert same(ZScore(2).batch(xs), [NAN, 1.0, NAN, 1.0])  # flat window -> NaN
    bands = Bollinger(2, 2.0, 1.0, band=1)
    assert same(bands.batch(xs), [NAN, 4.0, 3.0, 9.0])
    assert (bands.upper, bands.middle, bands.lower) == (9.0, 5.0, 3.0)


def test_rolling_std_keeps_precision_at_fx_prices() -> None:
    # Naive E[x^2] - E[x]^2 gets this 2-bar window wrong by orders of magnitude.
    half_pip = (1.1001 - 1.1) / 2.0
    out = RollingStd(2).batch([1.1, 1.1001] * 50)
    assert np.all(np.abs(out[1:] - half_pip) <= 1e-15)


def test_kalman_hand_values() -> None:
    kf = Kalman(q=1.0, r=1.0, x0=None, p0=0.0)
    assert kf.update(5.0) == 5.0  # seeded with the first observation; k = 0.5, P = 0.5
    assert kf.variance == 0.5
    assert kf.update(10.0) == 8.0  # p_prior 1.5, k 0.6
    assert kf.gain == 0.6


# ---- parameter validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: SMA(0),
        lambda: EMA(-1),
        lambda: RSI(1),
        lambda: ATR(0),
        lambda: RollingStd(1),
        lambda: ZScore(1),
        lambda: SMA(2.5),
        lambda: SMA(True),
        lambda: Bollinger(20, k_up=-1.0),
        lambda: Bollinger(20, band=2),
        lambda: Kalman(q=-0.1, r=1.0),
        lambda: Kalman(q=0.1, r=0.0),
        lambda: Kalman(q=0.1, r=1.0, p0=math.inf),
        lambda: Kalman(q=0.1, r=1.0, x0=math.nan),
        lambda: KalmanZScore(q=0.1, r=1.0, lookback=1),
        lambda: IndicatorSpec.of("sma", period=0),
        lambda: IndicatorSpec.of("sma", length=5),
        lambda: IndicatorSpec.of("macd", period=5),
        lambda: IndicatorSpec.of("sma", period=5, field="volume"),
        lambda: IndicatorSpec.of("kalman", q=0.1),
    ],
)
def test_bad_parameters_raise_named_errors(make) -> None:
    with pytest.raises(IndicatorParameterError) as info:
        make()
    assert isinstance(info.value, ValueError)


# ---- properties (hypothesis) -----------------------------------------------------------------

# Pip-sized steps around 1.1, sometimes flat, so zero-variance windows occur too.
steps = st.lists(st.integers(-40, 40) | st.just(0), min_size=0, max_size=250)


def side_from_steps(raw: list[int]) -> SideBars:
    close = 1.1 + np.cumsum(np.array(raw, dtype=np.float64)) * 1e-5
    spread = (np.abs(np.array(raw, dtype=np.float64)) % 7) * 1e-5
    return SideBars(close, close + spread, close - 1e-5, close)


def spec_strategy() -> st.SearchStrategy[IndicatorSpec]:
    period = st.integers(2, 40)
    field = st.sampled_from(["open", "high", "low", "close"])
    ratio = st.floats(1e-4, 10.0)
    x0 = st.none() | st.floats(1.0, 1.2)
    return st.one_of(
        st.builds(lambda p, f: IndicatorSpec.of("sma", f, period=p - 1), period, field),
        st.builds(lambda p, f: IndicatorSpec.of("ema", f, period=p - 1), period, field),
        st.builds(lambda p, f: IndicatorSpec.of("rsi", f, period=p), period, field),
        st.builds(lambda p: IndicatorSpec.of("atr", period=p - 1), period),
        st.builds(lambda p, f: IndicatorSpec.of("rolling_std", f, period=p), period, field),
        st.builds(
            lambda p, b, f: IndicatorSpec.of(
                "bollinger", f, period=p, k_up=2.0, k_down=1.5, band=b
            ),
            period,
            st.sampled_from([1, 0, -1]),
            field,
        ),
        st.builds(lambda p, f: IndicatorSpec.of("zscore", f, period=p), period, field),
        st.builds(
            lambda q, r, x, f: IndicatorSpec.of("kalman", f, q=q, r=r, x0=x, p0=1.0),
            ratio,
            ratio,
            x0,
            field,
        ),
        st.builds(
            lambda q, r, x, p, f: IndicatorSpec.of(
                "kalman_zscore", f, q=q, r=r, x0=x, p0=1.0, lookback=p
            ),
            ratio,
            ratio,
            x0,
            period,
            field,
        ),
    )


def truncated(side: SideBars, k: int) -> SideBars:
    return SideBars(*(column[:k] for column in side))


@settings(max_examples=300, deadline=None)
@given(spec=spec_strategy(), raw=steps, cut=st.floats(0.0, 1.0))
def test_no_look_ahead(spec: IndicatorSpec, raw: list[int], cut: float) -> None:
    side = side_from_steps(raw)
    full = compute(spec, side)
    k = int(cut * len(raw))
    assert same(compute(spec, truncated(side, k)), full[:k]), f"{spec} cut at {k}"


@settings(max_examples=300, deadline=None)
@given(spec=spec_strategy(), raw=steps, split=st.floats(0.0, 1.0))
def test_batch_is_the_incremental_fold(spec: IndicatorSpec, raw: list[int], split: float) -> None:
    side = side_from_steps(raw)
    batch = compute(spec, side)
    indicator = spec.build()
    bars = list(zip(side.high.tolist(), side.low.tolist(), side.close.tolist(), strict=True))
    values = getattr(side, spec.field or "close").tolist()
    if isinstance(indicator, ATR):
        fold = [indicator.update(h, lo, c) for h, lo, c in bars]
    else:
        fold = [indicator.update(x) for x in values]
    assert same(np.array(fold, dtype=np.float64), batch)
    # A batch over a prefix leaves the state from which streaming the rest continues exactly.
    k = int(split * len(raw))
    indicator = spec.build()
    if isinstance(indicator, ATR):
        head = indicator.batch(side.high[:k], side.low[:k], side.close[:k])
        tail = [indicator.update(h, lo, c) for h, lo, c in bars[k:]]
    else:
        head = indicator.batch(values[:k])
        tail = [indicator.update(x) for x in values[k:]]
    assert same(np.concatenate([head, np.array(tail, dtype=np.float64)]), batch)


@settings(max_examples=100, deadline=None)
@given(spec=spec_strategy(), raw=steps)
def test_warmup_is_leading_nans_only(spec: IndicatorSpec, raw: list[int]) -> None:
    out = compute(spec, side_from_steps(raw))
    warmup = spec.warmup_period
    assert np.isnan(out[:warmup]).all()
    if spec.kind not in ("zscore", "kalman_zscore"):  # z-scores are also NaN on flat windows
        assert not np.isnan(out[warmup:]).any()


def test_reset_forgets_everything() -> None:
    xs = (1.1 + np.arange(60) * 1e-5).tolist()
    for indicator in (SMA(5), EMA(5), RSI(5), RollingStd(5), ZScore(5), KalmanZScore(0.1, 1.0)):
        first = indicator.batch(xs)
        indicator.reset()
        again = np.array([indicator.update(x) for x in xs])
        assert same(first, again), indicator.name

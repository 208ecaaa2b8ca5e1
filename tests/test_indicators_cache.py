"""IndicatorSpec, compute() dispatch and IndicatorCache."""

from __future__ import annotations

import numpy as np
import pytest

from omega.data import generate_synthetic
from omega.indicators import (
    ATR,
    SMA,
    IndicatorCache,
    IndicatorInputError,
    IndicatorSpec,
    SideBars,
    compute,
)
from omega.indicators import cache as cache_module
from omega.timeframes import Timeframe


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=3_000, seed=3)


def test_spec_normalises_parameters() -> None:
    a = IndicatorSpec.of("KALMAN_ZSCORE", lookback=50, q=0.01, r=1.0)
    b = IndicatorSpec.of("kalman_zscore", q=0.01, r=1.0, x0=None, p0=1.0, lookback=50)
    assert a == b and hash(a) == hash(b)
    assert [name for name, _ in a.params] == ["q", "r", "x0", "p0", "lookback"]
    assert IndicatorSpec.of("atr", period=14).field is None
    assert IndicatorSpec.of("sma", period=5) != IndicatorSpec.of("sma", "open", period=5)
    assert str(IndicatorSpec.of("ema", period=9)) == "ema(period=9) on close"
    numpy_typed = IndicatorSpec.of("bollinger", period=np.int64(20), k_up=2, k_down=np.float64(1.5))
    assert numpy_typed == IndicatorSpec.of("bollinger", period=20, k_up=2.0, k_down=1.5)
    assert [type(v) for _, v in numpy_typed.params] == [int, float, float, int]


def test_compute_dispatches_on_field_and_side(bars) -> None:
    bid, ask = SideBars.from_series(bars, "bid"), SideBars.from_series(bars, "ask")
    spec = IndicatorSpec.of("sma", "high", period=10)
    np.testing.assert_array_equal(compute(spec, bid), SMA(10).batch(bars.bid_high))
    np.testing.assert_array_equal(compute(spec, ask), SMA(10).batch(bars.ask_high))
    atr = compute(IndicatorSpec.of("atr", period=14), bid)
    np.testing.assert_array_equal(atr, ATR(14).batch(bars.bid_high, bars.bid_low, bars.bid_close))
    mid = SideBars.from_series(bars, "mid")
    np.testing.assert_array_equal(mid.close, (bars.bid_close + bars.ask_close) * 0.5)


def test_compute_rejects_ragged_columns() -> None:
    with pytest.raises(IndicatorInputError):
        compute(IndicatorSpec.of("sma", period=2), SideBars(*(np.ones(n) for n in (3, 3, 2, 3))))
    with pytest.raises(IndicatorInputError):
        SideBars.from_series(generate_synthetic(n_bars=10), "bidask")


def test_cache_computes_each_key_once(bars, monkeypatch) -> None:
    calls: list[IndicatorSpec] = []
    real_compute = cache_module.compute

    def counting_compute(spec, side, *bars):
        calls.append(spec)
        return real_compute(spec, side, *bars)

    monkeypatch.setattr(cache_module, "compute", counting_compute)
    cache = IndicatorCache()
    spec = IndicatorSpec.of("kalman_zscore", q=0.01, r=1.0, lookback=20)
    first = cache.get(bars, "bid", spec)
    second = cache.get(bars, "bid", IndicatorSpec.of("kalman_zscore", q=0.01, r=1.0, lookback=20))
    assert second is first
    assert (cache.hits, cache.misses, len(calls)) == (1, 1, 1)
    np.testing.assert_array_equal(first, compute(spec, SideBars.from_series(bars, "bid")))


def test_cache_hands_out_read_only_arrays(bars) -> None:
    series = IndicatorCache().get(bars, "bid", IndicatorSpec.of("ema", period=5))
    assert not series.flags.writeable
    with pytest.raises(ValueError):
        series[10] = 0.0


def test_distinct_keys_are_distinct_series(bars) -> None:
    cache = IndicatorCache()
    sma5 = IndicatorSpec.of("sma", period=5)
    got = {
        "bid": cache.get(bars, "bid", sma5),
        "ask": cache.get(bars, "ask", sma5),
        "mid": cache.get(bars, "mid", sma5),
        "sma6": cache.get(bars, "bid", IndicatorSpec.of("sma", period=6)),
        "open": cache.get(bars, "bid", IndicatorSpec.of("sma", "open", period=5)),
    }
    assert (cache.misses, cache.hits, len(cache)) == (5, 0, 5)
    names = list(got)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.array_equal(got[a], got[b], equal_nan=True), (a, b)
    assert (Timeframe.M1, "ask", sma5) in cache


def test_cache_refuses_a_second_data_set(bars) -> None:
    cache = IndicatorCache()
    spec = IndicatorSpec.of("sma", period=5)
    cache.get(bars, "bid", spec)
    cache.get(bars.slice(0, len(bars)), "bid", spec)  # same bars, another object: fine
    with pytest.raises(IndicatorInputError):
        cache.get(generate_synthetic(n_bars=3_000, seed=4, start="2023-01-01"), "bid", spec)

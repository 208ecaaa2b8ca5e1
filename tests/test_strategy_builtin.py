"""The built-in strategies against their docs pages, re-derived from independently computed
indicator series (omega.indicators used directly, visibility from omega.data).

For every primary bar the test decides, from the spec's rules alone, whether a signal (or an
exit) is due, and compares with what the engine's decision trace says happened.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from omega.data import generate_synthetic
from omega.data.resample import last_closed_index, resample
from omega.engine.loop import run_python
from omega.engine.raw import RawRun
from omega.engine.settings import EngineSettings
from omega.errors import StrategyError
from omega.indicators import ATR, EMA, SMA, KalmanZScore, RollingStd, ZScore
from omega.strategy import (
    Instrument,
    RunContext,
    get_strategy,
    list_strategies,
    strategy_schema,
)
from omega.timeframes import Timeframe

M5, H1 = Timeframe.M5, Timeframe.H1
SETTINGS = EngineSettings(primary_timeframe=M5, timeframes=(M5, H1))


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=30_000, seed=11)


@pytest.fixture(scope="module")
def primary(bars):
    return resample(bars, M5)


def open_at_close(raw: RawRun, n: int) -> np.ndarray:
    """+1/-1 where a position is open at the close of each primary bar (after step 2), else 0."""
    side = np.zeros(n, dtype=int)
    t = raw.trades
    for k in range(raw.n_trades):
        start, stop = int(t["entry_index"][k]), int(t["exit_index"][k])
        if t["exit_reason"][k] == "end_of_data":
            stop = n  # still open at the last close
        elif t["exit_reason"][k] in ("strategy", "max_bars", "partial"):
            pass  # filled at the open of `stop`: flat at its close
        side[start:stop] = int(t["side"][k])
    return side


def events(raw: RawRun) -> list[set[str]]:
    return [set(row["event"].split("|")) for row in raw.trace]


def test_registry_lists_the_builtins() -> None:
    assert {"mean_reversion_z_score", "sma_cross", "zscore_threshold"} <= set(list_strategies())
    schema = strategy_schema("mean_reversion_z_score")["properties"]
    assert schema["lookback"]["minimum"] == 5 and schema["lookback"]["maximum"] == 5000
    assert schema["z_entry"]["default"] == 3.5
    assert set(schema["trend_timeframe"]["enum"]) >= {"H1", "H4"}


# --------------------------------------------------------------------------------------------
# mean_reversion_z_score

MR_PARAMS = {"lookback": 30, "z_entry": 1.8, "trend_ema": 20, "max_holding_bars": 24}


def test_mean_reversion_follows_its_spec(bars, primary) -> None:
    p = get_strategy("mean_reversion_z_score").Params(**MR_PARAMS)
    raw = run_python(bars, get_strategy("mean_reversion_z_score")(MR_PARAMS), SETTINGS, trace=True)
    n = raw.bars_processed
    z = KalmanZScore(p.kalman_q, p.kalman_r, None, p.kalman_p0, p.lookback).batch(primary.bid_close)
    atr = ATR(p.atr_period).batch(primary.bid_high, primary.bid_low, primary.bid_close)
    h1 = resample(bars, H1)
    ema = EMA(p.trend_ema).batch(h1.bid_close)
    j = last_closed_index(primary.time, M5, h1.time, H1)
    held = open_at_close(raw, n)
    entered = np.maximum.accumulate(np.isin(np.arange(n), raw.trades["entry_index"]) * np.arange(n))
    ev = events(raw)
    expected_entries = 0
    for i in range(n):
        # evaluate: only when flat after steps 1-2
        want = None
        ready = not (math.isnan(z[i]) or math.isnan(atr[i])) and j[i] >= 0
        if held[i] == 0 and ready and not math.isnan(ema[j[i]]):
            up, down = h1.bid_close[j[i]] >= ema[j[i]], h1.bid_close[j[i]] <= ema[j[i]]
            if z[i] < -p.z_entry and up:
                want = "signal_long"
            elif z[i] > p.z_entry and down:
                want = "signal_short"
        got = ev[i] & {"signal_long", "signal_short"}
        assert got == ({want} if want else set()), (i, z[i], got)
        expected_entries += want is not None
        # at the close of a held bar: a max_bars exit once the limit is reached, else
        # manage_position closes once z has reverted (the one-sided test of the spec)
        if held[i] != 0:
            bars_held = i - entered[i] + 1
            reverted = not math.isnan(z[i]) and (
                z[i] >= -p.z_exit if held[i] == 1 else z[i] <= p.z_exit
            )
            due = bars_held >= p.max_holding_bars or reverted
            assert ("exit_queued" in ev[i]) == due, (i, z[i], bars_held)
    assert expected_entries >= 10  # the data exercises the strategy
    t = raw.trades
    assert raw.n_trades + raw.dropped_orders + len(raw.skipped_orders) == expected_entries
    for k in range(raw.n_trades):
        s = int(t["entry_index"][k]) - 1  # the signal bar
        fill = t["entry_price"][k]
        d_sl, d_tp = p.sl_atr * atr[s], p.tp_atr * atr[s]
        # no break-even or trailing configured: the levels at exit are the entry's
        if t["side"][k] == 1:
            assert (t["tag"][k], t["sl"][k], t["tp"][k]) == ("mr_long", fill - d_sl, fill + d_tp)
        else:
            assert (t["tag"][k], t["sl"][k], t["tp"][k]) == ("mr_short", fill + d_sl, fill - d_tp)
        assert t["bars_held"][k] <= p.max_holding_bars


def test_mean_reversion_records_its_trace_values(bars) -> None:
    raw = run_python(bars, get_strategy("mean_reversion_z_score")(MR_PARAMS), SETTINGS, trace=True)
    flat_rows = [r for r in raw.trace if "z" in r]
    assert flat_rows and {"z", "atr"} <= set(flat_rows[-1])
    assert any("htf_close" in r and "htf_ema" in r for r in raw.trace)


def test_mean_reversion_without_trend_filter_needs_no_higher_timeframe(bars) -> None:
    params = {**MR_PARAMS, "trend_filter": False}
    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))
    raw = run_python(bars, get_strategy("mean_reversion_z_score")(params), settings)
    assert raw.n_trades > 0


def test_mean_reversion_parameter_errors_name_the_parameter() -> None:
    cls = get_strategy("mean_reversion_z_score")
    with pytest.raises(StrategyError, match="parameter lookback"):
        cls({"lookback": 2})
    with pytest.raises(StrategyError, match=r"z_exit \(3.6\) must be < z_entry"):
        cls({"z_exit": 3.6})
    with pytest.raises(StrategyError, match="parameter bogus"):
        cls({"bogus": 1})
    with pytest.raises(StrategyError, match="trend_timeframe: M5 must be coarser"):
        strategy = cls({"trend_timeframe": "m5"})
        strategy.init(RunContext(Instrument(), M5, (M5,), strategy.params, strategy.name))


# --------------------------------------------------------------------------------------------
# sma_cross


def test_sma_cross_reverses_on_every_cross(bars, primary) -> None:
    raw = run_python(bars, get_strategy("sma_cross")({}), SETTINGS)
    fast = SMA(10).batch(primary.bid_close)
    slow = SMA(30).batch(primary.bid_close)
    n = len(primary)
    crosses = []
    for i in range(1, n):
        if np.isnan(slow[i - 1]):
            continue
        if fast[i - 1] <= slow[i - 1] and fast[i] > slow[i]:
            crosses.append((i, 1))
        elif fast[i - 1] >= slow[i - 1] and fast[i] < slow[i]:
            crosses.append((i, -1))
    crosses = [c for c in crosses if c[0] < n - 1]  # a cross at the last close is dropped
    t = raw.trades
    assert len(crosses) > 10
    # one trade per cross, entered at the next open in the cross's direction
    assert [
        (int(a) - 1, int(b)) for a, b in zip(t["entry_index"], t["side"], strict=True)
    ] == crosses
    # always in the market: each exit is the next entry (a reversal at the same open)
    assert t["exit_index"][:-1].tolist() == t["entry_index"][1:].tolist()
    assert set(t["exit_reason"][:-1]) == {"strategy"} and t["exit_reason"][-1] == "end_of_data"
    assert set(t["size"]) == {1.0}


# --------------------------------------------------------------------------------------------
# zscore_threshold


def test_zscore_threshold_follows_its_spec(bars, primary) -> None:
    raw = run_python(bars, get_strategy("zscore_threshold")({"period": 30}), SETTINGS, trace=True)
    z = ZScore(30).batch(primary.bid_close)
    s = RollingStd(30).batch(primary.bid_close)
    n = raw.bars_processed
    held = open_at_close(raw, n)
    ev = events(raw)
    for i in range(n):
        want = set()
        if held[i] == 0 and not math.isnan(z[i]):
            if z[i] < -2.0:
                want = {"signal_long"}
            elif z[i] > 2.0:
                want = {"signal_short"}
        assert ev[i] & {"signal_long", "signal_short"} == want, i
        if held[i] != 0 and not math.isnan(z[i]):
            assert ("exit_queued" in ev[i]) == (abs(z[i]) < 0.5), i
    t = raw.trades
    assert raw.n_trades > 10
    for k in range(raw.n_trades):
        sig = int(t["entry_index"][k]) - 1
        fill = t["entry_price"][k]
        if t["side"][k] == 1:
            assert (t["sl"][k], t["tp"][k]) == (fill - 2.0 * s[sig], fill + 3.0 * s[sig])
            assert t["tag"][k] == "z_long"
        else:
            assert (t["sl"][k], t["tp"][k]) == (fill + 2.0 * s[sig], fill - 3.0 * s[sig])
            assert t["tag"][k] == "z_short"

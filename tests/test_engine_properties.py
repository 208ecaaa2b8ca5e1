"""Properties of the reference engine over random data, orders and settings (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omega.data import generate_synthetic
from omega.data.bars import BarSeries
from omega.data.resample import resample
from omega.engine.loop import run_python
from omega.engine.raw import RawRun
from omega.engine.settings import (
    BreakEvenSettings,
    EngineSettings,
    FeeSettings,
    TrailingSettings,
)
from omega.strategy import (
    Close,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    ScriptedStrategy,
    TradeSignal,
)
from omega.strategy.registry import get_strategy
from omega.timeframes import Timeframe

M1, M5, H1 = Timeframe.M1, Timeframe.M5, Timeframe.H1
PIP = 0.0001
CS = 100_000.0
SLOW = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_orders(seed: int, n: int, price: float) -> ScriptedStrategy:
    """Signals at ~1/6 of the bars and level-changing actions at some others (no partials,
    so every position keeps its size and the equity can be rebuilt from the trade rows)."""
    rng = random.Random(seed)
    signals, actions = {}, {}
    for i in range(n):
        r = rng.random()
        if r < 0.16:
            d = rng.choice([None, 3, 8, 20])
            levels = {}
            if d is not None:
                levels["stop_loss_distance"] = d * PIP
            if rng.random() < 0.6:
                levels["take_profit_distance"] = rng.choice([3, 8, 20]) * PIP
            elif rng.random() < 0.3:
                levels["take_profit"] = price * (1 + rng.choice([-1, 1]) * 0.002)
            make = TradeSignal.long if rng.random() < 0.5 else TradeSignal.short
            signals[i] = make(size=rng.choice([0.1, 1.0, 2.0]), **levels)
        elif r < 0.22:
            actions[i] = rng.choice(
                [
                    Close(),
                    MoveToBreakEven(1.0),
                    ModifyStopLoss(None),
                    ModifyTakeProfit(None),
                    ModifyStopLoss(price * 0.99),
                ]
            )
    return ScriptedStrategy(signals, actions)


@st.composite
def cases(draw):
    data_seed = draw(st.integers(0, 10_000))
    primary = draw(st.sampled_from([M1, M5]))
    engine = EngineSettings(
        primary_timeframe=primary,
        timeframes=(primary,),
        intrabar_policy=draw(st.sampled_from(["pessimistic", "optimistic", "finer"])),
        fees=FeeSettings(
            commission_per_lot=draw(st.sampled_from([0.0, 3.5])),
            percent_of_notional=draw(st.sampled_from([0.0, 0.002])),
        ),
        break_even=draw(st.sampled_from([None, BreakEvenSettings(4.0, 1.0)])),
        trailing=draw(st.sampled_from([None, TrailingSettings(6.0)])),
        max_bars_held=draw(st.sampled_from([None, 7])),
    )
    return data_seed, draw(st.integers(0, 2**31)), engine


def run_case(data_seed: int, order_seed: int, engine: EngineSettings) -> tuple[BarSeries, RawRun]:
    bars = generate_synthetic(n_bars=1500, seed=data_seed)
    n_primary = len(bars) if engine.primary_timeframe == M1 else len(bars) // 4
    strategy = random_orders(order_seed, n_primary, float(bars.bid_close[0]))
    raw = run_python(bars, strategy, engine)
    assert raw.n_trades >= 1  # every case exercises the properties on real trades
    return bars, raw


def fee(engine: EngineSettings, lots: float, price: float) -> float:
    f = engine.fees  # EURUSD, USD account: to_account is the identity
    return lots * f.commission_per_lot + (lots * CS * price) * (f.percent_of_notional / 100.0)


@SLOW
@given(cases())
def test_equity_is_balance_plus_unrealized_at_every_close(case) -> None:
    data_seed, order_seed, engine = case
    bars, raw = run_case(data_seed, order_seed, engine)
    primary = bars if engine.primary_timeframe == M1 else resample(bars, engine.primary_timeframe)
    t = raw.trades
    n = raw.bars_processed
    at_open: dict[int, list] = {}  # exits at the open (strategy, max_bars) come first
    entries: dict[int, int] = {}
    in_bar: dict[int, list] = {}  # stop / target exits happen after the entry fill
    for k in range(raw.n_trades):
        entries[int(t["entry_index"][k])] = k
        reason = t["exit_reason"][k]
        if reason in ("strategy", "max_bars"):
            at_open.setdefault(int(t["exit_index"][k]), []).append(k)
        elif reason in ("stop_loss", "take_profit"):
            in_bar.setdefault(int(t["exit_index"][k]), []).append(k)

    def close(k: int) -> None:
        nonlocal balance, open_k
        exit_fee = t["fees"][k] - fee(engine, t["size"][k], t["entry_price"][k])
        balance = balance + t["gross_pnl"][k]
        balance = balance - exit_fee
        open_k = None

    balance = engine.initial_balance
    open_k: int | None = None
    for i in range(n):
        for k in at_open.get(i, []):
            close(k)
        if i in entries:
            open_k = entries[i]
            balance = balance - fee(engine, t["size"][open_k], t["entry_price"][open_k])
        for k in in_bar.get(i, []):
            close(k)
        unrealized = 0.0
        if open_k is not None:
            entry, size = t["entry_price"][open_k], t["size"][open_k]
            if t["side"][open_k] == 1:
                unrealized = (primary.bid_close[i] - entry) * size * CS
            else:
                unrealized = (entry - primary.ask_close[i]) * size * CS
        expected = balance + unrealized if i < n - 1 else raw.final_balance
        assert raw.equity[i] == expected, (i, raw.equity[i], expected)
    assert raw.equity[-1] == raw.final_balance


@SLOW
@given(cases())
def test_fills_lie_inside_the_right_sides_range_or_at_the_open(case) -> None:
    data_seed, order_seed, engine = case
    bars, raw = run_case(data_seed, order_seed, engine)
    primary = bars if engine.primary_timeframe == M1 else resample(bars, engine.primary_timeframe)
    base_index = {int(x): j for j, x in enumerate(bars.time)}
    t = raw.trades
    for k in range(raw.n_trades):
        side = int(t["side"][k])
        i = int(t["entry_index"][k])
        # entries: buys at the ask open, sells at the bid open (no slippage configured)
        entry_open = primary.ask_open[i] if side == 1 else primary.bid_open[i]
        assert t["entry_price"][k] == entry_open
        exit_side = (
            "bid" if side == 1 else "ask"
        )  # a long sells at the bid, a short buys at the ask
        price, reason = t["exit_price"][k], t["exit_reason"][k]
        j = int(t["exit_index"][k])
        if reason in ("strategy", "max_bars"):
            assert price == getattr(primary, f"{exit_side}_open")[j]
        elif reason == "end_of_data":
            assert price == getattr(primary, f"{exit_side}_close")[j]
        else:
            # the bar where it exited: the primary bar, or (finer policy) the base bar whose
            # open time is the exit time; a base bar's range lies inside its primary bar's
            exit_time = int(t["exit_time"][k])
            src, b = (primary, j) if exit_time == primary.time[j] else (bars, base_index[exit_time])
            o = getattr(src, f"{exit_side}_open")[b]
            lo, hi = getattr(src, f"{exit_side}_low")[b], getattr(src, f"{exit_side}_high")[b]
            assert price == o or lo <= price <= hi, (reason, price, o, lo, hi)


@SLOW
@given(cases())
def test_fees_are_never_negative(case) -> None:
    _, raw = run_case(*case)
    assert (raw.trades["fees"] >= 0.0).all()


# --------------------------------------------------------------------------------------------
# no look-ahead


def scramble_after(bars: BarSeries, cut: int, seed: int) -> BarSeries:
    """Same bars up to ``cut``; after it a different (valid) random walk."""
    other = generate_synthetic(n_bars=len(bars), seed=seed + 1)
    shift = bars.bid_close[cut - 1] - other.bid_open[cut]
    cols = {}
    for name in (
        "bid_open",
        "bid_high",
        "bid_low",
        "bid_close",
        "ask_open",
        "ask_high",
        "ask_low",
        "ask_close",
    ):
        mixed = getattr(bars, name).copy()
        mixed[cut:] = getattr(other, name)[cut:] + shift
        cols[name] = mixed
    return replace(bars, **cols, quality=None)


@SLOW
@given(
    data_seed=st.integers(0, 10_000),
    cut_hour=st.integers(3, 20),
    policy=st.sampled_from(["pessimistic", "finer"]),
)
def test_no_look_ahead(data_seed: int, cut_hour: int, policy: str) -> None:
    """Replacing every bar from a cut point on changes no decision and no fill before it."""
    bars = generate_synthetic(n_bars=1800, seed=data_seed)
    cut_time = bars.time[0] // H1.nanos * H1.nanos + cut_hour * H1.nanos + 17 * M1.nanos
    cut = int(np.searchsorted(bars.time, cut_time))  # mid-way through an M5 and an H1 bar
    engine = EngineSettings(primary_timeframe=M5, timeframes=(M5, H1), intrabar_policy=policy)
    params = {"lookback": 10, "z_entry": 1.0, "z_exit": 0.2, "trend_ema": 3, "atr_period": 5}
    strategy_class = get_strategy("mean_reversion_z_score")
    a = run_python(bars, strategy_class(params), engine, trace=True)
    b = run_python(scramble_after(bars, cut, data_seed), strategy_class(params), engine, trace=True)
    # the first primary bar containing a changed base bar
    cut_p = int(np.searchsorted(a.equity_time, bars.time[cut] // M5.nanos * M5.nanos))
    assert repr(a.trace[:cut_p]) == repr(b.trace[:cut_p])  # repr: exact floats, NaN == NaN
    assert repr(a.trace[cut_p:]) != repr(b.trace[cut_p:])  # the scramble did change the data
    assert a.equity[:cut_p].tolist() == b.equity[:cut_p].tolist()
    for run in (a, b):
        assert run.trades["entry_index"].tolist() == sorted(run.trades["entry_index"].tolist())
    closed_a = a.trades["exit_index"] < cut_p
    closed_b = b.trades["exit_index"] < cut_p
    for name in a.trades:
        assert a.trades[name][closed_a].tolist() == b.trades[name][closed_b].tolist()
    entered_a = a.trades["entry_index"] < cut_p
    entered_b = b.trades["entry_index"] < cut_p
    for name in ("entry_time", "entry_index", "side", "entry_price"):
        assert a.trades[name][entered_a].tolist()[:1] == b.trades[name][entered_b].tolist()[:1]
    assert a.n_trades > 0  # the case exercises trades at all

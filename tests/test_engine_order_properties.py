"""Properties of pending entries and the FX account on random bars and random orders, in the
Python engine and the Rust engine (hybrid): both give the same run, and every fill keeps the
contract's bounds (docs/engine/execution.md, step 2).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from _rust_helpers import assert_same_run
from omega.data.bars import BarSeries, Instrument
from omega.engine.hybrid import run_hybrid
from omega.engine.loop import run_python
from omega.engine.settings import EngineSettings, MarginSettings, SwapSettings
from omega.strategy import ScriptedStrategy, TradeSignal
from omega.timeframes import Timeframe

HOUR = 3_600 * 10**9
SPREAD = 0.0002


@st.composite
def bars_and_orders(draw):
    n = draw(st.integers(8, 40))
    steps = draw(st.lists(st.integers(-30, 30), min_size=n, max_size=n))
    wicks = draw(
        st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=n, max_size=n)
    )
    closes = 1.1 + np.cumsum(steps) * 0.0001
    opens = np.concatenate([[1.1], closes[:-1]])
    highs = np.maximum(opens, closes) + np.array([w[0] for w in wicks]) * 0.0001
    lows = np.minimum(opens, closes) - np.array([w[1] for w in wicks]) * 0.0001
    bid = np.column_stack([opens, highs, lows, closes]).round(5)
    signals = {}
    for i in draw(st.lists(st.integers(0, n - 2), max_size=4, unique=True)):
        direction = draw(st.sampled_from([1, -1]))
        kind = draw(st.sampled_from(["market", "limit", "stop"]))
        fields: dict = {"stop_loss_distance": draw(st.sampled_from([None, 0.0005, 0.002]))}
        if kind != "market":
            offset = draw(st.integers(-20, 20)) * 0.0001
            fields.update(order=kind, price=round(float(bid[i, 3]) + offset, 5))
            fields["expiry_bars"] = draw(st.sampled_from([None, 1, 3]))
        signals[i] = TradeSignal(direction, **fields)
    return bid, signals


def series(bid: np.ndarray) -> BarSeries:
    t0 = 1_704_441_600 * 10**9  # Friday 2024-01-05 08:00 UTC: a weekend and rollovers
    return BarSeries(
        t0 + np.arange(len(bid), dtype=np.int64) * HOUR,
        *bid.T,
        *(bid + SPREAD).T,
        np.zeros(len(bid)),
        timeframe=Timeframe.H1,
        instrument=Instrument(),
    )


@settings(max_examples=120, deadline=None)
@given(
    case=bars_and_orders(),
    policy=st.sampled_from(["pessimistic", "optimistic", "finer"]),
    account=st.booleans(),
)
def test_pending_fills_keep_their_bounds_and_both_engines_agree(case, policy, account):
    bid, signals = case
    bars = series(bid)
    extra = (
        {"swap": SwapSettings(long=-6.5, short=1.2), "margin": MarginSettings(margin_rate=0.02)}
        if account
        else {}
    )
    engine_settings = EngineSettings(
        primary_timeframe=Timeframe.H1,
        timeframes=(Timeframe.H1,),
        instrument=bars.instrument,
        intrabar_policy=policy,
        initial_balance=5_000.0,
        **extra,
    )
    python = run_python(bars, ScriptedStrategy(signals), engine_settings, trace=True)
    hybrid = run_hybrid(bars, ScriptedStrategy(signals), engine_settings, trace=True)
    assert_same_run(python, hybrid, trace=True)
    trades = python.trades
    for k in range(python.n_trades):
        i = int(trades["entry_index"][k])
        signal = signals.get(i - 1)
        if signal is None or signal.order == "market":
            continue  # a pending order placed earlier (or replaced): bounds below still hold
        side, price = int(trades["side"][k]), float(trades["entry_price"][k])
        ask_low, ask_high = bid[i, 2] + SPREAD, bid[i, 1] + SPREAD
        o = bid[i, 0] + SPREAD if side == 1 else bid[i, 0]
        if signal.order == "limit":
            # at the price or better, never outside the bar on its side
            assert (price <= signal.price) if side == 1 else (price >= signal.price)
        if side == 1:
            assert ask_low <= price <= max(ask_high, o), (price, ask_low, ask_high)
        else:
            assert bid[i, 2] <= price <= bid[i, 1], (price, bid[i])
    # every dropped, expired or cancelled order is accounted for once
    reasons = [s.reason for s in python.skipped_orders]
    assert all(r in {"expired", "insufficient_margin", "below_min_lot"} for r in reasons), reasons

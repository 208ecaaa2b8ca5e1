"""Pending (limit and stop) entries, hand-computed from docs/engine/execution.md (step 2,
"Pending entries"), in the Python reference engine and in the Rust engine (hybrid mode drives
the Rust loop with the same Python strategy): both must produce the expected values.

Bars as in test_engine_execution_cases: EURUSD, M1, ask = bid + 0.0002, 1 lot, no fees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from omega.data.bars import BarSeries, Instrument
from omega.engine.hybrid import run_hybrid
from omega.engine.loop import run_python
from omega.engine.raw import RawRun
from omega.engine.settings import EngineSettings, SizingSettings, SlippageSettings
from omega.errors import StrategyError
from omega.strategy import (
    CancelOrder,
    Close,
    ModifyOrder,
    ScriptedStrategy,
    TradeSignal,
)
from omega.timeframes import Timeframe

SPREAD = 0.0002
PIP = 0.0001
CS = 100_000.0
MIN = 60_000_000_000
FLAT = (1.1000, 1.1003, 1.0998, 1.1001)
LONG, SHORT = TradeSignal.long, TradeSignal.short

ENGINES = ["python", "hybrid"]


def make_bars(rows: Sequence[Sequence[float]], timeframe: Timeframe = Timeframe.M1) -> BarSeries:
    bid = np.array(rows, dtype=np.float64)
    step = timeframe.nanos
    return BarSeries(
        np.arange(len(rows), dtype=np.int64) * step,
        *bid.T,
        *(bid + SPREAD).T,
        np.zeros(len(rows)),
        timeframe=timeframe,
        instrument=Instrument(),
    )


def run(
    engine: str,
    rows: Sequence[Sequence[float]],
    signals: dict,
    order_actions: dict | None = None,
    *,
    primary: Timeframe = Timeframe.M1,
    trace: bool = False,
    **settings: object,
) -> RawRun:
    bars = make_bars(rows)
    engine_settings = EngineSettings(
        primary_timeframe=primary, timeframes=(primary,), instrument=Instrument(), **settings
    )
    strategy = ScriptedStrategy(signals, order_actions=order_actions)
    runner = run_python if engine == "python" else run_hybrid
    return runner(bars, strategy, engine_settings, trace=trace)


def rows_of(raw: RawRun) -> list[dict]:
    cols = raw.trades
    return [{name: cols[name][k] for name in cols} for k in range(raw.n_trades)]


def only(raw: RawRun) -> dict:
    rows = rows_of(raw)
    assert len(rows) == 1, rows
    return rows[0]


def events(raw: RawRun) -> list[str]:
    assert raw.trace is not None
    return [row["event"] for row in raw.trace]


def skipped(raw: RawRun) -> list[tuple[int, str]]:
    return [(s.time, s.reason) for s in raw.skipped_orders]


# --------------------------------------------------------------------------------------------
# fills


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_limit_fills_at_a_better_gap_open(engine: str) -> None:
    # ask open of bar 1 = 1.0980 + 0.0002 = 1.0982, below the limit 1.0990: filled at that open
    rows = [FLAT, (1.0980, 1.0985, 1.0975, 1.0984), FLAT]
    raw = run(engine, rows, {0: LONG(order="limit", price=1.0990)})
    t = only(raw)
    assert t["entry_price"] == 1.0980 + SPREAD
    assert t["entry_time"] == 1 * MIN and t["entry_index"] == 1
    assert t["exit_reason"] == "end_of_data"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_limit_touched_inside_the_bar_fills_at_its_price(engine: str) -> None:
    # ask low of bar 1 = 1.0986 + 0.0002 = 1.0988 <= 1.0990 (ask open 1.1002 is above)
    rows = [FLAT, (1.1000, 1.1004, 1.0986, 1.0995), FLAT]
    t = only(run(engine, rows, {0: LONG(order="limit", price=1.0990)}))
    assert t["entry_price"] == 1.0990
    assert t["entry_time"] == 1 * MIN


@pytest.mark.parametrize("engine", ENGINES)
def test_a_bar_that_does_not_reach_the_limit_leaves_it_working(engine: str) -> None:
    # bar 1 ask low 1.0996 + 0.0002 = 1.0998 > 1.0990; bar 2 reaches it
    rows = [FLAT, (1.1000, 1.1004, 1.0996, 1.1001), (1.1000, 1.1002, 1.0980, 1.0990), FLAT]
    t = only(run(engine, rows, {0: LONG(order="limit", price=1.0990)}))
    assert t["entry_price"] == 1.0990 and t["entry_index"] == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_stop_that_gaps_fills_at_the_open_with_slippage(engine: str) -> None:
    rows = [FLAT, (1.1015, 1.1020, 1.1012, 1.1018), FLAT]
    slippage = SlippageSettings(model="fixed", pips=1.0)
    t = only(run(engine, rows, {0: LONG(order="stop", price=1.1010)}, slippage=slippage))
    assert t["entry_price"] == (1.1015 + SPREAD) + 1.0 * PIP


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_stop_touched_fills_at_its_price_plus_slippage(engine: str) -> None:
    # ask high 1.1009 + 0.0002 = 1.1011 >= 1.1010, ask open 1.1002 below it
    rows = [FLAT, (1.1000, 1.1009, 1.0999, 1.1005), FLAT]
    slippage = SlippageSettings(model="fixed", pips=0.5)
    t = only(run(engine, rows, {0: LONG(order="stop", price=1.1010)}, slippage=slippage))
    assert t["entry_price"] == 1.1010 + 0.5 * PIP


@pytest.mark.parametrize("engine", ENGINES)
def test_short_limit_and_short_stop_trigger_on_the_bid(engine: str) -> None:
    # short limit 1.1010: bid high 1.1012 reaches it -> 1.1010 (no slippage for a limit)
    rows = [FLAT, (1.1000, 1.1012, 1.0999, 1.1005), FLAT]
    slippage = SlippageSettings(model="fixed", pips=1.0)
    t = only(run(engine, rows, {0: SHORT(order="limit", price=1.1010)}, slippage=slippage))
    assert (t["side"], t["entry_price"]) == (-1, 1.1010)
    # short stop 1.0990: bid opens at 1.0985, beyond it -> the open minus slippage
    rows = [FLAT, (1.0985, 1.0990, 1.0980, 1.0987), FLAT]
    t = only(run(engine, rows, {0: SHORT(order="stop", price=1.0990)}, slippage=slippage))
    assert t["entry_price"] == 1.0985 - 1.0 * PIP


# --------------------------------------------------------------------------------------------
# a stop entry and its stop-loss in the same bar, per intrabar policy

# Bar 1: the ask rises through the stop 1.1010 (ask high 1.1014), the bid later falls to 1.0995
# and rose to 1.1012: the stop-loss 1.1000 (fill - 0.0010) and the take-profit 1.1011
# (fill + 0.0001) are both inside the bar's bid range.
STOP_BAR = (1.1000, 1.1012, 1.0995, 1.1005)
STOP_SIGNAL = LONG(
    order="stop", price=1.1010, stop_loss_distance=0.0010, take_profit_distance=0.0001
)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stop_entry_and_both_levels_in_its_bar_pessimistic_takes_the_stop(engine: str) -> None:
    t = only(run(engine, [FLAT, STOP_BAR, FLAT], {0: STOP_SIGNAL}))
    assert t["entry_price"] == 1.1010
    assert t["sl"] == 1.1010 - 0.0010 and t["tp"] == 1.1010 + 0.0001
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.1010 - 0.0010)
    assert t["entry_index"] == t["exit_index"] == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stop_entry_and_both_levels_in_its_bar_optimistic_takes_the_target(engine: str) -> None:
    raw = run(engine, [FLAT, STOP_BAR, FLAT], {0: STOP_SIGNAL}, intrabar_policy="optimistic")
    t = only(raw)
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", 1.1010 + 0.0001)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stop_entry_under_the_finer_policy_walks_the_base_bars(engine: str) -> None:
    # M5 primary over M1 base. Primary bar 1 = base bars 5..9: bar 6 lifts the ask through the
    # stop (touch) and the bid to the target 1.1011 in the same finer bar; bar 7 falls through
    # the stop-loss. Finer: entry in bar 6, then bar 6 (touches only) hits the target first.
    base = (
        [FLAT] * 5
        + [
            (1.1000, 1.1003, 1.0999, 1.1001),
            (1.1001, 1.1012, 1.1001, 1.1009),
            (1.1009, 1.1009, 1.0995, 1.0996),
            FLAT,
            FLAT,
        ]
        + [FLAT] * 5
    )
    bars = make_bars(base)
    settings = EngineSettings(
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5,),
        instrument=Instrument(),
        intrabar_policy="finer",
    )
    strategy = ScriptedStrategy({0: STOP_SIGNAL})
    runner = run_python if engine == "python" else run_hybrid
    t = only(runner(bars, strategy, settings))
    assert t["entry_time"] == 6 * MIN and t["entry_price"] == 1.1010
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == (
        "take_profit",
        1.1010 + 0.0001,
        6 * MIN,
    )
    # pessimistic on the same M5 bars: entry at the primary bar's open time, the stop-loss
    pess = EngineSettings(
        primary_timeframe=Timeframe.M5, timeframes=(Timeframe.M5,), instrument=Instrument()
    )
    t = only(runner(bars, ScriptedStrategy({0: STOP_SIGNAL}), pess))
    assert t["entry_time"] == 5 * MIN
    assert (t["exit_reason"], t["exit_time"]) == ("stop_loss", 5 * MIN)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_limit_that_gaps_meets_the_gap_rows_of_its_stop_loss(engine: str) -> None:
    # the limit fills at the gap open 1.0982 (ask); its absolute stop 1.0985 is above the bid
    # open 1.0980: the position stops out at that open (gap row), as a market fill would
    rows = [FLAT, (1.0980, 1.0984, 1.0975, 1.0983), FLAT]
    signal = LONG(order="limit", price=1.0990, stop_loss=1.0985)
    t = only(run(engine, rows, {0: signal}))
    assert t["entry_price"] == 1.0980 + SPREAD
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.0980)


# --------------------------------------------------------------------------------------------
# expiry, cancel, modify, replace


@pytest.mark.parametrize("engine", ENGINES)
def test_an_order_expires_after_its_bars(engine: str) -> None:
    reach = (1.1000, 1.1002, 1.0980, 1.0990)
    rows = [FLAT, FLAT, FLAT, reach, FLAT]
    raw = run(engine, rows, {0: LONG(order="limit", price=1.0990, expiry_bars=2)}, trace=True)
    assert raw.n_trades == 0
    assert skipped(raw) == [(2 * MIN, "expired")]
    assert events(raw) == ["signal_long", "none", "order_expired", "none", "none"]
    assert raw.dropped_orders == 0
    # one more bar of life and bar 3 fills it
    raw = run(engine, rows, {0: LONG(order="limit", price=1.0990, expiry_bars=3)})
    assert only(raw)["entry_index"] == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_an_order_expires_at_a_time_before_the_bar_opening_then(engine: str) -> None:
    reach = (1.1000, 1.1002, 1.0980, 1.0990)
    raw = run(
        engine,
        [FLAT, FLAT, reach, FLAT],
        {0: LONG(order="limit", price=1.0990, expires_at=2 * MIN)},
    )
    assert raw.n_trades == 0
    assert skipped(raw) == [(2 * MIN, "expired")]


@pytest.mark.parametrize("engine", ENGINES)
def test_manage_order_cancels_and_modifies(engine: str) -> None:
    reach = (1.1000, 1.1002, 1.0980, 1.0990)
    rows = [FLAT, FLAT, reach, FLAT]
    signal = {0: LONG(order="limit", price=1.0990, tag="dip")}
    raw = run(engine, rows, signal, {1: CancelOrder()}, trace=True)
    assert raw.n_trades == 0
    assert [(s.time, s.reason, s.detail) for s in raw.skipped_orders] == [
        (1 * MIN, "cancelled", "dip")
    ]
    assert events(raw)[1] == "order_cancelled"
    # moved down to 1.0985 at close 1: bar 2's ask low 1.0982 reaches it
    raw = run(engine, rows, signal, {1: ModifyOrder(1.0985)}, trace=True)
    assert only(raw)["entry_price"] == 1.0985
    assert events(raw)[1] == "order_modified"
    # a cancel then anything else: the rest is ignored
    raw = run(engine, rows, signal, {1: [CancelOrder(), ModifyOrder(1.0985)]})
    assert raw.n_trades == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_new_signal_replaces_the_working_order(engine: str) -> None:
    reach = (1.1000, 1.1002, 1.0980, 1.0990)
    signals = {0: LONG(order="limit", price=1.0970), 1: LONG(order="limit", price=1.0985)}
    raw = run(engine, [FLAT, FLAT, reach, FLAT], signals, trace=True)
    assert only(raw)["entry_price"] == 1.0985
    assert events(raw)[1] == "order_replaced|signal_long"
    # a market signal replaces it as well and fills at the next open
    signals = {0: LONG(order="limit", price=1.0970), 1: SHORT()}
    t = only(run(engine, [FLAT, FLAT, reach, FLAT], signals))
    assert (t["side"], t["entry_price"], t["entry_index"]) == (-1, 1.1000, 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_working_order_at_the_end_is_dropped(engine: str) -> None:
    raw = run(engine, [FLAT, FLAT], {0: LONG(order="limit", price=1.0900)})
    assert raw.n_trades == 0 and raw.dropped_orders == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_reversal_into_a_pending_order(engine: str) -> None:
    # long at bar 1's open; at close 1 Close + a short limit 1.1010: the exit fills at bar 2's
    # open, then the limit works from bar 2, whose bid high 1.1012 reaches it
    rows = [FLAT, FLAT, (1.1000, 1.1012, 1.0999, 1.1005), FLAT]
    bars = make_bars(rows)
    settings = EngineSettings(
        primary_timeframe=Timeframe.M1, timeframes=(Timeframe.M1,), instrument=Instrument()
    )
    strategy = ScriptedStrategy({0: LONG(), 1: SHORT(order="limit", price=1.1010)}, {1: Close()})
    runner = run_python if engine == "python" else run_hybrid
    first, second = rows_of(runner(bars, strategy, settings))
    assert (first["exit_reason"], first["exit_index"]) == ("strategy", 2)
    assert (second["side"], second["entry_price"], second["entry_index"]) == (-1, 1.1010, 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_risk_sizing_of_a_pending_fill_uses_its_fill_price(engine: str) -> None:
    rows = [FLAT, (1.1000, 1.1004, 1.0986, 1.0995), FLAT]
    sizing = SizingSettings(mode="risk_percent", risk_percent=1.0)
    signal = LONG(order="limit", price=1.0990, stop_loss=1.0970)
    t = only(run(engine, rows, {0: signal}, sizing=sizing))
    risk = 100_000.0 * (1.0 / 100.0)
    per_lot = (1.0990 - 1.0970) * CS
    assert t["size"] == math.floor(risk / per_lot / 0.01) * 0.01


def test_manage_order_sees_the_working_order() -> None:
    strategy = ScriptedStrategy({0: LONG(order="stop", price=1.1100, expiry_bars=3)})
    settings = EngineSettings(
        primary_timeframe=Timeframe.M1, timeframes=(Timeframe.M1,), instrument=Instrument()
    )
    run_python(make_bars([FLAT] * 5), strategy, settings)
    # called at closes 1 and 2 (bar 3 expires it before its close)
    assert strategy.orders_seen == [(1, "stop", 1.1100, 2), (2, "stop", 1.1100, 1)]


# --------------------------------------------------------------------------------------------
# checks


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"order": "limit"}, "needs a price"),
        ({"order": "market", "price": 1.1}, "limit and stop entries only"),
        ({"expiry_bars": 2}, "limit and stop entries only"),
        ({"order": "stop", "price": 1.1, "expiry_bars": 0}, "expiry_bars must be an int >= 1"),
        ({"order": "stop", "price": -1.0}, "price must be finite and > 0"),
        ({"order": "iceberg", "price": 1.1}, "order must be one of"),
        ({"order": "limit", "price": 1.1, "expires_at": 1.5}, "expires_at must be an int"),
    ],
)
def test_invalid_pending_signals_are_named(fields: dict, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        TradeSignal.long(**fields)


def test_invalid_order_actions_are_named() -> None:
    with pytest.raises(StrategyError, match=r"ModifyOrder\.price"):
        ModifyOrder(float("nan"))
    with pytest.raises(StrategyError, match=r"ModifyOrder\.price"):
        ModifyOrder(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_manage_order_returning_something_else_is_a_strategy_error(engine: str) -> None:
    rows = [FLAT, FLAT, FLAT]
    with pytest.raises(StrategyError, match="manage_order returned"):
        run(engine, rows, {0: LONG(order="limit", price=1.09)}, {1: "cancel"})

"""Hand-built execution cases: every expected fill is worked out from docs/engine/execution.md.

Bars are tiny and explicit; a `ScriptedStrategy` emits the signal/action of each case at a
given bar. Unless a case says otherwise: EURUSD (pip 0.0001, 100,000 units per lot, lot step
and min lot 0.01), primary = base = M1, ask = bid + 0.0002, fixed sizing 1 lot, no fees, no
slippage, balance 100,000 USD. A signal decided at the close of bar i fills at the open of i+1.
Expected prices are written as the contract's formulas with the numbers plugged in (the same
IEEE operations the contract prescribes), so the comparisons are exact (==).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from omega.data.bars import BarSeries, Instrument
from omega.engine.loop import run_python
from omega.engine.raw import RawRun
from omega.engine.settings import (
    BreakEvenSettings,
    EngineSettings,
    FeeSettings,
    SizingSettings,
    SlippageSettings,
    TrailingSettings,
)
from omega.errors import ConfigError, StrategyError
from omega.strategy import (
    Close,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    PartialClose,
    ScriptedStrategy,
    TradeSignal,
)
from omega.timeframes import Timeframe

SPREAD = 0.0002
PIP = 0.0001
CS = 100_000.0
MIN = 60_000_000_000  # one minute in ns
M1, M5 = Timeframe.M1, Timeframe.M5
FLAT = (1.1000, 1.1005, 1.0995, 1.1000)  # bid o, h, l, c
LONG, SHORT = TradeSignal.long, TradeSignal.short


def ask(bid: float, spread: float = SPREAD) -> float:
    """The ask of a bid price in these bars (ask = bid + spread, one addition)."""
    return bid + spread


def make_bars(
    rows: Sequence[Sequence[float]],
    *,
    spread: float = SPREAD,
    instrument: Instrument | None = None,
    times: Sequence[int] | None = None,
) -> BarSeries:
    """M1 bars from bid (o, h, l, c) rows; ask = bid + spread on every field."""
    bid = np.array(rows, dtype=np.float64)
    t = np.array(times if times is not None else [i * MIN for i in range(len(rows))])
    return BarSeries(
        t,
        *bid.T,
        *(bid + spread).T,
        np.zeros(len(rows)),
        timeframe=M1,
        instrument=instrument or Instrument(),
    )


def run(
    rows: Sequence[Sequence[float]],
    signals: dict | None = None,
    actions: dict | None = None,
    *,
    primary: Timeframe = M1,
    spread: float = SPREAD,
    instrument: Instrument | None = None,
    strategy: ScriptedStrategy | None = None,
    trace: bool = False,
    **settings: object,
) -> RawRun:
    instrument = instrument or Instrument()
    bars = make_bars(rows, spread=spread, instrument=instrument)
    engine_settings = EngineSettings(
        primary_timeframe=primary, timeframes=(primary,), instrument=instrument, **settings
    )
    strategy = strategy or ScriptedStrategy(signals, actions)
    return run_python(bars, strategy, engine_settings, trace=trace)


def trades(raw: RawRun) -> list[dict]:
    cols = raw.trades
    return [{name: cols[name][k] for name in cols} for k in range(raw.n_trades)]


def only(raw: RawRun) -> dict:
    rows = trades(raw)
    assert len(rows) == 1, rows
    return rows[0]


def gross_long(entry: float, exit_: float, lots: float = 1.0) -> float:
    """Contract: long gross = (price - entry) * lots * cs (account = quote currency)."""
    return (exit_ - entry) * lots * CS


def gross_short(entry: float, exit_: float, lots: float = 1.0) -> float:
    return (entry - exit_) * lots * CS


# --------------------------------------------------------------------------------------------
# fills at the open, end of data, equity


def test_long_fills_at_ask_open_and_ends_at_bid_close() -> None:
    rows = [FLAT, (1.1010, 1.1020, 1.1005, 1.1015), (1.1015, 1.1025, 1.1010, 1.1020)]
    raw = run(rows, {0: LONG()})
    t = only(raw)
    entry = ask(1.1010)  # buy at ask_open of bar 1
    assert (t["entry_index"], t["entry_time"], t["entry_price"]) == (1, 1 * MIN, entry)
    # end_of_data: long closes at the last bid close, exit time = last open + M1
    assert (t["exit_reason"], t["exit_price"]) == ("end_of_data", 1.1020)
    assert (t["exit_index"], t["exit_time"]) == (2, 3 * MIN)
    assert t["bars_held"] == 2 and t["size"] == 1.0 and t["side"] == 1
    assert math.isnan(t["sl"]) and math.isnan(t["tp"]) and t["tag"] == ""
    assert t["gross_pnl"] == gross_long(entry, 1.1020) and t["fees"] == 0.0
    assert t["pnl"] == t["gross_pnl"]
    # mfe = max over the held bars of bid_high - entry: bar 2's 1.1025 is the best
    assert t["mfe"] == 1.1025 - entry
    # equity: flat at bar 0; bar 1 marked at bid close; the last point = final balance
    assert raw.equity.tolist() == [
        100_000.0,
        100_000.0 + gross_long(entry, 1.1015),
        100_000.0 + gross_long(entry, 1.1020),
    ]
    assert raw.final_balance == raw.equity[-1]
    assert raw.equity_time.tolist() == [0, MIN, 2 * MIN]


def test_short_fills_at_bid_open_and_ends_at_ask_close() -> None:
    rows = [FLAT, (1.1010, 1.1020, 1.1005, 1.1015), (1.1015, 1.1025, 1.1010, 1.1020)]
    t = only(run(rows, {0: SHORT()}))
    assert (t["side"], t["entry_price"]) == (-1, 1.1010)  # sell at bid_open
    assert (t["exit_reason"], t["exit_price"]) == ("end_of_data", ask(1.1020))  # ask close
    assert t["gross_pnl"] == gross_short(1.1010, ask(1.1020))
    # short mfe = entry - ask_low; bar 1's ask low 1.1007 is the best (bar 2: 1.1012)
    assert t["mfe"] == 1.1010 - ask(1.1005)


def test_short_equity_is_marked_at_the_ask_close() -> None:
    rows = [FLAT, (1.1010, 1.1020, 1.1005, 1.1015), FLAT]
    raw = run(rows, {0: SHORT()})
    assert raw.equity[1] == 100_000.0 + gross_short(1.1010, ask(1.1015))


def test_absolute_stop_and_target_are_stored_on_the_trade() -> None:
    rows = [FLAT, FLAT, FLAT]
    t = only(run(rows, {0: LONG(stop_loss=1.0900, take_profit=1.1100, tag="abs")}))
    assert (t["sl"], t["tp"], t["tag"]) == (1.0900, 1.1100, "abs")


# --------------------------------------------------------------------------------------------
# stop-loss and take-profit touches


def test_long_stop_loss_touched_fills_at_the_level() -> None:
    rows = [FLAT, (1.1000, 1.1004, 1.0989, 1.0995), FLAT]
    t = only(run(rows, {0: LONG(stop_loss=1.0990)}))
    # bid_low 1.0989 <= 1.0990: exit at the SL itself, on the entry bar
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.0990)
    assert (t["exit_index"], t["exit_time"], t["bars_held"]) == (1, 1 * MIN, 0)


def test_touch_counts_when_the_low_equals_the_stop() -> None:
    rows = [FLAT, (1.1000, 1.1004, 1.0990, 1.0995), FLAT]
    t = only(run(rows, {0: LONG(stop_loss=1.0990)}))
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.0990)


def test_long_take_profit_touched_fills_at_the_level() -> None:
    rows = [FLAT, (1.1000, 1.1010, 1.0998, 1.1005), FLAT]
    t = only(run(rows, {0: LONG(take_profit=1.1010)}))  # bid_high 1.1010 >= 1.1010
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", 1.1010)


def test_short_stop_loss_is_checked_against_the_ask_high() -> None:
    # bid high 1.1009 stays below the SL, but the ask high 1.1011 reaches it
    rows = [FLAT, (1.1000, 1.1009, 1.0995, 1.1000), FLAT]
    t = only(run(rows, {0: SHORT(stop_loss=1.1010)}))
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.1010)


def test_short_take_profit_touched_at_the_ask_low() -> None:
    rows = [FLAT, (1.1000, 1.1003, 1.0987, 1.0995), FLAT]  # ask low 1.0989 <= 1.0990
    t = only(run(rows, {0: SHORT(take_profit=1.0990)}))
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", 1.0990)


def test_short_take_profit_needs_the_ask_not_the_bid() -> None:
    rows = [FLAT, (1.1000, 1.1003, 1.0989, 1.0995), FLAT]  # bid low 1.0989, ask low 1.0991
    t = only(run(rows, {0: SHORT(take_profit=1.0990)}))
    assert t["exit_reason"] == "end_of_data"


# --------------------------------------------------------------------------------------------
# both levels inside one bar: intrabar policies

BOTH_LONG = [FLAT, (1.1000, 1.1012, 1.0988, 1.1000), FLAT]
BOTH_SHORT = [FLAT, (1.1000, 1.1010, 1.0985, 1.1000), FLAT]  # ask 1.1002 .. 1.1012 / 1.0987


@pytest.mark.parametrize(
    ("policy", "reason", "price"),
    [("pessimistic", "stop_loss", 1.0990), ("optimistic", "take_profit", 1.1010)],
)
def test_long_both_touched_policy(policy: str, reason: str, price: float) -> None:
    t = only(
        run(BOTH_LONG, {0: LONG(stop_loss=1.0990, take_profit=1.1010)}, intrabar_policy=policy)
    )
    assert (t["exit_reason"], t["exit_price"]) == (reason, price)


@pytest.mark.parametrize(
    ("policy", "reason", "price"),
    [("pessimistic", "stop_loss", 1.1010), ("optimistic", "take_profit", 1.0990)],
)
def test_short_both_touched_policy(policy: str, reason: str, price: float) -> None:
    # ask high 1.1012 >= SL 1.1010 and ask low 1.0987 <= TP 1.0990
    signal = SHORT(stop_loss=1.1010, take_profit=1.0990)
    t = only(run(BOTH_SHORT, {0: signal}, intrabar_policy=policy))
    assert (t["exit_reason"], t["exit_price"]) == (reason, price)


def test_finer_with_primary_equal_to_base_is_pessimistic() -> None:
    t = only(
        run(BOTH_LONG, {0: LONG(stop_loss=1.0990, take_profit=1.1010)}, intrabar_policy="finer")
    )
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.0990)


def five(*rows: tuple[float, float, float, float]) -> list:
    """M1 rows of one M5 primary bar (pads with FLAT-like bars at the previous close)."""
    rows = list(rows)
    while len(rows) < 5:
        c = rows[-1][3]
        rows.append((c, c, c, c))
    return rows


def finer_run(inner: list, signal: TradeSignal, policy: str) -> dict:
    """Primary M5 over M1 base: bar 0 flat, bar 1 = ``inner`` (5 M1 bars), bar 2 flat."""
    rows = five(FLAT) + five(*inner) + five(FLAT)
    return only(run(rows, {0: signal}, primary=M5, intrabar_policy=policy))


TP_THEN_SL = [
    (1.1000, 1.1004, 1.0996, 1.1003),
    (1.1003, 1.1011, 1.1001, 1.1008),  # minute 6: TP 1.1010 touched
    (1.1008, 1.1009, 1.0985, 1.0990),  # minute 7: SL 1.0990 touched
    FLAT,
    FLAT,
]


def test_finer_walks_the_base_bars_and_finds_the_take_profit_first() -> None:
    t = finer_run(TP_THEN_SL, LONG(stop_loss=1.0990, take_profit=1.1010), "finer")
    # exit time = open of the finer bar that hit (minute 6), exit index = primary bar 1
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", 1.1010)
    assert (t["exit_time"], t["exit_index"], t["entry_time"]) == (6 * MIN, 1, 5 * MIN)


def test_same_bars_pessimistic_take_the_stop_at_the_primary_open_time() -> None:
    t = finer_run(TP_THEN_SL, LONG(stop_loss=1.0990, take_profit=1.1010), "pessimistic")
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == ("stop_loss", 1.0990, 5 * MIN)


def test_finer_finds_the_stop_first() -> None:
    inner = [TP_THEN_SL[0], TP_THEN_SL[2], TP_THEN_SL[1], FLAT, FLAT]  # SL minute 6, TP minute 7
    t = finer_run(inner, LONG(stop_loss=1.0990, take_profit=1.1010), "finer")
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == ("stop_loss", 1.0990, 6 * MIN)
    t = finer_run(inner, LONG(stop_loss=1.0990, take_profit=1.1010), "optimistic")
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == ("take_profit", 1.1010, 5 * MIN)


def test_finer_both_inside_one_finer_bar_is_the_stop() -> None:
    inner = [(1.1000, 1.1004, 1.0996, 1.1003), (1.1003, 1.1012, 1.0988, 1.1000)]
    t = finer_run(five(*inner), LONG(stop_loss=1.0990, take_profit=1.1010), "finer")
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == ("stop_loss", 1.0990, 6 * MIN)


def test_finer_short_take_profit_first() -> None:
    inner = [
        (1.1000, 1.1003, 1.0996, 1.1000),
        (1.1000, 1.1003, 1.0985, 1.0990),  # ask low 1.0987 <= TP 1.0990
        (1.0990, 1.1010, 1.0989, 1.1000),  # ask high 1.1012 >= SL 1.1010
    ]
    t = finer_run(five(*inner), SHORT(stop_loss=1.1010, take_profit=1.0990), "finer")
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == ("take_profit", 1.0990, 6 * MIN)


def test_finer_gap_at_a_finer_open_fills_at_that_open() -> None:
    # minute 6 opens at 1.0985, already below the SL (minute 5's low 1.0996 did not touch):
    # the exit fills at that finer open, not at the level
    inner = [(1.1000, 1.1004, 1.0996, 1.1003), (1.0985, 1.1012, 1.0980, 1.1000)]
    t = finer_run(five(*inner), LONG(stop_loss=1.0990, take_profit=1.1010), "finer")
    assert (t["exit_reason"], t["exit_price"], t["exit_time"]) == ("stop_loss", 1.0985, 6 * MIN)


# --------------------------------------------------------------------------------------------
# gaps at the primary open

FIXED_HALF_PIP = SlippageSettings(model="fixed", pips=0.5)
HALF_PIP = 0.5 * PIP  # fixed slip = pips * pip


def test_long_gap_through_stop_fills_at_the_open_minus_slippage() -> None:
    rows = [FLAT, FLAT, (1.0980, 1.0985, 1.0975, 1.0982), FLAT]
    t = only(run(rows, {0: LONG(stop_loss=1.0990)}, slippage=FIXED_HALF_PIP))
    assert t["entry_price"] == ask(1.1000) + HALF_PIP  # buy at ask_open + slip
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.0980 - HALF_PIP)
    assert (t["exit_index"], t["exit_time"], t["bars_held"]) == (2, 2 * MIN, 1)


def test_long_gap_through_target_fills_at_the_open_without_slippage() -> None:
    rows = [FLAT, FLAT, (1.1020, 1.1025, 1.1015, 1.1022), FLAT]
    t = only(run(rows, {0: LONG(take_profit=1.1010)}, slippage=FIXED_HALF_PIP))
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", 1.1020)


def test_short_gap_through_stop_fills_at_the_ask_open_plus_slippage() -> None:
    rows = [FLAT, FLAT, (1.1015, 1.1020, 1.1012, 1.1016), FLAT]  # ask open 1.1017 >= 1.1010
    t = only(run(rows, {0: SHORT(stop_loss=1.1010)}, slippage=FIXED_HALF_PIP))
    assert t["entry_price"] == 1.1000 - HALF_PIP  # sell at bid_open - slip
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", ask(1.1015) + HALF_PIP)


def test_short_gap_through_target_fills_at_the_ask_open() -> None:
    rows = [FLAT, FLAT, (1.0980, 1.0985, 1.0975, 1.0982), FLAT]  # ask open 1.0982 <= 1.0990
    t = only(run(rows, {0: SHORT(take_profit=1.0990)}))
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", ask(1.0980))


def test_gap_is_checked_before_touches() -> None:
    # opens below the SL and the same bar's high reaches the TP: the SL gap wins
    rows = [FLAT, FLAT, (1.0980, 1.1015, 1.0975, 1.1012), FLAT]
    t = only(
        run(rows, {0: LONG(stop_loss=1.0990, take_profit=1.1010)}, intrabar_policy="optimistic")
    )
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.0980)


# --------------------------------------------------------------------------------------------
# exits on the entry bar, distances


def test_entry_bar_stop_from_a_distance() -> None:
    rows = [FLAT, (1.1000, 1.1004, 1.0990, 1.0995), FLAT]
    t = only(run(rows, {0: LONG(stop_loss_distance=0.0010)}))
    sl = ask(1.1000) - 0.0010  # long sl = fill - d
    assert (t["exit_reason"], t["exit_price"], t["sl"]) == ("stop_loss", sl, sl)
    assert (t["entry_index"], t["exit_index"], t["bars_held"], t["mfe"]) == (1, 1, 0, 0.0)


def test_entry_bar_stop_inside_the_spread_gaps_at_the_bid_open() -> None:
    # sl = 1.1002 - 0.0001 = 1.1001 is above the bid open 1.1000: gapped at once
    rows = [FLAT, FLAT, FLAT]
    t = only(run(rows, {0: LONG(stop_loss_distance=0.0001)}))
    assert (t["exit_reason"], t["exit_price"], t["exit_index"]) == ("stop_loss", 1.1000, 1)
    assert t["pnl"] == gross_long(ask(1.1000), 1.1000)


def test_short_target_from_a_distance_on_the_entry_bar() -> None:
    rows = [FLAT, (1.1000, 1.1003, 1.0985, 1.0995), FLAT]  # ask low 1.0987
    t = only(run(rows, {0: SHORT(take_profit_distance=0.0010)}))
    tp = 1.1000 - 0.0010  # short tp = fill - d_tp
    assert (t["exit_reason"], t["exit_price"], t["tp"]) == ("take_profit", tp, tp)


# --------------------------------------------------------------------------------------------
# declarative management: trailing and break-even

TRAIL_10 = TrailingSettings(distance=10.0)


def test_trailing_stop_follows_a_long_and_is_hit() -> None:
    rows = [
        FLAT,
        (1.1000, 1.1010, 1.0998, 1.1008),  # close: cand = 1.1008 - 10 pips -> SL
        (1.1008, 1.1020, 1.1005, 1.1018),  # low above SL; close: SL -> 1.1018 - 10 pips
        (1.1018, 1.1019, 1.1000, 1.1003),  # low 1.1000 <= 1.1008: stopped out at the SL
        FLAT,
    ]
    t = only(run(rows, {0: LONG()}, trailing=TRAIL_10))
    level = 1.1018 - 10.0 * PIP
    assert (t["exit_reason"], t["exit_price"], t["sl"]) == ("stop_loss", level, level)
    assert (t["exit_index"], t["bars_held"]) == (3, 2)


def test_trailing_never_loosens_the_stop() -> None:
    rows = [FLAT, (1.1000, 1.1008, 1.1000, 1.1005), (1.1005, 1.1008, 1.1000, 1.1004)]
    # candidates 1.1005 - 10 pips and 1.1004 - 10 pips are below the SL 1.0999: unchanged
    t = only(run(rows, {0: LONG(stop_loss=1.0999)}, trailing=TRAIL_10))
    assert (t["exit_reason"], t["sl"]) == ("end_of_data", 1.0999)


def test_trailing_stop_follows_a_short_from_the_ask_close() -> None:
    rows = [
        FLAT,
        (1.1000, 1.1002, 1.0990, 1.0992),  # ask close 1.0994: SL = 1.0994 + 10 pips
        (1.0992, 1.1003, 1.0990, 1.1000),  # ask high 1.1005 >= 1.1004
        FLAT,
    ]
    t = only(run(rows, {0: SHORT()}, trailing=TRAIL_10))
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", ask(1.0992) + 10.0 * PIP)


BE_5_1 = BreakEvenSettings(trigger=5.0, offset=1.0)


def test_break_even_moves_a_long_stop_and_is_hit() -> None:
    rows = [
        FLAT,
        (1.1000, 1.1010, 1.0998, 1.1008),  # close - entry = 1.1008 - 1.1002 >= 5 pips
        (1.1008, 1.1009, 1.1000, 1.1001),  # low 1.1000 <= entry + 1 pip
        FLAT,
    ]
    t = only(run(rows, {0: LONG(stop_loss=1.0980)}, break_even=BE_5_1))
    level = ask(1.1000) + 1.0 * PIP  # new = entry + offset_pips * pip
    assert (t["exit_reason"], t["exit_price"], t["exit_index"]) == ("stop_loss", level, 2)


def test_break_even_moves_a_short_stop_from_the_ask_close() -> None:
    rows = [
        FLAT,
        (1.1000, 1.1001, 1.0988, 1.0990),  # entry 1.1000 - ask close 1.0992 = 8 pips >= 5
        (1.0990, 1.0998, 1.0985, 1.0995),  # ask high 1.1000 >= 1.1000 - 1 pip
        FLAT,
    ]
    t = only(run(rows, {0: SHORT(stop_loss=1.1020)}, break_even=BE_5_1))
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.1000 - 1.0 * PIP)


def test_break_even_below_its_trigger_does_nothing() -> None:
    rows = [FLAT, (1.1000, 1.1006, 1.0998, 1.1005), FLAT]  # 1.1005 - 1.1002 = 3 pips < 5
    t = only(run(rows, {0: LONG(stop_loss=1.0980)}, break_even=BE_5_1))
    assert t["sl"] == 1.0980


def test_break_even_fires_once_per_position() -> None:
    rows = [
        FLAT,
        (1.1000, 1.1010, 1.0998, 1.1008),  # fires: SL = 1.1003
        (1.1008, 1.1015, 1.1005, 1.1012),  # strategy lowers the SL to 1.0950 at the close
        (1.1012, 1.1020, 1.1004, 1.1018),  # trigger true again, but it is not re-evaluated
    ]
    raw = run(
        rows,
        {0: LONG(stop_loss=1.0980)},
        {2: ModifyStopLoss(1.0950)},
        break_even=BE_5_1,
        trace=True,
    )
    t = only(raw)
    assert (t["exit_reason"], t["sl"]) == ("end_of_data", 1.0950)
    assert [r["event"] for r in raw.trace] == ["signal_long", "break_even", "modify_sl", "none"]


# --------------------------------------------------------------------------------------------
# partial closes


def test_partial_close_splits_the_trade_and_its_fees() -> None:
    rows = [FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012), (1.1012, 1.1016, 1.1008, 1.1014)]
    fees = FeeSettings(commission_per_lot=2.0)
    raw = run(rows, {0: LONG()}, {1: PartialClose(0.5)}, fees=fees)
    first, last = trades(raw)
    entry = ask(1.1000)
    # q = floor(1.0 * 0.5 / 0.01) * 0.01 = 50 * 0.01 lots, sold at bid_open of bar 2
    q = 50 * 0.01
    assert (first["exit_reason"], first["size"], first["exit_price"]) == ("partial", q, 1.1010)
    assert (first["exit_index"], first["exit_time"]) == (2, 2 * MIN)
    partial_fee = q * 2.0 + (q * CS * 1.1010) * (0.0 / 100.0)
    assert first["fees"] == partial_fee  # no entry fee on a partial row
    assert first["gross_pnl"] == gross_long(entry, 1.1010, q)
    rest = 1.0 - q
    assert (last["exit_reason"], last["size"], last["exit_price"]) == ("end_of_data", rest, 1.1014)
    entry_fee = 1.0 * 2.0 + (1.0 * CS * entry) * (0.0 / 100.0)
    exit_fee = rest * 2.0 + (rest * CS * 1.1014) * (0.0 / 100.0)
    assert last["fees"] == entry_fee + exit_fee  # the whole entry fee on the closing row
    balance = 100_000.0 - entry_fee
    balance = balance + gross_long(entry, 1.1010, q)
    balance = balance - partial_fee
    balance = balance + gross_long(entry, 1.1014, rest)
    balance = balance - exit_fee
    assert raw.final_balance == balance


def test_partial_close_below_the_lot_step_is_skipped() -> None:
    rows = [FLAT, FLAT, FLAT, FLAT]
    # q = floor(0.01 * 0.5 / 0.01) * 0.01 = floor(0.5) * 0.01 = 0
    raw = run(rows, {0: LONG(size=0.01)}, {1: PartialClose(0.5)})
    t = only(raw)
    assert (t["exit_reason"], t["size"]) == ("end_of_data", 0.01)
    [skip] = raw.skipped_orders
    assert (skip.reason, skip.time) == ("partial_below_lot_step", 2 * MIN)


def test_partial_close_of_everything_is_a_full_strategy_close() -> None:
    rows = [FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012), FLAT]
    t = only(run(rows, {0: LONG()}, {1: PartialClose(1.0)}))
    assert (t["exit_reason"], t["size"], t["exit_price"]) == ("strategy", 1.0, 1.1010)


def test_signal_while_a_partial_close_is_pending_is_ignored() -> None:
    rows = [FLAT, FLAT, FLAT, FLAT]
    raw = run(rows, {0: LONG(), 1: SHORT()}, {1: PartialClose(0.5)})
    assert raw.ignored_signals == 1
    assert [t["side"] for t in trades(raw)] == [1, 1]


# --------------------------------------------------------------------------------------------
# sizing


def test_size_below_min_lot_is_skipped() -> None:
    raw = run([FLAT, FLAT, FLAT], {0: LONG(size=0.005, tag="tiny")})
    assert raw.n_trades == 0
    [skip] = raw.skipped_orders
    assert (skip.reason, skip.time, skip.detail) == ("below_min_lot", 1 * MIN, "tiny")


RISK_1 = SizingSettings(mode="risk_percent", risk_percent=1.0)


@pytest.mark.parametrize(
    ("pct", "lots"),
    [
        # risk = 100000 * (1 / 100) = 1000; per lot = 0.0030 * 100000 = 300; 1000/300 = 3.33..
        (1.0, 333 * 0.01),
        # 500 / 300 = 1.666..: rounded down to the lot step, not to the nearest
        (0.5, 166 * 0.01),
    ],
)
def test_risk_sizing_rounds_down_to_the_lot_step(pct: float, lots: float) -> None:
    sizing = SizingSettings(mode="risk_percent", risk_percent=pct)
    t = only(run([FLAT, FLAT, FLAT], {0: LONG(stop_loss_distance=0.0030)}, sizing=sizing))
    assert t["size"] == lots


def test_risk_sizing_without_a_stop_is_skipped() -> None:
    raw = run([FLAT, FLAT, FLAT], {0: LONG()}, sizing=RISK_1)
    assert raw.n_trades == 0 and [s.reason for s in raw.skipped_orders] == ["no_stop_loss"]


def test_risk_sizing_with_a_stop_beyond_the_fill_is_skipped() -> None:
    # a long's absolute SL above its fill: dist = fill - sl <= 0
    raw = run([FLAT, FLAT, FLAT], {0: LONG(stop_loss=1.1010)}, sizing=RISK_1)
    assert [s.reason for s in raw.skipped_orders] == ["no_stop_loss"]


def test_risk_sizing_below_min_lot_is_skipped() -> None:
    # risk = 100000 * 0.001 / 100 = 1.0; 1 / 300 / 0.01 = 0.33 -> 0 lots
    sizing = SizingSettings(mode="risk_percent", risk_percent=0.001)
    raw = run([FLAT, FLAT, FLAT], {0: LONG(stop_loss_distance=0.0030)}, sizing=sizing)
    assert [s.reason for s in raw.skipped_orders] == ["below_min_lot"]


def test_signal_risk_percent_wins_over_fixed_mode() -> None:
    t = only(run([FLAT, FLAT, FLAT], {0: LONG(stop_loss_distance=0.0030, risk_percent=1.0)}))
    assert t["size"] == 333 * 0.01


def test_signal_size_wins_over_risk_mode() -> None:
    t = only(run([FLAT, FLAT, FLAT], {0: LONG(size=0.7)}, sizing=RISK_1))
    assert t["size"] == 0.7


def test_fixed_mode_uses_the_configured_lots() -> None:
    t = only(run([FLAT, FLAT, FLAT], {0: LONG()}, sizing=SizingSettings(lots=2.5)))
    assert t["size"] == 2.5


# --------------------------------------------------------------------------------------------
# slippage models


def test_fixed_slippage_on_entry_and_stop_but_not_on_target() -> None:
    rows = [FLAT, (1.1000, 1.1004, 1.0985, 1.0990), FLAT]
    t = only(run(rows, {0: LONG(stop_loss=1.0990)}, slippage=FIXED_HALF_PIP))
    assert (t["entry_price"], t["exit_price"]) == (ask(1.1000) + HALF_PIP, 1.0990 - HALF_PIP)
    rows = [FLAT, (1.1000, 1.1015, 1.0998, 1.1010), FLAT]
    t = only(run(rows, {0: LONG(take_profit=1.1010)}, slippage=FIXED_HALF_PIP))
    assert (t["exit_reason"], t["exit_price"]) == ("take_profit", 1.1010)


# SplitMix64 seeded with 0: first outputs from the reference implementation (see test_engine_prng)
U0 = (0xE220A8397B1DCDAF >> 11) * 2.0**-53
U1 = (0x6E789E6AA1B965F4 >> 11) * 2.0**-53
RANDOM_1_PIP = SlippageSettings(model="random", pips=1.0, seed=0)


def test_random_slippage_draws_in_fill_order() -> None:
    rows = [FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012), FLAT]
    t = only(run(rows, {0: LONG()}, {1: Close()}, slippage=RANDOM_1_PIP))
    assert t["entry_price"] == ask(1.1000) + U0 * 1.0 * PIP  # first draw: the entry
    assert (t["exit_reason"], t["exit_price"]) == ("strategy", 1.1010 - U1 * 1.0 * PIP)


def test_a_skipped_order_takes_no_random_draw() -> None:
    rows = [FLAT, FLAT, FLAT, FLAT]
    raw = run(rows, {0: LONG(size=0.001), 2: LONG()}, slippage=RANDOM_1_PIP)
    t = only(raw)
    assert t["entry_index"] == 3 and t["entry_price"] == ask(1.1000) + U0 * 1.0 * PIP


ATR_ROWS = [
    (1.1000, 1.1010, 1.0990, 1.1000),
    (1.1000, 1.1020, 1.1000, 1.1010),  # TR1 = high - low = 1.1020 - 1.1000
    (1.1010, 1.1016, 1.1006, 1.1012),  # TR2 = high - low = 1.1016 - 1.1006 (> 6, 4 pips)
    FLAT,
    FLAT,
]
ATR_HALF = SlippageSettings(model="atr", atr_fraction=0.5, atr_period=2)


def test_atr_slippage_uses_the_atr_of_the_last_closed_bar() -> None:
    t = only(run(ATR_ROWS, {2: LONG()}, slippage=ATR_HALF))
    # ATR(2) first value at bar 2 = (TR1 + TR2) / 2 (running sum, then divide)
    atr_2 = ((1.1020 - 1.1000) + (1.1016 - 1.1006)) / 2
    assert t["entry_index"] == 3
    assert t["entry_price"] == ask(1.1000) + 0.5 * atr_2


def test_atr_slippage_is_zero_while_the_atr_is_nan() -> None:
    t = only(run(ATR_ROWS, {0: LONG()}, slippage=ATR_HALF))  # fills at bar 1; ATR[0] is NaN
    assert t["entry_price"] == ask(1.1000)


# --------------------------------------------------------------------------------------------
# fees and currency conversion


def test_commission_and_percent_of_notional_fees() -> None:
    rows = [FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012)]
    fees = FeeSettings(commission_per_lot=3.5, percent_of_notional=0.002)
    raw = run(rows, {0: LONG(size=2.0)}, fees=fees)
    t = only(raw)
    entry = ask(1.1000)
    entry_fee = 2.0 * 3.5 + (2.0 * CS * entry) * (0.002 / 100.0)  # about 7 + 4.4
    exit_fee = 2.0 * 3.5 + (2.0 * CS * 1.1012) * (0.002 / 100.0)
    gross = gross_long(entry, 1.1012, 2.0)
    assert (t["fees"], t["gross_pnl"]) == (entry_fee + exit_fee, gross)
    assert t["pnl"] == gross - (entry_fee + exit_fee)
    assert raw.final_balance == ((100_000.0 - entry_fee) + gross) - exit_fee
    # the entry fee is charged at the fill: bar 1's equity already lacks it
    assert raw.equity[1] == (100_000.0 - entry_fee) + gross_long(entry, 1.1000, 2.0)


USDJPY = Instrument.for_symbol("USDJPY")  # pip 0.01, base USD, quote JPY
JPY_ROWS = [
    (150.00, 150.05, 149.95, 150.00),
    (150.00, 150.30, 149.90, 150.20),
    (150.20, 150.60, 150.10, 150.50),
]


def test_usdjpy_with_a_usd_account_converts_at_the_exit_price() -> None:
    fees = FeeSettings(commission_per_lot=3.5, percent_of_notional=0.001)
    raw = run(JPY_ROWS, {0: LONG()}, instrument=USDJPY, spread=0.02, fees=fees)
    t = only(raw)
    entry = 150.00 + 0.02
    # to_account(x, rate) = x / rate when the account is the base currency
    gross = ((150.50 - entry) * 1.0 * CS) / 150.50
    entry_fee = 1.0 * 3.5 + ((1.0 * CS * entry) / entry) * (0.001 / 100.0)
    exit_fee = 1.0 * 3.5 + ((1.0 * CS * 150.50) / 150.50) * (0.001 / 100.0)
    assert (t["gross_pnl"], t["fees"]) == (gross, entry_fee + exit_fee)
    assert raw.equity[1] == (100_000.0 - entry_fee) + ((150.20 - entry) * 1.0 * CS) / 150.20


def test_usdjpy_short_converts_at_the_ask() -> None:
    t = only(run(JPY_ROWS, {0: SHORT()}, instrument=USDJPY, spread=0.02))
    exit_ = 150.50 + 0.02
    assert t["gross_pnl"] == ((150.00 - exit_) * 1.0 * CS) / exit_


def test_eurusd_with_a_eur_account_divides_by_the_rate() -> None:
    rows = [FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012)]
    bars = make_bars(rows)
    settings = EngineSettings(primary_timeframe=M1, timeframes=(M1,), account_currency="EUR")
    raw = run_python(bars, ScriptedStrategy({0: LONG()}), settings)
    assert only(raw)["gross_pnl"] == ((1.1012 - ask(1.1000)) * 1.0 * CS) / 1.1012


def test_a_cross_currency_account_is_a_config_error() -> None:
    eurgbp = Instrument.for_symbol("EURGBP")
    with pytest.raises(ConfigError, match=r"USD.*EURGBP"):
        run([FLAT, FLAT], {0: LONG()}, instrument=eurgbp)


# --------------------------------------------------------------------------------------------
# order bookkeeping: reversal, ignored and dropped orders, max bars


def test_reversal_fills_the_exit_then_the_entry_at_the_same_open() -> None:
    rows = [FLAT, FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012), (1.1012, 1.1016, 1.1008, 1.1014)]
    raw = run(rows, {0: LONG(), 2: SHORT(tag="rev")}, {2: Close()})
    first, second = trades(raw)
    assert (first["exit_reason"], first["exit_price"], first["exit_time"]) == (
        "strategy",
        1.1010,
        3 * MIN,
    )
    assert (second["side"], second["entry_price"], second["entry_time"]) == (-1, 1.1010, 3 * MIN)
    assert (second["exit_reason"], second["exit_price"], second["tag"]) == (
        "end_of_data",
        ask(1.1014),
        "rev",
    )
    assert raw.ignored_signals == 0


def test_signal_while_in_a_position_is_ignored() -> None:
    raw = run([FLAT, FLAT, FLAT, FLAT], {0: LONG(), 1: LONG(), 2: SHORT()}, trace=True)
    assert raw.n_trades == 1 and raw.ignored_signals == 2
    assert [r["event"] for r in raw.trace] == [
        "signal_long",
        "ignored_signal",
        "ignored_signal",
        "none",
    ]


def test_signal_after_a_stop_out_on_the_same_bar_is_taken() -> None:
    rows = [FLAT, (1.1000, 1.1004, 1.0985, 1.0990), FLAT, FLAT]
    raw = run(rows, {0: LONG(stop_loss=1.0990), 1: SHORT()})
    assert [t["exit_reason"] for t in trades(raw)] == ["stop_loss", "end_of_data"]
    assert raw.ignored_signals == 0


def test_orders_pending_after_the_last_bar_are_dropped() -> None:
    raw = run([FLAT, FLAT], {1: LONG()})
    assert raw.n_trades == 0 and raw.dropped_orders == 1


def test_a_pending_reversal_at_the_last_bar_drops_both_orders() -> None:
    raw = run([FLAT, FLAT, FLAT], {0: LONG(), 2: SHORT()}, {2: Close()})
    t = only(raw)
    assert t["exit_reason"] == "end_of_data" and raw.dropped_orders == 2


def test_signal_max_bars_exits_at_the_next_open_without_calling_the_strategy() -> None:
    rows = [FLAT, FLAT, FLAT, (1.1010, 1.1015, 1.1005, 1.1012), FLAT]
    strategy = ScriptedStrategy({0: LONG(max_bars=2)})
    t = only(run(rows, strategy=strategy))
    # bars_held = 1 at bar 1's close, 2 at bar 2's: exit queued, filled at bar 3's bid open
    assert (t["exit_reason"], t["exit_price"], t["exit_index"], t["bars_held"]) == (
        "max_bars",
        1.1010,
        3,
        2,
    )
    assert strategy.managed_at == [1]  # not called once the limit is reached


def test_configured_max_bars_held() -> None:
    strategy = ScriptedStrategy({0: LONG()})
    t = only(run([FLAT, FLAT, FLAT, FLAT], strategy=strategy, max_bars_held=1))
    assert (t["exit_reason"], t["exit_index"], t["bars_held"]) == ("max_bars", 2, 1)
    assert strategy.managed_at == []


def test_max_bars_held_zero_means_no_limit() -> None:
    t = only(run([FLAT, FLAT, FLAT, FLAT], {0: LONG()}, max_bars_held=0))
    assert t["exit_reason"] == "end_of_data"


def test_signal_max_bars_wins_over_the_configured_limit() -> None:
    t = only(run([FLAT] * 6, {0: LONG(max_bars=3)}, max_bars_held=1))
    assert (t["exit_reason"], t["bars_held"], t["exit_index"]) == ("max_bars", 3, 4)


# --------------------------------------------------------------------------------------------
# actions that change the stored levels at once


def test_modify_stop_loss_applies_to_the_next_range_check() -> None:
    rows = [FLAT, (1.1000, 1.1010, 1.1000, 1.1008), (1.1008, 1.1009, 1.1004, 1.1006), FLAT]
    t = only(run(rows, {0: LONG()}, {1: ModifyStopLoss(1.1005)}))
    assert (t["exit_reason"], t["exit_price"], t["exit_index"]) == ("stop_loss", 1.1005, 2)


def test_modify_take_profit_to_none_removes_the_target() -> None:
    rows = [FLAT, FLAT, (1.1000, 1.1020, 1.0998, 1.1010)]
    t = only(run(rows, {0: LONG(take_profit=1.1010)}, {1: ModifyTakeProfit(None)}))
    assert t["exit_reason"] == "end_of_data" and math.isnan(t["tp"])


def test_move_to_break_even_sets_a_short_stop_at_once() -> None:
    # bar 2: ask open 1.0992 below the new SL 1.0998, ask high 1.1002 touches it
    rows = [FLAT, FLAT, (1.0990, 1.1000, 1.0985, 1.0995), FLAT]
    raw = run(rows, {0: SHORT(stop_loss=1.1050)}, {1: MoveToBreakEven(2.0)}, trace=True)
    t = only(raw)
    assert (t["exit_reason"], t["exit_price"]) == ("stop_loss", 1.1000 - 2.0 * PIP)
    assert raw.trace[1]["event"] == "break_even"


# --------------------------------------------------------------------------------------------
# bars walked, resampling, strategy failures


def test_bars_processed_counts_primary_bars_after_resampling() -> None:
    # 10 M1 bars in minutes 0-4 and 10-14: two M5 buckets, none for the empty 5-9
    rows = [FLAT] * 10
    times = [m * MIN for m in (0, 1, 2, 3, 4, 10, 11, 12, 13, 14)]
    bars = make_bars(rows, times=times)
    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))
    raw = run_python(bars, ScriptedStrategy(), settings)
    assert (raw.bars_processed, raw.base_bars) == (2, 10)
    assert raw.equity_time.tolist() == [0, 10 * MIN]


def test_a_strategy_exception_names_the_bar() -> None:
    def boom(data):
        if data.index == 1:
            raise ValueError("no")

    with pytest.raises(StrategyError, match=r"primary bar 1 \(1970-01-01T00:01:00Z\).*ValueError"):
        run([FLAT, FLAT, FLAT], strategy=ScriptedStrategy(on_bar=boom))


def test_evaluate_must_return_a_trade_signal() -> None:
    strategy = ScriptedStrategy({0: "buy"})  # type: ignore[dict-item]
    with pytest.raises(StrategyError, match="not a TradeSignal"):
        run([FLAT, FLAT], strategy=strategy)

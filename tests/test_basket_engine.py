"""Baskets in the engines, hand-computed from docs/engine/portfolio.md: one balance, the phases
across members, the account's stop-out worst position first, a cross converted through a pair
of the basket; and a basket of one is the single-instrument run, in every engine."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from omega.data.bars import PRICE_COLUMNS, BarSeries, Instrument
from omega.engine.basket import BasketRaw, run_basket_hybrid, run_basket_python
from omega.engine.hybrid import run_hybrid
from omega.engine.loop import run_python
from omega.engine.settings import CrossSettings, EngineSettings, MarginSettings
from omega.errors import ConfigError
from omega.strategy import ScriptedStrategy, TradeSignal
from omega.timeframes import Timeframe

ENGINES = ["python", "hybrid"]
SPREAD = 0.0002
CS = 100_000.0
HOUR = 3_600 * 10**9
FLAT_EU = (1.1000, 1.1003, 1.0998, 1.1000)
FLAT_GU = (1.2700, 1.2703, 1.2698, 1.2700)
EURUSD = Instrument.for_symbol("EURUSD")
GBPUSD = Instrument.for_symbol("GBPUSD")
EURGBP = Instrument.for_symbol("EURGBP")


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


def hourly(rows: Sequence[Sequence[float]], instrument: Instrument, start: int = 0) -> BarSeries:
    bid = np.array(rows, dtype=np.float64)
    t0 = utc("2024-03-05T00:00:00") + start * HOUR
    return BarSeries(
        t0 + np.arange(len(rows), dtype=np.int64) * HOUR,
        *bid.T,
        *(bid + SPREAD).T,
        np.zeros(len(rows)),
        timeframe=Timeframe.H1,
        instrument=instrument,
    )


def settings(instrument: Instrument, **fields: object) -> EngineSettings:
    return EngineSettings(
        primary_timeframe=Timeframe.H1,
        timeframes=(Timeframe.H1,),
        instrument=instrument,
        **fields,
    )


def run(engine: str, members: list[tuple[BarSeries, dict, EngineSettings]]) -> BasketRaw:
    runs = [(bars, ScriptedStrategy(signals), s) for bars, signals, s in members]
    runner = run_basket_python if engine == "python" else run_basket_hybrid
    return runner(runs, trace=True)


def rows(raw: BasketRaw, k: int) -> list[dict]:
    cols = raw.members[k].trades
    return [{name: cols[name][j] for name in cols} for j in range(raw.members[k].n_trades)]


# --------------------------------------------------------------------------------------------
# one balance, phases


@pytest.mark.parametrize("engine", ENGINES)
def test_fills_fees_and_closes_change_one_balance_in_member_order(engine: str) -> None:
    # Both members buy 1 lot at bar 1's open (commission 7 per lot per side) and hold to the
    # end (bar 3's close). The account's equity at each close is the balance plus both open
    # P&Ls in member order; the balance pays each entry fee as its member fills.
    fees = {"fees": __import__("omega.engine.settings", fromlist=["FeeSettings"]).FeeSettings(7.0)}
    eu = hourly([FLAT_EU, FLAT_EU, (1.1000, 1.1010, 1.0995, 1.1005), FLAT_EU], EURUSD)
    gu = hourly([FLAT_GU, FLAT_GU, (1.2700, 1.2720, 1.2690, 1.2710), FLAT_GU], GBPUSD)
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, settings(EURUSD, **fees)),
            (gu, {0: TradeSignal.long()}, settings(GBPUSD, **fees)),
        ],
    )
    balance = 100_000.0 - 7.0 - 7.0
    u_eu = (1.1005 - (1.1000 + SPREAD)) * 1.0 * CS
    u_gu = (1.2710 - (1.2700 + SPREAD)) * 1.0 * CS
    assert raw.equity[2] == (balance + u_eu) + u_gu
    assert list(raw.time) == list(eu.time)
    # end of data: each member closes at its last close, in member order
    eu_row, gu_row = rows(raw, 0)[0], rows(raw, 1)[0]
    assert (eu_row["exit_reason"], gu_row["exit_reason"]) == ("end_of_data", "end_of_data")
    final = balance + eu_row["gross_pnl"] - 7.0 + gu_row["gross_pnl"] - 7.0
    assert raw.final_balance == pytest.approx(final, abs=1e-9)
    assert raw.equity[-1] == raw.final_balance
    # each member's recorded points are its open P&L (0.0 once realized at the end)
    assert raw.members[0].equity[2] == u_eu and raw.members[0].equity[3] == 0.0


@pytest.mark.parametrize("engine", ENGINES)
def test_members_on_different_clocks_step_in_time_order(engine: str) -> None:
    # GBPUSD's bars start two hours later: the account's timeline is the union of both.
    eu = hourly([FLAT_EU] * 4, EURUSD)
    gu = hourly([FLAT_GU] * 4, GBPUSD, start=2)
    raw = run(engine, [(eu, {}, settings(EURUSD)), (gu, {}, settings(GBPUSD))])
    assert list(raw.time) == list(eu.time) + list(gu.time[2:])
    assert raw.members[0].bars_processed == 4 and raw.members[1].bars_processed == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_risk_sizing_uses_the_balance_plus_the_other_positions_pnl(engine: str) -> None:
    # EURUSD goes long at bar 1 (1 lot); bar 3 opens at bid 1.0900. GBPUSD signals at bar 2's
    # close a 1 % risk long with a 20-pip stop. At bar 3's entries every member is marked at
    # its open: the account's equity but GBPUSD's own is 100,000 + (1.0900 - 1.1002) *
    # 100,000 = 98,980, the risk 989.8, the lots floor(989.8 / (0.0020 * 100,000) / 0.01) *
    # 0.01 = 4.94.
    low = (1.0900, 1.0900, 1.0900, 1.0900)
    eu = hourly([FLAT_EU, FLAT_EU, FLAT_EU, low, FLAT_EU], EURUSD)
    gu = hourly([FLAT_GU] * 5, GBPUSD)
    signal = TradeSignal.long(risk_percent=1.0, stop_loss_distance=0.0020)
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, settings(EURUSD)),
            (gu, {2: signal}, settings(GBPUSD)),
        ],
    )
    fill = 1.2700 + SPREAD
    per_lot = (fill - (fill - 0.0020)) * CS  # the stop distance as the engine computes it

    def lots(equity: float) -> float:
        return math.floor(equity * (1.0 / 100.0) / per_lot / 0.01) * 0.01

    other = (1.0900 - (1.1000 + SPREAD)) * 1.0 * CS
    assert rows(raw, 1)[0]["size"] == lots(100_000.0 + other) == pytest.approx(4.94)
    # the same signal alone (no other position): the balance alone
    alone = run(engine, [(gu, {2: signal}, settings(GBPUSD))])
    assert rows(alone, 0)[0]["size"] == lots(100_000.0)


# --------------------------------------------------------------------------------------------
# the account's margin: free margin, stop-out worst first, margin call


def margined(instrument: Instrument, **fields: object) -> EngineSettings:
    return settings(
        instrument,
        margin=MarginSettings(margin_rate=0.01),
        initial_balance=3_000.0,
        **fields,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_free_margin_counts_the_margin_the_other_positions_hold(engine: str) -> None:
    # Balance 3,000. EURUSD holds 1 lot from bar 1: 1.0 * 100,000 * 1.1002 * 0.02 = 2,200.4
    # margin. GBPUSD's 1 lot at bar 2 needs 1.0 * 100,000 * 1.2702 * 0.02 = 2,540.4 > free
    # margin 3,000 - 2,200.4 (+ EURUSD's P&L at its mark, -20): refused.
    eu = hourly([FLAT_EU] * 4, EURUSD)
    gu = hourly([FLAT_GU] * 4, GBPUSD)
    two = MarginSettings(margin_rate=0.02)
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, settings(EURUSD, margin=two, initial_balance=3_000.0)),
            (gu, {1: TradeSignal.long()}, settings(GBPUSD, margin=two, initial_balance=3_000.0)),
        ],
    )
    assert [(s.reason, s.time) for s in raw.members[1].skipped_orders] == [
        ("insufficient_margin", gu.time[2])
    ]
    assert raw.members[1].n_trades == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_the_stop_out_closes_the_worst_position_first_and_stops_when_the_level_recovers(
    engine: str,
) -> None:
    # Balance 3,000; 1 lot each from bar 1 (ask opens 1.1002 and 1.2702), 1 % margin:
    # 1,100.2 + 1,270.2 = 2,370.4 held. Bar 2 opens at bid 1.0992 (EURUSD: -100) and 1.2522
    # (GBPUSD: -1,800): equity 3,000 - 1,900 = 1,100, level 46.4 % < 50 %. The worst is
    # GBPUSD (listed second): closed at its open. Then equity 1,100 over 1,100.2 held:
    # 99.98 %, and EURUSD stays open.
    eu = hourly([FLAT_EU, FLAT_EU, (1.0992, 1.0995, 1.0990, 1.0993), FLAT_EU], EURUSD)
    gu = hourly([FLAT_GU, FLAT_GU, (1.2522, 1.2525, 1.2520, 1.2523), FLAT_GU], GBPUSD)
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, margined(EURUSD)),
            (gu, {0: TradeSignal.long()}, margined(GBPUSD)),
        ],
    )
    gu_row = rows(raw, 1)[0]
    assert (gu_row["exit_reason"], gu_row["exit_price"], gu_row["exit_index"]) == (
        "stop_out",
        1.2522,
        2,
    )
    assert gu_row["exit_time"] == gu.time[2]
    assert rows(raw, 0)[0]["exit_reason"] == "end_of_data"


@pytest.mark.parametrize("engine", ENGINES)
def test_two_instruments_stopped_out_in_the_same_bar(engine: str) -> None:
    # As above, but bar 2's bid lows (the range step) reach 1.0850 and 1.2500: at the opens
    # (1.1000, 1.2700) the level is (3,000 - 20 - 20) / 2,370.4 = 124.9 %; at the worst
    # prices (3,000 - 1,520 - 2,020) / 2,370.4 < 0: GBPUSD (-2,020) goes first at 1.2500,
    # then (3,000 - 2,020 - 1,520) / 1,100.2 < 50 %: EURUSD at 1.0850.
    eu = hourly([FLAT_EU, FLAT_EU, (1.1000, 1.1001, 1.0850, 1.0990), FLAT_EU], EURUSD)
    gu = hourly([FLAT_GU, FLAT_GU, (1.2700, 1.2701, 1.2500, 1.2690), FLAT_GU], GBPUSD)
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, margined(EURUSD)),
            (gu, {0: TradeSignal.long()}, margined(GBPUSD)),
        ],
    )
    eu_row, gu_row = rows(raw, 0)[0], rows(raw, 1)[0]
    assert (eu_row["exit_reason"], eu_row["exit_price"]) == ("stop_out", 1.0850)
    assert (gu_row["exit_reason"], gu_row["exit_price"]) == ("stop_out", 1.2500)
    assert raw.final_balance == pytest.approx(3_000.0 - 2_020.0 - 1_520.0, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_member_between_its_bars_is_stopped_out_at_its_mark(engine: str) -> None:
    # GBPUSD has no bar at 02:00 (its data pauses); EURUSD's bar 2 gaps down so far that the
    # account is under the stop-out with GBPUSD the worst at its mark (bar 1's close, bid
    # 1.2530 -> -1,720): GBPUSD closes at 1.2530 at 02:00 without slippage, as of its bar 1.
    eu = hourly([FLAT_EU, FLAT_EU, (1.0950, 1.0955, 1.0945, 1.0950), FLAT_EU], EURUSD)
    gu_rows = [FLAT_GU, (1.2700, 1.2701, 1.2529, 1.2530), FLAT_GU]
    gu = hourly(gu_rows, GBPUSD)
    gu = BarSeries(
        np.array([gu.time[0], gu.time[1], gu.time[1] + 2 * HOUR]),
        *(getattr(gu, c) for c in PRICE_COLUMNS),
        gu.volume,
        timeframe=Timeframe.H1,
        instrument=GBPUSD,
    )
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, margined(EURUSD)),
            (gu, {0: TradeSignal.long()}, margined(GBPUSD)),
        ],
    )
    # at 02:00's open: 3,000 + (1.0950 - 1.1002) * 1e5 + (1.2530 - 1.2702) * 1e5
    # = 3,000 - 520 - 1,720 = 760 over 2,370.4 = 32 % < 50 %: GBPUSD (-1,720) first; then
    # 760 / 1,100.2 = 69 %: EURUSD stays.
    gu_row = rows(raw, 1)[0]
    assert (gu_row["exit_reason"], gu_row["exit_price"], gu_row["exit_index"]) == (
        "stop_out",
        1.2530,
        1,
    )
    assert gu_row["exit_time"] == eu.time[2]
    assert rows(raw, 0)[0]["exit_reason"] == "end_of_data"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_margin_call_warning_is_the_accounts(engine: str) -> None:
    # Level at bar 2's closes: (3,000 + (1.0995 - 1.1002) * 1e5 + (1.2600 - 1.2702) * 1e5) /
    # 2,370.4 = (3,000 - 70 - 1,020) / 2,370.4 = 80.6 % < 100 %: both members trace it.
    eu = hourly([FLAT_EU, FLAT_EU, (1.1000, 1.1001, 1.0994, 1.0995), FLAT_EU], EURUSD)
    gu = hourly([FLAT_GU, FLAT_GU, (1.2700, 1.2701, 1.2599, 1.2600), FLAT_GU], GBPUSD)
    raw = run(
        engine,
        [
            (eu, {0: TradeSignal.long()}, margined(EURUSD)),
            (gu, {0: TradeSignal.long()}, margined(GBPUSD)),
        ],
    )
    for member in raw.members:
        events = [row["event"] for row in member.trace]
        assert "margin_call" in events[2] and "margin_call" not in events[1]


def test_members_must_share_the_margin_levels() -> None:
    eu = hourly([FLAT_EU] * 3, EURUSD)
    gu = hourly([FLAT_GU] * 3, GBPUSD)
    with pytest.raises(ConfigError, match="margin"):
        run("python", [(eu, {}, margined(EURUSD)), (gu, {}, settings(GBPUSD))])


# --------------------------------------------------------------------------------------------
# a cross through a pair of the basket


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cross_converts_through_the_baskets_own_pair(engine: str) -> None:
    # EURGBP in a USD account, GBPUSD in the basket: its bid closes are the conversion
    # series (at or before each EURGBP bar's open). Long 1 lot EURGBP at 0.8502, closed at
    # the end at 0.8550: (0.8550 - 0.8502) * 100,000 GBP at the GBPUSD close of the bar that
    # opened at or before the last EURGBP bar's open (bar 3: 1.2650).
    eg = hourly([(0.8500, 0.8505, 0.8495, 0.8500)] * 3 + [(0.8540, 0.8555, 0.8535, 0.8550)], EURGBP)
    gu = hourly([FLAT_GU, FLAT_GU, FLAT_GU, (1.2700, 1.2700, 1.2640, 1.2650)], GBPUSD)
    cross = CrossSettings(
        "GBPUSD", multiply=True, times=np.asarray(gu.time), closes=np.asarray(gu.bid_close)
    )
    raw = run(
        engine,
        [
            (eg, {0: TradeSignal.long()}, settings(EURGBP, cross=cross)),
            (gu, {}, settings(GBPUSD)),
        ],
    )
    row = rows(raw, 0)[0]
    assert row["gross_pnl"] == (0.8550 - (0.8500 + SPREAD)) * 1.0 * CS * 1.2650


@pytest.mark.parametrize("engine", ENGINES)
def test_a_conversion_starting_inside_the_first_bar_gives_its_first_rate(engine: str) -> None:
    # Data that starts inside a primary bar (a resampled first bar opens before its first
    # price): the conversion's first bar opens at 00:30, inside EURGBP's first H1 bar, which
    # converts at its close, as does the bar opening at 01:00 (the 00:30 bar is the last one
    # opening at or before it). Long 1 lot at bar 1's open, closed at its close (end of data).
    eg = hourly([(0.8500, 0.8505, 0.8495, 0.8500), (0.8500, 0.8555, 0.8495, 0.8550)], EURGBP)
    cross = CrossSettings(
        "GBPUSD",
        multiply=True,
        times=np.asarray([utc("2024-03-05T00:30:00"), utc("2024-03-05T02:00:00")]),
        closes=np.asarray([1.2650, 1.2800]),
    )
    raw = run(engine, [(eg, {0: TradeSignal.long()}, settings(EURGBP, cross=cross))])
    row = rows(raw, 0)[0]
    assert row["gross_pnl"] == (0.8550 - (0.8500 + SPREAD)) * 1.0 * CS * 1.2650


@pytest.mark.parametrize("engine", ENGINES)
def test_a_conversion_starting_at_or_after_a_bars_close_is_refused(engine: str) -> None:
    eg = hourly([(0.8500, 0.8505, 0.8495, 0.8500)] * 2, EURGBP)
    cross = CrossSettings(
        "GBPUSD",
        multiply=True,
        times=np.asarray([utc("2024-03-05T01:00:00")]),
        closes=np.asarray([1.2650]),
    )
    with pytest.raises(
        ConfigError,
        match="no GBPUSD rate at or before the bar opening at 2024-03-05T00:00:00Z "
        r"\(1709596800000000000 UTC ns\): the GBPUSD bars start at 2024-03-05T01:00:00Z",
    ):
        run(engine, [(eg, {}, settings(EURGBP, cross=cross))])


# --------------------------------------------------------------------------------------------
# a basket of one is the single-instrument run


SINGLE_CASES = {
    "plain": {},
    "margin": {"margin": MarginSettings(margin_rate=0.01), "initial_balance": 2_000.0},
}


@pytest.mark.parametrize("case", list(SINGLE_CASES))
@pytest.mark.parametrize("engine", ENGINES)
def test_a_basket_of_one_is_the_single_run(engine: str, case: str) -> None:
    rng = np.random.default_rng(7)
    close = 1.1 + np.cumsum(rng.normal(0, 0.002, 300))
    bars_rows = [(c, c + 0.0015, c - 0.0015, c) for c in close]
    bars = hourly(bars_rows, EURUSD)
    exits = {"stop_loss_distance": 0.003, "take_profit_distance": 0.004}
    signals = {
        i: TradeSignal.long(**exits) if i % 20 < 10 else TradeSignal.short(**exits)
        for i in range(0, 300, 7)
    }
    s = settings(EURUSD, **SINGLE_CASES[case])
    single = (run_python if engine == "python" else run_hybrid)(bars, ScriptedStrategy(signals), s)
    basket = run(engine, [(bars, signals, s)])
    member = basket.members[0]
    for name, column in single.trades.items():
        if column.dtype == object:
            assert list(member.trades[name]) == list(column), name
        else:
            assert np.array_equal(member.trades[name], column, equal_nan=True), name
    # not vacuous: trades in both cases, refusals for margin in the margin case
    assert single.n_trades > (10 if case == "plain" else 2)
    assert (len(single.skipped_orders) > 0) == (case == "margin")
    assert np.array_equal(basket.equity, single.equity)
    assert basket.final_balance == single.final_balance


# --------------------------------------------------------------------------------------------
# instrument ids


@pytest.mark.parametrize("engine", ENGINES)
def test_each_member_carries_its_instrument_id(engine: str) -> None:
    import dataclasses

    seen: dict[str, set] = {"EURUSD": set(), "GBPUSD": set()}

    def recorder(symbol: str):
        def on_bar(data) -> None:
            seen[symbol].add(("slice", data.instrument))
            if data.position is not None:
                seen[symbol].add(("position", data.position.instrument))

        return on_bar

    eu = hourly([FLAT_EU] * 5, EURUSD)
    gu = hourly([FLAT_GU] * 5, GBPUSD)
    runs = []
    for k, (bars, inst) in enumerate(((eu, EURUSD), (gu, GBPUSD))):
        strategy = ScriptedStrategy({0: TradeSignal.long()}, on_bar=recorder(inst.symbol))
        runs.append((bars, strategy, dataclasses.replace(settings(inst), instrument_id=k)))
    (run_basket_python if engine == "python" else run_basket_hybrid)(runs)
    assert seen["EURUSD"] == {("slice", 0), ("position", 0)}
    assert seen["GBPUSD"] == {("slice", 1), ("position", 1)}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_signal_for_another_instrument_is_refused(engine: str) -> None:
    from omega.errors import StrategyError

    bars = hourly([FLAT_EU] * 4, EURUSD)
    signal = TradeSignal.long(instrument=1)
    with pytest.raises(StrategyError, match="signal at bar 0 is for instrument 1"):
        run(engine, [(bars, {0: signal}, settings(EURUSD))])

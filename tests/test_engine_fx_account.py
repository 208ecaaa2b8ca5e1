"""The FX account, hand-computed from docs/engine/execution.md ("Swap", "Margin", "Crosses",
"Sessions", step 6): in the Python reference engine and in the Rust engine (hybrid mode drives
the Rust loop with the same Python strategy). Expected values are the contract's formulas with
the numbers plugged in, evaluated in the contract's operation order, so comparisons are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from omega.data.bars import BarSeries, Instrument
from omega.engine.hybrid import run_hybrid
from omega.engine.loop import run_python
from omega.engine.raw import RawRun
from omega.engine.settings import (
    CrossSettings,
    EngineSettings,
    MarginSettings,
    SessionSettings,
    SwapSettings,
)
from omega.errors import ConfigError
from omega.strategy import ScriptedStrategy, TradeSignal
from omega.timeframes import Timeframe

ENGINES = ["python", "hybrid"]
SPREAD = 0.0002
CS = 100_000.0
POINT = 0.00001
HOUR = 3_600 * 10**9
FLAT = (1.1000, 1.1003, 1.0998, 1.1000)


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


def hourly(start: str, rows: Sequence[Sequence[float]], instrument: Instrument) -> BarSeries:
    bid = np.array(rows, dtype=np.float64)
    t0 = utc(start)
    return BarSeries(
        t0 + np.arange(len(rows), dtype=np.int64) * HOUR,
        *bid.T,
        *(bid + SPREAD).T,
        np.zeros(len(rows)),
        timeframe=Timeframe.H1,
        instrument=instrument,
    )


def run(
    engine: str,
    bars: BarSeries,
    signals: dict,
    *,
    trace: bool = False,
    **settings: object,
) -> RawRun:
    engine_settings = EngineSettings(
        primary_timeframe=Timeframe.H1,
        timeframes=(Timeframe.H1,),
        instrument=bars.instrument,
        **settings,
    )
    runner = run_python if engine == "python" else run_hybrid
    return runner(bars, ScriptedStrategy(signals), engine_settings, trace=trace)


def rows_of(raw: RawRun) -> list[dict]:
    cols = raw.trades
    return [{name: cols[name][k] for name in cols} for k in range(raw.n_trades)]


def only(raw: RawRun) -> dict:
    rows = rows_of(raw)
    assert len(rows) == 1, rows
    return rows[0]


# --------------------------------------------------------------------------------------------
# swap

SWAP = SwapSettings(long=-6.5, short=1.25)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_week_held_pays_seven_nights_with_the_triple_wednesday(engine: str) -> None:
    # Hourly bars from Monday 2024-03-04 00:00 UTC for 8 days; long from bar 1's open
    # (01:00) to the last close. New York is on EST (UTC-5) until Sunday 10 March, so the
    # rollovers (17:00 local) are Mon-Fri 22:00 UTC; the next Monday's, after the switch to
    # EDT, is at 21:00 UTC (bar 8*24-3 = 189). Each is charged at the first bar opening at or
    # after it: nights 1, 1, 3 (Wednesday), 1, 1, then 1 on the next Monday.
    n = 8 * 24
    bars = hourly("2024-03-04T00:00:00", [FLAT] * n, Instrument())
    raw = run(engine, bars, {0: TradeSignal.long()}, swap=SWAP, trace=True)
    t = only(raw)
    per_night = -6.5 * POINT * CS * 1.0  # rate * point * cs * lots (USD account: no conversion)
    swap = 0.0
    for nights in (1, 1, 3, 1, 1, 1):
        swap = swap + per_night * float(nights)
    assert t["swap"] == swap
    assert t["pnl"] == t["gross_pnl"] - t["fees"] + swap
    charged_at = [row["index"] for row in raw.trace if "swap" in row["event"]]
    assert charged_at == [22, 46, 70, 94, 118, 189]
    # the balance pays it as it goes: the equity at bar 22's close already holds one night
    assert raw.equity[22] - raw.equity[21] == pytest.approx(per_night, abs=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_weekend_costs_only_the_friday_and_monday_rollovers(engine: str) -> None:
    # Short from Friday 2024-03-08 10:00 UTC to Tuesday 12 March 05:00: Friday 22:00 UTC (EST)
    # and Monday 21:00 UTC (EDT): two nights at +1.25 points (a credit).
    bars = hourly("2024-03-08T09:00:00", [FLAT] * (3 * 24 + 21), Instrument())
    t = only(run(engine, bars, {0: TradeSignal.short()}, swap=SWAP))
    per_night = 1.25 * POINT * CS * 1.0
    assert t["swap"] == (0.0 + per_night * 1.0) + per_night * 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_an_annual_rate_swap_is_charged_on_the_open_price_notional(engine: str) -> None:
    # Long 2 lots over Tuesday 2024-03-05 22:00 UTC: one night at -3.65 %/year of the notional
    # at bar 22's bid open 1.1000.
    bars = hourly("2024-03-05T00:00:00", [FLAT] * 24, Instrument())
    swap = SwapSettings(long=-3.65, short=0.0, unit="annual_percent")
    signal = TradeSignal.long(size=2.0)
    t = only(run(engine, bars, {0: signal}, swap=swap))
    assert t["swap"] == 0.0 + 1.1000 * CS * 2.0 * (-3.65 / 100.0) / 365.0 * 1.0


# --------------------------------------------------------------------------------------------
# margin and stop-out


@pytest.mark.parametrize("engine", ENGINES)
def test_an_order_the_free_margin_cannot_carry_is_refused(engine: str) -> None:
    bars = hourly("2024-03-05T00:00:00", [FLAT] * 5, Instrument())
    # 1 lot at the ask 1.1002 needs 1.0 * 100,000 * 1.1002 * 1.0 = 110,020 > 100,000
    raw = run(engine, bars, {0: TradeSignal.long()}, margin=MarginSettings(margin_rate=1.0))
    assert raw.n_trades == 0
    assert [(s.reason, s.time) for s in raw.skipped_orders] == [
        ("insufficient_margin", bars.time[1])
    ]
    # at 1:2 it needs 55,010: filled
    raw = run(engine, bars, {0: TradeSignal.long()}, margin=MarginSettings(margin_rate=0.5))
    assert raw.n_trades == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_gap_through_the_stop_out_level_closes_at_the_open(engine: str) -> None:
    # Balance 2,000, 1 lot long at the ask 1.1002 with 1 % margin: 1.0 * 100,000 * 1.1002 *
    # 0.01 = 1,100.2 held. Bar 2 opens (bid) at 1.0800: equity 2,000 + (1.08 - 1.1002) *
    # 100,000 = -20.0 (about), margin level < 50 %: closed at that open, reason stop_out.
    rows = [FLAT, FLAT, (1.0800, 1.0810, 1.0790, 1.0805), FLAT]
    bars = hourly("2024-03-05T00:00:00", rows, Instrument())
    margin = MarginSettings(margin_rate=0.01)
    t = only(run(engine, bars, {0: TradeSignal.long()}, margin=margin, initial_balance=2_000.0))
    assert (t["exit_reason"], t["exit_price"], t["exit_index"]) == ("stop_out", 1.0800, 2)
    assert t["exit_time"] == bars.time[2]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_bar_whose_worst_price_breaches_the_stop_out_closes_there(engine: str) -> None:
    # Same account; bar 2 opens at 1.1000 (level (2,000 - 20) / 1,100.2 = 180 %) but its bid
    # low 1.0850 gives 2,000 - 1,520 = 480 / 1,100.2 = 43.6 % < 50 %: out at 1.0850.
    rows = [FLAT, FLAT, (1.1000, 1.1001, 1.0850, 1.0990), FLAT]
    bars = hourly("2024-03-05T00:00:00", rows, Instrument())
    margin = MarginSettings(margin_rate=0.01)
    raw = run(
        engine,
        bars,
        {0: TradeSignal.long()},
        margin=margin,
        initial_balance=2_000.0,
        trace=True,
    )
    t = only(raw)
    assert (t["exit_reason"], t["exit_price"], t["exit_index"]) == ("stop_out", 1.0850, 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_margin_call_warning_is_traced_below_its_level(engine: str) -> None:
    # Bar 2 closes at 1.0950: equity 2,000 + (1.095 - 1.1002) * 100,000 = 1,480, level
    # 134.5 %, above the stop-out (50 %) but below a warning level of 150 %.
    rows = [FLAT, FLAT, (1.1000, 1.1001, 1.0945, 1.0950), FLAT]
    bars = hourly("2024-03-05T00:00:00", rows, Instrument())
    margin = MarginSettings(margin_rate=0.01, margin_call_level=150.0)
    raw = run(
        engine, bars, {0: TradeSignal.long()}, margin=margin, initial_balance=2_000.0, trace=True
    )
    events = [row["event"] for row in raw.trace]
    assert events[2] == "margin_call" and "margin_call" not in events[1]
    assert only(raw)["exit_reason"] == "end_of_data"


# --------------------------------------------------------------------------------------------
# crosses


EURGBP = Instrument(
    symbol="EURGBP",
    pip_size=0.0001,
    point=0.00001,
    contract_size=CS,
    lot_step=0.01,
    min_lot=0.01,
    base_currency="EUR",
    quote_currency="GBP",
)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cross_converts_through_a_third_pair_bar_by_bar(engine: str) -> None:
    # EURGBP in a USD account through GBPUSD: GBP amounts x the GBPUSD bid close at or before
    # each bar's open. Long 1 lot at bar 1's ask open 0.8502, closed at the last bar's bid
    # close 0.8550 (end of data, converted at the last bar's rate 1.2600).
    rows = [(0.8500, 0.8505, 0.8495, 0.8500)] * 3 + [(0.8540, 0.8555, 0.8535, 0.8550)]
    bars = hourly("2024-03-05T00:00:00", rows, EURGBP)
    gbpusd_times = np.array([utc("2024-03-04T23:00:00"), bars.time[2]], dtype=np.int64)
    cross = CrossSettings(
        "GBPUSD", multiply=True, times=gbpusd_times, closes=np.array([1.2500, 1.2600])
    )
    raw = run(engine, bars, {0: TradeSignal.long()}, account_currency="USD", cross=cross)
    t = only(raw)
    assert t["gross_pnl"] == (0.8550 - (0.8500 + SPREAD)) * 1.0 * CS * 1.2600
    # equity at bar 1's close marks the position at the rate of bar 1 (1.2500)
    assert raw.equity[1] == 100_000.0 + (0.8500 - (0.8500 + SPREAD)) * 1.0 * CS * 1.2500
    # a fixed rate, and the division when the pair quotes the other way (USDGBP-like)
    fixed = CrossSettings("USDGBP", multiply=False, fixed_rate=0.8)
    t = only(run(engine, bars, {0: TradeSignal.long()}, cross=fixed))
    assert t["gross_pnl"] == (0.8550 - (0.8500 + SPREAD)) * 1.0 * CS / 0.8


def test_a_cross_without_a_conversion_or_before_its_first_rate_is_a_config_error() -> None:
    bars = hourly("2024-03-05T00:00:00", [FLAT] * 3, EURGBP)
    with pytest.raises(ConfigError, match=r"give account\.conversion"):
        run("python", bars, {})
    late = CrossSettings(
        "GBPUSD", multiply=True, times=np.array([bars.time[1]]), closes=np.array([1.25])
    )
    for engine in ENGINES:
        with pytest.raises(ConfigError, match="no GBPUSD rate at or before"):
            run(engine, bars, {}, cross=late)


# --------------------------------------------------------------------------------------------
# sessions and blackouts


LONDON = SessionSettings(timezone="Europe/London", start="08:00", end="17:00")


@pytest.mark.parametrize("engine", ENGINES)
def test_entries_outside_the_session_are_refused_and_counted(engine: str) -> None:
    # Hourly bars from Tuesday 2024-07-02 05:00 UTC (06:00 London, BST). A signal at bar 0's
    # close would fill at 06:00 UTC = 07:00 London: refused. One at bar 1's close fills at
    # 07:00 UTC = 08:00 London: inside.
    bars = hourly("2024-07-02T05:00:00", [FLAT] * 6, Instrument())
    raw = run(engine, bars, {0: TradeSignal.long(tag="early")}, session=LONDON)
    assert raw.n_trades == 0
    assert [(s.reason, s.detail) for s in raw.skipped_orders] == [("outside_session", "early")]
    t = only(run(engine, bars, {1: TradeSignal.long()}, session=LONDON))
    assert t["entry_time"] == utc("2024-07-02T07:00:00")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_blackout_refuses_entries_and_holds_a_pending_order(engine: str) -> None:
    bars = hourly("2024-07-02T08:00:00", [FLAT] * 6, Instrument())
    news = ((utc("2024-07-02T09:00:00"), utc("2024-07-02T10:30:00")),)
    raw = run(engine, bars, {0: TradeSignal.long()}, blackouts=news)
    assert [s.reason for s in raw.skipped_orders] == ["blackout"]
    # a limit order reached in the blackout bars (09:00, 10:00) fills at 11:00
    dip = (1.1000, 1.1003, 1.0980, 1.0990)
    bars = hourly("2024-07-02T08:00:00", [FLAT, dip, dip, dip, FLAT], Instrument())
    t = only(run(engine, bars, {0: TradeSignal.long(order="limit", price=1.0990)}, blackouts=news))
    assert (t["entry_time"], t["entry_price"]) == (utc("2024-07-02T11:00:00"), 1.0990)


def test_strategies_read_the_session_flag() -> None:
    seen: list[bool] = []
    strategy = ScriptedStrategy(on_bar=lambda data: seen.append(data.in_session))
    bars = hourly("2024-07-02T05:00:00", [FLAT] * 4, Instrument())
    settings = EngineSettings(
        primary_timeframe=Timeframe.H1,
        timeframes=(Timeframe.H1,),
        instrument=bars.instrument,
        session=LONDON,
    )
    run_python(bars, strategy, settings)
    assert seen == [False, False, True, True]  # 06:00, 07:00, 08:00, 09:00 London
    hybrid_seen: list[bool] = []
    run_hybrid(bars, ScriptedStrategy(on_bar=lambda d: hybrid_seen.append(d.in_session)), settings)
    assert hybrid_seen == seen


# --------------------------------------------------------------------------------------------
# end of data


@pytest.mark.parametrize("engine", ENGINES)
def test_end_of_data_policies(engine: str) -> None:
    rows = [FLAT, FLAT, (1.1010, 1.1030, 1.1005, 1.1020)]
    bars = hourly("2024-03-05T00:00:00", rows, Instrument())
    signal = {0: TradeSignal.long()}
    t = only(run(engine, bars, signal))
    assert (t["exit_price"], t["exit_time"]) == (1.1020, bars.time[2] + HOUR)
    t = only(run(engine, bars, signal, end_of_data="last_open"))
    assert (t["exit_price"], t["exit_time"], t["exit_reason"]) == (
        1.1010,
        bars.time[2],
        "end_of_data",
    )
    raw = run(engine, bars, signal, end_of_data="mark")
    assert raw.n_trades == 0
    marked = 100_000.0 + (1.1020 - (1.1000 + SPREAD)) * 1.0 * CS
    assert raw.equity[-1] == marked and raw.final_balance == marked


def test_invalid_account_settings_are_config_errors_in_both_engines() -> None:
    bars = hourly("2024-03-05T00:00:00", [FLAT] * 3, Instrument())
    cases = [
        ({"swap": SwapSettings(timezone="Mars/Olympus")}, "swap.timezone"),
        ({"margin": MarginSettings(margin_rate=0.0)}, "margin"),
        ({"session": SessionSettings(timezone="Nowhere")}, "session.timezone"),
        ({"blackouts": ((5, 5),)}, "blackouts"),
        ({"end_of_data": "never"}, "end_of_data"),
    ]
    for settings, key in cases:
        for engine in ENGINES:
            with pytest.raises(ConfigError, match=key):
                run(engine, bars, {}, **settings)

"""Strategy API 0.2 in the Python engine, by hand: several actions per bar, distances in ATR
units (in actions and in config, NaN warm-up included), indicator handles, the run context,
custom indicators, and `last_closed` returning a Bar.

Bars, helpers and conventions are those of test_engine_execution_cases.py (EURUSD, M1, ask =
bid + 0.0002, 1 lot, a signal at the close of bar i fills at the open of i+1). Expected
values are written as the contract's formulas with the numbers plugged in, so the
comparisons are exact (==).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import Field

from omega.data.bars import Instrument as DataInstrument
from omega.data.resample import resample
from omega.engine.loop import run_python
from omega.engine.settings import BreakEvenSettings, EngineSettings, TrailingSettings
from omega.errors import StrategyError
from omega.indicators import Indicator, IndicatorParameterError, IndicatorSpec, register_indicator
from omega.strategy import (
    Bar,
    Close,
    IndicatorHandle,
    IndicatorRequest,
    Instrument,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    PartialClose,
    RunContext,
    ScriptedStrategy,
    Strategy,
    StrategyParams,
    TrailStop,
)
from omega.timeframes import Timeframe
from test_engine_execution_cases import FLAT, LONG, M1, M5, PIP, SHORT, ask, make_bars, only, run
from test_engine_execution_cases import trades as trade_rows

H1 = Timeframe.H1
ATR2 = IndicatorSpec.of("atr", period=2)

# Bars of the ATR cases: ranges chosen so that TR is high - low on bars 1 and 2.
ATR_ROWS = [
    FLAT,  # 0: (o, h, l, c)
    (1.1000, 1.1010, 1.0998, 1.1008),  # 1
    (1.1008, 1.1020, 1.1005, 1.1018),  # 2
    (1.1018, 1.1019, 1.0990, 1.1000),  # 3: low 1.0990
    FLAT,  # 4
]


def true_range(h: float, lo: float, prev_close: float) -> float:
    return max(h - lo, abs(prev_close - h), abs(prev_close - lo))


def atr2_at_2(rows, spread: float = 0.0) -> float:
    """ATR(2) at bar 2 (Wilder seed: the mean of TR_1 and TR_2, summed from 0.0); NaN before."""
    c0 = rows[0][3] + spread
    _, h1, l1, c1 = (v + spread for v in rows[1])
    _, h2, l2, _ = (v + spread for v in rows[2])
    return ((0.0 + true_range(h1, l1, c0)) + true_range(h2, l2, c1)) / 2.0


def events(raw) -> list[str]:
    return [row["event"] for row in raw.trace]


# --------------------------------------------------------------------------------------------
# several actions per bar, applied in the order returned


def test_modify_tp_then_trail_then_partial_then_close_in_one_bar() -> None:
    actions = {1: [ModifyTakeProfit(1.1050), TrailStop(5.0), PartialClose(0.5), Close()]}
    raw = run([FLAT] * 4, {0: LONG(stop_loss=1.0980)}, actions, trace=True)
    t = only(raw)  # the Close replaced the partial exit: one full exit
    assert events(raw)[1] == "modify_tp|trail_stop|partial_queued|exit_queued"
    # trail: bid close 1.1000 - 5 pips tightens the 1.0980 stop
    assert (t["tp"], t["sl"]) == (1.1050, 1.1000 - 5.0 * PIP)
    assert (t["exit_reason"], t["exit_index"], t["exit_price"], t["size"]) == (
        "strategy",
        2,
        1.1000,
        1.0,
    )


def test_a_later_partial_replaces_an_earlier_one_and_a_loose_trail_is_silent() -> None:
    actions = {1: (PartialClose(0.3), TrailStop(50.0), PartialClose(0.5), ModifyStopLoss(1.0990))}
    raw = run([FLAT] * 4, {0: LONG(stop_loss=1.0980)}, actions, trace=True)
    # 1.1000 - 50 pips = 1.0950 would loosen the stop: no move, no event
    assert events(raw)[1] == "partial_queued|partial_queued|modify_sl"
    first, rest = trade_rows(raw)
    q = math.floor(1.0 * 0.5 / 0.01) * 0.01  # the contract's rounding of the last partial
    assert (first["exit_reason"], first["size"], first["exit_index"]) == ("partial", q, 2)
    assert (rest["exit_reason"], rest["sl"]) == ("end_of_data", 1.0990)


def test_a_partial_after_a_full_exit_is_ignored_without_an_event() -> None:
    raw = run([FLAT] * 3, {0: LONG()}, {1: [Close(), PartialClose(0.5)]}, trace=True)
    t = only(raw)
    assert events(raw)[1] == "exit_queued"
    assert (t["exit_reason"], t["size"]) == ("strategy", 1.0)


def test_an_empty_list_of_actions_does_nothing_and_junk_is_refused() -> None:
    raw = run([FLAT] * 3, {0: LONG()}, {1: []}, trace=True)
    assert events(raw)[1] == "none" and only(raw)["exit_reason"] == "end_of_data"
    with pytest.raises(StrategyError, match=r"manage_position returned \[Close\(\), 'x'\]"):
        run([FLAT] * 3, {0: LONG()}, {1: [Close(), "x"]})


def test_trail_stop_of_a_short_follows_the_ask_close_in_price_units() -> None:
    rows = [FLAT, FLAT, (1.1000, 1.1002, 1.0990, 1.0992), FLAT]
    raw = run(rows, {0: SHORT()}, {1: TrailStop(0.0010, "price"), 2: TrailStop(0.0010, "price")})
    # bar 1: no stop yet -> ask close 1.1002 + 0.0010; bar 2: ask close 1.0994 + 0.0010 tightens
    assert only(raw)["sl"] == ask(1.0992) + 0.0010


@pytest.mark.parametrize(
    "make",
    [
        lambda: TrailStop(math.nan),
        lambda: TrailStop(1.0, "ticks"),
        lambda: TrailStop(1.0, "atr"),  # no handle
        lambda: TrailStop(1.0, "pips", atr=IndicatorHandle(0)),
        lambda: MoveToBreakEven(math.inf, "price"),
        lambda: MoveToBreakEven(1.0, "atr", atr=-1),
    ],
)
def test_bad_distances_are_refused_at_construction(make) -> None:
    with pytest.raises(StrategyError):
        make()


# --------------------------------------------------------------------------------------------
# ATR units: actions


def test_move_to_break_even_in_atr_units_is_skipped_during_the_atr_warm_up() -> None:
    move = MoveToBreakEven(0.5, unit="atr", atr=IndicatorHandle(0))
    strategy = ScriptedStrategy(
        {0: LONG(stop_loss=1.0980)},
        {1: move, 2: move},
        requests=[IndicatorRequest(M1, "bid", ATR2)],
    )
    raw = run(ATR_ROWS, strategy=strategy, trace=True)
    assert events(raw)[:3] == ["signal_long", "none", "break_even"]  # bar 1: ATR(2) is NaN
    entry = ask(1.1000)
    assert only(raw)["sl"] == entry + 0.5 * atr2_at_2(ATR_ROWS)


def test_trail_stop_in_atr_units_for_a_short() -> None:
    trail = TrailStop(1.0, "atr", IndicatorHandle(0))
    strategy = ScriptedStrategy(
        {0: SHORT()}, {1: trail, 2: trail}, requests=[IndicatorRequest(M1, "bid", ATR2)]
    )
    raw = run(ATR_ROWS, strategy=strategy, trace=True)
    assert events(raw)[:3] == ["signal_short", "none", "trail_stop"]
    t = only(raw)
    assert (t["exit_reason"], t["sl"]) == ("end_of_data", ask(1.1018) + 1.0 * atr2_at_2(ATR_ROWS))


# --------------------------------------------------------------------------------------------
# ATR units: config


def test_config_trailing_in_atr_units_skips_the_warm_up_then_trails() -> None:
    trailing = TrailingSettings(distance=1.0, unit="atr")
    raw = run(ATR_ROWS, {0: LONG()}, trailing=trailing, stop_atr_period=2)
    t = only(raw)
    # bar 1: ATR NaN -> no stop (a NaN stop would never be hit); bar 2: close - 1 ATR
    level = 1.1018 - 1.0 * atr2_at_2(ATR_ROWS)
    assert (t["exit_reason"], t["exit_index"], t["exit_price"], t["sl"]) == (
        "stop_loss",
        3,
        level,
        level,
    )


def test_config_break_even_in_atr_units_waits_for_the_atr_and_fires_once() -> None:
    be = BreakEvenSettings(trigger=1.0, offset=0.5, unit="atr")
    raw = run(ATR_ROWS, {0: LONG(stop_loss=1.0980)}, break_even=be, stop_atr_period=2, trace=True)
    # bar 1: gain 1.1008 - 1.1002 against NaN -> no fire, not done; bar 2: 16 pips >= 1 ATR
    assert events(raw)[:4] == ["signal_long", "none", "break_even", "none"]
    entry = ask(1.1000)
    level = entry + 0.5 * atr2_at_2(ATR_ROWS)
    t = only(raw)
    assert (t["exit_reason"], t["exit_index"], t["sl"], t["exit_price"]) == (
        "stop_loss",
        3,
        level,
        level,
    )


def test_config_units_in_pips_are_unchanged_by_the_atr_period() -> None:
    rows = [FLAT, (1.1000, 1.1010, 1.0998, 1.1008), FLAT]
    a = run(rows, {0: LONG()}, trailing=TrailingSettings(distance=10.0))
    b = run(rows, {0: LONG()}, trailing=TrailingSettings(distance=10.0), stop_atr_period=3)
    assert only(a)["sl"] == only(b)["sl"] == 1.1008 - 10.0 * PIP


# --------------------------------------------------------------------------------------------
# handles and the run context


def test_handles_read_values_and_series_and_nan_before_the_first_coarser_close() -> None:
    rows = [
        (1.1 + k * 1e-4, 1.1 + k * 1e-4 + 5e-4, 1.1 + k * 1e-4 - 5e-4, 1.1 + k * 2e-4)
        for k in range(12)
    ]
    bars = make_bars(rows)
    seen = []

    def read(data) -> None:
        m1, m5 = strategy.handles
        seen.append((data.value(m1), data.value(m1, 1), data.value(m5), data.series(m5).copy()))
        with pytest.raises(ValueError, match="read-only"):
            data.series(m1)[:1] = 0.0

    strategy = ScriptedStrategy(
        requests=[
            IndicatorRequest(M1, "bid", IndicatorSpec.of("sma", period=1)),
            IndicatorRequest(M5, "bid", IndicatorSpec.of("sma", period=1)),
        ],
        on_bar=read,
    )
    run_python(bars, strategy, EngineSettings(primary_timeframe=M1, timeframes=(M1,)))
    assert strategy.handles == [0, 1] and [h.index for h in strategy.handles] == [0, 1]
    closes = [r[3] for r in rows]
    for i, (now, back, m5, m5_series) in enumerate(seen):
        assert now == closes[i]  # SMA(1) is the close
        assert back == closes[i - 1] if i else math.isnan(back)
        if i < 4:  # the first M5 bar (minutes 0-4) closes at the close of bar 4
            assert math.isnan(m5) and len(m5_series) == 0
        else:
            j = (i + 1) // 5 - 1
            assert m5 == closes[5 * j + 4]
            assert m5_series.tolist() == [closes[5 * k + 4] for k in range(j + 1)]


class Configured(Strategy):
    name = "configured"

    class Params(StrategyParams):
        period: int = Field(3, ge=1)

    def __init__(self, params=None) -> None:
        super().__init__(params)
        self.contexts: list[RunContext] = []

    def init(self, ctx: RunContext) -> None:
        self.contexts.append(ctx)
        self.sma = ctx.indicator(IndicatorSpec.of("sma", period=ctx.params.period))
        self.ema = ctx.indicator(IndicatorSpec.of("ema", period=2), timeframe="h1", side="ask")

    def evaluate(self, data):
        return None


def test_init_receives_the_instrument_timeframes_and_params_once_per_run() -> None:
    jpy = DataInstrument.for_symbol("USDJPY")
    bars = make_bars([FLAT] * 30, instrument=jpy)
    strategy = Configured({"period": 4})
    settings = EngineSettings(primary_timeframe=M5, timeframes=(H1,), instrument=jpy)
    run_python(bars, strategy, settings)
    run_python(bars, strategy, settings)
    assert len(strategy.contexts) == 2  # once per run
    ctx = strategy.contexts[0]
    assert ctx.instrument == Instrument(0, "USDJPY", 0.01)
    assert (ctx.primary_timeframe, ctx.timeframes) == (M5, (M5, H1))  # primary included
    assert ctx.params is strategy.params and ctx.params.period == 4
    assert (strategy.sma, strategy.ema) == (0, 1)  # numbered again in every run
    assert ctx.declared == (
        IndicatorRequest(M5, "bid", IndicatorSpec.of("sma", period=4)),
        IndicatorRequest(H1, "ask", IndicatorSpec.of("ema", period=2)),
    )


def test_a_strategy_error_in_init_stops_the_run_and_bad_declarations_are_named() -> None:
    class Refuses(Strategy):
        name = "refuses"

        def init(self, ctx):
            raise StrategyError("strategy refuses: parameter x: no")

        def evaluate(self, data):
            raise AssertionError("never called")

    settings = EngineSettings(primary_timeframe=M1, timeframes=(M1,))
    with pytest.raises(StrategyError, match="parameter x: no"):
        run_python(make_bars([FLAT] * 3), Refuses(), settings)
    ctx = RunContext(Instrument(), M1, (M1,), None, "s")
    with pytest.raises(StrategyError, match="strategy s: indicator side"):
        ctx.indicator(ATR2, side="bidd")
    with pytest.raises(StrategyError, match="must be an IndicatorSpec"):
        ctx.indicator("sma")  # type: ignore[arg-type]


def test_last_closed_returns_the_bar_of_a_timeframe_read_without_an_indicator() -> None:
    rows = [
        (1.1 + k * 1e-4, 1.1 + k * 1e-4 + 5e-4, 1.1 + k * 1e-4 - 5e-4, 1.1 + k * 2e-4)
        for k in range(11)
    ]
    bars = make_bars(rows)
    m5 = resample(bars, M5)
    seen = []

    class ReadsM5(Strategy):
        name = "reads_m5"

        def init(self, ctx):
            ctx.read_timeframe(M5)  # not configured: added to the run

        def evaluate(self, data):
            seen.append((data.last_closed(M5), data.last_closed(M1)))

    run_python(bars, ReadsM5(), EngineSettings(primary_timeframe=M1, timeframes=(M1,)))
    for i, (bar5, bar1) in enumerate(seen):
        assert isinstance(bar1, Bar) and bar1 == Bar(
            i * 60_000_000_000, *rows[i], *(v + 0.0002 for v in rows[i]), 0.0
        )
        if i < 4:
            assert bar5 is None
        else:
            j = (i + 1) // 5 - 1
            assert bar5 == Bar(*(getattr(m5, name)[j].item() for name in Bar._fields))


# --------------------------------------------------------------------------------------------
# custom indicators


@register_indicator
class Change(Indicator):
    """Close minus the previous close (counts its updates, to prove one fold per run)."""

    kind = "test_change"
    param_names = ("scale",)
    input = "field"
    updates = 0

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise IndicatorParameterError(f"test_change: scale must be > 0, got {scale}")
        self.scale = scale
        self.reset()

    @property
    def warmup_period(self) -> int:
        return 1

    def reset(self) -> None:
        self._last = math.nan

    def update(self, value: float) -> float:
        type(self).updates += 1
        out = (value - self._last) * self.scale
        self._last = value
        return out


@register_indicator
class MidRange(Indicator):
    """(high + low) / 2 of one side: a ``range`` input."""

    kind = "test_mid_range"
    param_names = ()
    input = "range"

    @property
    def warmup_period(self) -> int:
        return 0

    def reset(self) -> None:
        pass

    def update(self, high: float, low: float, close: float) -> float:  # type: ignore[override]
        return (high + low) / 2.0


@register_indicator
class Spread(Indicator):
    """Ask close minus bid close: a whole-``bar`` input."""

    kind = "test_spread"
    param_names = ()
    input = "bar"

    @property
    def warmup_period(self) -> int:
        return 0

    def reset(self) -> None:
        pass

    def update(self, bar: Bar) -> float:  # type: ignore[override]
        return bar.ask_close - bar.bid_close


def test_a_custom_indicator_is_computed_once_per_run_and_read_by_handle() -> None:
    rows = [(1.1, 1.1005, 1.0995, 1.1 + k * 1e-4) for k in range(20)]
    bars = make_bars(rows)
    change = IndicatorSpec.of("test_change", scale=2)
    assert change == IndicatorSpec.of("TEST_CHANGE", scale=2.0) and change.field == "close"
    seen = []

    class UsesCustom(Strategy):
        name = "uses_custom"

        def init(self, ctx):
            self.a = ctx.indicator(change)
            self.b = ctx.indicator(IndicatorSpec.of("test_change", scale=2))  # equal: shared
            self.mid = ctx.indicator(IndicatorSpec.of("test_mid_range"), side="ask")
            self.spread = ctx.indicator(IndicatorSpec.of("test_spread"))

        def evaluate(self, data):
            for _ in range(3):  # reads never compute
                seen.append(
                    (
                        data.value(self.a),
                        data.value(self.b),
                        data.value(self.mid),
                        data.value(self.spread),
                    )
                )

    Change.updates = 0
    run_python(bars, UsesCustom(), EngineSettings(primary_timeframe=M1, timeframes=(M1,)))
    assert Change.updates == len(rows)  # one fold over the bars, not one per read or handle
    for i in range(len(rows)):
        a, b, mid, spread = seen[3 * i]
        expected = (rows[i][3] - rows[i - 1][3]) * 2 if i else math.nan
        assert a == b == expected or (i == 0 and math.isnan(a) and math.isnan(b))
        assert mid == ((1.1005 + 0.0002) + (1.0995 + 0.0002)) / 2.0
        assert spread == (rows[i][3] + 0.0002) - rows[i][3]


def test_custom_kinds_are_validated_like_built_ins() -> None:
    with pytest.raises(IndicatorParameterError, match="scale must be > 0"):
        IndicatorSpec.of("test_change", scale=0)
    with pytest.raises(IndicatorParameterError, match="unknown parameter"):
        IndicatorSpec.of("test_change", period=3)
    with pytest.raises(IndicatorParameterError, match="field must be None"):
        IndicatorSpec("test_spread", (), "close")
    assert IndicatorSpec.of("test_spread", field="high").field is None
    assert np.isnan(IndicatorSpec.of("test_change").build().update(1.0))


def test_register_indicator_refuses_bad_classes() -> None:
    def make(kind="test_bad", names=(), input_="field", base=Indicator):
        return type("Bad", (base,), {"kind": kind, "param_names": names, "input": input_})

    with pytest.raises(IndicatorParameterError, match="built-in"):
        register_indicator(make(kind="sma"))
    with pytest.raises(IndicatorParameterError, match="already registered by Change"):
        register_indicator(make(kind="test_change"))
    with pytest.raises(IndicatorParameterError, match="input"):
        register_indicator(make(input_="tick"))
    with pytest.raises(IndicatorParameterError, match="not parameters of __init__"):
        register_indicator(make(names=("period",)))
    with pytest.raises(IndicatorParameterError, match="lowercase identifier"):
        register_indicator(make(kind="Bad Kind"))
    with pytest.raises(IndicatorParameterError, match=r"not an omega\.indicators\.Indicator"):
        register_indicator(make(base=object))  # type: ignore[arg-type]
    assert register_indicator(Change) is Change  # again: a no-op

"""hybrid mode's slice: every read a strategy makes gives what the Python engine's slice gives.

In hybrid mode `value` and `closed_bars` are Rust methods and the position
view reads a Rust mirror (crates/py_bindings/src/hybrid.rs). A probe strategy reads everything
at every close in both modes; the logs must be identical, value for value. Errors must be the
same exceptions with the same messages.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from _rust_helpers import assert_same_run
from omega.data import generate_synthetic
from omega.data.bars import COLUMNS
from omega.data.resample import resample as resample_series
from omega.engine.loop import run_python
from omega.engine.market import init_strategy
from omega.engine.settings import EngineSettings
from omega.errors import StrategyError
from omega.indicators import IndicatorCache, IndicatorSpec
from omega.strategy import (
    Close,
    IndicatorHandle,
    ModifyTakeProfit,
    MoveToBreakEven,
    PartialClose,
    Strategy,
    TradeSignal,
    TrailStop,
)
from omega.strategy.data_slice import prefix_view
from omega.timeframes import Timeframe

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.engine.hybrid import RustIndicators, _Driver, _overrides_manage, run_hybrid

M1, M5, M15, H1 = Timeframe.M1, Timeframe.M5, Timeframe.M15, Timeframe.H1
SMA = IndicatorSpec.of("sma", period=7)
EMA_ASK = IndicatorSpec.of("ema", period=5)
STD_MID = IndicatorSpec.of("rolling_std", period=9)
ATR = IndicatorSpec.of("atr", period=4)
EMA_H1 = IndicatorSpec.of("ema", period=3)
KZ_M15 = IndicatorSpec.of("kalman_zscore", q=0.01, r=1.0, x0=None, p0=1.0, lookback=6)


def exact(value: object) -> object:
    """A float as its bit pattern (NaN included), so logs compare exactly with ==."""
    if isinstance(value, float | np.floating):
        return ("f", float(value).hex() if not math.isnan(value) else "nan")
    return value


def _flat(row: tuple) -> list:
    """Bars (namedtuples) spread into their fields, so each float compares by its bits."""
    out: list = []
    for v in row:
        out.extend(v) if isinstance(v, tuple) else out.append(v)
    return out


class Probe(Strategy):
    """Reads every slice accessor at every close and trades now and then (so the position
    view is seen open, partially held and closed)."""

    name = "probe"

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple] = []

    def init(self, ctx) -> None:
        self.sma = ctx.indicator(SMA)
        self.ema_ask = ctx.indicator(EMA_ASK, side="ask")
        self.std_mid = ctx.indicator(STD_MID, timeframe=ctx.primary_timeframe, side="mid")
        self.atr = ctx.indicator(ATR)
        self.ema_h1 = ctx.indicator(EMA_H1, timeframe=H1)
        self.kz_m15 = ctx.indicator(KZ_M15, timeframe="m15", side="ask")

    def _read(self, data, where: str) -> None:
        h1 = data.closed_bars(H1)
        h1_again = data.closed_bars("H1")
        primary = data.closed_bars()
        row = (
            where,
            data.index,
            data.time,
            tuple(exact(v) for v in data.bar),
            data.value(self.sma),
            data.value(self.sma, offset=1),
            data.value(self.sma, 6),
            data.value(self.sma, offset=10_000),
            data.value(self.ema_ask),
            data.value(self.std_mid),
            data.value(self.atr),
            data.value(self.ema_h1),
            data.value(self.ema_h1, offset=2),
            data.value(self.kz_m15),
            data.value(self.kz_m15, 1),
            data.value(IndicatorHandle(0)),
            data.value(3),  # a plain int is a handle too
            len(data.series(self.ema_h1)),
            data.series(self.kz_m15).tobytes(),
            data.last_closed(H1),
            data.last_closed("M15"),
            data.last_closed(data.primary_timeframe),
            data.instrument,
            data.tracing,
            len(h1),
            len(h1_again),
            h1.bid_close[-1] if len(h1) else None,
            h1.volume[-1] if len(h1) else None,
            h1.time[-1] if len(h1) else None,
            len(primary),
            primary.ask_close[-1],
        )
        position = data.position
        if position is not None:
            row += (
                position.side,
                position.is_long,
                position.entry_time,
                position.entry_index,
                position.entry_price,
                position.size,
                position.stop_loss,
                position.take_profit,
                position.instrument,
                position.bars_held,
                position.mfe,
                position.unrealized_pnl,
                position.tag,
                repr(position),
            )
        self.log.append(tuple(exact(v) for v in _flat(row)))
        data.record("probe", 1.0)

    def evaluate(self, data):
        self._read(data, "evaluate")
        if data.position is None and data.index % 17 == 5:
            side = TradeSignal.long if data.index % 2 else TradeSignal.short
            return side(
                stop_loss_distance=0.002, take_profit_distance=0.003, size=0.3, max_bars=6, tag="p"
            )
        return None

    def manage_position(self, position, data):
        self._read(data, "manage")
        return None


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=6_000, seed=21, symbol="EURUSD")


def settings_for(bars, primary: Timeframe = M5) -> EngineSettings:
    return replace(
        EngineSettings(instrument=bars.instrument),
        primary_timeframe=primary,
        timeframes=(primary, M15, H1),
    )


@pytest.mark.parametrize("primary", [M1, M5])
@pytest.mark.parametrize("trace", [False, True])
def test_every_slice_read_is_the_same_in_hybrid_and_python_mode(bars, primary, trace):
    settings = settings_for(bars, primary)
    in_python, in_hybrid = Probe(), Probe()
    expected = run_python(bars, in_python, settings, trace=trace)
    got = run_hybrid(bars, in_hybrid, settings, trace=trace)
    assert expected.n_trades > 10  # the position view was really exercised
    assert any(row[0] == "manage" for row in in_python.log)
    assert in_hybrid.log == in_python.log
    assert_same_run(got, expected, trace=trace)


class ReadsUndeclared(Strategy):
    name = "reads_undeclared"

    def evaluate(self, data):
        return data.value(IndicatorHandle(0)) and None


class ReadsNegativeHandle(Strategy):
    name = "reads_negative_handle"

    def init(self, ctx):
        ctx.indicator(SMA)

    def evaluate(self, data):
        return data.value(-1) and None


class ReadsAhead(Strategy):
    name = "reads_ahead"

    def init(self, ctx):
        self.sma = ctx.indicator(SMA)

    def evaluate(self, data):
        return data.value(self.sma, offset=-1) and None


class ReadsUnconfiguredTimeframe(Strategy):
    name = "reads_unconfigured"

    def evaluate(self, data):
        return data.last_closed("D1") and None


class ReadsUnconfiguredBars(Strategy):
    name = "reads_unconfigured_bars"

    def evaluate(self, data):
        return data.closed_bars(Timeframe.H4) and None


@pytest.mark.parametrize(
    "strategy_class",
    [
        ReadsUndeclared,
        ReadsNegativeHandle,
        ReadsAhead,
        ReadsUnconfiguredTimeframe,
        ReadsUnconfiguredBars,
    ],
)
def test_bad_reads_fail_with_the_python_engines_error(bars, strategy_class):
    settings = settings_for(bars)
    with pytest.raises(StrategyError) as in_python:
        run_python(bars, strategy_class(), settings)
    with pytest.raises(StrategyError) as in_hybrid:
        run_hybrid(bars, strategy_class(), settings)
    assert str(in_hybrid.value) == str(in_python.value)
    assert type(in_hybrid.value.__cause__) is type(in_python.value.__cause__) is StrategyError


def test_prefix_view_is_the_slice_of_the_series(bars):
    source = replace(bars, source="x.csv")
    for stop in (0, 1, 17, len(source)):
        view = prefix_view(source, stop)
        expected = source.slice(0, stop)
        for name in ("time", "bid_open", "bid_close", "ask_high", "ask_low", "volume"):
            assert np.array_equal(getattr(view, name), getattr(expected, name))
            assert getattr(view, name).dtype == getattr(expected, name).dtype
        assert len(view) == stop
        assert (view.timeframe, view.instrument, view.source, view.quality) == (
            expected.timeframe,
            expected.instrument,
            "x.csv",
            None,
        )
    assert view.bid_close.base is not None  # a view, not a copy


class NoManage(Strategy):
    name = "no_manage"

    def evaluate(self, data):
        if data.position is None and data.index % 50 == 3:
            return TradeSignal.long(stop_loss_distance=0.001, max_bars=9, size=0.1)
        return None


def test_manage_position_is_skipped_only_when_it_is_the_base_method(bars):
    assert not _overrides_manage(NoManage())
    assert _overrides_manage(Probe())
    patched = NoManage()
    patched.manage_position = lambda position, data: None  # type: ignore[method-assign]
    assert _overrides_manage(patched)

    settings = settings_for(bars)
    expected = run_python(bars, NoManage(), settings)
    got = run_hybrid(bars, NoManage(), settings)
    assert expected.n_trades > 5
    assert_same_run(got, expected)


def test_the_reader_is_released_after_the_run(bars):
    settings = settings_for(bars)
    probe = Probe()
    driver = _Driver(probe, bars, settings, init_strategy(probe, settings))
    driver.build([resampled_columns(bars, tf) for tf in driver.resample_to])
    driver.attach(_FakeReader(), object())
    assert "value" in driver.slice.__dict__
    driver.detach()
    assert driver.slice.__dict__ == {}
    assert driver.slice.value.__func__ is type(driver.slice).value  # the Python method


class _FakeReader:
    def value(self, *args):
        raise AssertionError("not called")

    closed_bars = value


def resampled_columns(bars, timeframe):
    frame = resample_series(bars, timeframe)
    return tuple(getattr(frame, name) for name in COLUMNS)


SPECS = [
    IndicatorSpec.of("sma", period=4),
    IndicatorSpec.of("ema", field="high", period=6),
    IndicatorSpec.of("rsi", field="low", period=5),
    IndicatorSpec.of("atr", period=3),
    IndicatorSpec.of("rolling_std", field="open", period=8),
    IndicatorSpec.of("bollinger", period=10, k_up=1.5, k_down=2.5, band=-1),
    IndicatorSpec.of("zscore", period=12),
    IndicatorSpec.of("kalman", q=0.05, r=1.0),
    IndicatorSpec.of("kalman_zscore", field="high", q=0.02, r=0.5, x0=1.1, p0=2.0, lookback=9),
]


@pytest.mark.parametrize("side", ["bid", "ask", "mid"])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_rust_indicators_equal_the_python_cache_for_every_kind_field_and_side(bars, spec, side):
    frame = resample_series(bars, M5)
    expected = IndicatorCache().get(frame, side, spec)
    got = RustIndicators().get(frame, side, spec)
    assert got.dtype == np.float64
    assert not got.flags.writeable
    assert got.tobytes() == expected.tobytes()  # bit for bit, NaN payloads included


class KeepsFrames(Strategy):
    """Keeps, at the last close, the closed bars of every timeframe it can see."""

    name = "keeps_frames"

    def __init__(self, n_bars: int) -> None:
        super().__init__()
        self.last = n_bars - 1
        self.frames: dict[Timeframe, object] = {}

    def evaluate(self, data):
        if data.index == self.last:
            self.frames = {tf: data.closed_bars(tf) for tf in data.timeframes}
        return None


@pytest.mark.parametrize("base_rows", [6_000, 5_999])
def test_frames_resampled_in_rust_equal_the_python_resampling(bars, base_rows):
    """Every column of every frame the hybrid slice shows (M5, M15, H1 from M1, with an
    incomplete last bucket in one case) equals `omega.data.resample` bit for bit, and the
    Python engine shows the same number of closed bars."""
    data = bars.slice(0, base_rows)
    settings = settings_for(data)
    n_primary = len(resample_series(data, M5))
    in_hybrid, in_python = KeepsFrames(n_primary), KeepsFrames(n_primary)
    run_hybrid(data, in_hybrid, settings)
    run_python(data, in_python, settings)
    assert set(in_hybrid.frames) == {M5, M15, H1}
    for tf, shown in in_hybrid.frames.items():
        expected = resample_series(data, tf)
        assert len(shown) == len(in_python.frames[tf]) >= len(expected) - 1 > 0
        for name in COLUMNS:
            got, want = getattr(shown, name), getattr(expected, name)[: len(shown)]
            assert got.dtype == want.dtype, name
            assert got.tobytes() == want.tobytes(), (tf, name)


class ManagesWithSeveralActions(Strategy):
    """Returns several actions per bar (ATR distances included, NaN during the ATR warm-up
    at the start) so hybrid mode's action conversion meets every kind."""

    name = "several_actions"

    def init(self, ctx):
        self.atr = ctx.indicator(IndicatorSpec.of("atr", period=30))

    def evaluate(self, data):
        if data.position is None and data.index % 13 == 2:
            side = TradeSignal.long if data.index % 2 else TradeSignal.short
            return side(stop_loss_distance=0.003, size=0.5, tag="s")
        return None

    def manage_position(self, position, data):
        held = position.bars_held
        if held == 1:
            return [MoveToBreakEven(-2.0, unit="atr", atr=self.atr), TrailStop(0.0004, "price")]
        if held == 2:
            return (ModifyTakeProfit(position.entry_price * 1.01), TrailStop(1.5, "atr", self.atr))
        if held == 3:
            return [TrailStop(3.0), PartialClose(0.5), MoveToBreakEven(-1.0)]
        if held == 5:
            return [PartialClose(0.4), Close(), PartialClose(0.5)]
        return None


@pytest.mark.parametrize("trace", [False, True])
def test_several_actions_per_bar_are_the_same_in_hybrid_and_python_mode(bars, trace):
    settings = settings_for(bars)
    expected = run_python(bars, ManagesWithSeveralActions(), settings, trace=trace)
    got = run_hybrid(bars, ManagesWithSeveralActions(), settings, trace=trace)
    assert expected.n_trades > 20
    if trace:
        events = {row["event"] for row in expected.trace}
        assert "break_even" in events
        assert any("trail_stop" in e for e in events) and any("|" in e for e in events)
    assert_same_run(got, expected, trace=trace)

"""`hybrid` mode: the Rust engine runs the loop and calls a Python strategy back per bar.

Before the loop the market is built as in the Python engine, but on bars resampled by
omega-engine and with every declared indicator series computed by omega-indicators in Rust
(`_core.indicator_batch`): the same contract and recurrences, so the same values. During the
loop the Rust `HybridStrategy` (crates/py_bindings/src/hybrid.rs) calls the strategy's own
``evaluate`` and ``manage_position`` directly on one slice it moves in place; this driver only
supplies the pieces and checks the (rare) signals and actions the strategy returns. The cost
per bar and why: docs/engine/hybrid.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omega.data.bars import BarSeries
from omega.data.resample import resample
from omega.engine.loop import _strategy_failure, check_settings
from omega.engine.market import declared_indicators, market_from_series, run_timeframes
from omega.engine.raw import RawRun
from omega.engine.rust import _core, bar_columns, raw_run_from_core
from omega.engine.settings import EngineSettings
from omega.errors import EmptyDataError, StrategyError
from omega.indicators import IndicatorSpec
from omega.strategy.base import IndicatorRequest, Strategy
from omega.strategy.data_slice import DataSlice
from omega.strategy.position import Position
from omega.strategy.signals import (
    Close,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    PartialClose,
    TradeSignal,
)
from omega.timeframes import Timeframe


class RustIndicators:
    """The ``get`` of `omega.indicators.IndicatorCache`, computed by omega-indicators in Rust.

    Same inputs as the Python cache (`BarSeries.column` per side, ``mid`` included), same
    recurrences in the same float order, so the same values; each series once per run.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[Timeframe, str, IndicatorSpec], np.ndarray] = {}

    def get(self, bars: BarSeries, side: str, spec: IndicatorSpec) -> np.ndarray:
        key = (bars.timeframe, side, spec)
        series = self._series.get(key)
        if series is None:
            core = _core()
            if spec.field is None:  # atr reads high, low and close
                series = core.indicator_batch(
                    spec.kind,
                    spec.param_dict,
                    high=np.ascontiguousarray(bars.column(side, "high")),
                    low=np.ascontiguousarray(bars.column(side, "low")),
                    close=np.ascontiguousarray(bars.column(side, "close")),
                )
            else:
                values = np.ascontiguousarray(bars.column(side, spec.field))
                series = core.indicator_batch(spec.kind, spec.param_dict, values)
            series.flags.writeable = False
            self._series[key] = series
        return series


def _frame(columns: tuple[np.ndarray, ...], timeframe: Timeframe, base: BarSeries) -> BarSeries:
    """One resampled frame (ten columns in `omega.data.bars.COLUMNS` order) as a BarSeries."""
    time, bid_open, bid_high, bid_low, bid_close, ask_open, ask_high, ask_low, ask_close, vol = (
        columns
    )
    return BarSeries(
        time,
        bid_open,
        bid_high,
        bid_low,
        bid_close,
        ask_open,
        ask_high,
        ask_low,
        ask_close,
        vol,
        timeframe=timeframe,
        instrument=base.instrument,
        source=base.source,
    )


class _HybridSlice(DataSlice):
    """A `DataSlice` whose ``indicator``, ``last_closed`` and ``closed_bars`` are the Rust
    reader's methods (instance attributes shadow the class's Python methods); everything else
    is the Python `DataSlice`."""


def _overrides_manage(strategy: Strategy) -> bool:
    """False only when ``manage_position`` is the base method (which always returns None);
    an override on the class or on the instance counts."""
    manage = strategy.manage_position
    return getattr(manage, "__func__", None) is not Strategy.manage_position


class _Driver:
    """What the Rust `HybridStrategy` reads: ``name``, ``base_columns``, ``resample_to``;
    after ``build``: ``evaluate``, ``manage`` (None when not overridden: the base returns
    None, so the call is skipped), ``slice``, ``lookup``, ``resolve``, ``closed_view``; and
    calls ``attach`` once, ``signal`` / ``action`` / ``failure`` on the rare paths."""

    def __init__(
        self,
        strategy: Strategy,
        bars: BarSeries,
        settings: EngineSettings,
        requests: list[IndicatorRequest],
    ) -> None:
        self.name = strategy.name or type(strategy).__name__
        self._strategy = strategy
        self._bars = bars
        self._settings = settings
        self._requests = requests
        self._timeframes = run_timeframes(bars.timeframe, settings, requests)
        base = bars.timeframe
        for tf in self._timeframes:
            if tf.nanos % base.nanos:
                resample(bars, tf)  # raises the Python engine's ConfigError for this pair
        self.base_columns = bar_columns(bars)
        self.resample_to = [tf.name for tf in self._timeframes if tf != base]
        self.evaluate = strategy.evaluate
        self.manage = strategy.manage_position if _overrides_manage(strategy) else None

    def build(self, frames: list[tuple[np.ndarray, ...]]) -> None:
        """The market over ``frames`` (the base bars resampled in Rust to ``resample_to``)
        and the slice the strategy sees."""
        bars = self._bars
        resampled = dict(zip(self.resample_to, frames, strict=True))
        series = {
            tf: bars if tf == bars.timeframe else _frame(resampled[tf.name], tf, bars)
            for tf in self._timeframes
        }
        market = market_from_series(series, self._settings, self._requests, RustIndicators())
        self.slice = _HybridSlice(market)
        # first reads of a (spec, timeframe, side) or a timeframe resolve through a plain
        # slice: same errors (bound to that slice, not to the driver: no reference cycle)
        resolver = DataSlice(market)
        self.lookup = resolver._lookup
        self.resolve = resolver._resolve
        self.closed_view = resolver._closed_view
        self._times = market.primary_columns[0]

    def attach(self, reader: Any, mirror: Any) -> Position:
        """Install the Rust reader's methods on the slice; the `Position` view over the Rust
        mirror. (``record`` stays the Python method: with no trace it is a check of one slot,
        cheaper than any call into Rust.)"""
        slice_dict = self.slice.__dict__
        slice_dict["indicator"] = reader.indicator
        slice_dict["last_closed"] = reader.last_closed
        slice_dict["closed_bars"] = reader.closed_bars
        return Position(mirror)

    def detach(self) -> None:
        """Drop the reader (and the series it copied) once the run is over."""
        if hasattr(self, "slice"):
            self.slice.__dict__.clear()

    def failure(self, i: int, exc: Exception) -> StrategyError:
        """The exception raised by the strategy at bar ``i``, as the Python engine raises it."""
        error = _strategy_failure(self._strategy, i, self._times[i], exc)
        error.__cause__ = exc
        return error

    def signal(self, i: int, signal: object) -> tuple:
        """A returned signal, checked, as the tuple the Rust side converts."""
        if not isinstance(signal, TradeSignal):
            raise self.failure(i, TypeError(f"evaluate returned {signal!r}, not a TradeSignal"))
        return (
            signal.direction,
            signal.stop_loss,
            signal.take_profit,
            signal.stop_loss_distance,
            signal.take_profit_distance,
            signal.size,
            signal.risk_percent,
            signal.max_bars,
            signal.tag,
        )

    def action(self, i: int, action: object) -> tuple[str, float | None]:
        """A returned position action as ``(kind, value)``."""
        if isinstance(action, Close):
            return ("close", None)
        if isinstance(action, PartialClose):
            return ("partial", action.fraction)
        if isinstance(action, ModifyStopLoss):
            return ("sl", action.price)
        if isinstance(action, ModifyTakeProfit):
            return ("tp", action.price)
        if isinstance(action, MoveToBreakEven):
            return ("break_even", action.offset_pips)
        raise self.failure(i, TypeError(f"manage_position returned {action!r}"))


def run_hybrid(
    bars: BarSeries,
    strategy: Strategy,
    settings: EngineSettings,
    *,
    trace: bool = False,
) -> RawRun:
    """Backtest the Python ``strategy`` on ``bars`` with the Rust engine driving the loop."""
    if len(bars) == 0:
        raise EmptyDataError("no bars to backtest", file=bars.source)
    check_settings(settings)
    requests = declared_indicators(strategy, settings.primary_timeframe)
    driver = _Driver(strategy, bars, settings, requests)
    try:
        out: dict[str, Any] = _core().run_hybrid(
            bar_columns(bars), bars.timeframe.name, settings, driver, trace, bars.source
        )
    finally:
        driver.detach()
    return raw_run_from_core(out)

"""`hybrid` mode: the Rust engine runs the loop and calls a Python strategy back per bar.

The Python side builds the market (timeframes, visibility, indicators) and one `DataSlice`
once; per call the driver only moves the slice to the bar and hands the strategy a position
view. Signals and actions go back to Rust as plain tuples, so each callback costs one Python
call plus a few conversions.
"""

from __future__ import annotations

from typing import Any

from omega.data.bars import BarSeries
from omega.engine.loop import _strategy_failure, check_settings
from omega.engine.market import build_market, declared_indicators
from omega.engine.raw import RawRun
from omega.engine.rust import _core, bar_columns, raw_run_from_core
from omega.engine.settings import EngineSettings
from omega.errors import EmptyDataError
from omega.indicators import IndicatorCache
from omega.strategy.base import Strategy
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


class _PositionMirror:
    """The Rust engine's open position, as the `PositionState` a `Position` view reads."""

    __slots__ = (
        "bars_held",
        "entry_index",
        "entry_price",
        "entry_time",
        "mfe",
        "side",
        "size",
        "sl",
        "tag",
        "tp",
        "unrealized_pnl",
    )

    def update(self, state: tuple) -> None:
        (
            self.side,
            self.entry_time,
            self.entry_index,
            self.entry_price,
            self.size,
            self.sl,
            self.tp,
            self.bars_held,
            self.mfe,
            self.unrealized_pnl,
            self.tag,
        ) = state


class _Driver:
    """What the Rust `HybridStrategy` calls: ``evaluate``, ``manage``, ``take_values``."""

    def __init__(self, strategy: Strategy, data: DataSlice, times: list[int], trace: bool):
        self.name = strategy.name or type(strategy).__name__
        self._strategy = strategy
        self._evaluate = strategy.evaluate
        self._manage = strategy.manage_position
        self._data = data
        self._times = times
        self._trace = trace
        self._values: dict[str, float] = {}
        self._mirror = _PositionMirror()
        self._view = Position(self._mirror)

    def _position(self, state: tuple | None) -> Position | None:
        if state is None:
            return None
        self._mirror.update(state)
        return self._view

    def _values_dict(self) -> dict[str, float] | None:
        if not self._trace:
            return None
        self._values = {}
        return self._values

    def take_values(self) -> list[tuple[str, float]]:
        """Values the strategy recorded during the last call, in recording order."""
        return list(self._values.items())

    def evaluate(self, i: int, state: tuple | None) -> tuple | None:
        view = self._position(state)
        self._data._move(i, view, self._values_dict())
        try:
            signal = self._evaluate(self._data)
        except Exception as exc:
            raise _strategy_failure(self._strategy, i, self._times[i], exc) from exc
        if signal is None:
            return None
        if not isinstance(signal, TradeSignal):
            raise _strategy_failure(
                self._strategy,
                i,
                self._times[i],
                TypeError(f"evaluate returned {signal!r}, not a TradeSignal"),
            )
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

    def manage(self, i: int, state: tuple) -> tuple[str, float | None] | None:
        view = self._position(state)
        self._data._move(i, view, self._values_dict())
        try:
            action = self._manage(view, self._data)  # type: ignore[arg-type]
        except Exception as exc:
            raise _strategy_failure(self._strategy, i, self._times[i], exc) from exc
        if action is None:
            return None
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
        raise _strategy_failure(
            self._strategy, i, self._times[i], TypeError(f"manage_position returned {action!r}")
        )


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
    market = build_market(bars, settings, requests, IndicatorCache())
    driver = _Driver(strategy, DataSlice(market), market.primary_columns[0], trace)
    out: dict[str, Any] = _core().run_hybrid(
        bar_columns(bars), bars.timeframe.name, settings, driver, trace, bars.source
    )
    return raw_run_from_core(out)

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
from omega.engine.loop import _as_actions, _strategy_failure, check_settings, distance
from omega.engine.market import init_strategy, market_from_series, run_timeframes
from omega.engine.raw import RawRun
from omega.engine.rust import _core, bar_columns, raw_run_from_core
from omega.engine.settings import EngineSettings
from omega.errors import EmptyDataError, StrategyError
from omega.indicators import IndicatorSpec
from omega.indicators.compute import SideBars, compute
from omega.strategy.base import Strategy
from omega.strategy.context import RunContext
from omega.strategy.data_slice import DataSlice
from omega.strategy.position import Position
from omega.strategy.signals import (
    CancelOrder,
    Close,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    OrderAction,
    PartialClose,
    TradeSignal,
    TrailStop,
    WorkingOrder,
)
from omega.timeframes import Timeframe


class RustIndicators:
    """The ``get`` of `omega.indicators.IndicatorCache`, computed by omega-indicators in Rust.

    Same inputs as the Python cache (`BarSeries.column` per side, ``mid`` included), same
    recurrences in the same float order, so the same values; each series once per run. A
    registered custom kind (which Rust does not know) is computed by the Python fold.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[Timeframe, str, IndicatorSpec], np.ndarray] = {}

    def get(self, bars: BarSeries, side: str, spec: IndicatorSpec) -> np.ndarray:
        key = (bars.timeframe, side, spec)
        series = self._series.get(key)
        if series is None and spec.custom_input is not None:
            series = compute(spec, SideBars.from_series(bars, side), bars)
            series.flags.writeable = False
            self._series[key] = series
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
    """A `DataSlice` whose ``value`` and ``closed_bars`` are the Rust reader's methods
    (instance attributes shadow the class's Python methods); everything else is the Python
    `DataSlice`, reading the slot ``_i`` the Rust side moves."""


def _overrides_manage(strategy: Strategy) -> bool:
    """False only when ``manage_position`` is the base method (which always returns None);
    an override on the class or on the instance counts."""
    manage = strategy.manage_position
    return getattr(manage, "__func__", None) is not Strategy.manage_position


class _Driver:
    """What the Rust `HybridStrategy` reads: ``name``, ``base_columns``, ``resample_to``;
    after ``build``: ``evaluate``, ``manage`` (None when not overridden: the base returns
    None, so the call is skipped), ``slice``, ``handles`` (per indicator handle: its values
    and its visibility map, None for the primary), ``value_checked`` (the Python
    ``value``, for the error paths), ``resolve``, ``closed_view``; and calls ``attach``
    once, ``signal`` / ``actions`` / ``failure`` on the rare paths."""

    def __init__(
        self,
        strategy: Strategy,
        bars: BarSeries,
        settings: EngineSettings,
        ctx: RunContext,
    ) -> None:
        self.name = strategy.name or type(strategy).__name__
        self._strategy = strategy
        self._bars = bars
        self._settings = settings
        self._requests = ctx.declared
        self._pip = settings.instrument.pip_size
        self._timeframes = run_timeframes(
            bars.timeframe, settings, ctx.declared, ctx.read_timeframes
        )
        base = bars.timeframe
        for tf in self._timeframes:
            if tf.nanos % base.nanos:
                resample(bars, tf)  # raises the Python engine's ConfigError for this pair
        self.base_columns = bar_columns(bars)
        self.resample_to = [tf.name for tf in self._timeframes if tf != base]
        self.evaluate = strategy.evaluate
        self.manage = strategy.manage_position if _overrides_manage(strategy) else None
        self.manages_orders = (
            getattr(strategy.manage_order, "__func__", None) is not Strategy.manage_order
        )

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
        self.handles = [(values, visible) for values, visible, _ in market.handles]
        # error paths and first reads of a timeframe resolve through a plain slice: same
        # errors (bound to that slice, not to the driver: no reference cycle)
        resolver = DataSlice(market)
        self.value_checked = resolver.value
        self.resolve = resolver._resolve
        self.closed_view = resolver._closed_view
        self._times = market.primary_columns[0]

    def attach(self, reader: Any, mirror: Any) -> Position:
        """Install the Rust reader's methods on the slice; the `Position` view over the Rust
        mirror. (``record`` stays the Python method: with no trace it is a check of one slot,
        cheaper than any call into Rust.)"""
        slice_dict = self.slice.__dict__
        slice_dict["value"] = reader.value
        slice_dict["closed_bars"] = reader.closed_bars
        return Position(mirror, self._settings.instrument_id)

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
        """A returned signal, checked, as the tuples the Rust side converts: its fields,
        then its order's (kind, price, expiry in bars, expiry time)."""
        if not isinstance(signal, TradeSignal):
            raise self.failure(i, TypeError(f"evaluate returned {signal!r}, not a TradeSignal"))
        return (
            (
                signal.direction,
                signal.stop_loss,
                signal.take_profit,
                signal.stop_loss_distance,
                signal.take_profit_distance,
                signal.size,
                signal.risk_percent,
                signal.max_bars,
                signal.tag,
                signal.instrument,
            ),
            (signal.order, signal.price, signal.expiry_bars, signal.expires_at),
        )

    def manage_order(
        self, i: int, order: tuple[int, str, float, int, int | None, int | None, str]
    ) -> list[tuple[str, float | None]]:
        """``manage_order`` for the working order the engine holds (``direction, kind,
        price, placed_index, bars_left, expires_at, tag``), its actions as ``(kind, price)``
        pairs in order: ``cancel``, ``modify``. Called only when the strategy overrides it."""
        direction, kind, price, placed, bars_left, expires_at, tag = order
        view = WorkingOrder(
            TradeSignal(direction, order=kind, price=price, tag=tag, expires_at=expires_at),  # type: ignore[arg-type]
            placed,
        )
        view.bars_left = bars_left
        try:
            returned = self._strategy.manage_order(view, self.slice)
        except Exception as exc:
            raise self.failure(i, exc) from exc
        if returned is None:
            return []
        actions = _as_actions(returned, OrderAction)
        if actions is None:
            raise self.failure(i, TypeError(f"manage_order returned {returned!r}"))
        return [
            ("cancel", None) if isinstance(a, CancelOrder) else ("modify", a.price)  # type: ignore[attr-defined]
            for a in actions
        ]

    def actions(self, i: int, returned: object) -> list[tuple[str, float | None]]:
        """What ``manage_position`` returned, as ``(kind, value)`` pairs in order: ``close``,
        ``partial``, ``sl``, ``tp``, ``break_even_pips`` / ``break_even_price``,
        ``trail_pips`` / ``trail_price``. A distance in ATR units becomes a price distance
        here (``offset * value``: the product the engine would take); while it is NaN the
        action is skipped, as the engine skips it."""
        actions = _as_actions(returned)
        if actions is None:
            raise self.failure(i, TypeError(f"manage_position returned {returned!r}"))
        out: list[tuple[str, float | None]] = []
        for action in actions:
            if isinstance(action, Close):
                out.append(("close", None))
            elif isinstance(action, PartialClose):
                out.append(("partial", action.fraction))
            elif isinstance(action, ModifyStopLoss):
                out.append(("sl", action.price))
            elif isinstance(action, ModifyTakeProfit):
                out.append(("tp", action.price))
            elif isinstance(action, MoveToBreakEven | TrailStop):
                prefix = "break_even" if isinstance(action, MoveToBreakEven) else "trail"
                x = action.offset if isinstance(action, MoveToBreakEven) else action.distance
                if action.unit == "atr":
                    try:
                        x = distance(x, "atr", action.atr, self._pip, self.slice)
                    except StrategyError as exc:
                        raise self.failure(i, exc) from exc
                    if x != x:
                        continue  # NaN (warm-up): skipped, no event
                    out.append((f"{prefix}_price", x))
                else:
                    out.append((f"{prefix}_{action.unit}", x))
            else:
                raise self.failure(i, TypeError(f"manage_position returned {action!r}"))
        return out


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
    driver = _Driver(strategy, bars, settings, init_strategy(strategy, settings))
    try:
        out: dict[str, Any] = _core().run_hybrid(
            bar_columns(bars), bars.timeframe.name, settings, driver, trace, bars.source
        )
    finally:
        driver.detach()
    return raw_run_from_core(out)

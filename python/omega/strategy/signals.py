"""What a strategy returns: a `TradeSignal` to enter, a `PositionAction` to manage.

Both are immutable values checked at construction, so a contradictory request fails in the
strategy that made it (with the bar named by the engine), not somewhere inside the engine.
Semantics: docs/engine/execution.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

from omega.errors import StrategyError

LONG = 1
SHORT = -1

DistanceUnit = Literal["pips", "price", "atr"]
UNITS = ("pips", "price", "atr")
OrderKind = Literal["market", "limit", "stop"]
ORDER_KINDS = ("market", "limit", "stop")


def _check_positive(name: str, value: float | None, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Real):
        raise StrategyError(f"TradeSignal.{name} must be a number, got {value!r}")
    bad = value < 0.0 if allow_zero else value <= 0.0
    if not math.isfinite(value) or bad:
        bound = ">= 0" if allow_zero else "> 0"
        raise StrategyError(f"TradeSignal.{name} must be finite and {bound}, got {value!r}")


@dataclass(frozen=True, slots=True)
class TradeSignal:
    """An entry decided at a close: a market order for the next open, or a pending limit or
    stop entry.

    ``order`` is ``"market"`` (the default), ``"limit"`` or ``"stop"``; a pending entry needs
    ``price`` and works from the next bar until it fills, expires after ``expiry_bars`` bars or
    at the first bar opening at or after ``expires_at`` (UTC ns), or is cancelled
    (docs/engine/execution.md, step 2).

    ``direction`` is +1 (long) or -1 (short). Stop and target are given either as absolute
    prices (``stop_loss``, ``take_profit``) or as distances in price units from the fill
    (``stop_loss_distance``, ``take_profit_distance``), never both. The size is ``size`` in
    lots or ``risk_percent`` of the balance at risk to the stop, never both; with neither,
    the configured sizing applies. ``max_bars`` forces an exit after that many bars held.
    ``instrument`` is the id of the instrument to trade (``None``: the slice's own, the only
    one in a single-instrument run); the engine refuses a signal naming another instrument
    (in a basket each instrument runs its own strategy; docs/engine/portfolio.md).
    """

    direction: int
    stop_loss: float | None = None
    take_profit: float | None = None
    stop_loss_distance: float | None = None
    take_profit_distance: float | None = None
    size: float | None = None
    risk_percent: float | None = None
    max_bars: int | None = None
    tag: str = ""
    instrument: int | None = None
    order: OrderKind = "market"
    price: float | None = None
    expiry_bars: int | None = None
    expires_at: int | None = None

    def __post_init__(self) -> None:
        if self.direction not in (LONG, SHORT) or isinstance(self.direction, bool):
            raise StrategyError(f"TradeSignal.direction must be +1 or -1, got {self.direction!r}")
        if self.stop_loss is not None and self.stop_loss_distance is not None:
            raise StrategyError("TradeSignal: give stop_loss or stop_loss_distance, not both")
        if self.take_profit is not None and self.take_profit_distance is not None:
            raise StrategyError("TradeSignal: give take_profit or take_profit_distance, not both")
        if self.size is not None and self.risk_percent is not None:
            raise StrategyError("TradeSignal: give size or risk_percent, not both")
        _check_positive("stop_loss", self.stop_loss)
        _check_positive("take_profit", self.take_profit)
        _check_positive("stop_loss_distance", self.stop_loss_distance, allow_zero=True)
        _check_positive("take_profit_distance", self.take_profit_distance, allow_zero=True)
        _check_positive("size", self.size)
        _check_positive("risk_percent", self.risk_percent)
        if self.max_bars is not None and (
            isinstance(self.max_bars, bool)
            or not isinstance(self.max_bars, Integral)
            or self.max_bars < 1
        ):
            raise StrategyError(f"TradeSignal.max_bars must be an int >= 1, got {self.max_bars!r}")
        if not isinstance(self.tag, str):
            raise StrategyError(f"TradeSignal.tag must be a str, got {self.tag!r}")
        i = self.instrument
        if i is not None and (isinstance(i, bool) or not isinstance(i, Integral) or i < 0):
            raise StrategyError(f"TradeSignal.instrument must be an int >= 0 or None, got {i!r}")
        self._check_order()

    def _check_order(self) -> None:
        if self.order not in ORDER_KINDS:
            raise StrategyError(
                f"TradeSignal.order must be one of {', '.join(ORDER_KINDS)}, got {self.order!r}"
            )
        if self.order == "market":
            if self.price is not None:
                raise StrategyError("TradeSignal: price is for limit and stop entries only")
            if self.expiry_bars is not None or self.expires_at is not None:
                raise StrategyError("TradeSignal: an expiry applies to limit and stop entries only")
            return
        if self.price is None:
            raise StrategyError(f"TradeSignal: a {self.order} entry needs a price")
        _check_positive("price", self.price)
        bars = self.expiry_bars
        if bars is not None and (
            isinstance(bars, bool) or not isinstance(bars, Integral) or bars < 1
        ):
            raise StrategyError(f"TradeSignal.expiry_bars must be an int >= 1, got {bars!r}")
        at = self.expires_at
        if at is not None and (isinstance(at, bool) or not isinstance(at, Integral)):
            raise StrategyError(f"TradeSignal.expires_at must be an int (UTC ns), got {at!r}")

    @classmethod
    def long(cls, **fields: object) -> TradeSignal:
        """A buy at the next open (``TradeSignal.long(stop_loss_distance=0.002)``)."""
        return cls(LONG, **fields)  # type: ignore[arg-type]

    @classmethod
    def short(cls, **fields: object) -> TradeSignal:
        """A sell at the next open."""
        return cls(SHORT, **fields)  # type: ignore[arg-type]

    @property
    def is_long(self) -> bool:
        return self.direction == LONG


class PositionAction:
    """Base of the actions ``manage_position`` may return (one, or several applied in order)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Close(PositionAction):
    """Close the whole position at the next open (exit reason ``strategy``)."""


@dataclass(frozen=True, slots=True)
class PartialClose(PositionAction):
    """Close ``fraction`` (0 < fraction <= 1) of the position at the next open."""

    fraction: float

    def __post_init__(self) -> None:
        f = self.fraction
        if isinstance(f, bool) or not isinstance(f, Real) or not 0.0 < f <= 1.0:
            raise StrategyError(f"PartialClose.fraction must be in (0, 1], got {f!r}")


@dataclass(frozen=True, slots=True)
class ModifyStopLoss(PositionAction):
    """Set the stop-loss level at once (``None`` removes it)."""

    price: float | None

    def __post_init__(self) -> None:
        _check_level("ModifyStopLoss", self.price)


@dataclass(frozen=True, slots=True)
class ModifyTakeProfit(PositionAction):
    """Set the take-profit level at once (``None`` removes it)."""

    price: float | None

    def __post_init__(self) -> None:
        _check_level("ModifyTakeProfit", self.price)


def _check_distance(what: str, name: str, value: float, unit: str, atr: object) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise StrategyError(f"{what}.{name} must be a finite number, got {value!r}")
    if unit not in UNITS:
        raise StrategyError(f"{what}.unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if unit == "atr":
        if isinstance(atr, bool) or not isinstance(atr, Integral) or atr < 0:
            raise StrategyError(
                f"{what}: unit 'atr' needs atr=<the IndicatorHandle of a declared ATR>, got {atr!r}"
            )
    elif atr is not None:
        raise StrategyError(f"{what}: atr is only read with unit 'atr', not {unit!r}")


@dataclass(frozen=True, slots=True)
class MoveToBreakEven(PositionAction):
    """Set the stop to the entry price plus ``offset`` in the trade's favour, at once.

    ``unit``: ``"pips"`` (offset x pip size), ``"price"`` (offset as is) or ``"atr"``
    (offset x the value of the declared indicator ``atr`` at this close; skipped, no event,
    while that value is NaN).
    """

    offset: float = 0.0
    unit: DistanceUnit = "pips"
    atr: int | None = None

    def __post_init__(self) -> None:
        _check_distance("MoveToBreakEven", "offset", self.offset, self.unit, self.atr)


@dataclass(frozen=True, slots=True)
class TrailStop(PositionAction):
    """Move the stop to ``distance`` from the close (bid close - distance for a long, ask
    close + distance for a short), only if there is no stop or that tightens it.

    ``unit`` and ``atr`` as in `MoveToBreakEven`.
    """

    distance: float
    unit: DistanceUnit = "pips"
    atr: int | None = None

    def __post_init__(self) -> None:
        _check_distance("TrailStop", "distance", self.distance, self.unit, self.atr)


class OrderAction:
    """Base of the actions ``manage_order`` may return (one, or several applied in order)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class CancelOrder(OrderAction):
    """Cancel the working pending entry now (recorded in ``skipped_orders``, ``cancelled``)."""


@dataclass(frozen=True, slots=True)
class ModifyOrder(OrderAction):
    """Move the working pending entry to ``price`` (its kind stays)."""

    price: float

    def __post_init__(self) -> None:
        if self.price is None:
            raise StrategyError("ModifyOrder.price must be a number, got None")
        _check_level("ModifyOrder", self.price)


class WorkingOrder:
    """The working pending entry as ``manage_order`` sees it (read only): ``direction``,
    ``order`` (``"limit"`` / ``"stop"``), ``price``, ``placed_index`` (the close that placed
    it), ``bars_left`` (``None``: no bar limit), ``expires_at``, ``tag``, ``instrument``."""

    __slots__ = (
        "bars_left",
        "direction",
        "expires_at",
        "instrument",
        "order",
        "placed_index",
        "price",
        "tag",
    )

    def __init__(self, signal: TradeSignal, placed_index: int) -> None:
        self.direction = signal.direction
        self.order = signal.order
        self.price = signal.price
        self.placed_index = placed_index
        self.bars_left = signal.expiry_bars
        self.expires_at = signal.expires_at
        self.tag = signal.tag
        self.instrument = 0 if signal.instrument is None else signal.instrument

    def __repr__(self) -> str:
        side = "long" if self.direction == LONG else "short"
        return f"WorkingOrder({side} {self.order} @ {self.price}, bars_left={self.bars_left})"


def _check_level(what: str, price: float | None) -> None:
    if price is None:
        return
    if isinstance(price, bool) or not isinstance(price, Real):
        raise StrategyError(f"{what}.price must be a number or None, got {price!r}")
    if not math.isfinite(price) or price <= 0.0:
        raise StrategyError(f"{what}.price must be finite and > 0, got {price!r}")

"""`sma_cross`, line by line from docs/strategies/sma_cross.md."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from omega.indicators import IndicatorSpec
from omega.strategy import (
    Close,
    DataSlice,
    Position,
    PositionAction,
    RunContext,
    Strategy,
    StrategyParams,
    TradeSignal,
    register_strategy,
)


@register_strategy
class SmaCross(Strategy):
    """Always in the market after the first cross of a fast and a slow SMA of the bid close."""

    name = "sma_cross"

    class Params(StrategyParams):
        fast: int = Field(10, ge=1, le=5000, description="fast SMA period (< slow)")
        slow: int = Field(30, ge=2, le=5000, description="slow SMA period")
        size: float = Field(1.0, gt=0, description="lots per trade")
        entry_offset_pips: float = Field(
            0.0,
            ge=0,
            le=10_000,
            description="0: market entries; else a pending entry this many pips from the "
            "signal bar's close (a limit on a pullback, or a stop on a breakout)",
        )
        entry_stop: bool = Field(
            False, description="pending entries are stop (breakout) orders, else limit orders"
        )
        entry_expiry_bars: int = Field(
            0,
            ge=0,
            le=100_000,
            description="a pending entry expires after this many bars (0: never)",
        )

        @model_validator(mode="after")
        def _fast_below_slow(self):
            if not self.fast < self.slow:
                raise ValueError(f"fast ({self.fast}) must be < slow ({self.slow})")
            return self

    def __init__(self, params=None) -> None:
        super().__init__(params)
        self.fast = IndicatorSpec.of("sma", period=self.params.fast)
        self.slow = IndicatorSpec.of("sma", period=self.params.slow)
        self._cross_at = (-1, 0)  # (bar index, cross) of the last computed bar

    def init(self, ctx: RunContext) -> None:
        self.f = ctx.indicator(self.fast)
        self.s = ctx.indicator(self.slow)
        self._cross_at = (-1, 0)
        self.pip = ctx.instrument.pip_size

    def _cross(self, data: DataSlice) -> int:
        """+1 on a cross above at this close, -1 on a cross below, 0 otherwise (computed
        once per bar: manage_position and evaluate both ask at the same close)."""
        if self._cross_at[0] == data.index:
            return self._cross_at[1]
        cross = self._compute_cross(data)
        self._cross_at = (data.index, cross)
        return cross

    def _compute_cross(self, data: DataSlice) -> int:
        value = data.value
        f1 = value(self.f)
        s1 = value(self.s)
        f0 = value(self.f, 1)
        s0 = value(self.s, 1)
        data.record("fast", f1)
        data.record("slow", s1)
        if math.isnan(f0) or math.isnan(s0) or math.isnan(f1) or math.isnan(s1):
            return 0
        if f0 <= s0 and f1 > s1:
            return 1
        if f0 >= s0 and f1 < s1:
            return -1
        return 0

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        cross = self._cross(data)
        if cross == 0:
            return None
        position = data.position
        if position is not None and position.side == cross:
            return None
        order = self._entry_order(data, cross)
        if cross == 1:
            return TradeSignal.long(size=self.params.size, tag="sma_long", **order)
        return TradeSignal.short(size=self.params.size, tag="sma_short", **order)

    def _entry_order(self, data: DataSlice, cross: int) -> dict:
        """The pending-entry fields of the signal: empty for a market entry; else a limit
        (or stop) ``entry_offset_pips`` below (above) the ask close for a long, above
        (below) the bid close for a short."""
        p = self.params
        if p.entry_offset_pips == 0.0:
            return {}
        bar = data.bar
        offset = p.entry_offset_pips * self.pip
        away = 1.0 if p.entry_stop else -1.0  # a stop is beyond the close, a limit before it
        if cross == 1:
            price = bar.ask_close + offset if away > 0 else bar.ask_close - offset
        else:
            price = bar.bid_close - offset if away > 0 else bar.bid_close + offset
        order = {"order": "stop" if p.entry_stop else "limit", "price": price}
        if p.entry_expiry_bars > 0:
            order["expiry_bars"] = p.entry_expiry_bars
        return order

    def manage_position(self, position: Position, data: DataSlice) -> PositionAction | None:
        cross = self._cross(data)
        if cross != 0 and cross != position.side:
            return Close()
        return None

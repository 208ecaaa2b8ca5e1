"""`zscore_threshold`, line by line from docs/strategies/zscore_threshold.md."""

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
class ZScoreThreshold(Strategy):
    """Fade a close more than `entry` rolling standard deviations from its rolling mean."""

    name = "zscore_threshold"

    class Params(StrategyParams):
        period: int = Field(50, ge=2, le=5000, description="SMA and std window")
        entry: float = Field(2.0, gt=0, le=10, description="entry threshold on |z|")
        exit: float = Field(0.5, ge=0, le=10, description="exit when |z| < exit (< entry)")
        sl_mult: float = Field(2.0, gt=0, description="stop distance in stds")
        tp_mult: float = Field(3.0, gt=0, description="target distance in stds")
        size: float = Field(1.0, gt=0, description="lots per trade")

        @model_validator(mode="after")
        def _exit_below_entry(self):
            if not self.exit < self.entry:
                raise ValueError(f"exit ({self.exit}) must be < entry ({self.entry})")
            return self

    def __init__(self, params=None) -> None:
        super().__init__(params)
        self.zscore = IndicatorSpec.of("zscore", period=self.params.period)
        self.std = IndicatorSpec.of("rolling_std", period=self.params.period)

    def init(self, ctx: RunContext) -> None:
        self.z = ctx.indicator(self.zscore)
        self.s = ctx.indicator(self.std)

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        if data.position is not None:
            return None
        p = self.params
        z = data.value(self.z)
        s = data.value(self.s)
        data.record("z", z)
        data.record("std", s)
        if math.isnan(z) or math.isnan(s):
            return None
        if z < -p.entry:
            return TradeSignal.long(
                stop_loss_distance=p.sl_mult * s,
                take_profit_distance=p.tp_mult * s,
                size=p.size,
                tag="z_long",
            )
        if z > p.entry:
            return TradeSignal.short(
                stop_loss_distance=p.sl_mult * s,
                take_profit_distance=p.tp_mult * s,
                size=p.size,
                tag="z_short",
            )
        return None

    def manage_position(self, position: Position, data: DataSlice) -> PositionAction | None:
        z = data.value(self.z)
        if math.isnan(z):
            return None
        return Close() if abs(z) < self.params.exit else None

"""A custom Python strategy, registered by importing this file (config `strategy.module`).

RSI reversal: buy when the primary-timeframe RSI crosses back up through `oversold`, sell
when it crosses back down through `overbought`; stop at `sl_atr` ATRs, target at `tp_atr`
ATRs; close when the RSI reaches 50. It has no Rust implementation, so `engine: auto` runs it
in `hybrid` mode when the Rust extension is built and in `python` mode otherwise.
"""

from __future__ import annotations

from pydantic import Field

from omega.indicators import IndicatorSpec
from omega.strategy import (
    Close,
    RunContext,
    Strategy,
    StrategyParams,
    TradeSignal,
    register_strategy,
)


@register_strategy
class RsiReversal(Strategy):
    name = "example_rsi_reversal"

    class Params(StrategyParams):
        rsi_period: int = Field(14, ge=2, le=500, description="RSI period (primary, bid close)")
        oversold: float = Field(30.0, gt=0, lt=50, description="long after crossing up")
        overbought: float = Field(70.0, gt=50, lt=100, description="short after crossing down")
        atr_period: int = Field(14, ge=2, le=500, description="ATR period for stop and target")
        sl_atr: float = Field(1.5, gt=0, description="stop distance in ATRs")
        tp_atr: float = Field(3.0, gt=0, description="target distance in ATRs")

    def __init__(self, params=None) -> None:
        super().__init__(params)
        self.rsi = IndicatorSpec.of("rsi", period=self.params.rsi_period)
        self.atr = IndicatorSpec.of("atr", period=self.params.atr_period)

    def init(self, ctx: RunContext) -> None:
        # declared on the primary timeframe's bid side; the handles read in O(1) per bar
        self.rsi_h = ctx.indicator(self.rsi)
        self.atr_h = ctx.indicator(self.atr)

    def evaluate(self, data):
        if data.position is not None:
            return None
        rsi, previous = data.value(self.rsi_h), data.value(self.rsi_h, offset=1)
        atr = data.value(self.atr_h)
        data.record("rsi", rsi)
        if rsi != rsi or previous != previous or atr != atr:  # NaN during warm-up
            return None
        p = self.params
        distances = {"stop_loss_distance": p.sl_atr * atr, "take_profit_distance": p.tp_atr * atr}
        if previous < p.oversold <= rsi:
            return TradeSignal.long(**distances, tag="rsi_long")
        if previous > p.overbought >= rsi:
            return TradeSignal.short(**distances, tag="rsi_short")
        return None

    def manage_position(self, position, data):
        rsi = data.value(self.rsi_h)
        if rsi != rsi:
            return None
        if (position.is_long and rsi >= 50.0) or (not position.is_long and rsi <= 50.0):
            return Close()
        return None

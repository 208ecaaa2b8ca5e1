"""`mean_reversion_z_score`, line by line from docs/strategies/mean_reversion_z_score.md."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from omega.errors import StrategyError
from omega.indicators import IndicatorSpec
from omega.strategies._common import TimeframeName
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
from omega.timeframes import Timeframe


@register_strategy
class MeanReversionZScore(Strategy):
    """Fade large Kalman-residual z-scores in the direction of the higher-timeframe trend."""

    name = "mean_reversion_z_score"

    class Params(StrategyParams):
        kalman_q: float = Field(0.01, gt=0, description="process variance (relative to r)")
        kalman_r: float = Field(1.0, gt=0, description="measurement variance")
        kalman_p0: float = Field(1.0, gt=0, description="initial state variance")
        lookback: int = Field(200, ge=5, le=5000, description="z-score window over the residual")
        z_entry: float = Field(3.5, ge=0.1, le=10, description="entry threshold")
        z_exit: float = Field(0.5, ge=0, le=10, description="exit threshold (< z_entry)")
        atr_period: int = Field(14, ge=2, le=500, description="ATR period (primary, bid)")
        sl_atr: float = Field(3.0, gt=0, description="stop distance in ATRs")
        tp_atr: float = Field(4.0, ge=0, description="target distance in ATRs (0 = none)")
        max_holding_bars: int = Field(48, ge=0, description="forced exit after (0 = none)")
        trend_filter: bool = Field(True, description="trade only with the higher-tf trend")
        trend_timeframe: TimeframeName = Field("H1", description="timeframe of the trend filter")
        trend_ema: int = Field(50, ge=2, le=1000, description="EMA period of the trend filter")

        @model_validator(mode="after")
        def _exit_below_entry(self):
            if not self.z_exit < self.z_entry:
                raise ValueError(f"z_exit ({self.z_exit}) must be < z_entry ({self.z_entry})")
            return self

    def __init__(self, params=None) -> None:
        super().__init__(params)
        p = self.params
        self.zscore = IndicatorSpec.of(
            "kalman_zscore",
            q=p.kalman_q,
            r=p.kalman_r,
            x0=None,
            p0=p.kalman_p0,
            lookback=p.lookback,
        )
        self.atr = IndicatorSpec.of("atr", period=p.atr_period)
        self.ema = IndicatorSpec.of("ema", period=p.trend_ema)
        self.trend_tf = Timeframe.parse(p.trend_timeframe)

    def init(self, ctx: RunContext) -> None:
        self.z = ctx.indicator(self.zscore)
        self.a = ctx.indicator(self.atr)
        if self.params.trend_filter:
            primary = ctx.primary_timeframe
            if self.trend_tf.seconds <= primary.seconds:
                raise StrategyError(
                    f"strategy {self.name}: parameter trend_timeframe: {self.trend_tf} must be "
                    f"coarser than the primary timeframe {primary}"
                )
            self.trend = ctx.indicator(self.ema, timeframe=self.trend_tf)

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        if data.position is not None:
            return None
        p = self.params
        z = data.value(self.z)
        a = data.value(self.a)
        data.record("z", z)
        data.record("atr", a)
        if math.isnan(z) or math.isnan(a):
            return None
        allow_long = allow_short = True
        if p.trend_filter:
            bar = data.last_closed(self.trend_tf)
            if bar is None:
                return None
            ema = data.value(self.trend)
            htf_close = bar.bid_close
            data.record("htf_close", htf_close)
            data.record("htf_ema", ema)
            if math.isnan(ema):
                return None
            allow_long = htf_close >= ema
            allow_short = htf_close <= ema
        sl_distance = p.sl_atr * a
        tp_distance = p.tp_atr * a if p.tp_atr != 0 else None
        max_bars = p.max_holding_bars if p.max_holding_bars != 0 else None
        if z < -p.z_entry and allow_long:
            return TradeSignal.long(
                stop_loss_distance=sl_distance,
                take_profit_distance=tp_distance,
                max_bars=max_bars,
                tag="mr_long",
            )
        if z > p.z_entry and allow_short:
            return TradeSignal.short(
                stop_loss_distance=sl_distance,
                take_profit_distance=tp_distance,
                max_bars=max_bars,
                tag="mr_short",
            )
        return None

    def manage_position(self, position: Position, data: DataSlice) -> PositionAction | None:
        z = data.value(self.z)
        if math.isnan(z):
            return None
        z_exit = self.params.z_exit
        if position.is_long:
            return Close() if z >= -z_exit else None
        return Close() if z <= z_exit else None

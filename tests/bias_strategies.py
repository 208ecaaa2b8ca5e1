"""Deliberately biased strategies for tests/test_bias*.py (registered on import).

- ``bias_peek``: captures the full close array when its run starts (the first slice's
  closed bars are a view; ``.base`` is the whole column) and buys when the NEXT close is
  higher: look-ahead through data it was handed.
- ``bias_whole_series``: trades on a custom indicator (``whole_series_z``) that normalises
  each close by the mean and deviation of the WHOLE series: its ``update`` returns a value
  that is only turned into a float after the engine has fed every bar.
- ``bias_early``: declares ``warmup_bars = 20`` next to an SMA(20) and trades from bar 18,
  one bar before the SMA has a value, on a mean of the closes it has (a bar early).
- ``bias_short_warmup``: declares ``warmup_bars = 5`` but reads an SMA(30).
- ``bias_clean``: the same shape as ``bias_early`` done right (waits for the SMA).

For baskets (tests/test_bias_basket.py):

- ``bias_peek_when``: ``bias_peek`` on the instruments whose ``params`` set ``peek: true``,
  causal on the others;
- ``bias_basket_peek``: a portfolio strategy trading one instrument on another's NEXT close
  (the column behind the closes it was handed);
- ``bias_basket_early``: a portfolio strategy trading a bar before its declared warm-up.
"""

from __future__ import annotations

import math

import numpy as np

from omega.indicators import Indicator, IndicatorSpec, register_indicator
from omega.strategy import (
    Close,
    DataSlice,
    RunContext,
    Strategy,
    StrategyParams,
    TradeSignal,
    register_strategy,
)
from omega.strategy.portfolio import BasketContext, BasketSlice, PortfolioStrategy
from omega.strategy.position import Position


def _flip(data: DataSlice, want_long: bool, tag: str) -> TradeSignal | Close | None:
    """Enter ``want_long`` when flat (1-lot market order, 10-pip stop and target)."""
    if data.position is not None:
        return None
    make = TradeSignal.long if want_long else TradeSignal.short
    return make(stop_loss_distance=0.0010, take_profit_distance=0.0010, tag=tag)


@register_strategy
class Peek(Strategy):
    name = "bias_peek"

    def init(self, ctx: RunContext) -> None:
        self.closes: np.ndarray | None = None

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        if self.closes is None:
            # the whole primary close column behind the view of the closed bars
            view = data.closed_bars().bid_close
            self.closes = view.base if view.base is not None else view
        i = data.index
        if i + 1 >= len(self.closes):
            return None
        data.record("next", float(self.closes[i + 1]))
        return _flip(data, self.closes[i + 1] > self.closes[i], "peek")


class _Deferred:
    """A float computed when asked: after the fold, from everything the indicator saw."""

    def __init__(self, owner: WholeSeriesZ, value: float) -> None:
        self.owner, self.value = owner, value

    def __float__(self) -> float:
        mean, deviation = self.owner.moments()
        return (self.value - mean) / deviation


@register_indicator
class WholeSeriesZ(Indicator):
    """(close - mean of ALL closes) / their deviation: normalised over the whole series."""

    name = kind = "whole_series_z"
    param_names = ()
    input = "field"

    def __init__(self) -> None:
        self.reset()

    @property
    def warmup_period(self) -> int:
        return 0

    def reset(self) -> None:
        self.seen: list[float] = []
        self._moments: tuple[float, float] | None = None

    def moments(self) -> tuple[float, float]:
        """Mean and deviation of every value fed so far (cached until the next update)."""
        if self._moments is None:
            seen = self.seen
            mean = math.fsum(seen) / len(seen)
            deviation = math.sqrt(math.fsum((x - mean) ** 2 for x in seen) / len(seen))
            self._moments = (mean, deviation or 1.0)
        return self._moments

    def update(self, value: float) -> float:
        self.seen.append(value)
        self._moments = None
        return _Deferred(self, value)  # type: ignore[return-value]


@register_strategy
class WholeSeries(Strategy):
    name = "bias_whole_series"

    def init(self, ctx: RunContext) -> None:
        self.z = ctx.indicator(IndicatorSpec.of("whole_series_z"))

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        z = data.value(self.z)
        data.record("z", z)
        if abs(z) < 1.0:
            return None
        return _flip(data, z < 0, "whole")


class _Sma20(Strategy):
    warmup_bars = 20
    start = 19  # first bar it may decide at: the SMA(20)'s first value

    def init(self, ctx: RunContext) -> None:
        self.sma = ctx.indicator(IndicatorSpec.of("sma", period=20))
        # an equal declaration (one series, read once by the check)
        self.again = ctx.indicator(IndicatorSpec.of("sma", period=20))

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        if data.index < self.start:
            return None
        closes = data.closed_bars().bid_close[-20:]
        mean = float(np.mean(closes))
        data.record("mean", mean)
        return _flip(data, data.bar.bid_close < mean, "sma")

    def manage_position(self, position: Position, data: DataSlice) -> Close | None:
        return Close() if position.bars_held >= 3 else None


@register_strategy
class Early(_Sma20):
    name = "bias_early"
    start = 18  # one bar before the SMA(20) has a value


@register_strategy
class Clean(_Sma20):
    name = "bias_clean"


@register_strategy
class ShortWarmup(_Sma20):
    name = "bias_short_warmup"
    warmup_bars = 5

    def init(self, ctx: RunContext) -> None:
        self.sma = ctx.indicator(IndicatorSpec.of("sma", period=30))


@register_strategy
class PeekWhen(Peek):
    """``bias_peek`` where its ``peek`` param is true (one basket entry's params), else
    causal: it follows the last two closes."""

    name = "bias_peek_when"

    class Params(StrategyParams):
        peek: bool = False

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        if self.params.peek:
            return super().evaluate(data)
        closes = data.closed_bars().bid_close
        if len(closes) < 2:
            return None
        return _flip(data, closes[-1] > closes[-2], "follow")


@register_strategy
class BasketPeek(PortfolioStrategy):
    """A portfolio strategy that trades the basket's first instrument on the NEXT close of
    the second: the whole close column behind the second's closes (``.base`` of the view
    `BasketSlice.closes` hands out), captured at the first close. It signals at every close
    it can (an ``ignored_signal`` while a position is open), so the last close before a cut
    decides in the full run only."""

    name = "bias_basket_peek"

    def init(self, ctx: BasketContext) -> None:
        self.trade, self.peek = ctx.symbols[:2]
        self.pip = ctx.instruments[self.trade].pip_size
        self.closes: np.ndarray | None = None

    def evaluate(self, basket: BasketSlice) -> dict[str, TradeSignal] | None:
        seen = basket.closes(self.peek)
        if self.closes is None:
            self.closes = seen.base if seen.base is not None else seen
        i = len(seen) - 1
        if i < 0 or i + 1 >= len(self.closes) or not basket.has_bar(self.trade):
            return None
        make = TradeSignal.long if self.closes[i + 1] > self.closes[i] else TradeSignal.short
        distance = 10 * self.pip
        return {
            self.trade: make(stop_loss_distance=distance, take_profit_distance=distance, tag="peek")
        }


@register_strategy
class BasketEarly(PortfolioStrategy):
    """A portfolio strategy declaring ``warmup_bars = 20`` next to an SMA(20) of its first
    instrument, trading that instrument from its bar 18: a bar before the SMA has a value."""

    name = "bias_basket_early"
    warmup_bars = 20

    def init(self, ctx: BasketContext) -> None:
        self.trade = ctx.symbols[0]
        self.sma = ctx.indicator(self.trade, IndicatorSpec.of("sma", period=20))

    def evaluate(self, basket: BasketSlice) -> dict[str, TradeSignal] | None:
        closes = basket.closes(self.trade)
        if len(closes) < 19 or not basket.has_bar(self.trade):
            return None
        if basket.position(self.trade) is not None:
            return None
        mean = float(np.mean(closes[-20:]))
        make = TradeSignal.long if closes[-1] < mean else TradeSignal.short
        return {self.trade: make(stop_loss_distance=0.0010, take_profit_distance=0.0010)}

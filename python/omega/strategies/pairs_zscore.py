"""`pairs_zscore`: a portfolio strategy trading the spread of two pairs of a basket.

The spread is ``ln(close A) - ln(close B)`` over both legs' last closed bars; its z-score
over ``lookback`` closes (population std, sums left to right) opens the spread when beyond
``entry`` (short A, long B when high; the reverse when low) and closes both legs when back
inside ``exit``.
Each leg carries a stop ``stop_pips`` away. Read as a reference for `PortfolioStrategy`:
docs/user-guide/portfolios.md. Its Rust twin (crates/strategies/src/pairs_zscore.rs) runs
the same operations in rust mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import Field, model_validator

from omega.errors import StrategyError
from omega.strategy import Close, Position, PositionAction, StrategyParams, TradeSignal
from omega.strategy.portfolio import BasketContext, BasketSlice, PortfolioStrategy
from omega.strategy.registry import register_strategy


@register_strategy
class PairsZScore(PortfolioStrategy):
    """Mean reversion of the log spread of two instruments of the basket."""

    name = "pairs_zscore"

    class Params(StrategyParams):
        legs: tuple[str, str] | None = Field(
            None, description="the two symbols A, B (default: the basket's first two)"
        )
        lookback: int = Field(120, ge=10, le=100_000, description="z-score window (closes)")
        entry: float = Field(2.0, gt=0, le=10, description="open when |z| > entry")
        exit: float = Field(0.5, ge=0, le=10, description="close both legs when |z| < exit")
        stop_pips: float = Field(40.0, gt=0, description="each leg's stop distance in pips")
        size: float = Field(1.0, gt=0, description="lots per leg")

        @model_validator(mode="after")
        def _exit_below_entry(self):
            if not self.exit < self.entry:
                raise ValueError(f"exit ({self.exit}) must be < entry ({self.entry})")
            return self

    def init(self, ctx: BasketContext) -> None:
        legs = self.params.legs or tuple(ctx.symbols[:2])
        if len(legs) != 2 or any(leg not in ctx.symbols for leg in legs):
            raise StrategyError(
                f"strategy {self.name}: legs {list(legs)} must be two symbols of the basket "
                f"{list(ctx.symbols)}"
            )
        self.a, self.b = legs
        self.pip = {symbol: ctx.instruments[symbol].pip_size for symbol in legs}

    def _zscore(self, basket: BasketSlice) -> float:
        # Scalar operations in the order of the Rust twin (crates/strategies/src/
        # pairs_zscore.rs): libm's log, sums left to right, so both modes trade alike.
        n = self.params.lookback
        a, b = basket.closes(self.a), basket.closes(self.b)
        if len(a) < n or len(b) < n:
            return math.nan
        log = math.log
        spread = [log(x) - log(y) for x, y in zip(a[-n:].tolist(), b[-n:].tolist(), strict=True)]
        total = 0.0
        for s in spread:
            total += s
        mean = total / n
        squares = 0.0
        for s in spread:
            d = s - mean
            squares += d * d
        std = math.sqrt(squares / n)
        if not std > 0.0:
            return math.nan
        return (spread[-1] - mean) / std

    def manage_position(
        self, symbol: str, position: Position, basket: BasketSlice
    ) -> PositionAction | Sequence[PositionAction] | None:
        z = self._zscore(basket)
        if not math.isnan(z) and abs(z) < self.params.exit:
            return Close()
        return None

    def evaluate(self, basket: BasketSlice) -> dict[str, TradeSignal] | None:
        a, b = self.a, self.b
        if basket.position(a) is not None or basket.position(b) is not None:
            return None
        if not (basket.has_bar(a) and basket.has_bar(b)):
            return None  # open both legs together or not at all
        z = self._zscore(basket)
        p = self.params
        if math.isnan(z) or abs(z) <= p.entry:
            return None
        tag = f"z={z:+.2f}"

        def leg(symbol: str, direction: int) -> TradeSignal:
            distance = p.stop_pips * self.pip[symbol]
            return TradeSignal(direction, stop_loss_distance=distance, size=p.size, tag=tag)

        if z > 0:  # A rich against B
            return {a: leg(a, -1), b: leg(b, 1)}
        return {a: leg(a, 1), b: leg(b, -1)}

"""Slippage models: the price distance a market fill or a stop exit loses to the trader."""

from __future__ import annotations

import math
from collections.abc import Sequence

from omega.engine.prng import SplitMix64
from omega.engine.settings import SlippageSettings


class Slippage:
    """``draw(i)`` gives the slip of a fill at the open (or inside) of primary bar ``i``.

    An entry may still be skipped after its fill price is known (risk sizing needs the fill),
    and a skipped order does not consume a random draw: such fills ``peek(i)`` first and
    ``commit()`` only once the order is really filled.
    """

    __slots__ = ("_atr", "_fixed", "_fraction", "_model", "_pip", "_pips", "_rng")

    def __init__(self, settings: SlippageSettings, pip: float, atr: Sequence[float] | None) -> None:
        self._model = settings.model
        self._pip = pip
        self._pips = settings.pips
        self._fraction = settings.atr_fraction
        self._fixed = settings.pips * pip
        self._rng = SplitMix64(settings.seed)
        if settings.model == "atr" and atr is None:
            raise ValueError("atr slippage needs the ATR series of the primary bid side")
        self._atr = atr

    def peek(self, i: int) -> float:
        model = self._model
        if model == "none":
            return 0.0
        if model == "fixed":
            return self._fixed
        if model == "random":
            return self._rng.peek_f64() * self._pips * self._pip
        # atr: the ATR of the last closed bar when the order fills at the open of bar i
        if i == 0:
            return 0.0
        a = self._atr[i - 1]  # type: ignore[index]
        if math.isnan(a):
            return 0.0
        return self._fraction * a

    def commit(self) -> None:
        if self._model == "random":
            self._rng.next_u64()

    def draw(self, i: int) -> float:
        slip = self.peek(i)
        self.commit()
        return slip

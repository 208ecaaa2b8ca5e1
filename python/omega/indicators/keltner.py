"""Keltner channel: EMA(close) middle, bands at ``k`` ATRs (the EMA and ATR of this package)."""

from __future__ import annotations

from omega.indicators.atr import ATR
from omega.indicators.base import NAN, RangeIndicator, check_float, check_period
from omega.indicators.bollinger import LOWER, MIDDLE, UPPER
from omega.indicators.donchian import check_band
from omega.indicators.ema import EMA


class Keltner(RangeIndicator):
    """``Keltner(n, atr_period, k)`` on high, low, close: middle = EMA(n) of the close,
    ``upper = middle + k * atr``, ``lower = middle - k * atr`` with ATR(atr_period); NaN until
    both exist (``max(n - 1, atr_period)`` bars).

    EMA and ATR are this package's (SMA-seeded EMA as TA_EMA, Wilder ATR as TA_ATR), so the
    channel equals ``talib.EMA`` and ``talib.ATR`` composed to within their few-ulp differences
    (TA-Lib 0.8.1 fuses multiply-adds on some CPUs; see tests/test_indicators_talib.py).
    ``update`` returns the band selected by ``band`` (+1, 0, -1); all three of the latest bar
    are in :attr:`upper`, :attr:`middle`, :attr:`lower`.
    """

    name = "keltner"

    def __init__(
        self, period: int, atr_period: int = 10, k: float = 2.0, band: int = MIDDLE
    ) -> None:
        self.period = check_period("keltner", period, 1)
        self.atr_period = check_period("keltner", atr_period, 1, "atr_period")
        self.k = check_float("keltner", "k", k, minimum=0.0, strict=True)
        self.band = check_band("keltner", band)
        self._ema = EMA(self.period)
        self._atr = ATR(self.atr_period)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return max(self.period - 1, self.atr_period)

    def reset(self) -> None:
        self._ema.reset()
        self._atr.reset()
        self._count = 0
        self.upper = self.middle = self.lower = NAN

    def update(self, high: float, low: float, close: float) -> float:
        middle = self._ema.update(close)
        atr = self._atr.update(high, low, close)
        self._count += 1
        if self._count <= self.warmup_period:  # one NaN mask for the three bands
            return NAN
        self.middle = middle
        self.upper = middle + self.k * atr
        self.lower = middle - self.k * atr
        if self.band == UPPER:
            return self.upper
        if self.band == LOWER:
            return self.lower
        return self.middle

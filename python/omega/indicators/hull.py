"""Hull moving average: ``WMA(2 * WMA(x, n // 2) - WMA(x, n), floor(sqrt(n)))``."""

from __future__ import annotations

import math

from omega.indicators.base import NAN, Indicator, check_period
from omega.indicators.wma import WMA


class Hull(Indicator):
    """``Hull(n)``, n >= 2: ``raw = 2.0 * WMA(n // 2) - WMA(n)`` from bar ``n - 1``, then
    ``WMA(isqrt(n))`` of ``raw``; first ``n + isqrt(n) - 2`` outputs NaN. No TA-Lib function;
    its reference is the same formula composed from ``talib.WMA``.
    """

    name = "hull"

    def __init__(self, period: int) -> None:
        self.period = check_period("hull", period, 2)
        self._half = WMA(self.period // 2)
        self._full = WMA(self.period)
        self._smooth = WMA(math.isqrt(self.period))
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period + self._smooth.period - 2

    def reset(self) -> None:
        self._half.reset()
        self._full.reset()
        self._smooth.reset()
        self._count = 0

    def update(self, value: float) -> float:
        self._count += 1
        half = self._half.update(value)
        full = self._full.update(value)
        if self._count < self.period:
            return NAN
        return self._smooth.update(2.0 * half - full)

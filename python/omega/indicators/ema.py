"""Exponential moving average, SMA-seeded like TA-Lib's default (classic) TA_EMA."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator, check_period


class EMA(Indicator):
    """``EMA(n)``: ``k = 2 / (n + 1)``; first ``n-1`` outputs NaN; the output at index ``n-1``
    is the plain mean of the first ``n`` values (summed left to right, then divided by ``n``);
    afterwards ``prev = (x - prev) * k + prev``.
    """

    name = "ema"

    def __init__(self, period: int) -> None:
        self.period = check_period("ema", period, 1)
        self.k = 2.0 / (self.period + 1)
        self._divisor = float(self.period)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._seed_sum = 0.0
        self._count = 0
        self._prev = NAN

    def update(self, value: float) -> float:
        self._count += 1
        if self._count < self.period:
            self._seed_sum += value
            return NAN
        if self._count == self.period:
            self._prev = (self._seed_sum + value) / self._divisor
        else:
            self._prev = (value - self._prev) * self.k + self._prev
        return self._prev

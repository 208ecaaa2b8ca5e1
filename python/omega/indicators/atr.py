"""Wilder's average true range exactly as TA-Lib's TA_ATR (unstable period 0)."""

from __future__ import annotations

from omega.indicators.base import NAN, RangeIndicator, check_period


def true_range(high: float, low: float, prev_close: float) -> float:
    """TA-Lib's order: start from ``high - low``, then the two distances to the previous close."""
    greatest = high - low
    to_high = abs(prev_close - high)
    if to_high > greatest:
        greatest = to_high
    to_low = abs(prev_close - low)
    if to_low > greatest:
        greatest = to_low
    return greatest


class ATR(RangeIndicator):
    """``ATR(n)`` over one side's high, low and close: NaN for the first ``n`` bars.

    ``TR_i`` needs the previous close, so it exists from bar 1. The first output (bar ``n``) is
    the mean of ``TR_1 .. TR_n`` (summed left to right from 0.0, then divided by ``n``); then
    ``atr = atr * (n - 1); atr = atr + tr; atr = atr / n``.
    """

    name = "atr"

    def __init__(self, period: int) -> None:
        self.period = check_period("atr", period, 1)
        self._divisor = float(self.period)
        self._keep = float(self.period - 1)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period

    def reset(self) -> None:
        self._prev_close = NAN
        self._count = 0  # bars seen
        self._seed_sum = 0.0
        self._atr = NAN

    def update(self, high: float, low: float, close: float) -> float:
        self._count += 1
        prev_close = self._prev_close
        self._prev_close = close
        if self._count == 1:
            return NAN
        tr = true_range(high, low, prev_close)
        if self._count <= self.period:  # TR_1 .. TR_{n-1}
            self._seed_sum += tr
            return NAN
        if self._count == self.period + 1:
            self._atr = (self._seed_sum + tr) / self._divisor
        else:
            atr = self._atr * self._keep
            atr += tr
            self._atr = atr / self._divisor
        return self._atr

"""Commodity channel index exactly as TA-Lib's TA_CCI."""

from __future__ import annotations

from omega.indicators.base import NAN, RangeIndicator, check_period
from omega.indicators.stochastic import FLAT


class CCI(RangeIndicator):
    """``CCI(n)`` on high, low, close: NaN for the first ``n-1`` bars.

    Typical price ``tp = (high + low + close) / 3``. TA-Lib keeps the last ``n`` in a circular
    buffer and sums it in *storage* order (slot ``i % n`` for bar ``i``, slots 0 .. n-1), not
    oldest first; so do we: ``mean = sum / n``, ``dev = sum |tp_j - mean|``, then
    ``(tp - mean) / (0.015 * (dev / n))``, and 0.0 when ``|tp - mean|`` or ``dev / n`` is
    ``<= 1e-14 * |mean|``: TA-Lib 0.8.1's zero test, measured on the installed library (the
    classic exact test gives +-133 where a rounded mean is one ulp off ``tp``).
    """

    name = "cci"

    def __init__(self, period: int) -> None:
        self.period = check_period("cci", period, 2)
        self._divisor = float(self.period)
        self._buffer = [0.0] * self.period
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._count = 0

    def update(self, high: float, low: float, close: float) -> float:
        buffer = self._buffer
        typical = (high + low + close) / 3.0
        buffer[self._count % self.period] = typical
        self._count += 1
        if self._count < self.period:
            return NAN
        average = 0.0
        for x in buffer:
            average += x
        average /= self._divisor
        deviation = 0.0
        for x in buffer:
            deviation += abs(x - average)
        distance = typical - average
        mean_deviation = deviation / self._divisor
        # TA-Lib 0.8.1: a distance or mean deviation within 1e-14 of the mean counts as zero.
        flat = FLAT * abs(average)
        if abs(distance) <= flat or mean_deviation <= flat:
            return 0.0
        return distance / (0.015 * mean_deviation)

"""Weighted moving average matching TA-Lib's TA_WMA (within 1e-12; see the class docstring)."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator, check_period


class WMA(Indicator):
    """``WMA(n)``: weights ``1 .. n`` (newest ``n``) over ``n (n + 1) / 2``; first ``n-1`` NaN.

    TA-Lib's running sums: ``weighted = carry + x * n`` is the window's weighted sum and
    ``sub = carry_sub + x`` its plain sum; the output is ``weighted / divider``, then
    ``carry = weighted - sub`` and ``carry_sub = sub - oldest``. Those sums drift by a rounding
    per bar (3e-12 after 5,000 bars), while TA-Lib 0.8.1 does not drift, so every ``n``-th output
    (the first included) recomputes both sums from the window, oldest first
    (``weighted += x_j * (j + 1)``): O(1) amortised, and the drift stays below ``n`` roundings.
    """

    name = "wma"

    def __init__(self, period: int) -> None:
        self.period = check_period("wma", period, 1)
        self._weight = float(self.period)
        self._divider = float(self.period * (self.period + 1) // 2)
        self._window = [0.0] * self.period  # the last `period` values, slot = count % period
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._count = 0
        self._sub = 0.0  # sum of the newest n-1 values
        self._weighted = 0.0  # their weighted sum, weights 1 .. n-1

    def update(self, value: float) -> float:
        n = self.period
        window = self._window
        slot = self._count % n
        window[slot] = value
        self._count += 1
        if self._count < n:
            return NAN
        if (self._count - n) % n == 0:
            weighted = 0.0
            total = 0.0
            for j in range(n):
                x = window[(slot + 1 + j) % n]
                total += x
                weighted += x * float(j + 1)
        else:
            total = self._sub + value
            weighted = self._weighted + value * self._weight
        out = weighted / self._divider
        self._weighted = weighted - total
        self._sub = total - window[(slot + 1) % n]  # the oldest leaves with the next bar
        return out

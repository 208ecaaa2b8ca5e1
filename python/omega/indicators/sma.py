"""Simple moving average with TA-Lib's running sum (TA_SMA / TA_INT_SMA op order)."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator, check_period


class SMA(Indicator):
    """``SMA(n)``: first ``n-1`` outputs NaN, then the mean of the last ``n`` values.

    TA-Lib keeps a running ``total`` of the previous ``n-1`` values: ``t = total + x`` is the
    window sum, the value leaving the window is subtracted *after* the output is taken, and the
    output is ``t / n``. Reproducing that order (not a fresh sum per bar) is what makes the
    series match TA-Lib and the Rust port bit for bit.
    """

    name = "sma"

    def __init__(self, period: int) -> None:
        self.period = check_period("sma", period, 1)
        self._divisor = float(self.period)
        self._window = [0.0] * self.period  # ring buffer: the last `period` values
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._total = 0.0
        self._count = 0

    def update(self, value: float) -> float:
        n = self.period
        slot = self._count % n
        self._window[slot] = value
        self._count += 1
        if self._count < n:
            self._total += value
            return NAN
        window_sum = self._total + value
        # The value that leaves is the oldest of this window, n-1 bars before `value`.
        self._total = window_sum - self._window[(slot + 1) % n]
        return window_sum / self._divisor

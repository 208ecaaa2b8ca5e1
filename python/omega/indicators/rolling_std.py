"""Rolling population standard deviation, as TA-Lib 0.8.1's TA_STDDEV(n, nbdev=1).

TA-Lib up to 0.6 computed ``mean(x^2) - mean(x)^2`` from plain running sums, which cancels
catastrophically on prices (EURUSD ~1.1 with pip moves loses ~8 of 16 digits, and a 2-bar
window can be wrong by 200x). TA-Lib 0.8.1 (the installed C library) instead keeps the running
sums of deviations from a *shift* near the window and re-anchors ("reseeds") the shift to the
window mean with a fresh two-pass sum when cancellation threatens or every ``32 n`` outputs.
We reproduce that algorithm operation for operation, so the series equals talib.STDDEV bit for
bit and stays a short recurrence that Rust evaluates identically. See docs/indicators.md.
"""

from __future__ import annotations

import math

from omega.indicators.base import NAN, Indicator, check_period

# Reseed when the variance falls below this fraction of the mean squared deviation ...
RESEED_RATIO = 0.000001
# ... or when the squared deviation that just left dwarfs what remains ...
OUTLIER_RATIO = 1000000.0
# ... or every RESEED_EVERY * period outputs. After a reseed, a variance below this fraction
# of the fresh mean squared deviation is rounding noise of the mean and becomes 0.
RESEED_EVERY = 32
NOISE_FLOOR_RATIO = 0.000000000001


class RollingStd(Indicator):
    """``RollingStd(n)``: population (ddof 0) standard deviation; first ``n-1`` outputs NaN.

    Never negative; exactly 0.0 for a flat window.
    """

    name = "rolling_std"

    def __init__(self, period: int) -> None:
        self.period = check_period(self.name, period, 2)
        self._inv_period = 1.0 / float(self.period)
        self._window = [0.0] * self.period  # ring buffer: the last `period` values
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._count = 0
        self._shift = 0.0
        self._sum = 0.0  # sum of (x - shift) over the window
        self._sum_sq = 0.0  # sum of (x - shift)^2 over the window
        self._until_reseed = RESEED_EVERY * self.period

    def update(self, value: float) -> float:
        variance = self.update_variance(value)
        return NAN if math.isnan(variance) else math.sqrt(variance)

    def update_variance(self, value: float) -> float:
        """Feed ``value``; the population variance of the window (NaN during warm-up)."""
        n = self.period
        slot = self._count % n
        self._window[slot] = value
        self._count += 1
        if self._count == 1:
            self._shift = value  # anchor on the first value of the first window
        dev = value - self._shift
        self._sum += dev
        self._sum_sq += dev * dev
        if self._count < n:
            return NAN
        inv = self._inv_period
        mean_dev = self._sum * inv
        variance = self._sum_sq * inv - mean_dev * mean_dev
        # Remove the oldest value of this window (prepares the next one).
        oldest = (slot + 1) % n
        dev = self._window[oldest] - self._shift
        self._sum -= dev
        dev_sq = dev * dev
        self._sum_sq -= dev_sq
        self._until_reseed -= 1
        if (
            variance < RESEED_RATIO * (self._sum_sq * inv)
            or dev_sq > OUTLIER_RATIO * self._sum_sq
            or self._until_reseed <= 0
        ):
            variance = self._reseed(oldest)
        return variance

    def _reseed(self, oldest: int) -> float:
        """Re-anchor the shift on the window mean and rebuild the sums (two-pass)."""
        n = self.period
        inv = self._inv_period
        self._until_reseed = RESEED_EVERY * n
        window = self._window
        order = [window[(oldest + j) % n] for j in range(n)]  # oldest .. newest
        total = 0.0
        for x in order:
            total += x
        shift = total * inv
        sum_dev = 0.0
        sum_sq = 0.0
        for x in order:
            dev = x - shift
            sum_dev += dev
            sum_sq += dev * dev
        mean_dev = sum_dev * inv
        variance = sum_sq * inv - mean_dev * mean_dev
        if variance < NOISE_FLOOR_RATIO * (sum_sq * inv):
            variance = 0.0
        # Take the oldest value out again under the new shift, as the regular path did.
        dev = order[0] - shift
        self._shift = shift
        self._sum = sum_dev - dev
        self._sum_sq = sum_sq - dev * dev
        return variance

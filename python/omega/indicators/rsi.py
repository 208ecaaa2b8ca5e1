"""Wilder's RSI exactly as TA-Lib's classic TA_RSI (unstable period 0)."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator, check_period


class RSI(Indicator):
    """``RSI(n)``: NaN for the first ``n`` values, first output at index ``n``.

    The first ``n`` differences are summed into gain and loss, then both are divided by
    ``n`` (Wilder's seed). Afterwards each difference is smoothed in as
    ``avg = (avg * (n - 1) + part) / n`` in three separate steps, as TA-Lib does. The output is
    ``100 * gain / (gain + loss)``, and 0 when ``gain + loss`` is zero (flat prices).
    """

    name = "rsi"

    def __init__(self, period: int) -> None:
        self.period = check_period("rsi", period, 2)
        self._divisor = float(self.period)
        self._keep = float(self.period - 1)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period

    def reset(self) -> None:
        self._gain = 0.0
        self._loss = 0.0
        self._prev_value = NAN
        self._count = 0  # values seen

    def update(self, value: float) -> float:
        self._count += 1
        if self._count == 1:
            self._prev_value = value
            return NAN
        diff = value - self._prev_value
        self._prev_value = value
        if self._count <= self.period:  # accumulate the first n-1 differences
            self._add(diff)
            return NAN
        if self._count == self.period + 1:  # n-th difference: seed
            self._add(diff)
        else:
            self._loss *= self._keep
            self._gain *= self._keep
            self._add(diff)
        self._loss /= self._divisor
        self._gain /= self._divisor
        total = self._gain + self._loss
        # TA-Lib 0.8.1 tests TA_IS_ZERO here; gain and loss are >= 0, and the installed
        # library returns 100 even for sums of 1e-310, so only an exact zero maps to 0.
        if total == 0.0:
            return 0.0
        return 100.0 * (self._gain / total)

    def _add(self, diff: float) -> None:
        if diff < 0.0:
            self._loss -= diff
        else:
            self._gain += diff

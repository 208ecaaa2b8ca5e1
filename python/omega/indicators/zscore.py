"""Rolling z-score: ``(x - SMA(n)) / RollingStd(n)``."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator
from omega.indicators.rolling_std import RollingStd
from omega.indicators.sma import SMA


class ZScore(Indicator):
    """``ZScore(n)``: NaN for the first ``n-1`` values and wherever the window's std is 0
    (a flat window has no scale). Mean and std are :class:`SMA` and :class:`RollingStd`.
    """

    name = "zscore"

    def __init__(self, period: int) -> None:
        self._std = RollingStd(period)
        self.period = self._std.period
        self._sma = SMA(self.period)

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._sma.reset()
        self._std.reset()

    def update(self, value: float) -> float:
        mean = self._sma.update(value)
        std = self._std.update(value)
        if not std > 0.0:  # warm-up (NaN) or a flat window (0.0)
            return NAN
        return (value - mean) / std

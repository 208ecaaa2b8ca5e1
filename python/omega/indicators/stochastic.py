"""Slow stochastic oscillator exactly as TA-Lib's TA_STOCH with SMA smoothing (MA type 0)."""

from __future__ import annotations

from omega.indicators.base import NAN, RangeIndicator, check_period
from omega.indicators.donchian import RollingExtreme
from omega.indicators.errors import IndicatorParameterError
from omega.indicators.sma import SMA

SLOW_K, SLOW_D = 0, 1
#: Relative size under which TA-Lib 0.8.1 treats a range or a distance as zero.
FLAT = 1e-14


class Stochastic(RangeIndicator):
    """``Stochastic(k_period, k_smooth, d_period)`` on high, low, close.

    Fast %K = ``(close - lowest) / diff * 100.0`` with ``diff = highest - lowest`` over the
    last ``k_period`` bars (TA-Lib's TA_MAX/TA_MIN scan), and 0.0 when the range is flat:
    ``|diff| <= 1e-14 * (|highest| + |lowest|)``. That is TA-Lib 0.8.1's order and zero test,
    measured on the installed library (the classic ``/ (diff / 100)`` and exact-zero test
    differ by a few ulp, and by up to 100 on ranges of a few ulp). Slow %K
    = SMA(k_smooth) of fast %K, %D = SMA(d_period) of slow %K. Like TA_STOCH, both lines start
    at the same bar, ``k_period + k_smooth + d_period - 3``: slow %K is NaN until %D exists.
    ``line`` 0 returns slow %K, 1 %D; both of the latest bar are in :attr:`slow_k`,
    :attr:`slow_d`.
    """

    name = "stochastic"

    def __init__(
        self, k_period: int = 14, k_smooth: int = 3, d_period: int = 3, line: int = SLOW_K
    ) -> None:
        self.k_period = check_period("stochastic", k_period, 1, "k_period")
        self.k_smooth = check_period("stochastic", k_smooth, 1, "k_smooth")
        self.d_period = check_period("stochastic", d_period, 1, "d_period")
        if isinstance(line, bool) or line not in (SLOW_K, SLOW_D):
            raise IndicatorParameterError(
                f"stochastic: line must be 0 (slow %K) or 1 (%D), got {line!r}"
            )
        self.line = int(line)
        self._highest = RollingExtreme(self.k_period, highest=True)
        self._lowest = RollingExtreme(self.k_period, highest=False)
        self._smooth_k = SMA(self.k_smooth)
        self._smooth_d = SMA(self.d_period)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.k_period + self.k_smooth + self.d_period - 3

    def reset(self) -> None:
        self._highest.reset()
        self._lowest.reset()
        self._smooth_k.reset()
        self._smooth_d.reset()
        self._count = 0
        self.slow_k = self.slow_d = NAN

    def update(self, high: float, low: float, close: float) -> float:
        self._count += 1
        lowest = self._lowest.update(low)
        highest = self._highest.update(high)
        if self._count < self.k_period:
            return NAN
        diff = highest - lowest
        # TA-Lib 0.8.1: a range within 1e-14 of the prices' magnitude counts as flat.
        if abs(diff) <= FLAT * (abs(highest) + abs(lowest)):
            fast_k = 0.0
        else:
            fast_k = (close - lowest) / diff * 100.0
        slow_k = self._smooth_k.update(fast_k)
        if self._count < self.k_period + self.k_smooth - 1:
            return NAN
        slow_d = self._smooth_d.update(slow_k)
        if self._count <= self.warmup_period:
            return NAN
        self.slow_k, self.slow_d = slow_k, slow_d
        return slow_k if self.line == SLOW_K else slow_d

"""MACD exactly as TA-Lib's TA_MACD (EMA seeding and output alignment included)."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator, check_period
from omega.indicators.ema import EMA
from omega.indicators.errors import IndicatorParameterError

MACD_LINE, SIGNAL_LINE, HISTOGRAM = 0, 1, 2


class MACD(Indicator):
    """``MACD(fast, slow, signal)``, ``fast < slow``; ``line`` 0 MACD, 1 signal, 2 histogram.

    TA_MACD seeds both EMAs at bar ``slow - 1``: the slow one with the mean of bars
    ``0 .. slow-1``, the fast one with the mean of bars ``slow-fast .. slow-1`` only (its first
    ``slow - fast`` bars are ignored), so the fast EMA here is fed from bar ``slow - fast`` on.
    ``macd = fast - slow`` from bar ``slow - 1``; the signal is an EMA(signal) of it, seeded the
    same way; ``histogram = macd - signal``. All three lines start at bar
    ``slow + signal - 2`` (earlier MACD values are NaN, as in TA-Lib's output). Latest values:
    :attr:`macd`, :attr:`signal`, :attr:`histogram`.
    """

    name = "macd"

    def __init__(
        self, fast: int = 12, slow: int = 26, signal: int = 9, line: int = MACD_LINE
    ) -> None:
        self.fast = check_period("macd", fast, 1, "fast")
        self.slow = check_period("macd", slow, 2, "slow")
        self.signal_period = check_period("macd", signal, 1, "signal")
        if self.fast >= self.slow:
            raise IndicatorParameterError(
                f"macd: fast must be < slow, got fast {self.fast}, slow {self.slow}"
            )
        if isinstance(line, bool) or line not in (MACD_LINE, SIGNAL_LINE, HISTOGRAM):
            raise IndicatorParameterError(
                f"macd: line must be 0 (MACD), 1 (signal) or 2 (histogram), got {line!r}"
            )
        self.line = int(line)
        self._fast = EMA(self.fast)
        self._slow = EMA(self.slow)
        self._signal = EMA(self.signal_period)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.slow + self.signal_period - 2

    def reset(self) -> None:
        self._fast.reset()
        self._slow.reset()
        self._signal.reset()
        self._count = 0
        self.macd = self.signal = self.histogram = NAN

    def update(self, value: float) -> float:
        self._count += 1
        slow = self._slow.update(value)
        if self._count <= self.slow - self.fast:
            return NAN
        fast = self._fast.update(value)
        if self._count < self.slow:
            return NAN
        macd = fast - slow
        signal = self._signal.update(macd)
        if self._count <= self.warmup_period:
            return NAN
        self.macd, self.signal = macd, signal
        self.histogram = macd - signal
        if self.line == SIGNAL_LINE:
            return signal
        if self.line == HISTOGRAM:
            return self.histogram
        return macd

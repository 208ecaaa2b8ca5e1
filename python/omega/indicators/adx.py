"""Wilder's ADX, +DI and -DI exactly as TA-Lib's TA_ADX, TA_PLUS_DI, TA_MINUS_DI."""

from __future__ import annotations

from omega.indicators.atr import true_range
from omega.indicators.base import NAN, RangeIndicator, check_period
from omega.indicators.errors import IndicatorParameterError

ADX_LINE, PLUS_DI, MINUS_DI = 0, 1, 2


class ADX(RangeIndicator):
    """``ADX(n)`` on high, low, close (n >= 2); ``line`` 0 ADX, 1 +DI, 2 -DI.

    From bar 1: ``up = high - prev_high``, ``down = prev_low - low``; -DM = ``down`` when
    ``down > 0 and up < down``, else +DM = ``up`` when ``up > 0 and up > down``; TR as ATR's.
    Bars 1 .. n-1 sum DM and TR; from bar ``n`` each is smoothed ``s = s - s / n + part``
    (TA-Lib's order). ``DI = 100 * (DM / TR)`` (0.0 when TR is 0) exists from bar ``n``, like
    TA_PLUS_DI. ``DX = 100 * (|-DI - +DI| / (-DI + +DI))`` of bars ``n .. 2n-1`` is summed (a
    bar with TR or DI sum 0 adds nothing) and divided by ``n`` for the first ADX at bar
    ``2n - 1``; then ``adx = (adx * (n - 1) + dx) / n``, kept unchanged on such a bar.
    Latest values: :attr:`adx`, :attr:`plus_di`, :attr:`minus_di`.
    """

    name = "adx"

    def __init__(self, period: int, line: int = ADX_LINE) -> None:
        self.period = check_period("adx", period, 2)
        if isinstance(line, bool) or line not in (ADX_LINE, PLUS_DI, MINUS_DI):
            raise IndicatorParameterError(
                f"adx: line must be 0 (ADX), 1 (+DI) or 2 (-DI), got {line!r}"
            )
        self.line = int(line)
        self._divisor = float(self.period)
        self._keep = float(self.period - 1)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return 2 * self.period - 1 if self.line == ADX_LINE else self.period

    def reset(self) -> None:
        self._count = 0  # bars seen
        self._prev_high = self._prev_low = self._prev_close = NAN
        self._plus_dm = self._minus_dm = self._tr = 0.0
        self._sum_dx = 0.0
        self.adx = self.plus_di = self.minus_di = NAN

    def update(self, high: float, low: float, close: float) -> float:
        self._count += 1
        count, n = self._count, self.period
        up = high - self._prev_high
        down = self._prev_low - low
        prev_close = self._prev_close
        self._prev_high, self._prev_low, self._prev_close = high, low, close
        if count == 1:
            return NAN
        tr = true_range(high, low, prev_close)
        if count <= n:  # bars 1 .. n-1: plain sums
            if down > 0.0 and up < down:
                self._minus_dm += down
            elif up > 0.0 and up > down:
                self._plus_dm += up
            self._tr += tr
            return NAN
        self._minus_dm -= self._minus_dm / self._divisor
        self._plus_dm -= self._plus_dm / self._divisor
        if down > 0.0 and up < down:
            self._minus_dm += down
        elif up > 0.0 and up > down:
            self._plus_dm += up
        self._tr = self._tr - self._tr / self._divisor + tr
        dx = NAN  # stays NaN when TR or the DI sum is 0: the ADX keeps its value
        if self._tr != 0.0:
            self.minus_di = 100.0 * (self._minus_dm / self._tr)
            self.plus_di = 100.0 * (self._plus_dm / self._tr)
            di_sum = self.minus_di + self.plus_di
            if di_sum != 0.0:
                dx = 100.0 * (abs(self.minus_di - self.plus_di) / di_sum)
        else:
            self.minus_di = self.plus_di = 0.0
        if count <= 2 * n:  # bars n .. 2n-1: sum DX, the first ADX at 2n-1
            if dx == dx:
                self._sum_dx += dx
            if count == 2 * n:
                self.adx = self._sum_dx / self._divisor
        elif dx == dx:
            self.adx = (self.adx * self._keep + dx) / self._divisor
        if self.line == PLUS_DI:
            return self.plus_di
        if self.line == MINUS_DI:
            return self.minus_di
        return self.adx

"""Donchian channel: TA-Lib's TA_MAX of highs and TA_MIN of lows, and their midpoint."""

from __future__ import annotations

from omega.indicators.base import NAN, RangeIndicator, check_period
from omega.indicators.bollinger import BANDS, LOWER, MIDDLE, UPPER
from omega.indicators.errors import IndicatorParameterError


class RollingExtreme:
    """Highest (``highest=True``) or lowest value of the last ``n``, TA-Lib's TA_MAX/TA_MIN scan.

    TA-Lib keeps the extreme and its index; when the index leaves the window it rescans the
    window oldest first with a strict comparison, otherwise a new value replaces the extreme
    when ``>=`` (``<=`` for the lowest). The same steps give the same value for NaN inputs too.
    First ``n-1`` outputs NaN.
    """

    def __init__(self, period: int, *, highest: bool) -> None:
        self.period = period
        self.highest = highest
        self._window = [0.0] * period  # slot = index % period
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._index = -1  # index of the current extreme (-1: none yet)
        self._extreme = NAN

    def update(self, value: float) -> float:
        n = self.period
        today = self._count
        window = self._window
        window[today % n] = value
        self._count += 1
        trailing = today - (n - 1)
        if trailing < 0:
            return NAN
        if self._index < trailing:
            index = trailing
            extreme = window[index % n]
            for i in range(trailing + 1, today + 1):
                x = window[i % n]
                if (x > extreme) if self.highest else (x < extreme):
                    index = i
                    extreme = x
            self._index = index
            self._extreme = extreme
        elif (value >= self._extreme) if self.highest else (value <= self._extreme):
            self._index = today
            self._extreme = value
        return self._extreme


def check_band(indicator: str, band: object) -> int:
    """+1 upper, 0 middle, -1 lower (the encoding of Bollinger's ``band``)."""
    if isinstance(band, bool) or band not in BANDS:
        raise IndicatorParameterError(
            f"{indicator}: band must be 1 (upper), 0 (middle) or -1 (lower), got {band!r}"
        )
    return int(band)


class Donchian(RangeIndicator):
    """``Donchian(n)``: upper = highest high of the last ``n`` bars (TA_MAX), lower = lowest low
    (TA_MIN), middle = ``(upper + lower) * 0.5``; first ``n-1`` NaN.

    ``update`` returns the band selected by ``band`` (+1, 0, -1); all three of the latest bar
    are in :attr:`upper`, :attr:`middle`, :attr:`lower`. The close is not used.
    """

    name = "donchian"

    def __init__(self, period: int, band: int = MIDDLE) -> None:
        self.period = check_period("donchian", period, 1)
        self.band = check_band("donchian", band)
        self._upper = RollingExtreme(self.period, highest=True)
        self._lower = RollingExtreme(self.period, highest=False)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._upper.reset()
        self._lower.reset()
        self.upper = self.middle = self.lower = NAN

    def update(self, high: float, low: float, close: float) -> float:
        upper = self._upper.update(high)
        lower = self._lower.update(low)
        self.upper, self.lower = upper, lower
        self.middle = (upper + lower) * 0.5
        if self.band == UPPER:
            return upper
        if self.band == LOWER:
            return lower
        return self.middle

"""Bollinger bands as TA-Lib's TA_BBANDS with MA type SMA."""

from __future__ import annotations

from omega.indicators.base import NAN, Indicator, check_float
from omega.indicators.errors import IndicatorParameterError
from omega.indicators.rolling_std import RollingStd
from omega.indicators.sma import SMA

UPPER, MIDDLE, LOWER = 1, 0, -1
BANDS = (UPPER, MIDDLE, LOWER)


class Bollinger(Indicator):
    """``Bollinger(n, k_up, k_down)``: middle = SMA(n), std = RollingStd(n),
    ``upper = middle + k_up * std``, ``lower = middle - k_down * std``. First ``n-1`` NaN.

    TA_BBANDS multiplies by ``k`` only when ``k != 1``; ``std * 1.0`` is the same double, so
    always multiplying gives the same bands.

    ``update`` returns the band selected by ``band`` (+1 upper, 0 middle, -1 lower); all three
    of the latest bar are in :attr:`upper`, :attr:`middle`, :attr:`lower`.
    """

    name = "bollinger"

    def __init__(
        self, period: int, k_up: float = 2.0, k_down: float = 2.0, band: int = MIDDLE
    ) -> None:
        self._sma = SMA(period)
        self._std = RollingStd(period)
        self.period = self._std.period
        self.k_up = check_float(self.name, "k_up", k_up, minimum=0.0)
        self.k_down = check_float(self.name, "k_down", k_down, minimum=0.0)
        if isinstance(band, bool) or band not in BANDS:
            raise IndicatorParameterError(
                f"bollinger: band must be 1 (upper), 0 (middle) or -1 (lower), got {band!r}"
            )
        self.band = int(band)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period - 1

    def reset(self) -> None:
        self._sma.reset()
        self._std.reset()
        self.upper = self.middle = self.lower = NAN

    def update(self, value: float) -> float:
        middle = self._sma.update(value)
        std = self._std.update(value)
        self.middle = middle
        self.upper = middle + self.k_up * std
        self.lower = middle - self.k_down * std
        if self.band == UPPER:
            return self.upper
        if self.band == LOWER:
            return self.lower
        return self.middle

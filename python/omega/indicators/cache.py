"""``IndicatorCache``: each (timeframe, side, spec) series computed once and shared read-only."""

from __future__ import annotations

import numpy as np

from omega.data.bars import BarSeries
from omega.indicators.compute import SideBars, compute
from omega.indicators.errors import IndicatorInputError
from omega.indicators.spec import IndicatorSpec
from omega.timeframes import Timeframe

CacheKey = tuple[Timeframe, str, IndicatorSpec]


class IndicatorCache:
    """Series keyed by ``(timeframe, side, spec)`` for one data set.

    The key has no data identity, so a cache serves one data set: the first :class:`BarSeries`
    seen per timeframe is remembered and a different one is refused. Arrays handed out are
    read-only (``flags.writeable`` is False), so every strategy and optimizer run that shares
    them sees the same values. ``hits`` and ``misses`` count lookups.
    """

    def __init__(self) -> None:
        self._series: dict[CacheKey, np.ndarray] = {}
        self._bars: dict[Timeframe, BarSeries] = {}
        self._sides: dict[tuple[Timeframe, str], SideBars] = {}
        self.hits = 0
        self.misses = 0

    def get(self, bars: BarSeries, side: str, spec: IndicatorSpec) -> np.ndarray:
        """The series of ``spec`` on ``side`` of ``bars``, computed on first request only."""
        timeframe = bars.timeframe
        self._check_same_data(bars)
        key = (timeframe, side, spec)
        series = self._series.get(key)
        if series is not None:
            self.hits += 1
            return series
        self.misses += 1
        side_bars = self._sides.get((timeframe, side))
        if side_bars is None:
            side_bars = SideBars.from_series(bars, side)
            self._sides[(timeframe, side)] = side_bars
        series = compute(spec, side_bars, bars)
        series.flags.writeable = False
        self._series[key] = series
        return series

    def __len__(self) -> int:
        return len(self._series)

    def __contains__(self, key: object) -> bool:
        return key in self._series

    def clear(self) -> None:
        self._series.clear()
        self._bars.clear()
        self._sides.clear()
        self.hits = self.misses = 0

    def _check_same_data(self, bars: BarSeries) -> None:
        known = self._bars.setdefault(bars.timeframe, bars)
        if known is bars:
            return
        if len(known) != len(bars) or not np.array_equal(known.time, bars.time):
            raise IndicatorInputError(
                f"IndicatorCache holds {bars.timeframe} series of another data set "
                f"({known.source}); use one cache per data set"
            )

"""Batch computation of an :class:`IndicatorSpec` over one side's bar columns."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from omega.data.bars import BarSeries
from omega.indicators.atr import ATR
from omega.indicators.errors import IndicatorInputError
from omega.indicators.spec import IndicatorSpec

SIDES = ("bid", "ask", "mid")


class SideBars(NamedTuple):
    """One side's OHLC columns (float64 arrays of equal length)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray

    @classmethod
    def from_series(cls, bars: BarSeries, side: str) -> SideBars:
        """``side`` is ``bid``, ``ask`` or ``mid`` (``(bid + ask) * 0.5`` per bar, as in Rust)."""
        if side not in SIDES:
            raise IndicatorInputError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
        return cls(*(bars.column(side, name) for name in cls._fields))


def compute(spec: IndicatorSpec, bars_for_side: SideBars) -> np.ndarray:
    """The full series of ``spec`` (float64, one value per bar, NaN during warm-up)."""
    lengths = {len(column) for column in bars_for_side}
    if len(lengths) > 1:
        raise IndicatorInputError(f"{spec}: side columns have different lengths {sorted(lengths)}")
    indicator = spec.build()
    if isinstance(indicator, ATR):
        return indicator.batch(bars_for_side.high, bars_for_side.low, bars_for_side.close)
    return indicator.batch(getattr(bars_for_side, str(spec.field)))

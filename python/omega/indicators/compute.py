"""Batch computation of an :class:`IndicatorSpec` over one side's bar columns."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from omega.data.bars import BarSeries
from omega.indicators.base import as_float_list
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


def compute(
    spec: IndicatorSpec, bars_for_side: SideBars, bars: BarSeries | None = None
) -> np.ndarray:
    """The full series of ``spec`` (float64, one value per bar, NaN during warm-up).

    ``bars`` (the two-sided series) is needed only by a custom kind with ``bar`` input.
    """
    lengths = {len(column) for column in bars_for_side}
    if len(lengths) > 1:
        raise IndicatorInputError(f"{spec}: side columns have different lengths {sorted(lengths)}")
    custom_input = spec.custom_input
    if custom_input is not None:
        return _fold_custom(spec, custom_input, bars_for_side, bars)
    indicator = spec.build()
    if spec.field is None:  # high, low and close (ATR, ADX, ...)
        return indicator.batch(bars_for_side.high, bars_for_side.low, bars_for_side.close)
    return indicator.batch(getattr(bars_for_side, str(spec.field)))


def _fold_custom(
    spec: IndicatorSpec, custom_input: str, side: SideBars, bars: BarSeries | None
) -> np.ndarray:
    """A registered kind's series: a fresh instance, ``update`` folded over every bar once."""
    indicator = spec.build()
    indicator.reset()
    update = indicator.update
    if custom_input == "field":
        out = [update(x) for x in as_float_list(getattr(side, str(spec.field)))]
    elif custom_input == "range":
        highs, lows, closes = (as_float_list(c) for c in (side.high, side.low, side.close))
        out = [update(h, lo, c) for h, lo, c in zip(highs, lows, closes, strict=True)]
    else:
        if bars is None:
            raise IndicatorInputError(f"{spec}: reads whole two-sided bars; none were given")
        from omega.strategy.data_slice import BAR_FIELDS, Bar

        columns = [getattr(bars, name).tolist() for name in BAR_FIELDS]
        out = [update(Bar(*row)) for row in zip(*columns, strict=True)]
    return np.array([float(v) for v in out], dtype=np.float64)

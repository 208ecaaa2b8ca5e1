"""The indicator protocol: an incremental ``update`` whose fold is the batch series.

Every indicator is a recurrence over plain Python floats (IEEE doubles, like Rust ``f64``) so
that the Rust port performing the same operations in the same order is bit-identical.
numpy is used only to carry arrays in and out, never for arithmetic on the reference path.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from omega.indicators.errors import IndicatorInputError, IndicatorParameterError

NAN = math.nan


class Indicator(ABC):
    """One input value per bar in, one float out (NaN during warm-up)."""

    #: Short name used in messages and specs (``"sma"``, ``"ema"``...).
    name: str = "indicator"

    @property
    @abstractmethod
    def warmup_period(self) -> int:
        """Number of leading outputs that are NaN when fed from a fresh state."""

    @abstractmethod
    def update(self, value: float) -> float:
        """Feed the next value; return the indicator after it (NaN during warm-up)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget everything fed so far (parameters are kept)."""

    def batch(self, values: Iterable[float] | np.ndarray) -> np.ndarray:
        """Reset, then fold ``update`` over ``values``; the state is left after the last one."""
        self.reset()
        update = self.update
        out = [update(x) for x in as_float_list(values)]
        return np.array(out, dtype=np.float64)


class RangeIndicator:
    """An indicator fed one bar's high, low and close: ``update(high, low, close)``.

    ``batch`` folds ``update`` over three columns; subclasses give ``name``, ``update``,
    ``reset`` and ``warmup_period`` (ATR, ADX, CCI, stochastic, Donchian, Keltner).
    """

    name: str = "indicator"

    def update(self, high: float, low: float, close: float) -> float:
        raise NotImplementedError(f"{type(self).__name__}.update")

    def reset(self) -> None:
        raise NotImplementedError(f"{type(self).__name__}.reset")

    def batch(
        self,
        high: np.ndarray | list[float],
        low: np.ndarray | list[float],
        close: np.ndarray | list[float],
    ) -> np.ndarray:
        """Reset, then fold ``update`` over the bars; the state is left after the last one."""
        highs, lows, closes = hlc_lists(self.name, high, low, close)
        self.reset()
        update = self.update
        out = [update(h, lo, c) for h, lo, c in zip(highs, lows, closes, strict=True)]
        return np.array(out, dtype=np.float64)


def hlc_lists(
    indicator: str,
    high: np.ndarray | list[float],
    low: np.ndarray | list[float],
    close: np.ndarray | list[float],
) -> tuple[list[float], list[float], list[float]]:
    """The three columns as float lists, checked for equal lengths."""
    highs, lows, closes = as_float_list(high), as_float_list(low), as_float_list(close)
    if not len(highs) == len(lows) == len(closes):
        raise IndicatorInputError(
            f"{indicator}: high, low and close lengths differ ({len(highs)}, {len(lows)}, "
            f"{len(closes)})"
        )
    return highs, lows, closes


def as_float_list(values: Iterable[float] | np.ndarray) -> list[float]:
    """Plain Python floats (exact float64 values) for the reference loops."""
    return np.ascontiguousarray(values, dtype=np.float64).tolist()


def check_period(indicator: str, period: object, minimum: int, name: str = "period") -> int:
    """An int >= ``minimum`` (bool is rejected although it is an int subclass)."""
    if isinstance(period, bool) or not isinstance(period, int | np.integer):
        raise IndicatorParameterError(f"{indicator}: {name} must be an integer, got {period!r}")
    if period < minimum:
        raise IndicatorParameterError(f"{indicator}: {name} must be >= {minimum}, got {period}")
    return int(period)


def check_float(
    indicator: str, name: str, value: object, *, minimum: float, strict: bool = False
) -> float:
    """A finite float >= ``minimum`` (> when ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise IndicatorParameterError(f"{indicator}: {name} must be a number, got {value!r}")
    value = float(value)
    too_small = value <= minimum if strict else value < minimum
    if not math.isfinite(value) or too_small:
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise IndicatorParameterError(
            f"{indicator}: {name} must be finite and {bound}, got {value}"
        )
    return value

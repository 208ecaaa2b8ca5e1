"""Reference indicators: incremental recurrences, bit-identical to ``omega-indicators`` (Rust).

Each indicator has ``update`` (one bar in, one float out, NaN during warm-up), ``reset`` and
``batch`` (the fold of ``update`` from the first bar). Formulas and TA-Lib correspondence:
docs/indicators.md.
"""

from __future__ import annotations

from omega.indicators.atr import ATR, true_range
from omega.indicators.base import Indicator
from omega.indicators.bollinger import LOWER, MIDDLE, UPPER, Bollinger
from omega.indicators.cache import IndicatorCache
from omega.indicators.compute import SideBars, compute
from omega.indicators.ema import EMA
from omega.indicators.errors import IndicatorInputError, IndicatorParameterError
from omega.indicators.kalman import Kalman, KalmanZScore
from omega.indicators.rolling_std import RollingStd
from omega.indicators.rsi import RSI
from omega.indicators.sma import SMA
from omega.indicators.spec import FIELDS, KINDS, IndicatorSpec
from omega.indicators.zscore import ZScore

__all__ = [
    "ATR",
    "EMA",
    "FIELDS",
    "KINDS",
    "LOWER",
    "MIDDLE",
    "RSI",
    "SMA",
    "UPPER",
    "Bollinger",
    "Indicator",
    "IndicatorCache",
    "IndicatorInputError",
    "IndicatorParameterError",
    "IndicatorSpec",
    "Kalman",
    "KalmanZScore",
    "RollingStd",
    "SideBars",
    "ZScore",
    "compute",
    "true_range",
]

"""Reference indicators: incremental recurrences, bit-identical to ``omega-indicators`` (Rust).

Each indicator has ``update`` (one bar in, one float out, NaN during warm-up), ``reset`` and
``batch`` (the fold of ``update`` from the first bar). Formulas and TA-Lib correspondence:
docs/indicators.md.
"""

from __future__ import annotations

from omega.indicators.adx import ADX
from omega.indicators.atr import ATR, true_range
from omega.indicators.base import Indicator
from omega.indicators.bollinger import LOWER, MIDDLE, UPPER, Bollinger
from omega.indicators.cache import IndicatorCache
from omega.indicators.cci import CCI
from omega.indicators.compute import SideBars, compute
from omega.indicators.custom import register_indicator
from omega.indicators.donchian import Donchian
from omega.indicators.ema import EMA
from omega.indicators.errors import IndicatorInputError, IndicatorParameterError
from omega.indicators.hull import Hull
from omega.indicators.kalman import Kalman, KalmanZScore
from omega.indicators.keltner import Keltner
from omega.indicators.macd import MACD
from omega.indicators.rolling_std import RollingStd
from omega.indicators.rsi import RSI
from omega.indicators.sma import SMA
from omega.indicators.spec import FIELDS, KINDS, IndicatorSpec
from omega.indicators.stochastic import Stochastic
from omega.indicators.wma import WMA
from omega.indicators.zscore import ZScore

__all__ = [
    "ADX",
    "ATR",
    "CCI",
    "EMA",
    "FIELDS",
    "KINDS",
    "LOWER",
    "MACD",
    "MIDDLE",
    "RSI",
    "SMA",
    "UPPER",
    "WMA",
    "Bollinger",
    "Donchian",
    "Hull",
    "Indicator",
    "IndicatorCache",
    "IndicatorInputError",
    "IndicatorParameterError",
    "IndicatorSpec",
    "Kalman",
    "KalmanZScore",
    "Keltner",
    "RollingStd",
    "SideBars",
    "Stochastic",
    "ZScore",
    "compute",
    "register_indicator",
    "true_range",
]

"""Built-in Python strategies, registered by name on import (see `omega.strategy`)."""

from __future__ import annotations

from omega.strategies.mean_reversion_z_score import MeanReversionZScore
from omega.strategies.pairs_zscore import PairsZScore
from omega.strategies.sma_cross import SmaCross
from omega.strategies.zscore_threshold import ZScoreThreshold

__all__ = ["MeanReversionZScore", "PairsZScore", "SmaCross", "ZScoreThreshold"]

"""Shared setup: synthetic bars and engine settings, built once per benchmark process."""

from __future__ import annotations

import functools

from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings
from omega.timeframes import Timeframe

SEED = 7


@functools.cache
def bars(n_bars: int):
    return generate_synthetic(n_bars=n_bars, seed=SEED)


def default_settings() -> EngineSettings:
    return EngineSettings(primary_timeframe=Timeframe.M5, timeframes=(Timeframe.M5, Timeframe.H1))


def rust_available() -> bool:
    try:
        import omega._core  # noqa: F401
    except ImportError:
        return False
    return True

"""Shared setup: synthetic bars and engine settings, built once per benchmark process."""

from __future__ import annotations

import functools
from dataclasses import replace

from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings
from omega.timeframes import Timeframe

SEED = 7


@functools.cache
def bars(n_bars: int):
    return generate_synthetic(n_bars=n_bars, seed=SEED)


@functools.cache
def peer_bars(n_bars: int):
    """The peer workloads' input: a 9-decimal price grid, bid prices on both sides."""
    b = generate_synthetic(n_bars=n_bars, seed=SEED, price_decimals=9)
    return replace(b, ask_open=b.bid_open, ask_high=b.bid_high, ask_low=b.bid_low,
                   ask_close=b.bid_close)  # fmt: skip


def settings_for(primary: str, extra: tuple[str, ...] = ()) -> EngineSettings:
    p = Timeframe.parse(primary)
    return EngineSettings(primary_timeframe=p, timeframes=(p, *map(Timeframe.parse, extra)))


def default_settings() -> EngineSettings:
    return settings_for("M5", ("H1",))


def rust_available() -> bool:
    try:
        import omega._core  # noqa: F401
    except ImportError:
        return False
    return True


def skip_without_core(mode: str) -> None:
    """asv skips a benchmark whose setup raises NotImplementedError."""
    if mode != "python" and not rust_available():
        raise NotImplementedError("omega._core not built")

"""raptorbt (PyPI ``raptorbt``): a Rust backtesting engine driven through its signal-array fast
path, ``run_single_backtest(timestamps, open, high, low, close, volume, entries, exits,
direction=...)``, with its own indicators (``raptorbt.sma``) and
``BacktestConfig(fill_timing="next_bar_open")`` (decide at the close, fill at the next open:
Omega's order timing).

A run holds one direction, so the always-in-the-market SMA cross is a long run (enter on the
up-cross, exit on the down-cross) plus a short run (the reverse), their trades merged in
entry order: the same trades as one reversing position. zscore_threshold does not fit: its
stops are multiples of the rolling deviation fixed at entry, raptorbt's are percentages of
the entry price or ATR multiples, and its long and short runs can hold positions at the same
time. That row runs the closest form (ATR-multiple stops over the z-score's period) and is
reported as approximate, never compared with Omega's trades or counted in a ratio.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from omega.peers.data import Columns, trades_array

CALL = "run_single_backtest(..., entries, exits, direction=+1) and (..., direction=-1)"
INDEX = "int64 ns timestamps (no index)"
# Workloads whose rules raptorbt expresses exactly; the others run approximately.
EXACT = ("sma_cross",)


def version() -> str:
    from importlib.metadata import version as dist_version

    return f"raptorbt {dist_version('raptorbt')}"


def setup() -> None:
    # raptorbt checks PyPI for a newer release on import (a background thread); a benchmark
    # must not depend on the network.
    os.environ.setdefault("RAPTORBT_NO_VERSION_CHECK", "1")


def _previous(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[0] = np.nan
    out[1:] = values[:-1]
    return out


def _both_directions(
    cols: Columns, long_in: np.ndarray, long_out: np.ndarray, config: Any, *, short_in=None,
    short_out=None,
) -> list[Any]:  # fmt: skip
    import raptorbt as rb

    ohlcv = (cols.time, cols.open, cols.high, cols.low, cols.close, cols.volume)
    short_in = long_out if short_in is None else short_in
    short_out = long_in if short_out is None else short_out
    trades = []
    for direction, entries, exits in ((1, long_in, long_out), (-1, short_in, short_out)):
        result = rb.run_single_backtest(*ohlcv, entries, exits, direction=direction,
                                        weight=1.0, symbol="EURUSD", config=config)  # fmt: skip
        trades += result.trades()
    return trades


def run(cols: Columns, workload: str, params: dict[str, Any]) -> np.ndarray:
    """Runs the backtest end to end; returns trades as (entry_time, exit_time, side) rows."""
    import raptorbt as rb

    config = rb.BacktestConfig(initial_capital=1e9, fees=0.0, slippage=0.0,
                               fill_timing="next_bar_open")  # fmt: skip
    close = cols.close
    if workload == "sma_cross":
        fast, slow = rb.sma(close, params["fast"]), rb.sma(close, params["slow"])
        f0, s0 = _previous(fast), _previous(slow)
        up = (f0 <= s0) & (fast > slow)  # NaN compares False: no cross in the warm-up
        down = (f0 >= s0) & (fast < slow)
        trades = _both_directions(cols, up, down, config)
    elif workload == "zscore_threshold":
        period = params["period"]
        mean = rb.sma(close, period)
        std = np.sqrt(np.maximum(rb.sma(close * close, period) - mean * mean, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(std > 0, (close - mean) / std, np.nan)
        flat = np.abs(z) < params["exit"]
        config.set_atr_stop(params["sl_mult"], period)
        config.set_atr_target(params["tp_mult"], period)
        trades = _both_directions(cols, z < -params["entry"], flat, config,
                                  short_in=z > params["entry"], short_out=flat)  # fmt: skip
    else:
        raise ValueError(f"raptorbt peer has no workload {workload!r}")
    trades.sort(key=lambda t: (t.entry_idx, t.exit_idx))
    entry = np.fromiter((t.entry_idx for t in trades), np.int64, len(trades))
    exit_ = np.fromiter((t.exit_idx for t in trades), np.int64, len(trades))
    side = np.fromiter((1 if t.direction > 0 else -1 for t in trades), np.int64, len(trades))
    return trades_array(cols.time[entry], cols.time[exit_], side)

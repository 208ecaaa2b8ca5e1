"""vectorbt: both peer workloads as signal arrays run by `Portfolio.from_signals`.

Signals decided at close ``i`` are shifted to bar ``i + 1`` and filled at its open
(``price=open``), which is Omega's order timing. Stops are fractions of the fill price
(``stop_entry_price="fillprice"``), the form vectorbt takes them in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _next_bar(signal: pd.Series) -> pd.Series:
    return signal.shift(1, fill_value=False).astype(bool)


def _portfolio_kwargs(workload: str, frame: pd.DataFrame, params: dict[str, Any]) -> dict:
    import vectorbt as vbt

    close = frame["Close"]
    if workload == "sma_cross":
        fast = vbt.MA.run(close, params["fast"]).ma
        slow = vbt.MA.run(close, params["slow"]).ma
        f0, s0 = fast.shift(1), slow.shift(1)
        # NaN comparisons are False, so the warm-up never crosses (as in the specification).
        up = (f0 <= s0) & (fast > slow)
        down = (f0 >= s0) & (fast < slow)
        return {
            "entries": _next_bar(up),
            "short_entries": _next_bar(down),
            "upon_opposite_entry": "reverse",
        }
    if workload == "zscore_threshold":
        period = params["period"]
        mean = vbt.MA.run(close, period).ma
        std = vbt.MSTD.run(close, period, ddof=0).mstd
        z = ((close - mean) / std).where(std != 0)
        long_entry = z < -params["entry"]
        short_entry = z > params["entry"]
        exit_ = z.abs() < params["exit"]
        return {
            "entries": _next_bar(long_entry),
            "short_entries": _next_bar(short_entry),
            "exits": _next_bar(exit_),
            "short_exits": _next_bar(exit_),
            "upon_opposite_entry": "ignore",  # a signal while in a position is ignored
            "sl_stop": (params["sl_mult"] * std / close).shift(1),
            "tp_stop": (params["tp_mult"] * std / close).shift(1),
            "stop_entry_price": "fillprice",
        }
    raise ValueError(f"vectorbt peer has no workload {workload!r}")


def run(frame: pd.DataFrame, workload: str, params: dict[str, Any], engine: str) -> np.ndarray:
    """Runs the backtest with vectorbt's ``engine`` ("rust" or "numba"); returns trades."""
    import vectorbt as vbt

    from omega.peers.data import trades_array

    pf = vbt.Portfolio.from_signals(
        frame["Close"],
        open=frame["Open"],
        high=frame["High"],
        low=frame["Low"],
        price=frame["Open"],
        size=1.0,
        fees=0.0,
        init_cash=1e9,
        freq="1min",
        engine=engine,
        **_portfolio_kwargs(workload, frame, params),
    )
    records = pf.trades.values  # exit trades; a reversal is an exit and an entry
    index = frame.index.as_unit("ns").asi8
    entry = index[records["entry_idx"]]
    exit_ = index[records["exit_idx"]]
    side = np.where(records["direction"] == 0, 1, -1)
    return trades_array(entry, exit_, side)

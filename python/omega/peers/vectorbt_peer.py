"""vectorbt: both peer workloads as signal arrays run by `Portfolio.from_signals`.

Run as vectorbt's documentation shows for speed: the Rust engine selected globally
(``vbt.settings["engine"] = "rust"``, package ``vectorbt-rust``; ``vectorbt_numba`` is the
same code on numba), a tz-naive DatetimeIndex, indicators from ``vbt.MA`` / ``vbt.MSTD``,
crossovers from ``ma_crossed_above`` / ``ma_crossed_below``. The timed run is end to end:
index and Series built from the columns, indicators, signals, simulation, trade records.

Signals decided at close ``i`` are shifted to bar ``i + 1`` and filled at its open
(``price=open``), which is Omega's order timing. Stops are fractions of the fill price
(``stop_entry_price="fillprice"``), the form vectorbt takes them in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omega.peers.data import Columns, naive_index, trades_array

CALL = "Portfolio.from_signals(close, entries, short_entries=..., price=open)"
INDEX = "tz-naive DatetimeIndex"


def version(engine: str = "rust") -> str:
    import vectorbt

    if engine != "rust":
        return f"vectorbt {vectorbt.__version__}"
    try:
        import vectorbt_rust

        return f"vectorbt {vectorbt.__version__}, vectorbt-rust {vectorbt_rust.__version__}"
    except ImportError:
        return f"vectorbt {vectorbt.__version__}"


def setup(engine: str) -> None:
    """Select the engine globally, as vectorbt's docs show (every dispatching call uses it)."""
    import vectorbt as vbt

    if engine == "rust":
        from vectorbt._engine import is_rust_available

        if not is_rust_available():
            raise RuntimeError("vectorbt-rust is not installed (or not version-compatible)")
    vbt.settings["engine"] = engine


def _next_bar(signal: pd.Series | pd.DataFrame) -> Any:
    return signal.shift(1, fill_value=False).astype(bool)


def sma_cross_signals(close: pd.Series, fast: Any, slow: Any) -> dict[str, Any]:
    """Reversal signals of an SMA cross (scalars, or lists of windows: one column per pair)."""
    import vectorbt as vbt

    fast_ma = vbt.MA.run(close, fast, short_name="fast")
    slow_ma = vbt.MA.run(close, slow, short_name="slow")
    # vectorbt's crossover counts "below or equal, then above", the specification's rule.
    up = fast_ma.ma_crossed_above(slow_ma)
    down = fast_ma.ma_crossed_below(slow_ma)
    return {"entries": _next_bar(up), "short_entries": _next_bar(down),
            "upon_opposite_entry": "reverse"}  # fmt: skip


def _signals(workload: str, close: pd.Series, params: dict[str, Any]) -> dict[str, Any]:
    import vectorbt as vbt

    if workload == "sma_cross":
        return sma_cross_signals(close, params["fast"], params["slow"])
    if workload == "zscore_threshold":
        period = params["period"]
        mean = vbt.MA.run(close, period).ma
        std = vbt.MSTD.run(close, period, ddof=0).mstd
        z = ((close - mean) / std).where(std != 0)
        exit_ = z.abs() < params["exit"]
        return {
            "entries": _next_bar(z < -params["entry"]),
            "short_entries": _next_bar(z > params["entry"]),
            "exits": _next_bar(exit_),
            "short_exits": _next_bar(exit_),
            "upon_opposite_entry": "ignore",  # a signal while in a position is ignored
            "sl_stop": (params["sl_mult"] * std / close).shift(1),
            "tp_stop": (params["tp_mult"] * std / close).shift(1),
            "stop_entry_price": "fillprice",
        }
    raise ValueError(f"vectorbt peer has no workload {workload!r}")


def portfolio(close: pd.Series, cols: Columns, signals: dict[str, Any]) -> Any:
    import vectorbt as vbt

    index = close.index
    return vbt.Portfolio.from_signals(
        close,
        open=pd.Series(cols.open, index=index),
        high=pd.Series(cols.high, index=index),
        low=pd.Series(cols.low, index=index),
        price=pd.Series(cols.open, index=index),
        size=1.0,
        fees=0.0,
        init_cash=1e9,
        freq="1min",
        **signals,
    )


def run(cols: Columns, workload: str, params: dict[str, Any]) -> np.ndarray:
    """Runs the backtest end to end; returns trades as (entry_time, exit_time, side) rows."""
    close = pd.Series(cols.close, index=naive_index(cols.time))
    pf = portfolio(close, cols, _signals(workload, close, params))
    records = pf.trades.records  # exit trades; a reversal is an exit and an entry
    side = np.where(records["direction"].to_numpy() == 0, 1, -1)
    entry = cols.time[records["entry_idx"].to_numpy()]
    exit_ = cols.time[records["exit_idx"].to_numpy()]
    return trades_array(entry, exit_, side)

"""The peer's view of a benchmark input and of the strategy's parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omega.bench.inputs import load_bars


def ohlc_frame(folder: Path) -> pd.DataFrame:
    """Bid OHLC (+ volume) indexed by UTC open time, in the column names peers expect."""
    bars = load_bars(folder)
    index = pd.DatetimeIndex(pd.to_datetime(bars.time, utc=True), name="time")
    return pd.DataFrame(
        {
            "Open": bars.bid_open,
            "High": bars.bid_high,
            "Low": bars.bid_low,
            "Close": bars.bid_close,
            "Volume": bars.volume,
        },
        index=index,
    )


def default_params(strategy: str) -> dict[str, Any]:
    """The strategy's defaults from Omega's own parameter model (one source of truth)."""
    from omega.strategy import get_strategy

    return get_strategy(strategy).validate_params({}).model_dump()


def trades_array(entry_ns: np.ndarray, exit_ns: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Trades as rows (entry_time, exit_time, side), the form compared with Omega's."""
    return np.stack(
        [entry_ns.astype(np.int64), exit_ns.astype(np.int64), side.astype(np.int64)], axis=1
    )

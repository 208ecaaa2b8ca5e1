"""The peers' view of a benchmark input and of the strategy's parameters.

A peer starts from the same numpy columns Omega's `BarSeries` holds (UTC open times as int64
ns, bid OHLC, volume); building whatever index or frame the peer needs from them is part of
its timed run, as it is part of a user's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.bench.inputs import load_bars

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Columns:
    """Bid OHLC and volume, indexed by ``time`` (UTC open times, int64 ns)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    def head(self, n: int) -> Columns:
        return Columns(*(getattr(self, f)[:n] for f in self.__dataclass_fields__))


def load_columns(folder: Path) -> Columns:
    bars = load_bars(folder)
    return Columns(bars.time, bars.bid_open, bars.bid_high, bars.bid_low, bars.bid_close,
                   bars.volume)  # fmt: skip


def naive_index(time_ns: np.ndarray) -> pd.DatetimeIndex:
    """A tz-naive DatetimeIndex of UTC times, as the peers' own examples build theirs (a
    tz-aware index makes some of them build one Python Timestamp per bar)."""
    import pandas as pd

    return pd.DatetimeIndex(time_ns.view("datetime64[ns]"), name="time")


def ohlc_frame(cols: Columns) -> pd.DataFrame:
    """Bid OHLC (+ volume) on a tz-naive index, in the column names peers expect."""
    import pandas as pd

    data = {"Open": cols.open, "High": cols.high, "Low": cols.low, "Close": cols.close,
            "Volume": cols.volume}  # fmt: skip
    return pd.DataFrame(data, index=naive_index(cols.time))


def default_params(strategy: str) -> dict[str, Any]:
    """The strategy's defaults from Omega's own parameter model (one source of truth)."""
    from omega.strategy import get_strategy

    return get_strategy(strategy).validate_params({}).model_dump()


def trades_array(entry_ns: np.ndarray, exit_ns: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Trades as rows (entry_time, exit_time, side), the form compared with Omega's."""
    return np.stack(
        [entry_ns.astype(np.int64), exit_ns.astype(np.int64), side.astype(np.int64)], axis=1
    )

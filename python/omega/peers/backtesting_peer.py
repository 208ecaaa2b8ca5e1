"""backtesting.py: both peer workloads as `backtesting.Strategy` classes.

The indicators are pandas rolling windows (the library's documented idiom); the rules are the
specification's, written out rather than using `crossover` (whose previous-bar test is strict,
where the specification's is not).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def _rolling_mean(values: np.ndarray, n: int) -> np.ndarray:
    return pd.Series(values).rolling(n).mean().to_numpy()


def _rolling_std(values: np.ndarray, n: int) -> np.ndarray:
    return pd.Series(values).rolling(n).std(ddof=0).to_numpy()


def _zscore(values: np.ndarray, n: int) -> np.ndarray:
    std = _rolling_std(values, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - _rolling_mean(values, n)) / std
    z[std == 0] = np.nan
    return z


def strategy_class(workload: str, params: dict[str, Any]) -> type:
    from backtesting import Strategy

    if workload == "sma_cross":

        class SmaCross(Strategy):
            def init(self) -> None:
                close = self.data.Close
                self.fast = self.I(_rolling_mean, close, params["fast"])
                self.slow = self.I(_rolling_mean, close, params["slow"])

            def next(self) -> None:
                if len(self.fast) < 2:
                    return
                f0, f1, s0, s1 = self.fast[-2], self.fast[-1], self.slow[-2], self.slow[-1]
                if math.isnan(f0) or math.isnan(f1) or math.isnan(s0) or math.isnan(s1):
                    return
                if f0 <= s0 and f1 > s1 and not self.position.is_long:
                    self.buy(size=1)  # exclusive_orders: closes the short at the same open
                elif f0 >= s0 and f1 < s1 and not self.position.is_short:
                    self.sell(size=1)

        return SmaCross

    if workload == "zscore_threshold":

        class ZScoreThreshold(Strategy):
            def init(self) -> None:
                close = self.data.Close
                self.z = self.I(_zscore, close, params["period"])
                self.std = self.I(_rolling_std, close, params["period"])

            def next(self) -> None:
                z, s = self.z[-1], self.std[-1]
                if self.position:
                    if not math.isnan(z) and abs(z) < params["exit"]:
                        self.position.close()
                    return
                if math.isnan(z) or math.isnan(s):
                    return
                # The entry fills at the next open, which equals this close in the input
                # (synthetic bars open at the previous close), so the levels are the ones
                # Omega derives from the fill and the distances.
                close = self.data.Close[-1]
                if z < -params["entry"]:
                    sl, tp = close - params["sl_mult"] * s, close + params["tp_mult"] * s
                    self.buy(size=1, sl=sl, tp=tp)
                elif z > params["entry"]:
                    sl, tp = close + params["sl_mult"] * s, close - params["tp_mult"] * s
                    self.sell(size=1, sl=sl, tp=tp)

        return ZScoreThreshold

    raise ValueError(f"backtesting.py peer has no workload {workload!r}")


def run(frame: pd.DataFrame, workload: str, params: dict[str, Any]) -> np.ndarray:
    """Runs the backtest; returns trades as (entry_time, exit_time, side) rows."""
    from backtesting import Backtest

    from omega.peers.data import trades_array

    bt = Backtest(
        frame,
        strategy_class(workload, params),
        cash=1e9,
        commission=0.0,
        spread=0.0,
        exclusive_orders=workload == "sma_cross",
        trade_on_close=False,
        finalize_trades=True,  # the open trade at the end closes at the last close, as in Omega
    )
    trades = bt.run()._trades
    entry = pd.DatetimeIndex(trades["EntryTime"]).as_unit("ns").asi8
    exit_ = pd.DatetimeIndex(trades["ExitTime"]).as_unit("ns").asi8
    return trades_array(entry, exit_, np.sign(trades["Size"].to_numpy()))

"""backtesting.py: both peer workloads as `backtesting.Strategy` classes, written as the
library's documentation writes them: indicators declared with ``self.I`` over pandas rolling
windows (the ``SMA`` helper of its examples), the SMA cross with ``backtesting.lib.crossover``
and ``position.close()`` before the new order. The timed run builds the OHLC frame on a
tz-naive index from the columns, runs ``Backtest.run`` and reads ``_trades``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from omega.peers.data import Columns, ohlc_frame, trades_array

CALL = "Backtest(frame, Strategy).run(); Strategy.init: self.I(SMA, ...), next: crossover"
INDEX = "tz-naive DatetimeIndex"


def version() -> str:
    import backtesting

    return f"backtesting {backtesting.__version__}"


def SMA(values: np.ndarray, n: int) -> np.ndarray:
    """The simple moving average of backtesting.py's examples (`backtesting.test.SMA`)."""
    return pd.Series(values).rolling(n).mean().to_numpy()


def _rolling_std(values: np.ndarray, n: int) -> np.ndarray:
    return pd.Series(values).rolling(n).std(ddof=0).to_numpy()


def _zscore(values: np.ndarray, n: int) -> np.ndarray:
    std = _rolling_std(values, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - SMA(values, n)) / std
    z[std == 0] = np.nan
    return z


def strategy_class(workload: str, params: dict[str, Any]) -> type:
    from backtesting import Strategy
    from backtesting.lib import crossover

    if workload == "sma_cross":

        class SmaCross(Strategy):
            def init(self) -> None:
                close = self.data.Close
                self.fast = self.I(SMA, close, params["fast"])
                self.slow = self.I(SMA, close, params["slow"])

            def next(self) -> None:
                # crossover's previous-bar test is strict where the specification's is not;
                # the peer input's 9-decimal grid has no SMA ties, so both decide alike.
                if crossover(self.fast, self.slow):
                    self.position.close()
                    self.buy(size=1)
                elif crossover(self.slow, self.fast):
                    self.position.close()
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


def run(cols: Columns, workload: str, params: dict[str, Any]) -> np.ndarray:
    """Runs the backtest end to end; returns trades as (entry_time, exit_time, side) rows."""
    from backtesting import Backtest

    bt = Backtest(
        ohlc_frame(cols),
        strategy_class(workload, params),
        cash=1e9,
        commission=0.0,
        spread=0.0,
        trade_on_close=False,
        finalize_trades=True,  # the open trade at the end closes at the last close, as in Omega
    )
    trades = bt.run()._trades
    entry = pd.DatetimeIndex(trades["EntryTime"]).as_unit("ns").asi8
    exit_ = pd.DatetimeIndex(trades["ExitTime"]).as_unit("ns").asi8
    return trades_array(entry, exit_, np.sign(trades["Size"].to_numpy()))

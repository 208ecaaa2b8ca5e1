"""The engine-neutral output of one backtest run, produced identically by every mode.

Both the Python reference engine and the Rust core return a `RawRun`; `omega.results` turns
it into the user-facing `BacktestResult`. Parity tests compare `RawRun`s field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Trade columns in canonical order, with numpy dtypes. Times are UTC int64 ns.
TRADE_COLUMNS: dict[str, str] = {
    "entry_time": "int64",
    "exit_time": "int64",
    "entry_index": "int64",  # primary bar index of the entry fill
    "exit_index": "int64",  # primary bar index of the exit
    "side": "int8",  # +1 long, -1 short
    "size": "float64",  # lots closed by this row
    "entry_price": "float64",
    "exit_price": "float64",
    "sl": "float64",  # stop-loss level at exit (NaN if none)
    "tp": "float64",  # take-profit level at exit (NaN if none)
    "exit_reason": "object",  # see EXIT_REASONS
    "gross_pnl": "float64",  # account currency
    "fees": "float64",  # account currency
    "swap": "float64",  # the position's swap on its closing row (0.0 on partial rows)
    "pnl": "float64",  # gross_pnl - fees + swap
    "bars_held": "int64",
    "mfe": "float64",  # maximum favourable excursion, price units
    "tag": "object",
}

EXIT_REASONS = (
    "stop_loss",
    "take_profit",
    "strategy",
    "partial",
    "max_bars",
    "end_of_data",
    "stop_out",
)


@dataclass
class SkippedOrder:
    time: int  # open time of the bar where the order would have filled
    reason: str  # "below_min_lot" | "no_stop_loss" | "partial_below_lot_step"
    detail: str = ""


@dataclass
class RawRun:
    trades: dict[str, np.ndarray]
    equity_time: np.ndarray  # int64 open times of the primary bars
    equity: np.ndarray  # float64, marked at each primary bar's close
    final_balance: float
    bars_processed: int  # primary bars the loop walked
    base_bars: int  # input bars (base timeframe)
    ignored_signals: int = 0  # signals that arrived while a position stayed open
    dropped_orders: int = 0  # orders still pending after the last bar
    skipped_orders: list[SkippedOrder] = field(default_factory=list)
    trace: list[dict] | None = None  # decision trace rows, when requested
    # The metrics the Rust core computed with the run (`omega_engine::metrics`, equal to
    # `omega.results.compute_metrics` bit for bit); None from the Python engine.
    metrics: dict | None = None

    @property
    def n_trades(self) -> int:
        return len(self.trades["entry_time"])


def empty_trades() -> dict[str, np.ndarray]:
    return {name: np.empty(0, dtype=dtype) for name, dtype in TRADE_COLUMNS.items()}

"""Matplotlib charts rendered to base64 PNG (deterministic bytes: no timestamps embedded)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

_PNG_METADATA = {"Software": None}  # keep the bytes independent of the matplotlib version


def _to_base64_png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata=_PNG_METADATA)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


MAX_BUCKETS = 2000  # a 1000-pixel-wide chart cannot show more; keeps rendering fast


def envelope(times: np.ndarray, values: np.ndarray, buckets: int = MAX_BUCKETS):
    """At most ``2 * buckets`` points: each bucket's minimum and maximum, in time order,
    so spikes and the deepest drawdown stay visible when a long curve is thinned."""
    n = len(values)
    if n <= 2 * buckets:
        return times, values
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    starts = edges[:-1]
    lows = np.minimum.reduceat(values, starts)
    highs = np.maximum.reduceat(values, starts)
    ends = edges[1:] - 1
    out_times = np.column_stack((times[starts], times[ends])).ravel()
    out_values = np.column_stack((lows, highs)).ravel()
    return out_times, out_values


def equity_and_drawdown_png(equity: pd.Series, initial_balance: float) -> str:
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    times = (equity.index.tz_convert(None) if len(equity) else equity.index).to_numpy()
    values = equity.to_numpy(dtype=np.float64)
    top.plot(*envelope(times, values), color="#1f77b4", linewidth=0.9)
    top.axhline(initial_balance, color="grey", linewidth=0.6, linestyle="--")
    top.set_ylabel("equity")
    top.set_title("Equity (marked at each primary bar close, UTC)")
    top.grid(alpha=0.3)
    if len(values):
        peak = np.maximum.accumulate(np.concatenate(([initial_balance], values)))[1:]
        drawdown_times, drawdown_pct = envelope(times, (values - peak) / peak * 100.0)
        bottom.fill_between(
            drawdown_times, drawdown_pct, 0.0, color="#d62728", alpha=0.5, linewidth=0
        )
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    return _to_base64_png(figure)


def pnl_histogram_png(pnl: np.ndarray) -> str:
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    axes = figure.subplots()
    pnl = np.asarray(pnl, dtype=np.float64)
    if len(pnl):
        bins = min(60, max(10, int(np.sqrt(len(pnl)))))
        axes.hist(pnl[pnl >= 0], bins=bins, color="#2ca02c", alpha=0.7, label="wins")
        axes.hist(pnl[pnl < 0], bins=bins, color="#d62728", alpha=0.7, label="losses")
        axes.legend()
    else:
        axes.text(0.5, 0.5, "no trades", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("trade PnL (account currency)")
    axes.set_ylabel("trades")
    axes.set_title("Trade PnL distribution")
    axes.grid(alpha=0.3)
    return _to_base64_png(figure)

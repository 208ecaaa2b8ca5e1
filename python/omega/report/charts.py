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


def equity_and_drawdown_png(equity: pd.Series, initial_balance: float) -> str:
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    times = equity.index.tz_convert(None) if len(equity) else equity.index
    values = equity.to_numpy(dtype=np.float64)
    top.plot(times, values, color="#1f77b4", linewidth=0.9)
    top.axhline(initial_balance, color="grey", linewidth=0.6, linestyle="--")
    top.set_ylabel("equity")
    top.set_title("Equity (marked at each primary bar close, UTC)")
    top.grid(alpha=0.3)
    if len(values):
        peak = np.maximum.accumulate(np.concatenate(([initial_balance], values)))[1:]
        drawdown_pct = (values - peak) / peak * 100.0
        bottom.fill_between(times, drawdown_pct, 0.0, color="#d62728", alpha=0.5, linewidth=0)
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

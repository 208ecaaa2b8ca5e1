"""Performance metrics of one run, computed once in Python from the `RawRun`.

Every engine mode produces a `RawRun`, so every mode gets its metrics from this one code path.
Formulas (also in docs/user-guide/results.md):

* equity ``e[0..N-1]`` is marked at each primary bar's close; ``e[-1]`` := initial balance.
* per-bar return ``r[i] = e[i] / e[i-1] - 1`` for ``i = 0..N-1`` (N returns).
* ``periods_per_year = N / years`` with ``years`` = (close of the last bar - open of the first)
  / 365.25 days: the observed bar density, so weekends and gaps of real data are accounted for.
* ``sharpe = mean(r) / std(r, ddof=1) * sqrt(periods_per_year)`` (risk-free rate 0).
* ``sortino = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year)`` (target 0).
* ``cagr = (final / initial) ** (1 / years) - 1``.
* drawdown against the running peak of ``[initial, e[0], ..., e[i]]``; ``max_drawdown`` is the
  largest ``peak - e`` in account currency, ``max_drawdown_pct`` the largest ``(peak - e) / peak``
  in percent (they can occur at different bars). The duration is the longest run of bars
  with ``e < peak``: in bars, and in seconds from the peak's time (close of the bar that set it,
  open of the first bar for the initial balance) to the close of the run's last bar.
* ``exposure`` = fraction of primary bar closes at which a position was open: the sum of
  ``bars_held`` over the rows that close a position (``bars_held`` counts exactly those
  closes, docs/engine/execution.md step 3) divided by ``bars_processed``.
* trade statistics count trade rows (a partial close is a row); a win is ``pnl > 0``.

Undefined values (no trades, zero variance, a span of zero) are NaN, never a made-up number.
Sums use ``math.fsum`` (correctly rounded, independent of summation order), so every metric but
``cagr`` (``pow`` comes from the platform's libm) is the same double on every machine, which lets
golden files compare them exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from omega.engine.raw import RawRun

SECONDS_PER_YEAR = 365.25 * 86_400.0
_NS = 1_000_000_000
NAN = math.nan


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else NAN


def _drawdown(
    equity: np.ndarray, initial: float, peak_times_ns: np.ndarray, start_ns: int
) -> dict[str, Any]:
    """Drawdown figures; ``peak_times_ns[i]`` is the time equity ``i`` was marked (bar close)."""
    if len(equity) == 0:
        return {
            "max_drawdown": 0.0,
            "max_drawdown_pct": 0.0,
            "max_drawdown_duration_bars": 0,
            "max_drawdown_duration_seconds": 0.0,
        }
    peak = np.maximum.accumulate(np.concatenate(([initial], equity)))[1:]
    depth = peak - equity
    depth_pct = np.where(peak > 0, depth / np.where(peak > 0, peak, 1.0), NAN) * 100.0
    # Longest run of bars below the running peak.
    longest_bars, longest_seconds = 0, 0.0
    run_start: int | None = None
    for i, below in enumerate((depth > 0).tolist()):
        if below and run_start is None:
            run_start = i
        end_of_run = not below or i == len(equity) - 1
        if run_start is not None and end_of_run:
            last = i if below else i - 1
            length = last - run_start + 1
            if length > longest_bars:
                peak_time = start_ns if run_start == 0 else int(peak_times_ns[run_start - 1])
                longest_bars = length
                longest_seconds = (int(peak_times_ns[last]) - peak_time) / _NS
            run_start = None
    return {
        "max_drawdown": float(depth.max()),
        "max_drawdown_pct": float(np.nanmax(depth_pct)) if np.isfinite(depth_pct).any() else NAN,
        "max_drawdown_duration_bars": longest_bars,
        "max_drawdown_duration_seconds": float(longest_seconds),
    }


def _risk_ratios(equity: np.ndarray, initial: float, periods_per_year: float) -> dict[str, float]:
    if len(equity) < 2 or not math.isfinite(periods_per_year):
        return {"sharpe": NAN, "sortino": NAN}
    previous = np.concatenate(([initial], equity[:-1]))
    returns = equity / previous - 1.0
    n = len(returns)
    mean = _mean(returns)
    std = math.sqrt(math.fsum(((returns - mean) ** 2).tolist()) / (n - 1))
    downside = math.sqrt(math.fsum((np.minimum(returns, 0.0) ** 2).tolist()) / n)
    scale = math.sqrt(periods_per_year)
    return {
        "sharpe": _ratio(mean, std) * scale,
        "sortino": _ratio(mean, downside) * scale,
    }


def _sum(values: np.ndarray) -> float:
    return math.fsum(np.asarray(values, dtype=np.float64).tolist())


def _mean(values: np.ndarray) -> float:
    return _sum(values) / len(values) if len(values) else NAN


def _trade_stats(trades: dict[str, np.ndarray], bars_processed: int) -> dict[str, Any]:
    pnl = np.asarray(trades["pnl"], dtype=np.float64)
    side = np.asarray(trades["side"])
    reasons = np.asarray(trades["exit_reason"], dtype=object)
    n = len(pnl)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_profit, gross_loss = _sum(wins), -_sum(losses)
    closing_rows = np.array([r != "partial" for r in reasons.tolist()], dtype=bool)
    bars_in_market = int(np.asarray(trades["bars_held"])[closing_rows].sum()) if n else 0
    if gross_loss > 0:
        profit_factor = gross_profit / gross_loss
    else:
        profit_factor = math.inf if gross_profit > 0 else NAN
    return {
        "n_trades": n,
        "n_long": int((side > 0).sum()),
        "n_short": int((side < 0).sum()),
        "n_wins": len(wins),
        "n_losses": len(losses),
        "win_rate": _ratio(len(wins), n),
        "gross_profit": gross_profit,
        "gross_loss": gross_loss,
        "profit_factor": profit_factor,
        "expectancy": _mean(pnl),
        "avg_win": _mean(wins),
        "avg_loss": _mean(losses),
        "largest_win": float(wins.max()) if len(wins) else NAN,
        "largest_loss": float(losses.min()) if len(losses) else NAN,
        "total_fees": _sum(trades["fees"]),
        # trades of results written before the swap column have none: no swap
        "total_swap": _sum(trades["swap"]) if "swap" in trades else 0.0,
        "avg_bars_held": float(np.asarray(trades["bars_held"])[closing_rows].mean())
        if closing_rows.any()
        else NAN,
        "exposure": _ratio(bars_in_market, bars_processed),
        "exit_reasons": {r: int((reasons == r).sum()) for r in sorted(set(reasons.tolist()))},
    }


def _cagr(growth: float, years: float) -> float:
    if years <= 0 or growth <= 0:
        return NAN
    try:
        return growth ** (1.0 / years) - 1.0
    except OverflowError:  # huge growth over a tiny span (a few bars): unbounded
        return math.inf


def compute_metrics(raw: RawRun, initial_balance: float, timeframe_ns: int) -> dict[str, Any]:
    """All metrics of ``raw``; ``timeframe_ns`` is the primary timeframe (bar close = open + it)."""
    equity = np.asarray(raw.equity, dtype=np.float64)
    open_ns = np.asarray(raw.equity_time, dtype=np.int64)
    close_ns = open_ns + np.int64(timeframe_ns)
    final = float(raw.final_balance)
    net_profit = final - initial_balance
    start_ns = int(open_ns[0]) if len(open_ns) else 0
    span_seconds = (int(close_ns[-1]) - start_ns) / _NS if len(open_ns) else 0.0
    years = span_seconds / SECONDS_PER_YEAR
    periods_per_year = _ratio(len(equity), years)
    cagr = _cagr(final / initial_balance, years) if initial_balance > 0 else NAN
    metrics: dict[str, Any] = {
        "initial_balance": float(initial_balance),
        "final_balance": final,
        "net_profit": net_profit,
        "return_pct": net_profit / initial_balance * 100.0,
        "cagr": cagr,
        "span_days": span_seconds / 86_400.0,
        "periods_per_year": periods_per_year,
    }
    metrics.update(_drawdown(equity, initial_balance, close_ns, start_ns))
    metrics.update(_risk_ratios(equity, initial_balance, periods_per_year))
    metrics.update(_trade_stats(raw.trades, raw.bars_processed))
    metrics.update(
        {
            "bars_processed": int(raw.bars_processed),
            "base_bars": int(raw.base_bars),
            "ignored_signals": int(raw.ignored_signals),
            "dropped_orders": int(raw.dropped_orders),
            "skipped_orders": len(raw.skipped_orders),
        }
    )
    return metrics

"""Headline statistics of one backtest, in the spirit of backtesting.py's ``stats``.

``compute_stats(result)`` returns a labelled ``pd.Series``; ``STATS_GROUPS`` orders its labels
into the groups the CLI and the report print; ``summary_text`` / ``summary_html`` are the short
``repr`` and the notebook view. Formulas are in docs/user-guide/results.md ("Statistics").
``stats_values(result)`` gives the same values as a dict with numpy times and durations: the
CLI and the report print from it without importing pandas (about a third of a second).

Units: a label ending in ``[%]`` holds a percentage (3.5 means 3.5 %), never a fraction; a
label ending in ``[$]`` holds an amount in the account currency (the ``Account Currency`` row
names it; ``display_label`` puts the code in place of ``$`` for printing). Durations are
``pd.Timedelta``, times ``pd.Timestamp`` in UTC. An undefined statistic is NaN (or ``NaT``).

Statistics that are the same quantity as a key of ``result.metrics`` (computed once, exactly,
by the engine's metrics code) are taken from it rather than recomputed; the rest is computed
here with numpy from the equity curve and the trade columns, without per-row Python loops.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from omega.results.result import BacktestResult

NAN = math.nan
_NS = 1_000_000_000
SECONDS_PER_YEAR = 365.25 * 86_400.0  # the same year as omega.results.metrics

STATS_GROUPS: dict[str, tuple[str, ...]] = {
    "Period": ("Start", "End", "Duration", "Bars", "Exposure Time [%]"),
    "Returns": (
        "Account Currency",
        "Equity Start [$]",
        "Equity Final [$]",
        "Equity Peak [$]",
        "Return [%]",
        "Buy & Hold Return [%]",
        "Return (Ann.) [%]",
        "CAGR [%]",
    ),
    "Risk": (
        "Volatility (Ann.) [%]",
        "Sharpe Ratio",
        "Sortino Ratio",
        "Calmar Ratio",
        "Max. Drawdown [%]",
        "Avg. Drawdown [%]",
        "Max. Drawdown Duration",
        "Avg. Drawdown Duration",
    ),
    "Trades": (
        "# Trades",
        "Win Rate [%]",
        "Best Trade [%]",
        "Worst Trade [%]",
        "Avg. Trade [%]",
        "Max. Trade Duration",
        "Avg. Trade Duration",
        "Profit Factor",
        "Expectancy [$]",
        "SQN",
    ),
    # Swap is a credit when positive (carry), a cost when negative.
    "Costs": ("Total Fees [$]", "Total Swap [$]"),
}

STATS_LABELS: tuple[str, ...] = tuple(label for group in STATS_GROUPS.values() for label in group)


# --------------------------------------------------------------------------------------------
# Inputs: the result's numpy views.


def _equity_arrays(result: BacktestResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(open times, close times, equity) of the primary bars, int64 ns UTC and float64."""
    open_ns = np.asarray(result.raw.equity_time, dtype=np.int64)
    return open_ns, result.equity_close_ns, result.equity_values


def account_currency(result: BacktestResult) -> str:
    if result.config is not None:
        return str(result.config.account.currency)
    return "USD"


NOT_A_TIME = np.datetime64("NaT", "ns")
NOT_A_SPAN = np.timedelta64("NaT", "ns")


def _timestamp(ns: int | None) -> np.datetime64:
    """A UTC time (numpy has no zones: ``compute_stats`` makes it a UTC ``pd.Timestamp``)."""
    return NOT_A_TIME if ns is None else np.datetime64(int(ns), "ns")


def _timedelta(ns: float) -> np.timedelta64:
    return NOT_A_SPAN if not math.isfinite(ns) else np.timedelta64(round(ns), "ns")


# --------------------------------------------------------------------------------------------
# Pieces computed here (everything else comes from result.metrics).


def buy_and_hold_pct(result: BacktestResult, open_ns: np.ndarray, close_ns: np.ndarray) -> float:
    """Mid-price return from the close of the first primary bar to the close of the last, in %.

    Needs the input bars (``result.bars``, base timeframe, may be absent): the close of a primary
    bar is the last base bar that opens before the primary bar closes. NaN without bars.
    """
    bars = result.bars
    if bars is None or len(open_ns) == 0 or len(bars.time) == 0:
        return NAN
    times = np.asarray(bars.time, dtype=np.int64)
    mid = (np.asarray(bars.bid_close) + np.asarray(bars.ask_close)) * 0.5
    # Index of the last base bar opening strictly before each of the two closes.
    first, last = np.searchsorted(times, [close_ns[0], close_ns[-1]], side="left") - 1
    if first < 0 or last < 0 or mid[first] == 0:
        return NAN
    return float((mid[last] / mid[first] - 1.0) * 100.0)


def _drawdown_periods(
    equity: np.ndarray, initial: float, open_ns: np.ndarray, close_ns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Depth [%] and duration [ns] of each drawdown: a maximal run of bars below the peak.

    The duration is measured like ``metrics.max_drawdown_duration_seconds``: from the peak
    (close of the bar that set it; open of the first bar for the initial balance) to the close
    of the run's last bar below it.
    """
    if len(equity) == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    peak = np.maximum.accumulate(np.concatenate(([initial], equity)))[1:]
    below = peak > equity
    edges = np.diff(below.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1  # last bar of each run, inclusive
    if len(starts) == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth_pct = np.where(peak > 0, (peak - equity) / peak, NAN) * 100.0
    depths = np.maximum.reduceat(depth_pct, starts)
    peak_times = np.where(starts > 0, close_ns[np.maximum(starts - 1, 0)], open_ns[0])
    return depths, close_ns[ends] - peak_times


def _trade_returns_pct(trades: dict[str, np.ndarray]) -> np.ndarray:
    """Each trade row's price return in the trade's direction, in % (fill prices, before fees)."""
    entry = np.asarray(trades["entry_price"], dtype=np.float64)
    exit_ = np.asarray(trades["exit_price"], dtype=np.float64)
    side = np.asarray(trades["side"], dtype=np.float64)
    return (exit_ / entry - 1.0) * side * 100.0


def _sqn(pnl: np.ndarray) -> float:
    if len(pnl) < 2:
        return NAN
    std = float(np.std(pnl, ddof=1))
    return math.sqrt(len(pnl)) * float(np.mean(pnl)) / std if std > 0 else NAN


def _annualised_return_and_volatility(
    equity: np.ndarray, initial: float, periods_per_year: float
) -> tuple[float, float]:
    """Arithmetic mean and sample std of per-bar returns, scaled to a year, in %.

    The same returns and year as ``metrics.sharpe``, so Sharpe = Return (Ann.) / Volatility
    (Ann.) up to rounding.
    """
    if len(equity) < 2 or not math.isfinite(periods_per_year):
        return NAN, NAN
    previous = np.concatenate(([initial], equity[:-1]))
    returns = equity / previous - 1.0
    mean = float(np.mean(returns))
    std = float(np.std(returns, ddof=1))
    return mean * periods_per_year * 100.0, std * math.sqrt(periods_per_year) * 100.0


def _finite_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def _max_or_nan(values: np.ndarray) -> float:
    return float(np.max(values)) if len(values) else NAN


def _min_or_nan(values: np.ndarray) -> float:
    return float(np.min(values)) if len(values) else NAN


def _mean_or_nan(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else NAN


def compute_stats(result: BacktestResult) -> pd.Series:
    """The headline statistics of ``result`` as a Series labelled as in ``STATS_GROUPS``:
    times as UTC ``pd.Timestamp``, durations as ``pd.Timedelta`` (``NaT`` where undefined)."""
    import pandas as pd

    def for_pandas(value: Any) -> Any:
        if isinstance(value, np.datetime64):
            return pd.NaT if np.isnat(value) else pd.Timestamp(value).tz_localize("UTC")
        if isinstance(value, np.timedelta64):
            return pd.NaT if np.isnat(value) else pd.Timedelta(value)
        return value

    values = stats_values(result)
    return pd.Series(
        [for_pandas(values[label]) for label in STATS_LABELS], index=STATS_LABELS, dtype=object
    )


def stats_values(result: BacktestResult) -> dict[str, Any]:
    """The statistics of `compute_stats` as a dict in ``STATS_LABELS`` order, times as UTC
    ``numpy.datetime64[ns]`` and durations as ``numpy.timedelta64[ns]`` (no pandas)."""
    metrics = result.metrics
    open_ns, close_ns, equity = _equity_arrays(result)
    trades = result.trade_columns
    initial = float(metrics["initial_balance"])
    final = float(metrics["final_balance"])

    start_ns = int(open_ns[0]) if len(open_ns) else None
    end_ns = int(close_ns[-1]) if len(close_ns) else None
    duration_ns = float(end_ns - start_ns) if start_ns is not None and end_ns is not None else NAN
    years = duration_ns / _NS / SECONDS_PER_YEAR if math.isfinite(duration_ns) else NAN
    periods_per_year = len(equity) / years if years and math.isfinite(years) else NAN

    return_ann, volatility_ann = _annualised_return_and_volatility(
        equity, initial, periods_per_year
    )
    cagr_pct = _finite_or_nan(metrics.get("cagr")) * 100.0
    max_dd_pct = _finite_or_nan(metrics.get("max_drawdown_pct"))
    calmar = cagr_pct / max_dd_pct if max_dd_pct and math.isfinite(max_dd_pct) else NAN
    dd_depths, dd_durations = _drawdown_periods(equity, initial, open_ns, close_ns)

    pnl = np.asarray(trades["pnl"], dtype=np.float64)
    trade_pct = _trade_returns_pct(trades)
    trade_ns = np.asarray(trades["exit_time"], dtype=np.int64) - np.asarray(
        trades["entry_time"], dtype=np.int64
    )
    values: dict[str, Any] = {
        "Start": _timestamp(start_ns),
        "End": _timestamp(end_ns),
        "Duration": _timedelta(duration_ns),
        "Bars": int(metrics.get("bars_processed", len(equity))),
        "Exposure Time [%]": _finite_or_nan(metrics.get("exposure")) * 100.0,
        "Account Currency": account_currency(result),
        "Equity Start [$]": initial,
        "Equity Final [$]": final,
        "Equity Peak [$]": float(max(initial, np.max(equity))) if len(equity) else initial,
        "Return [%]": float(metrics["return_pct"]),
        "Buy & Hold Return [%]": buy_and_hold_pct(result, open_ns, close_ns),
        "Return (Ann.) [%]": return_ann,
        "CAGR [%]": cagr_pct,
        "Volatility (Ann.) [%]": volatility_ann,
        "Sharpe Ratio": _finite_or_nan(metrics.get("sharpe")),
        "Sortino Ratio": _finite_or_nan(metrics.get("sortino")),
        "Calmar Ratio": calmar,
        "Max. Drawdown [%]": max_dd_pct,
        "Avg. Drawdown [%]": _mean_or_nan(dd_depths),
        "Max. Drawdown Duration": _timedelta(
            _finite_or_nan(metrics.get("max_drawdown_duration_seconds")) * _NS
        )
        if len(dd_durations)
        else NOT_A_SPAN,
        "Avg. Drawdown Duration": _timedelta(_mean_or_nan(dd_durations)),
        "# Trades": int(metrics.get("n_trades", len(pnl))),
        "Win Rate [%]": _finite_or_nan(metrics.get("win_rate")) * 100.0,
        "Best Trade [%]": _max_or_nan(trade_pct),
        "Worst Trade [%]": _min_or_nan(trade_pct),
        "Avg. Trade [%]": _mean_or_nan(trade_pct),
        "Max. Trade Duration": _timedelta(_max_or_nan(trade_ns)),
        "Avg. Trade Duration": _timedelta(_mean_or_nan(trade_ns)),
        "Profit Factor": _finite_or_nan(metrics.get("profit_factor")),
        "Expectancy [$]": _finite_or_nan(metrics.get("expectancy")),
        "SQN": _sqn(pnl),
        "Total Fees [$]": _finite_or_nan(metrics.get("total_fees")),
        "Total Swap [$]": _finite_or_nan(metrics.get("total_swap", 0.0)),
    }
    return {label: values[label] for label in STATS_LABELS}


# --------------------------------------------------------------------------------------------
# Printing: one formatter for the CLI table, the repr and the HTML views.


def display_label(label: str, currency: str) -> str:
    """``label`` with ``[$]`` replaced by the account currency, e.g. ``Equity Final [EUR]``."""
    return label.replace("[$]", f"[{currency}]")


def _span_text(ns: int) -> str:
    """``D days HH:MM:SS`` rounded to the second (half to even), as pandas prints a
    ``Timedelta.round("s")``."""
    seconds = round(ns / _NS) if abs(ns) < 2**53 else ns // _NS
    days, rest = divmod(int(seconds), 86_400)
    return f"{days} days {rest // 3600:02}:{rest % 3600 // 60:02}:{rest % 60:02}"


def format_stat(label: str, value: Any) -> str:
    """Text of one statistic with a precision suited to its unit."""
    if value is None or (isinstance(value, np.datetime64 | np.timedelta64) and np.isnat(value)):
        return "-"
    if type(value).__name__ == "NaTType":  # pandas' NaT, without importing pandas
        return "-"
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="s")).replace("T", " ") + " UTC"
    if isinstance(value, np.timedelta64):
        return _span_text(int(value.astype("timedelta64[ns]").astype(np.int64)))
    if hasattr(value, "strftime"):  # a pd.Timestamp / datetime
        return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value.tzinfo else str(value)
    if hasattr(value, "total_seconds") and hasattr(value, "value"):  # a pd.Timedelta
        return _span_text(int(value.value))
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if label.endswith("[$]"):
        return f"{number:,.2f}"
    if label.endswith("[%]"):
        if 0 < abs(number) < 0.005:  # would print as 0.00 or -0.00: keep two digits that count
            return f"{number:.2g}"
        return f"{number:,.2f}"
    return f"{number:,.3f}"  # ratios: Sharpe, Sortino, Calmar, profit factor, SQN


def stats_rows(
    stats: Mapping[str, Any] | pd.Series, currency: str | None = None
) -> list[tuple[str, list[tuple]]]:
    """``[(group, [(display label, text), ...]), ...]`` in ``STATS_GROUPS`` order, from
    `stats_values` or `compute_stats`."""
    currency = currency or str(stats.get("Account Currency", "USD"))
    rows = []
    for group, labels in STATS_GROUPS.items():
        items = [
            (display_label(label, currency), format_stat(label, stats[label]))
            for label in labels
            if label in stats and label != "Account Currency"
        ]
        rows.append((group, items))
    return rows


def _headline(result: BacktestResult) -> str:
    config = result.config
    if config is None:
        return f"BacktestResult (mode {result.mode})"
    return (
        f"BacktestResult: {config.strategy.name} on {config.instrument.symbol} "
        f"{config.timeframes.primary} (mode {result.mode})"
    )


def summary_text(result: BacktestResult) -> str:
    """A few lines for ``repr``: mode, period, bars, trades, return, Sharpe, max drawdown."""
    metrics = result.metrics
    open_ns, close_ns, _ = _equity_arrays(result)
    if len(open_ns):
        start, end = _timestamp(int(open_ns[0])), _timestamp(int(close_ns[-1]))
        start_text, end_text = (
            str(np.datetime_as_string(t, unit="m")).replace("T", " ") for t in (start, end)
        )
        period = f"{start_text} to {end_text} UTC ({format_stat('Duration', end - start)})"
    else:
        period = "no bars"
    return "\n".join(
        [
            _headline(result),
            f"  period   {period}",
            f"  bars     {int(metrics.get('bars_processed', len(open_ns))):,}  "
            f"trades {int(metrics.get('n_trades', 0)):,}",
            f"  return   {format_stat('[%]', metrics.get('return_pct', NAN))} %  "
            f"sharpe {format_stat('', metrics.get('sharpe', NAN))}  "
            f"max drawdown {format_stat('[%]', metrics.get('max_drawdown_pct', NAN))} %",
        ]
    )


def summary_html(result: BacktestResult, stats: Mapping[str, Any] | None = None) -> str:
    """A compact grouped HTML table of the statistics (Jupyter's ``_repr_html_``)."""
    if stats is None:
        stats = stats_values(result)
    cells = []
    for group, items in stats_rows(stats, account_currency(result)):
        cells.append(f"<tr><th colspan='2' style='text-align:left'>{html.escape(group)}</th></tr>")
        cells.extend(
            f"<tr><td style='text-align:left'>{html.escape(label)}</td>"
            f"<td style='text-align:right'>{html.escape(text)}</td></tr>"
            for label, text in items
        )
    caption = html.escape(_headline(result))
    return (
        f"<table class='omega-stats'><caption style='text-align:left'>{caption}</caption>"
        f"{''.join(cells)}</table>"
    )

"""A basket's report page: the account's equity and drawdown, each instrument's P&L curve,
every trade's P&L, the stats table (account and instruments side by side), the correlation
heatmap and the trade list with its symbols.

Built as the single-run report is (`omega.report.html`): BokehJS embedded as text, the chart
data as JSON (`omega.report.data`), ``basket.js`` beside this file draws it; nothing is
fetched.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.report.data import (
    MAX_TRADES,
    drawdown_pct,
    envelope,
    json_numbers,
    plain,
    script_safe,
    to_ms,
)
from omega.report.html import _STYLE, _quality_html, bokeh_script, page_script
from omega.results.atomic import write_atomic

if TYPE_CHECKING:
    import pandas as pd

    from omega.basket import BasketResult

_BASKET_STYLE = """
.wide { max-width: 100%; overflow-x: auto; }
#omega-basket-stats td, #omega-correlation td { text-align: right;
  font-variant-numeric: tabular-nums; }
#omega-basket-stats th.group { background: #f3f3f3; }
"""
# Correlation -1 -> 0 -> +1: blue, pale, red (a fixed scale: colours compare across reports).
_NEG, _ZERO, _POS = (
    np.array(c, dtype=float) for c in ((33, 102, 172), (247, 247, 247), (178, 24, 43))
)
_TRADE_FIELDS = (
    "entry_time",
    "exit_time",
    "side",
    "size",
    "entry_price",
    "exit_price",
    "pnl",
    "fees",
    "bars_held",
)


def correlation_color(value: float) -> str:
    """Hex colour of a correlation on the fixed -1..1 scale (NaN: grey)."""
    if not math.isfinite(value):
        return "#dddddd"
    x = min(1.0, max(-1.0, value))
    rgb = _ZERO + (_NEG - _ZERO) * -x if x < 0 else _ZERO + (_POS - _ZERO) * x
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def correlation_cells(matrix: pd.DataFrame) -> dict[str, Any]:
    """The heatmap's cells: one per pair (row symbol ``y``, column symbol ``x``)."""
    symbols = [str(s) for s in matrix.columns]
    cells: dict[str, list[Any]] = {"x": [], "y": [], "text": [], "color": []}
    values = matrix.to_numpy(dtype=np.float64)
    for i, row in enumerate(symbols):
        for j, column in enumerate(symbols):
            value = float(values[i, j])
            cells["x"].append(column)
            cells["y"].append(row)
            cells["text"].append(f"{value:.2f}" if math.isfinite(value) else "")
            cells["color"].append(correlation_color(value))
    return {"symbols": symbols, "cells": cells}


def _line(times_ms: np.ndarray, values: np.ndarray) -> dict[str, Any]:
    t, v = envelope(times_ms, values)
    return {"t": t.tolist(), "v": json.loads(json_numbers(v))}


def basket_chart_data(basket: BasketResult) -> str:
    """The JSON the page's script draws: times in UTC milliseconds, thinned lines."""
    account = basket.account
    initial = basket.initial_balance
    close_ms = to_ms(account.equity_close_ns)
    equity = account.equity_values
    pnl_curves = [
        {"symbol": symbol, **_line(close_ms, basket.instrument_curve(symbol) - initial)}
        for symbol in basket.symbols
    ]
    merged = account.raw.trades  # every instrument's, in exit-time order
    n_trades = len(merged["exit_time"])
    shown = slice(0, min(n_trades, MAX_TRADES))
    trades: dict[str, Any] = {
        "symbol": basket.trade_symbols[shown].tolist(),
        "exit_reason": [str(r) for r in np.asarray(merged["exit_reason"][shown]).tolist()],
    }
    for name in _TRADE_FIELDS:
        values = np.asarray(merged[name][shown])
        if name.endswith("_time"):
            values = to_ms(values)
        trades[name] = json.loads(json_numbers(values))
    data = {
        "currency": basket.config.account.currency,
        "initial": initial,
        "symbols": basket.symbols,
        "equity": _line(close_ms, equity),
        "drawdown": _line(close_ms, drawdown_pct(equity, initial)),
        "instruments": pnl_curves,
        "n_trades": n_trades,
        "trades": trades,
        "correlation": correlation_cells(basket.correlation()),
    }
    return json.dumps(data, allow_nan=False)


def _stats_table(basket: BasketResult) -> str:
    """The statistics of the account and of each instrument side by side, grouped as a
    single run's (`omega.results.stats.STATS_GROUPS`)."""
    from omega.results.stats import stats_rows, stats_values

    currency = basket.config.account.currency
    results = {"account": basket.account, **basket.instruments}
    grouped = {name: stats_rows(stats_values(r), currency) for name, r in results.items()}
    head = "".join(f"<th>{html.escape(name)}</th>" for name in results)
    rows = [f"<tr><th>statistic</th>{head}</tr>"]
    first = grouped["account"]
    for g, (group, items) in enumerate(first):
        if not items:
            continue
        span = len(results) + 1
        rows.append(f"<tr><th class='group' colspan='{span}'>{html.escape(group)}</th></tr>")
        for i, (label, _) in enumerate(items):
            cells = "".join(
                f"<td>{html.escape(grouped[name][g][1][i][1])}</td>" for name in results
            )
            rows.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    return f"<div class='wide'><table id='omega-basket-stats'>{''.join(rows)}</table></div>"


def _correlation_table(matrix: pd.DataFrame) -> str:
    symbols = [html.escape(str(s)) for s in matrix.columns]
    head = "".join(f"<th>{s}</th>" for s in symbols)
    rows = [f"<tr><th></th>{head}</tr>"]
    for symbol, values in zip(symbols, matrix.to_numpy(dtype=np.float64), strict=True):
        cells = "".join(
            f"<td>{value:.3f}</td>" if math.isfinite(value) else "<td></td>"
            for value in values.tolist()
        )
        rows.append(f"<tr><th>{symbol}</th>{cells}</tr>")
    return f"<table id='omega-correlation'>{''.join(rows)}</table>"


def _quality_sections(basket: BasketResult) -> list[str]:
    parts = []
    for symbol, result in basket.instruments.items():
        parts += [f"<h3>{html.escape(symbol)}</h3>", _quality_html(result.quality_summary())]
    return parts


def basket_title(basket: BasketResult) -> str:
    config = basket.config
    return (
        f"Omega basket: {config.strategy.name} on {len(basket.symbols)} instruments "
        f"{config.timeframes.primary}"
    )


def render_basket_html(basket: BasketResult) -> str:
    """The report page of ``basket``: one self-contained, offline HTML document."""
    title = basket_title(basket)
    n_trades = basket.account.raw.n_trades
    trades_note = (
        f"All {n_trades:,} trades; click a column to sort."
        if n_trades <= MAX_TRADES
        else f"The first {MAX_TRADES:,} of {n_trades:,} trades by exit time (all are in the "
        "trades table file); click a column to sort."
    )
    account = basket.account
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}{_BASKET_STYLE}</style>",
        f"<script>{script_safe(bokeh_script())}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='mode'>Instruments: <b>{html.escape(', '.join(basket.symbols))}</b> on one "
        f"{html.escape(basket.config.account.currency)} account<br>"
        f"Engine mode: <b>{html.escape(basket.mode)}</b> ({html.escape(basket.mode_reason)})"
        f"<br>Trades SHA-256 (all instruments, by exit time): "
        f"<code>{account.trades_sha256}</code></p>",
    ]
    if basket.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in basket.warnings)
        parts += ["<h2>Warnings</h2>", f"<ul>{items}</ul>"]
    correlation = basket.correlation()
    parts += [
        "<h2>Statistics</h2>",
        "<p>The account, then each instrument: its trades, and its P&amp;L curve on the "
        "account's initial balance (its closed trades' P&amp;L plus its open position's).</p>",
        _stats_table(basket),
        "<h2>Charts</h2>",
        "<p>Drag to pan, scroll to zoom the time axis, box-zoom from the toolbar; every panel "
        "follows. Click an instrument in a legend to hide it.</p>",
        "<div id='omega-charts'></div>",
        "<h2>Correlation</h2>",
        "<p>Correlation of the instruments' daily returns: each P&amp;L curve's last value "
        "of each day, differenced, on the initial balance (blank: an instrument without a "
        "change).</p>",
        "<div id='omega-heatmap'></div>",
        _correlation_table(correlation),
        "<h2>Trades</h2>",
        f"<p>{trades_note}</p>",
        "<div class='trade-list'><table id='omega-trades'></table></div>",
        "<h2>Data quality</h2>",
        *_quality_sections(basket),
        "<h2>Configuration</h2>",
        "<pre>"
        + html.escape(json.dumps(plain(basket.config.effective_dict()), indent=2, default=str))
        + "</pre>",
        f"<script type='application/json' id='omega-data'>"
        f"{script_safe(basket_chart_data(basket))}</script>",
        f"<script>{script_safe(page_script('basket.js'))}</script>",
        "</body></html>\n",
    ]
    return "\n".join(parts)


def write_basket_report(basket: BasketResult, path: str | Path) -> Path:
    """Write the report of ``basket`` to ``path`` atomically; returns the path."""
    return write_atomic(Path(path), render_basket_html(basket))

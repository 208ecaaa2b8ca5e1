"""A self-contained HTML report: charts embedded as base64 PNG, no external resources."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from omega.report.charts import equity_and_drawdown_png, pnl_histogram_png
from omega.results.canonical import format_float

if TYPE_CHECKING:
    from omega.results import BacktestResult

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
img { max-width: 100%; }
.mode { background: #eef5ff; padding: 0.6em 1em; border-left: 4px solid #1f77b4; }
"""


def format_metric(value: Any) -> str:
    """Human text for a metric value: floats rounded for reading (exact values in JSON)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        text = format_float(value)
        return text if text in ("nan", "inf", "-inf") else f"{value:,.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_metric(v)}" for k, v in value.items()) or "-"
    return str(value)


def _table(rows: dict[str, Any]) -> str:
    cells = ((html.escape(str(k)), html.escape(format_metric(v))) for k, v in rows.items())
    body = "".join(f"<tr><th>{k}</th><td class='num'>{v}</td></tr>" for k, v in cells)
    return f"<table>{body}</table>"


def _quality_html(summary: Any) -> str:
    if summary is None:
        return "<p>No data-quality report (bars were passed in directly).</p>"
    if isinstance(summary, dict):
        return _table(summary)
    return f"<pre>{html.escape(str(summary))}</pre>"


def render_html(result: BacktestResult) -> str:
    """The full report page for ``result``."""
    metrics = result.metrics
    initial = float(metrics.get("initial_balance", 0.0))
    config = result.config.effective_dict() if result.config is not None else None
    title = "Omega backtest"
    if result.config is not None:
        title += f": {result.config.strategy.name} on {result.config.instrument.symbol}"
    equity_png = equity_and_drawdown_png(result.equity, initial)
    pnl_png = pnl_histogram_png(result.trades["pnl"].to_numpy())
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='mode'>Engine mode: <b>{html.escape(result.mode)}</b> "
        f"({html.escape(result.mode_reason)})<br>Trades SHA-256: "
        f"<code>{result.trades_sha256}</code></p>",
        "<h2>Equity and drawdown</h2>",
        f"<img alt='equity and drawdown' src='data:image/png;base64,{equity_png}'>",
        "<h2>Metrics</h2>",
        _table(metrics),
        "<h2>Trade PnL</h2>",
        f"<img alt='trade pnl histogram' src='data:image/png;base64,{pnl_png}'>",
        "<h2>Data quality</h2>",
        _quality_html(result.quality_summary()),
    ]
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        parts += ["<h2>Warnings</h2>", f"<ul>{items}</ul>"]
    if config is not None:
        parts += [
            "<h2>Configuration</h2>",
            f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>",
        ]
    parts.append("</body></html>\n")
    return "\n".join(parts)

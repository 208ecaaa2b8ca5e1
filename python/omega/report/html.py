"""The report page: one self-contained HTML file, charts drawn in the browser by BokehJS.

Nothing here imports a plotting library: BokehJS's script is read as text from the installed
``bokeh`` package (never imported) and embedded, the chart data is written as JSON by
`omega.report.data`, and ``report.js`` (next to this file) draws it. The page loads nothing
from the network.
"""

from __future__ import annotations

import html
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omega.report.data import MAX_TRADES, chart_data_json, plain, script_safe
from omega.results.atomic import write_atomic
from omega.results.canonical import format_float

if TYPE_CHECKING:
    from omega.results import BacktestResult

_HERE = Path(__file__).parent
_BOKEH_SCRIPTS = ("bokeh.min.js", "bokeh-api.min.js")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px;
  padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td.num, #omega-trades td { text-align: right; font-variant-numeric: tabular-nums; }
#omega-trades th { cursor: pointer; background: #f3f3f3; position: sticky; top: 0; }
#omega-trades tr.win td:last-child { color: #1b7f5a; }
#omega-trades tr.loss td:last-child { color: #c62828; }
.trade-list { max-height: 32em; overflow: auto; display: inline-block; }
.stats { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
.stats th[colspan] { background: #f3f3f3; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
.mode { background: #eef5ff; padding: 0.6em 1em; border-left: 4px solid #1f77b4; }
#omega-charts { min-height: 900px; }
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


@cache
def bokeh_script() -> str:
    """BokehJS (core and plotting API) as text, from the installed ``bokeh`` package's files.

    ``find_spec`` locates the package without importing it (importing bokeh costs ~0.5 s).
    """
    spec = importlib.util.find_spec("bokeh")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the report needs the 'bokeh' package (its BokehJS files)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "server" / "static" / "js"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in _BOKEH_SCRIPTS)


@cache
def page_script(name: str) -> str:
    """A report page's script (``report.js``, ``basket.js``) after the trade list both use
    (``trades.js``)."""
    shared = (_HERE / "trades.js").read_text(encoding="utf-8")
    return shared + "\n" + (_HERE / name).read_text(encoding="utf-8")


def _stats_html(result: BacktestResult) -> str:
    from omega.results.stats import account_currency, stats_rows, stats_values

    stats = stats_values(result)  # the values of result.stats, without importing pandas
    tables = []
    for group, items in stats_rows(stats, account_currency(result)):
        rows = "".join(
            f"<tr><th>{html.escape(label)}</th><td class='num'>{html.escape(text)}</td></tr>"
            for label, text in items
        )
        tables.append(f"<table><tr><th colspan='2'>{html.escape(group)}</th></tr>{rows}</table>")
    return f"<div class='stats' id='omega-stats'>{''.join(tables)}</div>"


def _quality_html(summary: Any) -> str:
    if summary is None:
        return "<p>No data-quality report (bars were passed in directly).</p>"
    if isinstance(summary, dict):
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td class='num'>{html.escape(format_metric(v))}"
            "</td></tr>"
            for k, v in summary.items()
        )
        return f"<table>{rows}</table>"
    return f"<pre>{html.escape(str(summary))}</pre>"


def render_html(result: BacktestResult) -> str:
    """The full report page for ``result``: one self-contained, offline HTML document."""
    from omega.results.stats import account_currency

    close_ns, equity = result.equity_close_ns, result.equity_values
    trades = result.trade_columns
    timeframe_ns = result.timeframe_ns
    bars = result.bars
    config = result.config
    title = "Omega backtest"
    timeframe = ""
    if config is not None:
        timeframe = str(config.timeframes.primary)
        title += f": {config.strategy.name} on {config.instrument.symbol} {timeframe}"
    data = chart_data_json(
        close_ns=close_ns,
        equity=equity,
        initial=float(result.metrics["initial_balance"]),
        trades=trades,
        bars=bars if timeframe_ns else None,
        timeframe_ns=timeframe_ns,
    )
    extra = {"currency": account_currency(result), "candles_label": timeframe or "primary"}
    data = data[:-1] + "," + json.dumps(extra)[1:]
    n_trades = result.raw.n_trades
    trades_note = (
        f"All {n_trades:,} trades; click a column to sort."
        if n_trades <= MAX_TRADES
        else f"The first {MAX_TRADES:,} of {n_trades:,} trades (all are in the trades table "
        "file); click a column to sort."
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f"<script>{script_safe(bokeh_script())}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='mode'>Engine mode: <b>{html.escape(result.mode)}</b> "
        f"({html.escape(result.mode_reason)})<br>Trades SHA-256: "
        f"<code>{result.trades_sha256}</code></p>",
    ]
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        parts += ["<h2>Warnings</h2>", f"<ul>{items}</ul>"]
    parts += [
        "<h2>Statistics</h2>",
        _stats_html(result),
        "<h2>Charts</h2>",
        "<p>Drag to pan, scroll to zoom the time axis, box-zoom from the toolbar; every panel "
        "follows. Entries: blue triangles (up long, down short); exits: crosses, green for a "
        "win, red for a loss; red and green lines: the stop-loss and take-profit levels "
        "(as at exit) over each trade.</p>",
        "<div id='omega-charts'></div>",
        "<h2>Trades</h2>",
        f"<p>{trades_note}</p>",
        "<div class='trade-list'><table id='omega-trades'></table></div>",
        "<h2>Data quality</h2>",
        _quality_html(result.quality_summary()),
    ]
    if config is not None:
        config_text = json.dumps(plain(config.effective_dict()), indent=2, default=str)
        parts += ["<h2>Configuration</h2>", f"<pre>{html.escape(config_text)}</pre>"]
    parts += [
        f"<script type='application/json' id='omega-data'>{script_safe(data)}</script>",
        f"<script>{script_safe(page_script('report.js'))}</script>",
        "</body></html>\n",
    ]
    return "\n".join(parts)


def write_report(result: BacktestResult, path: str | Path) -> Path:
    """Write the report of ``result`` to ``path`` atomically; returns the path."""
    return write_atomic(Path(path), render_html(result))

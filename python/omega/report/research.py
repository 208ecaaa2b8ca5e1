"""The research report: one self-contained HTML page of a walk-forward and its robustness
statistics (out-of-sample equity, Monte Carlo fan, parameter heatmap, DSR, PBO).

As the backtest report (`omega.report.html`): BokehJS is embedded as text from the installed
``bokeh`` package, the chart data is JSON, ``research.js`` draws it; nothing is fetched.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.report.data import envelope, json_numbers, script_safe, to_ms
from omega.report.html import _STYLE, bokeh_script, format_metric
from omega.results.atomic import write_atomic

if TYPE_CHECKING:
    import pandas as pd

    from omega.research.robustness import (
        DeflatedSharpe,
        MonteCarloResult,
        Neighbourhood,
        PBOResult,
    )
    from omega.research.walkforward import WalkForwardResult

_HERE = Path(__file__).parent
_WIDE = ".wide { max-width: 100%; max-height: 32em; overflow: auto; }\n"
# Low -> high: red, pale, green (the heatmap's diverging scale).
_LOW, _MID, _HIGH = (
    np.array(c, dtype=float) for c in ((215, 48, 39), (247, 247, 247), (26, 152, 80))
)


@dataclass
class ResearchReport:
    """What the page shows; every part is optional."""

    title: str = "Omega research report"
    walk_forward: WalkForwardResult | None = None
    monte_carlo: MonteCarloResult | None = None
    actual_equity: np.ndarray | None = None  # the trades' own order, drawn over the fan
    neighbourhood: Neighbourhood | None = None
    dsr: DeflatedSharpe | None = None
    pbo: PBOResult | None = None
    currency: str = ""
    notes: list[str] = field(default_factory=list)


def cell_colors(values: np.ndarray) -> list[str]:
    """Hex colours of a diverging scale: the lowest value red, the middle pale, the highest
    green (NaN: grey)."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
    colors = []
    for v in values.tolist():
        if not math.isfinite(v):
            colors.append("#dddddd")
            continue
        x = 0.5 if hi == lo else (v - lo) / (hi - lo)
        rgb = _LOW + (_MID - _LOW) * 2 * x if x < 0.5 else _MID + (_HIGH - _MID) * (2 * x - 1)
        colors.append("#" + "".join(f"{round(c):02x}" for c in rgb))
    return colors


def _label(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _heatmap(nb: Neighbourhood) -> dict[str, Any]:
    grid = nb.heatmap.to_numpy(dtype=np.float64)
    mean = nb.mean.to_numpy(dtype=np.float64)
    xs = [_label(v) for v in nb.heatmap.columns]
    ys = [_label(v) for v in nb.heatmap.index]
    best = (_label(nb.best[nb.x]), _label(nb.best[nb.y]))
    cells: dict[str, list[Any]] = {k: [] for k in ("x", "y", "text", "mean", "color", "edge")}
    flat = grid.ravel()
    colors = cell_colors(flat)
    for k, (i, j) in enumerate(np.ndindex(grid.shape)):
        cells["x"].append(xs[j])
        cells["y"].append(ys[i])
        cells["text"].append("" if np.isnan(flat[k]) else f"{flat[k]:.3g}")
        cells["mean"].append("" if np.isnan(mean[i, j]) else f"{mean[i, j]:.3g}")
        cells["color"].append(colors[k])
        cells["edge"].append("black" if (xs[j], ys[i]) == best else "white")
    cells["edge_width"] = [3 if e == "black" else 1 for e in cells["edge"]]
    return {"xs": xs, "ys": ys, "x": nb.x, "y": nb.y, "metric": nb.metric, "cells": cells}


def chart_data(report: ResearchReport) -> str:
    """The JSON the page's script draws from."""
    data: dict[str, Any] = {"currency": report.currency}
    wf = report.walk_forward
    if wf is not None and len(wf.equity):
        t, v = envelope(to_ms(wf.equity.index.as_unit("ns").asi8), wf.equity.to_numpy())
        data["equity"] = {"t": t.tolist(), "v": json.loads(json_numbers(v))}
        data["fold_starts"] = [ts.value // 1_000_000 for ts in wf.folds["test_start"]]
    mc = report.monte_carlo
    if mc is not None:
        bands = {c: json.loads(json_numbers(mc.fan[c].to_numpy())) for c in mc.fan.columns}
        data["fan"] = {
            "x": mc.fan.index.tolist(),
            "bands": bands,
            "method": mc.method,
            "runs": len(mc.runs),
            "actual": None
            if report.actual_equity is None
            else json.loads(json_numbers(np.asarray(report.actual_equity, dtype=np.float64))),
        }
    if report.neighbourhood is not None:
        data["heatmap"] = _heatmap(report.neighbourhood)
    if report.pbo is not None:
        finite = report.pbo.logits[np.isfinite(report.pbo.logits)]
        counts, edges = np.histogram(finite, bins=min(30, max(1, len(finite))))
        data["logits"] = {
            "left": edges[:-1].tolist(),
            "right": edges[1:].tolist(),
            "count": counts.tolist(),
        }
    return json.dumps(data, allow_nan=False)


def _table(rows: list[tuple[str, Any]], table_id: str) -> str:
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td class='num'>{html.escape(format_metric(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table id='{table_id}'>{body}</table>"


def _frame_html(frame: pd.DataFrame, table_id: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = "".join(f"<td class='num'>{html.escape(_cell(v))}</td>" for v in values)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table id='{table_id}'><tr>{head}</tr>{''.join(rows)}</table>"


def _cell(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.strftime("%Y-%m-%d %H:%M")
    return format_metric(value.item() if isinstance(value, np.generic) else value)


def render_research_html(report: ResearchReport) -> str:
    """The page: sections for what ``report`` holds, one self-contained HTML document."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(report.title)}</title><style>{_STYLE}{_WIDE}</style>",
        f"<script>{script_safe(bokeh_script())}</script></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
    ]
    parts += [f"<p class='mode'>{html.escape(note)}</p>" for note in report.notes]
    wf = report.walk_forward
    if wf is not None:
        parts += [
            "<h2>Walk-forward</h2>",
            _table(
                [
                    ("strategy", wf.strategy),
                    ("objective (in sample)", wf.objective),
                    ("folds", len(wf.folds)),
                    ("out-of-sample return [%]", wf.oos["return_pct"]),
                    ("out-of-sample max drawdown [%]", wf.oos["max_drawdown_pct"]),
                    ("out-of-sample Sharpe", wf.oos["sharpe"]),
                    ("out-of-sample trades", wf.oos["n_trades"]),
                    ("walk-forward efficiency", wf.efficiency),
                ],
                "omega-wf-summary",
            ),
            "<div id='omega-equity'></div>",
            "<h3>Folds</h3>",
            f"<div class='wide'>{_frame_html(wf.folds, 'omega-folds')}</div>",
        ]
    mc = report.monte_carlo
    if mc is not None:
        table = mc.percentiles.T.reset_index(names="")
        parts += [
            f"<h2>Monte Carlo over trades ({html.escape(mc.method)}, {len(mc.runs):,} runs, "
            f"{mc.n_trades:,} trades)</h2>",
            _frame_html(table, "omega-mc"),
            "<div id='omega-fan'></div>",
        ]
    nb = report.neighbourhood
    if nb is not None:
        parts += [
            f"<h2>Parameter neighbourhood: {html.escape(nb.metric)}</h2>",
            _table(list(nb.best.items()), "omega-neighbourhood"),
            "<div id='omega-heatmap'></div>",
        ]
    if report.dsr is not None:
        d = report.dsr
        parts += [
            "<h2>Deflated Sharpe ratio</h2>",
            _table(
                [
                    ("Sharpe (per observation)", d.sharpe),
                    ("observations", d.n_obs),
                    ("trials", d.n_trials),
                    ("variance of the trials' Sharpe", d.trials_variance),
                    ("expected maximum Sharpe SR0", d.sr0),
                    ("skewness", d.skew),
                    ("kurtosis", d.kurtosis),
                    ("DSR", d.dsr),
                ],
                "omega-dsr",
            ),
        ]
    if report.pbo is not None:
        p = report.pbo
        parts += [
            "<h2>Probability of backtest overfitting (CSCV)</h2>",
            _table(
                [
                    ("partitions", p.n_partitions),
                    ("combinations", p.n_combinations),
                    ("PBO", p.pbo),
                    ("P(out-of-sample loss of the in-sample best)", p.prob_oos_loss),
                ],
                "omega-pbo",
            ),
            "<div id='omega-logits'></div>",
        ]
    parts += [
        f"<script type='application/json' id='omega-research'>"
        f"{script_safe(chart_data(report))}</script>",
        f"<script>{script_safe((_HERE / 'research.js').read_text(encoding='utf-8'))}</script>",
        "</body></html>\n",
    ]
    return "\n".join(parts)


def write_research_report(report: ResearchReport, path: str | Path) -> Path:
    """Write the page to ``path`` atomically; returns the path."""
    return write_atomic(Path(path), render_research_html(report))

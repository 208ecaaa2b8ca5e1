"""HTML report of a backtest (matplotlib charts embedded, one self-contained file)."""

from omega.report.html import format_metric, render_html

__all__ = ["format_metric", "render_html"]

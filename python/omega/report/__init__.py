"""The interactive HTML report of a backtest: one self-contained, offline file (BokehJS)."""

from omega.report.html import format_metric, render_html, write_report

__all__ = ["format_metric", "render_html", "write_report"]

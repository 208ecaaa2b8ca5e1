"""Results of a backtest: the result object, metrics and canonical serialisation."""

from omega.results.canonical import canonical_trades_text, format_float, trades_sha256
from omega.results.metrics import compute_metrics
from omega.results.result import OUTPUT_FILES, BacktestResult, json_safe

__all__ = [
    "OUTPUT_FILES",
    "BacktestResult",
    "canonical_trades_text",
    "compute_metrics",
    "format_float",
    "json_safe",
    "trades_sha256",
]

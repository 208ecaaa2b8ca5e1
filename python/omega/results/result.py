"""`BacktestResult`: the user-facing result of one backtest, built from an engine `RawRun`.

Building a result costs next to nothing: the metrics come with the run (the Rust core computes
them with the run in rust and hybrid mode; only the Python engine's runs compute them here),
and the pandas views (`trades`, `equity`, `trace`, `stats`) are built on first access from the
numpy arrays the engine returned, without Python objects per bar.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from omega.engine.raw import TRADE_COLUMNS, RawRun, SkippedOrder
from omega.results.atomic import replace_folder, write_atomic
from omega.results.canonical import trades_sha256
from omega.results.tables import equity_table_columns, table_bytes, trade_table_columns

if TYPE_CHECKING:
    import pandas as pd

    from omega.config import BacktestConfig
    from omega.data.bars import BarSeries

OUTPUT_FILES = ("trades.csv", "equity.csv", "metrics.json", "report.html")
# What a basket writes besides (`omega.results.basket_files`).
BASKET_FILES = ("instrument_equity.csv", "stats.csv", "correlation.csv")
# Every file a run (single or basket) may write into its output folder: they are replaced
# together, so a basket's extra files do not outlive it under a single run's.
RUN_FILES = frozenset(
    {
        *OUTPUT_FILES,
        *BASKET_FILES,
        "trades.parquet",
        "equity.parquet",
        "instrument_equity.parquet",
        "trace.csv",
    }
)
TableFormat = Literal["csv", "parquet"]


def utc_index(times_ns: np.ndarray, name: str) -> pd.DatetimeIndex:
    """A UTC DatetimeIndex over int64 nanoseconds, through a datetime64 view (no objects)."""
    import pandas as pd

    values = np.asarray(times_ns, dtype=np.int64).view("datetime64[ns]")
    return pd.DatetimeIndex(values, name=name).tz_localize("UTC")


def trades_frame(trades: dict[str, np.ndarray]) -> pd.DataFrame:
    """Trades as a DataFrame: UTC datetimes, side ``long``/``short``, other columns as stored."""
    import pandas as pd

    data: dict[str, Any] = {}
    for name in TRADE_COLUMNS:
        values = np.asarray(trades[name])
        if name in ("entry_time", "exit_time"):
            data[name] = utc_index(values, name)
        elif name == "side":
            data[name] = np.where(values > 0, "long", "short").astype(object)
        else:
            data[name] = values
    return pd.DataFrame(data, columns=list(TRADE_COLUMNS))


def json_safe(value: Any) -> Any:
    """Plain JSON values; non-finite floats become the strings ``nan``/``inf``/``-inf``."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


class BacktestResult:
    """One backtest's trades, equity, metrics and statistics.

    Attributes set at construction: ``raw`` (the engine's `RawRun`), ``metrics`` (the
    machine-readable dict, units in docs/user-guide/results.md), ``mode`` and ``mode_reason``
    (which engine ran and why), ``config``, ``quality`` (the input's data-quality report),
    ``bars`` (the input bars, when the runner had them) and ``warnings``.
    """

    def __init__(
        self,
        raw: RawRun,
        *,
        initial_balance: float,
        timeframe_ns: int,
        mode: str,
        mode_reason: str,
        metrics: dict[str, Any] | None = None,
        config: BacktestConfig | None = None,
        quality: Any = None,
        bars: BarSeries | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.raw = raw
        self.initial_balance = float(initial_balance)
        self.timeframe_ns = int(timeframe_ns)
        self.mode = mode
        self.mode_reason = mode_reason
        if metrics is None:
            metrics = raw.metrics
        if metrics is None:  # the Python engine's run: the reference metrics, in Python
            from omega.results.metrics import compute_metrics

            metrics = compute_metrics(raw, initial_balance, timeframe_ns)
        self.metrics: dict[str, Any] = metrics
        self.config = config
        self.quality = quality
        self.bars = bars
        self.warnings: list[str] = list(warnings or [])

    @classmethod
    def from_raw(
        cls,
        raw: RawRun,
        *,
        initial_balance: float,
        timeframe_ns: int,
        mode: str,
        mode_reason: str,
        config: BacktestConfig | None = None,
        quality: Any = None,
        bars: BarSeries | None = None,
        warnings: list[str] | None = None,
    ) -> BacktestResult:
        return cls(
            raw,
            initial_balance=initial_balance,
            timeframe_ns=timeframe_ns,
            mode=mode,
            mode_reason=mode_reason,
            config=config,
            quality=quality,
            bars=bars,
            warnings=warnings,
        )

    # ------------------------------------------------------------------ numpy views
    @property
    def trade_columns(self) -> dict[str, np.ndarray]:
        """The trade columns as the engine returned them (see `omega.engine.raw.TRADE_COLUMNS`)."""
        return self.raw.trades

    @property
    def equity_values(self) -> np.ndarray:
        """Equity (float64) marked at each primary bar's close."""
        return np.asarray(self.raw.equity, dtype=np.float64)

    @cached_property
    def equity_close_ns(self) -> np.ndarray:
        """Close time (UTC int64 ns) of each primary bar, where its equity was marked."""
        return np.asarray(self.raw.equity_time, dtype=np.int64) + np.int64(self.timeframe_ns)

    # ------------------------------------------------------------------ pandas views
    @cached_property
    def trades(self) -> pd.DataFrame:
        """One row per closed trade (or partial close); times as UTC datetimes."""
        return trades_frame(self.raw.trades)

    @cached_property
    def equity(self) -> pd.Series:
        """Equity indexed by the close time of each primary bar (when it was marked), UTC."""
        import pandas as pd

        index = utc_index(self.equity_close_ns, "time")
        return pd.Series(self.equity_values, index=index, name="equity", copy=False)

    @cached_property
    def trace(self) -> pd.DataFrame | None:
        """The decision trace (one row per primary close), when the run recorded it."""
        if self.raw.trace is None:
            return None
        import pandas as pd

        return pd.DataFrame(self.raw.trace)

    @cached_property
    def stats(self) -> pd.Series:
        """Statistics for people (`omega.results.stats.compute_stats`): labelled, with units."""
        from omega.results.stats import compute_stats

        return compute_stats(self)

    # ------------------------------------------------------------------ counters
    @property
    def bars_processed(self) -> int:
        return self.raw.bars_processed

    @property
    def ignored_signals(self) -> int:
        return self.raw.ignored_signals

    @property
    def dropped_orders(self) -> int:
        return self.raw.dropped_orders

    @property
    def skipped_orders(self) -> list[SkippedOrder]:
        return self.raw.skipped_orders

    @cached_property
    def trades_sha256(self) -> str:
        return trades_sha256(self.raw)

    # ------------------------------------------------------------------ presentation
    def __repr__(self) -> str:
        from omega.results.stats import summary_text

        return summary_text(self)

    def _repr_html_(self) -> str:
        from omega.results.stats import summary_html

        return summary_html(self)

    def plot(self, path: str | Path | None = None, *, open_browser: bool = True) -> Path:
        """Write the interactive report (one offline HTML file) and open it in a browser.

        ``path`` defaults to a new file in the system's temporary folder.
        """
        from omega.report import write_report

        if path is None:
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="omega-report-"))
            path = folder / "report.html"
        written = write_report(self, Path(path))
        if open_browser:
            import webbrowser

            webbrowser.open(written.resolve().as_uri())
        return written

    def quality_summary(self) -> Any:
        """The data-quality summary of the input bars (``None`` when not available)."""
        if self.quality is None:
            return None
        summary = getattr(self.quality, "summary", None)
        return summary() if callable(summary) else self.quality

    def summary_dict(self) -> dict[str, Any]:
        """What metrics.json holds: run mode, hash, metrics, data quality and the config."""
        return json_safe(
            {
                "mode": self.mode,
                "mode_reason": self.mode_reason,
                "trades_sha256": self.trades_sha256,
                "metrics": self.metrics,
                "skipped_orders": [
                    {"time": int(s.time), "reason": s.reason, "detail": s.detail}
                    for s in self.skipped_orders
                ],
                "data_quality": _plain(self.quality_summary()),
                "warnings": self.warnings,
                "config": self.config.effective_dict() if self.config else None,
            }
        )

    # ------------------------------------------------------------------ files
    def _lot_step(self) -> float | None:
        if self.config is None:
            return None
        return float(self.config.instrument.to_instrument().lot_step)

    def save(
        self,
        directory: str | Path,
        *,
        report: bool = True,
        table_format: TableFormat = "csv",
    ) -> dict[str, Path]:
        """Write the trades and equity tables (``table_format`` csv or parquet), metrics.json,
        trace (when recorded) and report.html (unless ``report=False``) into ``directory``.

        The files are written as one set: into a fresh folder beside ``directory``, swapped in
        at the end (`omega.results.atomic.replace_folder`), so a reader never sees a mix of two
        runs or a half-written run; other files in ``directory`` are kept.

        Times are ISO 8601 UTC (``2024-01-02T03:04:05Z``) in the CSV files and UTC timestamps
        in Parquet; floats are exact (the shortest text that reads back to the same double),
        trade sizes rounded to the instrument's lot step.
        """
        if table_format not in ("csv", "parquet"):
            raise ValueError(f"table_format must be 'csv' or 'parquet', not {table_format!r}")
        tables = {
            "trades": trade_table_columns(self.raw.trades, self._lot_step()),
            "equity": equity_table_columns(self.equity_close_ns, self.equity_values),
        }

        def write_all(folder: Path) -> list[str]:
            names = []
            for name, columns in tables.items():
                file = f"{name}.{table_format}"
                write_atomic(folder / file, table_bytes(columns, table_format))
                names.append(file)
            summary = json.dumps(self.summary_dict(), indent=2, allow_nan=False) + "\n"
            write_atomic(folder / "metrics.json", summary)
            names.append("metrics.json")
            if self.trace is not None:
                write_atomic(folder / "trace.csv", self.trace.to_csv(index=False))
                names.append("trace.csv")
            if report:
                from omega.report import render_html

                write_atomic(folder / "report.html", render_html(self))
                names.append("report.html")
            return names

        target = Path(directory)
        names = replace_folder(target, write_all, owned=RUN_FILES)
        return {name: target / name for name in names}


def _plain(value: Any) -> Any:
    """Quality summaries may be dataclasses or objects; keep JSON-able parts, else their text."""
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    return str(value)

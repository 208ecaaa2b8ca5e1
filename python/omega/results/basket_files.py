"""A basket's output folder: the files of one run (trades, equity, metrics.json, report) for
the whole account, with each row of the trades tagged by its ``symbol``, plus what only a
basket has (each instrument's curve, the stats table, the correlation matrix).

Written as one set, as a single run's files are (`omega.results.atomic.replace_folder`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.results.atomic import replace_folder, write_atomic
from omega.results.result import RUN_FILES, TableFormat, _plain, json_safe
from omega.results.tables import Column, equity_table_columns, table_bytes, trade_table_columns

if TYPE_CHECKING:
    from omega.basket import BasketResult

CORRELATION_RULE = "1D"


def basket_trade_columns(basket: BasketResult) -> list[Column]:
    """Every instrument's trade columns (sizes at its own lot step) with a leading ``symbol``,
    rows in exit-time order (ties in basket order, as `BasketResult.trades`)."""
    per_member = []
    for member, raw in zip(basket.members, basket.raw.members, strict=True):
        lot_step = float(member.instrument.to_instrument().lot_step)
        per_member.append(trade_table_columns(raw.trades, lot_step))
    exit_times = np.concatenate(
        [np.asarray(raw.trades["exit_time"], dtype=np.int64) for raw in basket.raw.members]
    )
    order = np.argsort(exit_times, kind="stable")  # as BasketResult.trade_symbols
    columns: list[Column] = [("symbol", "text", basket.trade_symbols.tolist())]
    for k, (name, kind, _) in enumerate(per_member[0]):
        parts = [member_columns[k][2] for member_columns in per_member]
        if kind == "text":
            joined = [text for part in parts for text in part]
            columns.append((name, kind, [joined[i] for i in order.tolist()]))
        else:
            columns.append((name, kind, np.ascontiguousarray(np.concatenate(parts)[order])))
    return columns


def instrument_equity_columns(basket: BasketResult) -> list[Column]:
    """``time`` (the account's close times) and each instrument's curve at those times."""
    close_ns = basket.account.equity_close_ns
    columns: list[Column] = [("time", "time", np.ascontiguousarray(close_ns, dtype=np.int64))]
    for symbol in basket.symbols:
        columns.append((symbol, "float", basket.instrument_curve(symbol)))
    return columns


def basket_summary_dict(basket: BasketResult) -> dict[str, Any]:
    """What a basket's metrics.json holds: the account's metrics as a single run's (mode,
    hash, metrics, skipped orders, warnings, config), each instrument's under
    ``instruments``, and the correlation matrix of their daily returns."""
    account = basket.account
    instruments = {}
    for symbol, result in basket.instruments.items():
        instruments[symbol] = {
            "trades_sha256": result.trades_sha256,
            "metrics": result.metrics,
            "skipped_orders": [
                {"time": int(s.time), "reason": s.reason, "detail": s.detail}
                for s in result.skipped_orders
            ],
            "data_quality": _plain(result.quality_summary()),
        }
    correlation = basket.correlation(CORRELATION_RULE)
    matrix = {
        str(row): {str(col): float(value) for col, value in values.items()}
        for row, values in correlation.to_dict(orient="index").items()
    }
    return json_safe(
        {
            "mode": basket.mode,
            "mode_reason": basket.mode_reason,
            "symbols": basket.symbols,
            "trades_sha256": account.trades_sha256,
            "metrics": account.metrics,
            "skipped_orders": [
                {"time": int(s.time), "reason": s.reason, "detail": s.detail}
                for s in account.skipped_orders
            ],
            "instruments": instruments,
            "correlation": {"rule": CORRELATION_RULE, "matrix": matrix},
            "warnings": basket.warnings,
            "config": basket.config.effective_dict(),
        }
    )


def _trace_csv(basket: BasketResult) -> str | None:
    """Every instrument's trace rows with a leading ``symbol``, in time order."""
    import pandas as pd

    frames = []
    for symbol, result in basket.instruments.items():
        if result.trace is None:
            continue
        frame = result.trace.copy()
        frame.insert(0, "symbol", symbol)
        frames.append(frame)
    if not frames:
        return None
    merged = pd.concat(frames, ignore_index=True).sort_values("time", kind="stable")
    return str(merged.to_csv(index=False))


def save_basket(
    basket: BasketResult,
    directory: str | Path,
    *,
    report: bool = True,
    table_format: TableFormat = "csv",
) -> dict[str, Path]:
    """Write ``trades`` (with ``symbol``), ``equity`` (the account's), ``instrument_equity``
    (one column per instrument) as csv or parquet, ``stats.csv`` (a column for the account
    and one per instrument), ``correlation.csv``, ``metrics.json``, ``trace.csv`` (when
    recorded) and ``report.html`` into ``directory``, as one set."""
    if table_format not in ("csv", "parquet"):
        raise ValueError(f"table_format must be 'csv' or 'parquet', not {table_format!r}")
    account = basket.account
    tables = {
        "trades": basket_trade_columns(basket),
        "equity": equity_table_columns(account.equity_close_ns, account.equity_values),
        "instrument_equity": instrument_equity_columns(basket),
    }

    def write_all(folder: Path) -> list[str]:
        names = []
        for name, columns in tables.items():
            file = f"{name}.{table_format}"
            write_atomic(folder / file, table_bytes(columns, table_format))
            names.append(file)
        write_atomic(folder / "stats.csv", basket.stats.to_csv(index_label="statistic"))
        write_atomic(
            folder / "correlation.csv",
            basket.correlation(CORRELATION_RULE).to_csv(index_label="symbol"),
        )
        summary = json.dumps(basket_summary_dict(basket), indent=2, allow_nan=False) + "\n"
        write_atomic(folder / "metrics.json", summary)
        names += ["stats.csv", "correlation.csv", "metrics.json"]
        trace = _trace_csv(basket)
        if trace is not None:
            write_atomic(folder / "trace.csv", trace)
            names.append("trace.csv")
        if report:
            from omega.report.basket import render_basket_html

            write_atomic(folder / "report.html", render_basket_html(basket))
            names.append("report.html")
        return names

    target = Path(directory)
    names = replace_folder(target, write_all, owned=RUN_FILES)
    return {name: target / name for name in names}

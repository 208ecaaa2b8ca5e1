"""Hard data rules. A violation raises the matching omega.errors.DataError kind, naming the
file, the row (1-based source line, header counted, where a file exists; else the 0-based bar
index) and the column. The rules and their order are listed in docs/data/validation.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from omega.data import _fast
from omega.data.bars import COLUMNS, PRICE_COLUMNS, BarSeries
from omega.data.loaders._raw import FIELDS, RawBars
from omega.data.loaders._source import SourceMap
from omega.data.timezones import format_ns
from omega.errors import (
    DuplicateTimestampError,
    EmptyDataError,
    NonFiniteValueError,
    NonMonotonicTimestampError,
    NonPositivePriceError,
    OHLCInconsistencyError,
)


def validate_raw(raw: RawBars) -> None:
    """Apply every hard rule to freshly loaded bars (first failing rule, first failing row)."""
    columns = {"time": raw.time, **raw.prices, "volume": raw.volume}
    _validate(columns, raw.locate, raw.label, raw.source_map.label)


def validate_series(series: BarSeries) -> None:
    """The same rules for a BarSeries built in memory (rows are 0-based bar indices)."""
    columns = {name: getattr(series, name) for name in COLUMNS}
    where = SourceMap.in_memory(series.source)
    _validate(columns, lambda index, column: where.locate(index), lambda c: c, series.source)


Locate = Callable[[int, str], tuple[str, int]]


def _validate(columns: dict[str, np.ndarray], where: Locate, label, file_label: str) -> None:
    n = len(columns["time"])
    if n == 0:
        raise EmptyDataError("no bars", file=file_label)
    fault = first_fault(columns)
    if fault is not None:
        _raise_fault(fault, columns, where, label)


Fault = tuple[str, int, str]  # rule, 0-based bar index, column


def first_fault(columns: dict[str, np.ndarray]) -> Fault | None:
    """The first failing rule, its first row and column: one Rust pass, else numpy."""
    floats = [columns[c] for c in (*PRICE_COLUMNS, "volume")]
    core = _fast.core()
    if core is not None and _fast.scannable(columns["time"], floats):
        return core.data_first_fault(columns["time"], floats[:-1], floats[-1])
    return first_fault_numpy(columns)


def first_fault_numpy(columns: dict[str, np.ndarray]) -> Fault | None:
    """The numpy reference of ``first_fault`` (rules in docs/data/validation.md order)."""
    names = [*PRICE_COLUMNS, "volume"]
    if not all(np.isfinite(columns[c]).all() for c in names):
        found = _first_bad([(c, ~np.isfinite(columns[c])) for c in names])
        assert found is not None
        return ("non_finite", *found)
    found = _first_bad([(c, columns[c] <= 0.0) for c in PRICE_COLUMNS])
    if found is not None:
        return ("non_positive", *found)
    for side in ("bid", "ask"):
        o, h, lo, c = (columns[f"{side}_{f}"] for f in FIELDS)
        found = _first_bad(
            [
                (f"{side}_high", h < lo),
                (f"{side}_open", (o > h) | (o < lo)),
                (f"{side}_close", (c > h) | (c < lo)),
            ]
        )
        if found is not None:
            return ("ohlc", *found)
    time = columns["time"]
    if len(time) < 2:
        return None
    step = np.diff(time)
    bad = step <= 0
    if not bad.any():
        return None
    index = int(np.argmax(bad)) + 1
    return ("duplicate" if step[index - 1] == 0 else "non_monotonic", index, "time")


def _first_bad(masks: list[tuple[str, np.ndarray]]) -> tuple[int, str] | None:
    """Earliest row flagged by any mask, and the first column (in the given order) at that row."""
    best: tuple[int, str] | None = None
    for name, mask in masks:
        if mask.any():
            row = int(np.argmax(mask))
            if best is None or row < best[0]:
                best = (row, name)
    return best


def _raise(cls, message: str, index: int, column: str, where: Locate, label) -> None:
    file, row = where(index, column)
    raise cls(message, file=file, row=row, column=label(column))


def _raise_fault(fault: Fault, columns, where: Locate, label) -> None:
    """Raise the DataError kind of ``fault`` with its message (shared by both paths)."""
    rule, index, name = fault
    if rule == "non_finite":
        value = columns[name][index]
        _raise(NonFiniteValueError, f"value {value} is not finite", index, name, where, label)
    if rule == "non_positive":
        value = columns[name][index]
        _raise(NonPositivePriceError, f"price {value} is not > 0", index, name, where, label)
    if rule == "ohlc":
        side = name.split("_")[0]
        o, h, lo, c = (columns[f"{side}_{f}"] for f in FIELDS)
        values = f"open {o[index]}, high {h[index]}, low {lo[index]}, close {c[index]}"
        field = name.split("_")[1]
        what = "high < low" if field == "high" else f"{field} outside [low, high]"
        _raise(OHLCInconsistencyError, f"{side} {what}: {values}", index, name, where, label)
    time = columns["time"]
    prev_file, prev_row = where(index - 1, "time")
    previous = f"previous bar {format_ns(time[index - 1])} at file {prev_file}, row {prev_row}"
    if rule == "duplicate":
        message = f"timestamp {format_ns(time[index])} repeats the {previous}"
        _raise(DuplicateTimestampError, message, index, "time", where, label)
    message = f"timestamp {format_ns(time[index])} is earlier than the {previous}"
    _raise(NonMonotonicTimestampError, message, index, "time", where, label)

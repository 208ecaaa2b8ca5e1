"""Exact comparisons shared by the checks: floats by bit pattern, any NaN equal to any NaN."""

from __future__ import annotations

import math
import struct
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from omega.engine.raw import RawRun

END_OF_DATA = "end_of_data"
# What identifies a trade's decisions (size and P&L follow the balance, which differs between
# runs that start at different bars).
TRADE_KEY = ("entry_time", "exit_time", "side", "entry_price", "exit_price", "exit_reason", "tag")


def same(a: Any, b: Any) -> bool:
    """Exact equality; floats by bit pattern (0.0 is not -0.0), any NaN equals any NaN."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def row_fields(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The keys of two trace rows whose values differ, or that only one row has."""
    keys = list(a) + [k for k in b if k not in a]
    return [k for k in keys if k not in a or k not in b or not same(a[k], b[k])]


def first_row_difference(
    rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], n: int
) -> tuple[int, list[str]] | None:
    """The first of the first ``n`` trace rows where the two traces differ, and the fields."""
    for i in range(n):
        a, b = rows_a[i], rows_b[i]
        if a != b:  # fast path; rows holding a NaN never compare equal and are checked exactly
            fields = row_fields(a, b)
            if fields:
                return i, fields
    return None


def equal_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise exact equality (bit patterns; NaN equals NaN)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


def close_values(a: np.ndarray, b: np.ndarray, tolerance: float) -> np.ndarray:
    """``|a - b| <= tolerance * max(1, |a|, |b|)``, NaN agreeing only with NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= tolerance * scale
    return np.where(np.isnan(a) | np.isnan(b), np.isnan(a) & np.isnan(b), near)


def trade_rows(run: RawRun, columns: tuple[str, ...] | None = None) -> list[tuple[Any, ...]]:
    """The trades as tuples of ``columns`` (default: every column), in closing order."""
    names = list(run.trades) if columns is None else list(columns)
    values = [run.trades[name].tolist() for name in names]
    return list(zip(*values, strict=True)) if values else []


def trade_difference(a: tuple[Any, ...], b: tuple[Any, ...], names: list[str]) -> list[str]:
    return [name for name, x, y in zip(names, a, b, strict=True) if not same(x, y)]


def trace_values(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Each recorded value name as a column over the rows (NaN where a bar did not record
    it), and where it was recorded (keys ``name`` and ``name + "?"``)."""
    names = set().union(*rows) - {"index", "time", "event"} if rows else set()
    out: dict[str, np.ndarray] = {}
    for name in sorted(names):
        # map over C-level dict methods: several times faster than a comprehension here
        values = map(dict.get, rows, repeat(name), repeat(math.nan))
        out[name] = np.fromiter(values, dtype=np.float64, count=len(rows))
        present = map(dict.__contains__, rows, repeat(name))
        out[name + "?"] = np.fromiter(present, dtype=bool, count=len(rows))
    return out


def events(rows: list[dict[str, Any]]) -> list[str]:
    """The event column of a decision trace."""
    return list(map(itemgetter("event"), rows))


def utc(ns: int) -> str:
    """``2024-01-02T10:05:00Z``"""
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"

"""Canonical text of a trade list: the form golden files store and hashes are taken of.

One header line, then one line per trade, columns in `TRADE_COLUMNS` order, comma separated,
``\\n`` line ends. Floats are written with Python's ``repr`` (the shortest decimal string that
reads back to the same double, so the text is exact and still readable in a diff); NaN is
``nan``, infinities ``inf``/``-inf``; integer columns as plain integers; text columns quoted
only when they contain a comma, quote or line break (RFC 4180), ``None`` as an empty field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math

import numpy as np

from omega.engine.raw import TRADE_COLUMNS, RawRun


def format_float(value: float) -> str:
    """Exact, readable text of a double: ``repr``, with ``nan``/``inf``/``-inf`` spelled out."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _column_text(values: np.ndarray, dtype: str) -> list[str]:
    if dtype.startswith("float"):
        return [format_float(v) for v in values.tolist()]
    if dtype.startswith("int"):
        return [str(int(v)) for v in values.tolist()]
    return ["" if v is None else str(v) for v in values.tolist()]


def canonical_trades_text(raw: RawRun) -> str:
    """The trades of ``raw`` as canonical text (see the module docstring)."""
    n = raw.n_trades
    columns = []
    for name, dtype in TRADE_COLUMNS.items():
        values = np.asarray(raw.trades[name])
        if len(values) != n:
            raise ValueError(f"trade column {name} has {len(values)} rows, expected {n}")
        columns.append(_column_text(values, dtype))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TRADE_COLUMNS)
    for row in zip(*columns, strict=True):
        writer.writerow(row)
    return buffer.getvalue()


def trades_sha256(raw: RawRun) -> str:
    """Hex SHA-256 of the UTF-8 canonical trades text."""
    return hashlib.sha256(canonical_trades_text(raw).encode("utf-8")).hexdigest()

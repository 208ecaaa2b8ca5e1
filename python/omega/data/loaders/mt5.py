"""MetaTrader 5 bar export: tab-separated, ``<DATE> <TIME> <OPEN> ... <SPREAD>`` header.

Prices are bid; ask = bid + ``<SPREAD>`` * instrument.point on every field. Volume is
``<TICKVOL>`` (``<VOL>``, real volume, is 0 for FX). Times are broker server time, converted
to UTC with ``tz`` (default UTC).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from omega.data.bars import Instrument
from omega.data.loaders._delimited import (
    first_fault,
    read_header,
    read_table,
    require_columns,
)
from omega.data.loaders._raw import FilePart, RawBars, add_spread, gather
from omega.data.loaders._source import SourceMap, map_files, resolve_files
from omega.data.loaders._times import parse_column
from omega.data.timezones import local_to_utc_ns

DELIMITER = "\t"
PRICE_FIELDS = {"open": "<OPEN>", "high": "<HIGH>", "low": "<LOW>", "close": "<CLOSE>"}
REQUIRED = ["<DATE>", "<TIME>", *PRICE_FIELDS.values(), "<TICKVOL>", "<SPREAD>"]
DATE_LAYOUTS = ["%Y.%m.%d"]
TIME_LAYOUTS = ["%H:%M:%S", "%H:%M"]


def load_mt5(
    path: str,
    *,
    instrument: Instrument,
    tz: str | None = None,
    pattern: str = "*.csv",
) -> RawBars:
    """Parse one MT5 export, or every file of a directory/glob, into two-sided UTC bars."""
    paths = resolve_files(path, pattern)
    local, columns, sources, blank = gather(map_files(_read_one, paths))
    time = local_to_utc_ns(local, tz)
    bid = {f: columns[f] for f in PRICE_FIELDS}
    prices = add_spread(bid, columns["spread"] * instrument.point, instrument.point)
    labels = {f"bid_{f}": name for f, name in PRICE_FIELDS.items()}
    labels.update({f"ask_{f}": f"{name}+<SPREAD>" for f, name in PRICE_FIELDS.items()})
    labels.update({"time": "<DATE>/<TIME>", "volume": "<TICKVOL>"})
    return RawBars(
        time=time,
        prices=prices,
        volume=columns["volume"],
        source_map=SourceMap(sources, path),
        labels=labels,
        ask_source="spread column",
        blank_lines=blank,
    )


def _read_one(path: str) -> FilePart:
    header = read_header(path, DELIMITER)
    require_columns(path, header, REQUIRED)
    types = {name: pa.float64() for name in REQUIRED[2:]}
    # Dictionary-encoded: a date repeats on every bar of its day, a time on every day.
    text = pa.dictionary(pa.int32(), pa.string())
    types.update({"<DATE>": text, "<TIME>": text})
    ft = read_table(
        path,
        delimiter=DELIMITER,
        column_names=header,
        column_types=types,
        header_lines=1,
        include=REQUIRED,
    )
    table, source = ft.table, ft.source
    # The earliest bad line wins, whichever column or check finds it.
    days, clock = first_fault(
        ft,
        lambda: parse_column(table.column("<DATE>"), DATE_LAYOUTS, source, "<DATE>"),
        lambda: parse_column(table.column("<TIME>"), TIME_LAYOUTS, source, "<TIME>"),
    )
    columns = {f: _floats(table, name) for f, name in PRICE_FIELDS.items()}
    columns["volume"] = _floats(table, "<TICKVOL>")
    columns["spread"] = _floats(table, "<SPREAD>")
    return FilePart(days + clock, columns, source, ft.blank_lines)


def _floats(table: pa.Table, name: str) -> np.ndarray:
    return np.ascontiguousarray(table.column(name).to_numpy(), dtype=np.float64)

"""QuantConnect LEAN minute quote bars: one CSV per day named ``YYYYMMDD_...``, no header.

Fields: ms since midnight, bid OHLC, bid size, ask OHLC, ask size (CRLF line ends are fine).
The date comes from the file name; times are UTC unless ``tz`` says otherwise (FXCM files are
New York time). Volume is bid size + ask size: quote sizes, LEAN has no traded FX volume.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omega.data.bars import PRICE_COLUMNS, Instrument
from omega.data.loaders._delimited import first_fault, read_table, strict_integers
from omega.data.loaders._raw import FIELDS, FilePart, RawBars, gather
from omega.data.loaders._source import SourceFile, SourceMap, map_files, resolve_files
from omega.data.loaders._timeparse import FixedParseFailure, Layout, parse_fixed
from omega.data.timezones import local_to_utc_ns
from omega.errors import ParseError

NAMES = [
    "ms",
    *(f"bid_{f}" for f in FIELDS),
    "bid_size",
    *(f"ask_{f}" for f in FIELDS),
    "ask_size",
]
LABELS = {name: f"field {i + 1} ({name})" for i, name in enumerate(NAMES)}
_DATE_IN_NAME = re.compile(r"^(\d{8})_")
_MS_PER_DAY = 86_400_000


def load_lean(
    path: str,
    *,
    instrument: Instrument,
    tz: str | None = None,
    pattern: str = "*.csv",
) -> RawBars:
    """Parse LEAN daily quote files (a file, a directory of days, or a glob)."""
    del instrument  # both sides are in the file; nothing to derive
    paths = resolve_files(path, pattern)
    local, columns, sources, blank = gather(map_files(_read_one, paths))
    time = local_to_utc_ns(local, tz)
    labels = {name: LABELS[name] for name in NAMES[1:]}
    labels.update({"time": LABELS["ms"], "volume": "fields 6+11 (bid size + ask size)"})
    return RawBars(
        time=time,
        prices={name: columns[name] for name in PRICE_COLUMNS},
        volume=columns["bid_size"] + columns["ask_size"],
        source_map=SourceMap(sources, path),
        labels=labels,
        ask_source="file",
        blank_lines=blank,
    )


def _file_date_ns(path: str) -> int:
    match = _DATE_IN_NAME.match(os.path.basename(path))
    if match is None:
        raise ParseError(
            "LEAN file name must start with the date as YYYYMMDD_ (e.g. 20140501_eurusd_...)",
            file=path,
            column="file name",
        )
    try:
        return int(parse_fixed([(pa.array([match.group(1)]), Layout("%Y%m%d"))])[0])
    except FixedParseFailure:
        raise ParseError(
            f"file name date {match.group(1)!r} is not a valid date", file=path, column="file name"
        ) from None


def _read_one(path: str) -> FilePart:
    day_ns = _file_date_ns(path)
    types = {name: pa.float64() for name in NAMES}
    # Read as text: arrow's integer parser also takes hex (0xEA60), which no LEAN file means.
    types["ms"] = pa.string()
    ft = read_table(
        path, delimiter=",", column_names=NAMES, column_types=types, header_lines=0, labels=LABELS
    )
    table, source = ft.table, ft.source
    (ms,) = first_fault(ft, lambda: _milliseconds(table.column("ms").combine_chunks(), source))
    columns = {
        name: np.ascontiguousarray(table.column(name).to_numpy(), dtype=np.float64)
        for name in NAMES[1:]
    }
    return FilePart(day_ns + ms * 1_000_000, columns, source, ft.blank_lines)


def _milliseconds(text: pa.Array, source: SourceFile) -> np.ndarray:
    """Decimal milliseconds since midnight, each in [0, 86,400,000); ParseError at the first
    row that is not (hex, fractions, exponents and out-of-day values alike)."""
    # Within the day, so at most 8 digits (9 with a sign): longer text is a fault found
    # before any cast could overflow.
    length = pc.utf8_length(pc.utf8_trim_whitespace(text)).to_numpy(zero_copy_only=False)
    faults = [int(i) for i in np.flatnonzero(length > 9)[:1]]
    faults += [i for i in (strict_integers(text),) if i is not None]
    bad = min(faults) if faults else None
    ms = (
        pc.cast(pc.utf8_trim_whitespace(text.slice(0, bad)), pa.int64()).to_numpy()
        if bad != 0
        else np.zeros(0, dtype=np.int64)
    )
    out_of_day = np.flatnonzero((ms < 0) | (ms >= _MS_PER_DAY))
    if len(out_of_day):
        row = int(out_of_day[0])
        raise ParseError(
            f"milliseconds since midnight {int(ms[row])} is outside [0, {_MS_PER_DAY})",
            file=source.path,
            row=source.line_of(row),
            column=LABELS["ms"],
        )
    if bad is not None:
        raise ParseError(
            f"cannot parse {text[bad].as_py()!r} as whole milliseconds since midnight",
            file=source.path,
            row=source.line_of(bad),
            column=LABELS["ms"],
        )
    return ms

"""Generic CSV with a header of named columns (names matched case-insensitively).

Three layouts:

(a) one side: ``time, open, high, low, close[, volume]`` with ``side="bid"`` (or ``"ask"``);
    the other side from ``spread_pips`` (fixed) or a spread column in points (``spread_column``,
    or a column named ``spread`` when present); neither -> zero spread;
(b) both sides: ``time, bid_open .. bid_close, ask_open .. ask_close[, volume]``;
(c) separate one-sided files ``bid_path`` and ``ask_path`` joined on time; any timestamp
    without a partner -> AlignmentError naming the first such row.

The time column holds ISO-8601 text (naive -> local time in ``tz``; with ``Z``/``+hh:mm`` ->
absolute) or epoch integers when ``time_unit`` is "s", "ms", "us" or "ns" (always UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omega.data.bars import PRICE_COLUMNS, Instrument
from omega.data.loaders._delimited import (
    _first_uncastable,
    first_fault,
    read_header,
    read_table,
    strict_integers,
)
from omega.data.loaders._raw import FIELDS, FilePart, RawBars, add_spread, gather
from omega.data.loaders._source import SourceFile, SourceMap, map_files, resolve_files
from omega.data.timezones import format_ns, local_to_utc_ns
from omega.errors import AlignmentError, ConfigError, MissingColumnError, ParseError

TIME_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


@dataclass(frozen=True)
class _Options:
    tz: str | None
    delimiter: str
    time_column: str  # lower-cased, as header names are
    time_unit: str | None
    spread_column: str | None
    volume_column: str
    spread_pips: float | None


def load_csv(
    path: str | None,
    *,
    instrument: Instrument,
    tz: str | None = None,
    delimiter: str = ",",
    time_column: str = "time",
    time_unit: str | None = None,
    side: str = "bid",
    spread_pips: float | None = None,
    spread_column: str | None = None,
    volume_column: str = "volume",
    bid_path: str | None = None,
    ask_path: str | None = None,
    pattern: str = "*.csv",
) -> RawBars:
    """Parse generic CSV file(s) in layout (a), (b) or (c) (see the module docstring)."""
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ConfigError(f"time_unit must be one of {sorted(TIME_UNITS)}, got {time_unit!r}")
    if side not in ("bid", "ask"):
        raise ConfigError(f"side must be 'bid' or 'ask', got {side!r}")
    if spread_pips is not None and (not np.isfinite(spread_pips) or spread_pips < 0):
        raise ConfigError(f"spread_pips must be a finite number >= 0, got {spread_pips!r}")
    opts = _Options(
        tz=tz,
        delimiter=delimiter,
        time_column=time_column.lower(),
        time_unit=time_unit,
        spread_column=spread_column.lower() if spread_column else None,
        volume_column=volume_column.lower(),
        spread_pips=spread_pips,
    )
    if bid_path is not None or ask_path is not None:
        if bid_path is None or ask_path is None:
            raise ConfigError("csv: give both bid_path and ask_path (or neither)")
        if path is not None:
            raise ConfigError("csv: pass path=None when bid_path and ask_path are given")
        return _load_pair(bid_path, ask_path, opts, pattern)
    if path is None:
        raise ConfigError("csv: a path (or bid_path and ask_path) is required")
    parts = map_files(lambda p: _read_one(p, opts), resolve_files(path, pattern))
    layouts = {tuple(sorted(p.columns)) for p in parts}
    if len(layouts) > 1:
        raise MissingColumnError(
            "files of one load must share a layout (all one-sided or all two-sided)",
            file=parts[-1].source.path,
            row=1,
        )
    time, columns, sources, blank = gather(parts)
    source_map = SourceMap(sources, path)
    volume = columns.get("volume", np.zeros(len(time)))
    if "bid_open" in columns:  # layout (b)
        prices = {name: columns[name] for name in PRICE_COLUMNS}
        return RawBars(time, prices, volume, source_map, blank_lines=blank)
    spread, ask_source = _spread_price(columns, opts, instrument)
    prices = add_spread({f: columns[f] for f in FIELDS}, spread, instrument.point, side)
    other = "ask" if side == "bid" else "bid"
    labels = {f"{side}_{f}": f for f in FIELDS}
    labels.update({f"{other}_{f}": f"{f}{'+' if side == 'bid' else '-'}spread" for f in FIELDS})
    return RawBars(time, prices, volume, source_map, labels, ask_source, blank)


def _spread_price(
    columns: dict[str, np.ndarray], opts: _Options, instrument: Instrument
) -> tuple[np.ndarray | float, str]:
    if opts.spread_pips is not None:
        return opts.spread_pips * instrument.pip_size, "fixed spread"
    if "spread" in columns:
        return columns["spread"] * instrument.point, "spread column"
    return 0.0, "fixed spread"


def _read_one(path: str, opts: _Options, one_sided_only: bool = False) -> FilePart:
    header = read_header(path, opts.delimiter)
    lower = [name.lower() for name in header]
    two_sided = not one_sided_only and all(c in lower for c in PRICE_COLUMNS)
    needed = [opts.time_column, *(PRICE_COLUMNS if two_sided else FIELDS)]
    one_side_incomplete = not all(f in lower for f in FIELDS)
    looks_two_sided = any(name.startswith(("bid_", "ask_")) for name in lower)
    if not two_sided and not one_sided_only and one_side_incomplete and looks_two_sided:
        needed = [opts.time_column, *PRICE_COLUMNS]  # report what the two-sided layout lacks
    for name in needed:
        if name not in lower:
            raise MissingColumnError(
                f"required column {name!r} not in header {header}", file=path, row=1, column=name
            )
    if opts.spread_column and opts.spread_column not in lower and not two_sided:
        raise MissingColumnError(
            f"spread column {opts.spread_column!r} not in header {header}",
            file=path,
            row=1,
            column=opts.spread_column,
        )
    spread_name = opts.spread_column or ("spread" if "spread" in lower else None)
    optional = [n for n in (opts.volume_column, spread_name) if n and n in lower]
    wanted = needed + [n for n in optional if n not in needed]
    types = {name: pa.float64() for name in wanted}
    types[opts.time_column] = pa.string()
    ft = read_table(
        path,
        delimiter=opts.delimiter,
        column_names=lower,
        column_types=types,
        header_lines=1,
        include=wanted,
    )
    table, source = ft.table, ft.source
    (time,) = first_fault(ft, lambda: _parse_time(table.column(opts.time_column), opts, source))
    columns = {
        name: np.ascontiguousarray(table.column(name).to_numpy(), dtype=np.float64)
        for name in wanted[1:]
    }
    if opts.volume_column in columns and opts.volume_column != "volume":
        columns["volume"] = columns.pop(opts.volume_column)
    if spread_name and spread_name in columns and spread_name != "spread":
        columns["spread"] = columns.pop(spread_name)
    return FilePart(time, columns, source, ft.blank_lines)


def _parse_time(column: pa.ChunkedArray, opts: _Options, source: SourceFile) -> np.ndarray:
    """UTC ns from ISO text (naive -> ``tz``) or epoch integers (``time_unit``)."""
    array = column.combine_chunks()
    if opts.time_unit is not None:
        target = pa.int64()
    else:
        naive = _castable(array.slice(0, 1), pa.timestamp("ns"))
        target = pa.timestamp("ns") if naive else pa.timestamp("ns", tz="UTC")
    bad = _first_uncastable(array, target)
    if opts.time_unit is not None:  # decimal only: arrow would also read 0x10 as hex
        bad = min((b for b in (bad, strict_integers(array)) if b is not None), default=None)
    if bad is not None:
        what = f"epoch {opts.time_unit}" if opts.time_unit else "an ISO-8601 time"
        raise ParseError(
            f"cannot parse {array[bad].as_py()!r} as {what}",
            file=source.path,
            row=source.line_of(bad),
            column=opts.time_column,
        )
    values = np.asarray(pc.cast(array, target).cast(pa.int64()).to_numpy(), dtype=np.int64)
    if opts.time_unit is not None:
        return values * TIME_UNITS[opts.time_unit]
    if target.tz is None:
        return local_to_utc_ns(values, opts.tz)
    return values


def _castable(array: pa.Array, dtype: pa.DataType) -> bool:
    try:
        pc.cast(array, dtype)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _load_pair(bid_path: str, ask_path: str, opts: _Options, pattern: str) -> RawBars:
    sides = {}
    for side, path in (("bid", bid_path), ("ask", ask_path)):
        parts = [_read_one(p, opts, one_sided_only=True) for p in resolve_files(path, pattern)]
        time, columns, sources, blank = gather(parts)
        sides[side] = (time, columns, SourceMap(sources, path), blank)
    (bid_time, bid, bid_map, bid_blank), (ask_time, ask, ask_map, ask_blank) = (
        sides["bid"],
        sides["ask"],
    )
    _check_aligned(bid_time, ask_time, bid_map, ask_map)
    prices = {f"bid_{f}": bid[f] for f in FIELDS}
    prices.update({f"ask_{f}": ask[f] for f in FIELDS})
    volume = bid.get("volume", ask.get("volume", np.zeros(len(bid_time))))
    labels = {f"{s}_{f}": f for s in ("bid", "ask") for f in FIELDS}
    return RawBars(
        bid_time,
        {name: prices[name] for name in PRICE_COLUMNS},
        volume,
        bid_map,
        labels,
        "file",
        bid_blank + ask_blank,
        ask_source_map=ask_map,
    )


def _check_aligned(bid_time, ask_time, bid_map: SourceMap, ask_map: SourceMap) -> None:
    """Bid and ask rows must pair one to one on time; name the first row without a partner."""
    n = min(len(bid_time), len(ask_time))
    differ = np.flatnonzero(bid_time[:n] != ask_time[:n])
    if len(differ):
        i = int(differ[0])
        bid_file, bid_row = bid_map.locate(i)
        ask_file, ask_row = ask_map.locate(i)
        if bid_time[i] < ask_time[i]:
            message = (
                f"bid bar {format_ns(bid_time[i])} has no ask bar "
                f"(ask file {ask_file} row {ask_row} is {format_ns(ask_time[i])})"
            )
            raise AlignmentError(message, file=bid_file, row=bid_row, column="time")
        message = (
            f"ask bar {format_ns(ask_time[i])} has no bid bar "
            f"(bid file {bid_file} row {bid_row} is {format_ns(bid_time[i])})"
        )
        raise AlignmentError(message, file=ask_file, row=ask_row, column="time")
    if len(bid_time) != len(ask_time):
        longer, where, times = (
            ("bid", bid_map, bid_time) if len(bid_time) > n else ("ask", ask_map, ask_time)
        )
        file, row = where.locate(n)
        raise AlignmentError(
            f"{longer} bar {format_ns(times[n])} has no partner: the other file ends earlier",
            file=file,
            row=row,
            column="time",
        )

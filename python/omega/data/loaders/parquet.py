"""Parquet: convert once with ``write_parquet``, reload fast with ``load(path, "parquet")``.

Columns are the BarSeries columns (``time`` as ``timestamp[ns, UTC]``, prices and volume
float64); the instrument, timeframe and original source travel in the schema metadata under
``omega.*`` keys. Rows named in errors are 0-based row indices (parquet has no lines).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from omega.data.bars import COLUMNS, PRICE_COLUMNS, BarSeries, Instrument
from omega.data.loaders._raw import RawBars
from omega.data.loaders._source import SourceFile, SourceMap, resolve_files
from omega.errors import ConfigError, EmptyDataError, MissingColumnError, ParseError
from omega.timeframes import Timeframe

FORMAT_VERSION = "1"
META_INSTRUMENT = b"omega.instrument"
META_TIMEFRAME = b"omega.timeframe"
META_SOURCE = b"omega.source"
META_VERSION = b"omega.format_version"


def write_parquet(series: BarSeries, path: str | os.PathLike[str]) -> None:
    """Write ``series`` with its instrument and timeframe in the schema metadata (zstd)."""
    arrays = [pa.array(series.time, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC"))]
    arrays += [pa.array(getattr(series, name), type=pa.float64()) for name in COLUMNS[1:]]
    metadata = {
        META_INSTRUMENT: json.dumps(asdict(series.instrument)).encode(),
        META_TIMEFRAME: series.timeframe.name.encode(),
        META_SOURCE: series.source.encode(),
        META_VERSION: FORMAT_VERSION.encode(),
    }
    table = pa.Table.from_arrays(arrays, names=list(COLUMNS)).replace_schema_metadata(metadata)
    pq.write_table(table, os.fspath(path), compression="zstd")


def read_metadata(path: str) -> dict[bytes, bytes]:
    try:
        return pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: corrupt UTF-8 names
        raise ParseError(f"not a readable parquet file: {exc}", file=path) from None


def instrument_from_metadata(path: str) -> Instrument | None:
    raw = read_metadata(path).get(META_INSTRUMENT)
    if raw is None:
        return None
    try:
        return Instrument(**json.loads(raw))
    except (TypeError, ValueError) as exc:
        raise ParseError(f"bad omega.instrument metadata: {exc}", file=path) from exc


def load_parquet(
    path: str,
    *,
    instrument: Instrument,
    tz: str | None = None,
    pattern: str = "*.parquet",
) -> RawBars:
    """Read file(s) written by write_parquet (or any file with the BarSeries columns)."""
    del instrument  # resolved by omega.data.load from the metadata when not given
    if tz is not None:
        raise ConfigError("parquet times are UTC already; tz does not apply")
    paths = resolve_files(path, pattern)
    tables, sources, timeframes = [], [], set()
    for p in paths:
        table = _read_one(p)
        tables.append(table)
        sources.append(SourceFile(p, table.num_rows, 0))
        tf = read_metadata(p).get(META_TIMEFRAME)
        if tf is not None:
            timeframes.add(tf.decode())
    if len(timeframes) > 1:
        raise ParseError(f"files mix timeframes {sorted(timeframes)}", file=paths[-1])
    order = np.argsort([int(t.column("time")[0].as_py()) for t in tables], kind="stable")
    tables = [tables[i] for i in order]
    sources = [sources[i] for i in order]
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    # Zero-copy (read-only views of arrow memory) when a column is one chunk; nulls were
    # rejected by _read_one. Several row groups or files are concatenated once.
    columns = {name: _numpy(table.column(name), np.float64) for name in COLUMNS[1:]}
    time = _numpy(table.column("time"), np.int64)
    return RawBars(
        time=time,
        prices={name: columns[name] for name in PRICE_COLUMNS},
        volume=columns["volume"],
        source_map=SourceMap(sources, path, line_based=False),
        timeframe=Timeframe.parse(timeframes.pop()) if timeframes else None,
    )


def _numpy(column: pa.ChunkedArray, dtype: type) -> np.ndarray:
    values = column.chunk(0).to_numpy() if column.num_chunks == 1 else column.to_numpy()
    return np.ascontiguousarray(values, dtype=dtype)  # no-op when already so


def _read_one(path: str) -> pa.Table:
    try:
        # One chunk per row group (read_table splits into 128k-row batches), so columns reach
        # numpy without a copy below.
        table = pq.ParquetFile(path).read()
    except (pa.ArrowException, OSError, ValueError) as exc:  # a corrupt file fails many ways
        raise ParseError(f"not a readable parquet file: {exc}", file=path) from exc
    for name in COLUMNS:
        if name not in table.column_names:
            raise MissingColumnError(
                f"required column {name!r} not in {table.column_names}", file=path, column=name
            )
    if table.num_rows == 0:
        raise EmptyDataError("file has no rows", file=path)
    time = table.column("time")
    if not (pa.types.is_timestamp(time.type) or pa.types.is_integer(time.type)):
        raise ParseError(
            f"time column must be a timestamp or int64 ns, got {time.type}",
            file=path,
            column="time",
        )
    try:
        if pa.types.is_timestamp(time.type):
            time = time.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
        else:
            time = time.cast(pa.int64())
    except pa.ArrowInvalid as exc:  # out of the int64-nanosecond range (year 1677-2262)
        raise ParseError(
            f"time column {time.type} out of the int64 ns range: {exc}", file=path, column="time"
        ) from None
    if time.null_count:
        row = int(np.flatnonzero(np.asarray(time.is_null()))[0])
        raise ParseError("missing time", file=path, row=row, column="time")
    table = table.set_column(table.column_names.index("time"), "time", time)
    for name in COLUMNS[1:]:
        column = table.column(name)
        if column.null_count:
            row = int(np.flatnonzero(np.asarray(column.is_null()))[0])
            raise ParseError("missing value", file=path, row=row, column=name)
        try:
            table = table.set_column(
                table.column_names.index(name), name, column.cast(pa.float64())
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ParseError(
                f"column type {column.type} is not numeric", file=path, column=name
            ) from exc
    return table.select(list(COLUMNS))

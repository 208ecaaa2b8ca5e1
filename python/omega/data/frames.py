"""pandas DataFrame -> BarSeries (``BarSeries.from_frame``), checked like a loaded file.

A frame goes through the loaders' own steps: the columns become two-sided prices (a spread
derived side rounded to the instrument's price grid, as ``add_spread`` does for files), the
hard rules of validation.py run with the frame's column names in the errors, and the quality
report of quality.py travels with the series. Rows in errors are 0-based positions
(``df.iloc[row]``); the message also gives the index label of the row.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd

from omega.data.bars import PRICE_COLUMNS, BarSeries, Instrument
from omega.data.loaders._raw import FIELDS, RawBars, add_spread
from omega.data.loaders._source import SourceMap
from omega.data.quality import measure_quality
from omega.data.validation import validate_raw
from omega.errors import ConfigError, DataError, MissingColumnError, ParseError
from omega.timeframes import Timeframe

log = logging.getLogger(__name__)

SpreadUnit = Literal["pips", "points", "price"]
SOURCE = "<DataFrame>"
TIME_NAMES = ("time", "datetime", "date", "timestamp")  # a column used when the index is no time


def bars_from_frame(
    df: Any,
    *,
    timeframe: Timeframe | str | None = None,
    symbol: str = "EURUSD",
    instrument: Instrument | str | None = None,
    spread_pips: float | None = None,
    spread_column: str | None = None,
    spread_unit: SpreadUnit = "pips",
    side: Literal["bid", "ask"] = "bid",
    tz: str | None = None,
    time_column: str | None = None,
    source: str = SOURCE,
    strict_quality: bool = False,
) -> BarSeries:
    """The implementation of ``BarSeries.from_frame`` (documented there)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}", file=source)
    if side not in ("bid", "ask"):
        raise ConfigError(f"side must be 'bid' or 'ask', got {side!r}")
    if spread_unit not in ("pips", "points", "price"):
        raise ConfigError(f"spread_unit must be 'pips', 'points' or 'price', got {spread_unit!r}")
    if spread_pips is not None and (not np.isfinite(spread_pips) or spread_pips < 0):
        raise ConfigError(f"spread_pips must be a finite number >= 0, got {spread_pips!r}")
    inst = _instrument(instrument, symbol)
    names = _lower_names(df, source)
    time, time_label = _times(df, names, time_column, tz, source)
    n = len(df)
    volume_name = names.get("volume")
    volume = _floats(df, volume_name, source) if volume_name else np.zeros(n)
    warnings: list[str] = []  # defaults taken that change results (run_backtest reports them)
    if any(c in names for c in PRICE_COLUMNS):
        if spread_pips is not None or spread_column is not None:
            raise ConfigError(
                "spread_pips / spread_column apply to one-sided frames (open, high, low, close); "
                "this frame has bid_ and ask_ columns"
            )
        _require(names, PRICE_COLUMNS, df, source)
        prices = {c: _floats(df, names[c], source) for c in PRICE_COLUMNS}
        labels = {c: str(names[c]) for c in PRICE_COLUMNS}
        ask_source = "file"
    else:
        _require(names, FIELDS, df, source)
        given = {f: _floats(df, names[f], source) for f in FIELDS}
        spread, ask_source, spread_label = _spread(
            df, names, inst, spread_pips, spread_column, spread_unit, source
        )
        prices = add_spread(given, spread, inst.point, side)
        other, sign = ("ask", "+") if side == "bid" else ("bid", "-")
        labels = {f"{side}_{f}": str(names[f]) for f in FIELDS}
        labels.update({f"{other}_{f}": f"{names[f]}{sign}{spread_label}" for f in FIELDS})
        if ask_source == "no spread":
            warnings.append(_zero_spread_message(source, side, other))
            log.warning("%s", warnings[-1])
    labels["time"] = time_label
    labels["volume"] = str(volume_name or "volume")
    raw = RawBars(
        time, prices, volume, SourceMap.in_memory(source), labels=labels, ask_source=ask_source
    )
    _validate(raw, df)
    tf = _timeframe(raw.time, timeframe, source)
    quality = measure_quality(
        raw.time, raw.prices, raw.volume, tf, inst.pip_size, raw.source_map, ask_source=ask_source
    )
    series = BarSeries(
        time=raw.time,
        **raw.prices,
        volume=raw.volume,
        timeframe=tf,
        instrument=inst,
        source=source,
        quality=quality,
        warnings=warnings,
    )
    if strict_quality:
        quality.raise_if_any()
    return series


def _zero_spread_message(source: str, side: str, other: str) -> str:
    return (
        f"{source}: one-sided ({side}) prices without a spread, so {other} = {side} and the "
        "backtest trades on zero spread; give spread_pips= or a spread column to from_frame"
    )


def _instrument(instrument: Instrument | str | None, symbol: str) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    if instrument is not None and not isinstance(instrument, str):
        raise ConfigError(
            f"instrument must be an Instrument or a symbol, got {type(instrument).__name__}"
        )
    try:
        return Instrument.for_symbol(instrument if instrument is not None else symbol)
    except ValueError as exc:
        raise ConfigError(f"{exc}; pass instrument=Instrument(...)") from None


def _lower_names(df: pd.DataFrame, source: str) -> dict[str, Any]:
    """Lower-cased, stripped column name -> the frame's column key (must be unambiguous)."""
    names: dict[str, Any] = {}
    for key in df.columns:
        lower = str(key).strip().lower()
        if lower in names:
            raise DataError(
                f"columns {names[lower]!r} and {key!r} are the same name ignoring case",
                file=source,
                column=str(key),
            )
        names[lower] = key
    return names


def _require(names: dict[str, Any], wanted, df: pd.DataFrame, source: str) -> None:
    for name in wanted:
        if name not in names:
            layouts = "open, high, low, close or bid_open .. bid_close, ask_open .. ask_close"
            raise MissingColumnError(
                f"required column {name!r} not in the frame's columns {list(map(str, df.columns))} "
                f"(expected {layouts}; names match ignoring case)",
                file=source,
                column=name,
            )


def _floats(df: pd.DataFrame, key: Any, source: str) -> np.ndarray:
    """A column as float64; text that is not a number is a ParseError naming its row."""
    column = df[key]
    try:
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        numbers = pd.to_numeric(column, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() & column.notna().to_numpy())
        if not len(bad):  # e.g. a nullable or extension dtype numpy cannot take directly
            return np.ascontiguousarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
        row = int(bad[0])
        raise ParseError(
            f"cannot read {column.iloc[row]!r} as a number{_at(df, row)}",
            file=source,
            row=row,
            column=str(key),
        ) from None
    return np.ascontiguousarray(values)


def _times(
    df: pd.DataFrame, names: dict[str, Any], time_column: str | None, tz: str | None, source: str
) -> tuple[np.ndarray, str]:
    """UTC int64 ns open times from the index (or a time column) and the label to report."""
    if time_column is not None:
        key = names.get(time_column.strip().lower())
        if key is None:
            raise MissingColumnError(
                f"time column {time_column!r} not in the frame's columns", file=source
            )
        values, label = df[key], str(key)
    elif isinstance(df.index, pd.DatetimeIndex):
        values, label = df.index, "index"
    else:
        key = next((names[n] for n in TIME_NAMES if n in names), None)
        if key is None:
            raise MissingColumnError(
                f"no time: the index is a {type(df.index).__name__}, not a DatetimeIndex, and "
                f"no column is named {' / '.join(TIME_NAMES)} (or pass time_column=)",
                file=source,
                column="time",
            )
        values, label = df[key], str(key)
    stamps = _datetimes(values, label, source)
    bad = np.flatnonzero(stamps.isna())
    if len(bad):
        row = int(bad[0])
        raise ParseError("missing time (NaT)", file=source, row=row, column=label)
    if stamps.tz is not None:
        if tz is not None:
            raise ConfigError(f"tz={tz!r} applies to naive times; the frame's are in {stamps.tz}")
        return np.ascontiguousarray(stamps.tz_convert("UTC").as_unit("ns").asi8), label
    naive = np.ascontiguousarray(stamps.as_unit("ns").asi8)
    if tz is None:
        return naive, label  # naive times are UTC (documented)
    from omega.data.timezones import local_to_utc_ns

    return local_to_utc_ns(naive, tz), label


def _datetimes(values: Any, label: str, source: str) -> pd.DatetimeIndex:
    if isinstance(values, pd.DatetimeIndex):
        return values
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(values)
    if isinstance(values, pd.Series) and pd.api.types.is_datetime64_dtype(values.dtype):
        return pd.DatetimeIndex(values)
    text = pd.Series(values)
    try:
        return pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"))
    except (TypeError, ValueError, OverflowError):
        pass
    for row, value in enumerate(text):  # the first value pandas cannot read, for the error
        try:
            pd.to_datetime(value, format="ISO8601")
        except (TypeError, ValueError, OverflowError):
            raise ParseError(
                f"cannot read {value!r} as an ISO-8601 time", file=source, row=row, column=label
            ) from None
    raise ParseError(
        "times mix time zones (or zoned and naive values); give one zone", file=source, column=label
    )


def _spread(
    df: pd.DataFrame,
    names: dict[str, Any],
    inst: Instrument,
    spread_pips: float | None,
    spread_column: str | None,
    unit: SpreadUnit,
    source: str,
) -> tuple[np.ndarray | float, str, str]:
    """The spread in price units, where the ask side comes from, and its name for errors."""
    if spread_pips is not None:
        return spread_pips * inst.pip_size, "fixed spread", f"{spread_pips:g} pips"
    name = spread_column.strip().lower() if spread_column is not None else "spread"
    key = names.get(name)
    if key is None:
        if spread_column is not None:
            raise MissingColumnError(
                f"spread column {spread_column!r} not in the frame's columns",
                file=source,
                column=spread_column,
            )
        return 0.0, "no spread", "0"
    values = _floats(df, key, source)
    scale = {"pips": inst.pip_size, "points": inst.point, "price": 1.0}[unit]
    return values * scale if scale != 1.0 else values, "spread column", str(key)


def _validate(raw: RawBars, df: pd.DataFrame) -> None:
    """validate_raw, with the index label of the row at fault added to the message."""
    try:
        validate_raw(raw)
    except DataError as exc:
        if exc.row is None or not 0 <= exc.row < len(df) or not _at(df, exc.row):
            raise
        raise type(exc)(
            exc.detail + _at(df, exc.row), file=exc.file, row=exc.row, column=exc.column
        ) from None


def _at(df: pd.DataFrame, row: int) -> str:
    """`` (index <label>)`` for messages, when the index says more than the position."""
    if isinstance(df.index, pd.RangeIndex):
        return ""
    return f" (index {df.index[row]})"


def _timeframe(time: np.ndarray, requested: Timeframe | str | None, source: str) -> Timeframe:
    if requested is not None:
        try:
            return Timeframe.parse(requested)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    from omega.data.loading import infer_timeframe

    return infer_timeframe(time, source)

"""``load``: one entry point from a file, directory or glob of any format to a BarSeries."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Sequence

import numpy as np

from omega.data.bars import BarSeries, Instrument
from omega.data.instruments import resolve_instrument
from omega.data.loaders import LOADERS, RawBars
from omega.data.loaders._source import describe_sources, resolve_files
from omega.data.loaders.parquet import instrument_from_metadata
from omega.data.quality import measure_quality
from omega.data.validation import validate_raw
from omega.errors import ConfigError, DataError
from omega.timeframes import Timeframe

FORMATS = tuple(LOADERS)
_SAMPLE = 100_000  # steps looked at to infer the timeframe
log = logging.getLogger(__name__)

DataPath = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def load(
    path: DataPath | None,
    format: str | None = None,
    *,
    tz: str | None = None,
    instrument: Instrument | str | None = None,
    timeframe: Timeframe | str | None = None,
    strict_quality: bool = False,
    **options: object,
) -> BarSeries:
    """Load, validate and quality-check bars; returns a BarSeries with ``.quality`` set.

    ``path`` is a file, a folder, a glob, or a list of these (read as one series, files in
    name order, like a folder). ``format`` is one of mt5, histdata, lean, csv, parquet
    (options per format in docs/data/formats.md); None infers it from the first file
    (`omega.data.infer.infer_format`). ``instrument`` may be an Instrument, a symbol
    ("USDJPY"), or None (guessed from the file name, else EURUSD defaults). ``timeframe``
    defaults to what the data says (parquet metadata, else the most common step between
    bars). Hard faults raise a
    DataError kind; soft anomalies are counted in ``series.quality`` and raise
    DataQualityError only with ``strict_quality=True``.

    Defaults that change results are reported, not silent: an MT5 file read without ``tz``
    (MT5 writes broker server time) and one-sided prices without a spread add a message to
    ``series.warnings`` and log it as a warning.
    """
    if path is not None and not isinstance(path, str | os.PathLike):
        paths = [os.fspath(p) for p in path]
        if not paths:
            raise ConfigError("no data path given")
        path_arg: str | list[str] | None = paths[0] if len(paths) == 1 else paths
    else:
        path_arg = os.fspath(path) if path is not None else None
    if format is None:
        if path_arg is None:
            raise ConfigError("format is required without a path")
        from omega.data.infer import infer_format

        format, _ = infer_format(path_arg)
    fmt = str(format).lower()
    if fmt not in LOADERS:
        raise ConfigError(f"unknown data format {format!r}; expected one of {', '.join(FORMATS)}")
    loader = LOADERS[fmt]
    _check_options(fmt, loader, options)
    text = path_arg
    if instrument is None and fmt == "parquet" and text is not None:
        instrument = instrument_from_metadata(resolve_files(text, "*.parquet")[0])
    first = text[0] if isinstance(text, list) else text
    named = first or str(options.get("bid_path") or "")
    inst = resolve_instrument(instrument, named)
    raw = loader(text, instrument=inst, tz=tz, **options)
    validate_raw(raw)
    tf = _timeframe(raw, timeframe)
    quality = measure_quality(
        raw.time,
        raw.prices,
        raw.volume,
        tf,
        inst.pip_size,
        raw.source_map,
        ask_source=raw.ask_source,
        blank_lines=raw.blank_lines,
    )
    source = (
        describe_sources([f.path for f in raw.source_map.files]) if raw.source_map.files else named
    )
    quality.source = source
    warnings = _result_changing_defaults(fmt, tz, raw, options, source)
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


def _result_changing_defaults(
    fmt: str, tz: str | None, raw: RawBars, options: dict[str, object], source: str
) -> list[str]:
    """Messages for defaults the user may not know they took, each naming the option."""
    found = []
    if fmt == "mt5" and tz is None:
        found.append(
            f"{source}: MT5 exports are in the broker's server time, but no time zone was "
            "given, so the times were read as UTC; name the zone with --tz (data.tz in a "
            "config, tz= in omega.data.load), e.g. --tz EET"
        )
    if raw.ask_source == "fixed spread" and options.get("spread_pips") is None:
        found.append(
            f"{source}: one-sided (bid-only) prices without a spread, so ask = bid and the "
            "backtest trades on zero spread; give one with --spread PIPS (data.spread_pips "
            "in a config, spread_pips= in omega.data.load)"
        )
    for message in found:
        log.warning("%s", message)
    return found


def _check_options(fmt: str, loader, options: dict[str, object]) -> None:
    accepted = [
        name
        for name, p in inspect.signature(loader).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("instrument", "tz")
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"format {fmt!r} does not accept option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or 'none'}"
        )


def _timeframe(raw: RawBars, requested: Timeframe | str | None) -> Timeframe:
    if requested is not None:
        try:
            return Timeframe.parse(requested)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if isinstance(raw.timeframe, Timeframe):
        return raw.timeframe
    return infer_timeframe(raw.time, raw.source_map.label)


def infer_timeframe(time: np.ndarray, source: str = "<memory>") -> Timeframe:
    """The most common step between consecutive bars (first 100,000 steps), as a Timeframe."""
    if len(time) < 2:
        return Timeframe.M1
    step = np.diff(time[: _SAMPLE + 1])
    values, counts = np.unique(step, return_counts=True)
    common = int(values[np.argmax(counts)])
    for tf in Timeframe:
        if tf.nanos == common:
            return tf
    raise DataError(
        f"cannot infer the timeframe: the most common step is {common / 1e9:g} s, which is no "
        f"supported timeframe; pass timeframe=",
        file=source,
    )

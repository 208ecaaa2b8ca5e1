"""``load``: one entry point from a file, directory or glob of any format to a BarSeries."""

from __future__ import annotations

import inspect
import os

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


def load(
    path: str | os.PathLike[str] | None,
    format: str,
    *,
    tz: str | None = None,
    instrument: Instrument | str | None = None,
    timeframe: Timeframe | str | None = None,
    strict_quality: bool = False,
    **options: object,
) -> BarSeries:
    """Load, validate and quality-check bars; returns a BarSeries with ``.quality`` set.

    ``format`` is one of mt5, histdata, lean, csv, parquet (options per format in
    docs/data/formats.md). ``instrument`` may be an Instrument, a symbol ("USDJPY"), or None
    (guessed from the file name, else EURUSD defaults). ``timeframe`` defaults to what the data
    says (parquet metadata, else the most common step between bars). Hard faults raise a
    DataError kind; soft anomalies are counted in ``series.quality`` and raise
    DataQualityError only with ``strict_quality=True``.
    """
    fmt = str(format).lower()
    if fmt not in LOADERS:
        raise ConfigError(f"unknown data format {format!r}; expected one of {', '.join(FORMATS)}")
    loader = LOADERS[fmt]
    _check_options(fmt, loader, options)
    text = os.fspath(path) if path is not None else None
    if instrument is None and fmt == "parquet" and text is not None:
        instrument = instrument_from_metadata(resolve_files(text, "*.parquet")[0])
    named = text or str(options.get("bid_path") or "")
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
    series = BarSeries(
        time=raw.time,
        **raw.prices,
        volume=raw.volume,
        timeframe=tf,
        instrument=inst,
        source=source,
        quality=quality,
    )
    if strict_quality:
        quality.raise_if_any()
    return series


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

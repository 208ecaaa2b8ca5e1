"""Everything the loop reads, built once before it: timeframes, visibility, indicators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from omega.data.bars import COLUMNS, BarSeries
from omega.data.resample import last_closed_index, resample
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError
from omega.indicators import IndicatorSpec
from omega.strategy.base import Strategy
from omega.strategy.context import IndicatorRequest, Instrument, RunContext
from omega.strategy.data_slice import MarketData, compact
from omega.timeframes import Timeframe


class SeriesSource(Protocol):
    """Where the market gets indicator series: `IndicatorCache`, or hybrid mode's Rust one."""

    def get(self, bars: BarSeries, side: str, spec: IndicatorSpec) -> np.ndarray: ...


def read_only(series: BarSeries) -> BarSeries:
    """A BarSeries of read-only views on ``series``' columns (the caller's arrays untouched)."""
    views = {}
    for name in COLUMNS:
        view = getattr(series, name).view()
        view.flags.writeable = False
        views[name] = view
    return BarSeries(
        **views, timeframe=series.timeframe, instrument=series.instrument, source=series.source
    )


def run_context(strategy: Strategy, settings: EngineSettings) -> RunContext:
    """The context ``strategy.init`` receives for a run with ``settings``."""
    primary = settings.primary_timeframe
    instrument = settings.instrument
    timeframes = sorted({primary, *settings.timeframes}, key=lambda tf: tf.seconds)
    return RunContext(
        Instrument(settings.instrument_id, instrument.symbol, instrument.pip_size),
        primary,
        tuple(timeframes),
        strategy.params,
        strategy.name or type(strategy).__name__,
    )


def init_strategy(strategy: Strategy, settings: EngineSettings) -> RunContext:
    """Run ``strategy.init`` with a fresh context (its declarations then in ``declared``)."""
    ctx = run_context(strategy, settings)
    strategy.init(ctx)
    return ctx


def declared_indicators(strategy: Strategy, settings: EngineSettings) -> list[IndicatorRequest]:
    """Run ``strategy.init`` with a fresh context; its declarations in handle order."""
    return list(init_strategy(strategy, settings).declared)


def run_timeframes(
    base: Timeframe,
    settings: EngineSettings,
    requests: Sequence[IndicatorRequest],
    read: Sequence[Timeframe] = (),
) -> list[Timeframe]:
    """Configured + primary + requested (+ ``read``) timeframes, finest first; none finer
    than the base."""
    wanted = {
        settings.primary_timeframe,
        *settings.timeframes,
        *(r.timeframe for r in requests),
        *read,
    }
    for tf in wanted:
        if tf.seconds < base.seconds:
            raise ConfigError(f"timeframes: {tf} is finer than the data's base timeframe {base}")
    return sorted(wanted, key=lambda tf: tf.seconds)


def build_market(
    bars: BarSeries,
    settings: EngineSettings,
    requests: Sequence[IndicatorRequest],
    cache: SeriesSource,
    read: Sequence[Timeframe] = (),
) -> MarketData:
    """Resample to every run timeframe, map visibility, compute every declared series."""
    series: dict[Timeframe, BarSeries] = {}
    for tf in run_timeframes(bars.timeframe, settings, requests, read):
        series[tf] = bars if tf == bars.timeframe else resample(bars, tf)
    return market_from_series(series, settings, requests, cache)


def market_from_series(
    series: dict[Timeframe, BarSeries],
    settings: EngineSettings,
    requests: Sequence[IndicatorRequest],
    cache: SeriesSource,
) -> MarketData:
    """The market over already resampled ``series`` (every run timeframe): read-only views,
    visibility maps, every declared indicator series (in handle order; equal declarations
    share one series)."""
    primary = settings.primary_timeframe
    views = {tf: read_only(s) for tf, s in series.items()}
    primary_time = views[primary].time
    visible: dict[Timeframe, Sequence[int]] = {
        tf: compact(np.asarray(last_closed_index(primary_time, primary, s.time, tf)))
        for tf, s in views.items()
        if tf != primary
    }
    computed: dict[IndicatorRequest, Sequence[float]] = {}
    indicators: list[Sequence[float]] = []
    for request in requests:
        values = computed.get(request)
        if values is None:
            tf, side, spec = request
            values = computed[request] = compact(cache.get(views[tf], side, spec))
        indicators.append(values)
    return MarketData(
        primary,
        views,
        visible,
        indicators,
        [r.timeframe for r in requests],
        settings.instrument_id,
    )

"""Everything the loop reads, built once before it: timeframes, visibility, indicators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from omega.data.bars import COLUMNS, BarSeries
from omega.data.resample import last_closed_index, resample
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError, StrategyError
from omega.indicators import IndicatorSpec
from omega.strategy.base import IndicatorRequest, Strategy
from omega.strategy.data_slice import MarketData, compact
from omega.timeframes import Timeframe

SIDES = ("bid", "ask", "mid")


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


def declared_indicators(strategy: Strategy, primary: Timeframe) -> list[IndicatorRequest]:
    """The strategy's requests, checked and normalised (timeframe parsed, side checked)."""
    requests = []
    for item in strategy.indicators(primary) or []:
        try:
            timeframe, side, spec = item
        except (TypeError, ValueError):
            raise StrategyError(
                f"strategy {strategy.name}: indicators() must return (timeframe, side, spec) "
                f"triples, got {item!r}"
            ) from None
        try:
            timeframe = Timeframe.parse(timeframe)
        except ValueError as exc:
            raise StrategyError(f"strategy {strategy.name}: {exc}") from None
        if side not in SIDES:
            raise StrategyError(
                f"strategy {strategy.name}: indicator side must be one of {SIDES}, got {side!r}"
            )
        if not isinstance(spec, IndicatorSpec):
            raise StrategyError(
                f"strategy {strategy.name}: indicator spec must be an IndicatorSpec, got {spec!r}"
            )
        requests.append(IndicatorRequest(timeframe, side, spec))
    return requests


def run_timeframes(
    base: Timeframe, settings: EngineSettings, requests: list[IndicatorRequest]
) -> list[Timeframe]:
    """Configured + primary + requested timeframes, finest first; none finer than the base."""
    wanted = {settings.primary_timeframe, *settings.timeframes, *(r.timeframe for r in requests)}
    for tf in wanted:
        if tf.seconds < base.seconds:
            raise ConfigError(f"timeframes: {tf} is finer than the data's base timeframe {base}")
    return sorted(wanted, key=lambda tf: tf.seconds)


def build_market(
    bars: BarSeries,
    settings: EngineSettings,
    requests: list[IndicatorRequest],
    cache: SeriesSource,
) -> MarketData:
    """Resample to every run timeframe, map visibility, compute every declared series."""
    series: dict[Timeframe, BarSeries] = {}
    for tf in run_timeframes(bars.timeframe, settings, requests):
        series[tf] = bars if tf == bars.timeframe else resample(bars, tf)
    return market_from_series(series, settings, requests, cache)


def market_from_series(
    series: dict[Timeframe, BarSeries],
    settings: EngineSettings,
    requests: list[IndicatorRequest],
    cache: SeriesSource,
) -> MarketData:
    """The market over already resampled ``series`` (every run timeframe): read-only views,
    visibility maps, every declared indicator series."""
    primary = settings.primary_timeframe
    views = {tf: read_only(s) for tf, s in series.items()}
    primary_time = views[primary].time
    visible: dict[Timeframe, Sequence[int]] = {
        tf: compact(np.asarray(last_closed_index(primary_time, primary, s.time, tf)))
        for tf, s in views.items()
        if tf != primary
    }
    indicators: dict[tuple[Timeframe, str, IndicatorSpec], Sequence[float]] = {}
    for tf, side, spec in requests:
        values = cache.get(views[tf], side, spec)
        indicators[(tf, side, spec)] = compact(values)
    return MarketData(primary, views, visible, indicators)

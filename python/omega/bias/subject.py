"""What the bias checks run: one `Subject` per config, whatever implements the strategy.

Every check only needs four things from the thing under test: a run on some bars (with the
decision trace), the indicator values it reads at each primary bar where they can be known,
a streaming replay where one exists, and its warm-up declaration. `subject_for` picks the
engine mode exactly as `omega.run_backtest` does (auto, env flags, plugins) and returns a
`StrategySubject`.

A basket (an ``instruments:`` config: several instruments on one account, any strategy
kind) is `omega.bias.basket.BasketSubject`: its runs are basket runs, compared member by
member with the functions the single-instrument checks use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from omega.data.bars import COLUMNS, BarSeries
from omega.errors import ConfigError, StrategyError

if TYPE_CHECKING:
    from omega.config import BacktestConfig
    from omega.engine.raw import RawRun
    from omega.engine.settings import EngineSettings
    from omega.strategy.base import Strategy
    from omega.strategy.context import IndicatorRequest
    from omega.timeframes import Timeframe

#: Attribute a Python strategy may set: how many primary bars it needs to have seen before
#: it decides (its warm-up declaration; ``20`` allows a first decision at the close of bar
#: 19). Read with getattr: optional.
WARMUP_ATTRIBUTE = "warmup_bars"


class Subject(Protocol):
    """The interface the checks use (see the module documentation)."""

    mode: str
    settings: EngineSettings

    @property
    def description(self) -> str: ...

    def run(self, bars: BarSeries, settings: EngineSettings, *, trace: bool) -> RawRun: ...

    def series(self, bars: BarSeries, settings: EngineSettings) -> dict[str, np.ndarray] | None: ...

    def stream(self, bars: BarSeries, chunks: list[int]) -> RawRun | None: ...

    def coarsest_timeframe(self, settings: EngineSettings) -> Timeframe: ...

    @property
    def stream_skip_reason(self) -> str: ...

    @property
    def declared_warmup(self) -> int | None: ...


def isolated(bars: BarSeries, start: int, stop: int) -> BarSeries:
    """Bars ``[start, stop)`` as fresh arrays: no view reaches the bars outside (a strategy
    taking ``.base`` of a column it was given finds only these)."""
    cols: dict[str, Any] = {
        name: np.array(getattr(bars, name)[start:stop], copy=True) for name in COLUMNS
    }
    return replace(bars, **cols, quality=None)


@dataclass
class StrategySubject:
    """One strategy of ``config`` in ``mode`` (python, hybrid or rust; a plugin is rust)."""

    config: BacktestConfig
    mode: str
    settings: EngineSettings

    @property
    def plugin(self) -> str | None:
        return self.config.strategy.plugin

    @property
    def description(self) -> str:
        name = self.plugin or self.config.strategy.name
        kind = "plugin" if self.plugin else "strategy"
        return f"{kind} {name} ({self.mode} mode)"

    def _params(self) -> dict:
        return dict(self.config.strategy.params)

    def _python_strategy(self) -> Strategy:
        return self.config.build_strategy()

    def run(self, bars: BarSeries, settings: EngineSettings, *, trace: bool) -> RawRun:
        if self.mode == "rust" and self.plugin is not None:
            from omega.engine.plugin import run_plugin

            return run_plugin(bars, self.plugin, self._params(), settings, trace=trace)
        if self.mode == "rust":
            from omega.engine.rust import run_rust

            return run_rust(bars, self.config.strategy.name, self._params(), settings, trace=trace)
        if self.mode == "hybrid":
            from omega.engine.hybrid import run_hybrid

            return run_hybrid(bars, self._python_strategy(), settings, trace=trace)
        from omega.engine.loop import run_python

        return run_python(bars, self._python_strategy(), settings, trace=trace)

    def _declarations(self, settings: EngineSettings) -> tuple[list[IndicatorRequest], list] | None:
        """The declared indicators (and timeframes read) of the Python strategy, or of the
        Python twin registered under a built-in Rust strategy's name; None for a plugin."""
        from omega.engine.market import init_strategy
        from omega.strategy import get_strategy

        if self.plugin is not None:
            return None
        try:
            strategy = self._python_strategy()
        except StrategyError:
            if self.mode != "rust":
                raise
            return None  # a Rust-only strategy: its declarations are not visible here
        if self.mode == "rust" and type(strategy) is not get_strategy(self.config.strategy.name):
            return None  # pragma: no cover - the registry builds the registered class
        ctx = init_strategy(strategy, settings)
        return list(ctx.declared), list(ctx.read_timeframes)

    def series(self, bars: BarSeries, settings: EngineSettings) -> dict[str, np.ndarray] | None:
        """Each declared indicator as the strategy reads it at the close of each primary bar
        (NaN before its timeframe's first close), keyed ``spec timeframe side``; None when
        the declarations are not known (plugins, Rust-only strategies)."""
        found = self._declarations(settings)
        if found is None:
            return None
        return read_series(bars, settings, *found, python=self.mode == "python")

    def coarsest_timeframe(self, settings: EngineSettings) -> Timeframe:
        """The coarsest timeframe of a run: configured, declared (where known) or read."""
        found = self._declarations(settings)
        wanted = [*settings.timeframes, settings.primary_timeframe]
        if found is not None:
            wanted += [r.timeframe for r in found[0]] + list(found[1])
        return max(wanted, key=lambda tf: tf.seconds)

    @property
    def stream_skip_reason(self) -> str:
        if self.mode == "rust":
            return ""
        return (
            f"a Python strategy ({self.mode} mode) has no streaming session "
            "(docs/user-guide/streaming.md, Limits)"
        )

    def stream(self, bars: BarSeries, chunks: list[int]) -> RawRun | None:
        """``bars`` fed to a `StreamSession` in the chunks ``[0, c1), [c1, c2), ...`` (the
        last chunk bar by bar), then finished; None where no session exists."""
        if self.mode != "rust":
            return None
        from omega.stream import StreamSession

        if self.plugin is not None:
            session = StreamSession(
                plugin=self.plugin,
                params=self._params(),
                settings=self.settings,
                base_timeframe=bars.timeframe,
                trace=True,
                source=bars.source,
            )
        else:
            session = StreamSession(
                self.config.strategy.name,
                self._params(),
                self.settings,
                base_timeframe=bars.timeframe,
                trace=True,
                source=bars.source,
            )
        bounds = [0, *chunks, len(bars)]
        for start, stop in pairwise(bounds[:-1]):
            session.push_bars(bars.slice(start, stop))
        last = bars.slice(bounds[-2], bounds[-1])
        # the last chunk one bar at a time, as a live feed would push it
        times = last.time.tolist()
        prices = np.column_stack([getattr(last, name) for name in COLUMNS[1:]]).tolist()
        for time, (bo, bh, bl, bc, ao, ah, al, ac, volume) in zip(times, prices, strict=True):
            session.push(time, (bo, bh, bl, bc), (ao, ah, al, ac), volume)
        return session.finish()

    @property
    def declared_warmup(self) -> int | None:
        """The Python strategy's ``warmup_bars`` (primary bars), if it declares one."""
        if self.mode == "rust":
            return None  # the Rust strategy API has no warm-up declaration
        value = getattr(self._python_strategy(), WARMUP_ATTRIBUTE, None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise StrategyError(
                f"strategy {self.config.strategy.name}: {WARMUP_ATTRIBUTE} must be an int >= 0, "
                f"got {value!r}"
            )
        return value


def read_series(
    bars: BarSeries,
    settings: EngineSettings,
    requests: list[IndicatorRequest],
    read: list,
    *,
    python: bool,
) -> dict[str, np.ndarray]:
    """The declared series ``requests`` (and timeframes ``read``) as a strategy reads them
    at each primary close, computed as its mode does (``python``: the Python indicators,
    else the Rust ones); keyed ``spec timeframe side``."""
    from omega.engine.market import SeriesSource, build_market
    from omega.indicators import IndicatorCache

    source: SeriesSource
    if python:
        source = IndicatorCache()
    else:
        from omega.engine.hybrid import RustIndicators

        source = RustIndicators()
    market = build_market(bars, settings, requests, source, read)
    out: dict[str, np.ndarray] = {}
    for request, (_values, visible, view) in zip(requests, market.handles, strict=True):
        key = f"{request.spec} {request.timeframe} {request.side}"
        if key in out:
            continue  # an equal declaration reads the same series
        if visible is None:
            out[key] = np.asarray(view, dtype=np.float64)
            continue
        index = np.asarray(visible, dtype=np.int64)
        column = np.asarray(view, dtype=np.float64)
        read_at = column[np.maximum(index, 0)] if len(column) else np.full(len(index), np.nan)
        out[key] = np.where(index >= 0, read_at, np.nan)
    return out


def subject_for(config: BacktestConfig, env: Mapping[str, str] | None = None) -> StrategySubject:
    """The subject of ``config`` in the mode `omega.run_backtest` would run it in (a mode
    that is unavailable without the core falls back to python, as there)."""
    from omega.runner import plugin_mode, probe_backend, select_mode

    env = os.environ if env is None else env
    backend = probe_backend()
    if config.strategy.plugin is not None:
        choice = plugin_mode(config.engine, backend, env)
    else:
        choice = select_mode(config.engine, config.strategy.name, backend, env)
    mode = "python" if choice.unavailable else choice.mode
    if mode not in ("python", "hybrid", "rust"):  # pragma: no cover - select_mode's contract
        raise ConfigError(f"bias check: unknown engine mode {mode!r}")
    return StrategySubject(config, mode, config.to_engine_settings())

"""Streaming: a strategy fed bars one at a time, as they close (a live feed, a replay).

`StreamSession` runs a Rust strategy (built in, or a plugin library) in the Rust engine bar
by bar. Each primary
bar is decided the moment it is known to be complete (its last possible base bar arrived,
or a later bar did), with the code that steps a backtest's bars, so a session fed a
backtest's bars and finished returns that backtest's result, bit for bit:

    session = StreamSession("mean_reversion_z_score", settings=settings)
    for bar in feed:                       # time (UTC ns), bid and ask OHLC, volume
        if session.push(bar.time, bar.bid, bar.ask, bar.volume):
            state = session.state          # position, orders waiting for the next open
    raw = session.finish()                 # an omega.engine.raw.RawRun
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from omega.data.bars import BarSeries
from omega.engine.raw import RawRun
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError
from omega.timeframes import Timeframe


class StreamSession:
    """A Rust strategy run bar by bar (see the module documentation).

    ``strategy`` names a built-in Rust strategy; with ``plugin`` (the path of a strategy
    plugin library, as `strategy.plugin` in a config) the plugin's strategy runs instead and
    checks ``params`` itself. ``settings`` defaults to `EngineSettings()`;
    ``base_timeframe`` is the timeframe of the bars pushed (M1 by default). Parameters are
    checked as in a backtest. Bad bars (not finite, not later than the previous one) raise
    `omega.errors.DataError` naming the bar's index and field, and leave the session as it
    was.
    """

    def __init__(
        self,
        strategy: str | None = None,
        params: Mapping[str, Any] | None = None,
        settings: EngineSettings | None = None,
        *,
        plugin: str | os.PathLike[str] | None = None,
        base_timeframe: Timeframe | str = Timeframe.M1,
        trace: bool = False,
        source: str = "<stream>",
    ) -> None:
        from omega.engine.rust import _core, _normalised_params

        if (strategy is None) == (plugin is None):
            raise ConfigError("StreamSession needs a strategy name or a plugin, not both")
        if strategy is not None:
            checked = _normalised_params(strategy, params)
        else:
            checked = dict(params or {})  # a plugin validates its parameters itself
        self.strategy = strategy or str(plugin)
        self.settings = settings if settings is not None else EngineSettings()
        self._session = _core().StreamSession(
            Timeframe.parse(base_timeframe).name,
            self.settings,
            strategy or "",
            checked,
            trace,
            source,
            os.fspath(plugin) if plugin is not None else None,
        )

    def push(
        self,
        time: int,
        bid: Sequence[float],
        ask: Sequence[float],
        volume: float = 0.0,
    ) -> int:
        """Feeds one closed base bar: open time in UTC ns, bid and ask ``(open, high, low,
        close)``, volume. Returns how many primary bars closed and were decided."""
        return int(self._session.push(int(time), *bid, *ask, float(volume)))

    def push_bars(self, bars: BarSeries) -> int:
        """Feeds every bar of ``bars`` in order (one call into the core)."""
        from omega.engine.rust import bar_columns

        return int(self._session.push_columns(bar_columns(bars)))

    @property
    def state(self) -> dict[str, Any]:
        """After the last primary close: ``bars_stepped``, ``balance``, ``equity``,
        ``n_trades``, ``position`` (a dict or None) and the orders waiting for the next
        open (``pending_entry``: "long", "short" or None; ``pending_exit``)."""
        return dict(self._session.state())

    def finish(self) -> RawRun:
        """Ends the stream (an open position closes at the last close, as at the end of a
        backtest) and returns the run; the session accepts no more bars."""
        from omega.engine.rust import raw_run_from_core

        return raw_run_from_core(self._session.finish())


class BasketStreamSession:
    """A basket (several instruments, one account) run bar by bar: each instrument's base
    bars pushed as they close, in time order across the basket (equal times in any order).
    A basket time is decided once a bar of any instrument at or after its end arrives (or at
    ``finish``): until then another instrument's bar for it may still come. Fed a basket's
    bars and finished, it returns that basket's run, bit for bit (docs/engine/portfolio.md).

    ``members`` are ``(strategy, params, settings)`` per instrument (a built-in Rust
    strategy by name; with ``plugin``, the plugin's strategy and ``strategy`` is ignored).
    With ``portfolio`` (a built-in Rust portfolio strategy's ``(name, params)``, such as
    ``("pairs_zscore", {...})``) that one strategy runs the whole basket and the members'
    strategies are ignored; with both, ``plugin`` is a portfolio plugin
    (``export_portfolio_strategy!``) run with ``portfolio``'s params (its name is unused).
    `BasketStreamSession.from_config` builds them from a basket config.
    """

    def __init__(
        self,
        members: Sequence[tuple[str | None, Mapping[str, Any] | None, EngineSettings]],
        *,
        plugin: str | os.PathLike[str] | None = None,
        portfolio: tuple[str, Mapping[str, Any] | None] | None = None,
        base_timeframe: Timeframe | str = Timeframe.M1,
        trace: bool = False,
    ) -> None:
        from omega.engine.rust import _core, _normalised_params, rust_portfolio_params

        if not members:
            raise ConfigError("BasketStreamSession needs at least one member")
        base = Timeframe.parse(base_timeframe).name
        rows = []
        for strategy, params, settings in members:
            if plugin is None and portfolio is None:
                if strategy is None:
                    raise ConfigError("BasketStreamSession: a member needs a strategy name")
                checked = _normalised_params(strategy, params)
            else:
                checked = dict(params or {})
            rows.append((base, settings, strategy or "", checked))
        self.symbols = [settings.instrument.symbol for _, _, settings in members]
        whole = None
        if portfolio is not None:
            name, params = portfolio
            if plugin is not None:  # a portfolio plugin validates its parameters itself
                whole = (name, dict(params or {}))
            else:
                whole = (name, rust_portfolio_params(name, params))
        self._session = _core().BasketStreamSession(
            rows, trace, os.fspath(plugin) if plugin is not None else None, whole
        )

    @classmethod
    def from_config(
        cls, config: Any, bars: Mapping[str, BarSeries] | None = None
    ) -> BasketStreamSession:
        """The session of a basket config (Rust strategies, a plugin, a Rust portfolio
        strategy or a portfolio plugin). ``bars`` (by symbol) are needed only when a cross
        converts through the basket's own pair."""
        from omega.basket import (
            is_portfolio_name,
            is_portfolio_plugin,
            member_settings,
            refuse_member_params,
        )
        from omega.config.basket import member_configs

        members = member_configs(config)
        settings = member_settings(config, bars)
        portfolio = None
        plugin = config.strategy.plugin
        if plugin is None and is_portfolio_name(config.strategy.name):
            portfolio = (config.strategy.name, dict(config.strategy.params))
        elif plugin is not None and is_portfolio_plugin(plugin):
            refuse_member_params(config, "the plugin's portfolio strategy")
            portfolio = (config.strategy.name, dict(config.strategy.params))
        return cls(
            [
                (m.strategy.name, dict(m.strategy.params), s)
                for m, s in zip(members, settings, strict=True)
            ],
            plugin=config.strategy.plugin,
            portfolio=portfolio,
        )

    def _index(self, symbol: str | int) -> int:
        if isinstance(symbol, int):
            return symbol
        try:
            return self.symbols.index(symbol)
        except ValueError:
            raise ConfigError(f"{symbol!r} is not in the basket {self.symbols}") from None

    def push(
        self,
        symbol: str | int,
        time: int,
        bid: Sequence[float],
        ask: Sequence[float],
        volume: float = 0.0,
    ) -> int:
        """Feeds one closed base bar of ``symbol``; returns how many basket times were
        decided."""
        k = self._index(symbol)
        return int(self._session.push(k, int(time), *bid, *ask, float(volume)))

    def push_bars(self, bars: Mapping[str, BarSeries]) -> int:
        """Feeds every bar of every instrument (by symbol), merged in time order (one call
        into the core): a replay."""
        from omega.engine.rust import bar_columns

        missing = [s for s in self.symbols if s not in bars]
        if missing:
            raise ConfigError(f"push_bars: no bars for {missing}")
        return int(self._session.push_merged([bar_columns(bars[s]) for s in self.symbols]))

    @property
    def times_stepped(self) -> int:
        return int(self._session.times_stepped())

    def finish(self) -> Any:
        """Ends the stream and returns the basket's run (an `omega.engine.basket.BasketRaw`)."""
        from omega.engine.basket import _basket_from_core
        from omega.engine.rust import raw_run_from_core

        return _basket_from_core(self._session.finish(), raw_run_from_core)

"""`run_basket`: a backtest of several instruments on one account (an ``instruments:``
config), in any engine mode; `BasketResult`: the account's result and each instrument's.

Contract: docs/engine/portfolio.md. The mode is chosen as for one instrument (the
strategy's, `omega.runner.select_mode`); every mode gives the same trades.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.config import BacktestConfig
from omega.config.basket import conversion_pair, member_configs
from omega.data.bars import BarSeries
from omega.engine.basket import BasketRaw
from omega.engine.raw import RawRun
from omega.engine.settings import CrossSettings, EngineSettings
from omega.errors import ConfigError
from omega.results import BacktestResult
from omega.runner import (
    Backend,
    ProgressCallback,
    _check_timeframes,
    plugin_mode,
    probe_backend,
    select_mode,
)

if TYPE_CHECKING:
    import pandas as pd

    from omega.results.result import TableFormat


def load_basket_bars(config: BacktestConfig) -> dict[str, BarSeries]:
    """Each member's base bars by symbol: its file, or the basket's correlated synthetic
    bars (``data.synthetic``'s seed and length)."""
    from omega.runner import load_bars

    members = member_configs(config)
    instruments = [member.instrument.to_instrument() for member in members]
    if config.instruments and config.instruments[0].path is None:
        from omega.data.synthetic import generate_basket

        synthetic = config.data.synthetic_or_default
        return generate_basket(
            [inst.symbol for inst in instruments],
            n_bars=synthetic.n_bars,
            seed=synthetic.seed,
            instruments={inst.symbol: inst for inst in instruments},
        )
    return {inst.symbol: load_bars(m) for inst, m in zip(instruments, members, strict=True)}


def member_settings(
    config: BacktestConfig, bars: Mapping[str, BarSeries] | None
) -> list[EngineSettings]:
    """Each member's engine settings, its instrument id its place in the list; a cross
    without its own conversion converts through the basket's pair of its quote currency and
    the account currency (that pair's bid closes, as for a conversion file; ``bars`` by
    symbol are needed then)."""
    out = []
    members = member_configs(config)
    symbols = [member.instrument.to_instrument().symbol for member in members]
    for k, member in enumerate(members):
        settings = dataclasses.replace(member.to_engine_settings(), instrument_id=k)
        instrument = settings.instrument
        currency = settings.account_currency
        cross = currency not in (instrument.base_currency, instrument.quote_currency)
        if cross and settings.cross is None:
            pair = conversion_pair(symbols, instrument.quote_currency, currency)
            if pair is None:  # check_basket refuses such a config
                raise ConfigError(f"instruments[{k}] ({instrument.symbol}): no conversion")
            if bars is None:
                raise ConfigError(
                    f"instruments[{k}] ({instrument.symbol}) converts through the basket's "
                    f"{pair}: give the basket's bars"
                )
            leg = bars[pair]
            settings = dataclasses.replace(
                settings,
                cross=CrossSettings(
                    pair,
                    pair == instrument.quote_currency + currency,
                    times=np.ascontiguousarray(leg.time, dtype=np.int64),
                    closes=np.ascontiguousarray(leg.bid_close, dtype=np.float64),
                    member=symbols.index(pair),
                ),
            )
        out.append(settings)
    return out


def run_basket(
    config: BacktestConfig,
    *,
    bars: Mapping[str, BarSeries] | None = None,
    progress: ProgressCallback | None = None,
    env: Mapping[str, str] | None = None,
    backend: Backend | None = None,
) -> BasketResult:
    """Run the basket ``config`` (on ``bars`` by symbol when given)."""
    if config.instruments is None:
        raise ConfigError("run_basket needs a config with an instruments: list")
    env = os.environ if env is None else env
    backend = backend or probe_backend()
    if config.strategy.plugin is None:
        choice = select_mode(config.engine, config.strategy.name, backend, env)
    else:
        choice = plugin_mode(config.engine, backend, env)
    if choice.unavailable is not None:
        raise ConfigError(f"engine: {choice.mode} unavailable: {choice.unavailable}")
    members = member_configs(config)
    if bars is None:
        bars = load_basket_bars(config)
    symbols = [member.instrument.to_instrument().symbol for member in members]
    missing = [s for s in symbols if s not in bars]
    if missing:
        raise ConfigError(
            f"run_basket: bars has no series for {', '.join(missing)} "
            f"(the instruments: list names {', '.join(symbols)})"
        )
    series = [bars[symbol] for symbol in symbols]
    settings = member_settings(config, bars)
    for one, s in zip(series, settings, strict=True):
        _check_timeframes(one, s)
    raw = _run_mode(choice.mode, config, members, series, settings, progress)
    return BasketResult(
        raw=raw,
        config=config,
        members=members,
        bars=series,
        settings=settings,
        mode=choice.mode,
        mode_reason=choice.reason,
    )


def _run_mode(
    mode: str,
    config: BacktestConfig,
    members: list[BacktestConfig],
    series: list[BarSeries],
    settings: list[EngineSettings],
    progress: ProgressCallback | None,
) -> BasketRaw:
    from omega.engine import basket

    trace = config.trace
    if config.strategy.plugin is not None and is_portfolio_plugin(config.strategy.plugin):
        refuse_member_params(config, "the plugin's portfolio strategy")
        return basket.run_basket_portfolio_plugin(
            config.strategy.plugin,
            [(bars, s) for bars, s in zip(series, settings, strict=True)],
            dict(config.strategy.params),
            trace=trace,
        )
    if config.strategy.plugin is not None:
        return basket.run_basket_plugin(
            config.strategy.plugin,
            [
                (bars, dict(m.strategy.params), s)
                for bars, m, s in zip(series, members, settings, strict=True)
            ],
            trace=trace,
        )
    if mode == "rust" and is_portfolio_name(config.strategy.name):
        return basket.run_basket_rust_portfolio(
            [(bars, s) for bars, s in zip(series, settings, strict=True)],
            config.strategy.name,
            dict(config.strategy.params),
            trace=trace,
        )
    if mode == "rust":
        return basket.run_basket_rust(
            [
                (bars, m.strategy.name, dict(m.strategy.params), s)
                for bars, m, s in zip(series, members, settings, strict=True)
            ],
            trace=trace,
        )
    runs = [
        (bars, strategy, s)
        for bars, strategy, s in zip(
            series, _strategies(config, members, settings), settings, strict=True
        )
    ]
    if mode == "hybrid":
        return basket.run_basket_hybrid(runs, trace=trace)
    return basket.run_basket_python(runs, trace=trace, progress=progress)


def is_portfolio_name(name: str) -> bool:
    """Whether ``name`` is a portfolio strategy (one strategy over the whole basket)."""
    from omega.strategy import get_strategy
    from omega.strategy.portfolio import is_portfolio_strategy

    return is_portfolio_strategy(get_strategy(name))


def is_portfolio_plugin(path: str | os.PathLike[str]) -> bool:
    """Whether the plugin library at ``path`` exports a portfolio strategy (one strategy over
    the basket, ``export_portfolio_strategy!``) rather than a per-instrument one."""
    from omega.engine.plugin import plugin_kind

    return plugin_kind(path) == "portfolio"


def refuse_member_params(config: BacktestConfig, what: str) -> None:
    """A portfolio strategy takes the basket's ``strategy.params`` only."""
    for k, entry in enumerate(config.instruments or ()):
        if entry.params:
            raise ConfigError(
                f"instruments[{k}].params: {what} is a portfolio strategy (one strategy for "
                "the basket): give its parameters in strategy.params"
            )


def _strategies(
    config: BacktestConfig, members: list[BacktestConfig], settings: list[EngineSettings]
) -> list[Any]:
    """Each member's Python strategy: its own instance, or the members of one portfolio
    strategy over the basket."""
    from omega.strategy import get_strategy
    from omega.strategy.portfolio import is_portfolio_strategy, portfolio_members

    cls = get_strategy(config.strategy.name)
    if not is_portfolio_strategy(cls):
        return [member.build_strategy() for member in members]
    first = settings[0]
    return portfolio_members(
        cls(config.strategy_params()),
        [s.instrument for s in settings],
        first.primary_timeframe,
        tuple(first.timeframes),
    )


@dataclass(frozen=True)
class BasketResult:
    """A basket's result: the account (`account`: equity on the basket's timeline, every
    trade, its stats) and each instrument's (`instruments[symbol]`: its trades, its P&L
    curve on the account's initial balance, its stats)."""

    raw: BasketRaw
    config: BacktestConfig
    members: list[BacktestConfig]
    bars: list[BarSeries]
    settings: list[EngineSettings]
    mode: str
    mode_reason: str

    @property
    def symbols(self) -> list[str]:
        return [s.instrument.symbol for s in self.settings]

    @property
    def initial_balance(self) -> float:
        return self.settings[0].initial_balance

    @property
    def final_balance(self) -> float:
        return self.raw.final_balance

    @cached_property
    def instruments(self) -> dict[str, BacktestResult]:
        """Each instrument's result; its equity is the account's initial balance plus the
        instrument's closed trades' P&L and its open position's P&L at each close."""
        out = {}
        for raw, member, bars, settings in zip(
            self.raw.members, self.members, self.bars, self.settings, strict=True
        ):
            curve = _member_curve(raw, settings.initial_balance)
            run = dataclasses.replace(
                raw, equity=curve, final_balance=float(curve[-1]), metrics=None
            )
            out[settings.instrument.symbol] = BacktestResult.from_raw(
                run,
                initial_balance=settings.initial_balance,
                timeframe_ns=settings.primary_timeframe.nanos,
                mode=self.mode,
                mode_reason=self.mode_reason,
                config=member,
                quality=bars.quality,
                bars=bars,
            )
        return out

    @cached_property
    def account(self) -> BacktestResult:
        """The account: its equity on the basket's timeline and every instrument's trades
        (in exit-time order), with the stats of one backtest."""
        trades = _merged_trades(self.raw.members)
        first = self.settings[0]
        run = RawRun(
            trades=trades,
            equity_time=self.raw.time,
            equity=self.raw.equity,
            final_balance=self.raw.final_balance,
            bars_processed=len(self.raw.time),
            base_bars=sum(raw.base_bars for raw in self.raw.members),
            ignored_signals=sum(raw.ignored_signals for raw in self.raw.members),
            dropped_orders=sum(raw.dropped_orders for raw in self.raw.members),
            skipped_orders=sorted(
                (s for raw in self.raw.members for s in raw.skipped_orders), key=lambda s: s.time
            ),
        )
        from omega.results.metrics import compute_metrics

        metrics = compute_metrics(run, first.initial_balance, first.primary_timeframe.nanos)
        # the account is exposed at a close where any instrument holds a position (the sum
        # of the instruments' bars held would count overlapping positions twice)
        metrics["exposure"] = _account_exposure(self.raw)
        run = dataclasses.replace(run, metrics=metrics)
        return BacktestResult.from_raw(
            run,
            initial_balance=first.initial_balance,
            timeframe_ns=first.primary_timeframe.nanos,
            mode=self.mode,
            mode_reason=self.mode_reason,
            config=self.members[0],
        )

    @cached_property
    def trade_symbols(self) -> np.ndarray:
        """The symbol of each row of ``account``'s trades (exit-time order)."""
        symbols = np.concatenate(
            [
                np.full(len(raw.trades["exit_time"]), symbol, dtype=object)
                for symbol, raw in zip(self.symbols, self.raw.members, strict=True)
            ]
        )
        return symbols[_exit_order(self.raw.members)]

    @property
    def trades(self) -> pd.DataFrame:
        """Every trade with its ``symbol``, in exit-time order."""
        import pandas as pd

        frames = []
        for symbol, result in self.instruments.items():
            frame = result.trades.copy()
            frame.insert(0, "symbol", symbol)
            frames.append(frame)
        merged = pd.concat(frames, ignore_index=True)
        return merged.sort_values("exit_time", kind="stable", ignore_index=True)

    @property
    def equity(self) -> pd.Series:
        """The account's equity at each close of the basket's timeline."""
        return self.account.equity

    @property
    def stats(self) -> pd.DataFrame:
        """One column of stats for the account, one per instrument."""
        import pandas as pd

        columns = {"account": self.account.stats}
        for symbol, result in self.instruments.items():
            columns[symbol] = result.stats
        return pd.DataFrame(columns)

    def correlation(self, rule: str = "1D") -> pd.DataFrame:
        """Correlation of the instruments' returns: each instrument's P&L curve sampled at
        the last close of each ``rule`` period, as returns on the account's initial
        balance."""
        import pandas as pd

        curves = {symbol: r.equity.resample(rule).last() for symbol, r in self.instruments.items()}
        frame = pd.DataFrame(curves).ffill()
        return frame.diff().div(self.initial_balance).corr()

    def instrument_curve(self, symbol: str) -> np.ndarray:
        """``symbol``'s curve (`instruments[symbol].equity`) at each of the account's close
        times: its last value at or before each, the initial balance before its first bar."""
        result = self.instruments[symbol]
        close_ns = self.account.equity_close_ns
        at = np.searchsorted(result.equity_close_ns, close_ns, side="right") - 1
        values = result.equity_values[np.clip(at, 0, None)]
        return np.where(at >= 0, values, self.initial_balance)

    @property
    def instrument_equity(self) -> pd.DataFrame:
        """Each instrument's curve on the account's timeline, one column per symbol."""
        import pandas as pd

        columns = {symbol: self.instrument_curve(symbol) for symbol in self.symbols}
        return pd.DataFrame(columns, index=self.equity.index)

    @property
    def warnings(self) -> list[str]:
        """The loading warnings of each instrument's bars, prefixed with its symbol."""
        return [
            f"{s}: {w}"
            for s, bars in zip(self.symbols, self.bars, strict=True)
            for w in bars.warnings
        ]

    def save(
        self, directory: str | Path, *, report: bool = True, table_format: TableFormat = "csv"
    ) -> dict[str, Path]:
        """Write the basket's files into ``directory`` as one set (see
        `omega.results.basket_files.save_basket`); returns them by name."""
        from omega.results.basket_files import save_basket

        return save_basket(self, directory, report=report, table_format=table_format)

    def plot(self, path: str | Path | None = None, *, open_browser: bool = True) -> Path:
        """Write the basket's report (one offline HTML file) and open it in a browser."""
        from omega.report.basket import write_basket_report

        if path is None:
            import tempfile

            path = Path(tempfile.mkdtemp(prefix="omega-report-")) / "report.html"
        written = write_basket_report(self, Path(path))
        if open_browser:
            import webbrowser

            webbrowser.open(written.resolve().as_uri())
        return written

    def trades_equal(self, other: BasketResult) -> bool:
        """Whether every instrument's trades equal ``other``'s, column for column."""
        from omega.engine.raw import TRADE_COLUMNS

        for mine, theirs in zip(self.raw.members, other.raw.members, strict=True):
            for name, dtype in TRADE_COLUMNS.items():
                a, b = mine.trades[name], theirs.trades[name]
                if len(a) != len(b):
                    return False
                if dtype == "object":
                    if list(a) != list(b):
                        return False
                elif not np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True):
                    return False
        return True

    def __repr__(self) -> str:
        return (
            f"BasketResult: {self.config.strategy.name} on {', '.join(self.symbols)} "
            f"({self.mode}), final equity {self.final_balance:,.2f}"
        )


def _account_exposure(raw: BasketRaw) -> float:
    """The share of the basket's closes at which any instrument held a position: each
    position is open at the closes of its bars ``entry_index .. entry_index + bars_held``
    (the closes ``bars_held`` counts), mapped to the basket's timeline."""
    n = len(raw.time)
    if n == 0:
        return float("nan")
    held = np.zeros(n, dtype=bool)
    for member in raw.members:
        trades = member.trades
        closing = np.asarray(trades["exit_reason"], dtype=object) != "partial"
        starts = np.asarray(trades["entry_index"], dtype=np.int64)[closing]
        counts = np.asarray(trades["bars_held"], dtype=np.int64)[closing]
        times = np.asarray(member.equity_time, dtype=np.int64)
        for start, count in zip(starts, counts, strict=True):
            if count > 0:
                span = times[start : start + count]
                held[np.searchsorted(raw.time, span)] = True
    return float(held.sum()) / n


def _member_curve(raw: RawRun, initial_balance: float) -> np.ndarray:
    """An instrument's curve: the initial balance, plus its trades' P&L from the close of
    the bar they exit in, plus its open position's P&L (the member's recorded points)."""
    n = len(raw.equity)
    realized = np.zeros(n)
    exit_index = np.asarray(raw.trades["exit_index"], dtype=np.int64)
    np.add.at(realized, np.clip(exit_index, 0, n - 1), np.asarray(raw.trades["pnl"]))
    return initial_balance + np.cumsum(realized) + np.asarray(raw.equity, dtype=np.float64)


def _exit_order(members: list[RawRun]) -> np.ndarray:
    """The order of the members' trades, concatenated, by exit time (ties: basket order)."""
    return np.argsort(
        np.concatenate([np.asarray(m.trades["exit_time"], dtype=np.int64) for m in members]),
        kind="stable",
    )


def _merged_trades(members: list[RawRun]) -> dict[str, np.ndarray]:
    from omega.engine.raw import TRADE_COLUMNS

    order = _exit_order(members)
    out = {}
    for name in TRADE_COLUMNS:
        column = np.concatenate([np.asarray(m.trades[name]) for m in members])
        out[name] = column[order]
    return out


def run_basket_sweep(
    config: BacktestConfig,
    param_sets: Sequence[Mapping[str, Any]],
    *,
    bars: Mapping[str, BarSeries] | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """The basket ``config`` once per parameter set (each over ``strategy.params``; the
    instruments' own overrides still apply on top): one row per set, the parameters, the
    account's metrics (`omega.results.compute_metrics`, as ``run_basket(...).account``
    has them) and ``error`` (the message of a set that failed, else missing).

    The bars are loaded once. Sets run on ``threads`` threads (default: every core): a
    rust-mode basket releases the GIL for its whole run, so they run in parallel."""

    from omega.errors import OmegaError

    if bars is None:
        bars = load_basket_bars(config)
    sets = [dict(p) for p in param_sets]
    base = config.user_dict()

    def one(params: dict[str, Any]) -> dict[str, Any] | BaseException:
        data = {**base, "strategy": {**base.get("strategy", {})}}
        data["strategy"]["params"] = {**config.strategy.params, **params}
        try:
            return dict(run_basket(BacktestConfig.from_dict(data), bars=bars).account.metrics)
        except (OmegaError, ValueError) as error:  # a bad set fails alone
            return error

    workers = max(1, threads or os.cpu_count() or 1)
    outcomes: list[dict[str, Any] | BaseException] = []
    if workers == 1 or len(sets) < 2:
        for done, params in enumerate(sets, start=1):
            outcomes.append(one(params))
            if progress is not None:
                progress(done, len(sets))
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            for done, outcome in enumerate(pool.map(one, sets), start=1):
                outcomes.append(outcome)
                if progress is not None:
                    progress(done, len(sets))
    from omega.sweep import _table

    return _table(sets, outcomes)

"""Walk-forward analysis: optimise in-sample, trade the chosen parameters out-of-sample, roll on.

    from omega.research import walk_forward
    wf = walk_forward(bars, "mean_reversion_z_score",
                      parameter_grid({"lookback": [100, 200], "z_entry": [2.5, 3.5]}),
                      settings, train="6M", test="1M")
    wf.folds        # per fold: windows, chosen parameters, in- and out-of-sample figures
    wf.equity       # the stitched out-of-sample equity; wf.trades: its trades
    wf.efficiency   # walk-forward efficiency

Windows are rolling (the training window slides by ``step``, default ``test``) or anchored
(training always starts at the first bar and grows). Spans are times (``"6M"`` months, ``"2W"``,
``"10D"``, ``"12H"``, ``"30min"``, ``"1Y"``), measured from the first bar's open time on the
calendar, or bar counts (an int, or ``"5000bars"``). Only complete test windows are used.

Each fold runs one sweep of every parameter set on its training bars (`evaluate_sets`:
`omega.research.backends.evaluate`, one `omega.sweep.run_sweep` call locally), picks the set
with the best objective, and backtests that set alone on the test bars (a Rust run on a
thread while the next fold's sweep runs, see `_OutOfSample`). Every window is an independent
backtest: it starts flat, with the initial balance, and its indicators warm up inside the
window. The out-of-sample equity is stitched by compounding: each fold's curve is scaled to
start where the previous one ended.

A basket (``strategy`` a `omega.research.backends.Basket`, ``bars`` its bars by symbol): the
windows are positions on the basket's timeline (every instrument's open times, merged); each
instrument's bars are cut to a window's times (a bar belongs to the window its open time
falls in), the in-sample sweep is `omega.basket.run_basket_sweep` on the cut bars, the
out-of-sample run `omega.basket.run_basket` with the chosen set, and the figures, trades
(with their ``symbol``) and stitched equity are the account's. A fold in which an instrument
has no bar is skipped.

Walk-forward efficiency (R. Pardo, *The Evaluation and Optimization of Trading Strategies*,
2008, ch. 11): the annualised out-of-sample return over the annualised in-sample return of the
chosen set, ``(return_pct / span_days)`` on each side; per fold, and over all folds as the
ratio of the summed returns per summed days. It is NaN where the in-sample rate is not
positive (a ratio to a loss says nothing).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from omega.basket import BasketResult
    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings
    from omega.research.backends import Basket, Strategy
    from omega.results import BacktestResult

Objective = str | Callable[["pd.DataFrame"], Any]
Progress = Callable[[int, int], None]
_SPAN = re.compile(r"^\s*(\d+)\s*(bars?|min|h|d|w|m|y)\s*$", re.IGNORECASE)
_NS_PER_DAY = 86_400 * 10**9


# ----------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class Span:
    """A window length: ``bars`` bars, or a calendar offset (``unit`` in min/h/d/w/m/y)."""

    count: int
    unit: str  # "bars" or a time unit

    @property
    def is_bars(self) -> bool:
        return self.unit == "bars"

    def offset(self, times: int) -> Any:
        """The pandas offset of ``times`` of this span (months and years on the calendar)."""
        import pandas as pd

        n = self.count * times
        if self.unit == "m":
            return pd.DateOffset(months=n)
        if self.unit == "y":
            return pd.DateOffset(years=n)
        unit = {"min": "min", "h": "h", "d": "D", "w": "W"}[self.unit]
        return pd.Timedelta(n, unit=unit)


def parse_span(value: int | str | Span, name: str = "span") -> Span:
    """``6M``, ``2W``, ``10D``, ``12H``, ``30min``, ``1Y``, ``5000bars`` or an int of bars."""
    if isinstance(value, Span):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        count, unit = value, "bars"
    else:
        match = _SPAN.match(str(value))
        if match is None:
            raise ConfigError(
                f"{name} {value!r}: expected a count and a unit (6M, 2W, 10D, 12H, 30min, 1Y, "
                "5000bars) or a number of bars"
            )
        count = int(match.group(1))
        unit = match.group(2)
        unit = "bars" if unit.lower().startswith("bar") else unit
        unit = unit if unit in ("M", "bars") else unit.lower()
        unit = "m" if unit == "M" else unit
    if count < 1:
        raise ConfigError(f"{name} must be at least 1, got {value!r}")
    return Span(count, unit)


@dataclass(frozen=True)
class Window:
    """One fold's bar positions: training ``[train_start, train_stop)``, test
    ``[test_start, test_stop)`` (``test_start == train_stop``)."""

    train_start: int
    train_stop: int
    test_start: int
    test_stop: int


def walk_forward_windows(
    times_ns: np.ndarray,
    train: int | str | Span,
    test: int | str | Span,
    *,
    step: int | str | Span | None = None,
    anchored: bool = False,
    bar_ns: int = 60 * 10**9,
) -> list[Window]:
    """The folds over bars opening at ``times_ns`` (sorted UTC ns; ``bar_ns`` their length).

    ``train``, ``test`` and ``step`` (default ``test``) are all bar counts or all times. Fold
    ``i``'s test window starts ``i * step`` after the end of the first training window; its
    training window ends there and starts ``i * step`` after the first bar (rolling) or at the
    first bar (anchored). Folds whose training or test window holds no bar are skipped; the
    last fold is the last complete test window.
    """
    train_span, test_span = parse_span(train, "train"), parse_span(test, "test")
    step_span = parse_span(step, "step") if step is not None else test_span
    kinds = {train_span.is_bars, test_span.is_bars, step_span.is_bars}
    if len(kinds) > 1:
        raise ConfigError("train, test and step must all be bar counts or all be times")
    times = np.asarray(times_ns, dtype=np.int64)
    n = len(times)
    windows: list[Window] = []
    if n == 0:
        return windows
    if train_span.is_bars:
        room = n - train_span.count - test_span.count  # bars left after the first fold
        for i in range(room // step_span.count + 1 if room >= 0 else 0):
            start = 0 if anchored else i * step_span.count
            split = train_span.count + i * step_span.count
            windows.append(Window(start, split, split, split + test_span.count))
        return windows
    return _time_windows(times, train_span, test_span, step_span, anchored, bar_ns)


def _time_windows(
    times: np.ndarray, train: Span, test: Span, step: Span, anchored: bool, bar_ns: int
) -> list[Window]:
    """`walk_forward_windows` of calendar spans: the window bounds in time, then their bar
    positions (one search for all)."""
    import pandas as pd

    first = pd.Timestamp(int(times[0]), unit="ns")
    first_split = first + train.offset(1)
    test_length = test.offset(1)
    end_of_data = int(times[-1]) + bar_ns
    bounds = []
    for i in itertools.count():  # forward in time until the test window passes the data
        shift = step.offset(i)
        split_t = first_split + shift
        stop_t = split_t + test_length
        if stop_t.value > end_of_data:
            break
        start_t = first if anchored else first + shift
        bounds.append((start_t.value, split_t.value, stop_t.value))
    positions = np.searchsorted(times, np.array(bounds, dtype=np.int64).reshape(-1, 3))
    return [
        Window(int(start), int(split), int(split), int(stop))
        for start, split, stop in positions
        if split > start and stop > split
    ]


# ----------------------------------------------------------------------------- shared helpers


def evaluate_sets(
    bars: BarSeries | Mapping[str, BarSeries],
    strategy: Strategy,
    sets: list[dict[str, Any]],
    settings: EngineSettings | None,
    *,
    backend: str = "auto",
    threads: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One row of metrics per set, `omega.sweep.run_sweep`'s rows, computed on ``backend``
    (`omega.research.backends.evaluate`: "auto", "local", "process" or "ray")."""
    from omega.research.backends import evaluate

    return evaluate(
        bars, strategy, sets, settings, backend=backend, threads=threads, progress=progress
    )


def scores(table: pd.DataFrame, objective: Objective) -> np.ndarray:
    """The objective of every row, larger is better (NaN for failed rows): a metric column,
    ``-metric`` to minimise it, or ``objective(table)`` (one number per row)."""
    if callable(objective):
        values = np.asarray(objective(table), dtype=np.float64)
        if values.shape != (len(table),):
            raise ConfigError(
                f"objective returned shape {values.shape}, expected one number per row "
                f"({len(table)})"
            )
        return values
    sign, name = (-1.0, objective[1:]) if objective.startswith("-") else (1.0, objective)
    if name not in table.columns:
        if "error" in table.columns and table["error"].notna().all():
            return np.full(len(table), np.nan)  # every set failed: no metric columns at all
        raise ConfigError(f"objective {objective!r}: not a metric (try sharpe, return_pct)")
    return sign * table[name].to_numpy(dtype=np.float64, na_value=np.nan)


def params_key(params: Mapping[str, Any]) -> str:
    """A hashable, order-independent key of a parameter set."""
    return json.dumps(params, sort_keys=True, default=str)


def run_single(
    bars: BarSeries, strategy: str, params: Mapping[str, Any], settings: EngineSettings
) -> BacktestResult:
    """One backtest of a registered strategy: in Rust when it has a Rust implementation (as
    the sweep ran it), else in the Python engine."""
    from omega.results import BacktestResult
    from omega.runner import probe_backend

    if strategy in probe_backend().rust_strategies:
        from omega.engine.rust import run_rust

        raw = run_rust(bars, strategy, dict(params), settings)
        mode = "rust"
    else:
        from omega.engine.loop import run_python
        from omega.strategy import get_strategy

        raw = run_python(bars, get_strategy(strategy)(dict(params)), settings)
        mode = "python"
    return BacktestResult.from_raw(
        raw,
        initial_balance=settings.initial_balance,
        timeframe_ns=settings.primary_timeframe.nanos,
        mode=mode,
        mode_reason="research: out-of-sample run",
        bars=bars,
    )


def stitch_equity(results: list[BacktestResult], initial: float) -> pd.Series:
    """The equity curves of consecutive runs chained by compounding: each curve scaled by
    (the previous curve's end / ``initial``), so the series reads as one account."""
    import pandas as pd

    from omega.results.result import utc_index

    values, times, level = [], [], float(initial)
    for result in results:
        scaled = result.equity_values * (level / initial)
        values.append(scaled)
        times.append(result.equity_close_ns)
        if len(scaled):
            level = float(scaled[-1])
    if not results:
        return pd.Series([], dtype=np.float64, name="equity")
    index = utc_index(np.concatenate(times), "time")
    return pd.Series(np.concatenate(values), index=index, name="equity")


def stitch_trades(results: list[BacktestResult]) -> pd.DataFrame:
    """The trades of consecutive runs as one table (one conversion to pandas), with the
    ``fold`` (position in ``results``) of each."""
    from omega.engine.raw import TRADE_COLUMNS
    from omega.results.result import trades_frame

    columns = {
        name: np.concatenate([np.asarray(r.raw.trades[name]) for r in results])
        for name in TRADE_COLUMNS
    }
    trades = trades_frame(columns)
    counts = [len(r.raw.trades["entry_time"]) for r in results]
    trades["fold"] = np.repeat(np.arange(len(results)), counts)
    return trades


def summary(curve: pd.Series, initial: float) -> dict[str, float]:
    """Return, max drawdown and Sharpe of a stitched curve (the formulas of
    `omega.results.metrics`, on its per-bar returns; the year fraction from its time span)."""
    values = curve.to_numpy(dtype=np.float64)
    if len(values) == 0:
        return {"return_pct": 0.0, "max_drawdown_pct": 0.0, "sharpe": math.nan, "n_bars": 0}
    marks = np.concatenate(([initial], values))
    peak = np.maximum.accumulate(marks)
    drawdown = float(np.max((peak - marks) / peak) * 100.0)
    returns = marks[1:] / marks[:-1] - 1.0
    times = curve.index.as_unit("ns").asi8  # an index may hold seconds or microseconds
    years = (int(times[-1]) - int(times[0])) / (365.25 * _NS_PER_DAY)
    sharpe = math.nan
    if len(returns) > 1 and years > 0:
        std = float(np.std(returns, ddof=1))
        if std > 0:
            sharpe = float(np.mean(returns)) / std * math.sqrt(len(returns) / years)
    return {
        "return_pct": (float(values[-1]) / initial - 1.0) * 100.0,
        "max_drawdown_pct": drawdown,
        "sharpe": sharpe,
        "n_bars": len(values),
    }


def _rate(return_pct: float, days: float) -> float:
    return return_pct / days * 365.25 if days > 0 else math.nan


def efficiency_ratio(oos_rate: float, is_rate: float) -> float:
    """OOS rate / IS rate; NaN unless the in-sample rate is positive and both are finite."""
    if not (math.isfinite(oos_rate) and math.isfinite(is_rate)) or is_rate <= 0:
        return math.nan
    return oos_rate / is_rate


# ----------------------------------------------------------------------------- walk-forward


@dataclass
class WalkForwardResult:
    """What `walk_forward` returns.

    ``folds``: one row per fold (window times and bars, ``param_*`` chosen, ``is_*`` and
    ``oos_*`` figures, ``efficiency``). ``sweeps``: every in-sample sweep row with its
    ``fold``. ``trades``: the out-of-sample trades with their ``fold`` (``entry_index`` and
    ``exit_index`` count bars from the start of the fold's test window). ``equity``: the
    stitched out-of-sample equity. ``efficiency``: the walk-forward efficiency over all folds.
    ``oos``: return, max drawdown and Sharpe of the stitched equity. ``timing``: seconds spent
    in the sweeps and in total. ``symbols``: a basket's instruments (None for one
    instrument); its trades then carry their ``symbol``, and its figures and equity are the
    account's.
    """

    folds: pd.DataFrame
    sweeps: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.Series
    efficiency: float
    oos: dict[str, float]
    objective: str
    strategy: str
    param_names: list[str]
    timing: dict[str, float] = field(default_factory=dict)
    symbols: list[str] | None = None


def walk_forward(
    bars: BarSeries | Mapping[str, BarSeries],
    strategy: str | Basket,
    param_sets: Iterable[Mapping[str, Any]],
    settings: EngineSettings | None = None,
    *,
    train: int | str | Span = "6M",
    test: int | str | Span = "1M",
    step: int | str | Span | None = None,
    anchored: bool = False,
    objective: Objective = "sharpe",
    backend: str = "auto",
    threads: int | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Walk-forward analysis of ``strategy`` over ``param_sets`` (see the module docstring).

    ``objective``: a metric of the sweep rows (maximised; ``"-max_drawdown_pct"`` minimises)
    or a function of the in-sample sweep table returning one score per row. A fold where no
    set has a finite objective raises ConfigError. ``progress(done, total)`` counts folds.
    A basket: ``strategy`` a `omega.research.backends.Basket`, ``bars`` by symbol
    (`omega.basket.load_basket_bars`), ``settings`` None.
    """
    started = time.perf_counter()
    sets = [dict(p) for p in param_sets]
    if not sets:
        raise ConfigError("walk_forward needs at least one parameter set")
    data = _data(bars, strategy, settings)
    windows = data.windows(train, test, step, anchored)
    if not windows:
        raise ConfigError(
            f"no complete walk-forward fold fits in {data.describe()} "
            f"(train {train!r}, test {test!r})"
        )
    names = sorted({name for params in sets for name in params})
    label = objective if isinstance(objective, str) else getattr(objective, "__name__", "custom")
    sweep_seconds = 0.0
    sweep_tables, sweep_scores, choices = [], [], []
    with _OutOfSample(data, threads) as out_of_sample:
        for fold, window in enumerate(windows):
            t0 = time.perf_counter()
            table = evaluate_sets(
                data.cut(window.train_start, window.train_stop),
                data.strategy,
                sets,
                data.settings,
                backend=backend,
                threads=threads,
            )
            sweep_seconds += time.perf_counter() - t0
            score = scores(table, objective)
            if not np.isfinite(score).any():
                raise ConfigError(
                    f"fold {fold}: no parameter set has a finite {label} in sample "
                    "(too few bars or trades in the training window?)"
                )
            choices.append(int(np.nanargmax(score)))
            sweep_tables.append(table)
            sweep_scores.append(score)
            out_of_sample.submit(window, sets[choices[-1]])
            if progress is not None:
                progress(fold + 1, len(windows))
        sweeps = _sweep_table(sweep_tables, sweep_scores)  # while the last runs finish
        runs = out_of_sample.results()
    accounts = [data.account(run) for run in runs]
    # The chosen row of each fold in the one table of all sweeps (read once, not per fold).
    chosen_rows = np.cumsum([0] + [len(t) for t in sweep_tables[:-1]]) + np.asarray(choices)
    folds = _fold_table(
        data, windows, names, [sets[b] for b in choices], sweeps, chosen_rows, accounts
    )
    trades = data.trades(runs)
    equity = stitch_equity(accounts, data.initial_balance)
    efficiency = efficiency_ratio(
        _rate(folds["oos_return_pct"].sum(), folds["oos_span_days"].sum()),
        _rate(folds["is_return_pct"].sum(), folds["is_span_days"].sum()),
    )
    return WalkForwardResult(
        folds=folds,
        sweeps=sweeps,
        trades=trades,
        equity=equity,
        efficiency=efficiency,
        oos={**summary(equity, data.initial_balance), "n_trades": len(trades)},
        objective=label,
        strategy=data.name,
        param_names=names,
        timing={"sweeps_s": sweep_seconds, "total_s": time.perf_counter() - started},
        symbols=data.symbols,
    )


# ----------------------------------------------------------------------------- the data


def _data(
    bars: BarSeries | Mapping[str, BarSeries],
    strategy: str | Basket,
    settings: EngineSettings | None,
) -> _Single | _BasketData:
    from omega.engine.settings import EngineSettings
    from omega.research.backends import Basket

    if isinstance(strategy, Basket):
        if settings is not None:
            raise ConfigError("a basket's settings are its config's: give settings=None")
        if not isinstance(bars, Mapping):
            raise ConfigError("a basket's bars go by symbol: {symbol: BarSeries}")
        return _BasketData(bars, strategy)
    if isinstance(bars, Mapping):
        raise ConfigError("bars by symbol are a basket's: give strategy=Basket(config)")
    settings = settings if settings is not None else EngineSettings(instrument=bars.instrument)
    return _Single(bars, strategy, settings)


class _Single:
    """One instrument's bars: windows are its bar positions; a run is one backtest."""

    symbols = None

    def __init__(self, bars: BarSeries, strategy: str, settings: EngineSettings) -> None:
        self.bars, self.strategy, self.settings = bars, strategy, settings
        self.name = strategy
        self.initial_balance = settings.initial_balance

    def describe(self) -> str:
        return f"{len(self.bars):,} bars"

    def windows(self, train: Any, test: Any, step: Any, anchored: bool) -> list[Window]:
        bars = self.bars
        return walk_forward_windows(
            bars.time, train, test, step=step, anchored=anchored, bar_ns=bars.timeframe.nanos
        )

    def cut(self, start: int, stop: int) -> BarSeries:
        return self.bars.slice(start, stop)

    def bounds(self, start: int, stop: int) -> tuple[int, int]:
        """Open time of the window's first bar and close time of its last."""
        return int(self.bars.time[start]), int(self.bars.time[stop - 1]) + self.bars.timeframe.nanos

    def overlaps(self) -> bool:
        """Whether a run releases the GIL (a Rust strategy): it may run beside a sweep."""
        from omega.runner import probe_backend

        return self.strategy in probe_backend().rust_strategies

    def run(self, start: int, stop: int, params: dict[str, Any]) -> BacktestResult:
        return run_single(self.cut(start, stop), self.strategy, params, self.settings)

    def account(self, run: BacktestResult) -> BacktestResult:
        return run

    def trades(self, runs: list[BacktestResult]) -> pd.DataFrame:
        return stitch_trades(runs)


class _BasketData:
    """A basket's bars by symbol: windows are positions on its timeline (every instrument's
    open times, merged), each bound moved back to the open of the primary bar it falls in;
    a window cuts each instrument's bars to its times; a run is one basket, its account the
    figures.

    Whole primary bars: a window starting inside one would begin with a bar resampled from
    part of it, a bar the whole data never has, so a fold would not trade as the same span
    does within a longer run."""

    settings = None

    def __init__(self, bars: Mapping[str, BarSeries], basket: Basket) -> None:
        missing = [s for s in basket.symbols if s not in bars]
        if missing:
            raise ConfigError(f"the basket's bars have no {', '.join(missing)}")
        self.strategy = basket
        self.bars = {symbol: bars[symbol] for symbol in basket.symbols}
        self.symbols = basket.symbols
        self.name = basket.config.strategy.name
        self.initial_balance = basket.config.account.initial_balance
        self.times = np.unique(np.concatenate([b.time for b in self.bars.values()]))
        from omega.timeframes import Timeframe

        self.primary_ns = Timeframe.parse(basket.config.timeframes.primary).nanos
        self._ends = {s: b.time.astype(np.int64) + b.timeframe.nanos for s, b in self.bars.items()}

    def describe(self) -> str:
        return f"the basket's {len(self.times):,} bar times"

    def _time(self, position: int) -> int:
        """The timeline's time at ``position``; past its end, later than every bar."""
        return int(self.times[position]) if position < len(self.times) else np.iinfo(np.int64).max

    def _positions(self, start: int, stop: int) -> dict[str, tuple[int, int]]:
        """Each instrument's bars whose open time is in the window ``[start, stop)``."""
        low, high = self._time(start), self._time(stop)
        return {
            symbol: (int(np.searchsorted(b.time, low)), int(np.searchsorted(b.time, high)))
            for symbol, b in self.bars.items()
        }

    def windows(self, train: Any, test: Any, step: Any, anchored: bool) -> list[Window]:
        last_close = max(int(ends[-1]) for ends in self._ends.values() if len(ends))
        candidates = walk_forward_windows(
            self.times,
            train,
            test,
            step=step,
            anchored=anchored,
            bar_ns=last_close - int(self.times[-1]) if len(self.times) else 60 * 10**9,
        )
        windows = []
        for w in candidates:
            start, split, stop = (
                self._whole(p) for p in (w.train_start, w.test_start, w.test_stop)
            )
            window = Window(start, split, split, stop)
            repeated = bool(windows) and windows[-1] == window  # a step inside a primary bar
            if split > start and stop > split and not repeated and self._filled(window):
                windows.append(window)
        return windows

    def _whole(self, position: int) -> int:
        """``position`` moved back to the first bar of the primary bar it falls in (the
        timeline's end stays)."""
        if position >= len(self.times):
            return position
        t = int(self.times[position])
        return int(np.searchsorted(self.times, t - t % self.primary_ns))

    def _filled(self, window: Window) -> bool:
        """Whether every instrument has bars in the window's training and test parts."""
        parts = (
            self._positions(window.train_start, window.train_stop),
            self._positions(window.test_start, window.test_stop),
        )
        return all(stop > start for part in parts for start, stop in part.values())

    def cut(self, start: int, stop: int) -> dict[str, BarSeries]:
        return {s: self.bars[s].slice(a, b) for s, (a, b) in self._positions(start, stop).items()}

    def bounds(self, start: int, stop: int) -> tuple[int, int]:
        """Open time of the window's first bar and the latest close of its bars."""
        ends = [
            int(self._ends[s][b - 1]) for s, (a, b) in self._positions(start, stop).items() if b > a
        ]
        return int(self.times[start]), max(ends)

    def overlaps(self) -> bool:
        return self.strategy.uses_rust()

    def run(self, start: int, stop: int, params: dict[str, Any]) -> BasketResult:
        from omega.basket import run_basket

        return run_basket(self.strategy.with_params(params), bars=self.cut(start, stop))

    def account(self, run: BasketResult) -> BacktestResult:
        return run.account

    def trades(self, runs: list[BasketResult]) -> pd.DataFrame:
        trades = stitch_trades([run.account for run in runs])
        symbols = [run.trade_symbols for run in runs]
        trades.insert(0, "symbol", np.concatenate(symbols) if symbols else [])
        return trades


def _sweep_table(tables: list[pd.DataFrame], fold_scores: list[np.ndarray]) -> pd.DataFrame:
    """Every fold's sweep rows in one table, with their ``fold`` and ``score``."""
    import pandas as pd

    sweeps = pd.concat(tables, ignore_index=True)
    sweeps["fold"] = np.repeat(np.arange(len(tables)), [len(t) for t in tables])
    sweeps["score"] = np.concatenate(fold_scores)
    return sweeps


def _fold_table(
    data: _Single | _BasketData,
    windows: list[Window],
    names: list[str],
    chosen: list[dict[str, Any]],
    sweeps: pd.DataFrame,
    rows: np.ndarray,
    runs: list[BacktestResult],
) -> pd.DataFrame:
    """One row per fold: its windows, the chosen parameters, their in-sample figures
    (``rows``: the chosen set's row of each fold in ``sweeps``), the out-of-sample figures of
    its run (a basket's: the account's) and its efficiency. Built column by column: a pandas
    lookup per fold cost more than all the arithmetic."""
    import pandas as pd

    train = np.array([data.bounds(w.train_start, w.train_stop) for w in windows], dtype=np.int64)
    test = np.array([data.bounds(w.test_start, w.test_stop) for w in windows], dtype=np.int64)
    train, test = train.reshape(-1, 2), test.reshape(-1, 2)
    is_return, is_days = _floats(sweeps, "return_pct", rows), _floats(sweeps, "span_days", rows)
    oos = {
        name: np.array([float(run.metrics[name]) for run in runs])
        for name in ("return_pct", "sharpe", "max_drawdown_pct", "span_days")
    }
    efficiency = [
        efficiency_ratio(_rate(oos_return, oos_days), _rate(is_r, is_d))
        for oos_return, oos_days, is_r, is_d in zip(
            oos["return_pct"], oos["span_days"], is_return, is_days, strict=True
        )
    ]
    return pd.DataFrame(
        {
            "fold": np.arange(len(windows)),
            "train_start": _utc_column(train[:, 0]),
            "train_end": _utc_column(train[:, 1]),
            "test_start": _utc_column(test[:, 0]),
            "test_end": _utc_column(test[:, 1]),
            "train_bars": np.array([w.train_stop - w.train_start for w in windows]),
            "test_bars": np.array([w.test_stop - w.test_start for w in windows]),
            **{f"param_{name}": [params.get(name) for params in chosen] for name in names},
            "is_score": sweeps["score"].to_numpy()[rows],
            "is_return_pct": is_return,
            "is_sharpe": _floats(sweeps, "sharpe", rows),
            "is_span_days": is_days,
            "oos_return_pct": oos["return_pct"],
            "oos_sharpe": oos["sharpe"],
            "oos_max_drawdown_pct": oos["max_drawdown_pct"],
            "oos_n_trades": np.array([int(run.metrics["n_trades"]) for run in runs]),
            "oos_span_days": oos["span_days"],
            "efficiency": efficiency,
        }
    )


def _floats(table: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray:
    return table[column].to_numpy(dtype=np.float64, na_value=np.nan)[rows]


def _utc_column(ns: np.ndarray) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.DatetimeIndex(np.asarray(ns, dtype="datetime64[ns]"), tz="UTC")


class _OutOfSample:
    """The chosen set of each fold run on its test window, in fold order.

    A Rust run (a basket's in rust mode) starts on a thread as soon as its fold's sweep has
    chosen the set, while the next sweep runs: the run releases the GIL, and a sweep leaves a
    core idle while it checks and resamples the bars and computes the indicators (one
    thread) before the sets share the cores, so the out-of-sample runs mostly take time no
    one used. Python-engine runs (which hold the GIL), and every run when ``threads`` is 1,
    go one after another once the sweeps are done. Leaving the block waits for the runs under
    way and drops the rest.
    """

    def __init__(self, data: _Single | _BasketData, threads: int | None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._data = data
        workers = threads or os.cpu_count() or 1
        overlap = workers > 1 and data.overlaps()
        self._pool = ThreadPoolExecutor(max_workers=workers) if overlap else None
        self._queued: list[Any] = []  # futures, or (window, params) to run at the end

    def submit(self, window: Window, params: dict[str, Any]) -> None:
        if self._pool is None:
            self._queued.append((window, params))
        else:
            self._queued.append(self._pool.submit(self._run, window, params))

    def results(self) -> list[Any]:
        if self._pool is None:
            return [self._run(window, params) for window, params in self._queued]
        return [future.result() for future in self._queued]

    def _run(self, window: Window, params: dict[str, Any]) -> Any:
        return self._data.run(window.test_start, window.test_stop, params)

    def __enter__(self) -> _OutOfSample:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

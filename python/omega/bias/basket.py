"""The four bias checks of a basket (an ``instruments:`` config): several instruments on one
account, whatever strategy runs it (built-in Rust strategies, plugins, Python strategies,
portfolio strategies).

Every run is a basket run in the mode `omega.basket.run_basket` picks. The data of every
instrument are cut, or start later, at the same time; each instrument's run (a member of the
basket: its decision trace, trades and curve, `BasketRaw.members`) and its indicator series
are compared with the functions of the single-instrument checks, and the account's equity on
the basket's timeline besides. docs/user-guide/bias.md, Baskets.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.bias.compare import equal_values, events, utc
from omega.bias.cuts import WHAT_ORDER, cut_offences
from omega.bias.intrabar import POLICIES, both_in_range, policy_run, same_timeframe_note
from omega.bias.report import (
    BiasReport,
    IntrabarResult,
    LookAheadResult,
    Offence,
    PolicyRun,
    StreamResult,
    WarmupResult,
)
from omega.bias.stream import ONE_BY_ONE, run_difference
from omega.bias.subject import StrategySubject, isolated, read_series
from omega.bias.warmup import compare_window, flag_early, warmup_result
from omega.data.bars import COLUMNS, BarSeries
from omega.errors import ConfigError, EmptyDataError, StrategyError

if TYPE_CHECKING:
    from omega.config import BacktestConfig
    from omega.engine.basket import BasketRaw
    from omega.engine.settings import EngineSettings
    from omega.timeframes import Timeframe

Bars = Mapping[str, BarSeries]  # a basket's base bars by symbol
Series = dict[str, dict[str, np.ndarray]]  # each instrument's declared series, by symbol
Step = Callable[[str], None]


@dataclass
class BasketSubject:
    """The basket of ``config`` in ``mode`` (what `omega.basket.run_basket` runs)."""

    config: BacktestConfig
    mode: str
    env: Mapping[str, str]
    _configs: dict[tuple[bool, str | None], BacktestConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from omega.config.basket import member_configs

        self.members = member_configs(self.config)
        self.symbols = [m.instrument.to_instrument().symbol for m in self.members]
        self.primary = self.members[0].to_engine_settings().primary_timeframe

    @property
    def plugin(self) -> str | None:
        return self.config.strategy.plugin

    @property
    def portfolio(self) -> bool:
        """Whether the strategy is a portfolio strategy (one over the whole basket)."""
        from omega.strategy import get_strategy
        from omega.strategy.portfolio import is_portfolio_strategy

        if self.plugin is not None:
            return False
        try:
            return is_portfolio_strategy(get_strategy(self.config.strategy.name))
        except StrategyError:
            return False  # a Rust-only strategy

    @property
    def description(self) -> str:
        if self.plugin is not None:
            what = f"plugin {self.plugin}"
        elif self.portfolio:
            what = f"portfolio strategy {self.config.strategy.name}"
        else:
            what = f"strategy {self.config.strategy.name}"
        return f"{what} on {len(self.symbols)} instruments ({self.mode} mode)"

    def _variant(self, trace: bool, policy: str | None) -> BacktestConfig:
        """The config with the decision trace on or off and the intrabar policy set."""
        key = (trace, policy)
        if key not in self._configs:
            changes = [f"trace={'true' if trace else 'false'}"]
            if policy is not None:
                changes.append(f"execution.intrabar_policy={policy}")
            self._configs[key] = self.config.apply_overrides(changes)
        return self._configs[key]

    def run(self, bars: Bars, *, trace: bool, policy: str | None = None) -> BasketRaw:
        from omega.basket import run_basket

        return run_basket(self._variant(trace, policy), bars=bars, env=self.env).raw

    def settings(self, bars: Bars) -> list[EngineSettings]:
        """Each instrument's engine settings on ``bars`` (a cross converts through them)."""
        from omega.basket import member_settings

        return member_settings(self.config, bars)

    def _member_subjects(self, settings: list[EngineSettings]) -> list[StrategySubject]:
        return [
            StrategySubject(member, self.mode, s)
            for member, s in zip(self.members, settings, strict=True)
        ]

    def _portfolio_declarations(self, settings: list[EngineSettings]) -> list[tuple[list, list]]:
        """Each instrument's declarations of a portfolio strategy (its member's init)."""
        from omega.engine.market import init_strategy
        from omega.strategy import get_strategy
        from omega.strategy.portfolio import portfolio_members

        first = settings[0]
        members = portfolio_members(
            get_strategy(self.config.strategy.name)(self.config.strategy_params()),
            [s.instrument for s in settings],
            first.primary_timeframe,
            tuple(first.timeframes),
        )
        out = []
        for member, s in zip(members, settings, strict=True):
            ctx = init_strategy(member, s)
            out.append((list(ctx.declared), list(ctx.read_timeframes)))
        return out

    def series(self, bars: Bars) -> Series | None:
        """Each instrument's declared series as its strategy reads them (`StrategySubject`
        .series), by symbol; None when they are not known (a plugin, a Rust-only one)."""
        settings = self.settings(bars)
        out: Series = {}
        if self.portfolio:
            found = self._portfolio_declarations(settings)
            for symbol, s, (requests, read) in zip(self.symbols, settings, found, strict=True):
                out[symbol] = read_series(
                    bars[symbol], s, requests, read, python=self.mode == "python"
                )
            return out
        for symbol, subject, s in zip(
            self.symbols, self._member_subjects(settings), settings, strict=True
        ):
            one = subject.series(bars[symbol], s)
            if one is None:
                return None
            out[symbol] = one
        return out

    def coarsest_timeframe(self, bars: Bars) -> Timeframe:
        """The coarsest timeframe any instrument's run uses."""
        settings = self.settings(bars)
        if self.portfolio:
            wanted = [*settings[0].timeframes, self.primary]
            for requests, read in self._portfolio_declarations(settings):
                wanted += [r.timeframe for r in requests] + read
            return max(wanted, key=lambda tf: tf.seconds)
        found = [s.coarsest_timeframe(s.settings) for s in self._member_subjects(settings)]
        return max(found, key=lambda tf: tf.seconds)

    def declared_warmup(self, bars: Bars) -> list[int | None]:
        """Each instrument's warm-up declaration (a portfolio strategy's ``warmup_bars``
        holds for every instrument)."""
        from omega.bias.subject import WARMUP_ATTRIBUTE

        if self.portfolio:
            from omega.strategy import get_strategy

            strategy = get_strategy(self.config.strategy.name)(self.config.strategy_params())
            value = getattr(strategy, WARMUP_ATTRIBUTE, None)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise StrategyError(
                    f"strategy {self.config.strategy.name}: {WARMUP_ATTRIBUTE} must be an int "
                    f">= 0, got {value!r}"
                )
            return [value] * len(self.symbols)
        return [s.declared_warmup for s in self._member_subjects(self.settings(bars))]

    def stream_skip_reason(self, bars: Bars) -> str:
        if self.portfolio:
            return (
                f"a portfolio strategy ({self.mode} mode) has no stream session "
                "(BasketStreamSession runs Rust strategies and plugins; "
                "docs/engine/portfolio.md, Modes)"
            )
        if self.mode != "rust":
            return (
                f"a Python strategy ({self.mode} mode) has no stream session "
                "(BasketStreamSession runs Rust strategies and plugins; "
                "docs/engine/portfolio.md, Modes)"
            )
        timeframes = {b.timeframe for b in bars.values()}
        if len(timeframes) > 1:
            names = ", ".join(sorted(str(tf) for tf in timeframes))
            return (
                f"the instruments' bars have different timeframes ({names}): a stream "
                "session takes one"
            )
        return ""

    def stream(self, bars: Bars, cut_times: Sequence[int]) -> BasketRaw:
        """The bars fed to a `BasketStreamSession` in time order across the basket: in
        chunks split at ``cut_times``, the last `ONE_BY_ONE` bars one at a time (as a live
        feed pushes them), then finished."""
        from omega.basket import is_portfolio_plugin
        from omega.stream import BasketStreamSession

        series = [bars[s] for s in self.symbols]
        portfolio = None
        if self.plugin is not None and is_portfolio_plugin(self.plugin):
            portfolio = (self.config.strategy.name, dict(self.config.strategy.params))
        session = BasketStreamSession(
            [
                (m.strategy.name, dict(m.strategy.params), s)
                for m, s in zip(self.members, self.settings(bars), strict=True)
            ],
            plugin=self.plugin,
            portfolio=portfolio,
            base_timeframe=series[0].timeframe,
            trace=True,
        )
        owner, index, tail = _merged_order(series, ONE_BY_ONE)
        # bars before the tail: per instrument, those of the first ``tail`` of the merged order
        before = np.bincount(owner[:tail], minlength=len(series))
        first_tail = int(series[owner[tail]].time[index[tail]]) if tail < len(owner) else None
        bounds = [
            [int(np.searchsorted(b.time, t)) for b in series]
            for t in cut_times
            if first_tail is None or t <= first_tail
        ]
        start = [0] * len(series)
        for stop in [*bounds, before.tolist()]:
            session.push_bars(
                {
                    s: b.slice(a, z)
                    for s, b, a, z in zip(self.symbols, series, start, stop, strict=True)
                }
            )
            start = stop
        for k, i in zip(owner[tail:].tolist(), index[tail:].tolist(), strict=True):
            b = series[k]
            row = [float(getattr(b, name)[i]) for name in COLUMNS[1:]]
            session.push(k, int(b.time[i]), row[0:4], row[4:8], row[8])
        return session.finish()


def _merged_order(series: list[BarSeries], one_by_one: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Every base bar of the basket in time order (equal times in the instruments' order):
    its instrument and its index; and where the last ``one_by_one`` of them begin."""
    times = np.concatenate([b.time for b in series])
    owner = np.concatenate([np.full(len(b), k, dtype=np.int64) for k, b in enumerate(series)])
    index = np.concatenate([np.arange(len(b), dtype=np.int64) for b in series])
    order = np.argsort(times, kind="stable")
    return owner[order], index[order], max(0, len(order) - one_by_one)


def basket_subject(config: BacktestConfig, env: Mapping[str, str] | None = None) -> BasketSubject:
    """The subject of the basket ``config`` in the mode `run_basket` would run it in."""
    from omega.runner import plugin_mode, probe_backend, select_mode

    env = os.environ if env is None else env
    backend = probe_backend()
    if config.strategy.plugin is None:
        choice = select_mode(config.engine, config.strategy.name, backend, env)
    else:
        choice = plugin_mode(config.engine, backend, env)
    if choice.unavailable is not None:  # as run_basket: no fallback for a basket
        raise ConfigError(f"engine: {choice.mode} unavailable: {choice.unavailable}")
    return BasketSubject(config, choice.mode, env)


# -------------------------------------------------------------------------- the timeline


def timeline(bars: Bars, nanos: int) -> np.ndarray:
    """The open times of every bar of ``nanos`` of any instrument, sorted, distinct."""
    return np.unique(np.concatenate([b.time // nanos for b in bars.values()])) * nanos


def cut_times(bars: Bars, primary: Timeframe, count: int) -> list[int]:
    """``count`` cut times spread over the basket's timeline (at ``k / (count + 1)`` of its
    primary bars), each a primary bar's open, after every instrument's first primary bar
    (no instrument is left without bars)."""
    times = timeline(bars, primary.nanos)
    earliest = max(int(b.time[0]) // primary.nanos for b in bars.values()) * primary.nanos
    allowed = times[times > earliest]
    out: list[int] = []
    for k in range(1, count + 1):
        p = int(len(times) * k / (count + 1))
        if p >= len(times) or not allowed.size:
            continue
        t = max(int(times[p]), int(allowed[0]))
        if not out or out[-1] != t:
            out.append(t)
    return out


def offset_windows(
    bars: Bars, coarsest: Timeframe, count: int
) -> tuple[list[tuple[int, int | None]], int]:
    """``count`` later start times at ``k / (count + 1)`` of the basket's base bars, each a
    bar of the coarsest timeframe's open (every timeframe starts with a whole bar), each run
    reaching to the next start (None: to the end); and how many were left out because an
    instrument has no bar in its window."""
    every = np.sort(np.concatenate([b.time for b in bars.values()]))
    starts_all = timeline(bars, coarsest.nanos)[1:]
    starts: list[int] = []
    for k in range(1, count + 1):
        p = int(np.searchsorted(starts_all, every[int(len(every) * k / (count + 1))]))
        if p < len(starts_all) and (not starts or starts[-1] != int(starts_all[p])):
            starts.append(int(starts_all[p]))
    windows = list(zip(starts, [*starts[1:], None], strict=True))
    kept = [w for w in windows if all(_window(b, *w)[1] > _window(b, *w)[0] for b in bars.values())]
    return kept, len(windows) - len(kept)


def _window(bars: BarSeries, start: int, stop: int | None) -> tuple[int, int]:
    """Base indices of ``bars`` from ``start`` to ``stop`` (None: the end)."""
    a = int(np.searchsorted(bars.time, start))
    z = len(bars) if stop is None else int(np.searchsorted(bars.time, stop))
    return a, z


# -------------------------------------------------------------------------- the checks


def check_basket_lookahead(
    subject: BasketSubject,
    bars: Bars,
    full: BasketRaw,
    full_series: Series | None,
    times: list[int],
    step: Step,
) -> LookAheadResult:
    """Check 1 on a basket: every instrument's data cut at each of ``times``."""
    symbols = subject.symbols
    result = LookAheadResult(
        indicators=[f"{s}: {key}" for s in symbols for key in (full_series or {}).get(s, {})]
    )
    for cut_time in times:
        kept_account = int(np.searchsorted(full.time, cut_time))
        step(f"look-ahead: cut at {utc(cut_time)}")
        part = {s: isolated(b, 0, int(np.searchsorted(b.time, cut_time))) for s, b in bars.items()}
        cut = subject.run(part, trace=True)
        series = subject.series(part) if full_series is not None else None
        result.cuts.append((kept_account, cut_time))
        found: list[Offence] = []
        for k, symbol in enumerate(symbols):
            member, cut_member = full.members[k], cut.members[k]
            kept = int(np.searchsorted(member.equity_time, cut_time))
            result.bars_compared += kept
            result.decisions_compared += sum(
                1 for e in events((member.trace or [])[:kept]) if e != "none"
            )
            found += cut_offences(
                member,
                cut_member,
                (full_series or {}).get(symbol),
                (series or {}).get(symbol),
                kept,
                cut_time,
                symbol,
            )
        found += _account_offences(full, cut, kept_account, cut_time)
        order = [*symbols, "account"]
        first = min(
            found,
            key=lambda o: (o.time, WHAT_ORDER.index(o.what), order.index(o.symbol)),
            default=None,
        )
        if first is not None:
            first.cut_bar = kept_account
            result.offences.append(first)
    return result


def _account_offences(full: BasketRaw, cut: BasketRaw, kept: int, cut_time: int) -> list[Offence]:
    """The account's timeline and equity before the cut (the cut run's last point is its
    final equity: compared before it)."""

    def offence(name: str, i: int, a: Any, b: Any) -> Offence:
        return Offence(kept, cut_time, "equity", name, i, int(full.time[i]), a, b, "account")

    if not np.array_equal(cut.time, full.time[:kept]):
        i = next(
            (j for j in range(min(kept, len(cut.time))) if cut.time[j] != full.time[j]),
            min(kept, len(cut.time)) - 1,
        )
        return [offence("<timeline>", i, int(full.time[i]), len(cut.time))]
    same = equal_values(full.equity[: kept - 1], cut.equity[: kept - 1])
    if same.all():
        return []
    i = int(np.argmin(same))
    return [offence("equity", i, float(full.equity[i]), float(cut.equity[i]))]


def check_basket_warmup(
    subject: BasketSubject,
    bars: Bars,
    full: BasketRaw,
    full_series: Series | None,
    count: int,
    step: Step,
    tolerance: float,
) -> WarmupResult:
    """Check 2 on a basket: every instrument started later at the same times."""
    symbols = subject.symbols
    declared = subject.declared_warmup(bars)
    parts = {
        s: warmup_result(m, (full_series or {}).get(s), d, tolerance, s)
        for s, m, d in zip(symbols, full.members, declared, strict=True)
    }
    windows, left_out = offset_windows(bars, subject.coarsest_timeframe(bars), count)
    for start, stop in windows:
        step(f"warm-up: start at {utc(start)}")
        part = {s: isolated(b, *_window(b, start, stop)) for s, b in bars.items()}
        run = subject.run(part, trace=True)
        series = subject.series(part) if full_series is not None else None
        for k, symbol in enumerate(symbols):
            member, run_member = full.members[k], run.members[k]
            one_series = (series or {}).get(symbol)
            skipped = int(np.searchsorted(member.equity_time, start))
            offset = compare_window(
                member,
                run_member,
                (full_series or {}).get(symbol),
                one_series,
                skipped,
                start,
                stop,
                tolerance,
            )
            if offset is None:  # pragma: no cover - starts are on whole coarse bars
                continue
            parts[symbol].runs.append(offset)
            flag_early(parts[symbol], run_member, declared[k], one_series, skipped, symbol)
    return _basket_warmup(parts, declared, tolerance, left_out)


def _basket_warmup(
    parts: dict[str, WarmupResult], declared: list[int | None], tolerance: float, left_out: int
) -> WarmupResult:
    needed = [(p.needed, f"{s}: {p.needed_by}") for s, p in parts.items() if p.needed is not None]
    most = max(needed, default=(None, ""), key=lambda n: n[0])
    result = WarmupResult(
        declared[0] if len(set(declared)) == 1 else None,
        most[0],
        most[1],
        tolerance,
        findings=[f for p in parts.values() for f in p.findings],
        instruments=parts,
    )
    if left_out:
        result.note = f"{left_out} later start(s) left out: an instrument has no bars in its window"
    return result


def check_basket_stream(
    subject: BasketSubject, bars: Bars, full: BasketRaw, times: list[int]
) -> StreamResult:
    """Check 3 on a basket: a `BasketStreamSession` decides as the batch basket."""
    reason = subject.stream_skip_reason(bars)
    if reason:
        return StreamResult(skipped=reason)
    run = subject.stream(bars, times)
    result = StreamResult(
        bars=sum(len(m.trace or []) for m in full.members),
        decisions=sum(1 for m in full.members for e in events(m.trace or []) if e != "none"),
        trades=sum(m.n_trades for m in full.members),
        instruments=len(full.members),
    )
    for symbol, batch, streamed in zip(subject.symbols, full.members, run.members, strict=True):
        diff = run_difference(batch, streamed)
        if diff:
            result.difference = f"{symbol}: {diff}"
            return result
    if not np.array_equal(full.time, run.time):
        result.difference = "the account's timelines differ"
    elif not equal_values(full.equity, run.equity).all():
        result.difference = "the account's equity curves differ"
    elif full.final_balance != run.final_balance:
        result.difference = (
            f"final_balance: batch {full.final_balance!r}, stream {run.final_balance!r}"
        )
    return result


def check_basket_intrabar(subject: BasketSubject, bars: Bars, step: Step) -> IntrabarResult:
    """Check 4 on a basket: the account and each instrument under the three policies."""
    from omega.data.resample import resample

    primary = subject.primary
    primaries = {s: b if b.timeframe == primary else resample(b, primary) for s, b in bars.items()}
    result = IntrabarResult(instruments={s: IntrabarResult() for s in subject.symbols})
    if all(b.timeframe == primary for b in bars.values()):
        result.note = same_timeframe_note(primary)
    initial = subject.settings(bars)[0].initial_balance
    for policy in POLICIES:
        step(f"intrabar: {policy}")
        run = subject.run(bars, trace=False, policy=policy)
        for symbol, member in zip(subject.symbols, run.members, strict=True):
            pnl = float(member.trades["pnl"].sum())
            result.instruments[symbol].runs.append(
                policy_run(policy, primaries[symbol], member, pnl)
            )
        result.runs.append(_account_run(policy, subject.symbols, primaries, run, initial))
    return result


def _account_run(
    policy: str, symbols: list[str], primaries: Bars, run: BasketRaw, initial: float
) -> PolicyRun:
    """The account's P&L under ``policy``, its trades and the SL+TP exits of them all."""
    hits = [both_in_range(primaries[s], m) for s, m in zip(symbols, run.members, strict=True)]
    pnls = [m.trades["pnl"] for m in run.members]
    hit, pnl = np.concatenate(hits), np.concatenate(pnls)
    total = float(np.abs(pnl).sum())
    return PolicyRun(
        policy,
        run.final_balance - initial,
        len(pnl),
        int(np.count_nonzero(hit)),
        float(pnl[hit].sum()),
        float(np.abs(pnl[hit]).sum()) / total if total else 0.0,
    )


# -------------------------------------------------------------------------- the whole check


def basket_bars(config: BacktestConfig, bars: Any) -> dict[str, BarSeries]:
    """The basket's bars by symbol: ``bars`` (a mapping) or the config's own."""
    from omega.basket import load_basket_bars
    from omega.config.basket import member_configs

    if bars is None:
        return load_basket_bars(config)
    if not isinstance(bars, Mapping):
        raise ConfigError(
            "a basket (instruments:) is checked on bars by symbol: {symbol: BarSeries, ...}"
        )
    symbols = [m.instrument.to_instrument().symbol for m in member_configs(config)]
    missing = [s for s in symbols if s not in bars]
    if missing:
        raise ConfigError(f"check_bias: no bars for {', '.join(missing)}")
    for symbol in symbols:
        if len(bars[symbol]) == 0:
            raise EmptyDataError(f"no bars to check for {symbol}", file=bars[symbol].source)
    return {s: bars[s] for s in symbols}


def data_label(bars: Bars) -> str:
    """A synthetic basket's source once (``synthetic basket(seed=7, n_bars=2000)``), else
    each instrument's."""
    plain = {b.source.replace(f", symbol={s})", ")") for s, b in bars.items()}
    if len(plain) == 1 and all(f"symbol={s})" in b.source for s, b in bars.items()):
        return plain.pop()
    return "; ".join(f"{s}: {b.source}" for s, b in bars.items())


def check_basket_bias(
    config: BacktestConfig,
    *,
    bars: Any,
    cuts: int,
    offsets: int,
    checks: Sequence[str],
    tolerance: float,
    steps: Step,
    env: Mapping[str, str] | None,
) -> BiasReport:
    """`omega.check_bias` of a basket config (its arguments checked there)."""
    subject = basket_subject(config, env)
    by_symbol = basket_bars(config, bars)
    steps("full run")
    full = subject.run(by_symbol, trace=True)
    needs_series = "lookahead" in checks or "warmup" in checks
    full_series = subject.series(by_symbol) if needs_series else None
    report = BiasReport(
        subject.description,
        data_label(by_symbol),
        sum(len(b) for b in by_symbol.values()),
        len(full.time),
        symbols=list(subject.symbols),
    )
    times = cut_times(by_symbol, subject.primary, cuts)
    if "lookahead" in checks:
        report.lookahead = check_basket_lookahead(
            subject, by_symbol, full, full_series, times, steps
        )
    if "warmup" in checks:
        report.warmup = check_basket_warmup(
            subject, by_symbol, full, full_series, offsets, steps, tolerance
        )
    if "stream" in checks:
        steps("stream session")
        report.stream = check_basket_stream(subject, by_symbol, full, times)
    if "intrabar" in checks:
        report.intrabar = check_basket_intrabar(subject, by_symbol, steps)
    return report

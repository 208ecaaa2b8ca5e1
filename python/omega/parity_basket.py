"""Basket parity: generated baskets through python, hybrid and rust mode and bar by bar
through a basket stream session, compared exactly.

    python -m omega.parity_basket --count 50

Each basket draws 2 to 4 members from a correlated synthetic basket (`generate_basket`):
majors and crosses (a cross converts through the basket's own pair), each member's
strategy and execution settings drawn as `omega.parity` draws a single case, the account
fields (balance, margin levels, end of data) shared. Every member's trades, the members'
curves and the account's equity must be identical in every mode. In one basket in four
every member's data starts 1 to 59 base bars late, inside a primary bar as real files do
(a cross's first bar then converts at its pair's first close).

A share of the baskets (``--portfolio-share``, one in four by default) is run instead by
the built-in portfolio strategy `pairs_zscore`, its parameters drawn over their valid ranges
(its legs the basket's first two, or two drawn members, crosses included), as a basket
config (``strategy: {name: pairs_zscore, ...}`` and ``instruments:``) through
`omega.basket.run_basket` in each engine mode and `BasketStreamSession.from_config`. The
config carries the first member's execution and account settings (a basket shares them) and
each member's own swap and margin rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omega.data.bars import BarSeries, Instrument
from omega.engine.basket import BasketRaw
from omega.engine.settings import CrossSettings, EngineSettings
from omega.parity import ParityCase, compare_runs, features, generate_cases

MODES = ("python", "hybrid", "rust", "stream")
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "EURGBP", "EURJPY", "AUDUSD")
ACCOUNT = "USD"
PORTFOLIO = "pairs_zscore"
PORTFOLIO_SHARE = 0.25  # the share of baskets run by the portfolio strategy
START_SHARE = 0.25  # the share of baskets whose data starts 1 to 59 base bars late


@dataclass(frozen=True)
class BasketCase:
    case_id: int
    data_seed: int
    n_bars: int
    symbols: tuple[str, ...]
    strategies: tuple[tuple[str, dict], ...]
    settings: tuple[EngineSettings, ...]
    # pairs_zscore's params when the portfolio strategy runs the basket (`strategies` are
    # then not used, and the members share the first one's execution and account settings)
    portfolio: dict | None = None
    seed: int = 0  # the generator's seed (with case_id: `--seed S`, the basket S's case_id)
    # base bars dropped from the start of every member: data that starts inside a primary
    # bar (a cross's first bar converts at its pair's first close)
    start: int = 0

    def describe(self) -> str:
        head = (
            f"basket {self.case_id} of --seed {self.seed} (data seed {self.data_seed}, "
            f"{self.n_bars} bars{f', from base bar {self.start}' if self.start else ''}): "
        )
        if self.portfolio is not None:
            members = "; ".join(
                f"{symbol} features={','.join(_features(s, {})) or 'none'}"
                for symbol, s in zip(self.symbols, self.settings, strict=True)
            )
            config = json.dumps(portfolio_config_data(self, blackouts_path=None))
            text = f"{head}portfolio {PORTFOLIO} {self.portfolio}; {members}\n  config: {config}"
            blackouts = self.settings[0].blackouts
            if blackouts:
                text += f"\n  execution.blackouts rows: {_blackout_rows(blackouts)}"
            return text
        parts = [
            f"{symbol} {name} {params} features={','.join(_features(s, params)) or 'none'}"
            for symbol, (name, params), s in zip(
                self.symbols, self.strategies, self.settings, strict=True
            )
        ]
        return head + "; ".join(parts)


def _features(settings: EngineSettings, params: dict) -> list[str]:
    case = ParityCase(0, 0, 0, settings.instrument.symbol, "", params, settings)
    return features(case)


def _conversion(symbol: str, symbols: tuple[str, ...]) -> str | None:
    inst = Instrument.for_symbol(symbol)
    if ACCOUNT in (inst.base_currency, inst.quote_currency):
        return None
    for pair in (inst.quote_currency + ACCOUNT, ACCOUNT + inst.quote_currency):
        if pair in symbols:
            return pair
    return None


def generate_basket_cases(
    count: int, seed: int = 0, n_bars: int = 4000, portfolio_share: float = PORTFOLIO_SHARE
) -> Iterator[BasketCase]:
    """`count` seeded baskets (the same arguments give the same baskets); about
    ``portfolio_share`` of them run by the portfolio strategy (drawn from a generator of
    their own, so that the other baskets are those of any share)."""
    rng = random.Random(seed)
    portfolio_rng = random.Random(f"portfolio-{seed}")
    start_rng = random.Random(f"start-{seed}")  # its own, so the baskets stay those drawn before
    singles = generate_cases(count * 4, seed + 1, n_bars)
    for case_id in range(count):
        symbols = _draw_symbols(rng)
        drawn = [next(singles) for _ in symbols]
        data_seed = rng.randrange(1 << 31)
        start = start_rng.randrange(1, 60) if start_rng.random() < START_SHARE else 0
        if portfolio_rng.random() < portfolio_share:
            yield BasketCase(
                case_id=case_id,
                data_seed=data_seed,
                n_bars=n_bars,
                symbols=tuple(symbols),
                strategies=(),
                settings=tuple(_portfolio_members(symbols, drawn)),
                portfolio=_pairs_params(portfolio_rng, symbols),
                seed=seed,
                start=start,
            )
            continue
        yield BasketCase(
            case_id=case_id,
            data_seed=data_seed,
            n_bars=n_bars,
            symbols=tuple(symbols),
            strategies=tuple((single.strategy, dict(single.params)) for single in drawn),
            settings=tuple(_own_members(symbols, drawn)),
            seed=seed,
            start=start,
        )


def _draw_symbols(rng: random.Random) -> list[str]:
    size = rng.choice([2, 2, 3, 4])
    symbols: list[str] = []
    while len(symbols) < size:
        symbol = rng.choice(SYMBOLS)
        if symbol not in symbols:
            symbols.append(symbol)
    # a cross needs its conversion pair in the basket: add it
    for symbol in list(symbols):
        inst = Instrument.for_symbol(symbol)
        if ACCOUNT not in (inst.base_currency, inst.quote_currency):
            pair = inst.quote_currency + ACCOUNT
            other = ACCOUNT + inst.quote_currency
            if pair not in symbols and other not in symbols:
                symbols.append(pair if pair in SYMBOLS else other)
    return symbols


def _own_members(symbols: list[str], drawn: list[ParityCase]) -> list[EngineSettings]:
    """Each member its own strategy's settings, the account's fields the first one's."""
    account = drawn[0].settings
    members = []
    for symbol, single in zip(symbols, drawn, strict=True):
        members.append(
            dataclasses.replace(
                single.settings,
                instrument=Instrument.for_symbol(symbol),
                account_currency=ACCOUNT,
                cross=None,
                initial_balance=account.initial_balance,
                end_of_data=account.end_of_data,
                margin=(
                    None
                    if account.margin is None
                    else dataclasses.replace(
                        account.margin,
                        margin_rate=(single.settings.margin or account.margin).margin_rate,
                    )
                ),
            )
        )
    return members


def _portfolio_members(symbols: list[str], drawn: list[ParityCase]) -> list[EngineSettings]:
    """What a basket config can give its members: the first draw's execution and account
    settings (primary timeframe only: the strategy reads no other), each member's own swap
    and, with a margin model, its own margin rate (a member drawn without one takes the
    account's leverage, 1 / the first draw's rate)."""
    first = drawn[0].settings
    shared = dataclasses.replace(
        first, timeframes=(first.primary_timeframe,), account_currency=ACCOUNT, cross=None
    )
    members = []
    for k, (symbol, single) in enumerate(zip(symbols, drawn, strict=True)):
        margin = None
        if first.margin is not None:
            own = single.settings.margin if k > 0 else None
            rate = own.margin_rate if own is not None else 1.0 / _leverage(first)
            margin = dataclasses.replace(first.margin, margin_rate=rate)
        members.append(
            dataclasses.replace(
                shared,
                instrument=Instrument.for_symbol(symbol),
                swap=single.settings.swap,
                margin=margin,
            )
        )
    return members


def _leverage(settings: EngineSettings) -> float:
    assert settings.margin is not None
    return 1.0 / settings.margin.margin_rate


def _pairs_params(rng: random.Random, symbols: list[str]) -> dict:
    """pairs_zscore's parameters over their valid ranges; its legs the basket's first two
    (unset) or two drawn members (crosses included)."""
    entry = round(rng.uniform(0.8, 3.0), 3)
    exit_ = 0.0 if rng.random() < 0.15 else round(rng.uniform(0.0, entry), 3)
    params: dict[str, Any] = {
        "lookback": rng.randint(10, 200),
        "entry": entry,
        "exit": exit_ if exit_ < entry else 0.0,
        "stop_pips": round(rng.uniform(5.0, 80.0), 2),
        "size": round(rng.uniform(0.1, 3.0), 3),
    }
    if rng.random() < 0.6:
        params["legs"] = rng.sample(symbols, 2)
    return params


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def portfolio_config_data(case: BasketCase, blackouts_path: str | None) -> dict:
    """The basket config of a portfolio case (a plain dict, as a YAML file gives it); its
    blackouts are read from ``blackouts_path`` (a CSV of the first member's windows, see
    `write_blackouts`)."""
    assert case.portfolio is not None
    first = case.settings[0]
    execution: dict[str, Any] = {
        "intrabar_policy": first.intrabar_policy,
        "slippage": dataclasses.asdict(first.slippage),
        "fees": dataclasses.asdict(first.fees),
        "sizing": dataclasses.asdict(first.sizing),
        "break_even": None if first.break_even is None else dataclasses.asdict(first.break_even),
        "trailing": None if first.trailing is None else dataclasses.asdict(first.trailing),
        "max_bars_held": first.max_bars_held,
        "stop_atr_period": first.stop_atr_period,
        "end_of_data": first.end_of_data,
    }
    if first.session is not None:
        session = first.session
        execution["session"] = {
            "timezone": session.timezone,
            "start": session.start,
            "end": session.end,
            "days": [_WEEKDAYS[day] for day in session.weekdays],
        }
    if first.blackouts and blackouts_path is not None:
        execution["blackouts"] = blackouts_path
    account: dict[str, Any] = {"initial_balance": first.initial_balance, "currency": ACCOUNT}
    leverage = None if first.margin is None else _leverage(first)
    if first.margin is not None:
        account["leverage"] = leverage
        account["margin_call_level"] = first.margin.margin_call_level
        account["stop_out_level"] = first.margin.stop_out_level
    return {
        "data": {"synthetic": {"seed": case.data_seed, "n_bars": case.n_bars}},
        "timeframes": {"primary": first.primary_timeframe.name, "extra": []},
        "strategy": {"name": PORTFOLIO, "params": dict(case.portfolio)},
        "instruments": [_portfolio_entry(settings, leverage) for settings in case.settings],
        "execution": execution,
        "account": account,
    }


def _portfolio_entry(settings: EngineSettings, leverage: float | None) -> dict:
    entry: dict[str, Any] = {"symbol": settings.instrument.symbol}
    margin = settings.margin
    if margin is not None and (leverage is None or margin.margin_rate != 1.0 / leverage):
        entry["margin_rate"] = margin.margin_rate  # else the account's leverage gives it
    if settings.swap is not None:
        swap = settings.swap
        entry["swap"] = {
            "long": swap.long,
            "short": swap.short,
            "unit": swap.unit,
            "rollover_time": swap.rollover_time,
            "timezone": swap.timezone,
            "triple_day": _WEEKDAYS[swap.triple_weekday],
        }
    return entry


def basket_bars(case: BasketCase) -> dict[str, BarSeries]:
    from omega.data.synthetic import generate_basket

    bars = generate_basket(list(case.symbols), n_bars=case.n_bars, seed=case.data_seed)
    return {symbol: one.slice(case.start, len(one)) for symbol, one in bars.items()}


def _with_conversions(case: BasketCase, bars: dict[str, BarSeries]) -> list[EngineSettings]:
    out = []
    for k, (symbol, settings) in enumerate(zip(case.symbols, case.settings, strict=True)):
        settings = dataclasses.replace(settings, instrument_id=k)
        pair = _conversion(symbol, case.symbols)
        if pair is not None:
            inst = settings.instrument
            settings = dataclasses.replace(
                settings,
                cross=CrossSettings(
                    pair,
                    pair == inst.quote_currency + ACCOUNT,
                    times=np.asarray(bars[pair].time, dtype=np.int64),
                    closes=np.asarray(bars[pair].bid_close, dtype=np.float64),
                    member=case.symbols.index(pair),
                ),
            )
        out.append(settings)
    return out


def run_basket_case(
    case: BasketCase, bars: dict[str, BarSeries], mode: str, trace: bool = False
) -> BasketRaw:
    if case.portfolio is not None:
        return _run_portfolio_case(case, bars, mode, trace)
    from omega.engine import basket
    from omega.strategy import get_strategy

    settings = _with_conversions(case, bars)
    series = [bars[symbol] for symbol in case.symbols]
    if mode == "stream":
        from omega.stream import BasketStreamSession

        session = BasketStreamSession(
            [
                (name, params, s)
                for (name, params), s in zip(case.strategies, settings, strict=True)
            ],
            trace=trace,
        )
        session.push_bars(bars)
        return session.finish()
    if mode == "rust":
        return basket.run_basket_rust(
            [
                (b, name, params, s)
                for b, (name, params), s in zip(series, case.strategies, settings, strict=True)
            ],
            trace=trace,
        )
    runs = [
        (b, get_strategy(name)(params), s)
        for b, (name, params), s in zip(series, case.strategies, settings, strict=True)
    ]
    if mode == "hybrid":
        return basket.run_basket_hybrid(runs, trace=trace)
    return basket.run_basket_python(runs, trace=trace)


def portfolio_config(case: BasketCase, folder: Path) -> Any:
    """The `BacktestConfig` of a portfolio case (its blackouts file written into
    ``folder``)."""
    from omega.config import BacktestConfig

    path = write_blackouts(case.settings[0].blackouts, folder / f"blackouts-{case.case_id}.csv")
    return BacktestConfig.from_dict(portfolio_config_data(case, path))


def write_blackouts(windows: tuple[tuple[int, int], ...], path: Path) -> str | None:
    """``windows`` (UTC ns) as a blackouts CSV at ``path``; None (no file) without any."""
    if not windows:
        return None
    path.write_text("\n".join(["start,end", *_blackout_rows(windows)]) + "\n")
    return str(path)


def _blackout_rows(windows: tuple[tuple[int, int], ...]) -> list[str]:
    """Each window (UTC ns) as a CSV row ``start,end`` of ISO times."""
    import pandas as pd

    def iso(ns: int) -> str:
        return pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()

    return [f"{iso(start)},{iso(end)}" for start, end in windows]


def _run_portfolio_case(
    case: BasketCase, bars: dict[str, BarSeries], mode: str, trace: bool
) -> BasketRaw:
    """The case's basket config in ``mode`` as a user runs it: `run_basket` with
    ``engine=<mode>`` (the environment's OMEGA_USE_RUST_STRATEGY not consulted), or fed bar
    by bar to `BasketStreamSession.from_config`."""
    from omega.basket import run_basket
    from omega.errors import OmegaError

    with tempfile.TemporaryDirectory(prefix="omega-parity-basket-") as folder:
        config = portfolio_config(case, Path(folder))
        if trace:
            config = config.apply_overrides(["trace=true"])
        if mode == "stream":
            from omega.stream import BasketStreamSession

            session = BasketStreamSession.from_config(config, bars)
            session.push_bars(bars)
            return session.finish()
        result = run_basket(config.apply_overrides([f"engine={mode}"]), bars=bars, env={})
    if result.mode != mode:
        raise OmegaError(f"asked for engine={mode}, ran in {result.mode}")
    return result.raw


def compare_baskets(a: BasketRaw, b: BasketRaw, symbols: tuple[str, ...]) -> str | None:
    """None when identical; else what differs first."""
    for symbol, ma, mb in zip(symbols, a.members, b.members, strict=True):
        diff = compare_runs(ma, mb)
        if diff is not None:
            return f"{symbol}: {diff[0]}" + (f" (bar {diff[1]})" if diff[1] is not None else "")
    if not np.array_equal(a.time, b.time):
        return "account timeline differs"
    if not np.array_equal(a.equity, b.equity):
        k = int(np.argmin(a.equity == b.equity))
        return f"account equity at {k}: {a.equity[k]!r} != {b.equity[k]!r}"
    if a.final_balance != b.final_balance:
        return f"final balance {a.final_balance!r} != {b.final_balance!r}"
    return None


def run_basket_parity(
    count: int,
    seed: int = 0,
    n_bars: int = 4000,
    modes: tuple[str, ...] = MODES,
    out=sys.stdout,
    portfolio_share: float = PORTFOLIO_SHARE,
) -> tuple[int, int, list[str]]:
    """Runs `count` baskets in every mode; returns (baskets, trades compared, mismatches).
    A mode that raises is a mismatch too (every generated basket is a valid one)."""
    mismatches: list[str] = []
    trades = 0
    counts: dict[str, int] = {}
    portfolio = PortfolioTally()
    started = time.perf_counter()
    for case in generate_basket_cases(count, seed, n_bars, portfolio_share):
        bars = basket_bars(case)
        runs, errors = _run_modes(case, bars, modes)
        for mode, error in errors.items():
            mismatches.append(f"MISMATCH {mode} raised {error}\n  {case.describe()}")
            print(mismatches[-1], file=out)
        _count_features(case, counts)
        reference = runs.get(modes[0])
        if reference is None:
            continue
        case_trades = sum(m.n_trades for m in reference.members)
        trades += case_trades
        portfolio.add(case, case_trades)
        for mode in modes[1:]:
            if mode not in runs:
                continue
            diff = compare_baskets(reference, runs[mode], case.symbols)
            if diff is not None:
                message = f"MISMATCH {modes[0]} vs {mode}: {diff}\n  {case.describe()}"
                mismatches.append(message)
                print(message, file=out)
    elapsed = time.perf_counter() - started
    print(
        "basket parity: members per feature: "
        + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"),
        file=out,
    )
    print(portfolio.summary(), file=out)
    print(
        f"basket parity: {count} baskets ({portfolio.baskets} portfolio {PORTFOLIO}) x modes "
        f"{', '.join(modes)}: {len(mismatches)} mismatches, {trades} trades compared, "
        f"{elapsed:.1f} s",
        file=out,
    )
    return count, trades, mismatches


def _run_modes(
    case: BasketCase, bars: dict[str, BarSeries], modes: tuple[str, ...]
) -> tuple[dict[str, BasketRaw], dict[str, str]]:
    """Each mode's run, and the error of each mode that raised."""
    runs: dict[str, BasketRaw] = {}
    errors: dict[str, str] = {}
    for mode in modes:
        try:
            runs[mode] = run_basket_case(case, bars, mode)
        except Exception as exc:  # reported with the case, the other cases still run
            errors[mode] = f"{type(exc).__name__}: {exc}"
    return runs, errors


def _count_features(case: BasketCase, counts: dict[str, int]) -> None:
    strategies = case.strategies or ((PORTFOLIO, {}),) * len(case.symbols)
    for symbol, settings, (_, params) in zip(case.symbols, case.settings, strategies, strict=True):
        used = _features(settings, params if case.portfolio is None else {})
        if _conversion(symbol, case.symbols) is not None:
            used.append("cross_through_basket")
        if case.start % (settings.primary_timeframe.nanos // (60 * 10**9)):  # M1 base bars
            used.append("starts_inside_a_bar")
        for name in used:
            counts[name] = counts.get(name, 0) + 1


@dataclass
class PortfolioTally:
    """The portfolio baskets run: how many, their legs, their trades."""

    baskets: int = 0
    default_legs: int = 0
    chosen_legs: int = 0
    cross_leg: int = 0
    trades: int = 0
    without_trades: int = 0

    def add(self, case: BasketCase, trades: int) -> None:
        if case.portfolio is None:
            return
        self.baskets += 1
        legs = case.portfolio.get("legs") or list(case.symbols[:2])
        if "legs" in case.portfolio:
            self.chosen_legs += 1
        else:
            self.default_legs += 1
        if any(_conversion(leg, case.symbols) is not None for leg in legs):
            self.cross_leg += 1
        self.trades += trades
        self.without_trades += trades == 0

    def summary(self) -> str:
        return (
            f"basket parity: portfolio baskets ({PORTFOLIO}): {self.baskets} "
            f"(legs default {self.default_legs}, chosen {self.chosen_legs}; a cross leg "
            f"{self.cross_leg}; no trade {self.without_trades}), {self.trades} trades"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omega.parity_basket", description=__doc__)
    parser.add_argument("--count", type=int, default=50, help="baskets (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bars", type=int, default=4000, help="M1 bars per member")
    parser.add_argument(
        "--portfolio-share",
        type=float,
        default=PORTFOLIO_SHARE,
        help=f"share of the baskets run by {PORTFOLIO} (default {PORTFOLIO_SHARE})",
    )
    args = parser.parse_args(argv)
    _, _, mismatches = run_basket_parity(
        args.count, args.seed, args.bars, portfolio_share=args.portfolio_share
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())

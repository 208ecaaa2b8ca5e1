"""Basket parity: generated baskets through python, hybrid and rust mode and bar by bar
through a basket stream session, compared exactly.

    python -m omega.parity_basket --count 50

Each basket draws 2 to 4 members from a correlated synthetic basket (`generate_basket`):
majors and crosses (a cross converts through the basket's own pair), each member's
strategy and execution settings drawn as `omega.parity` draws a single case, the account
fields (balance, margin levels, end of data) shared. Every member's trades, the members'
curves and the account's equity must be identical in every mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from omega.data.bars import BarSeries, Instrument
from omega.engine.basket import BasketRaw
from omega.engine.settings import CrossSettings, EngineSettings
from omega.parity import compare_runs, features, generate_cases

MODES = ("python", "hybrid", "rust", "stream")
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "EURGBP", "EURJPY", "AUDUSD")
ACCOUNT = "USD"


@dataclass(frozen=True)
class BasketCase:
    case_id: int
    data_seed: int
    n_bars: int
    symbols: tuple[str, ...]
    strategies: tuple[tuple[str, dict], ...]
    settings: tuple[EngineSettings, ...]

    def describe(self) -> str:
        parts = [
            f"{symbol} {name} {params} features={','.join(_features(s, params)) or 'none'}"
            for symbol, (name, params), s in zip(
                self.symbols, self.strategies, self.settings, strict=True
            )
        ]
        return f"basket {self.case_id} (seed {self.data_seed}, {self.n_bars} bars): " + "; ".join(
            parts
        )


def _features(settings: EngineSettings, params: dict) -> list[str]:
    from omega.parity import ParityCase

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


def generate_basket_cases(count: int, seed: int = 0, n_bars: int = 4000) -> Iterator[BasketCase]:
    """`count` seeded baskets (the same arguments give the same baskets)."""
    rng = random.Random(seed)
    singles = generate_cases(count * 4, seed + 1, n_bars)
    for case_id in range(count):
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
        drawn = [next(singles) for _ in symbols]
        account = drawn[0].settings
        members = []
        strategies = []
        for symbol, single in zip(symbols, drawn, strict=True):
            settings = dataclasses.replace(
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
            members.append(settings)
            strategies.append((single.strategy, dict(single.params)))
        yield BasketCase(
            case_id=case_id,
            data_seed=rng.randrange(1 << 31),
            n_bars=n_bars,
            symbols=tuple(symbols),
            strategies=tuple(strategies),
            settings=tuple(members),
        )


def basket_bars(case: BasketCase) -> dict[str, BarSeries]:
    from omega.data.synthetic import generate_basket

    return generate_basket(list(case.symbols), n_bars=case.n_bars, seed=case.data_seed)


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
    count: int, seed: int = 0, n_bars: int = 4000, modes: tuple[str, ...] = MODES, out=sys.stdout
) -> tuple[int, int, list[str]]:
    """Runs `count` baskets in every mode; returns (baskets, trades compared, mismatches)."""
    mismatches: list[str] = []
    trades = 0
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for case in generate_basket_cases(count, seed, n_bars):
        bars = basket_bars(case)
        runs = {mode: run_basket_case(case, bars, mode) for mode in modes}
        reference = runs[modes[0]]
        trades += sum(m.n_trades for m in reference.members)
        for symbol, settings, (_, params) in zip(
            case.symbols, case.settings, case.strategies, strict=True
        ):
            used = _features(settings, params)
            if _conversion(symbol, case.symbols) is not None:
                used.append("cross_through_basket")
            for name in used:
                counts[name] = counts.get(name, 0) + 1
        for mode in modes[1:]:
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
    print(
        f"basket parity: {count} baskets x modes {', '.join(modes)}: {len(mismatches)} "
        f"mismatches, {trades} trades compared, {elapsed:.1f} s",
        file=out,
    )
    return count, trades, mismatches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omega.parity_basket", description=__doc__)
    parser.add_argument("--count", type=int, default=50, help="baskets (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bars", type=int, default=4000, help="M1 bars per member")
    args = parser.parse_args(argv)
    _, _, mismatches = run_basket_parity(args.count, args.seed, args.bars)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())

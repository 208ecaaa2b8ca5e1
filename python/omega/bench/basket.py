"""Baskets (issue 14): ``omega.basket.run_basket`` on the 28 pairs of eight currencies against
the 28 single-instrument runs, side by side in one process; the basket's memory per bar; the
basket's trades in rust, hybrid and python mode.

    python -m omega.bench.basket [--bars 374400] [--rounds 5] [--repeat 1] [--check-modes]

Targets (issue 14): in rust mode the basket takes at most 1.5x the summed time of its 28
single runs, and adds at most 32 B per bar to the memory its input takes; every mode trades
identically.

- **Time.** Each round calls every side once per ``--repeat`` (best kept), the side that goes
  first alternating between rounds, so that a change in the machine's load hits both sides;
  the figure is the median over rounds. Both sides get the same bars (loaded before the
  clock starts). ``run_backtest`` cannot convert a cross through another instrument's bars
  without loading a file, so its single runs of the 21 crosses convert at a fixed rate; the
  engine rows (``run_basket_rust`` against ``run_rust`` per member) give each single run the
  basket's own conversion through the pair's bars, the same work on both sides.
- **Memory.** Two fresh processes with the same imports and warm-up load the same bars; one
  then runs the basket. Added per bar = (peak RSS of the run - peak RSS of the load) / bars
  (RSS read as `omega.bench.memory` reads it for single runs).
- **Trades.** The basket in rust, hybrid and python mode, trade for trade
  (`BasketResult.trades_equal`): by default on a short basket (``--check-bars``), with
  ``--check-modes`` also on the full one (python mode takes minutes; each mode's time is
  printed).
- **A portfolio strategy** (unless ``--no-portfolio``): ``pairs_zscore`` on EURUSD and
  GBPUSD over the whole basket, its rust-mode time and its trades in every mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import hashlib
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omega.bench.report import MIB, table

if TYPE_CHECKING:
    from omega.basket import BasketResult
    from omega.config import BacktestConfig
    from omega.data.bars import BarSeries

# The market's order of precedence for the base currency (EURUSD, not USDEUR): a pair is
# written with the currency that comes first here as its base.
CURRENCY_PRECEDENCE = ("EUR", "GBP", "AUD", "NZD", "USD", "CAD", "CHF", "JPY")
# One year of M1 bars: 52 weeks of open minutes (Sunday 22:00 - Friday 22:00 UTC).
ONE_YEAR_M1 = 52 * 5 * 24 * 60
SEED = 7
RATIO_TARGET = 1.5
MEMORY_PER_BAR = 32.0
WARMUP_BARS = 3_000
MODULE = "omega.bench.basket"  # what child processes import (this file runs as __main__)

# Each workload is a config as a user writes it, without its instruments (added per run).
WORKLOADS: dict[str, dict[str, Any]] = {
    # The default config's strategy: M5 primary with an H1 trend filter, risk-percent sizing.
    "mean_reversion": {},
    # Always in the market on M1, a trade every few dozen bars: the cost per bar and per
    # trade. A tenth of a lot per trade (the strategy's own size, which its signals carry).
    "sma_cross": {
        "strategy": {"name": "sma_cross", "params": {"size": 0.1}},
        "timeframes": {"primary": "M1", "extra": []},
    },
}
# A portfolio strategy over the whole basket: pairs_zscore on EURUSD and GBPUSD, the other
# instruments stepped in the basket (no single runs to compare with: its table is its
# time in rust mode and its trades in every mode).
PAIRS_PARAMS = {"legs": ["EURUSD", "GBPUSD"], "lookback": 120, "entry": 2.0, "exit": 0.5}
PORTFOLIO: dict[str, Any] = {
    "strategy": {"name": "pairs_zscore", "params": {**PAIRS_PARAMS, "stop_pips": 40.0}},
    "timeframes": {"primary": "M5", "extra": []},
}
BASKET_CALL = "omega.basket.run_basket(config, bars=bars)"
SINGLES_CALL = "omega.run_backtest(member, bars=bars[symbol]) x {n}, crosses at a fixed rate"
BASKET_ENGINE_CALL = "omega.engine.basket.run_basket_rust(members) (engine only)"
SINGLES_ENGINE_CALL = "omega.engine.rust.run_rust(...) x {n}, the basket's conversions"


def basket_symbols() -> list[str]:
    """Every pair of the synthetic generator's currencies, majors (the USD pairs) first, each
    checked against `Instrument.for_symbol` (its currencies as the name says)."""
    from omega.data.bars import Instrument
    from omega.data.synthetic import CURRENCY_START_USD

    if set(CURRENCY_PRECEDENCE) != set(CURRENCY_START_USD):
        raise SystemExit(
            f"the synthetic currencies {sorted(CURRENCY_START_USD)} are not those this bench "
            f"orders {sorted(CURRENCY_PRECEDENCE)}"
        )
    pairs = ["".join(p) for p in itertools.combinations(CURRENCY_PRECEDENCE, 2)]
    pairs.sort(key=lambda s: "USD" not in s)  # stable: majors first, then the crosses
    unknown = []
    for symbol in pairs:
        try:
            inst = Instrument.for_symbol(symbol)
        except ValueError as exc:
            unknown.append(f"{symbol} ({exc})")
            continue
        if (inst.base_currency, inst.quote_currency) != (symbol[:3], symbol[3:]):
            unknown.append(f"{symbol} (read as {inst.base_currency}/{inst.quote_currency})")
    if unknown:
        raise SystemExit(f"Instrument.for_symbol does not know: {', '.join(unknown)}")
    return pairs


def basket_config(
    workload: str, symbols: list[str], n_bars: int, mode: str, seed: int = SEED
) -> BacktestConfig:
    """The workload's config with ``instruments:`` (the symbols) and ``data.synthetic``."""
    from omega.config import BacktestConfig

    data = json.loads(json.dumps(PORTFOLIO if workload == "pairs_zscore" else WORKLOADS[workload]))
    data.update(
        engine=mode,
        instruments=[{"symbol": s} for s in symbols],
        data={"synthetic": {"seed": seed, "n_bars": n_bars}},
    )
    return BacktestConfig.from_dict(data)


# ------------------------------------------------------------------------------- inputs


def _input_folder(cache: Path, symbols: list[str], n_bars: int, seed: int) -> Path:
    # The generator's draws depend on the symbol list: it is part of the name.
    digest = hashlib.sha1(",".join(symbols).encode()).hexdigest()[:8]
    return cache / f"basket-{len(symbols)}x{n_bars}-seed{seed}-{digest}"


def write_basket_input(cache: Path, symbols: list[str], n_bars: int, seed: int = SEED) -> Path:
    """The basket's synthetic bars as .npy columns, one folder per symbol (the layout of
    `omega.bench.inputs`), written on first use."""
    import numpy as np

    from omega.basket import load_basket_bars
    from omega.data.bars import COLUMNS

    folder = _input_folder(cache, symbols, n_bars, seed)
    if (folder / "symbols.json").exists():
        return folder
    bars = load_basket_bars(basket_config("mean_reversion", symbols, n_bars, "rust", seed))
    for symbol, series in bars.items():
        member = folder / symbol
        member.mkdir(parents=True, exist_ok=True)
        for name in COLUMNS:
            np.save(member / f"{name}.npy", getattr(series, name))
        meta = {"n_bars": n_bars, "seed": seed, "point": series.instrument.point}
        (member / "meta.json").write_text(json.dumps(meta))
    (folder / "symbols.json").write_text(json.dumps(symbols))  # written last: complete
    return folder


def ensure_basket_input(cache: Path, symbols: list[str], n_bars: int, seed: int = SEED) -> Path:
    """`write_basket_input` in a child process: the generator's temporaries (several GiB
    for a year of 28 pairs) never sit in the process that measures."""
    folder = _input_folder(cache, symbols, n_bars, seed)
    if (folder / "symbols.json").exists():
        return folder
    code = (
        "import json, sys; from pathlib import Path; "
        f"from {MODULE} import write_basket_input; "
        "print(write_basket_input(Path(sys.argv[1]), json.loads(sys.argv[2]), "
        "int(sys.argv[3]), int(sys.argv[4])))"
    )
    args = [str(cache), json.dumps(symbols), str(n_bars), str(seed)]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"writing the basket's input failed:\n{proc.stderr}")
    return folder


def load_basket_input(folder: Path, config: BacktestConfig) -> dict[str, BarSeries]:
    """Each member's bars from ``folder``, with the member's instrument."""
    from omega.bench.inputs import load_bars
    from omega.config.basket import member_configs

    out = {}
    for member in member_configs(config):
        instrument = member.instrument.to_instrument()
        bars = load_bars(folder / instrument.symbol)
        out[instrument.symbol] = dataclasses.replace(bars, instrument=instrument)
    return out


# ------------------------------------------------------------------------------- the sides


def single_configs(config: BacktestConfig, bars: Mapping[str, BarSeries]) -> list[BacktestConfig]:
    """The members' single-instrument configs (`member_configs`); a cross, which the basket
    converts through its pair of the quote and account currencies, gets that pair as a fixed
    rate (its first bid close): a single run converts through bars only from a file."""
    from omega.config.basket import conversion_pair, member_configs

    account = config.account.currency
    out = []
    for member in member_configs(config):
        inst = member.instrument.to_instrument()
        if account not in (inst.base_currency, inst.quote_currency):
            pair = conversion_pair(list(bars), inst.quote_currency, account)
            if pair is None:
                raise SystemExit(f"{inst.symbol}: no pair in the basket converts it to {account}")
            rate = float(bars[pair].bid_close[0])
            member = member.apply_overrides(
                [f"account.conversion={{symbol: {pair}, rate: {rate}}}"]
            )
        out.append(member)
    return out


def engine_members(
    config: BacktestConfig, bars: Mapping[str, BarSeries]
) -> list[tuple[BarSeries, str, dict, Any]]:
    """``(bars, strategy, params, settings)`` per member as `run_basket` hands them to the
    Rust engine (a cross converting through the basket's pair)."""
    from omega.basket import member_settings
    from omega.config.basket import member_configs

    members = member_configs(config)
    settings = member_settings(config, bars)
    return [
        (bars[m.instrument.to_instrument().symbol], m.strategy.name, dict(m.strategy.params), s)
        for m, s in zip(members, settings, strict=True)
    ]


def _own_conversion(settings: Any) -> Any:
    """``settings`` with a cross's conversion series as its own columns (not a basket
    member's bars), for a run outside the basket."""
    import dataclasses

    if settings.cross is None or settings.cross.member is None:
        return settings
    return dataclasses.replace(settings, cross=dataclasses.replace(settings.cross, member=None))


def sides(config: BacktestConfig, bars: Mapping[str, BarSeries]) -> dict[str, Callable[[], Any]]:
    """What is timed, by the call each side makes. Each returns its trade count."""
    from omega.basket import run_basket
    from omega.engine.basket import run_basket_rust
    from omega.engine.rust import run_rust
    from omega.runner import run_backtest

    singles = [(m, bars[m.instrument.to_instrument().symbol]) for m in single_configs(config, bars)]
    members = engine_members(config, bars)
    n = len(members)

    def basket() -> int:
        result = run_basket(config, bars=bars)
        if result.mode != "rust":
            raise SystemExit(f"the basket ran in {result.mode} mode: {result.mode_reason}")
        return sum(len(m.trades["entry_time"]) for m in result.raw.members)

    def single_runs() -> int:
        count = 0
        for member, series in singles:
            result = run_backtest(member, bars=series)
            if result.mode != "rust":
                raise SystemExit(f"a single run ran in {result.mode} mode: {result.mode_reason}")
            count += int(result.metrics["n_trades"])
        return count

    def basket_engine() -> int:
        return sum(len(m.trades["entry_time"]) for m in run_basket_rust(members).members)

    # A single run cannot read another member's bars: its conversion series is its own copy.
    alone = [
        (series, name, params, _own_conversion(settings))
        for series, name, params, settings in members
    ]

    def single_engines() -> int:
        return sum(len(run_rust(*member).trades["entry_time"]) for member in alone)

    return {
        BASKET_CALL: basket,
        SINGLES_CALL.format(n=n): single_runs,
        BASKET_ENGINE_CALL: basket_engine,
        SINGLES_ENGINE_CALL.format(n=n): single_engines,
    }


def time_sides(
    calls: Mapping[str, Callable[[], int]], rounds: int, repeat: int
) -> dict[str, dict[str, Any]]:
    """Every side once per round (best of ``repeat``), in the opposite order every other
    round; per side the median of its rounds, each round's figure and its trade count."""
    names = list(calls)
    best: dict[str, list[float]] = {name: [] for name in names}
    trades: dict[str, int] = {}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            times = []
            for _ in range(repeat):
                gc.collect()  # the previous side's garbage is not charged to this one
                started = time.perf_counter()
                trades[name] = calls[name]()
                times.append(time.perf_counter() - started)
            best[name].append(min(times))
    return {
        name: {
            "seconds": statistics.median(best[name]),
            "rounds": best[name],
            "trades": trades[name],
        }
        for name in names
    }


# ------------------------------------------------------------------------------- memory


def memory_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """A fresh process: imports and a warm-up on a short basket of the same symbols, then the
    input loaded, then (``run``) the basket in rust mode. RSS read as for single runs."""
    from omega.basket import run_basket
    from omega.bench.memory import peak_rss_bytes, rss_bytes
    from omega.data.synthetic import generate_basket

    symbols, workload = spec["symbols"], spec["workload"]
    warm_config = basket_config(workload, symbols, WARMUP_BARS, "rust")
    warm = generate_basket(symbols, n_bars=WARMUP_BARS, seed=1)
    run_basket(warm_config, bars=warm).final_balance  # noqa: B018
    del warm
    gc.collect()
    baseline = rss_bytes()
    config = basket_config(workload, symbols, spec["n_bars"], "rust")
    bars = load_basket_input(Path(spec["input"]), config)
    loaded = rss_bytes()
    trades = None
    if spec["run"]:
        result = run_basket(config, bars=bars)
        trades = sum(len(m.trades["entry_time"]) for m in result.raw.members)
    return {
        "baseline_bytes": baseline,
        "loaded_bytes": loaded,
        "peak_bytes": peak_rss_bytes(),
        "bars": sum(len(b) for b in bars.values()),
        "input_bytes": sum(b.nbytes for b in bars.values()),
        "trades": trades,
    }


def measure_memory(folder: Path, symbols: list[str], n_bars: int, workload: str) -> dict[str, Any]:
    """The load-only process and the basket process; added bytes per bar between their peaks."""
    out: dict[str, Any] = {}
    for kind, run in (("load", False), ("basket", True)):
        spec = {"input": str(folder), "symbols": symbols, "n_bars": n_bars,
                "workload": workload, "run": run}  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", MODULE, "--memory-worker", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"memory worker ({kind}) failed:\n{proc.stderr}")
        out[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
    added = out["basket"]["peak_bytes"] - out["load"]["peak_bytes"]
    out["added_per_bar"] = added / out["basket"]["bars"]
    return out


# ------------------------------------------------------------------------------- trades


def check_modes(config: BacktestConfig, bars: Mapping[str, BarSeries]) -> dict[str, Any]:
    """The basket in rust, hybrid and python mode: each mode's time and trade count, and
    whether its trades equal rust mode's column for column."""
    from omega.basket import run_basket

    results: dict[str, BasketResult] = {}
    out: dict[str, Any] = {}
    for mode in ("rust", "hybrid", "python"):
        started = time.perf_counter()
        result = run_basket(config.apply_overrides([f"engine={mode}"]), bars=bars)
        seconds = time.perf_counter() - started
        if result.mode != mode:
            raise SystemExit(f"asked for {mode} mode, ran {result.mode}: {result.mode_reason}")
        results[mode] = result
        out[mode] = {
            "seconds": seconds,
            "trades": len(result.trades),
            "final_balance": result.final_balance,
            "trades_equal_rust": result.trades_equal(results["rust"]),
        }
    out["identical"] = all(out[m]["trades_equal_rust"] for m in ("hybrid", "python"))
    return out


# ------------------------------------------------------------------------------- tables


def timing_table(timed: dict[str, dict[str, Any]]) -> str:
    names = list(timed)
    body = []
    for k, name in enumerate(names):
        row = timed[name]
        # Rows come in pairs: the basket, then what it is measured against.
        reference = timed[names[k + 1]]["seconds"] if k % 2 == 0 else None
        ratio = f"{row['seconds'] / reference:.2f}" if reference else ""
        spread = f"{min(row['rounds']):.3f}-{max(row['rounds']):.3f}"
        body.append([name, f"{row['seconds']:.3f}", spread, ratio, f"{row['trades']:,}"])
    header = ["call", "median s", "min-max s", "basket / singles", "trades"]
    return table(header, body)


def memory_table(memory: dict[str, Any]) -> str:
    def cells(process: dict[str, Any]) -> list[str]:
        sizes = (process["input_bytes"], process["baseline_bytes"], process["peak_bytes"])
        return [f"{size / MIB:.0f}" for size in sizes]

    body = [
        ["load the bars only", *cells(memory["load"]), ""],
        [f"load, then {BASKET_CALL} (rust)", *cells(memory["basket"]),
         f"{memory['added_per_bar']:.1f}"],
    ]  # fmt: skip
    header = ["fresh process", "input MiB", "baseline MiB", "peak RSS MiB", "added B/bar"]
    return table(header, body)


def modes_table(checked: dict[str, Any]) -> str:
    body = []
    for mode in ("rust", "hybrid", "python"):
        row = checked[mode]
        same = "(reference)" if mode == "rust" else ("yes" if row["trades_equal_rust"] else "NO")
        body.append([f"run_basket, engine: {mode}", f"{row['seconds']:.2f}",
                     f"{row['trades']:,}", f"{row['final_balance']:,.2f}", same])  # fmt: skip
    return table(["call", "s", "trades", "final equity", "trades equal rust's"], body)


# ------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from omega.bench.inputs import default_cache_root

    parser = argparse.ArgumentParser(
        prog="python -m omega.bench.basket",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bars", type=int, default=ONE_YEAR_M1, help="M1 bars per instrument")
    parser.add_argument(
        "--symbols", nargs="+", default=None, help="the basket (default: 28 pairs of 8 currencies)"
    )
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1, help="best of N calls per round")
    parser.add_argument(
        "--check-bars", type=int, default=20_000, help="bars per instrument, modes compared"
    )
    parser.add_argument(
        "--check-modes",
        action="store_true",
        help="also compare the modes on the full basket (python mode takes minutes)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory processes")
    parser.add_argument(
        "--no-portfolio", action="store_true", help="skip the pairs_zscore portfolio table"
    )
    parser.add_argument("--cache", type=Path, default=default_cache_root())
    parser.add_argument("--json", type=Path, default=None, help="write every figure as JSON")
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_workload(args: argparse.Namespace, workload: str, symbols: list[str]) -> dict[str, Any]:
    total = args.bars * len(symbols)
    print(
        f"\n### {workload}: {len(symbols)} instruments x {args.bars:,} M1 bars = {total:,} bars\n"
    )
    config = basket_config(workload, symbols, args.bars, "rust")
    folder = ensure_basket_input(args.cache, symbols, args.bars)
    bars = load_basket_input(folder, config)
    calls = sides(config, bars)
    for call in calls.values():  # warm-up: first-call set-up is not timed
        call()
    timed = time_sides(calls, args.rounds, args.repeat)
    print(f"rust mode; median of {args.rounds} rounds of the best of {args.repeat}, "
          "the order reversed every other round\n")  # fmt: skip
    print(timing_table(timed), flush=True)
    out: dict[str, Any] = {"bars_per_instrument": args.bars, "bars": total, "timing": timed}
    names = list(timed)
    out["ratio"] = timed[names[0]]["seconds"] / timed[names[1]]["seconds"]
    out["engine_ratio"] = timed[names[2]]["seconds"] / timed[names[3]]["seconds"]
    del bars, calls
    gc.collect()
    if not args.no_memory:
        out["memory"] = measure_memory(folder, symbols, args.bars, workload)
        print()
        print(memory_table(out["memory"]), flush=True)
    sizes = [args.check_bars] + ([args.bars] if args.check_modes else [])
    out["modes"] = {}
    for n_bars in sizes:
        short = basket_config(workload, symbols, n_bars, "rust")
        checked = check_modes(
            short, load_basket_input(ensure_basket_input(args.cache, symbols, n_bars), short)
        )
        out["modes"][str(n_bars)] = checked
        print(f"\ntrades per mode, {len(symbols)} x {n_bars:,} bars\n")
        print(modes_table(checked), flush=True)
    return out


def run_portfolio(args: argparse.Namespace, symbols: list[str]) -> dict[str, Any]:
    """pairs_zscore over the basket: its rust-mode time (median of the rounds) and its trades
    in rust, hybrid and python mode on the short basket."""
    from omega.basket import run_basket

    total = args.bars * len(symbols)
    print(f"\n### pairs_zscore (a portfolio strategy): {len(symbols)} instruments x "
          f"{args.bars:,} M1 bars = {total:,} bars\n")  # fmt: skip
    config = basket_config("pairs_zscore", symbols, args.bars, "rust")
    bars = load_basket_input(ensure_basket_input(args.cache, symbols, args.bars), config)
    run_basket(config, bars=bars)  # warm-up
    rounds, trades = [], 0
    for _ in range(args.rounds):
        started = time.perf_counter()
        trades = len(run_basket(config, bars=bars).trades)
        rounds.append(time.perf_counter() - started)
    median = statistics.median(rounds)
    body = [[BASKET_CALL + " (rust)", f"{median:.3f}", f"{min(rounds):.3f}-{max(rounds):.3f}",
             f"{trades:,}"]]  # fmt: skip
    print(table(["call", "median s", "min-max s", "trades"], body), flush=True)
    del bars
    gc.collect()
    short = basket_config("pairs_zscore", symbols, args.check_bars, "rust")
    checked = check_modes(
        short, load_basket_input(ensure_basket_input(args.cache, symbols, args.check_bars), short)
    )
    print(f"\ntrades per mode, {len(symbols)} x {args.check_bars:,} bars\n")
    print(modes_table(checked), flush=True)
    timing = {"seconds": median, "rounds": rounds, "trades": trades}
    return {"bars": total, "timing": timing, "modes": {str(args.check_bars): checked}}


def _verdict(name: str, measured: str, met: bool) -> list[str]:
    return [name, measured, "met" if met else "MISSED"]


def verdicts(results: dict[str, dict[str, Any]], n: int) -> list[list[str]]:
    rows = []
    for w, out in results.items():
        if "ratio" not in out:  # a portfolio strategy: no single runs to compare with
            for n_bars, checked in out["modes"].items():
                name = f"{w}: trades identical in rust, hybrid, python ({int(n_bars):,} bars each)"
                rows.append(_verdict(name, "", checked["identical"]))
            continue
        ratio, engine = out["ratio"], out["engine_ratio"]
        rows.append(_verdict(f"{w}: run_basket / {n} run_backtest <= {RATIO_TARGET}x",
                             f"{ratio:.2f}x", ratio <= RATIO_TARGET))  # fmt: skip
        rows.append(_verdict(f"{w}: engine alone, same conversions <= {RATIO_TARGET}x",
                             f"{engine:.2f}x", engine <= RATIO_TARGET))  # fmt: skip
        if "memory" in out:
            per_bar = out["memory"]["added_per_bar"]
            rows.append(_verdict(f"{w}: memory added <= {MEMORY_PER_BAR:g} B per bar",
                                 f"{per_bar:.1f} B", per_bar <= MEMORY_PER_BAR))  # fmt: skip
        for n_bars, checked in out["modes"].items():
            name = f"{w}: trades identical in rust, hybrid, python ({int(n_bars):,} bars each)"
            rows.append(_verdict(name, "", checked["identical"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_worker:
        print(json.dumps(memory_worker(json.loads(args.memory_worker))))
        return 0
    symbols = [s.upper() for s in args.symbols] if args.symbols else basket_symbols()
    args.cache.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"{datetime.date.today()}: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average at start {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}")  # fmt: skip
    print(f"basket: {', '.join(symbols)}")
    results = {workload: run_workload(args, workload, symbols) for workload in args.workloads}
    if not args.no_portfolio and {"EURUSD", "GBPUSD"} <= set(symbols):
        results["pairs_zscore"] = run_portfolio(args, symbols)
    print("\n### targets\n")
    rows = verdicts(results, len(symbols))
    print(table(["target", "measured", "verdict"], rows))
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"symbols": symbols, "workloads": results}, indent=2))
    identical = all(c["identical"] for out in results.values() for c in out["modes"].values())
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())

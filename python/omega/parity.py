"""Parity harness: the same configurations through every engine mode, compared exactly.

`python -m omega.parity --count 200` draws seeded configurations (strategy and its parameters,
intrabar policy, slippage and fee models, sizing, timeframes, management) over synthetic data
of several regimes (and the real data in ../shared/data when present), runs each in `python`,
`hybrid` and `rust` mode and bar by bar through a stream session (`omega.stream`), and requires
identical trade lists (every field, prices compared with
==) and identical equity curves. On a mismatch it reports the first bar where the runs diverge
and the decision traces around it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omega.data.bars import BarSeries, Instrument
from omega.engine.raw import TRADE_COLUMNS, RawRun
from omega.engine.settings import (
    BreakEvenSettings,
    CrossSettings,
    EngineSettings,
    FeeSettings,
    MarginSettings,
    SessionSettings,
    SizingSettings,
    SlippageSettings,
    SwapSettings,
    TrailingSettings,
)
from omega.timeframes import Timeframe

# `stream`: the rust strategy fed its bars one at a time by `omega.stream.StreamSession`.
MODES = ("python", "hybrid", "rust", "stream")


@dataclass(frozen=True)
class ParityCase:
    """One configuration: data, strategy, settings."""

    case_id: int
    data_seed: int
    n_bars: int
    symbol: str
    strategy: str
    params: dict
    settings: EngineSettings
    real_data: str | None = None  # name of a REAL_DATASETS entry instead of synthetic bars

    def describe(self) -> str:
        s = self.settings
        data = self.real_data or f"synthetic seed={self.data_seed} bars={self.n_bars}"
        return (
            f"case {self.case_id}: {self.strategy} {self.params} on {self.symbol} "
            f"{data} primary={s.primary_timeframe} "
            f"tfs={[str(t) for t in s.timeframes]} policy={s.intrabar_policy} "
            f"slippage={s.slippage.model} sizing={s.sizing.mode} be={s.break_even is not None} "
            f"trail={s.trailing is not None} max_bars={s.max_bars_held} "
            f"features={','.join(features(self)) or 'none'}"
        )


def features(case: ParityCase) -> list[str]:
    """The order and FX-account features a case uses (for the per-feature counts)."""
    s = case.settings
    used = []
    if case.params.get("entry_offset_pips", 0.0) > 0.0:
        used.append("stop_entry" if case.params.get("entry_stop") else "limit_entry")
    if s.swap is not None:
        used.append("swap")
    if s.margin is not None:
        used.append("margin")
    if s.cross is not None:
        used.append("cross")
    if s.session is not None:
        used.append("session")
    if s.blackouts:
        used.append("blackouts")
    if s.end_of_data != "last_close":
        used.append(f"end_{s.end_of_data}")
    return used


@dataclass
class Mismatch:
    case: ParityCase
    modes: tuple[str, str]
    what: str
    first_bar: int | None
    context: str = ""

    def report(self) -> str:
        text = f"MISMATCH {self.modes[0]} vs {self.modes[1]}: {self.what}\n  {self.case.describe()}"
        if self.first_bar is not None:
            text += f"\n  first divergent primary bar: {self.first_bar}"
        if self.context:
            text += "\n" + self.context
        return text


# --------------------------------------------------------------------------------------------
# configurations


def _mean_reversion_params(rng: random.Random) -> dict:
    params = {
        "kalman_q": rng.choice([0.001, 0.01, 0.05, 0.2]),
        "lookback": rng.choice([10, 20, 50, 100]),
        "z_entry": rng.choice([1.5, 2.0, 2.5]),
        "z_exit": rng.choice([0.0, 0.25, 0.5, 1.0]),
        "atr_period": rng.choice([7, 14, 21]),
        "sl_atr": rng.choice([1.0, 2.0, 3.0]),
        "tp_atr": rng.choice([0.0, 1.5, 3.0]),
        "max_holding_bars": rng.choice([0, 12, 48]),
        "trend_filter": rng.random() < 0.5,
    }
    if params["trend_filter"]:
        params["trend_ema"] = rng.choice([10, 20, 50])
    return params


def _strategy_choice(rng: random.Random) -> tuple[str, dict]:
    roll = rng.random()
    if roll < 0.45:
        return "mean_reversion_z_score", _mean_reversion_params(rng)
    if roll < 0.8:
        params = {"fast": rng.choice([5, 10]), "slow": rng.choice([20, 30])}
        if rng.random() < 0.7:  # pending entries: limit or stop orders, some expiring
            params["entry_offset_pips"] = rng.choice([0.5, 2.0, 5.0])
            params["entry_stop"] = rng.random() < 0.5
            params["entry_expiry_bars"] = rng.choice([0, 3, 10])
        return "sma_cross", params
    return "zscore_threshold", {"period": rng.choice([20, 50]), "entry": rng.choice([1.5, 2.0])}


MINUTE = 60 * 10**9
SYNTHETIC_START = 1_704_067_200 * 10**9  # generate_synthetic's default start, 2024-01-01


def _account(rng: random.Random, symbol: str, n_bars: int, data_seed: int) -> dict:
    """The FX-account settings of a case: swap, margin, a cross, sessions, blackouts and the
    end-of-data policy, each drawn independently."""
    account: dict = {"end_of_data": rng.choice(["last_close", "last_close", "last_open", "mark"])}
    if rng.random() < 0.4:
        account["swap"] = SwapSettings(
            long=rng.choice([-6.5, -0.8, 1.2]),
            short=rng.choice([-3.0, 0.4]),
            unit=rng.choice(["points", "annual_percent"]),
            timezone=rng.choice(["America/New_York", "Europe/London"]),
            triple_weekday=rng.choice([2, 2, 4]),
        )
    if rng.random() < 0.3:
        account["margin"] = MarginSettings(
            margin_rate=rng.choice([0.01, 0.02, 0.05]),
            margin_call_level=rng.choice([100.0, 150.0]),
            stop_out_level=rng.choice([50.0, 90.0]),
        )
        # a small account, so that stop-outs and refusals happen
        account["initial_balance"] = rng.choice([2_500.0, 5_000.0, 100_000.0])
    if symbol == "EURUSD" and rng.random() < 0.25:
        # EURUSD in a GBP account: USD amounts / GBPUSD (a fixed rate or synthetic bars)
        if rng.random() < 0.5:
            account["cross"] = CrossSettings("GBPUSD", multiply=False, fixed_rate=1.2650)
        else:
            from omega.data import generate_synthetic

            gbpusd = generate_synthetic(n_bars=n_bars, seed=data_seed + 1, symbol="GBPUSD")
            account["cross"] = CrossSettings(
                "GBPUSD",
                multiply=False,
                times=np.asarray(gbpusd.time, dtype=np.int64),
                closes=np.asarray(gbpusd.bid_close, dtype=np.float64),
            )
        account["account_currency"] = "GBP"
    if rng.random() < 0.25:
        account["session"] = SessionSettings(
            timezone=rng.choice(["Europe/London", "America/New_York", "Asia/Tokyo"]),
            start=rng.choice(["07:00", "08:00", "22:00"]),
            end=rng.choice(["12:00", "17:00", "04:00"]),
            weekdays=rng.choice([(0, 1, 2, 3, 4), (0, 2, 4)]),
        )
    if rng.random() < 0.25:
        windows = []
        for _ in range(rng.choice([1, 3, 8])):
            start = SYNTHETIC_START + rng.randrange(n_bars) * MINUTE
            windows.append((start, start + rng.choice([15, 60, 240]) * MINUTE))
        account["blackouts"] = tuple(windows)
    return account


def generate_cases(count: int, seed: int = 0, n_bars: int = 6000) -> Iterator[ParityCase]:
    """`count` seeded configurations; the same (count, seed) always gives the same cases."""
    rng = random.Random(seed)
    for case_id in range(count):
        strategy, params = _strategy_choice(rng)
        primary = rng.choice([Timeframe.M1, Timeframe.M5, Timeframe.M5, Timeframe.M15])
        timeframes = [primary]
        if strategy == "mean_reversion_z_score" and params.get("trend_filter"):
            params["trend_timeframe"] = "H1"
            timeframes.append(Timeframe.H1)
        symbol = rng.choice(["EURUSD", "EURUSD", "EURUSD", "USDJPY"])
        instrument = Instrument.for_symbol(symbol)
        slippage_model = rng.choice(["none", "fixed", "random", "atr"])
        slippage = SlippageSettings(
            model=slippage_model,
            pips=rng.choice([0.1, 0.5, 1.0]),
            atr_fraction=rng.choice([0.05, 0.1]),
            atr_period=14,
            seed=rng.randrange(1 << 32),
        )
        fees = FeeSettings(
            commission_per_lot=rng.choice([0.0, 3.5, 7.0]),
            percent_of_notional=rng.choice([0.0, 0.0, 0.002]),
        )
        if strategy == "mean_reversion_z_score" and rng.random() < 0.6:
            sizing = SizingSettings(mode="risk_percent", risk_percent=rng.choice([0.5, 1.0, 2.0]))
        else:
            sizing = SizingSettings(mode="fixed", lots=rng.choice([0.1, 1.0, 2.5]))
        data_seed = rng.randrange(1 << 31)
        account = _account(rng, symbol, n_bars, data_seed)
        account.setdefault("initial_balance", 100_000.0)
        account.setdefault("account_currency", "USD")
        settings = EngineSettings(
            **account,
            primary_timeframe=primary,
            timeframes=tuple(timeframes),
            intrabar_policy=rng.choice(["pessimistic", "optimistic", "finer"]),
            slippage=slippage,
            fees=fees,
            sizing=sizing,
            break_even=(
                BreakEvenSettings(trigger=rng.choice([3.0, 8.0]), offset=1.0)
                if rng.random() < 0.3
                else None
            ),
            trailing=(
                TrailingSettings(distance=rng.choice([5.0, 15.0])) if rng.random() < 0.3 else None
            ),
            max_bars_held=rng.choice([None, None, 30]),
            instrument=instrument,
        )
        yield ParityCase(
            case_id=case_id,
            data_seed=data_seed,
            n_bars=n_bars,
            symbol=symbol,
            strategy=strategy,
            params=params,
            settings=settings,
        )


# --------------------------------------------------------------------------------------------
# running and comparing


def _runners() -> dict[str, Callable[[BarSeries, ParityCase, bool], RawRun]]:
    from omega.engine import hybrid, rust
    from omega.engine.loop import run_python
    from omega.strategy import get_strategy

    def python_mode(bars: BarSeries, case: ParityCase, trace: bool) -> RawRun:
        strategy = get_strategy(case.strategy)(case.params)
        return run_python(bars, strategy, case.settings, trace=trace)

    def hybrid_mode(bars: BarSeries, case: ParityCase, trace: bool) -> RawRun:
        strategy = get_strategy(case.strategy)(case.params)
        return hybrid.run_hybrid(bars, strategy, case.settings, trace=trace)

    def rust_mode(bars: BarSeries, case: ParityCase, trace: bool) -> RawRun:
        return rust.run_rust(bars, case.strategy, case.params, case.settings, trace=trace)

    def stream_mode(bars: BarSeries, case: ParityCase, trace: bool) -> RawRun:
        from omega.stream import StreamSession

        session = StreamSession(
            case.strategy, case.params, case.settings, base_timeframe=bars.timeframe, trace=trace
        )
        session.push_bars(bars)
        return session.finish()

    return {
        "python": python_mode,
        "hybrid": hybrid_mode,
        "rust": rust_mode,
        "stream": stream_mode,
    }


def _columns_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise exact equality, NaN equal to NaN (and nothing else)."""
    if a.dtype == object or b.dtype == object:
        return np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
    eq = a == b
    if a.dtype.kind == "f":
        eq |= np.isnan(a) & np.isnan(b)
    return eq


def compare_runs(a: RawRun, b: RawRun) -> tuple[str, int | None] | None:
    """None when identical; else (what differs, first divergent primary bar or None)."""
    na, nb = a.n_trades, b.n_trades
    first_bad_trade = None
    for name in TRADE_COLUMNS:
        ca, cb = a.trades[name], b.trades[name]
        n = min(len(ca), len(cb))
        eq = _columns_equal(np.asarray(ca[:n]), np.asarray(cb[:n]))
        if not eq.all():
            row = int(np.argmin(eq))
            if first_bad_trade is None or row < first_bad_trade[0]:
                first_bad_trade = (row, name, ca[row], cb[row])
    eq_equity = _columns_equal(a.equity, b.equity) if len(a.equity) == len(b.equity) else None
    if first_bad_trade is not None:
        row, name, va, vb = first_bad_trade
        bar = int(min(a.trades["entry_index"][row], b.trades["entry_index"][row]))
        return f"trade {row} field {name}: {va!r} != {vb!r}", bar
    if na != nb:
        n = min(na, nb)
        bars = [int(t.trades["entry_index"][n]) for t in (a, b) if t.n_trades > n]
        return f"trade count {na} != {nb}", min(bars) if bars else None
    if eq_equity is None:
        return f"equity length {len(a.equity)} != {len(b.equity)}", None
    if not eq_equity.all():
        bar = int(np.argmin(eq_equity))
        return f"equity at bar {bar}: {a.equity[bar]!r} != {b.equity[bar]!r}", bar
    for attr in (
        "final_balance",
        "bars_processed",
        "base_bars",
        "ignored_signals",
        "dropped_orders",
    ):
        if getattr(a, attr) != getattr(b, attr):
            return f"{attr}: {getattr(a, attr)!r} != {getattr(b, attr)!r}", None
    if [dataclasses.astuple(s) for s in a.skipped_orders] != [
        dataclasses.astuple(s) for s in b.skipped_orders
    ]:
        return "skipped_orders differ", None
    return None


def _trace_context(rows_a: list[dict], rows_b: list[dict], bar: int, names: tuple[str, str]) -> str:
    lines = [f"  decision traces around bar {bar} ({names[0]} | {names[1]}):"]
    for i in range(max(0, bar - 3), bar + 2):
        ra = rows_a[i] if i < len(rows_a) else None
        rb = rows_b[i] if i < len(rows_b) else None
        lines.append(f"    bar {i}: {ra} | {rb}")
    return "\n".join(lines)


# Real EURUSD minute bars (../shared/data, see its README): folder, format, loader options.
REAL_DATASETS: dict[str, tuple[str, str, dict]] = {
    "mt5_eurusd_2024": ("mt5_eurusd_2024", "mt5", {"tz": "EET"}),
    "histdata_eurusd_2017": ("histdata_eurusd_2017", "histdata", {"spread_pips": 0.8}),
    "lean_oanda_eurusd_2014": ("lean_oanda_eurusd_2014", "lean", {}),
}


def default_real_data_dir() -> Path | None:
    """env OMEGA_REAL_DATA, else ../shared/data beside the working directory (the repository
    root under nox) or beside this source tree; None where absent."""
    env = os.environ.get("OMEGA_REAL_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        path = root.parent / "shared" / "data"
        if path.is_dir():
            return path
    return None


def real_data_cases(count_per_dataset: int, seed: int = 0) -> Iterator[ParityCase]:
    """Seeded configurations over each real data set (EURUSD, so no USDJPY draws)."""
    eurusd = Instrument.for_symbol("EURUSD")
    case_id = 100_000
    for offset, name in enumerate(REAL_DATASETS):
        for case in generate_cases(count_per_dataset, seed=seed + 7919 * (offset + 1)):
            settings = dataclasses.replace(case.settings, instrument=eurusd)
            if settings.cross is not None and settings.cross.fixed_rate is None:
                cross = CrossSettings("GBPUSD", multiply=False, fixed_rate=1.2650)
                settings = dataclasses.replace(settings, cross=cross)
            yield dataclasses.replace(
                case, case_id=case_id, symbol="EURUSD", settings=settings, real_data=name
            )
            case_id += 1


def load_real(root: Path, name: str) -> BarSeries:
    from omega.data import load

    folder, fmt, options = REAL_DATASETS[name]
    return load(root / folder, fmt, **options)


def synthetic_bars(case: ParityCase) -> BarSeries:
    from omega.data import generate_synthetic

    return generate_synthetic(n_bars=case.n_bars, seed=case.data_seed, symbol=case.symbol)


def _same_value(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def compare_metrics(
    reference: RawRun, run: RawRun, settings: EngineSettings
) -> tuple[str, None] | None:
    """None when ``run`` carries no metrics (the Python engine) or when the metrics the core
    computed with it equal, key for key and bit for bit, Python's `compute_metrics` of the
    reference run (whose trades and equity ``run`` already matched)."""
    if run.metrics is None:
        return None
    from omega.results.metrics import compute_metrics

    expected = compute_metrics(
        reference, settings.initial_balance, settings.primary_timeframe.nanos
    )
    if list(expected) != list(run.metrics):
        return f"metrics keys {list(run.metrics)} != {list(expected)}", None
    for key, value in expected.items():
        if not _same_value(value, run.metrics[key]):
            return f"metric {key}: {value!r} (python) != {run.metrics[key]!r}", None
    return None


def run_case(
    case: ParityCase,
    bars: BarSeries,
    modes: tuple[str, ...] = MODES,
    runners: dict | None = None,
) -> tuple[dict[str, RawRun], list[Mismatch]]:
    runners = runners or _runners()
    runs = {mode: runners[mode](bars, case, False) for mode in modes}
    reference = modes[0]
    mismatches = []
    for mode in modes[1:]:
        diff = compare_runs(runs[reference], runs[mode])
        if diff is None:
            diff = compare_metrics(runs[reference], runs[mode], case.settings)
        if diff is None:
            continue
        what, bar = diff
        context = ""
        if bar is not None:
            traced_a = runners[reference](bars, case, True).trace or []
            traced_b = runners[mode](bars, case, True).trace or []
            context = _trace_context(traced_a, traced_b, bar, (reference, mode))
        mismatches.append(Mismatch(case, (reference, mode), what, bar, context))
    return runs, mismatches


def available_modes() -> tuple[str, ...]:
    try:
        import omega._core  # noqa: F401
    except ImportError:
        return ("python",)
    return MODES


def run_parity(
    count: int,
    seed: int = 0,
    n_bars: int = 6000,
    modes: tuple[str, ...] | None = None,
    out=sys.stdout,
    real_data_dir: Path | None = None,
    real_count: int = 0,
) -> tuple[int, int, list[Mismatch]]:
    """Runs `count` synthetic cases (+ `real_count` per real data set when `real_data_dir` is
    given); returns (cases run, trades compared, mismatches)."""
    modes = modes or available_modes()
    runners = _runners()
    mismatches: list[Mismatch] = []
    trades = 0
    started = time.perf_counter()
    cases: list[ParityCase] = list(generate_cases(count, seed, n_bars))
    real: dict[str, BarSeries] = {}
    if real_data_dir is not None and real_count > 0:
        cases.extend(real_data_cases(real_count, seed))
        real = {name: load_real(real_data_dir, name) for name in REAL_DATASETS}
    for case in cases:
        bars = real[case.real_data] if case.real_data else synthetic_bars(case)
        runs, found = run_case(case, bars, modes, runners)
        mismatches.extend(found)
        trades += runs[modes[0]].n_trades
        for m in found:
            print(m.report(), file=out)
    elapsed = time.perf_counter() - started
    n_real = sum(1 for case in cases if case.real_data)
    counts: dict[str, int] = {}
    for case in cases:
        for name in features(case):
            counts[name] = counts.get(name, 0) + 1
    print(
        "parity: configurations per feature: "
        + (", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "none"),
        file=out,
    )
    print(
        f"parity: {len(cases)} configurations ({len(cases) - n_real} synthetic, {n_real} on "
        f"real data: {', '.join(real) or 'none'}) x modes {', '.join(modes)}: "
        f"{len(mismatches)} mismatches, {trades} trades compared, {elapsed:.1f} s",
        file=out,
    )
    return len(cases), trades, mismatches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omega.parity", description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="configurations (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the configuration draw")
    parser.add_argument("--bars", type=int, default=6000, help="M1 bars per configuration")
    parser.add_argument(
        "--real-data",
        type=Path,
        default=None,
        help="folder of the real data (default: $OMEGA_REAL_DATA or ../shared/data)",
    )
    parser.add_argument(
        "--real-count", type=int, default=20, help="configurations per real data set (default 20)"
    )
    args = parser.parse_args(argv)
    modes = available_modes()
    if len(modes) < 2:
        print("parity: omega._core is not importable; nothing to compare", file=sys.stderr)
        return 2
    real_dir = args.real_data or default_real_data_dir()
    if real_dir is None:
        print("parity: real data not found (set OMEGA_REAL_DATA); synthetic cases only")
    _, _, mismatches = run_parity(
        args.count, args.seed, args.bars, modes, real_data_dir=real_dir, real_count=args.real_count
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())

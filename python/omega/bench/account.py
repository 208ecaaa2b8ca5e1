"""What the order and FX-account steps cost: ``omega.run_backtest`` with each feature off and
on, side by side in one process, alternating round by round.

    python -m omega.bench.account --bars 1000000 --rounds 7

Each row is the median over rounds of the best of ``--repeat`` calls, its ratio to the row
with every feature off, and the trade count (a feature that changes no trade would measure
nothing). The base row against the build before the features is ``omega.bench.compare``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

FEATURES: dict[str, list[str]] = {
    "none (market entries, no account model)": [],
    "pending limit entries": ["strategy.params.entry_offset_pips=2.0"],
    "pending stop entries, 10-bar expiry": [
        "strategy.params.entry_offset_pips=2.0",
        "strategy.params.entry_stop=true",
        "strategy.params.entry_expiry_bars=10",
    ],
    "swap (17:00 New York)": ["instrument.swap={long: -6.5, short: 1.2}"],
    "margin 1:30, stop-out 50 %": ["account.leverage=30"],
    "cross (GBP account, fixed GBPUSD)": [
        "account.currency=GBP",
        "account.conversion={symbol: GBPUSD, rate: 1.265}",
    ],
    "London session": ["execution.session={timezone: Europe/London, start: '08:00', end: '17:00'}"],
    "all of them": [
        "strategy.params.entry_offset_pips=2.0",
        "instrument.swap={long: -6.5, short: 1.2}",
        "account.leverage=30",
        "account.currency=GBP",
        "account.conversion={symbol: GBPUSD, rate: 1.265}",
        "execution.session={timezone: Europe/London, start: '08:00', end: '17:00'}",
    ],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omega.bench.account", description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mode", default="rust", help="rust, hybrid or python")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "omega-bench")
    args = parser.parse_args(argv)

    from omega.bench.inputs import ensure_input, load_bars
    from omega.config import BacktestConfig
    from omega.runner import run_backtest

    bars = load_bars(ensure_input(args.cache, args.bars, peer=False))
    base = BacktestConfig.from_dict(
        {
            "engine": args.mode,
            "strategy": {"name": "sma_cross"},
            "timeframes": {"primary": "M1", "extra": []},
            "execution": {"sizing": {"mode": "fixed", "lots": 1.0}},
        }
    )
    configs = {name: base.apply_overrides(sets) for name, sets in FEATURES.items()}
    best: dict[str, list[float]] = {name: [] for name in configs}
    trades: dict[str, Any] = {}
    for _ in range(args.rounds):
        for name, config in configs.items():
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = run_backtest(config, bars=bars)
                times.append(time.perf_counter() - started)
            best[name].append(min(times))
            trades[name] = result.metrics["n_trades"]
    medians = {name: statistics.median(values) for name, values in best.items()}
    reference = medians[next(iter(FEATURES))]
    print(
        f"omega.run_backtest, sma_cross M1, {args.bars:,} bars, mode {args.mode}: "
        f"median of {args.rounds} rounds of the best of {args.repeat}"
    )
    print(f"  {'features':<42} {'s':>8} {'ratio':>6} {'trades':>8}")
    for name, seconds in medians.items():
        print(f"  {name:<42} {seconds:8.4f} {seconds / reference:6.3f} {trades[name]:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

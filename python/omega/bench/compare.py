"""Before/after: ``omega.run_backtest`` timed in two installations, side by side, in one run.

An API or engine change is judged against the build before it on the same machine at the
same time: both interpreters (this one and ``--other``, for example a venv with the wheel of
the previous commit) run the same workloads on the same cached input, alternating round by
round so that load on the machine hits both alike. Each side also reports its trades and
final balance, so a speed figure is only printed next to proof that both traded alike.

    python -m omega.bench.compare --other /path/to/old/venv/bin/python --bars 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WORKLOADS: dict[str, dict[str, Any]] = {
    "sma_cross M1": {"strategy": {"name": "sma_cross"}, "timeframes": {"primary": "M1"}},
    "zscore_threshold M1": {
        "strategy": {"name": "zscore_threshold"},
        "timeframes": {"primary": "M1"},
    },
    "mean_reversion M5+H1": {
        "strategy": {"name": "mean_reversion_z_score"},
        "timeframes": {"primary": "M5", "extra": ["H1"]},
    },
}
DEFAULT_CACHE = Path.home() / ".cache" / "omega-bench"


def worker(bars: int, repeat: int, mode: str, cache: Path) -> dict[str, Any]:
    """Best of ``repeat`` `omega.run_backtest` calls per workload, in this installation."""
    from omega.bench.inputs import ensure_input, load_bars
    from omega.config import BacktestConfig
    from omega.runner import run_backtest

    series = load_bars(ensure_input(cache, bars, peer=False))
    out: dict[str, Any] = {}
    for name, config in WORKLOADS.items():
        parsed = BacktestConfig.from_dict({"engine": mode, **config})
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = run_backtest(parsed, bars=series)
            times.append(time.perf_counter() - started)
        metrics = result.metrics
        out[name] = {
            "seconds": min(times),
            "trades": metrics["n_trades"],
            "final_balance": metrics["final_balance"],
            "mode": result.mode,
        }
    return out


def _run(python: str, args: argparse.Namespace, mode: str) -> dict[str, Any]:
    # This file, run by the other interpreter (which may predate it) against its own omega;
    # -P keeps this folder off its sys.path.
    command = [python, "-P", __file__, "--worker", "--bars", str(args.bars)]
    command += ["--repeat", str(args.repeat), "--mode", mode, "--cache", str(args.cache)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> int:
    """Rounds of both sides, then per workload: median of each side's best times, ratio."""
    sides = {"this": sys.executable, "other": args.other}
    status = 0
    print(f"this:  {sides['this']}\nother: {sides['other']}")
    print(f"omega.run_backtest, {args.bars:,} M1 bars, best of {args.repeat}, {args.rounds} rounds")
    for mode in args.modes.split(","):
        runs: dict[str, list[dict[str, Any]]] = {"this": [], "other": []}
        for _ in range(args.rounds):
            for side in ("other", "this"):
                runs[side].append(_run(sides[side], args, mode))
        print(f"\nmode {mode}: workload, other s, this s, this/other, trades (both)")
        for name in WORKLOADS:
            median = {s: statistics.median(r[name]["seconds"] for r in runs[s]) for s in runs}
            first = {s: runs[s][0][name] for s in runs}
            outcome = {s: (first[s]["trades"], first[s]["final_balance"]) for s in runs}
            same = outcome["this"] == outcome["other"]
            status |= 0 if same else 1
            trades = f"{outcome['this'][0]}" if same else f"DIFFER {outcome}"
            print(
                f"  {name:<22} {median['other']:8.4f} {median['this']:8.4f} "
                f"{median['this'] / median['other']:6.3f}  {trades}"
            )
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omega.bench.compare", description=__doc__)
    parser.add_argument("--other", help="the other installation's python")
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="rust", help="comma-separated: rust,hybrid,python")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="rust", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.bars, args.repeat, args.mode, args.cache)))
        return 0
    if not args.other:
        parser.error("--other is required (the python of the installation to compare with)")
    return compare(args)


if __name__ == "__main__":
    raise SystemExit(main())

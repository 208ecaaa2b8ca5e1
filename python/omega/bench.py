"""Side-by-side speed and memory of the engine modes: `python -m omega.bench`.

Each (workload, mode) runs in a fresh interpreter so its peak RSS is its own (tracemalloc does
not see Rust allocations). A worker generates the synthetic bars, records its RSS, runs the
backtest from in-memory columns to the RawRun, and reports wall time and peak RSS as JSON. The
parent prints one table per workload with bars/s and the speed-up against `python` mode.
Figures are ratios measured side by side in one run; absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

WORKLOADS = {
    # name: (strategy, params, primary timeframe, extra timeframes)
    "mean_reversion": ("mean_reversion_z_score", {}, "M5", ("H1",)),
    "sma_cross": ("sma_cross", {}, "M1", ()),
    "zscore_threshold": ("zscore_threshold", {}, "M1", ()),
}
MODES = ("python", "hybrid", "rust")


@dataclass
class Measurement:
    workload: str
    mode: str
    bars: int
    seconds: float
    trades: int
    peak_rss_mib: float
    rss_before_mib: float
    input_mib: float
    error: str = ""


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _worker(workload: str, mode: str, n_bars: int, seed: int) -> dict:
    from omega.data import generate_synthetic
    from omega.engine.settings import EngineSettings
    from omega.timeframes import Timeframe

    strategy_name, params, primary, extra = WORKLOADS[workload]
    bars = generate_synthetic(n_bars=n_bars, seed=seed)
    primary_tf = Timeframe.parse(primary)
    settings = EngineSettings(
        primary_timeframe=primary_tf,
        timeframes=(primary_tf, *(Timeframe.parse(t) for t in extra)),
    )
    rss_before = _rss_mib()
    started = time.perf_counter()
    if mode == "rust":
        from omega.engine.rust import run_rust

        raw = run_rust(bars, strategy_name, params, settings)
    else:
        from omega.strategy import get_strategy

        strategy = get_strategy(strategy_name)(params)
        if mode == "python":
            from omega.engine.loop import run_python

            raw = run_python(bars, strategy, settings)
        else:
            from omega.engine.hybrid import run_hybrid

            raw = run_hybrid(bars, strategy, settings)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "trades": raw.n_trades,
        "peak_rss_mib": peak_kib / 1024,
        "rss_before_mib": rss_before,
        "input_mib": bars.nbytes / 2**20,
    }


def measure(workload: str, mode: str, n_bars: int, seed: int = 7) -> Measurement:
    """Runs one (workload, mode) in a fresh interpreter."""
    cmd = [sys.executable, "-m", "omega.bench", "--worker", workload, mode, str(n_bars), str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Measurement(workload, mode, n_bars, float("nan"), 0, 0.0, 0.0, 0.0, tail)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measurement(workload, mode, n_bars, **data)


def format_table(rows: list[Measurement]) -> str:
    python = next((r for r in rows if r.mode == "python" and not r.error), None)
    header = (
        f"{'mode':<8} {'bars':>10} {'time s':>9} {'bars/s':>12} {'speed-up':>9} "
        f"{'trades':>7} {'peak RSS MiB':>13} {'RSS added MiB':>14}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        if r.error:
            lines.append(f"{r.mode:<8} {r.bars:>10} failed: {r.error}")
            continue
        speedup = python.seconds / r.seconds if python else float("nan")
        lines.append(
            f"{r.mode:<8} {r.bars:>10} {r.seconds:>9.3f} {r.bars / r.seconds:>12,.0f} "
            f"{speedup:>8.1f}x {r.trades:>7} {r.peak_rss_mib:>13.1f} "
            f"{r.peak_rss_mib - r.rss_before_mib:>14.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        workload, mode, n_bars, seed = argv[1], argv[2], int(argv[3]), int(argv[4])
        print(json.dumps(_worker(workload, mode, n_bars, seed)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m omega.bench", description=__doc__)
    parser.add_argument("--bars", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--json", type=str, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    all_rows = []
    failed = False
    for workload in args.workloads:
        for n_bars in args.bars:
            rows = [measure(workload, mode, n_bars) for mode in args.modes]
            all_rows.extend(rows)
            failed |= any(r.error for r in rows)
            print(f"\n{workload}, {n_bars:,} M1 bars (synthetic)")
            print(format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([r.__dict__ for r in all_rows], fh, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

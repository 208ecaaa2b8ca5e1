"""Walk-forward against the sweeps it runs, side by side in one process.

    python -m omega.bench.walk_forward [--rounds 3] [--bars 1000000] [--train 6M --test 1M]

The target (issue 15): a walk-forward with a grid search in each fold takes at most 1.1x the
time of its in-sample sweeps run on their own. Each round times `walk_forward` on the default
data (the default config's seeded synthetic EURUSD minutes, M5 with an H1 trend filter) and
the same sweeps, one `omega.sweep.run_sweep` call per training window, the side that goes
first alternating between rounds, so that a change in the machine's load hits both sides.
Prints each round and the medians; the ratio is walk-forward / summed sweeps (wall time). The
CPU time of each side (all threads of the process) is printed beside it: other jobs on the
machine move it far less than the wall time, but it does not count the out-of-sample runs'
use of a core a sweep leaves idle.
"""

from __future__ import annotations

import argparse
import statistics
import time

GRID = {"lookback": [100, 150, 200, 250], "z_entry": [2.5, 3.0, 3.5, 4.0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omega.bench.walk_forward")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bars", type=int, default=None, help="synthetic bars (default: config)")
    parser.add_argument("--train", default="6M")
    parser.add_argument("--test", default="1M")
    args = parser.parse_args(argv)

    from omega.config import default_config
    from omega.research.walkforward import walk_forward, walk_forward_windows
    from omega.runner import load_bars
    from omega.sweep import parameter_grid, run_sweep

    sized = [] if args.bars is None else [f"data.synthetic.n_bars={args.bars}"]
    config = default_config().apply_overrides(sized) if sized else default_config()
    bars = load_bars(config)
    settings = config.to_engine_settings()
    sets = parameter_grid(GRID)
    strategy = config.strategy.name
    windows = walk_forward_windows(bars.time, args.train, args.test, bar_ns=bars.timeframe.nanos)
    print(
        f"{len(bars):,} bars, {len(windows)} folds (train {args.train}, test {args.test}), "
        f"{len(sets)} sets per fold, {strategy}"
    )
    wf_times, sweep_times, wf_cpu, sweep_cpu = [], [], [], []
    for r in range(args.rounds):
        # Alternate which side goes first, so that neither always runs on a warmer cache.
        for side in ("wf", "sweeps") if r % 2 == 0 else ("sweeps", "wf"):
            c0, t0 = time.process_time(), time.perf_counter()
            if side == "wf":
                wf = walk_forward(bars, strategy, sets, settings, train=args.train, test=args.test)
                wf_times.append(time.perf_counter() - t0)
                wf_cpu.append(time.process_time() - c0)
            else:
                for w in windows:
                    run_sweep(bars.slice(w.train_start, w.train_stop), strategy, sets, settings)
                sweep_times.append(time.perf_counter() - t0)
                sweep_cpu.append(time.process_time() - c0)
        print(
            f"round {r + 1}: walk_forward {wf_times[-1]:.3f} s (its sweeps "
            f"{wf.timing['sweeps_s']:.3f} s), sweeps alone {sweep_times[-1]:.3f} s, "
            f"ratio {wf_times[-1] / sweep_times[-1]:.3f}; "
            f"cpu ratio {wf_cpu[-1] / sweep_cpu[-1]:.3f}"
        )
    wf_median, sweep_median = statistics.median(wf_times), statistics.median(sweep_times)
    print(
        f"median: walk_forward {wf_median:.3f} s, sweeps {sweep_median:.3f} s, "
        f"ratio {wf_median / sweep_median:.3f} (target <= 1.1)"
    )
    wf_median, sweep_median = statistics.median(wf_cpu), statistics.median(sweep_cpu)
    print(
        f"median cpu: walk_forward {wf_median:.3f} s, sweeps {sweep_median:.3f} s, "
        f"ratio {wf_median / sweep_median:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Search and backend timings side by side: `python -m omega.bench.research`.

1. TPE: `omega.research.optimize(method="tpe")` over the default strategy's parameters
   (`SPACE`) on the default config's data (1M synthetic M1 bars, M5 primary, H1 trend),
   ``--trials`` trials (default 500), timed from the call to the result (wall time, and
   the process's CPU time, which other load on the machine does not inflate as much).
2. Ray: ``--sets`` sets (default 500, drawn from `SPACE`, seeded) through
   `omega.research.evaluate` on the local backend and on Ray (a local instance,
   ``ray.init(num_cpus=2)``, started and warmed up before the clock runs); the rows must be
   equal, the overhead is ray / local - 1.

Targets (issue 15): TPE 500 trials on 1M M1 bars <= 10 s; Ray overhead <= 20 %.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from omega.research.search import FloatRange, IntRange

STRATEGY = "mean_reversion_z_score"
# The default strategy's trading parameters (the Kalman filter's stay at their defaults).
SPACE = {
    "lookback": IntRange(50, 400, 10),
    "z_entry": FloatRange(1.5, 4.0, 0.1),
    "z_exit": FloatRange(0.0, 1.0, 0.1),
    "sl_atr": FloatRange(1.0, 5.0, 0.5),
    "tp_atr": FloatRange(0.0, 8.0, 0.5),
    "max_holding_bars": IntRange(0, 192, 12),
}
CONSTRAINTS = ["z_exit < z_entry"]


def _inputs(n_bars: int) -> tuple[Any, Any]:
    import omega
    from omega.runner import load_bars

    config = omega.default_config()
    if n_bars != config.data.synthetic_or_default.n_bars:
        config = config.apply_overrides([f"data.synthetic.n_bars={n_bars}"])
    return load_bars(config), config.to_engine_settings()


def _cpu_seconds() -> float:
    """CPU time of this process, every thread (the sweeps' and the sampler's): what the
    search costs whatever else the machine runs."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_tpe(bars: Any, settings: Any, trials: int, batch: int | None) -> dict[str, Any]:
    from omega.research import optimize

    cpu = _cpu_seconds()
    started = time.perf_counter()
    result = optimize(
        bars,
        STRATEGY,
        SPACE,
        settings,
        method="tpe",
        trials=trials,
        seed=1,
        constraints=CONSTRAINTS,
        batch=batch,
    )
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    return {
        "trials": len(result.table),
        "cpu_seconds": cpu,
        "batch": batch,
        "seconds": seconds,
        "best": result.best,
        "best_sharpe": float(result.best_row["sharpe"]),
    }


def time_ray(bars: Any, settings: Any, n_sets: int) -> dict[str, Any]:
    import ray

    from omega.research import evaluate
    from omega.research.search import random_sets

    sets = random_sets(SPACE, n_sets, 7, [])
    started = not ray.is_initialized()  # a connected instance (a test's) is used as it is
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        evaluate(bars.slice(0, 2_000), STRATEGY, sets[:4], settings, backend="ray")  # warm-up
        started = time.perf_counter()
        local = evaluate(bars, STRATEGY, sets, settings, backend="local")
        local_s = time.perf_counter() - started
        started = time.perf_counter()
        remote = evaluate(bars, STRATEGY, sets, settings, backend="ray")
        ray_s = time.perf_counter() - started
    finally:
        if started:
            ray.shutdown()
    return {
        "sets": len(sets),
        "local_seconds": local_s,
        "ray_seconds": ray_s,
        "overhead_pct": 100.0 * (ray_s / local_s - 1.0),
        "rows_equal": bool(local.equals(remote)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--batch", type=int, default=None, help="TPE batch (default: optimize's)")
    parser.add_argument("--sets", type=int, default=500)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray measurement")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    bars, settings = _inputs(args.bars)
    figures: dict[str, Any] = {"bars": len(bars)}
    figures["tpe"] = tpe = time_tpe(bars, settings, args.trials, args.batch)
    print(
        f"TPE: {tpe['trials']} trials on {len(bars):,} M1 bars in {tpe['seconds']:.2f} s "
        f"(target <= 10 s), {tpe['cpu_seconds']:.2f} s of CPU; "
        f"best sharpe {tpe['best_sharpe']:.3f} at {tpe['best']}"
    )
    if not args.no_ray:
        figures["ray"] = ray = time_ray(bars, settings, args.sets)
        print(
            f"Ray: {ray['sets']} sets local {ray['local_seconds']:.2f} s, "
            f"ray (2 CPUs) {ray['ray_seconds']:.2f} s, overhead {ray['overhead_pct']:+.1f} % "
            f"(target <= 20 %); rows equal: {ray['rows_equal']}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2, default=str)


if __name__ == "__main__":
    main()

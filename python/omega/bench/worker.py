"""One timed backtest in a fresh interpreter: `python -m omega.bench.worker SPEC_JSON`.

The primary figure is what a user calls: ``omega.run_backtest(config, bars=bars)`` with the
workload's config (engine mode, strategy, timeframes), from a `BarSeries` to a
`BacktestResult`. The time is the best of ``repeat`` runs in the process; the previous result
is released before the next run starts, so the peak is one run's memory. Afterwards the same
process times the mode's engine entry point alone (`run_python`, `run_hybrid`, `run_rust`:
the breakdown column) and the first access of the result's pandas frames (``.trades`` and
``.equity``, built on demand; in a process where nothing imported pandas yet, the first
access imports it, as it does for a user).

Memory is read at three points: after the imports and a warm-up run on 3,000 synthetic bars
(the baseline: interpreter, imports, first-call set-up), after loading the input, and the
process peak after the timed runs (before the frames are built). With ``tracemalloc`` the
run is traced instead (slower, so its time is not reported): the traced peak is what Python
objects and numpy buffers added, which the Rust side's allocations are not part of.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from omega.bench.inputs import load_bars
from omega.bench.memory import peak_rss_bytes, rss_bytes
from omega.bench.workloads import WORKLOADS, Workload
from omega.data.bars import BarSeries

WARMUP_BARS = 3_000


def engine_runner(mode: str, workload: Workload) -> Callable[[BarSeries], Any]:
    """The mode's engine entry point with the settings `run_backtest` derives from the config:
    what the end-to-end figure contains besides config handling and the result layer."""
    config = workload.config(mode)
    settings = config.to_engine_settings()
    params = dict(config.strategy.params)
    if mode == "rust":
        from omega.engine.rust import run_rust

        return lambda bars: run_rust(bars, workload.strategy, params, settings)
    if mode == "hybrid":
        from omega.engine.hybrid import run_hybrid

        return lambda bars: run_hybrid(bars, config.build_strategy(), settings)
    from omega.engine.loop import run_python

    return lambda bars: run_python(bars, config.build_strategy(), settings)


def trade_columns(result: Any) -> dict[str, np.ndarray]:
    """The result's trade columns as numpy arrays (entry_time, exit_time, side, ...)."""
    columns = getattr(result, "trade_columns", None)
    return columns if columns is not None else result.raw.trades


def _best_of(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None  # the previous run's output goes first: the peak is one run's
        started = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - started)
    return best, out


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from omega.data import generate_synthetic
    from omega.runner import run_backtest

    workload = WORKLOADS[spec["workload"]]
    mode = spec["mode"]
    repeat = max(1, int(spec.get("repeat", 1)))
    config = workload.config(mode)
    engine = engine_runner(mode, workload)
    # The warm-up imports everything the path loads lazily (strategy modules, pandas, the
    # result layer) and makes the first calls, so the baseline holds them and the added
    # memory is the run's alone.
    warm = generate_synthetic(n_bars=WARMUP_BARS, seed=1)
    run_backtest(config, bars=warm).metrics  # noqa: B018
    engine(warm)
    del warm
    gc.collect()
    baseline = rss_bytes()
    bars = load_bars(Path(spec["input"]))
    loaded = rss_bytes()
    traced = bool(spec.get("tracemalloc", False))
    if traced:
        tracemalloc.start()
    seconds, result = _best_of(1 if traced else repeat, lambda: run_backtest(config, bars=bars))
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    peak = peak_rss_bytes()
    if traced:
        tracemalloc.stop()
    if result.mode != mode:  # a fallback would time another mode under this one's name
        raise SystemExit(f"asked for {mode} mode, ran {result.mode}: {result.mode_reason}")
    columns = trade_columns(result)
    if spec.get("trades_out"):
        stacked = [columns["entry_time"], columns["exit_time"], columns["side"]]
        np.save(spec["trades_out"], np.stack([np.asarray(c, dtype=np.int64) for c in stacked], 1))
    import omega

    out: dict[str, Any] = {
        "version": f"omega {omega.__version__}",
        "seconds": seconds,
        "trades": len(columns["entry_time"]),
        "bars": len(bars),
        "input_bytes": bars.nbytes,
        "baseline_bytes": baseline,
        "loaded_bytes": loaded,
        "peak_bytes": peak,
        "traced_peak_bytes": traced_peak,
    }
    if traced:
        return out
    started = time.perf_counter()
    result.trades  # noqa: B018  (built on first access)
    result.equity  # noqa: B018
    out["frames_seconds"] = time.perf_counter() - started
    del result
    out["engine_seconds"], _ = _best_of(repeat, lambda: engine(bars))
    return out


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))

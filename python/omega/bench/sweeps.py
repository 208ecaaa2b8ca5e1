"""A parameter sweep timed in a fresh interpreter: `python -m omega.bench.sweeps SPEC_JSON`.

The default workload's strategy over a grid of parameter sets: one `omega.sweep.run_sweep`
call against one `run_rust` call per set (both after a warm-up run), so the table shows what
sharing the resampled frames and indicator series across runs saves.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from omega.bench.inputs import load_bars
from omega.bench.workloads import WORKLOADS

# 32 sets: four lookbacks (four Kalman z-score series), the rest only changes the loop.
GRID = {"lookback": [100, 150, 200, 250], "z_entry": [2.5, 3.0, 3.5, 4.0], "sl_atr": [2.0, 3.0]}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from omega.engine.rust import run_rust
    from omega.sweep import parameter_grid, run_sweep

    workload = WORKLOADS["mean_reversion"]
    settings = workload.settings()
    bars = load_bars(Path(spec["input"]))
    sets = parameter_grid(GRID)
    run_rust(bars, workload.strategy, sets[0], settings)  # warm-up: imports, first touches
    started = time.perf_counter()
    table = run_sweep(bars, workload.strategy, sets, settings)
    sweep_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for params in sets:
        run_rust(bars, workload.strategy, params, settings)
    single_seconds = time.perf_counter() - started
    return {
        "sets": len(sets),
        "bars": len(bars),
        "sweep_seconds": sweep_seconds,
        "single_runs_seconds": single_seconds,
        "failed_sets": int(table["error"].notna().sum()),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))

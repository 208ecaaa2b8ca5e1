"""One timed backtest in a fresh interpreter: `python -m omega.bench.worker SPEC_JSON`.

The time is the best of ``repeat`` runs in the process. Memory is read at three points:
after the imports (the interpreter + import baseline), after loading the input, and the
process peak after the run. With ``tracemalloc`` the run is traced instead (slower, so its
time is not reported): the traced peak is what Python objects and numpy buffers added, which
the Rust side's allocations are not part of.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from omega.bench.inputs import load_bars
from omega.bench.memory import peak_rss_bytes, rss_bytes
from omega.bench.workloads import WORKLOADS
from omega.engine.raw import RawRun


def _runner(mode: str, strategy_name: str, params: dict[str, Any]):
    """The run function of a mode, with everything it imports imported now (baseline)."""
    if mode == "rust":
        from omega import _core
        from omega.engine.rust import _normalised_params, run_rust

        # Given parameters are validated by the Python twin's model: its imports (pydantic,
        # the strategy modules) belong to the baseline, not to the run's memory.
        _normalised_params(strategy_name, params)

        return lambda bars, settings: run_rust(bars, strategy_name, params, settings)
    from omega.strategy import get_strategy

    cls = get_strategy(strategy_name)
    if mode == "hybrid":
        from omega import _core  # noqa: F401  (part of the baseline)
        from omega.engine.hybrid import run_hybrid

        return lambda bars, settings: run_hybrid(bars, cls(params), settings)
    from omega.engine.loop import run_python

    return lambda bars, settings: run_python(bars, cls(params), settings)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    workload = WORKLOADS[spec["workload"]]
    settings = workload.settings()
    run_backtest = _runner(spec["mode"], workload.strategy, workload.params)
    baseline = rss_bytes()
    bars = load_bars(Path(spec["input"]))
    loaded = rss_bytes()
    traced = spec.get("tracemalloc", False)
    if traced:
        tracemalloc.start()
    seconds = float("inf")
    raw: RawRun | None = None
    for _ in range(1 if traced else spec.get("repeat", 1)):
        # The previous result goes before the next run starts: the peak is one run's memory,
        # not one run's plus the result it replaces.
        raw = None
        started = time.perf_counter()
        raw = run_backtest(bars, settings)
        seconds = min(seconds, time.perf_counter() - started)
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    peak = peak_rss_bytes()
    assert raw is not None
    if spec.get("trades_out"):
        t = raw.trades
        np.save(spec["trades_out"], np.stack([t["entry_time"], t["exit_time"], t["side"]], 1))
    return {
        "seconds": seconds,
        "trades": raw.n_trades,
        "bars": len(bars),
        "input_bytes": bars.nbytes,
        "baseline_bytes": baseline,
        "loaded_bytes": loaded,
        "peak_bytes": peak,
        "traced_peak_bytes": traced_peak,
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))

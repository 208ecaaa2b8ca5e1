"""A parameter sweep timed in a fresh interpreter: `python -m omega.bench.sweeps SPEC_JSON`.

The SMA cross over every pair of a list of windows (21 windows: 210 sets, fast < slow), on the
peer input (bid only, one lot, no fees). ``"engine": "omega"`` times one
`omega.sweep.run_sweep` call (one row of metrics per set); ``"engine": "vectorbt"`` times
vectorbt broadcasting the same grid the way its documentation shows for a hyperparameter
search: ``vbt.MA.run_combs(close, window=windows, r=2)``, crossovers, one
``Portfolio.from_signals`` over the 210 columns on its Rust engine, and per-column metrics
(total return, Sharpe ratio, max drawdown, trade count). Both after a warm-up on the first
2,000 bars. Each prints its wall time and the trade count per set, which the parent
compares. Throughput is bar-evaluations per second: sets x bars / wall time.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

from omega.bench.memory import peak_rss_bytes

DEFAULT_WINDOWS = tuple(range(5, 110, 5))  # 21 windows -> 210 (fast, slow) pairs
WARMUP_BARS = 2_000


def grid(windows: tuple[int, ...] = DEFAULT_WINDOWS) -> list[dict[str, int]]:
    """Every (fast, slow) pair with fast < slow, in `itertools.combinations` order (the order
    of vectorbt's `run_combs` columns)."""
    return [{"fast": a, "slow": b} for a, b in itertools.combinations(sorted(windows), 2)]


def run_omega(folder: Path, windows: tuple[int, ...]) -> dict[str, Any]:
    from omega.bench.inputs import load_bars
    from omega.bench.workloads import WORKLOADS
    from omega.sweep import run_sweep

    settings = WORKLOADS["sma_cross"].settings()
    bars = load_bars(folder)
    sets = grid(windows)
    run_sweep(bars.slice(0, WARMUP_BARS), "sma_cross", sets[:4], settings)
    started = time.perf_counter()
    table = run_sweep(bars, "sma_cross", sets, settings)
    seconds = time.perf_counter() - started
    failed = table["error"].notna()
    if failed.any():
        raise SystemExit(f"{int(failed.sum())} sets failed: {table['error'][failed].iloc[0]}")
    return {
        "engine": "omega",
        "version": _omega_version(),
        "call": "omega.sweep.run_sweep(bars, 'sma_cross', sets, settings)",
        "seconds": seconds,
        "sets": len(sets),
        "bars": len(bars),
        "trades": [int(n) for n in table["n_trades"]],
        "peak_bytes": peak_rss_bytes(),
    }


def _omega_version() -> str:
    import omega

    return f"omega {omega.__version__}"


def vectorbt_sweep(cols: Any, windows: tuple[int, ...]) -> dict[str, Any]:
    """vectorbt's documented hyperparameter search over the window pairs, end to end (with
    the time of the simulation alone, `Portfolio.from_signals`, as a breakdown)."""
    import pandas as pd
    import vectorbt as vbt

    from omega.peers.data import naive_index
    from omega.peers.vectorbt_peer import portfolio

    close = pd.Series(cols.close, index=naive_index(cols.time))
    fast, slow = vbt.MA.run_combs(close, window=list(windows), r=2, short_names=["fast", "slow"])
    up = fast.ma_crossed_above(slow)
    down = fast.ma_crossed_below(slow)
    signals = {
        "entries": up.shift(1, fill_value=False).astype(bool),
        "short_entries": down.shift(1, fill_value=False).astype(bool),
        "upon_opposite_entry": "reverse",
    }
    started = time.perf_counter()
    pf = portfolio(close, cols, signals)
    simulation = time.perf_counter() - started
    return {
        "simulation_seconds": simulation,
        "total_return": pf.total_return().to_numpy(),
        "sharpe": pf.sharpe_ratio().to_numpy(),
        "max_drawdown": pf.max_drawdown().to_numpy(),
        "trades": pf.trades.count().to_numpy(),
    }


def run_vectorbt(folder: Path, windows: tuple[int, ...]) -> dict[str, Any]:
    from omega.peers import vectorbt_peer
    from omega.peers.data import load_columns

    vectorbt_peer.setup("rust")
    cols = load_columns(folder)
    vectorbt_sweep(cols.head(WARMUP_BARS), windows)
    started = time.perf_counter()
    out = vectorbt_sweep(cols, windows)
    seconds = time.perf_counter() - started
    return {
        "simulation_seconds": float(out["simulation_seconds"]),
        "engine": "vectorbt",
        "version": vectorbt_peer.version(),
        "call": 'vbt.settings["engine"] = "rust"; MA.run_combs(close, window=windows, r=2); '
        "Portfolio.from_signals on the column grid",
        "seconds": seconds,
        "sets": len(out["trades"]),
        "bars": len(cols),
        "trades": [int(n) for n in out["trades"]],
        "peak_bytes": peak_rss_bytes(),
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    windows = tuple(spec.get("windows", DEFAULT_WINDOWS))
    folder = Path(spec["input"])
    if spec["engine"] == "omega":
        return run_omega(folder, windows)
    if spec["engine"] == "vectorbt":
        return run_vectorbt(folder, windows)
    raise SystemExit(f"unknown sweep engine {spec['engine']!r}")


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))

"""`python -m omega.peers PEER WORKLOAD INPUT_DIR [TRADES_OUT]`: one timed peer run.

Prints JSON: best time of ``OMEGA_PEER_REPEAT`` runs (default 1) after a warm-up on the first
2,000 bars (JIT compilation and first-call set-up are not the steady-state cost), the
interpreter+import baseline and the peak RSS, and the number of trades; writes the trades
(entry_time, exit_time, side) to TRADES_OUT when given.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from omega.bench.memory import peak_rss_bytes, rss_bytes
from omega.bench.workloads import WORKLOADS
from omega.peers import PEERS
from omega.peers.data import default_params, ohlc_frame

WARMUP_BARS = 2_000


def _runner(peer: str):
    if peer == "backtesting":
        import backtesting  # noqa: F401

        from omega.peers.backtesting_peer import run as run_bt

        return run_bt
    if peer in ("vectorbt", "vectorbt_numba"):
        import vectorbt  # noqa: F401

        from omega.peers.vectorbt_peer import run as run_vbt

        engine = "rust" if peer == "vectorbt" else "numba"
        return lambda frame, workload, params: run_vbt(frame, workload, params, engine)
    if peer == "talib":
        import talib  # noqa: F401

        from omega.peers.talib_peer import run as run_talib

        return lambda frame, workload, params: run_talib(
            frame["Close"].to_numpy(), workload, params
        )
    raise SystemExit(f"unknown peer {peer!r}; expected one of {', '.join(PEERS)}")


def main(argv: list[str]) -> int:
    peer, workload, folder = argv[0], argv[1], Path(argv[2])
    trades_out = argv[3] if len(argv) > 3 else None
    run = _runner(peer)
    params = default_params(WORKLOADS[workload].strategy)
    baseline = rss_bytes()
    frame = ohlc_frame(folder)
    loaded = rss_bytes()
    run(frame.iloc[:WARMUP_BARS], workload, params)
    best = float("inf")
    trades = None
    for _ in range(int(os.environ.get("OMEGA_PEER_REPEAT", "1"))):
        started = time.perf_counter()
        trades = run(frame, workload, params)
        best = min(best, time.perf_counter() - started)
    if trades_out and trades is not None:
        np.save(trades_out, trades)
    result = {
        "seconds": best,
        "trades": -1 if trades is None else len(trades),
        "bars": len(frame),
        "baseline_bytes": baseline,
        "loaded_bytes": loaded,
        "peak_bytes": peak_rss_bytes(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""`python -m omega.peers PEER WORKLOAD INPUT_DIR [TRADES_OUT]`: one timed peer run.

Prints JSON: the peer's version, call and index type; the best time of ``OMEGA_PEER_REPEAT``
runs (default 1) end to end from the input's numpy columns, after a warm-up on the first
2,000 bars (JIT compilation and first-call set-up are not the steady-state cost); the
interpreter+import baseline, the peak RSS and the number of trades; ``approximate`` when the
peer cannot express the workload's rules exactly. Writes the trades (entry_time, exit_time,
side) to TRADES_OUT when given.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omega.bench.memory import peak_rss_bytes, rss_bytes
from omega.bench.workloads import WORKLOADS
from omega.peers import PEERS
from omega.peers.data import Columns, default_params, load_columns

WARMUP_BARS = 2_000


@dataclass(frozen=True)
class Peer:
    run: Callable[[Columns, str, dict[str, Any]], np.ndarray | None]
    version: str
    call: str
    index: str
    exact: tuple[str, ...] = ("sma_cross", "zscore_threshold")


def load_peer(name: str) -> Peer:
    """The peer's run function, with its library imported and its engine selected."""
    if name == "backtesting":
        from omega.peers import backtesting_peer as bt

        return Peer(bt.run, bt.version(), bt.CALL, bt.INDEX)
    if name in ("vectorbt", "vectorbt_numba"):
        from omega.peers import vectorbt_peer as vbt

        engine = "rust" if name == "vectorbt" else "numba"
        vbt.setup(engine)
        call = f'vbt.settings["engine"] = "{engine}"; {vbt.CALL}'
        return Peer(vbt.run, vbt.version(engine), call, vbt.INDEX)
    if name == "raptorbt":
        from omega.peers import raptorbt_peer as rb

        rb.setup()
        return Peer(rb.run, rb.version(), rb.CALL, rb.INDEX, rb.EXACT)
    if name == "talib":
        from omega.peers import talib_peer as ta

        return Peer(ta.run, ta.version(), ta.CALL, ta.INDEX)
    raise SystemExit(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")


def main(argv: list[str]) -> int:
    name, workload, folder = argv[0], argv[1], Path(argv[2])
    trades_out = argv[3] if len(argv) > 3 else None
    peer = load_peer(name)
    params = default_params(WORKLOADS[workload].strategy)
    baseline = rss_bytes()
    cols = load_columns(folder)
    loaded = rss_bytes()
    peer.run(cols.head(WARMUP_BARS), workload, params)
    best = float("inf")
    trades = None
    for _ in range(int(os.environ.get("OMEGA_PEER_REPEAT", "1"))):
        trades = None
        started = time.perf_counter()
        trades = peer.run(cols, workload, params)
        best = min(best, time.perf_counter() - started)
    if trades_out and trades is not None:
        np.save(trades_out, trades)
    result = {
        "seconds": best,
        "trades": -1 if trades is None else len(trades),
        "bars": len(cols),
        "baseline_bytes": baseline,
        "loaded_bytes": loaded,
        "peak_bytes": peak_rss_bytes(),
        "version": peer.version,
        "call": peer.call,
        "index": peer.index,
        "approximate": workload not in peer.exact,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

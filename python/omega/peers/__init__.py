"""Peer implementations of the peer workloads (`sma_cross`, `zscore_threshold`).

Each peer re-implements the strategy from its specification page (docs/strategies/) the way
the peer's own documentation writes such code for speed, runs in its own process
(`python -m omega.peers PEER WORKLOAD INPUT`), and reports its version, the call used, the
index type, its time end to end (from the same numpy columns Omega gets to the trade list),
peak RSS and trades (entry/exit times and sides), which the benchmark compares with Omega's.
Peers fill at the next bar's open on one price column, so the input is bid-only on both
sides with no fees (see omega.bench.inputs).

- `backtesting`: backtesting.py (PyPI `backtesting`), an event loop in Python.
- `vectorbt`: vectorbt's `Portfolio.from_signals` on its Rust engine (PyPI `vectorbt` and
  `vectorbt-rust`); `vectorbt_numba` is the same code on its numba engine.
- `raptorbt`: raptorbt's `run_single_backtest` signal-array path (a long run and a short run);
  exact on `sma_cross`, approximate on `zscore_threshold` (see omega.peers.raptorbt_peer).
- `talib`: TA-Lib computing the workload's indicators alone (no trades).
"""

from __future__ import annotations

PEERS = ("vectorbt", "vectorbt_numba", "raptorbt", "backtesting", "talib")

__all__ = ["PEERS"]

"""Peer implementations of the peer workloads (`sma_cross`, `zscore_threshold`).

Each peer re-implements the strategy from its specification page (docs/strategies/) in the
peer library's own idiom, runs in its own process (`python -m omega.peers PEER WORKLOAD
INPUT`), and reports its time, peak RSS and trades (entry/exit times and sides), which the
benchmark compares with Omega's. Peers fill at the next bar's open on one price column, so
the input is bid-only on both sides with no fees (see omega.bench.inputs).

- `backtesting`: backtesting.py (PyPI `backtesting`), an event loop in Python.
- `vectorbt`: vectorbt's `Portfolio.from_signals` with `engine="rust"` (PyPI `vectorbt` and
  `vectorbt-rust`); `vectorbt_numba` is the same with its numba engine.
- `talib`: TA-Lib computing the workload's indicators alone (no trades): the floor that an
  engine computing the same indicators cannot beat by much.
"""

from __future__ import annotations

PEERS = ("backtesting", "vectorbt", "vectorbt_numba", "talib")

__all__ = ["PEERS"]

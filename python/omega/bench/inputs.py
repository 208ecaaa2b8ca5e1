"""Benchmark inputs: synthetic bars written once as .npy columns, loaded by each worker.

A worker that generated its own bars would carry the generator's temporaries in its peak
RSS; loading ten .npy files costs exactly the input's bytes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from omega.data.bars import COLUMNS, PRICE_COLUMNS, BarSeries, Instrument
from omega.timeframes import Timeframe

SEED = 7
PEER_PRICE_DECIMALS = 9


def default_cache_root() -> Path:
    return Path(os.environ.get("OMEGA_BENCH_CACHE", Path(tempfile.gettempdir()) / "omega-bench"))


def ensure_input(root: Path, n_bars: int, *, peer: bool, seed: int = SEED) -> Path:
    """The folder holding the input's columns, written on first use."""
    kind = "peer" if peer else "default"
    folder = root / f"{kind}-{n_bars}-seed{seed}"
    if (folder / "meta.json").exists():
        return folder
    from omega.data import generate_synthetic

    folder.mkdir(parents=True, exist_ok=True)
    if peer:
        bars = generate_synthetic(n_bars=n_bars, seed=seed, price_decimals=PEER_PRICE_DECIMALS)
        # Bid-only on both sides: buys and sells fill on the same price column, as in peers.
        bid = {f"ask_{name[4:]}": getattr(bars, name) for name in PRICE_COLUMNS[:4]}
        bars = replace(bars, **bid)
    else:
        bars = generate_synthetic(n_bars=n_bars, seed=seed)
    for name in COLUMNS:
        np.save(folder / f"{name}.npy", getattr(bars, name))
    meta = {"n_bars": n_bars, "seed": seed, "peer": peer, "point": bars.instrument.point}
    (folder / "meta.json").write_text(json.dumps(meta))  # written last: marks completion
    return folder


def load_bars(folder: Path) -> BarSeries:
    """The bars of an input folder (full reads, no memory mapping)."""
    meta = json.loads((folder / "meta.json").read_text())
    columns = {name: np.load(folder / f"{name}.npy") for name in COLUMNS}
    instrument = replace(Instrument(), point=meta["point"])
    return BarSeries(**columns, timeframe=Timeframe.M1, instrument=instrument, source=str(folder))

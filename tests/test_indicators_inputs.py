"""Inputs shared by the indicator tests (synthetic bars, real closes), and checks of them.

Real files (found by the ``real_data_dir`` fixture of conftest.py) are read with a few lines of
numpy so these tests depend on nothing but the data.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from omega.data import generate_synthetic
from omega.indicators import SideBars


@cache
def synthetic_side(n_bars: int = 20_000, seed: int = 7, side: str = "bid") -> SideBars:
    """One side of seeded synthetic M1 bars (5-decimal grid, so flat windows occur)."""
    return SideBars.from_series(generate_synthetic(n_bars=n_bars, seed=seed), side)


def random_walk(n: int, seed: int, scale: float = 1e-4) -> np.ndarray:
    """A seeded Gaussian random walk around 1.1 (not on a price grid)."""
    return 1.1 + np.cumsum(np.random.default_rng(seed).normal(0.0, scale, n))


@cache
def histdata_side(root: Path, months: int = 6) -> SideBars:
    """Bid OHLC of the first ``months`` HistData EURUSD 2017 files (``date time;o;h;l;c;v``)."""
    files = sorted((root / "histdata_eurusd_2017").glob("DAT_ASCII_EURUSD_M1_*.csv"))[:months]
    if not files:
        pytest.skip(f"no HistData files under {root}")
    rows = [np.loadtxt(f, delimiter=";", usecols=(1, 2, 3, 4), ndmin=2) for f in files]
    return SideBars(*np.concatenate(rows).T.copy())


@cache
def mt5_side(root: Path) -> SideBars:
    """Bid OHLC of the MT5 EURUSD 2024 export (tab-separated, one header line)."""
    files = sorted((root / "mt5_eurusd_2024").glob("EURUSD_M1_*.csv"))
    if not files:
        pytest.skip(f"no MT5 files under {root}")
    rows = [np.loadtxt(f, delimiter="\t", skiprows=1, usecols=(2, 3, 4, 5), ndmin=2) for f in files]
    return SideBars(*np.concatenate(rows).T.copy())


@pytest.mark.real_data
def test_real_readers_see_every_row(real_data_dir: Path) -> None:
    hist, mt5 = histdata_side(real_data_dir), mt5_side(real_data_dir)
    # Row counts from ../shared/data/README.md.
    assert len(hist.close) == 186_348
    assert len(mt5.close) == 95_725
    for side in (hist, mt5):
        assert np.all(side.high >= side.low)
        assert 1.0 < np.median(side.close) < 1.2


def test_synthetic_side_has_flat_windows() -> None:
    close = synthetic_side().close
    assert close.dtype == np.float64
    assert np.any(close[1:] == close[:-1])  # equal consecutive closes: std can be exactly 0

"""Shortcuts taken in rust mode for speed give the same result as the long way round."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("omega._core")

from omega.data import generate_synthetic
from omega.engine.rust import run_rust, rust_strategy_names
from omega.engine.settings import EngineSettings
from omega.strategy import get_strategy
from omega.timeframes import Timeframe

TWINS = ["mean_reversion_z_score", "sma_cross", "zscore_threshold"]


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=20_000, seed=11)


@pytest.mark.parametrize("name", TWINS)
def test_no_params_runs_like_the_python_models_explicit_defaults(bars, name):
    assert name in rust_strategy_names()
    settings = EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )
    defaults = get_strategy(name).validate_params({}).model_dump()
    assert defaults, "the Python twin declares its parameters"
    implicit = run_rust(bars, name, {}, settings)
    explicit = run_rust(bars, name, defaults, settings)
    assert implicit.n_trades > 0
    for column, values in explicit.trades.items():
        nan_ok = values.dtype.kind == "f"  # sl/tp are NaN where a trade had none
        assert np.array_equal(implicit.trades[column], values, equal_nan=nan_ok), column
    assert np.array_equal(implicit.equity, explicit.equity)
    assert implicit.final_balance == explicit.final_balance

"""Shortcuts taken in rust mode for speed give the same result as the long way round."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("omega._core")

from _rust_helpers import assert_same_run
from omega import _core
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


def test_equity_time_on_the_base_timeframe_is_a_read_only_view_of_the_input(bars):
    settings = EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M1,  # == base
        timeframes=(Timeframe.M1,),
    )
    run = run_rust(bars, "sma_cross", {}, settings)
    assert np.array_equal(run.equity_time, bars.time)
    assert np.shares_memory(run.equity_time, bars.time)
    assert not run.equity_time.flags.writeable
    resampled = run_rust(
        bars,
        "sma_cross",
        {},
        EngineSettings(
            instrument=bars.instrument,
            primary_timeframe=Timeframe.M5,
            timeframes=(Timeframe.M5,),
        ),
    )
    expected = np.unique(bars.time // (300 * 10**9)) * (300 * 10**9)
    assert np.array_equal(resampled.equity_time, expected)
    assert not np.shares_memory(resampled.equity_time, bars.time)


def test_inputs_large_enough_for_two_threads_run_like_python_mode():
    # 250k M1 bars: above the thresholds where the core resamples the base and computes
    # indicators on two threads (parity cases are smaller).
    from omega.engine.loop import run_python
    from omega.parity import compare_runs

    big = generate_synthetic(n_bars=250_000, seed=5)
    for name, primary, extra in (
        ("mean_reversion_z_score", Timeframe.M5, (Timeframe.H1,)),
        ("zscore_threshold", Timeframe.M1, ()),
    ):
        settings = EngineSettings(
            instrument=big.instrument, primary_timeframe=primary, timeframes=(primary, *extra)
        )
        rust = run_rust(big, name, {}, settings)
        python = run_python(big, get_strategy(name)({}), settings)
        assert rust.n_trades > 0
        assert compare_runs(python, rust) is None, name


def test_runs_reusing_kept_buffers_match_a_run_from_fresh_memory():
    """Resampled frames and indicator series go to a pool at the end of a run and the next
    run reuses them with the old values still in them; nothing of those may leak into it."""
    big = generate_synthetic(n_bars=200_000, seed=5)  # M5 columns of 40k bars: kept (>= 256 KiB)
    small = generate_synthetic(n_bars=200_000, seed=6)
    settings = EngineSettings(
        instrument=big.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )
    _core.release_buffers()
    fresh = run_rust(big, "mean_reversion_z_score", {"lookback": 50, "z_entry": 2.0}, settings)
    assert fresh.n_trades > 0
    assert _core.kept_buffer_bytes() > 0
    # Another data set fills the kept buffers with other values before the repeat.
    run_rust(small, "mean_reversion_z_score", {"lookback": 50, "z_entry": 2.0}, settings)
    again = run_rust(big, "mean_reversion_z_score", {"lookback": 50, "z_entry": 2.0}, settings)
    assert_same_run(again, fresh)
    _core.release_buffers()
    assert _core.kept_buffer_bytes() == 0

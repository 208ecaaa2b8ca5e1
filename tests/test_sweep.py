"""Parameter sweeps give, per set, the metrics of a single backtest with those parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("omega._core")

from omega.data import generate_synthetic
from omega.engine.rust import run_rust
from omega.engine.settings import (
    BreakEvenSettings,
    EngineSettings,
    FeeSettings,
    SizingSettings,
    SlippageSettings,
    TrailingSettings,
)
from omega.errors import DataError
from omega.results.metrics import compute_metrics
from omega.sweep import _python_sweep, _table, parameter_grid, run_sweep
from omega.timeframes import Timeframe

STRATEGY = "mean_reversion_z_score"


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=40_000, seed=21)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


GRID = {"lookback": [50, 120], "z_entry": [2.0, 3.0], "trend_timeframe": ["H1", "H4"]}


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def assert_same_metrics(row, expected: dict) -> None:
    for name, value in expected.items():
        assert same_value(row[name], value), (name, row[name], value)


def test_parameter_grid_varies_the_last_name_fastest():
    grid = parameter_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert grid[:4] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]
    assert len(grid) == 6
    with pytest.raises(ValueError, match="'b'"):
        parameter_grid({"a": [1], "b": []})
    with pytest.raises(ValueError, match="'a'"):
        parameter_grid({"a": "abc"})


def test_each_row_equals_a_single_run(bars, settings):
    sets = parameter_grid(GRID)
    calls: list[tuple[int, int]] = []
    table = run_sweep(
        bars, STRATEGY, sets, settings, threads=2, progress=lambda d, t: calls.append((d, t))
    )
    assert len(table) == len(sets)
    assert table["error"].isna().all()
    assert (table["n_trades"] > 0).sum() >= 4, "too few sets trade for the check to mean much"
    for k, params in enumerate(sets):
        raw = run_rust(bars, STRATEGY, params, settings)
        expected = compute_metrics(raw, settings.initial_balance, settings.primary_timeframe.nanos)
        row = table.iloc[k]
        assert {name: row[name] for name in params} == params
        assert_same_metrics(row, expected)
    assert calls[-1] == (len(sets), len(sets))


def test_the_python_engine_sweeps_to_the_same_rows(bars, settings):
    sets = parameter_grid({"lookback": [50, 120], "z_entry": [2.0, 3.0]})
    rust = run_sweep(bars, STRATEGY, sets, settings)
    python = _table(sets, _python_sweep(bars, STRATEGY, sets, settings, None))
    metric_names = [c for c in rust.columns if c not in ("lookback", "z_entry", "error")]
    for k in range(len(sets)):
        assert_same_metrics(rust.iloc[k], {n: python.iloc[k][n] for n in metric_names})


def test_a_bad_set_fails_alone(bars, settings):
    sets = [
        {"lookback": 50, "z_entry": 2.0},
        {"lookback": 50, "z_entry": 2.0, "z_exit": 3.0},  # z_exit must be < z_entry
        {"lookback": 50, "z_entry": 2.0, "trend_timeframe": "M1"},  # not coarser than M5
        {"lookback": 60, "z_entry": 2.5},
    ]
    table = run_sweep(bars, STRATEGY, sets, settings)
    errors = table["error"].tolist()
    assert table["error"].isna().tolist() == [True, False, False, True]
    assert "z_exit" in errors[1]
    assert "trend_timeframe" in errors[2]
    assert np.isfinite(table["final_balance"].iloc[[0, 3]]).all()


def test_bad_data_fails_the_sweep(bars, settings):
    broken = bars.time.copy()
    broken[500] = broken[499]
    from dataclasses import replace

    with pytest.raises(DataError, match="500"):
        run_sweep(replace(bars, time=broken), STRATEGY, [{"lookback": 50}], settings)


def same_bits(a, b) -> bool:
    """Equal as doubles bit for bit (NaN with NaN, 0.0 apart from -0.0), or equal otherwise."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def _random_sets(strategy: str, rng: np.random.Generator, n: int) -> list[dict]:
    sets = []
    for _ in range(n):
        if strategy == "sma_cross":
            fast = int(rng.integers(1, 40))
            sets.append({"fast": fast, "slow": fast + int(rng.integers(1, 80))})
        elif strategy == "zscore_threshold":
            entry = float(rng.uniform(0.5, 3.0))
            sets.append(
                {
                    "period": int(rng.integers(5, 120)),
                    "entry": entry,
                    "exit": float(rng.uniform(0.0, entry * 0.9)),
                    "sl_mult": float(rng.uniform(0.3, 4.0)),
                    "tp_mult": float(rng.uniform(0.3, 4.0)),
                }
            )
        else:
            sets.append(
                {"lookback": int(rng.integers(10, 150)), "z_entry": float(rng.uniform(1.0, 3.0))}
            )
    return sets


# Settings that take other branches of the loop and the money (fees, risk sizing, slippage,
# break-even, trailing, a bar limit, intrabar policies); the sweep keeps no equity curve or
# trade log, so its metrics are taken in the loop and must still equal `compute_metrics`
# over a single run's curve and trades.
SETTINGS_VARIANTS: list[dict] = [
    {},
    {
        "fees": FeeSettings(commission_per_lot=3.5, percent_of_notional=0.00002),
        "sizing": SizingSettings(mode="risk_percent", risk_percent=0.7),
    },
    {
        "slippage": SlippageSettings(model="random", pips=0.4, seed=99),
        "break_even": BreakEvenSettings(trigger=3.0, offset=0.5),
        "intrabar_policy": "optimistic",
    },
    {
        "trailing": TrailingSettings(distance=6.0),
        "max_bars_held": 40,
        "intrabar_policy": "finer",
    },
]


@pytest.mark.parametrize("variant", range(len(SETTINGS_VARIANTS)))
@pytest.mark.parametrize("strategy", ["sma_cross", "zscore_threshold", STRATEGY])
def test_random_grids_equal_single_runs_bit_for_bit(bars, strategy, variant):
    base = bars.slice(0, 12_000)
    primary = Timeframe.M5 if strategy == STRATEGY or variant == 3 else Timeframe.M1
    timeframes = (primary, Timeframe.H1) if strategy == STRATEGY else (primary,)
    overrides = SETTINGS_VARIANTS[variant]
    settings = EngineSettings(
        instrument=base.instrument, primary_timeframe=primary, timeframes=timeframes, **overrides
    )
    rng = np.random.default_rng(1000 * variant + len(strategy))
    sets = _random_sets(strategy, rng, 6)
    table = run_sweep(base, strategy, sets, settings, threads=2)
    assert table["error"].isna().all(), table["error"].tolist()
    traded = 0
    for k, params in enumerate(sets):
        raw = run_rust(base, strategy, params, settings)
        expected = compute_metrics(raw, settings.initial_balance, settings.primary_timeframe.nanos)
        row = table.iloc[k]
        traded += expected["n_trades"] > 0
        for name, value in expected.items():
            got = row[name]
            if isinstance(value, float):
                got = float(got)
            assert same_bits(got, value), (strategy, variant, params, name, got, value)
    assert traded >= 4, "too few sets trade for the check to mean much"

"""Rust (omega._core.indicator_batch) == Python reference, bit for bit, NaN masks included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega.indicators import (
    IndicatorInputError,
    IndicatorParameterError,
    IndicatorSpec,
    SideBars,
    compute,
)
from test_indicators_inputs import histdata_side, random_walk, synthetic_side
from test_indicators_properties import same, side_from_steps, spec_strategy

try:
    from omega import _core
except ImportError as exc:  # pragma: no cover - depends on the build
    pytest.skip(f"omega._core is not importable ({exc})", allow_module_level=True)


def rust(spec: IndicatorSpec, side: SideBars) -> np.ndarray:
    if spec.kind == "atr":
        return _core.indicator_batch(
            spec.kind, spec.param_dict, high=side.high, low=side.low, close=side.close
        )
    return _core.indicator_batch(spec.kind, spec.param_dict, getattr(side, str(spec.field)))


def assert_parity(spec: IndicatorSpec, side: SideBars) -> None:
    ours, theirs = compute(spec, side), rust(spec, side)
    assert theirs.dtype == np.float64
    assert same(ours, theirs), f"{spec}: first difference at {np.flatnonzero(ours != theirs)[:1]}"


SPECS = [
    IndicatorSpec.of("sma", period=20),
    IndicatorSpec.of("ema", "open", period=50),
    IndicatorSpec.of("rsi", period=14),
    IndicatorSpec.of("atr", period=14),
    IndicatorSpec.of("rolling_std", period=2),
    IndicatorSpec.of("rolling_std", "low", period=100),
    IndicatorSpec.of("bollinger", period=20, k_up=2.0, k_down=1.5, band=1),
    IndicatorSpec.of("bollinger", period=20, k_up=2.0, k_down=1.5, band=-1),
    IndicatorSpec.of("zscore", period=30),
    IndicatorSpec.of("kalman", q=0.01, r=1.0),
    IndicatorSpec.of("kalman", q=1e-5, r=2.0, x0=1.0, p0=0.0),
    IndicatorSpec.of("kalman_zscore", q=0.01, r=1.0, lookback=50),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_synthetic_parity(spec: IndicatorSpec) -> None:
    assert_parity(spec, synthetic_side())


@pytest.mark.real_data
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_real_parity(spec: IndicatorSpec, real_data_dir: Path) -> None:
    assert_parity(spec, histdata_side(real_data_dir, months=1))


@settings(max_examples=300, deadline=None)
@given(spec=spec_strategy(), raw=st.lists(st.integers(-40, 40), max_size=250))
def test_generated_parity(spec: IndicatorSpec, raw: list[int]) -> None:
    assert_parity(spec, side_from_steps(raw))


@pytest.mark.slow
def test_thousands_of_seeded_series() -> None:
    rng = np.random.default_rng(2024)
    specs = [
        IndicatorSpec.of("sma", period=int(rng.integers(1, 60))),
        IndicatorSpec.of("ema", period=int(rng.integers(1, 60))),
        IndicatorSpec.of("rsi", period=int(rng.integers(2, 60))),
        IndicatorSpec.of("atr", period=int(rng.integers(1, 60))),
        IndicatorSpec.of("rolling_std", period=int(rng.integers(2, 60))),
        IndicatorSpec.of("bollinger", period=int(rng.integers(2, 60)), band=1),
        IndicatorSpec.of("zscore", period=int(rng.integers(2, 60))),
        IndicatorSpec.of("kalman", q=float(rng.uniform(1e-4, 1.0)), r=1.0),
        IndicatorSpec.of("kalman_zscore", q=float(rng.uniform(1e-4, 1.0)), r=1.0, lookback=40),
    ]
    for seed in range(2_000):
        n = int(rng.integers(1, 600))
        close = random_walk(n, seed, scale=float(rng.choice([1e-6, 1e-4, 1e-2])))
        if seed % 3 == 0:
            close = np.round(close, 5)  # on the price grid: flat windows
        side = SideBars(close, close + 2e-5, close - 1e-5, close)
        assert_parity(specs[seed % len(specs)], side)


def test_rust_errors_are_omega_errors() -> None:
    x = random_walk(10, 0)
    with pytest.raises(IndicatorParameterError, match="period"):
        _core.indicator_batch("sma", {"period": 0}, x)
    with pytest.raises(IndicatorParameterError, match="lookback"):
        _core.indicator_batch("kalman_zscore", {"q": 0.1, "r": 1.0, "p0": 1.0, "lookback": 1}, x)
    with pytest.raises(IndicatorParameterError):
        _core.indicator_batch("sma", {"period": -3}, x)
    with pytest.raises(IndicatorParameterError):
        _core.indicator_batch("nope", {}, x)
    with pytest.raises(IndicatorInputError):
        _core.indicator_batch("atr", {"period": 3}, high=x, low=x[:5], close=x)
    with pytest.raises(IndicatorInputError):
        _core.indicator_batch("atr", {"period": 3}, x)

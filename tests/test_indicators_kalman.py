"""Kalman local-level filter and its residual z-score: checks derived from the model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omega.indicators import Kalman, KalmanZScore, ZScore
from test_indicators_inputs import random_walk, synthetic_side


@pytest.mark.parametrize(("q", "r"), [(0.01, 1.0), (1.0, 1.0), (1e-4, 3.0), (5.0, 0.2)])
def test_gain_converges_to_the_riccati_steady_state(q: float, r: float) -> None:
    # Steady state: M = P + q and P = (1 - K) M with K = M / (M + r)  =>  M^2 = q M + q r.
    m = (q + math.sqrt(q * q + 4.0 * q * r)) / 2.0
    expected = m / (m + r)
    kf = Kalman(q, r, x0=None, p0=1.0)
    kf.batch(random_walk(5_000, 1))
    assert abs(kf.gain - expected) <= 1e-12 * expected


@pytest.mark.parametrize("factor", [1e-6, 0.37, 1e4])
def test_only_the_ratios_of_q_r_p0_matter(factor: float) -> None:
    close = synthetic_side().close
    base = Kalman(0.01, 1.0, None, 0.5).batch(close)
    scaled = Kalman(0.01 * factor, 1.0 * factor, None, 0.5 * factor).batch(close)
    assert np.max(np.abs(scaled - base) / np.abs(base)) <= 1e-12
    zs = KalmanZScore(0.01, 1.0, None, 0.5, lookback=50).batch(close)
    zs_scaled = KalmanZScore(0.01 * factor, factor, None, 0.5 * factor, lookback=50).batch(close)
    np.testing.assert_array_equal(np.isnan(zs), np.isnan(zs_scaled))
    valid = ~np.isnan(zs)
    assert np.max(np.abs(zs_scaled[valid] - zs[valid])) <= 1e-9


# Transforms that keep the residual well above the rounding of the transformed price: with
# a = 1e-3, b = 1 the residuals (~1e-7) sit 9 digits below the price and lose ~1e-9 to its
# rounding alone, which is a property of the input, not of the filter.
@pytest.mark.parametrize(("a", "b"), [(2.0, 0.0), (100.0, -50.0), (0.5, 3.0), (1e-3, 0.0)])
def test_zscore_is_invariant_to_affine_price_transforms(a: float, b: float) -> None:
    close = synthetic_side().close
    z = KalmanZScore(0.01, 1.0, None, 1.0, lookback=50).batch(close)
    z_t = KalmanZScore(0.01, 1.0, None, 1.0, lookback=50).batch(a * close + b)
    # Flat residual windows cannot flip to non-flat under a*p + b except by rounding.
    both = ~np.isnan(z) & ~np.isnan(z_t)
    assert both.sum() > 0.95 * (len(close) - 49)
    assert np.max(np.abs(z_t[both] - z[both])) <= 1e-9


def test_zero_q_with_p0_equal_r_is_the_running_mean() -> None:
    # q = 0 makes the filter recursive least squares; p0 = r weighs the prior level (the first
    # observation) like one more observation, so x_t = (y_0 + y_0 + ... + y_t) / (t + 2).
    ys = random_walk(2_000, 5)
    levels = Kalman(0.0, 0.7, None, 0.7).batch(ys)
    expected = (ys[0] + np.cumsum(ys)) / (np.arange(len(ys)) + 2.0)
    assert np.max(np.abs(levels - expected) / expected) <= 1e-12


def test_explicit_x0_is_the_prior_level() -> None:
    kf = Kalman(0.0, 1.0, x0=0.0, p0=1.0)
    assert kf.update(4.0) == 2.0  # k = 1 / 2
    assert kf.update(4.0) == 2.0 + (1.0 / 3.0) * 2.0  # P = 0.5 -> k = 0.5 / 1.5


def test_kalman_zscore_is_zscore_of_posterior_residuals() -> None:
    ys = synthetic_side().close[:3_000]
    kf = Kalman(0.05, 1.0, None, 1.0)
    residuals = np.array([y - kf.update(y) for y in ys.tolist()])
    expected = ZScore(30).batch(residuals)
    got = KalmanZScore(0.05, 1.0, None, 1.0, lookback=30).batch(ys)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[:29]).all() and not np.isnan(got[29:]).all()

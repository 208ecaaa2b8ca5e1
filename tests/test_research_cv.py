"""Purged and embargoed K-fold, combinatorial purged CV (AFML ch. 7 and 12) and its backtests."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from omega.errors import ConfigError
from omega.research.cv import (
    cpcv_paths,
    cpcv_splits,
    group_bounds,
    n_paths,
    purged_kfold,
    segments,
)


def test_group_bounds_cut_like_array_split():
    assert group_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]
    expected = [(int(a[0]), int(a[-1]) + 1) for a in np.array_split(np.arange(23), 5)]
    assert group_bounds(23, 5) == expected
    with pytest.raises(ConfigError, match="at least 2 groups"):
        group_bounds(10, 1)
    with pytest.raises(ConfigError, match="cannot be cut"):
        group_bounds(3, 4)


def test_purged_kfold_hand_computed():
    # 12 bars, 3 groups of 4; labels span 2 bars after the entry (horizon 2); embargo 1 bar.
    splits = purged_kfold(12, 3, horizon=2, embargo=1)
    assert [s.test_groups for s in splits] == [(0,), (1,), (2,)]
    assert splits[0].test.tolist() == [0, 1, 2, 3]
    assert splits[0].train.tolist() == [5, 6, 7, 8, 9, 10, 11]  # bar 4 embargoed
    assert splits[1].test.tolist() == [4, 5, 6, 7]
    assert splits[1].train.tolist() == [0, 1, 9, 10, 11]  # 2,3 purged; 8 embargoed
    assert splits[2].test.tolist() == [8, 9, 10, 11]
    assert splits[2].train.tolist() == [0, 1, 2, 3, 4, 5]  # 6,7 purged


def test_purging_removes_every_label_overlapping_a_test_bar():
    n, horizon, embargo = 60, 3, 2
    for split in cpcv_splits(n, 6, 2, horizon=horizon, embargo=embargo):
        test = set(split.test.tolist())
        for i in split.train.tolist():
            assert not test & set(range(i, i + horizon + 1)), (i, split.test_groups)
            assert not test & set(range(i - embargo, i)), (i, split.test_groups)
        # nothing else is dropped: train + test + purged + embargoed = all bars
        dropped = set(range(n)) - test - set(split.train.tolist())
        assert all(any(0 < t - i <= horizon or 0 < i - t <= embargo for t in test) for i in dropped)


def test_fractional_embargo_is_int_of_n_times_fraction():
    splits = purged_kfold(100, 4, embargo=0.05)
    assert splits[0].train[0] == 25 + 5
    with pytest.raises(ConfigError, match="< 1"):
        purged_kfold(100, 4, embargo=1.5)
    with pytest.raises(ConfigError, match=">= 0"):
        purged_kfold(100, 4, horizon=-1)
    with pytest.raises(ConfigError, match=">= 0"):
        purged_kfold(100, 4, horizon=True)


@pytest.mark.parametrize(("n_groups", "k"), [(6, 2), (5, 1), (6, 3), (8, 2), (10, 4)])
def test_number_of_paths_is_phi(n_groups, k):
    # AFML 12.4: phi[N, k] = k / N * C(N, k); the book's example N=6, k=2: 15 splits, 5 paths.
    phi = n_paths(n_groups, k)
    assert phi == math.comb(n_groups, k) * k / n_groups
    assert len(cpcv_splits(n_groups * 10, n_groups, k)) == math.comb(n_groups, k)
    paths = cpcv_paths(n_groups, k)
    assert paths.shape == (phi, n_groups)
    splits = list(combinations(range(n_groups), k))
    for p in range(phi):
        for g in range(n_groups):
            assert g in splits[paths[p, g]]  # the split tests that group
    used = sorted((int(paths[p, g]), g) for p in range(phi) for g in range(n_groups))
    assert used == sorted((s, g) for s, groups in enumerate(splits) for g in groups)


def test_afml_example_six_groups_two_tests():
    assert n_paths(6, 2) == 5
    paths = cpcv_paths(6, 2)
    # group 0 is tested by splits 0..4 ((0,1) .. (0,5)), one per path
    assert paths[:, 0].tolist() == [0, 1, 2, 3, 4]


def test_bad_test_group_count():
    with pytest.raises(ConfigError, match="between 1 and 5"):
        cpcv_splits(60, 6, 6)
    with pytest.raises(ConfigError, match="between 1 and 5"):
        cpcv_splits(60, 6, 0)


def test_segments():
    assert segments(np.array([], dtype=np.int64)) == []
    assert segments(np.array([0, 1, 2, 5, 6, 9])) == [(0, 3), (5, 7), (9, 10)]


# ----------------------------------------------------------------------------- backtests

core = pytest.importorskip("omega._core", reason="cross_validate runs the Rust sweep")

from omega.data import generate_synthetic  # noqa: E402
from omega.engine.settings import EngineSettings  # noqa: E402
from omega.research.cv import cross_validate  # noqa: E402
from omega.research.walkforward import run_single  # noqa: E402
from omega.sweep import parameter_grid, run_sweep  # noqa: E402
from omega.timeframes import Timeframe  # noqa: E402

STRATEGY = "mean_reversion_z_score"
GRID = parameter_grid({"lookback": [40, 80], "z_entry": [2.0, 2.5]})


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=36_000, seed=5)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


def test_cross_validate_paths_are_made_of_the_chosen_sets_test_runs(bars, settings):
    calls = []
    cv = cross_validate(
        bars,
        STRATEGY,
        GRID,
        settings,
        n_groups=4,
        n_test_groups=2,
        horizon=100,
        embargo=50,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[-1] == (6, 6)
    assert len(cv.splits) == 6 and len(cv.paths) == n_paths(4, 2) == 3
    bounds = group_bounds(len(bars), 4)
    splits = cpcv_splits(len(bars), 4, 2, horizon=100, embargo=50)
    # the choice of split 0 is the best training score, recomputed from single sweeps
    split = splits[0]
    weighted = np.zeros(len(GRID))
    for a, b in segments(split.train):
        table = run_sweep(bars.slice(a, b), STRATEGY, GRID, settings)
        weighted += table["sharpe"].to_numpy() * (b - a)
    best = GRID[int(np.argmax(weighted))]
    row = cv.splits.iloc[0]
    assert (row["param_lookback"], row["param_z_entry"]) == (best["lookback"], best["z_entry"])
    assert row["train_score"] == pytest.approx(weighted.max() / len(split.train))
    # path 0, group 0 comes from split 0; its equity starts as that run's equity
    first = run_single(bars.slice(*bounds[0]), STRATEGY, best, settings)
    curve = cv.equity["path_0"].to_numpy()
    assert np.array_equal(curve[: len(first.equity_values)], first.equity_values)
    assert cv.paths.loc[0, "return_pct"] == pytest.approx(
        (curve[-1] / settings.initial_balance - 1) * 100
    )
    assert len(curve) == len(bars) // 5  # every group once, M5 closes
    assert set(cv.sweeps.columns) >= {"segment_start", "segment_stop", "sharpe"}


def test_purged_kfold_backtest_one_path(bars, settings):
    cv = cross_validate(
        bars,
        STRATEGY,
        GRID[:2],
        settings,
        n_groups=3,
        n_test_groups=1,
        objective=lambda t: -t["max_drawdown_pct"].to_numpy(),
    )
    assert len(cv.paths) == 1 and cv.paths.loc[0, "splits"] == (0, 1, 2)


def test_cross_validate_errors(bars, settings):
    with pytest.raises(ConfigError, match="at least one parameter set"):
        cross_validate(bars, STRATEGY, [], settings)
    with pytest.raises(ConfigError, match="no training bars"):
        cross_validate(
            bars, STRATEGY, GRID[:1], settings, n_groups=2, n_test_groups=1, horizon=len(bars)
        )
    with pytest.raises(ConfigError, match="finite objective"):
        cross_validate(
            bars,
            STRATEGY,
            GRID[:1],
            settings,
            n_groups=3,
            n_test_groups=1,
            objective=lambda t: np.full(len(t), np.nan),
        )


def test_cross_validate_default_settings(bars):
    cv = cross_validate(bars.slice(0, 12_000), STRATEGY, GRID[:1], n_groups=3, n_test_groups=1)
    default = EngineSettings(instrument=bars.instrument)
    assert len(cv.equity) == 12_000 * 60 // default.primary_timeframe.seconds


@pytest.mark.real_data
def test_cpcv_on_real_histdata(real_data_dir):
    from omega.data import load

    bars = load(str(real_data_dir / "histdata_eurusd_2017"), "histdata", spread_pips=0.8)
    bars = bars.slice(0, 90_000)
    settings = EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )
    cv = cross_validate(
        bars, STRATEGY, GRID, settings, n_groups=5, n_test_groups=2, horizon=0.01, embargo=0.01
    )
    assert len(cv.splits) == 10 and len(cv.paths) == n_paths(5, 2) == 4
    # every path covers every group once: the same close times in each path
    assert cv.equity.notna().all().all()
    assert np.isfinite(cv.paths["return_pct"]).all()

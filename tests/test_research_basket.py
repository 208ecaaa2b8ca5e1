"""Searches and walk-forward over baskets (an ``instruments:`` config): each set is one basket
run on one account, its objective the account's.

The expected values come from plain loops of `run_basket` (one basket per set, on bars the
test cuts itself), the objective computed here from the engine's final balance: the search
and walk-forward machinery is not asked for them.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from omega.basket import load_basket_bars, run_basket, run_basket_sweep
from omega.cli import app
from omega.config import BacktestConfig
from omega.errors import ConfigError
from omega.research import walk_forward
from omega.research.backends import Basket, evaluate
from omega.research.search import IntRange, optimize
from omega.research.study import Study
from omega.sweep import parameter_grid

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

BASKET = {
    "data": {"synthetic": {"n_bars": 12_000, "seed": 5}},
    "timeframes": {"primary": "M15", "extra": []},
    "strategy": {"name": "sma_cross", "params": {"fast": 10, "slow": 40}},
    "instruments": [
        {"symbol": "EURUSD"},
        {"symbol": "USDJPY", "params": {"slow": 30}},  # stays 30 whatever the search says
        {"symbol": "EURJPY"},
    ],
    "execution": {"sizing": {"mode": "fixed", "lots": 1.0}},
    "account": {"leverage": 50},
}
MINUTE = 60 * 10**9
GRID = {"fast": [4, 8, 12], "slow": [24, 48]}
PAIRS = {
    "data": {"synthetic": {"n_bars": 6_000, "seed": 11}},
    "timeframes": {"primary": "M5", "extra": []},
    "strategy": {"name": "pairs_zscore", "params": {"lookback": 60, "entry": 1.8}},
    "instruments": [{"symbol": "EURUSD"}, {"symbol": "GBPUSD"}],
}


@pytest.fixture(scope="module")
def basket():
    config = BacktestConfig.from_dict(BASKET)
    return config, load_basket_bars(config)


def with_params(config: BacktestConfig, params: dict) -> BacktestConfig:
    return config.apply_overrides([f"strategy.params.{k}={v}" for k, v in params.items()])


def return_pct(result) -> float:
    """The account's return, from the engine's final balance (not the metrics code)."""
    return (result.final_balance / result.initial_balance - 1.0) * 100.0


def brute_force(config, bars, sets):
    """Each set's basket return, one `run_basket` per set."""
    return [return_pct(run_basket(with_params(config, p), bars=bars)) for p in sets]


def best_of(sets, values):
    top = max(values)
    assert sum(v == top for v in values) == 1, "a tie would make the best set ambiguous"
    return sets[values.index(top)]


def cut(bars, start_ns: int, stop_ns: int):
    """Each instrument's bars opening in ``[start_ns, stop_ns)``, by a mask of its times."""
    out = {}
    for symbol, series in bars.items():
        inside = np.flatnonzero((series.time >= start_ns) & (series.time < stop_ns))
        out[symbol] = series.slice(int(inside[0]), int(inside[-1]) + 1)
    return out


# ------------------------------------------------------------------------------- search


@pytest.mark.parametrize("method", ["grid", "random"])
def test_search_finds_the_set_a_loop_of_basket_runs_finds(basket, method):
    config, bars = basket
    sets = parameter_grid(GRID)
    expected = brute_force(config, bars, sets)
    result = optimize(
        bars,
        Basket(config),
        {name: list(values) for name, values in GRID.items()},
        method=method,
        trials=len(sets),  # random: every set of the grid, in its own order
        seed=3,
        objective="return_pct",
        backend="local",
        threads=2,
    )
    assert len(result.table) == len(sets) and result.table["error"].isna().all()
    assert result.best == best_of(sets, expected)
    for _, row in result.table.iterrows():
        want = expected[sets.index({"fast": row["fast"], "slow": row["slow"]})]
        assert row["objective"] == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_tpe_over_a_basket_resumes_from_its_study(basket, tmp_path):
    config, bars = basket
    space = {"fast": IntRange(3, 15), "slow": [24, 48]}
    with Study(tmp_path / "s.db", "tpe") as study:
        first = optimize(
            bars,
            Basket(config),
            space,
            method="tpe",
            trials=6,
            seed=1,
            objective="return_pct",
            batch=3,
            study=study,
        )
    assert first.skipped == 0 and len(first.table) == 6
    for _, row in first.table.iterrows():
        params = {"fast": int(row["fast"]), "slow": int(row["slow"])}
        direct = run_basket(with_params(config, params), bars=bars)
        assert row["objective"] == pytest.approx(return_pct(direct), rel=1e-9, abs=1e-9)
    with Study(tmp_path / "s.db", "tpe") as study:
        again = optimize(
            bars,
            Basket(config),
            space,
            method="tpe",
            trials=6,
            objective="return_pct",
            batch=3,
            study=study,
        )
    # every trial read back (the study's seed and its trials): nothing ran again
    assert again.skipped == 6 and len(again.table) == 6
    assert again.best == first.best


def test_a_study_keys_a_basket_on_its_config_and_every_instruments_bars(basket, tmp_path):
    config, bars = basket
    space = {"fast": [4, 8], "slow": 48}
    path = tmp_path / "s.db"

    def search(cfg, data):
        with Study(path, "grid") as study:
            return optimize(data, Basket(cfg), space, backend="local", study=study)

    first = search(config, bars)
    assert first.skipped == 0
    assert search(config, bars).skipped == 2  # the same basket: read back
    # another instrument override, another account, other bars of one instrument: run again
    other_params = config.apply_overrides(["instruments.1.params.slow=20"])
    assert search(other_params, bars).skipped == 0
    assert search(config.apply_overrides(["account.leverage=20"]), bars).skipped == 0
    shorter = {**bars, "EURJPY": bars["EURJPY"].slice(0, len(bars["EURJPY"]) - 1)}
    assert search(config, shorter).skipped == 0


@pytest.mark.parametrize("backend", ["local", "process"])
def test_evaluate_a_basket_on_each_backend_gives_the_basket_sweep(basket, backend):
    config, bars = basket
    sets = [{"fast": 4}, {"fast": 8}, {"fast": 60}]  # fast 60 >= slow: fails alone
    table = evaluate(bars, Basket(config), sets, backend=backend, threads=2)
    direct = run_basket_sweep(config, sets, bars=bars, threads=1)
    assert list(table.columns) == list(direct.columns)
    assert table.drop(columns=["exit_reasons"]).equals(direct.drop(columns=["exit_reasons"]))
    assert "fast" in table["error"][2]


def test_a_basket_search_refuses_what_does_not_fit(basket):
    config, bars = basket
    with pytest.raises(ConfigError, match="instruments: list"):
        Basket(BacktestConfig.from_dict({}))
    with pytest.raises(ConfigError, match="settings=None"):
        optimize(bars, Basket(config), {"fast": [4]}, config.to_engine_settings())
    with pytest.raises(ConfigError, match="by symbol"):
        optimize(bars["EURUSD"], Basket(config), {"fast": [4]})
    with pytest.raises(ConfigError, match="Basket"):
        walk_forward(bars, "sma_cross", [{"fast": 4}], train=100, test=100)
    lines = Basket(config).fixed_by_instruments(["fast", "slow"])
    assert lines == [
        "instruments[1] (USDJPY) sets its own slow: the search leaves them as they are there"
    ]


def test_search_of_a_portfolio_strategy_over_its_parameters():
    config = BacktestConfig.from_dict(PAIRS)
    bars = load_basket_bars(config)
    sets = parameter_grid({"lookback": [30, 60], "entry": [1.5, 2.0]})
    expected = brute_force(config, bars, sets)
    # auto: a process pool when the strategy runs in Python (hybrid), else threads here
    result = optimize(
        bars,
        Basket(config),
        {"lookback": [30, 60], "entry": [1.5, 2.0]},
        objective="return_pct",
        threads=2,
    )
    assert result.table["error"].isna().all() and (result.table["n_trades"] > 0).all()
    assert result.best == {**best_of(sets, expected)}
    got = {(r["lookback"], r["entry"]): r["objective"] for _, r in result.table.iterrows()}
    for params, want in zip(sets, expected, strict=True):
        assert got[(params["lookback"], params["entry"])] == pytest.approx(want, abs=1e-9)


# ------------------------------------------------------------------------------- walk-forward


def test_walk_forward_over_a_basket_bar_windows(basket):
    config, bars = basket
    sets = parameter_grid({"fast": [4, 12], "slow": [24, 48]})
    train, test = 3010, 1495  # not whole M15 bars: the bounds move back to one
    wf = walk_forward(
        bars, Basket(config), sets, train=train, test=test, objective="return_pct", threads=2
    )
    timeline = np.unique(np.concatenate([b.time for b in bars.values()]))
    n_folds = (len(timeline) - train - test) // test + 1
    assert len(wf.folds) == n_folds == 6
    assert wf.symbols == ["EURUSD", "USDJPY", "EURJPY"]

    def bound(position: int) -> int:
        """The window bound at a timeline position: back to the open of its M15 bar (a
        window of whole primary bars: EURJPY converts through USDJPY from the first one)."""
        if position >= len(timeline):
            return 2**62
        return int(timeline[position] - timeline[position] % (15 * MINUTE))

    for fold, row in wf.folds.iterrows():
        # rolling windows: training slides by test, the test windows follow each other
        start, split, stop = (bound(fold * test + k) for k in (0, train, train + test))
        inside = [(timeline >= a) & (timeline < b) for a, b in ((start, split), (split, stop))]
        assert row["train_start"].value == timeline[inside[0]][0]
        assert row["test_start"].value == timeline[inside[1]][0]
        assert row["test_end"].value == timeline[inside[1]][-1] + MINUTE
        assert (row["train_bars"], row["test_bars"]) == (inside[0].sum(), inside[1].sum())
        assert abs(row["train_bars"] - train) < 15 and abs(row["test_bars"] - test) < 15
        # in sample: the set a loop of basket runs on the training bars finds
        chosen = best_of(sets, brute_force(config, cut(bars, start, split), sets))
        assert {"fast": row["param_fast"], "slow": row["param_slow"]} == chosen
        # out of sample: a basket run of the chosen set on the test bars, as they are
        direct = run_basket(with_params(config, chosen), bars=cut(bars, split, stop))
        assert row["oos_return_pct"] == pytest.approx(return_pct(direct), rel=1e-12, abs=1e-12)
        assert row["oos_n_trades"] == len(direct.trades)
        trades = wf.trades[wf.trades["fold"] == fold]
        assert list(trades["symbol"]) == list(direct.trades["symbol"])
        assert np.array_equal(trades["pnl"].to_numpy(), direct.trades["pnl"].to_numpy())
        if fold == 0:  # the stitched equity starts as the first fold's account
            curve = direct.equity.to_numpy()
            assert np.array_equal(wf.equity.to_numpy()[: len(curve)], curve)
    # the stitched curve ends where the folds' returns compounded end
    growth = np.prod(1 + wf.folds["oos_return_pct"].to_numpy() / 100)
    assert wf.equity.iloc[-1] == pytest.approx(config.account.initial_balance * growth)
    assert wf.oos["n_trades"] == len(wf.trades) == wf.folds["oos_n_trades"].sum()


def test_walk_forward_over_a_basket_calendar_windows_anchored(basket):
    config, bars = basket
    wf = walk_forward(
        bars, Basket(config), [{"fast": 4}, {"fast": 12}], train="2D", test="1D", anchored=True
    )
    first = min(int(b.time[0]) for b in bars.values())
    last_close = max(int(b.time[-1]) for b in bars.values()) + MINUTE
    assert (wf.folds["train_start"].map(lambda t: t.value) == first).all()
    starts = wf.folds["test_start"].map(lambda t: t.value).to_numpy()
    ends = wf.folds["test_end"].map(lambda t: t.value).to_numpy()
    assert (np.diff(starts) > 0).all() and (starts[1:] >= ends[:-1]).all()
    assert ends[-1] <= last_close
    # anchored: each training window holds the one before it and the test window after it
    assert (np.diff(wf.folds["train_bars"].to_numpy()) > 0).all()
    assert len(wf.folds) >= 3


def test_walk_forward_skips_a_fold_in_which_an_instrument_has_no_bar(basket):
    from dataclasses import replace

    from omega.data.bars import COLUMNS

    config, bars = basket
    eurjpy = bars["EURJPY"]
    keep = np.flatnonzero((eurjpy.time < eurjpy.time[3900]) | (eurjpy.time >= eurjpy.time[6100]))
    holed = replace(eurjpy, **{c: getattr(eurjpy, c)[keep] for c in COLUMNS}, quality=None)
    sets = [{"fast": 4}, {"fast": 12}]
    full = walk_forward(bars, Basket(config), sets, train=2000, test=2000)
    gapped = walk_forward({**bars, "EURJPY": holed}, Basket(config), sets, train=2000, test=2000)
    assert len(full.folds) == 5  # test windows from bars 2000, 4000, 6000, 8000, 10000
    # EURJPY has no bar in the test window from 4000 nor in the training window of the
    # fold after it: both folds go, the others are the same folds
    assert list(gapped.folds["test_start"]) == [full.folds["test_start"][k] for k in (0, 3, 4)]
    for k, fold in zip((0, 3, 4), range(3), strict=True):
        assert gapped.folds["param_fast"][fold] == full.folds["param_fast"][k]


# ------------------------------------------------------------------------------- CLI


@pytest.fixture
def basket_file(tmp_path):
    path = tmp_path / "basket.yaml"
    path.write_text(json.dumps(BASKET))
    return path


def test_omega_optimize_on_a_basket(basket, basket_file, tmp_path):
    config, bars = basket
    out = tmp_path / "opt"
    args = ["optimize", str(basket_file), "--param", "fast=4,8,12", "--param", "slow=24,48"]
    args += ["--objective", "return_pct", "--out", str(out), "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "sma_cross on 3 instruments" in result.stdout
    assert "instruments[1] (USDJPY) sets its own slow" in result.stderr
    sets = parameter_grid(GRID)
    best = json.loads((out / "best.json").read_text())
    assert {k: best[k] for k in GRID} == best_of(sets, brute_force(config, bars, sets))


def test_omega_walk_forward_on_a_basket(basket_file, tmp_path):
    import pandas as pd

    out = tmp_path / "wf"
    args = ["walk-forward", str(basket_file), "--grid", "fast=4,12", "--train", "3000"]
    args += ["--test", "1500", "--out", str(out), "--no-progress", "--mc-runs", "50"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "sma_cross on 3 instruments (the account): 6 folds" in result.stdout
    summary = json.loads((out / "walk_forward.json").read_text())
    assert summary["symbols"] == ["EURUSD", "USDJPY", "EURJPY"]
    trades = pd.read_csv(out / "trades.csv")
    assert set(trades["symbol"]) <= {"EURUSD", "USDJPY", "EURJPY"} and len(trades)
    assert "on EURUSD, USDJPY, EURJPY" in (out / "report.html").read_text()
    robust = CliRunner().invoke(app, ["validate-robustness", str(out), "--no-progress"])
    assert robust.exit_code == 0, robust.output
    page = (out / "robustness.html").read_text()
    assert "not computed for a basket" in page and not math.isnan(len(trades))

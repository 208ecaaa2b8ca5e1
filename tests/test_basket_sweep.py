"""Sweeps over basket configurations: one row per parameter set, each row the metrics of the
same basket run on its own."""

from __future__ import annotations

import math

import pytest

from omega.basket import load_basket_bars, run_basket, run_basket_sweep
from omega.config import BacktestConfig

BASKET = {
    "data": {"synthetic": {"n_bars": 12_000, "seed": 4}},
    "strategy": {"name": "sma_cross", "params": {"fast": 10, "slow": 40}},
    "instruments": [
        {"symbol": "EURUSD"},
        {"symbol": "USDJPY", "params": {"slow": 30}},
        {"symbol": "EURJPY"},
    ],
    "account": {"leverage": 50},
}


@pytest.mark.parametrize("engine", ["python", "rust"])
def test_each_row_is_the_metrics_of_that_basket_run(engine: str):
    if engine == "rust":
        pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    config = BacktestConfig.from_dict({**BASKET, "engine": engine})
    bars = load_basket_bars(config)
    sets = [{"fast": 5}, {"fast": 12}, {"fast": 50}]  # fast 50 >= slow 40: refused
    calls = []
    table = run_basket_sweep(
        config, sets, bars=bars, threads=2, progress=lambda d, t: calls.append((d, t))
    )
    assert list(table["fast"]) == [5, 12, 50]
    assert calls[-1] == (3, 3)
    for k in (0, 1):
        single = run_basket(config.apply_overrides([f"strategy.params.fast={sets[k]['fast']}"]))
        for name, value in single.account.metrics.items():
            got = table[name][k]
            assert got == value or (
                isinstance(value, float) and math.isnan(value) and math.isnan(got)
            ), name
        assert table["error"].isna()[k]
    assert "fast" in table["error"][2] and math.isnan(table["sharpe"][2])
    # the instruments' own overrides stay: USDJPY keeps slow 30 in every set
    assert table["n_trades"][0] != table["n_trades"][1]


def test_omega_sweep_on_a_basket_config(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from omega.cli import app

    config = tmp_path / "basket.yaml"
    config.write_text(
        "data: {synthetic: {n_bars: 8000, seed: 4}}\n"
        "strategy: {name: sma_cross, params: {fast: 10, slow: 40}}\n"
        "instruments: [{symbol: EURUSD}, {symbol: GBPUSD}]\n"
    )
    out = tmp_path / "sweep"
    args = ["sweep", str(config), "--grid", "fast=5,12", "--out", str(out), "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv").sort_values("fast", ignore_index=True)
    assert list(table["fast"]) == [5, 12] and table["error"].isna().all()
    single = run_basket(
        BacktestConfig.from_file(config).apply_overrides(["strategy.params.fast=12"])
    )
    assert table["net_profit"][1] == pytest.approx(single.account.metrics["net_profit"], rel=1e-12)


def test_account_exposure_counts_a_close_once():
    config = BacktestConfig.from_dict({**BASKET, "engine": "rust"})
    result = run_basket(config)
    account = result.account.metrics["exposure"]
    members = [r.metrics["exposure"] for r in result.instruments.values()]
    assert max(members) <= account <= 1.0

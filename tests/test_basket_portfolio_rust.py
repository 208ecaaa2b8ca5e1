"""Portfolio strategies in rust mode and in the stream session: the built-in
`pairs_zscore` has a Rust twin (crates/strategies/src/pairs_zscore.rs) run by the engine's
portfolio driver (crates/engine/src/basket_portfolio.rs); its trades, members' curves and
the account's equity equal the Python reference's (python mode), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from omega.basket import load_basket_bars, member_settings, run_basket
from omega.config import BacktestConfig
from omega.engine.basket import run_basket_rust_portfolio
from omega.errors import ConfigError, StrategyError
from omega.stream import BasketStreamSession

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

CASES = [
    # (seed, params, instruments): the default legs; chosen legs (a cross converting
    # through the basket's own pair); JPY pairs with tight stops (stopped legs); a basket
    # with a margin model and risk sizing
    (11, {"lookback": 60, "entry": 1.8}, ["EURUSD", "GBPUSD", "EURGBP"], {}),
    (
        3,
        {"lookback": 30, "entry": 1.5, "exit": 0.2, "legs": ["EURGBP", "GBPUSD"]},
        ["EURUSD", "GBPUSD", "EURGBP"],
        {},
    ),
    (5, {"lookback": 20, "entry": 1.2, "stop_pips": 10}, ["USDJPY", "EURJPY", "EURUSD"], {}),
    (
        7,
        {"lookback": 40, "entry": 1.4, "size": 2.0},
        ["AUDUSD", "NZDUSD"],
        {"account": {"leverage": 30}},
    ),
]


def config_of(seed: int, params: dict, symbols: list[str], extra: dict) -> BacktestConfig:
    return BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 12_000, "seed": seed}},
            "strategy": {"name": "pairs_zscore", "params": params},
            "instruments": [{"symbol": s} for s in symbols],
            **extra,
        }
    )


@pytest.mark.parametrize(("seed", "params", "symbols", "extra"), CASES)
def test_rust_mode_trades_as_the_python_reference(seed, params, symbols, extra):
    config = config_of(seed, params, symbols, extra)
    python = run_basket(config.apply_overrides(["engine=python"]))
    rust = run_basket(config.apply_overrides(["engine=rust"]))
    assert (python.mode, rust.mode) == ("python", "rust")
    assert len(python.trades) > 10
    assert python.trades_equal(rust)
    assert np.array_equal(python.raw.equity, rust.raw.equity)
    for a, b in zip(python.raw.members, rust.raw.members, strict=True):
        assert np.array_equal(a.equity, b.equity)


def test_auto_mode_picks_rust_and_the_environment_can_refuse_it(monkeypatch):
    config = config_of(*CASES[0])
    assert run_basket(config).mode == "rust"
    monkeypatch.setenv("OMEGA_USE_RUST_STRATEGY", "0")
    assert run_basket(config).mode == "hybrid"


def test_legs_outside_the_basket_are_refused_by_the_config_and_by_the_rust_twin():
    with pytest.raises(ConfigError, match="AUDUSD"):
        config_of(11, {"legs": ["EURUSD", "AUDUSD"]}, ["EURUSD", "GBPUSD"], {})
    # the engine call itself (what the config check guards) names the legs too
    config = config_of(11, {}, ["EURUSD", "GBPUSD"], {})
    bars = load_basket_bars(config)
    settings = member_settings(config, bars)
    members = [(bars[s.instrument.symbol], s) for s in settings]
    with pytest.raises(StrategyError, match="AUDUSD"):
        run_basket_rust_portfolio(members, "pairs_zscore", {"legs": ["EURUSD", "AUDUSD"]})
    with pytest.raises(StrategyError, match="exit"):
        run_basket_rust_portfolio(members, "pairs_zscore", {"entry": 1.0, "exit": 1.5})


@pytest.mark.parametrize(("seed", "params", "symbols", "extra"), CASES[1:3])
def test_the_stream_session_runs_a_portfolio_strategy_bar_by_bar(seed, params, symbols, extra):
    config = config_of(seed, params, symbols, extra)
    bars = load_basket_bars(config)
    python = run_basket(config.apply_overrides(["engine=python"]), bars=bars)
    session = BasketStreamSession.from_config(config, bars)
    assert session.push_bars(bars) > 0
    raw = session.finish()
    assert len(python.trades) > 10
    for got, want in zip(raw.members, python.raw.members, strict=True):
        for name, column in want.trades.items():
            if column.dtype == object:
                assert list(got.trades[name]) == list(column), name
            else:
                assert np.array_equal(got.trades[name], column, equal_nan=True), name
        assert np.array_equal(got.equity, want.equity)
    assert np.array_equal(raw.equity, python.raw.equity)


def test_the_pairs_example_runs_from_the_cli_in_every_mode_with_the_same_trades(tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    from omega.cli import app

    example = Path(__file__).resolve().parent.parent / "examples" / "pairs.yaml"
    trades = {}
    for mode in ("python", "hybrid", "rust"):
        out = tmp_path / mode
        args = ["backtest", str(example), "--engine", mode, "--out", str(out), "--no-report"]
        result = CliRunner().invoke(app, [*args, "--set", "data.synthetic.n_bars=20000"])
        assert result.exit_code == 0, result.output
        assert f"Engine mode: {mode}" in result.output
        trades[mode] = (out / "trades.csv").read_text()
    assert trades["python"].count("\n") > 20
    assert trades["python"] == trades["hybrid"] == trades["rust"]

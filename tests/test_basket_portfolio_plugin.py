"""Portfolio strategies as run-time plugins: examples/plugin_pairs_zscore exports the
built-in `pairs_zscore` with ``export_portfolio_strategy!``; a basket config naming it in
``strategy.plugin`` runs it as one strategy over the basket (rust mode), trading bit for bit
as the built-in portfolio. A single-strategy plugin in the same place still runs one
instance per instrument; each kind is refused where the other is expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.basket import load_basket_bars, member_settings, run_basket
from omega.config import BacktestConfig
from omega.engine.basket import run_basket_portfolio_plugin
from omega.engine.plugin import plugin_info, plugin_kind, run_plugin
from omega.errors import ConfigError, PluginError, StrategyError
from omega.stream import BasketStreamSession
from test_plugins import NAME, PARAMS, REPO_ROOT, _build

PAIRS_CRATE = REPO_ROOT / "examples" / "plugin_pairs_zscore"


@pytest.fixture(scope="module")
def libraries(tmp_path_factory) -> dict[str, Path]:
    dest = tmp_path_factory.mktemp("portfolio_plugin")
    return {"portfolio": _build(None, dest, PAIRS_CRATE), "strategy": _build(None, dest)}


CASES = [
    # (seed, params, instruments, extra): the default legs; chosen legs (a cross converting
    # through the basket's own pair); JPY legs with tight stops (stopped legs); the JPY
    # legs of a four-pair basket on a margin account with a larger size
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
        {"lookback": 40, "entry": 1.4, "size": 2.0, "legs": ["USDJPY", "EURJPY"]},
        ["EURUSD", "GBPUSD", "USDJPY", "EURJPY"],
        {"account": {"leverage": 30}},
    ),
]


def builtin_config(seed: int, params: dict, symbols: list[str], extra: dict) -> BacktestConfig:
    return BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 12_000, "seed": seed}},
            "strategy": {"name": "pairs_zscore", "params": params},
            "instruments": [{"symbol": s} for s in symbols],
            "engine": "rust",
            **extra,
        }
    )


def plugin_config(library: Path, seed: int, params: dict, symbols: list[str], extra: dict):
    """The same basket with the plugin; its ``legs`` parameter is the Rust twin's text
    ``"A,B"`` (a plugin validates its parameters itself)."""
    given = dict(params)
    if "legs" in given:
        given["legs"] = ",".join(given["legs"])
    return BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 12_000, "seed": seed}},
            "strategy": {"plugin": str(library), "params": given},
            "instruments": [{"symbol": s} for s in symbols],
            **extra,
        }
    )


def test_the_library_kinds_are_told_apart(libraries):
    assert plugin_kind(libraries["portfolio"]) == "portfolio"
    assert plugin_kind(libraries["strategy"]) == "strategy"


@pytest.mark.parametrize(("seed", "params", "symbols", "extra"), CASES)
def test_the_plugin_trades_as_the_builtin_portfolio(libraries, seed, params, symbols, extra):
    builtin = run_basket(builtin_config(seed, params, symbols, extra))
    config = plugin_config(libraries["portfolio"], seed, params, symbols, extra)
    plugin = run_basket(config, bars=load_basket_bars(config))
    assert (builtin.mode, plugin.mode) == ("rust", "rust")
    assert len(builtin.trades) > 10
    assert builtin.trades_equal(plugin)
    assert np.array_equal(builtin.raw.equity, plugin.raw.equity)
    assert np.array_equal(builtin.raw.time, plugin.raw.time)
    for a, b in zip(builtin.raw.members, plugin.raw.members, strict=True):
        assert np.array_equal(a.equity, b.equity)


def test_a_panic_in_evaluate_is_a_plugin_error_naming_the_plugin(libraries):
    config = plugin_config(libraries["portfolio"], *CASES[0][:3], {})
    hooked = config.apply_overrides(["strategy.params.panic_at_close=-1"])
    with pytest.raises(PluginError, match=r"pairs_zscore: panic in evaluate: test hook"):
        run_basket(hooked)


def test_the_plugin_validates_its_parameters(libraries):
    config = plugin_config(libraries["portfolio"], 11, {"entry": 1.0, "exit": 1.0}, *CASES[0][2:])
    with pytest.raises(StrategyError, match=r"exit \(1\) must be < entry \(1\)"):
        run_basket(config)
    legs = plugin_config(
        libraries["portfolio"], 11, {"legs": ["EURUSD", "AUDUSD"]}, ["EURUSD", "GBPUSD"], {}
    )
    with pytest.raises(StrategyError, match="AUDUSD"):
        run_basket(legs)


def test_member_params_and_the_python_modes_are_refused(libraries):
    config = plugin_config(libraries["portfolio"], *CASES[0])
    with pytest.raises(ConfigError, match=r"instruments\[1\]\.params"):
        run_basket(config.apply_overrides(["instruments.1.params.entry=1.5"]))
    for engine in ("python", "hybrid"):
        with pytest.raises(ConfigError, match=r"conflicts with strategy\.plugin"):
            config.apply_overrides([f"engine={engine}"])


def test_a_single_strategy_plugin_still_runs_per_instrument(libraries):
    symbols = ["EURUSD", "GBPUSD"]
    data = {"synthetic": {"n_bars": 8_000, "seed": 4}}
    instruments = [{"symbol": s} for s in symbols]
    plugin = run_basket(
        BacktestConfig.from_dict(
            {
                "data": data,
                "strategy": {"plugin": str(libraries["strategy"]), "params": PARAMS},
                "instruments": instruments,
            }
        )
    )
    builtin = run_basket(
        BacktestConfig.from_dict(
            {
                "data": data,
                "strategy": {"name": NAME, "params": PARAMS},
                "instruments": instruments,
                "engine": "rust",
            }
        )
    )
    assert plugin.mode == "rust"
    assert len(plugin.trades) > 0
    assert plugin.trades_equal(builtin)
    assert np.array_equal(plugin.raw.equity, builtin.raw.equity)


def test_each_kind_is_refused_where_the_other_is_expected(libraries):
    config = plugin_config(libraries["portfolio"], *CASES[0])
    by_symbol = load_basket_bars(config)
    settings = member_settings(config, by_symbol)[0]
    bars = by_symbol[settings.instrument.symbol]
    with pytest.raises(PluginError, match="is a portfolio strategy plugin"):
        run_plugin(bars, libraries["portfolio"], {}, settings)
    with pytest.raises(PluginError, match="is a portfolio strategy plugin"):
        plugin_info(libraries["portfolio"])
    with pytest.raises(PluginError, match="is a single-instrument strategy plugin"):
        run_basket_portfolio_plugin(str(libraries["strategy"]), [(bars, settings)], {})


@pytest.mark.parametrize(("seed", "params", "symbols", "extra"), CASES[1:3])
def test_the_stream_session_runs_the_plugin_bar_by_bar(libraries, seed, params, symbols, extra):
    builtin = run_basket(builtin_config(seed, params, symbols, extra))
    config = plugin_config(libraries["portfolio"], seed, params, symbols, extra)
    bars = load_basket_bars(config)
    session = BasketStreamSession.from_config(config, bars)
    assert session.push_bars(bars) > 0
    raw = session.finish()
    assert len(builtin.trades) > 10
    for got, want in zip(raw.members, builtin.raw.members, strict=True):
        for name, column in want.trades.items():
            if column.dtype == object:
                assert list(got.trades[name]) == list(column), name
            else:
                assert np.array_equal(got.trades[name], column, equal_nan=True), name
        assert np.array_equal(got.equity, want.equity)
    assert np.array_equal(raw.equity, builtin.raw.equity)


def test_check_bias_streams_the_plugin_as_a_portfolio(libraries):
    from omega.bias import check_bias

    config = plugin_config(
        libraries["portfolio"], 11, {"lookback": 60, "entry": 1.8}, *CASES[0][2:]
    )
    report = check_bias(config, cuts=3, offsets=2)
    assert report.subject.startswith("plugin ")
    assert report.stream.skipped == ""
    assert report.stream.trades > 0
    assert report.stream.difference == ""
    assert report.ok, report.problems


def test_check_plugin_says_a_portfolio_plugin_is_compared_on_a_basket(libraries):
    from omega.plugin_check import check_plugin

    with pytest.raises(PluginError, match=r"is a portfolio strategy plugin.*on a basket"):
        check_plugin(libraries["portfolio"], "omega.strategies.pairs_zscore:PairsZScore")

"""A strategy plugin runs a basket: each instrument gets an instance of the plugin's strategy
(the library loaded once), and the basket trades exactly as with the built-in Rust strategy
the plugin is a build of."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.basket import load_basket_bars, run_basket
from omega.config import BacktestConfig
from omega.errors import ConfigError
from test_plugins import NAME, PARAMS, _build


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    return _build(None, tmp_path_factory.mktemp("basket_plugin"))


def basket(**strategy) -> BacktestConfig:
    return BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 20_000, "seed": 9}},
            "strategy": strategy,
            "instruments": [
                {"symbol": "EURUSD"},
                {"symbol": "USDJPY", "params": {"lookback": 30}},
                {"symbol": "EURJPY"},
            ],
            "account": {"leverage": 30},
        }
    )


def test_a_plugin_basket_trades_as_the_builtin_rust_strategy(plugin):
    builtin = basket(name=NAME, params=PARAMS)
    bars = load_basket_bars(builtin)
    expected = run_basket(builtin.apply_overrides(["engine=rust"]), bars=bars)
    got = run_basket(basket(name=NAME, plugin=str(plugin), params=PARAMS), bars=bars)
    assert got.mode == "rust" and "plugin" in got.mode_reason
    assert got.trades_equal(expected)
    assert np.array_equal(got.raw.equity, expected.raw.equity)
    assert sum(m.n_trades for m in got.raw.members) > 30


def test_a_plugin_basket_refuses_python_modes(plugin):
    with pytest.raises(ConfigError, match="plugin"):
        basket(name=NAME, plugin=str(plugin), params=PARAMS).apply_overrides(["engine=python"])

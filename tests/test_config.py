"""BacktestConfig: defaults, validation messages naming the key path, overrides, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omega.config import BacktestConfig, config_json_schema, default_config
from omega.engine.settings import BreakEvenSettings, TrailingSettings
from omega.errors import ConfigError
from omega.timeframes import Timeframe

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_default_config_maps_to_the_documented_engine_settings():
    config = default_config()
    s = config.to_engine_settings()
    assert config.strategy.name == "mean_reversion_z_score"
    assert config.data.source == "synthetic"
    assert (config.data.synthetic_or_default.seed, config.data.synthetic_or_default.n_bars) == (
        42,
        1_000_000,
    )
    assert s.primary_timeframe is Timeframe.M5
    assert s.timeframes == (Timeframe.M5, Timeframe.H1)
    assert (s.sizing.mode, s.sizing.risk_percent) == ("risk_percent", 1.0)
    assert s.fees.commission_per_lot == 3.5
    assert s.intrabar_policy == "pessimistic"
    assert s.slippage.model == "none"
    assert (s.break_even, s.trailing, s.max_bars_held) == (None, None, None)
    assert (s.initial_balance, s.account_currency) == (100_000.0, "USD")
    assert (s.instrument.symbol, s.instrument.pip_size) == ("EURUSD", 0.0001)
    assert config.engine == "auto"
    assert config.trace is False


def test_examples_default_yaml_is_the_default_config():
    from_file = BacktestConfig.from_file(EXAMPLES / "default.yaml")
    default = default_config()
    assert from_file.to_engine_settings() == default.to_engine_settings()
    assert from_file.strategy_params() == default.strategy_params()
    assert from_file.data.synthetic_or_default == default.data.synthetic_or_default
    assert (from_file.engine, from_file.trace) == (default.engine, default.trace)


@pytest.mark.parametrize("name", ["default", "mt5_eurusd", "histdata_eurusd", "custom_strategy"])
def test_every_example_config_is_valid(name, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)  # strategy.module paths are relative to the cwd
    config = BacktestConfig.from_file(EXAMPLES / f"{name}.yaml")
    config.to_engine_settings()
    config.build_strategy()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"execution": {"slippage": {"pips": -1}}}, "execution.slippage.pips: Input should be"),
        ({"execution": {"slipage": {}}}, "execution.slipage: unknown key"),
        ({"bogus": 1}, "bogus: unknown key"),
        ({"engine": "fast"}, "engine: Input should be 'auto', 'python', 'hybrid' or 'rust'"),
        ({"timeframes": {"primary": "M7"}}, "timeframes.primary: unknown timeframe 'M7'"),
        ({"timeframes": {"primary": "H1", "extra": ["M5"]}}, "timeframes: extra timeframe M5"),
        ({"data": {"path": "x.csv"}}, "data: format is required with path"),
        ({"data": {"tz": "EET"}}, "data: tz needs a path"),
        ({"data": {"path": "x", "format": "mt5", "synthetic": {}}}, "data: give either path"),
        ({"data": {"path": "x", "format": "xls"}}, "data.format: Input should be"),
        ({"data": {"synthetic": {"n_bars": 0}}}, "data.synthetic.n_bars: Input should be"),
        ({"account": {"initial_balance": 0}}, "account.initial_balance: Input should be"),
        ({"account": {"currency": "GBP"}}, "account.currency: GBP is neither"),
        ({"execution": {"sizing": {"risk_percent": 150}}}, "execution.sizing.risk_percent"),
        ({"execution": {"break_even": {"offset_pips": 1}}}, "execution.break_even.trigger"),
        (
            {"execution": {"break_even": {"trigger_pips": 1, "unit": "atr"}}},
            "execution.break_even: trigger_pips mean(s) unit pips",
        ),
        ({"execution": {"trailing": {"distance": 1, "unit": "ticks"}}}, "execution.trailing.unit"),
        ({"execution": {"stop_atr_period": 0}}, "execution.stop_atr_period"),
        ({"execution": {"intrabar_policy": "random"}}, "execution.intrabar_policy: Input"),
        ({"strategy": {"name": "nope"}}, "strategy.name: unknown strategy 'nope'"),
        ({"strategy": {"params": {"z_entry": "x"}}}, "strategy.params.z_entry: Input should be"),
        ({"strategy": {"params": {"zentry": 2}}}, "strategy.params.zentry: unknown key"),
        ({"instrument": {"symbol": "GOLD"}}, "instrument: symbol 'GOLD' is not a six-letter"),
        ({"strategy": {"module": "no_such_module_xyz"}}, "strategy.module: cannot import"),
    ],
)
def test_errors_name_the_key_path(data, expected):
    with pytest.raises(ConfigError) as info:
        BacktestConfig.from_dict(data)
    assert str(info.value).startswith(expected), str(info.value)


def test_several_errors_are_all_reported():
    with pytest.raises(ConfigError) as info:
        BacktestConfig.from_dict({"engine": "x", "account": {"initial_balance": -1}})
    assert "engine:" in str(info.value)
    assert "account.initial_balance:" in str(info.value)


def test_instrument_defaults_come_from_the_symbol_and_fields_override():
    jpy = BacktestConfig.from_dict(
        {"instrument": {"symbol": "usdjpy", "min_lot": 0.1}, "account": {"currency": "JPY"}}
    ).to_engine_settings()
    assert jpy.instrument.symbol == "USDJPY"
    assert (jpy.instrument.pip_size, jpy.instrument.point) == (0.01, 0.001)
    assert jpy.instrument.min_lot == 0.1
    assert jpy.account_currency == "JPY"
    custom = BacktestConfig.from_dict(
        {
            "instrument": {
                "symbol": "GOLD",
                "pip_size": 0.1,
                "point": 0.01,
                "base_currency": "xau",
                "quote_currency": "usd",
            }
        }
    ).to_engine_settings()
    assert (custom.instrument.base_currency, custom.instrument.quote_currency) == ("XAU", "USD")


def test_optional_execution_sections_map_to_settings():
    settings = BacktestConfig.from_dict(
        {
            "execution": {
                "break_even": {"trigger_pips": 10, "offset_pips": 1},
                "trailing": {"distance_pips": 15},
                "max_bars_held": 30,
                "slippage": {"model": "random", "pips": 0.5, "seed": 9},
                "sizing": {"mode": "fixed", "lots": 2.5},
            },
            "timeframes": {"primary": "m15", "extra": ["H4", "h1", "H1"]},
        }
    ).to_engine_settings()
    # the old *_pips keys are aliases meaning unit pips
    assert settings.break_even == BreakEvenSettings(trigger=10.0, offset=1.0, unit="pips")
    assert settings.trailing == TrailingSettings(distance=15.0, unit="pips")
    assert settings.stop_atr_period == 14
    assert settings.max_bars_held == 30
    assert (settings.slippage.model, settings.slippage.pips, settings.slippage.seed) == (
        "random",
        0.5,
        9,
    )
    assert (settings.sizing.mode, settings.sizing.lots) == ("fixed", 2.5)
    assert settings.timeframes == (Timeframe.M15, Timeframe.H1, Timeframe.H4)


def test_overrides_parse_yaml_scalars_and_create_sections():
    config = default_config().apply_overrides(
        [
            "strategy.params.z_entry=2.5",
            "strategy.params.trend_filter=false",
            "engine=python",
            "execution.break_even.trigger_pips=10",
            "data.synthetic.n_bars=5000",
        ]
    )
    params = config.strategy_params()
    assert params.z_entry == 2.5
    assert params.trend_filter is False
    assert config.engine == "python"
    assert config.execution.break_even.trigger == 10.0
    assert config.data.synthetic.n_bars == 5000
    # The original is untouched (configs are frozen values).
    assert default_config().engine == "auto"


def test_override_errors_name_the_key():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        default_config().apply_overrides(["engine"])
    with pytest.raises(ConfigError, match=r"^execution\.slippage\.pips: Input should be"):
        default_config().apply_overrides(["execution.slippage.pips=-0.5"])
    with pytest.raises(ConfigError, match=r"^strategy\.params\.nope: unknown key"):
        default_config().apply_overrides(["strategy.params.nope=1"])
    with pytest.raises(ConfigError, match=r"^engine: is a value, not a section"):
        default_config().apply_overrides(["engine=python", "engine.mode=rust"])


def test_with_data_file_replaces_synthetic_data():
    config = BacktestConfig.from_dict({"data": {"synthetic": {"seed": 1}, "strict_quality": True}})
    moved = config.with_data_file("bars.csv", "mt5", "EET")
    assert (moved.data.path, moved.data.format, moved.data.tz) == ("bars.csv", "mt5", "EET")
    assert moved.data.synthetic is None
    assert moved.data.strict_quality is True


def test_from_file_yaml_and_json(tmp_path):
    (tmp_path / "a.yaml").write_text("engine: python\nstrategy:\n  params: {z_entry: 3}\n")
    (tmp_path / "b.json").write_text(json.dumps({"engine": "python", "trace": True}))
    assert BacktestConfig.from_file(tmp_path / "a.yaml").strategy_params().z_entry == 3.0
    assert BacktestConfig.from_file(tmp_path / "b.json").trace is True


def test_file_errors_name_the_file(tmp_path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("engine: [python\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        BacktestConfig.from_file(bad_yaml)
    wrong_key = tmp_path / "wrong.yaml"
    wrong_key.write_text("execution:\n  fees:\n    commision_per_lot: 3\n")
    with pytest.raises(ConfigError, match=r"wrong\.yaml: execution\.fees\.commision_per_lot"):
        BacktestConfig.from_file(wrong_key)
    with pytest.raises(ConfigError, match="cannot read config"):
        BacktestConfig.from_file(tmp_path / "missing.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        BacktestConfig.from_file(scalar)


def test_empty_file_is_the_default_config(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert BacktestConfig.from_file(empty).to_engine_settings() == (
        default_config().to_engine_settings()
    )


def test_json_schema_describes_every_section_and_forbids_unknown_keys():
    schema = config_json_schema()
    assert set(schema["properties"]) == {
        "data",
        "instrument",
        "timeframes",
        "strategy",
        "execution",
        "account",
        "engine",
        "instruments",
        "trace",
        "memory_check",
    }
    assert schema["additionalProperties"] is False
    slippage = schema["$defs"]["SlippageConfig"]
    assert slippage["properties"]["pips"]["minimum"] == 0
    assert slippage["additionalProperties"] is False
    json.dumps(schema)  # serialisable as is


def test_custom_strategy_module_from_a_file(tmp_path, monkeypatch):
    module = tmp_path / "my_strategy.py"
    module.write_text(
        "from omega.strategy import Strategy, StrategyParams, register_strategy\n"
        "@register_strategy\n"
        "class Never(Strategy):\n"
        "    name = 'test_config_never'\n"
        "    class Params(StrategyParams):\n"
        "        level: float = 1.0\n"
        "    def evaluate(self, data):\n"
        "        return None\n"
    )
    data = {"strategy": {"module": str(module), "name": "test_config_never"}}
    config = BacktestConfig.from_dict({**data, "strategy": {**data["strategy"], "params": {}}})
    assert config.strategy_params().level == 1.0
    # Loading the same file again does not re-register (which would be a name clash).
    again = BacktestConfig.from_dict({"strategy": {**data["strategy"], "params": {"level": 2}}})
    assert again.strategy_params().level == 2.0
    with pytest.raises(ConfigError, match=r"strategy\.module: no such file"):
        BacktestConfig.from_dict({"strategy": {"module": str(tmp_path / "absent.py")}})


def test_effective_dict_fills_in_synthetic_data_and_strategy_parameters():
    effective = default_config().effective_dict()
    assert effective["data"]["synthetic"] == {"seed": 42, "n_bars": 1_000_000}
    assert effective["strategy"]["params"]["z_entry"] == 3.5
    assert effective["strategy"]["params"]["trend_timeframe"] == "H1"
    on_file = default_config().with_data_file("x.csv", "mt5").effective_dict()
    assert on_file["data"]["synthetic"] is None


def test_break_even_and_trailing_in_atr_units_map_to_settings():
    settings = BacktestConfig.from_dict(
        {
            "execution": {
                "break_even": {"trigger": 1.5, "offset": 0.25, "unit": "atr"},
                "trailing": {"distance": 2.0, "unit": "atr"},
                "stop_atr_period": 7,
            }
        }
    ).to_engine_settings()
    assert settings.break_even == BreakEvenSettings(trigger=1.5, offset=0.25, unit="atr")
    assert settings.trailing == TrailingSettings(distance=2.0, unit="atr")
    assert settings.stop_atr_period == 7

"""Regression tests for the configuration faults of issue 13 (items 2, 3, 4 and 9), one test
per finding, named after it; inputs are the issue's reproductions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omega.cli import app
from omega.config import BacktestConfig
from omega.config.model import MAX_ERROR_CHARS
from omega.errors import ConfigError

# A small run: 3,000 synthetic M1 bars, primary M1, no extra timeframe.
QUICK = [
    "--no-progress",
    "--set",
    "data.synthetic.n_bars=3000",
    "--set",
    "timeframes.primary=M1",
    "--set",
    "timeframes.extra=[]",
    "--set",
    "strategy.params.trend_filter=false",
]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- 2. tracebacks from configs


def test_regression_non_utf8_config_file(tmp_path):
    path = write(tmp_path / "c.yaml", b"engine: python\n# caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        BacktestConfig.from_file(path)
    message = str(info.value)
    assert str(path) in message and "UTF-8" in message and "line 2" in message
    result = CliRunner().invoke(app, ["backtest", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "UTF-8" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_regression_deeply_nested_yaml_list(tmp_path, suffix):
    depth = 5000  # past Python's recursion limit, as in the issue
    path = write(tmp_path / f"deep{suffix}", b'{"data": ' + b"[" * depth + b"]" * depth + b"}")
    with pytest.raises(ConfigError) as info:
        BacktestConfig.from_file(path)
    assert str(path) in str(info.value) and "nested deeper" in str(info.value)


def test_regression_deeply_nested_value_names_its_key_path(tmp_path):
    # Deep enough to be refused, shallow enough for the parser: the check names the path.
    path = write(tmp_path / "deep.yaml", b"strategy:\n  params:\n    x: " + b"[" * 40 + b"]" * 40)
    with pytest.raises(ConfigError, match=r"strategy\.params\.x\.0\.0.*nested deeper"):
        BacktestConfig.from_file(path)
    with pytest.raises(ConfigError, match="nested deeper"):
        BacktestConfig.from_dict({}).apply_overrides(["strategy.params.x=" + "[" * 5000])


# ---------------------------------------------------------------- 3. report after the other files


def test_regression_report_crash_inf_commission(tmp_path):
    # Was: trades.csv, equity.csv, metrics.json written, then the report crashed (exit 1).
    out = tmp_path / "out"
    args = ["backtest", *QUICK, "--set", "execution.fees.commission_per_lot=.inf"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "execution.fees.commission_per_lot" in result.output and "finite" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_regression_report_crash_initial_balance_1e308(tmp_path):
    # 1e308 is finite and > 0: a valid balance, so the run and every file must complete.
    out = tmp_path / "out"
    args = ["backtest", *QUICK, "--set", "account.initial_balance=1.0e308"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("trades.csv", "equity.csv", "metrics.json", "report.html"):
        assert (out / name).is_file(), name


# ---------------------------------------------------------------- 4. non-finite values


@pytest.mark.parametrize(
    ("setup", "key", "value"),
    [
        (["execution.slippage.model=fixed"], "execution.slippage.pips", ".inf"),
        (["execution.sizing.mode=fixed"], "execution.sizing.lots", ".inf"),
        (["execution.break_even.trigger_pips=5"], "execution.break_even.offset_pips", ".nan"),
        ([], "execution.trailing.distance_pips", ".inf"),
        ([], "execution.fees.commission_per_lot", ".inf"),
        ([], "execution.fees.percent_of_notional", ".nan"),
        ([], "account.initial_balance", ".inf"),
        ([], "instrument.pip_size", ".inf"),
        ([], "execution.slippage.atr_fraction", ".inf"),
        (["data.path=x.csv", "data.format=histdata"], "data.spread_pips", ".inf"),
        ([], "strategy.params.kalman_q", ".inf"),
        ([], "strategy.params.kalman_r", '"inf"'),
        ([], "strategy.params.tp_atr", ".inf"),
        (["strategy.plugin=lib.so", "engine=rust"], "strategy.params.x", "[1, .nan]"),
    ],
)
def test_regression_non_finite_values_accepted_silently(setup, key, value):
    with pytest.raises(ConfigError) as info:
        BacktestConfig.from_dict({}).apply_overrides([*setup, f"{key}={value}"])
    message = str(info.value)
    path = key + (".1" if value.startswith("[") else "")
    assert message.startswith(f"{path}: "), message
    assert "finite" in message


def test_regression_finite_extremes_still_accepted():
    config = BacktestConfig.from_dict({}).apply_overrides(
        ["account.initial_balance=1.0e308", "execution.fees.commission_per_lot=1e300"]
    )
    assert config.account.initial_balance == 1e308
    assert math.isfinite(config.execution.fees.commission_per_lot)


# ---------------------------------------------------------------- 9. key path, file, length


@pytest.mark.parametrize(
    ("yaml_text", "path"),
    [
        ("strategy:\n  params:\n    trend_timeframe: M1\n", "strategy.params.trend_timeframe"),
        ("account:\n  initial_balance: .inf\n", "account.initial_balance"),
        ("strategy:\n  params:\n    kalman_q: .inf\n", "strategy.params.kalman_q"),
    ],
)
def test_regression_error_messages_without_key_path(tmp_path, yaml_text, path):
    config = write(tmp_path / "run.yaml", yaml_text.encode())
    with pytest.raises(ConfigError) as info:
        BacktestConfig.from_file(config)
    assert str(info.value).startswith(f"{config}: {path}: "), str(info.value)
    # The CLI says the same before running anything (was a StrategyError from the engine).
    result = CliRunner().invoke(app, ["backtest", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert path in result.output and str(config.name) in result.output


def test_regression_yaml_alias_bomb_error_is_capped(tmp_path):
    bomb = (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    )
    for tail in ("data: {path: *e, format: csv}\n", "timeframes: {extra: *e}\n"):
        path = write(tmp_path / "bomb.yaml", (bomb + tail).encode())
        with pytest.raises(ConfigError) as info:
            BacktestConfig.from_file(path)
        assert len(str(info.value)) <= MAX_ERROR_CHARS + 100

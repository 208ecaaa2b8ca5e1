"""The CLI's data options: no silent defaults (MT5 without --tz, bid-only without --spread),
several files after --data, the format inferred from the file, config-relative paths."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from omega.cli import app
from omega.config import BacktestConfig
from omega.data import generate_synthetic, load, write_parquet
from omega.data.infer import infer_format
from omega.errors import ConfigError
from omega.runner import run_backtest

QUICK = ["--no-progress", "--set", "timeframes.primary=M1", "--set", "timeframes.extra=[]"]
MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"


@pytest.fixture
def cli():
    return CliRunner()


def _bars(n: int = 1500, seed: int = 3):
    return generate_synthetic(n_bars=n, seed=seed)


def _stamps(bars) -> list[np.datetime64]:
    return list(bars.time.astype("datetime64[ns]").astype("datetime64[s]"))


def write_mt5(path: Path, bars) -> Path:
    """MT5 layout: bid OHLC, tick volume, spread in points (EURUSD point 0.00001)."""
    spread = np.rint((bars.ask_close - bars.bid_close) / 1e-5).astype(int)
    rows = []
    for i, stamp in enumerate(_stamps(bars)):
        day, clock = str(stamp).split("T")
        rows.append(
            f"{day.replace('-', '.')}\t{clock}\t{bars.bid_open[i]:.5f}\t{bars.bid_high[i]:.5f}\t"
            f"{bars.bid_low[i]:.5f}\t{bars.bid_close[i]:.5f}\t10\t0\t{spread[i]}\n"
        )
    path.write_text(MT5_HEADER + "".join(rows))
    return path


def write_histdata(path: Path, bars) -> Path:
    rows = [
        f"{str(s).replace('-', '').replace('T', ' ').replace(':', '')};{bars.bid_open[i]:.5f};"
        f"{bars.bid_high[i]:.5f};{bars.bid_low[i]:.5f};{bars.bid_close[i]:.5f};0\n"
        for i, s in enumerate(_stamps(bars))
    ]
    path.write_text("".join(rows))
    return path


def write_bid_csv(path: Path, bars) -> Path:
    rows = [
        f"{s!s}Z,{bars.bid_open[i]:.5f},{bars.bid_high[i]:.5f},{bars.bid_low[i]:.5f},"
        f"{bars.bid_close[i]:.5f},1\n"
        for i, s in enumerate(_stamps(bars))
    ]
    path.write_text("time,open,high,low,close,volume\n" + "".join(rows))
    return path


# ----------------------------------------------------------------------- no silent defaults


def test_mt5_without_tz_warns_naming_the_option(cli, tmp_path):
    data = write_mt5(tmp_path / "EURUSD_M1.csv", _bars())
    result = cli.invoke(
        app, ["backtest", "--data", str(data), "--out", str(tmp_path / "o"), *QUICK]
    )
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr
    assert "broker's server time" in result.stderr
    assert "--tz" in result.stderr
    with_tz = ["backtest", "--data", str(data), "--tz", "EET", "--out", str(tmp_path / "p")]
    result = cli.invoke(app, [*with_tz, *QUICK])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_bid_only_data_without_spread_warns_and_spread_option_sets_it(cli, tmp_path):
    data = write_histdata(tmp_path / "DAT_ASCII_EURUSD_M1_2024.csv", _bars())
    base = ["backtest", "--data", str(data), *QUICK]
    result = cli.invoke(app, [*base, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "zero spread" in result.stderr and "--spread PIPS" in result.stderr
    result = cli.invoke(app, [*base, "--spread", "0.8", "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    recorded = json.loads((tmp_path / "b" / "metrics.json").read_text())["config"]["data"]
    assert recorded["spread_pips"] == 0.8
    assert recorded["format"] == "histdata"


def test_one_sided_csv_without_spread_warns(cli, tmp_path):
    data = write_bid_csv(tmp_path / "bars.csv", _bars(300))
    result = cli.invoke(app, ["validate-data", str(data)])
    assert result.exit_code == 0, result.output
    assert "zero spread" in result.stderr and "--spread" in result.stderr
    result = cli.invoke(app, ["validate-data", str(data), "--spread", "1.2"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert "close spread (pips): min 1.20" in result.stdout


def test_loading_warnings_reach_the_series_and_the_result(tmp_path, caplog):
    data = write_mt5(tmp_path / "EURUSD_M1.csv", _bars())
    with caplog.at_level(logging.WARNING, logger="omega"):
        series = load(data, "mt5")
    assert len(series.warnings) == 1 and "tz" in series.warnings[0]
    assert series.warnings[0] in caplog.messages
    assert load(data, "mt5", tz="EET").warnings == []
    config = BacktestConfig.from_dict(
        {"data": {"path": str(data), "format": "mt5"}, "timeframes": {"primary": "M1", "extra": []}}
    )
    result = run_backtest(config)
    assert result.warnings == series.warnings


# ----------------------------------------------------------------------- several files


def test_data_followed_by_several_files_reads_them_like_a_folder(cli, tmp_path):
    bars = _bars(3000)
    first, second = bars.slice(0, 1500), bars.slice(1500, 3000)
    paths = [write_mt5(tmp_path / f"EURUSD_M1_{k}.csv", b) for k, b in ((1, first), (2, second))]
    # What the shell passes for `--data EURUSD_M1_*.csv`: the second file is a bare argument.
    args = ["validate-data", str(paths[0]), str(paths[1]), "--tz", "EET"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3,000 M1 bars" in result.stdout
    backtest = ["backtest", "--data", str(paths[0]), str(paths[1]), "--tz", "EET"]
    result = cli.invoke(app, [*backtest, "--out", str(tmp_path / "o"), *QUICK])
    assert result.exit_code == 0, result.output
    assert f"{tmp_path} (2 files): 3,000 M1 bars" in result.stdout
    summary = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert summary["config"]["data"]["path"] == [str(p) for p in paths]
    assert summary["metrics"]["base_bars"] == 3000


def test_config_file_among_data_files_and_stray_arguments(cli, tmp_path):
    bars = _bars(1000)
    paths = [write_mt5(tmp_path / f"m{k}.csv", bars.slice(k * 500, k * 500 + 500)) for k in (0, 1)]
    config = tmp_path / "run.yaml"
    config.write_text("engine: python\n")
    # Only the first `--data` value is the option's; the config file is told apart by suffix.
    args = ["backtest", "--data", str(paths[0]), str(config), str(paths[1]), "--tz", "EET"]
    result = cli.invoke(app, [*args, "--out", str(tmp_path / "o"), *QUICK])
    assert result.exit_code == 0, result.output
    assert "Engine mode: python" in result.stdout
    result = cli.invoke(app, ["backtest", str(paths[0]), str(paths[1]), *QUICK])
    assert result.exit_code == 2
    assert "data files go after --data" in result.stderr


# ----------------------------------------------------------------------- format inference


def test_format_inferred_from_each_kind_of_file(tmp_path):
    bars = _bars(200)
    lean = tmp_path / "20240102_eurusd_minute_quote.csv"
    lean.write_text(
        "0,1.1,1.2,1.0,1.1,0,1.2,1.3,1.1,1.2,0\r\n60000,1.1,1.2,1.0,1.1,0,1.2,1.3,1.1,1.2,0\r\n"
    )
    write_parquet(bars, tmp_path / "bars.parquet")
    cases = {
        write_mt5(tmp_path / "mt5.csv", bars): "mt5",
        write_histdata(tmp_path / "DAT_ASCII_EURUSD_M1_2024.csv", bars): "histdata",
        lean: "lean",
        write_bid_csv(tmp_path / "generic.csv", bars): "csv",
        tmp_path / "bars.parquet": "parquet",
    }
    for path, expected in cases.items():
        assert infer_format(path)[0] == expected, path
    folder = tmp_path / "monthly"
    folder.mkdir()
    write_mt5(folder / "b.csv", bars)
    (folder / "README.txt").write_text("not data")
    assert infer_format(folder)[0] == "mt5"
    unknown = tmp_path / "notes.csv"
    unknown.write_text("hello;world\n")
    with pytest.raises(ConfigError, match="--format"):
        infer_format(unknown)


def test_cli_prints_the_inferred_format_and_rejects_an_unknown_file(cli, tmp_path):
    data = write_mt5(tmp_path / "x.csv", _bars(300))
    result = cli.invoke(app, ["validate-data", str(data), "--tz", "EET"])
    assert result.exit_code == 0, result.output
    assert "Data format: mt5 (inferred: MT5 <DATE> header in x.csv)" in result.stdout
    explicit = cli.invoke(app, ["validate-data", str(data), "--tz", "EET", "--format", "mt5"])
    assert "Data format" not in explicit.stdout
    unknown = tmp_path / "notes.csv"
    unknown.write_text("hello;world\n")
    result = cli.invoke(app, ["backtest", "--data", str(unknown), *QUICK])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: ConfigError: {unknown}: cannot infer the data format")
    assert "--format" in result.stderr


# ----------------------------------------------------------------------- config-relative paths


def test_relative_paths_in_a_config_file_resolve_against_its_folder(cli, tmp_path, monkeypatch):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    write_mt5(folder / "data" / "EURUSD_M1.csv", _bars())
    (folder / "my_strategy.py").write_text(
        "from omega.strategies.sma_cross import SmaCross\n"
        "from omega.strategy import register_strategy\n\n"
        "@register_strategy\n"
        "class Relative(SmaCross):\n    name = 'cli_relative_path_sma'\n"
    )
    (folder / "run.yaml").write_text(
        "data: {path: data/EURUSD_M1.csv, format: mt5, tz: EET}\n"
        "strategy: {module: my_strategy.py, name: cli_relative_path_sma}\n"
        "timeframes: {primary: M1, extra: []}\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = BacktestConfig.from_file(Path("../project/run.yaml"))
    assert Path(config.data.path).resolve() == (folder / "data" / "EURUSD_M1.csv").resolve()
    assert Path(config.strategy.module).resolve() == (folder / "my_strategy.py").resolve()
    result = cli.invoke(app, ["backtest", "../project/run.yaml", "--no-progress", "--out", "o"])
    assert result.exit_code == 0, result.output
    assert "1,500 M1 bars" in result.stdout
    # --set and --data values are the user's own typing: relative to the current directory.
    moved = config.apply_overrides(["data.path=local.csv"])
    assert moved.data.path == "local.csv"

"""The omega command line: exit codes, one-line errors, output files, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omega.cli import app
from omega.config import config_json_schema
from omega.results import OUTPUT_FILES

REPO = Path(__file__).resolve().parent.parent
SMALL = ["--set", "data.synthetic.n_bars=20000", "--no-progress"]


@pytest.fixture
def cli():
    return CliRunner()


def test_backtest_without_config_runs_the_default_and_writes_files(cli, tmp_path):
    result = cli.invoke(app, ["backtest", "--out", str(tmp_path / "out"), *SMALL])
    assert result.exit_code == 0, result.output
    assert "Engine mode: " in result.stdout
    assert "Data quality" in result.stdout
    assert "Statistics: mean_reversion_z_score on EURUSD M5" in result.stdout
    assert sorted(os.listdir(tmp_path / "out")) == sorted(OUTPUT_FILES)
    summary = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert summary["config"]["strategy"]["name"] == "mean_reversion_z_score"
    assert summary["config"]["data"]["synthetic"]["n_bars"] == 20000


def test_engine_and_trace_options(cli, tmp_path):
    result = cli.invoke(
        app, ["backtest", "--engine", "python", "--trace", "--out", str(tmp_path), *SMALL]
    )
    assert result.exit_code == 0, result.output
    assert "Engine mode: python (engine: python requested)" in result.stdout
    assert (tmp_path / "trace.csv").is_file()


def test_config_file_argument(cli, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("engine: python\ndata:\n  synthetic: {n_bars: 5000, seed: 1}\n")
    result = cli.invoke(app, ["backtest", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert summary["metrics"]["base_bars"] == 5000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "execution.slippage.pips=-1"], "error: ConfigError: execution.slippage.pips:"),
        (["--set", "nonsense"], "error: ConfigError: --set 'nonsense': expected KEY=VALUE"),
        (["--engine", "warp"], "error: ConfigError: engine: Input should be"),
        (["--format", "mt5"], "error: ConfigError: --format, --tz and --spread need --data"),
        (["missing.yaml"], "error: ConfigError: missing.yaml: cannot read config"),
    ],
)
def test_omega_errors_are_one_line_and_exit_2(cli, args, message):
    result = cli.invoke(app, ["backtest", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


BAD_MT5 = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    "2024.02.01\t00:00:00\t1.1\t1.2\t1.0\t1.1\t1\t0\t2\n"
    "2024.02.01\t00:01:00\t1.1\t1.0\t1.2\t1.1\t1\t0\t2\n"
)


def test_validate_data_hard_error_names_kind_file_row_and_column(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_MT5)
    result = cli.invoke(app, ["validate-data", str(path), "--format", "mt5"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "OHLCInconsistencyError" in line
    assert f"file {path}" in line
    assert "row 3" in line  # line 3 of the file (header = line 1)
    assert "column <HIGH>" in line
    assert "Traceback" not in result.output


def test_validate_data_prints_the_quality_report(cli, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(BAD_MT5.splitlines(keepends=True)[0] + BAD_MT5.splitlines(True)[1])
    result = cli.invoke(app, ["validate-data", str(path), "--format", "mt5", "--tz", "EET"])
    assert result.exit_code == 0, result.output
    assert "1 M1 bars" in result.stdout
    assert "OK: no hard errors" in result.stdout


@pytest.mark.real_data
def test_validate_real_mt5_data(cli, real_data_dir):
    folder = real_data_dir / "mt5_eurusd_2024"
    result = cli.invoke(app, ["validate-data", str(folder), "--format", "mt5", "--tz", "EET"])
    assert result.exit_code == 0, result.output
    assert "95,725 M1 bars" in result.stdout


def test_schema_prints_the_config_json_schema(cli):
    result = cli.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == config_json_schema()


def test_strategies_lists_parameters(cli):
    result = cli.invoke(app, ["strategies"])
    assert result.exit_code == 0
    assert "mean_reversion_z_score" in result.stdout
    assert "z_entry" in result.stdout


def _omega_subprocess(out: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMEGA_")}
    return subprocess.run(
        [sys.executable, "-m", "omega.cli", "backtest", "--out", str(out), *SMALL],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_same_config_in_fresh_processes_gives_byte_identical_files(tmp_path):
    first, second = _omega_subprocess(tmp_path / "a"), _omega_subprocess(tmp_path / "b")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    for name in OUTPUT_FILES:
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, f"{name} differs between two runs of the same config"


def test_import_omega_is_light_and_public_names_resolve_lazily():
    code = (
        "import sys, omega\n"
        "heavy = [m for m in ('numpy', 'pandas', 'matplotlib', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy) or 'none')\n"
        "print(omega.run_backtest.__module__, omega.BacktestConfig.__name__)\n"
    )
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["none", "omega.runner", "BacktestConfig"]


@pytest.mark.real_data
def test_validate_data_strict_fails_on_soft_anomalies_of_real_data(cli, real_data_dir):
    folder = real_data_dir / "mt5_eurusd_2024"
    args = ["validate-data", str(folder), "--format", "mt5", "--tz", "EET", "--strict"]
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: DataQualityError: data_quality:")
    assert "Traceback" not in result.output


def test_unwritable_output_folder_is_one_line_and_exit_2(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli.invoke(app, ["backtest", "--out", str(blocker / "out"), *SMALL])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write to {blocker / 'out'}")
    assert "Traceback" not in result.output


def test_loader_config_errors_name_the_data_section(cli, tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(BAD_MT5.splitlines(keepends=True)[0] + BAD_MT5.splitlines(True)[1])
    args = ["backtest", "--data", str(path), "--format", "mt5", "--tz", "Mars/Base"]
    result = cli.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ConfigError: data: unknown time zone 'Mars/Base'")


def test_sweep_ranks_every_combination_and_writes_sweep_csv(cli, tmp_path):
    import pandas as pd

    out = tmp_path / "sweep"
    args = ["sweep", "--grid", "lookback=50,80", "--grid", "z_entry=2.0,2.5,0.1"]
    result = cli.invoke(app, [*args, "--sort", "net_profit", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert "6 sets, best net_profit first" in result.stdout
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 6
    assert sorted(zip(table["lookback"], table["z_entry"], strict=True)) == [
        (50, 0.1), (50, 2.0), (50, 2.5), (80, 0.1), (80, 2.0), (80, 2.5)
    ]  # fmt: skip
    ok = table[table["error"].isna()]
    assert len(ok) == 4 and ok["net_profit"].is_monotonic_decreasing
    # z_entry 0.1 is below the default z_exit: those sets fail alone, named on stderr.
    assert table[table["z_entry"] == 0.1]["error"].str.contains("z_exit").all()
    assert result.stderr.count("failed: lookback=") == 2


def test_sweep_usage_errors(cli, tmp_path):
    for args, message in [
        ([], "--grid"),
        (["--grid", "lookback"], "NAME=V1,V2"),
        (["--grid", "lookback=50", "--sort", "luck"], "not a metric"),
    ]:
        result = cli.invoke(app, ["sweep", *args, "--out", str(tmp_path), *SMALL])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_sweep_where_every_set_fails_lists_each_error_and_writes_sweep_csv(cli, tmp_path):
    import pandas as pd

    out = tmp_path / "sweep"
    # z_entry below the default z_exit is invalid: both sets fail.
    args = ["sweep", "--grid", "z_entry=0.1,0.2", "--sort", "sharpe", "--out", str(out), *SMALL]
    result = cli.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "not a metric" not in result.output
    assert "failed: z_entry=0.1: " in result.stderr
    assert "failed: z_entry=0.2: " in result.stderr
    assert f"all 2 parameter sets failed; the error of each is in {out / 'sweep.csv'}" in (
        " ".join(result.stderr.split())
    )
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["z_entry"]) == [0.1, 0.2]
    assert table["error"].str.contains("z_exit").all()
    assert "Traceback" not in result.output


def _fields_without_description(schema: dict) -> list[str]:
    """Every property of the root and of each $defs model that has no description."""
    models = {"<root>": schema, **schema.get("$defs", {})}
    return [
        f"{model}.{name}"
        for model, body in models.items()
        for name, spec in body.get("properties", {}).items()
        if not str(spec.get("description", "")).strip()
    ]


def test_every_field_of_the_schema_has_a_description(cli):
    schema = json.loads(cli.invoke(app, ["schema"]).stdout)
    assert _fields_without_description(schema) == []
    assert len([1 for _ in schema["$defs"]]) >= 10  # the walk did reach the nested models
    # The walker itself: a field without a description is found.
    assert _fields_without_description({"properties": {"x": {"type": "int"}}}) == ["<root>.x"]


def test_version_option(cli):
    from importlib.metadata import version

    import omega

    result = cli.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"omega {omega.__version__}"
    assert omega.__version__ == version("omega-backtest")


def test_strategies_say_which_run_in_rust(cli):
    from omega.engine.rust import rust_strategy_names

    result = cli.invoke(app, ["strategies"])
    assert result.exit_code == 0
    rust = set(rust_strategy_names())
    assert "mean_reversion_z_score" in rust  # built into the core
    for name in ("mean_reversion_z_score", "sma_cross", "zscore_threshold"):
        runs = "Rust and Python" if name in rust else "Python only"
        assert f"{name}: {runs}" in result.stdout


def test_backtest_prints_the_grouped_statistics_not_internal_metrics(cli, tmp_path):
    import re

    from omega.results.stats import STATS_GROUPS

    result = cli.invoke(app, ["backtest", "--out", str(tmp_path), *SMALL])
    assert result.exit_code == 0, result.output
    out = result.stdout
    # Groups in STATS_GROUPS order, each followed by its own labels.
    positions = [out.index(group) for group in STATS_GROUPS]
    assert positions == sorted(positions)
    for label in ("Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Total Fees [USD]"):
        assert label in out
    for internal in ("periods_per_year", "base_bars", "bars_processed", "span_days"):
        assert internal not in out
    assert "Account Currency" not in out  # it is in the [USD] of the labels
    # Values agree with metrics.json at the printed precision.
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]

    def printed(label: str) -> str:
        return re.search(rf"{re.escape(label)}\s*│\s*(\S+)", out).group(1)

    assert printed("# Trades") == f"{metrics['n_trades']:,}"
    assert printed("Return [%]") == f"{metrics['return_pct']:,.2f}"
    assert printed("Total Fees [USD]") == f"{metrics['total_fees']:,.2f}"
    assert printed("Sharpe Ratio") == f"{metrics['sharpe']:,.3f}"
    exits = ", ".join(f"{k} {v:,}" for k, v in metrics["exit_reasons"].items())
    assert f"Exits: {exits}" in out


def test_run_notes_name_orders_the_engine_could_not_place():
    from omega.cli import _run_notes

    metrics = {"exit_reasons": {"take_profit": 1200}, "dropped_orders": 3, "skipped_orders": 0}
    assert _run_notes(metrics) == [
        "Exits: take_profit 1,200",
        "Orders: 3 dropped orders (details in metrics.json)",
    ]
    assert _run_notes({"exit_reasons": {}, "ignored_signals": 0}) == []

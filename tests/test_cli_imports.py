"""The CLI imports what the chosen path needs, and its output options reach result.save.

Import sets are checked in fresh processes (what a user's `omega ...` pays for); times are
measured by the benchmarks, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from omega.cli import app

REPO = Path(__file__).resolve().parent.parent
SMALL = ["--set", "data.synthetic.n_bars=20000", "--no-progress"]

# Run the CLI in this process's interpreter, then list what was imported.
PROBE = """
import json, sys
sys.argv = ["omega", *json.loads(sys.argv[1])]
from omega.cli import app
try:
    app()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    # The installed omega, core included, as a user's shell finds it (not the source tree,
    # which has no compiled core in a clean clone).
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMEGA_")}
    run = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), run.stderr
    return set(report["modules"])


def _loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


def test_version_imports_no_numpy_pandas_or_pydantic(tmp_path):
    modules = _modules_after(["--version"], tmp_path)
    for heavy in ("numpy", "pandas", "pydantic", "pyarrow", "omega.config"):
        assert not _loaded(modules, heavy), heavy


def test_synthetic_backtest_without_report_skips_loaders_plotting_and_python_engine(tmp_path):
    args = ["backtest", "--no-report", "--engine", "rust", "--out", str(tmp_path / "o"), *SMALL]
    modules = _modules_after(args, tmp_path)
    assert "omega._core" in modules  # it did run
    never = ["matplotlib", "bokeh", "omega.engine.loop", "omega.engine.hybrid"]
    # No file to read: no format reader, no CSV parser.
    never += ["omega.data.loaders.csv", "omega.data.loaders.mt5", "pyarrow.csv", "omega.data.infer"]
    for name in never:
        assert not _loaded(modules, name), name


def test_default_backtest_with_every_output_imports_no_pandas_or_pyarrow(tmp_path):
    # The README's first command: synthetic data, every output, the report included.
    modules = _modules_after(["backtest", "--out", str(tmp_path / "o"), *SMALL], tmp_path)
    assert (tmp_path / "o" / "report.html").is_file()
    for heavy in ("pandas", "pyarrow", "matplotlib", "bokeh"):
        assert not _loaded(modules, heavy), heavy


def test_file_backtest_imports_only_its_format_reader(tmp_path):
    from omega.data import generate_synthetic, write_parquet

    write_parquet(generate_synthetic(n_bars=3000, seed=1), tmp_path / "bars.parquet")
    args = ["backtest", "--data", str(tmp_path / "bars.parquet"), "--no-report"]
    modules = _modules_after([*args, "--out", str(tmp_path / "o"), "--no-progress"], tmp_path)
    assert "omega.data.loaders.parquet" in modules
    assert "omega.data.infer" in modules  # --format was left out
    assert not _loaded(modules, "matplotlib")


def test_no_report_and_parquet_tables(tmp_path):
    cli = CliRunner()
    csv_out, parquet_out = tmp_path / "csv", tmp_path / "parquet"
    result = cli.invoke(app, ["backtest", "--out", str(csv_out), *SMALL])
    assert result.exit_code == 0, result.output
    args = ["backtest", "--no-report", "--output-format", "parquet", "--out", str(parquet_out)]
    result = cli.invoke(app, [*args, *SMALL])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(parquet_out)) == ["equity.parquet", "metrics.json", "trades.parquet"]
    assert "Wrote equity.parquet, metrics.json, trades.parquet" in result.stdout
    assert (csv_out / "report.html").is_file()
    trades = pd.read_parquet(parquet_out / "trades.parquet")
    assert len(trades) == len(pd.read_csv(csv_out / "trades.csv")) > 0


@pytest.mark.parametrize("value", ["xlsx", ""])
def test_unknown_output_format_is_a_usage_error(tmp_path, value):
    result = CliRunner().invoke(
        app, ["backtest", "--output-format", value, "--out", str(tmp_path), *SMALL]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ConfigError: --output-format")
    assert not any(tmp_path.iterdir())  # rejected before running

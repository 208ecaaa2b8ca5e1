"""``omega walk-forward`` and ``omega validate-robustness`` on small synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("omega._core", reason="the commands run the Rust sweep")

from omega.cli import app

runner = CliRunner()
SMALL = ["--set", "data.synthetic.n_bars=60000", "--no-progress"]
GRID = ["--grid", "lookback=40,80", "--grid", "z_entry=2.0,2.5"]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def wf_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wf")
    result = invoke(
        "walk-forward",
        *SMALL,
        *GRID,
        "--train",
        "3W",
        "--test",
        "1W",
        "--mc-runs",
        "200",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "walk-forward efficiency" in result.output
    return out


def test_walk_forward_writes_its_files(wf_folder):
    names = {p.name for p in wf_folder.iterdir()}
    assert names >= {
        "folds.csv",
        "sweeps.csv",
        "trades.csv",
        "equity.csv",
        "walk_forward.json",
        "report.html",
    }
    summary = json.loads((wf_folder / "walk_forward.json").read_text())
    folds = pd.read_csv(wf_folder / "folds.csv")
    trades = pd.read_csv(wf_folder / "trades.csv")
    assert summary["param_names"] == ["lookback", "z_entry"]
    assert len(summary["param_sets"]) == 4
    assert summary["oos"]["n_trades"] == len(trades) == folds["oos_n_trades"].sum()
    equity = pd.read_csv(wf_folder / "equity.csv")
    assert equity["equity"].iloc[-1] == pytest.approx(
        summary["initial_balance"] * (1 + summary["oos"]["return_pct"] / 100)
    )
    page = (wf_folder / "report.html").read_text()
    for part in ("omega-wf-summary", "omega-folds", "omega-mc", "omega-heatmap", "Bokeh"):
        assert part in page
    assert "http://" not in page.split("<script type='application/json'")[1][:2000]


def test_validate_robustness_of_a_walk_forward(wf_folder):
    result = invoke(
        "validate-robustness", wf_folder, "--mc-runs", "300", "--pbo-blocks", "4", "--no-progress"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((wf_folder / "robustness.json").read_text())
    assert set(summary) == {"folder", "monte_carlo", "deflated_sharpe", "neighbourhood", "pbo"}
    assert summary["deflated_sharpe"]["n_trials"] == 4  # the sets of one fold's search
    assert summary["pbo"]["combinations"] == 6
    assert 0 <= summary["pbo"]["pbo"] <= 1
    assert summary["monte_carlo"]["runs"] == 300
    page = (wf_folder / "robustness.html").read_text()
    for part in ("omega-dsr", "omega-pbo", "omega-logits", "omega-heatmap", "omega-fan"):
        assert part in page
    again = invoke(
        "validate-robustness", wf_folder, "--pbo-blocks", "0", "--mc-runs", "0", "--no-progress"
    )
    assert again.exit_code == 0, again.output
    summary = json.loads((wf_folder / "robustness.json").read_text())
    assert "pbo" not in summary and "monte_carlo" not in summary


def test_validate_robustness_of_a_backtest_folder(tmp_path):
    out = tmp_path / "bt"
    done = invoke("backtest", *SMALL, "--out", out, "--no-report")
    assert done.exit_code == 0, done.output
    result = invoke("validate-robustness", out, "--method", "reshuffle", "--no-progress")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "robustness.json").read_text())
    assert summary["deflated_sharpe"]["n_trials"] == 1 and summary["deflated_sharpe"]["sr0"] == 0
    ret = summary["monte_carlo"]["percentiles"]
    assert ret["p5"]["return_pct"] == pytest.approx(ret["p95"]["return_pct"])  # same trades
    assert "PSR of a single trial" in (out / "robustness.html").read_text()
    assert "PBO needs" in (out / "robustness.html").read_text()


def test_validate_robustness_of_parquet_trades(tmp_path):
    out = tmp_path / "pq"
    done = invoke("backtest", *SMALL, "--out", out, "--no-report", "--output-format", "parquet")
    assert done.exit_code == 0, done.output
    result = invoke("validate-robustness", out, "--pbo-blocks", "0", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "monte_carlo" in json.loads((out / "robustness.json").read_text())


def test_validate_robustness_of_a_sweep_folder(tmp_path):
    out = tmp_path / "sw"
    done = invoke("sweep", *SMALL, *GRID, "--grid", "z_exit=0.5", "--out", out)
    assert done.exit_code == 0, done.output
    result = invoke("validate-robustness", out, "--no-progress")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "robustness.json").read_text())
    assert set(summary) == {"folder", "neighbourhood"}  # no trades or equity in a sweep
    assert {"lookback", "z_entry"} <= set(summary["neighbourhood"])
    swapped = invoke(
        "validate-robustness",
        out,
        "--x",
        "z_entry",
        "--y",
        "lookback",
        "--metric",
        "net_profit",
        "--no-progress",
    )
    assert swapped.exit_code == 0, swapped.output
    bad = invoke("validate-robustness", out, "--x", "nope", "--no-progress")
    assert bad.exit_code == 2 and "not a parameter" in bad.output
    one = tmp_path / "one"
    done = invoke("sweep", *SMALL, "--grid", "lookback=40,80", "--out", one)
    assert done.exit_code == 0, done.output
    result = invoke("validate-robustness", one, "--no-progress")
    assert result.exit_code == 0
    assert "neighbourhood" not in json.loads((one / "robustness.json").read_text())


def test_validate_robustness_usage_errors(tmp_path):
    missing = invoke("validate-robustness", tmp_path / "nope")
    assert missing.exit_code == 2 and "not a results folder" in missing.output
    empty = invoke("validate-robustness", tmp_path)
    assert empty.exit_code == 2 and "no trades.csv" in empty.output
    pd.DataFrame({"pnl": [1.0, -2.0]}).to_csv(tmp_path / "trades.csv", index=False)
    orphan = invoke("validate-robustness", tmp_path)
    assert orphan.exit_code == 2 and "no initial balance" in orphan.output


def test_validate_robustness_unwritable(wf_folder, monkeypatch):
    import omega.results.atomic as atomic

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(atomic, "write_atomic", fail)
    result = invoke("validate-robustness", wf_folder, "--pbo-blocks", "0", "--mc-runs", "0")
    assert result.exit_code == 2 and "disk full" in result.output


def test_walk_forward_options_and_errors(tmp_path):
    out = tmp_path / "anchored"
    result = invoke(
        "walk-forward",
        *SMALL,
        "--grid",
        "lookback=40,80",
        "--train",
        "20000",
        "--test",
        "10000",
        "--step",
        "20000",
        "--anchored",
        "--no-report",
        "--objective",
        "-max_drawdown_pct",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    folds = pd.read_csv(out / "folds.csv")
    assert folds["train_bars"].tolist() == [20_000, 40_000]
    assert not (out / "report.html").exists()
    single = invoke(
        "walk-forward",
        *SMALL,
        "--grid",
        "lookback=40,80",
        "--train",
        "3W",
        "--test",
        "1W",
        "--mc-runs",
        "0",
        "--out",
        tmp_path / "single",
    )
    assert single.exit_code == 0, single.output
    page = (tmp_path / "single" / "report.html").read_text()
    assert "omega-heatmap'" not in page and "omega-fan'" not in page  # one parameter, no MC
    no_grid = invoke("walk-forward", *SMALL)
    assert no_grid.exit_code == 2 and "--grid" in no_grid.output
    bad_span = invoke("walk-forward", *SMALL, *GRID, "--train", "3 parsecs")
    assert bad_span.exit_code == 2 and "--train" in bad_span.output
    plugin = invoke("walk-forward", *SMALL, *GRID, "--set", "strategy.plugin=/none.so")
    assert plugin.exit_code == 2 and "plugins are not supported" in plugin.output
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    unwritable = invoke(
        "walk-forward", *SMALL, *GRID, "--train", "3W", "--test", "1W", "--out", blocked
    )
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output


def test_report_colors():
    from omega.report.research import cell_colors

    assert cell_colors(np.array([0.0, 0.5, 1.0, np.nan])) == [
        "#d73027",
        "#f7f7f7",
        "#1a9850",
        "#dddddd",
    ]
    assert cell_colors(np.array([2.0, 2.0])) == ["#f7f7f7", "#f7f7f7"]
    assert cell_colors(np.array([np.nan])) == ["#dddddd"]


def test_dsr_of_a_backtest_against_the_sweep_in_its_folder(tmp_path):
    out = tmp_path / "both"
    assert invoke("backtest", *SMALL, "--out", out, "--no-report").exit_code == 0
    assert invoke("sweep", *SMALL, *GRID, "--out", out).exit_code == 0
    result = invoke("validate-robustness", out, "--mc-runs", "0", "--no-progress")
    assert result.exit_code == 0, result.output
    dsr = json.loads((out / "robustness.json").read_text())["deflated_sharpe"]
    sweep = pd.read_csv(out / "sweep.csv")
    assert dsr["n_trials"] == 4
    per_bar = sweep["sharpe"] / np.sqrt(sweep["periods_per_year"])
    assert dsr["trials_variance"] == pytest.approx(np.var(per_bar, ddof=1))


@pytest.mark.real_data
def test_commands_on_real_mt5_data(real_data_dir, tmp_path):
    folder = real_data_dir / "mt5_eurusd_2024"
    out = tmp_path / "real"
    result = invoke(
        "walk-forward",
        "--data",
        folder,
        "--format",
        "mt5",
        "--tz",
        "EET",
        *GRID,
        "--train",
        "1M",
        "--test",
        "2W",
        "--mc-runs",
        "200",
        "--no-progress",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    folds = pd.read_csv(out / "folds.csv")
    assert len(folds) >= 3 and (folds["test_bars"] > 0).all()
    checked = invoke("validate-robustness", out, "--pbo-blocks", "4", "--no-progress")
    assert checked.exit_code == 0, checked.output
    summary = json.loads((out / "robustness.json").read_text())
    assert {"monte_carlo", "deflated_sharpe", "neighbourhood", "pbo"} <= set(summary)

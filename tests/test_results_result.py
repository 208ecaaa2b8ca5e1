"""BacktestResult: frames, saved files, report, and a failing save leaving no partial file."""

from __future__ import annotations

import base64
import json
import os

import numpy as np
import pandas as pd
import pytest

from omega.config import default_config
from omega.engine.raw import TRADE_COLUMNS
from omega.results import OUTPUT_FILES
from omega.runner import Backend, run_backtest


@pytest.fixture(scope="module")
def result():
    config = default_config().apply_overrides(["data.synthetic.n_bars=20000"])
    return run_backtest(config, env={}, backend=Backend(core_available=False))


def test_trades_frame_has_utc_times_and_named_sides(result):
    trades, raw = result.trades, result.raw
    assert list(trades.columns) == list(TRADE_COLUMNS)
    assert str(trades["entry_time"].dt.tz) == "UTC"
    assert trades["entry_time"].iloc[0].value == raw.trades["entry_time"][0]
    expected_sides = ["long" if s > 0 else "short" for s in raw.trades["side"]]
    assert trades["side"].tolist() == expected_sides
    assert (trades["pnl"].to_numpy() == raw.trades["pnl"]).all()


def test_equity_is_indexed_by_bar_close_time(result):
    raw = result.raw
    assert len(result.equity) == len(raw.equity)
    # Marked at the close: open time + 5 minutes for the M5 primary bars.
    assert result.equity.index[0].value == raw.equity_time[0] + 300 * 10**9
    assert str(result.equity.index.tz) == "UTC"
    assert result.equity.iloc[-1] == raw.final_balance


def test_save_writes_every_file(result, tmp_path):
    written = result.save(tmp_path / "out")
    assert sorted(written) == sorted(OUTPUT_FILES)
    assert sorted(os.listdir(tmp_path / "out")) == sorted(OUTPUT_FILES)
    trades = pd.read_csv(tmp_path / "out" / "trades.csv")
    assert len(trades) == result.raw.n_trades
    # Floats are written exactly (repr), so they read back to the same doubles.
    assert (trades["exit_price"].to_numpy() == result.raw.trades["exit_price"]).all()
    equity = pd.read_csv(tmp_path / "out" / "equity.csv")
    assert list(equity.columns) == ["time", "equity"]
    assert (equity["equity"].to_numpy() == result.raw.equity).all()
    summary = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert summary["mode"] == "python"
    assert summary["trades_sha256"] == result.trades_sha256
    assert summary["metrics"]["n_trades"] == result.raw.n_trades
    assert summary["config"]["strategy"]["name"] == "mean_reversion_z_score"
    assert "synthetic" in summary["data_quality"]


def test_metrics_json_spells_non_finite_values(result, tmp_path):
    result.metrics["profit_factor_test"] = float("inf")
    result.metrics["sharpe_test"] = float("nan")
    try:
        result.save(tmp_path)
        summary = json.loads((tmp_path / "metrics.json").read_text())
    finally:
        del result.metrics["profit_factor_test"], result.metrics["sharpe_test"]
    assert summary["metrics"]["profit_factor_test"] == "inf"
    assert summary["metrics"]["sharpe_test"] == "nan"


def test_report_is_self_contained_html_with_charts(result, tmp_path):
    result.save(tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "Engine mode: <b>python</b>" in html
    assert "<h2>Data quality</h2>" in html
    assert "<h2>Configuration</h2>" in html
    images = html.split("data:image/png;base64,")[1:]
    assert len(images) == 2
    for image in images:
        png = base64.b64decode(image.split("'", 1)[0])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "http://" not in html and "https://" not in html  # nothing fetched from outside


def test_saving_twice_gives_identical_bytes(result, tmp_path):
    result.save(tmp_path / "a")
    result.save(tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_failing_report_leaves_no_partial_file(result, tmp_path, monkeypatch):
    import omega.report

    def broken(_result):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(omega.report, "render_html", broken)
    with pytest.raises(RuntimeError, match="chart failed"):
        result.save(tmp_path)
    # The files written before the failure are complete; no report, no temp file.
    assert sorted(os.listdir(tmp_path)) == ["equity.csv", "metrics.json", "trades.csv"]


def test_no_trades_still_saves_and_reports(tmp_path):
    config = default_config().apply_overrides(
        ["data.synthetic.n_bars=2000", "strategy.params.z_entry=10"]
    )
    result = run_backtest(config, env={}, backend=Backend(core_available=False))
    assert result.raw.n_trades == 0
    result.save(tmp_path)
    assert np.isnan(result.metrics["win_rate"])
    assert (tmp_path / "trades.csv").read_text().strip() == ",".join(TRADE_COLUMNS)

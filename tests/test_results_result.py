"""BacktestResult: frames, saved files, report, and a failing save leaving no partial file."""

from __future__ import annotations

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
    # Charts are drawn in the browser by the embedded BokehJS (tests/test_report*.py).
    assert "<div id='omega-charts'></div>" in html and "id='omega-data'" in html
    assert "<script src=" not in html  # nothing fetched from outside


def test_saving_twice_gives_identical_bytes(result, tmp_path):
    result.save(tmp_path / "a")
    result.save(tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_failing_report_leaves_the_folder_as_it_was(result, tmp_path, monkeypatch):
    import omega.report

    out = tmp_path / "out"
    result.save(out)
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}

    def broken(_result):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(omega.report, "render_html", broken)
    with pytest.raises(RuntimeError, match="chart failed"):
        result.save(out)
    # The previous run's set, untouched; no temporary folder beside it.
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before
    assert os.listdir(tmp_path) == ["out"]


def test_no_trades_still_saves_and_reports(tmp_path):
    config = default_config().apply_overrides(
        ["data.synthetic.n_bars=2000", "strategy.params.z_entry=10"]
    )
    result = run_backtest(config, env={}, backend=Backend(core_available=False))
    assert result.raw.n_trades == 0
    result.save(tmp_path)
    assert np.isnan(result.metrics["win_rate"])
    assert (tmp_path / "trades.csv").read_text().strip() == ",".join(TRADE_COLUMNS)


# ------------------------------------------------------------------ a result as fast as the engine
RUST_CONFIGS = [
    [],  # the default: mean_reversion_z_score, M5 + H1
    ["strategy.name=sma_cross", "strategy.params={}"],
    ["strategy.name=zscore_threshold", "strategy.params={}"],
]


@pytest.fixture(scope="module")
def core():
    return pytest.importorskip("omega._core", reason="the Rust core is not built")


@pytest.mark.parametrize("engine", ["rust", "hybrid"])
@pytest.mark.parametrize("overrides", RUST_CONFIGS, ids=["default", "sma_cross", "zscore"])
def test_core_metrics_equal_the_python_reference(core, engine, overrides):
    from omega.results.metrics import compute_metrics

    config = default_config().apply_overrides(
        ["data.synthetic.n_bars=30000", f"engine={engine}", *overrides]
    )
    result = run_backtest(config, env={"OMEGA_STRICT": "1"})
    assert result.mode == engine
    assert result.raw.metrics is not None  # computed by the core with the run
    expected = compute_metrics(result.raw, result.initial_balance, result.timeframe_ns)
    assert list(result.metrics) == list(expected)
    for key, value in expected.items():
        got = result.metrics[key]
        assert type(got) is type(value), key
        assert got == value or (value != value and got != got), (key, got, value)


def test_a_result_builds_no_frames_until_asked(core):
    config = default_config().apply_overrides(["data.synthetic.n_bars=20000", "engine=rust"])
    result = run_backtest(config, env={"OMEGA_STRICT": "1"})
    built = set(vars(result))
    assert not built & {"trades", "equity", "trace", "stats", "equity_close_ns"}
    assert result.equity.index[0].value == result.raw.equity_time[0] + 300 * 10**9
    assert "equity" in vars(result)  # cached after the first access


def test_parity_reports_a_metric_the_core_got_wrong(core):
    from omega.parity import compare_metrics

    config = default_config().apply_overrides(["data.synthetic.n_bars=20000", "engine=rust"])
    result = run_backtest(config, env={"OMEGA_STRICT": "1"})
    settings = config.to_engine_settings()
    assert compare_metrics(result.raw, result.raw, settings) is None
    result.raw.metrics = {**result.raw.metrics, "sharpe": result.raw.metrics["sharpe"] + 1e-15}
    what, _ = compare_metrics(result.raw, result.raw, settings)
    assert what.startswith("metric sharpe:")


def test_save_parquet_tables_without_a_report(result, tmp_path):
    import pyarrow.parquet as pq

    written = result.save(tmp_path, report=False, table_format="parquet")
    assert sorted(written) == ["equity.parquet", "metrics.json", "trades.parquet"]
    equity = pq.read_table(tmp_path / "equity.parquet")
    assert np.array_equal(equity.column("equity").to_numpy(), result.raw.equity)
    trades = pq.read_table(tmp_path / "trades.parquet")
    assert trades.column_names == list(TRADE_COLUMNS)
    assert trades.num_rows == result.raw.n_trades


def test_trades_and_equity_csv_share_one_time_format(result, tmp_path):
    result.save(tmp_path, report=False)
    trade_time = (tmp_path / "trades.csv").read_text().splitlines()[1].split(",")[0]
    equity_time = (tmp_path / "equity.csv").read_text().splitlines()[1].split(",")[0]
    for text in (trade_time, equity_time):
        assert len(text) == len("2024-01-01T00:05:00Z") and text[10] == "T" and text[-1] == "Z"


def test_an_unknown_table_format_is_refused(result, tmp_path):
    with pytest.raises(ValueError, match="table_format"):
        result.save(tmp_path, table_format="xlsx")


def test_repr_is_a_short_summary_not_the_data(result):
    text = repr(result)
    assert len(text) < 600 and len(text.splitlines()) <= 6
    assert "mean_reversion_z_score" in text and "trades" in text
    assert str(result.raw.n_trades) in text


def test_repr_html_is_a_compact_stats_table(result):
    page = result._repr_html_()
    assert page.lstrip().startswith("<") and "<table" in page
    assert "Sharpe Ratio" in page and len(page) < 20_000


def test_plot_writes_the_report_without_a_browser_when_asked(result, tmp_path, monkeypatch):
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    path = result.plot(tmp_path / "r.html", open_browser=False)
    assert path == tmp_path / "r.html" and path.read_text().startswith("<!DOCTYPE html>")
    assert opened == []
    default_path = result.plot()
    assert opened == [default_path.resolve().as_uri()] and default_path.is_file()

"""Smoke tests of the benchmark tooling (tiny inputs, a few seconds, no timed assertions)."""

from __future__ import annotations

import numpy as np
import pytest

from omega.bench import cli
from omega.bench.inputs import ensure_input, load_bars
from omega.bench.micro import generated_mt5_file, pandas_mt5
from omega.bench.process import run as run_process
from omega.bench.report import Row
from omega.bench.sweeps import grid
from omega.bench.sweeps import run as run_sweep_case
from omega.bench.targets import evaluate_targets
from omega.bench.worker import run as run_worker
from omega.bench.workloads import WORKLOADS
from omega.config import BacktestConfig
from omega.data import load
from omega.peers.compare import compare_trades

MINUTE = 60_000_000_000


def _core_available() -> bool:
    try:
        import omega._core  # noqa: F401
    except ImportError:
        return False
    return True


needs_core = pytest.mark.skipif(not _core_available(), reason="omega._core is not built")


def test_peer_input_is_bid_on_both_sides_on_a_fine_grid_and_written_once(tmp_path):
    folder = ensure_input(tmp_path, 500, peer=True)
    written = (folder / "time.npy").stat().st_mtime_ns
    assert ensure_input(tmp_path, 500, peer=True) == folder
    assert (folder / "time.npy").stat().st_mtime_ns == written
    bars = load_bars(folder)
    assert len(bars) == 500
    for field in ("open", "high", "low", "close"):
        assert np.array_equal(getattr(bars, f"ask_{field}"), getattr(bars, f"bid_{field}"))
    assert bars.instrument.point == 1e-9
    # 9 decimals: some close is not on the 5-decimal grid
    assert np.any(np.abs(bars.bid_close * 1e5 - np.round(bars.bid_close * 1e5)) > 1e-3)


def test_default_input_keeps_the_spread(tmp_path):
    bars = load_bars(ensure_input(tmp_path, 500, peer=False))
    assert np.all(bars.ask_close > bars.bid_close)


def test_compare_trades_identical_and_first_difference():
    omega = np.array([[0, 5 * MINUTE, 1], [6 * MINUTE, 9 * MINUTE, -1]])
    assert compare_trades(omega, omega.copy(), last_bar_open_ns=99 * MINUTE).identical
    peer = omega.copy()
    peer[1, 2] = 1
    result = compare_trades(omega, peer, last_bar_open_ns=99 * MINUTE)
    assert not result.identical
    assert result.matching == 1
    assert "trade 1" in result.first_difference
    shorter = compare_trades(omega, omega[:1], last_bar_open_ns=99 * MINUTE)
    assert shorter.matching == 1 and "peer none" in shorter.first_difference


def test_compare_trades_reads_a_peer_exit_at_the_last_open_as_its_close():
    # Omega stamps the end-of-data exit with the last bar's close time (open + 1 min).
    omega = np.array([[0, 10 * MINUTE, 1]])
    peer = np.array([[0, 9 * MINUTE, 1]])
    assert compare_trades(omega, peer, last_bar_open_ns=9 * MINUTE).identical
    assert not compare_trades(omega, peer, last_bar_open_ns=8 * MINUTE).identical


def test_pandas_reference_parses_an_mt5_file_exactly_as_omega(tmp_path):
    path = generated_mt5_file(tmp_path, rows=3_000)
    ours = load(path, "mt5", tz="EET")
    theirs = pandas_mt5([path], "EET")
    assert np.array_equal(theirs["time"].to_numpy(), ours.time)
    for name in ("bid_open", "bid_low", "ask_high", "ask_close", "volume"):
        assert np.array_equal(theirs[name].to_numpy(), getattr(ours, name)), name


def _row(workload: str, engine: str, bars: int, seconds: float, **data) -> Row:
    base = {"seconds": seconds, "trades": 10, "input_bytes": 80 * bars,
            "baseline_bytes": 100, "loaded_bytes": 100 + 80 * bars,
            "peak_bytes": 100 + 80 * bars + 16 * bars}  # fmt: skip
    return Row(workload, engine, bars, {**base, **data})


def test_goals_judge_hand_made_ratios():
    rows = [
        _row("mean_reversion", "python", 1000, 2.0),
        _row("mean_reversion", "rust", 1000, 0.01),  # 200x python: met
        _row("mean_reversion", "python", 10_000, 20.0),
        _row("mean_reversion", "rust", 10_000, 0.5, peak_bytes=100 + 80 * 10_000 + 40 * 10_000),
    ]
    peers = [
        _row("sma_cross", "rust", 1000, 0.1),
        _row("sma_cross", "vectorbt", 1000, 0.2),  # 2x: missed
        _row("zscore_threshold", "rust", 1000, 0.1),
        _row("zscore_threshold", "vectorbt", 1000, 0.4),  # 4x: met
    ]
    cli = {"cli_median": 1.0, "pandas_median": 0.4}  # 2.5x: missed
    sweep = [
        {"engine": "omega", "sets": 200, "bars": 1000, "seconds": 1e-4},  # 2,000M/s: met
        {"engine": "vectorbt", "sets": 200, "bars": 1000, "seconds": 5e-3},  # 50x: missed
    ]
    verdicts = {t.name: t for t in evaluate_targets(rows, peers, cli, sweep)}
    fast = verdicts["mean_reversion 1,000: run_backtest rust >= 50x python mode"]
    assert (fast.met, fast.measured) == (True, "200.00x")
    assert verdicts["mean_reversion 10,000: run_backtest rust >= 50x python mode"].met is False
    sma = "sma_cross 1,000: run_backtest rust >= 3x faster than vectorbt (Rust engine) end to end"
    assert (verdicts[sma].met, verdicts[sma].measured) == (False, "2.00x")
    assert verdicts[sma.replace("sma_cross", "zscore_threshold")].met is True
    process = verdicts["omega backtest (fresh process) <= 2x python -c 'import pandas'"]
    assert (process.met, process.measured) == (False, "2.50x")
    rate = verdicts["run_sweep sma_cross >= 450M bar-evaluations/s"]
    assert (rate.met, rate.measured) == (True, "2,000.0M/s")
    broadcast = verdicts["run_sweep >= 100x vectorbt broadcasting the same grid"]
    assert (broadcast.met, broadcast.measured) == (False, "50.00x")
    small = verdicts[
        "mean_reversion 1,000: memory added per bar through run_backtest (rust) <= 32 B"
    ]
    assert (small.met, small.measured) == (True, "16.0 B")
    large = "mean_reversion 10,000: memory added per bar through run_backtest (rust) <= 32 B"
    assert (verdicts[large].met, verdicts[large].measured) == (False, "40.0 B")


def test_goals_not_measured_without_figures():
    verdicts = evaluate_targets([], [], None, None)
    assert verdicts and all(t.met is None for t in verdicts)


def test_sweep_grid_is_every_ordered_pair_in_combination_order():
    sets = grid((5, 10, 15, 20))
    assert sets == [{"fast": a, "slow": b} for a, b in
                    [(5, 10), (5, 15), (5, 20), (10, 15), (10, 20), (15, 20)]]  # fmt: skip
    assert len(grid()) == 210 and all(s["fast"] < s["slow"] for s in grid())


def test_worker_runs_python_mode_from_an_input_folder(tmp_path):
    folder = ensure_input(tmp_path, 2_000, peer=True)
    out = tmp_path / "trades.npy"
    result = run_worker({"workload": "sma_cross", "mode": "python", "input": str(folder),
                         "trades_out": str(out)})  # fmt: skip
    assert result["bars"] == 2_000
    assert result["input_bytes"] == 2_000 * 10 * 8
    assert result["peak_bytes"] >= result["loaded_bytes"] > 0
    assert result["engine_seconds"] > 0 and result["frames_seconds"] >= 0
    trades = np.load(out)
    assert trades.shape == (result["trades"], 3)
    assert set(np.unique(trades[:, 2])) <= {-1, 1}


def test_workload_config_is_the_engine_settings_of_the_peers():
    settings = WORKLOADS["sma_cross"].settings()
    assert settings.fees.commission_per_lot == 0.0 and settings.sizing.mode == "fixed"
    # the default workload is the default config, fees and sizing included
    default = BacktestConfig.from_dict({})
    workload = WORKLOADS["mean_reversion"]
    assert workload.settings() == default.to_engine_settings()
    assert workload.config().strategy_params() == default.strategy_params()


@needs_core
def test_sweep_row_trades_equal_a_single_run(tmp_path):
    folder = ensure_input(tmp_path, 3_000, peer=True)
    out = tmp_path / "omega.npy"
    single = run_worker({"workload": "sma_cross", "mode": "rust", "input": str(folder),
                         "trades_out": str(out)})  # fmt: skip
    swept = run_sweep_case({"engine": "omega", "input": str(folder), "windows": [10, 30]})
    assert swept["sets"] == 1 and swept["bars"] == 3_000
    assert swept["trades"] == [single["trades"]]


@needs_core
def test_cli_process_timing_writes_every_output():
    data = run_process(1)
    assert {"trades.csv", "equity.csv", "metrics.json"} <= set(data["files"])
    assert len(data["cli_seconds"]) == len(data["pandas_seconds"]) == 1
    assert data["cli_median"] > 0 and data["pandas_median"] > 0


@needs_core
def test_quick_run_prints_the_tables_and_agrees_across_modes(tmp_path, capsys):
    argv = ["--quick", "--no-micro", "--no-cli", "--no-sweep", "--workloads", "sma_cross",
            "--cache-dir", str(tmp_path), "--json", str(tmp_path / "out.json")]  # fmt: skip
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "### sma_cross, 3,000 M1 bars: omega.run_backtest per mode" in text
    assert "### goals" in text and "not measured" in text
    import json

    rows = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert {r["engine"] for r in rows} == {"python", "hybrid", "rust"}
    assert len({r["data"]["trades"] for r in rows}) == 1

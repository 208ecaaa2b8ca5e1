"""Smoke tests of the benchmark tooling (tiny inputs, a few seconds, no timed assertions)."""

from __future__ import annotations

import numpy as np
import pytest

from omega.bench import cli
from omega.bench.inputs import ensure_input, load_bars
from omega.bench.micro import generated_mt5_file, pandas_mt5
from omega.bench.report import Row
from omega.bench.targets import evaluate_targets
from omega.bench.worker import run as run_worker
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


def test_targets_judge_hand_made_ratios():
    rows = [
        _row("mean_reversion", "python", 1000, 2.0),
        _row("mean_reversion", "hybrid", 1000, 1.5),  # 1.33x python: missed
        _row("mean_reversion", "rust", 1000, 0.01),  # 200x python: met
    ]
    verdicts = {t.name: t for t in evaluate_targets(rows, [], {})}
    assert verdicts["mean_reversion 1,000: rust >= 100x python"].met is True
    assert verdicts["mean_reversion 1,000: rust >= 100x python"].measured == "200.00x"
    assert verdicts["mean_reversion 1,000: hybrid >= 2x python"].met is False
    memory = verdicts["mean_reversion 1,000: rust memory added per bar <= 32 B"]
    assert memory.measured == "16.0 B" and memory.met is True
    # bound = 1.5 * 80,000 + 100; peak = 96,100
    peak = verdicts["mean_reversion 1,000: rust peak RSS <= 1.5 input + baseline (peak / bound)"]
    assert peak.met is True and peak.measured == f"{96_100 / 120_100:.2f}x"


def test_worker_runs_python_mode_from_an_input_folder(tmp_path):
    folder = ensure_input(tmp_path, 2_000, peer=True)
    out = tmp_path / "trades.npy"
    result = run_worker({"workload": "sma_cross", "mode": "python", "input": str(folder),
                         "trades_out": str(out)})  # fmt: skip
    assert result["bars"] == 2_000
    assert result["input_bytes"] == 2_000 * 10 * 8
    assert result["peak_bytes"] >= result["loaded_bytes"] > 0
    trades = np.load(out)
    assert trades.shape == (result["trades"], 3)
    assert set(np.unique(trades[:, 2])) <= {-1, 1}


@needs_core
def test_quick_run_prints_the_tables_and_agrees_across_modes(tmp_path, capsys):
    argv = ["--quick", "--no-micro", "--workloads", "sma_cross", "--cache-dir", str(tmp_path),
            "--json", str(tmp_path / "out.json")]  # fmt: skip
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "### sma_cross, 3,000 M1 bars" in text and "### targets" in text
    import json

    rows = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert {r["engine"] for r in rows} == {"python", "hybrid", "rust"}
    assert len({r["data"]["trades"] for r in rows}) == 1


# backtesting.py itself still uses pandas APIs that pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated")
@pytest.mark.parametrize("workload", ["sma_cross", "zscore_threshold"])
@needs_core
def test_backtesting_py_peer_trades_like_omega(tmp_path, workload):
    pytest.importorskip("backtesting")
    from omega.peers.backtesting_peer import run as run_backtesting
    from omega.peers.data import default_params, ohlc_frame

    folder = ensure_input(tmp_path, 3_000, peer=True)
    out = tmp_path / "omega.npy"
    run_worker({"workload": workload, "mode": "rust", "input": str(folder),
                "trades_out": str(out)})  # fmt: skip
    frame = ohlc_frame(folder)
    peer = run_backtesting(frame, workload, default_params(workload))
    last_open = int(frame.index.as_unit("ns").asi8[-1])
    assert compare_trades(np.load(out), peer, last_open).identical

"""Memory guard (omega.data.memory_guard): a run estimated not to fit is refused with a named
error giving both figures and the override; the available figure is faked here."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from omega.cli import app
from omega.config import BacktestConfig
from omega.data import generate_synthetic, memory_guard
from omega.data.memory_guard import Available, guard_load, guard_run
from omega.errors import InsufficientMemoryError
from omega.runner import load_bars, run_backtest
from omega.sweep import run_sweep

MB = 1 << 20
QUICK = {"timeframes": {"primary": "M1", "extra": []}}


@pytest.fixture
def available(monkeypatch):
    """Sets the available-memory figure the guard sees (bytes); the default is plenty."""
    figure = {"bytes": 1 << 40}

    def fake() -> Available:
        return Available(figure["bytes"], "faked for the test")

    monkeypatch.setattr(memory_guard, "available_memory", fake)

    def set_to(n: int) -> None:
        figure["bytes"] = n

    return set_to


def _synthetic(n_bars: int, **more) -> BacktestConfig:
    return BacktestConfig.from_dict({"data": {"synthetic": {"n_bars": n_bars}}, **QUICK, **more})


# ------------------------------------------------------------------------- available memory


def test_meminfo_available_is_read_in_bytes(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  1000 kB\nMemFree:  10 kB\nMemAvailable:   2048 kB\n")
    assert memory_guard._meminfo_available(str(meminfo)) == 2048 * 1024
    meminfo.write_text("MemTotal:  1000 kB\n")  # a kernel before 3.14
    assert memory_guard._meminfo_available(str(meminfo)) is None
    assert memory_guard._meminfo_available(str(tmp_path / "missing")) is None


def test_cgroup_v2_headroom_is_limit_minus_usage_without_reclaimable_cache(tmp_path):
    group = tmp_path / "cg" / "user.slice" / "job"
    group.mkdir(parents=True)
    (group / "memory.max").write_text(f"{512 * MB}\n")
    (group / "memory.current").write_text(f"{300 * MB}\n")
    (group / "memory.stat").write_text(f"anon {200 * MB}\ninactive_file {100 * MB}\n")
    proc = tmp_path / "cgroup"
    proc.write_text("0::/user.slice/job\n")
    found = memory_guard.cgroup_headroom(tmp_path / "cg", proc)
    assert found is not None
    assert found.bytes == (512 - 200) * MB
    assert "512.0 MB" in found.source
    (group / "memory.max").write_text("max\n")  # no limit: nothing to report
    assert memory_guard.cgroup_headroom(tmp_path / "cg", proc) is None


def test_cgroup_v1_limit_is_read_and_an_unlimited_group_is_ignored(tmp_path):
    root = tmp_path / "cg"
    (root / "memory").mkdir(parents=True)  # a container: its own group mounted as the root
    (root / "memory" / "memory.limit_in_bytes").write_text(f"{1024 * MB}\n")
    (root / "memory" / "memory.usage_in_bytes").write_text(f"{1000 * MB}\n")
    (root / "memory" / "memory.stat").write_text(f"total_inactive_file {476 * MB}\n")
    proc = tmp_path / "cgroup"
    proc.write_text("5:cpu,cpuacct:/x\n4:memory:/docker/abc\n")
    found = memory_guard.cgroup_headroom(root, proc)
    assert found is not None and found.bytes == 500 * MB
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert memory_guard.cgroup_headroom(root, proc) is None


def test_the_available_figure_is_the_lower_of_the_system_and_the_cgroup(monkeypatch):
    monkeypatch.setattr(memory_guard, "_meminfo_available", lambda: 8 << 30)
    monkeypatch.setitem(sys.modules, "psutil", None)  # the /proc/meminfo path
    monkeypatch.setattr(memory_guard, "cgroup_headroom", lambda: Available(1 << 30, "cgroup"))
    assert memory_guard.available_memory() == Available(1 << 30, "cgroup")
    monkeypatch.setattr(memory_guard, "cgroup_headroom", lambda: None)
    assert memory_guard.available_memory() == Available(8 << 30, "MemAvailable in /proc/meminfo")


def test_on_this_machine_some_figure_is_available():
    found = memory_guard.available_memory()
    if found is None:
        pytest.skip("neither psutil nor /proc/meminfo here")
    assert found.bytes > 0


# ----------------------------------------------------------------------------- the refusal


def test_a_synthetic_run_too_large_is_refused_before_generating(available, monkeypatch):
    available(10 * MB)

    def never(**_):
        raise AssertionError("the bars were generated although the run was refused")

    monkeypatch.setattr("omega.data.synthetic.generate_synthetic", never)
    with pytest.raises(InsufficientMemoryError) as caught:
        run_backtest(_synthetic(1_000_000, engine="python"))
    error = caught.value
    assert error.available == 10 * MB
    assert error.needed > 10 * MB
    text = str(error)
    assert "1,000,000 synthetic bars" in text
    assert "10.0 MB is available (faked for the test)" in text
    assert f"needs about {memory_guard.format_bytes(error.needed)}" in text
    assert "memory_check: false" in text and "--no-memory-check" in text


def test_the_same_run_fits_when_memory_suffices_and_runs_when_the_check_is_off(available):
    config = _synthetic(3_000, engine="python")
    needed = guard_load(config).total
    available(needed)  # exactly enough
    assert run_backtest(config).raw.bars_processed > 0
    available(needed - 1)
    with pytest.raises(InsufficientMemoryError):
        run_backtest(config)
    off = _synthetic(3_000, engine="python", memory_check=False)
    assert guard_load(off) is None
    assert run_backtest(off).raw.bars_processed > 0


def test_given_bars_are_checked_before_the_run_with_the_mode_that_runs(available):
    bars = generate_synthetic(n_bars=5_000, seed=2)
    config = BacktestConfig.from_dict({**QUICK, "engine": "python"})
    estimate = guard_run(config, bars, "python")
    assert estimate is not None
    available(estimate.total - 1)
    with pytest.raises(InsufficientMemoryError, match="a python backtest of 5,000 bars"):
        run_backtest(config, bars=bars)
    rust = guard_run(config, bars, "rust")
    assert rust is not None and rust.total < estimate.total  # the Rust engine needs less


def test_a_file_too_large_is_refused_before_it_is_read_naming_the_format(
    available, tmp_path, monkeypatch
):
    from test_cli_data import write_mt5

    data = write_mt5(tmp_path / "EURUSD_M1.csv", generate_synthetic(n_bars=2_000, seed=4))
    config = BacktestConfig.from_dict(
        {"data": {"path": str(data), "format": "mt5", "tz": "UTC"}, **QUICK}
    )
    estimate = guard_load(config)
    assert estimate is not None
    # The bar count comes from the file size: never fewer bars than the file holds.
    assert estimate.what.startswith("loading about ")
    counted = int(estimate.what.split()[2].replace(",", ""))
    assert 2_000 <= counted <= 2 * 2_000
    available(estimate.total - 1)

    def never(*_, **__):
        raise AssertionError("the file was read although the run was refused")

    monkeypatch.setattr("omega.data.loading.load", never)
    with pytest.raises(InsufficientMemoryError, match="mt5 parsing"):
        load_bars(config)


def test_a_missing_file_is_left_to_the_loader_s_own_error(available):
    config = BacktestConfig.from_dict({"data": {"path": "/nonexistent/x.csv", "format": "mt5"}})
    available(1)
    assert guard_load(config) is None


def test_a_parquet_file_s_bar_count_comes_from_its_footer(tmp_path):
    from omega.data import write_parquet

    path = tmp_path / "bars.parquet"
    write_parquet(generate_synthetic(n_bars=1_234, seed=5), path)
    assert memory_guard.estimate_bars_in_files([str(path)], "parquet") == 1_234


def test_a_sweep_too_large_is_refused_and_runs_with_the_check_off(available):
    bars = generate_synthetic(n_bars=3_000, seed=6)
    config = BacktestConfig.from_dict(QUICK)
    settings = config.to_engine_settings()
    sets = [{"fast": f, "slow": s} for f in (5, 10) for s in (20, 30)]
    available(100_000)  # the estimate is about 0.5 MB
    with pytest.raises(InsufficientMemoryError, match="a sweep of 4 sets on 3,000 bars"):
        run_sweep(bars, "sma_cross", sets, settings)
    table = run_sweep(bars, "sma_cross", sets, settings, memory_check=False)
    assert len(table) == 4 and table["error"].isna().all()


def test_the_sweep_estimate_grows_with_threads_and_distinct_values(available):
    def total(threads: int, distinct: int) -> int:
        return memory_guard.check_sweep(
            10_000,
            10,
            threads,
            distinct,
            base_seconds=60,
            primary_seconds=60,
            timeframe_seconds=[60],
            mode="rust",
        ).total

    a, b, c = total(1, 4), total(2, 4), total(2, 40)
    assert a < b < c
    assert c - b == 36 * 10_000 * 8  # one float series per primary bar and distinct value


def test_the_error_survives_pickling_with_its_figures():
    error = InsufficientMemoryError("not enough memory: x", needed=5, available=3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.needed, copy.available, str(copy)) == (5, 3, "not enough memory: x")


# ------------------------------------------------------------------------------------- CLI


def test_cli_refuses_with_the_figures_and_no_traceback_and_the_flag_overrides(available, tmp_path):
    cli = CliRunner()
    available(1 * MB)
    args = ["backtest", "--no-progress", "--no-report", "--out", str(tmp_path / "o")]
    args += ["--set", "data.synthetic.n_bars=100000"]
    refused = cli.invoke(app, args)
    assert refused.exit_code == 2, refused.output
    assert "not enough memory" in refused.output
    assert "1.0 MB is available" in refused.output
    assert "--no-memory-check" in refused.output
    assert "Traceback" not in refused.output
    assert not (tmp_path / "o").exists()
    ran = cli.invoke(app, [*args, "--set", "data.synthetic.n_bars=3000", "--no-memory-check"])
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / "o" / "metrics.json").is_file()


def test_cli_sweep_takes_the_flag(available, tmp_path):
    cli = CliRunner()
    available(100_000)  # below both the load's and the sweep's estimate: the flag must reach both
    args = ["sweep", "--no-progress", "--out", str(tmp_path / "s"), "--grid", "z_entry=2.5,3"]
    args += ["--set", "data.synthetic.n_bars=3000"]
    refused = cli.invoke(app, args)
    assert refused.exit_code == 2 and "not enough memory" in refused.output, refused.output
    ran = cli.invoke(app, [*args, "--no-memory-check"])
    assert ran.exit_code == 0, ran.output


# --------------------------------------------------------- the estimate against a measurement


@pytest.mark.parametrize("mode", ["python", "rust"])
def test_the_run_estimate_covers_the_measured_peak_without_gross_excess(mode, tmp_path):
    """The bench worker measures a real run's peak RSS over the loaded input (fresh process);
    the guard's estimate for the same run must be at least that, and not absurdly more."""
    if mode == "rust":
        pytest.importorskip("omega._core", reason="the Rust extension is not built")
    from omega.bench.inputs import ensure_input
    from omega.bench.workloads import WORKLOADS

    n = 300_000
    folder = ensure_input(tmp_path, n, peer=False)
    spec = {"workload": "mean_reversion", "mode": mode, "input": str(folder), "repeat": 1}
    out = subprocess.run(
        [sys.executable, "-m", "omega.bench.worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(out.stdout)
    run_bytes = measured["peak_bytes"] - measured["loaded_bytes"]
    config = WORKLOADS["mean_reversion"].config(mode)
    bars = generate_synthetic(n_bars=10, seed=1)  # only its M1 timeframe is read
    estimate = memory_guard.run_parts(
        n,
        bars.timeframe.seconds,
        config.to_engine_settings().primary_timeframe.seconds,
        [t.seconds for t in config.to_engine_settings().timeframes],
        mode,
    )
    total = sum(estimate.values())
    assert total >= run_bytes, (total, run_bytes)
    assert total <= 4 * max(run_bytes, 1 * MB), (total, run_bytes)
    assert np.isfinite(total)

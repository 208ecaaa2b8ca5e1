"""`omega.research.backends.evaluate` gives run_sweep's rows on every backend and strategy kind.

Local, process pool and Ray (a local 2-CPU instance, one per module) against one
`omega.sweep.run_sweep` call on the same sets: equal tables (values bit for bit, columns,
dtypes, order), failed sets included. A strategy plugin (the example plugin, a build of
mean_reversion_z_score) against the built-in strategy's sweep.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("omega._core")

from omega.config.model import import_strategy_module
from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError, DataError, PluginError
from omega.research import backends
from omega.research.backends import Plugin, evaluate, strategy_label
from omega.sweep import run_sweep
from omega.timeframes import Timeframe

REPO = Path(__file__).resolve().parent.parent
STRATEGY = "mean_reversion_z_score"
PYTHON_STRATEGY = "example_rsi_reversal"  # examples/custom_strategy.py: Python only
# The first set is invalid (lookback below 5): a failed row first, as the hardest column order.
SETS = [
    {"lookback": 3},
    {"lookback": 40, "z_entry": 1.5},
    {"lookback": 60, "z_entry": 2.0, "trend_filter": False},
    {"lookback": 40, "z_entry": 2.5},
    {"lookback": 80, "z_entry": 1.5, "sl_atr": 2.0},
]
PY_SETS = [
    {"rsi_period": 10, "oversold": 30.0, "overbought": 70.0},
    {"rsi_period": 1},  # invalid: below 2
    {"rsi_period": 14, "oversold": 25.0, "overbought": 75.0},
]


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=12_000, seed=5)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


@pytest.fixture(scope="module")
def expected(bars, settings):
    return run_sweep(bars, STRATEGY, SETS, settings)


@pytest.fixture(scope="module")
def python_strategy():
    import_strategy_module(str(REPO / "examples" / "custom_strategy.py"))
    return PYTHON_STRATEGY


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert list(got.dtypes) == list(want.dtypes)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.equals(want)


def test_local_is_one_run_sweep_call(bars, settings, expected):
    calls = []
    got = evaluate(bars, STRATEGY, SETS, settings, progress=lambda d, t: calls.append((d, t)))
    assert_same_table(got, expected)
    assert calls[-1] == (len(SETS), len(SETS))
    assert isinstance(got.loc[0, "error"], str) and got["error"][1:].isna().all()


def test_default_settings_are_the_instruments(bars):
    want = run_sweep(bars, STRATEGY, SETS[1:3], EngineSettings(instrument=bars.instrument))
    assert_same_table(evaluate(bars, STRATEGY, SETS[1:3]), want)


@pytest.mark.parametrize("threads", [1, 2])
def test_process_pool_rows_equal_run_sweep(bars, settings, expected, threads, caplog):
    calls = []
    with caplog.at_level(logging.WARNING, logger="omega.sweep"):
        got = evaluate(
            bars,
            STRATEGY,
            SETS,
            settings,
            backend="process",
            threads=threads,
            progress=lambda d, t: calls.append((d, t)),
        )
    assert_same_table(got, expected)
    assert calls[-1] == (len(SETS), len(SETS))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    # One warning for the whole evaluation, as from one run_sweep call.
    messages = [r.getMessage() for r in caplog.records if "parameter sets failed" in r.message]
    assert messages == [f"1 of {len(SETS)} parameter sets failed; see the error column"]


def test_process_pool_runs_python_strategies(bars, settings, python_strategy):
    want = run_sweep(bars, python_strategy, PY_SETS, settings)
    got = evaluate(bars, python_strategy, PY_SETS, settings, backend="process", threads=2)
    assert_same_table(got, want)
    assert want["error"].notna().sum() == 1 and want["n_trades"].notna().sum() == 2


def test_auto_sends_python_strategies_to_the_pool(python_strategy):
    resolve = backends.resolve_backend
    assert resolve("auto", python_strategy, 3, 2) == "process"
    assert resolve("auto", python_strategy, 1, 2) == "local"  # one set: no pool to start
    assert resolve("auto", python_strategy, 3, 1) == "local"
    assert resolve("auto", STRATEGY, 3, 2) == "local"  # the core uses every core already
    assert resolve("auto", Plugin("x.so"), 3, 2) == "local"
    assert resolve("ray", STRATEGY, 3, 2) == "ray"


def test_auto_rows_equal_run_sweep_for_python_strategies(bars, settings, python_strategy):
    want = run_sweep(bars, python_strategy, PY_SETS, settings)
    assert_same_table(evaluate(bars, python_strategy, PY_SETS, settings, threads=2), want)


def test_no_sets_give_run_sweeps_empty_table(bars, settings):
    for backend in ("local", "process"):
        got = evaluate(bars, STRATEGY, [], settings, backend=backend)
        assert_same_table(got, run_sweep(bars, STRATEGY, [], settings))


def test_a_data_error_raises_from_the_workers(bars, settings):
    broken = bars.time.copy()
    broken[500] = broken[499]
    with pytest.raises(DataError, match="500"):
        evaluate(replace(bars, time=broken), STRATEGY, SETS, settings, backend="process")


def test_interrupt_stops_the_pool(bars, settings):
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(bars, STRATEGY, SETS * 4, settings, backend="process", threads=1, progress=stop)


def test_worker_functions_run_a_chunk_in_this_process(bars, settings, python_strategy):
    # What a pool worker and a Ray task run (coverage does not follow them there).
    sweep_log = logging.getLogger("omega.sweep")
    level = sweep_log.level
    try:
        backends._worker_init(bars, settings, None)
        assert sweep_log.level == logging.ERROR  # a chunk's failures are counted by the caller
        records = backends._worker_chunk(STRATEGY, SETS[:2])
        ray_records = backends._ray_chunk(bars, settings, STRATEGY, None, SETS[:2])
    finally:
        sweep_log.setLevel(level)
        backends._WORKER.clear()
    want = run_sweep(bars, STRATEGY, SETS[:2], settings).to_dict("records")
    for got in (records, ray_records):
        assert len(got) == 2 and got[0]["error"] == want[0]["error"]
        assert got[1]["sharpe"] == want[1]["sharpe"]
    backends._by_value(None)
    backends._by_value(backends.Plugin)  # a class of an importable module: pickled by name


def test_bad_backend_and_threads_are_named_errors(bars, settings):
    with pytest.raises(ConfigError, match="backend 'gpu'"):
        evaluate(bars, STRATEGY, SETS, settings, backend="gpu")
    with pytest.raises(ConfigError, match="threads must be >= 1"):
        evaluate(bars, STRATEGY, SETS, settings, threads=0)


def test_chunks_are_contiguous_and_balanced():
    sets = [{"i": i} for i in range(10)]
    chunks = backends._chunks(sets, 4)
    assert [len(c) for c in chunks] == [3, 3, 2, 2]
    assert [s for c in chunks for s in c] == sets
    assert backends._chunks(sets[:2], 8) == [[{"i": 0}], [{"i": 1}]]


def test_a_strategy_with_rust_needs_no_class_in_workers(python_strategy):
    assert backends._strategy_class(STRATEGY) is None
    assert backends._strategy_class(Plugin("x.so")) is None
    assert backends._strategy_class(python_strategy).name == python_strategy


def test_registering_in_a_worker_keeps_a_known_class(python_strategy):
    from omega.strategy import get_strategy

    cls = get_strategy(python_strategy)
    backends._ensure_registered(cls)  # already registered: nothing happens
    backends._ensure_registered(None)
    assert get_strategy(python_strategy) is cls


def test_a_fresh_worker_registers_the_shipped_class(python_strategy, monkeypatch):
    from omega.strategy import get_strategy, registry

    cls = get_strategy(python_strategy)
    monkeypatch.delitem(registry._REGISTRY, python_strategy)  # a worker that never saw it
    backends._ensure_registered(cls)
    assert registry._REGISTRY[python_strategy] is cls


def test_plugin_label_is_its_absolute_path(tmp_path):
    plugin = Plugin(str(tmp_path / "lib.so"))
    assert plugin.path == str((tmp_path / "lib.so").resolve())
    assert strategy_label(plugin) == f"plugin:{plugin.path}"
    assert strategy_label(STRATEGY) == STRATEGY


def test_without_ray_the_backend_names_the_extra(bars, settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(ConfigError, match=r"omega\[ray\]"):
        evaluate(bars, STRATEGY, SETS, settings, backend="ray")


# ------------------------------------------------------------------------------- plugins


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Plugin:
    """The example plugin (a build of mean_reversion_z_score), built as tests/test_plugins.py
    builds it (dev profile, the shared target folder)."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo not found: cannot build the example plugin")
    crate = REPO / "examples" / "plugin_mean_reversion"
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    done = subprocess.run(
        [cargo, "build", "--quiet", "--manifest-path", str(crate / "Cargo.toml")],
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    copy = tmp_path_factory.mktemp("plugin") / "libplugin.so"
    shutil.copyfile(target / "debug" / "libomega_plugin_mean_reversion.so", copy)
    return Plugin(str(copy))


@pytest.mark.parametrize("backend", ["local", "process"])
def test_plugin_rows_equal_the_builtin_strategys(bars, settings, plugin, backend):
    valid = SETS[1:]
    got = evaluate(bars, plugin, valid, settings, backend=backend, threads=2)
    assert_same_table(got, run_sweep(bars, STRATEGY, valid, settings))


def test_plugin_rejecting_a_set_fails_that_row_only(bars, settings, plugin, caplog):
    sets = [{"lookback": 40}, {"lookback": 40, "z_entry": -1.0}]
    calls = []
    with caplog.at_level(logging.WARNING, logger="omega.sweep"):
        got = evaluate(bars, plugin, sets, settings, progress=lambda d, t: calls.append(d))
    assert got["error"].isna().tolist() == [True, False]
    assert got.loc[1, "error"].startswith("StrategyError: ")
    assert np.isnan(got.loc[1, "sharpe"]) and got.loc[0, "n_trades"] >= 0
    assert sorted(calls) == [1, 2]
    assert any("1 of 2 parameter sets failed" in r.getMessage() for r in caplog.records)


def test_omega_optimize_searches_a_plugin_config(plugin, tmp_path):
    from typer.testing import CliRunner

    from omega.cli import app

    common = ["--param", "lookback=40,80", "--set", "data.synthetic.n_bars=12000", "--no-progress"]
    tables = []
    for name, extra in (("plugin", ["--set", f"strategy.plugin={plugin.path}"]), ("builtin", [])):
        run = CliRunner().invoke(app, ["optimize", *common, *extra, "--out", str(tmp_path / name)])
        assert run.exit_code == 0, run.output
        tables.append(pd.read_csv(tmp_path / name / "optimize.csv").sort_values("lookback"))
    plugin_rows, builtin_rows = (t.drop(columns="trial").reset_index(drop=True) for t in tables)
    pd.testing.assert_frame_equal(plugin_rows, builtin_rows, check_exact=True)


def test_a_library_that_is_no_plugin_raises_once(bars, settings, tmp_path):
    fake = tmp_path / "libnothing.so"
    fake.write_bytes(b"not a library")
    with pytest.raises(PluginError):
        evaluate(bars, Plugin(str(fake)), SETS[1:], settings)


# ------------------------------------------------------------------------------- Ray


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray", reason="Ray not installed (pip install omega[ray])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_rows_equal_run_sweep(bars, settings, expected, ray_instance, caplog):
    calls = []
    with caplog.at_level(logging.WARNING, logger="omega.sweep"):
        got = evaluate(
            bars, STRATEGY, SETS, settings, backend="ray", progress=lambda d, t: calls.append(d)
        )
    assert_same_table(got, expected)
    assert calls[-1] == len(SETS)
    assert sum("parameter sets failed" in r.getMessage() for r in caplog.records) == 1


def test_ray_puts_the_bars_once_for_many_calls(bars, settings, ray_instance, monkeypatch):
    put = []
    real = ray_instance.put
    monkeypatch.setattr(ray_instance, "put", lambda value: put.append(type(value)) or real(value))
    backends._RAY_SHARED.clear()
    first = evaluate(bars, STRATEGY, SETS[1:3], settings, backend="ray")
    second = evaluate(bars, STRATEGY, SETS[3:], settings, backend="ray")
    other = evaluate(bars.slice(0, 9_000), STRATEGY, SETS[1:3], settings, backend="ray")
    assert [t.__name__ for t in put].count("BarSeries") == 2  # bars once, then the slice
    assert_same_table(first, run_sweep(bars, STRATEGY, SETS[1:3], settings))
    assert_same_table(second, run_sweep(bars, STRATEGY, SETS[3:], settings))
    assert len(other) == 2


def test_the_research_benchmark_runs_small(ray_instance, tmp_path, capsys):
    pytest.importorskip("optuna", reason="Optuna not installed (pip install omega[research])")
    from omega.bench import research as bench

    out = tmp_path / "bench.json"
    bench.main(["--bars", "12000", "--trials", "12", "--sets", "6", "--json", str(out)])
    figures = json.loads(out.read_text())
    assert figures["tpe"]["trials"] == 12 and figures["ray"]["sets"] == 6
    assert figures["ray"]["rows_equal"] is True
    printed = capsys.readouterr().out
    assert "TPE: 12 trials on 12,000 M1 bars" in printed and "rows equal: True" in printed
    bench.main(["--bars", "12000", "--trials", "4", "--no-ray"])
    assert "Ray:" not in capsys.readouterr().out


def test_ray_runs_a_strategy_from_a_module_file(bars, settings, python_strategy, ray_instance):
    # examples/custom_strategy.py is loaded under a private module name the Ray workers
    # cannot import: the class travels with its module's code.
    few = bars.slice(0, 4_000)
    want = run_sweep(few, python_strategy, PY_SETS, settings)
    got = evaluate(few, python_strategy, PY_SETS, settings, backend="ray", threads=3)
    assert_same_table(got, want)


def test_ray_raises_an_omega_error_as_itself(bars, settings, ray_instance):
    broken = bars.time.copy()
    broken[500] = broken[499]
    with pytest.raises(DataError, match="500"):
        evaluate(replace(bars, time=broken), STRATEGY, SETS, settings, backend="ray")


def test_ray_interrupt_cancels_what_is_pending(bars, settings, ray_instance):
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(bars, STRATEGY, SETS * 4, settings, backend="ray", threads=4, progress=stop)


def test_ray_other_task_errors_raise_their_cause(ray_instance, monkeypatch):
    @ray_instance.remote
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        backends._ray_result(ray_instance, fail.remote())


def test_ray_starts_an_instance_when_none_is_connected(bars, settings, ray_instance, monkeypatch):
    started = []

    class Unconnected:  # the Ray module as a fresh process sees it; init is recorded only
        def __getattr__(self, name):
            return getattr(ray_instance, name)

        def is_initialized(self):
            return False

        def init(self):
            started.append(True)

    monkeypatch.setattr(backends, "_ray_module", Unconnected)
    got = evaluate(bars, STRATEGY, SETS[1:3], settings, backend="ray")
    assert started == [True] and len(got) == 2

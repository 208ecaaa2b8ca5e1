"""Run-mode selection (architecture.md "Run modes"), fallback, and the runner end to end."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from omega.config import default_config
from omega.data import generate_synthetic, resample
from omega.engine.loop import run_python
from omega.errors import ConfigError, EngineError, StrategyError
from omega.results import canonical_trades_text
from omega.runner import Backend, run_backtest, select_mode
from omega.timeframes import Timeframe

MR = "mean_reversion_z_score"
NO_CORE = Backend(core_available=False)
CORE_WITH_MR = Backend(core_available=True, rust_strategies=frozenset({MR}))
CORE_ONLY = Backend(core_available=True)


@pytest.mark.parametrize(
    ("requested", "backend", "env", "mode", "reason"),
    [
        ("auto", NO_CORE, {}, "python", "omega._core not available"),
        ("auto", CORE_WITH_MR, {}, "rust", "strategy 'mean_reversion_z_score' has a Rust"),
        ("auto", CORE_ONLY, {}, "hybrid", "strategy 'mean_reversion_z_score' is Python-only"),
        ("auto", CORE_WITH_MR, {"OMEGA_USE_RUST_STRATEGY": "0"}, "hybrid", "OMEGA_USE_RUST"),
        ("auto", NO_CORE, {"OMEGA_USE_RUST_STRATEGY": "0"}, "python", "omega._core not"),
        ("auto", CORE_WITH_MR, {"OMEGA_USE_RUST_STRATEGY": "1"}, "rust", "OMEGA_USE_RUST"),
        ("rust", CORE_WITH_MR, {"OMEGA_USE_RUST_STRATEGY": "1"}, "rust", "OMEGA_USE_RUST"),
        ("python", CORE_WITH_MR, {}, "python", "engine: python requested"),
        ("python", NO_CORE, {"OMEGA_USE_RUST_STRATEGY": "0"}, "python", "engine: python"),
        ("hybrid", CORE_WITH_MR, {}, "hybrid", "engine: hybrid requested"),
        ("rust", CORE_WITH_MR, {}, "rust", "engine: rust requested"),
    ],
)
def test_mode_selection(requested, backend, env, mode, reason):
    choice = select_mode(requested, MR, backend, env)
    assert choice.mode == mode
    assert choice.reason.startswith(reason)
    assert choice.unavailable is None


@pytest.mark.parametrize("requested", ["hybrid", "rust"])
def test_explicit_rust_side_mode_without_the_extension_is_marked_unavailable(requested):
    choice = select_mode(requested, MR, Backend(False, detail="no .so"), {})
    assert choice.mode == requested
    assert choice.unavailable == "omega._core not available (no .so)"


@pytest.mark.parametrize(
    ("requested", "backend", "env", "error", "match"),
    [
        ("auto", CORE_ONLY, {"OMEGA_USE_RUST_STRATEGY": "1"}, StrategyError, "no Rust impl"),
        ("auto", NO_CORE, {"OMEGA_USE_RUST_STRATEGY": "1"}, EngineError, "omega._core"),
        ("python", CORE_WITH_MR, {"OMEGA_USE_RUST_STRATEGY": "1"}, ConfigError, "conflicts"),
        ("hybrid", CORE_WITH_MR, {"OMEGA_USE_RUST_STRATEGY": "1"}, ConfigError, "conflicts"),
        ("rust", CORE_WITH_MR, {"OMEGA_USE_RUST_STRATEGY": "0"}, ConfigError, "conflicts"),
        ("rust", CORE_ONLY, {}, StrategyError, "has no Rust implementation"),
        ("auto", CORE_ONLY, {"OMEGA_USE_RUST_STRATEGY": "yes"}, ConfigError, "expected 0 or 1"),
    ],
)
def test_mode_selection_errors(requested, backend, env, error, match):
    with pytest.raises(error, match=match):
        select_mode(requested, MR, backend, env)


# ------------------------------------------------------------------------------- runner

SMALL = ["data.synthetic.n_bars=20000", "data.synthetic.seed=3"]


@pytest.fixture(scope="module")
def small_config():
    return default_config().apply_overrides(SMALL)


@pytest.fixture(scope="module")
def python_result(small_config):
    return run_backtest(small_config, env={}, backend=NO_CORE)


def test_auto_without_the_extension_runs_python(python_result):
    assert python_result.mode == "python"
    assert python_result.mode_reason == "omega._core not available"
    assert python_result.warnings == []


def test_result_trades_are_exactly_the_python_engine_trades(small_config, python_result):
    bars = generate_synthetic(n_bars=20_000, seed=3, symbol="EURUSD")
    direct = run_python(bars, small_config.build_strategy(), small_config.to_engine_settings())
    assert python_result.raw.n_trades > 0
    assert canonical_trades_text(python_result.raw) == canonical_trades_text(direct)
    assert python_result.bars_processed == direct.bars_processed == 4000
    assert python_result.quality is not None


def test_bars_passed_in_are_used_instead_of_loading(small_config):
    bars = generate_synthetic(n_bars=6_000, seed=11)
    result = run_backtest(small_config, bars=bars, env={}, backend=NO_CORE)
    assert result.raw.base_bars == 6_000


def test_a_primary_finer_than_the_data_is_a_config_error(small_config):
    m15 = resample(generate_synthetic(n_bars=6_000, seed=11), Timeframe.M15)
    with pytest.raises(ConfigError, match="not a multiple of the data's M15 bars"):
        run_backtest(small_config, bars=m15, env={}, backend=NO_CORE)


def _fake_rust_modules(monkeypatch, failure: Exception):
    """Stand-ins for omega.engine.rust / hybrid whose run functions fail with ``failure``."""
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        raise failure

    rust = types.ModuleType("omega.engine.rust")
    rust.run_rust = failing
    rust.rust_strategy_names = lambda: [MR]
    hybrid = types.ModuleType("omega.engine.hybrid")
    hybrid.run_hybrid = failing
    monkeypatch.setitem(sys.modules, "omega.engine.rust", rust)
    monkeypatch.setitem(sys.modules, "omega.engine.hybrid", hybrid)
    return calls


@pytest.mark.parametrize(("engine", "backend"), [("auto", CORE_WITH_MR), ("hybrid", CORE_ONLY)])
def test_a_failure_on_the_rust_path_falls_back_to_python_with_a_warning(
    small_config, python_result, monkeypatch, caplog, engine, backend
):
    calls = _fake_rust_modules(monkeypatch, RuntimeError("boom in the core"))
    config = small_config.apply_overrides([f"engine={engine}"])
    with caplog.at_level(logging.WARNING, logger="omega.runner"):
        result = run_backtest(config, env={}, backend=backend)
    assert len(calls) == 1
    expected_from = "rust" if engine == "auto" else "hybrid"
    assert result.mode == "python"
    assert result.mode_reason == f"fallback from {expected_from}: RuntimeError: boom in the core"
    assert "boom in the core" in caplog.text
    assert result.warnings and "falling back to python" in result.warnings[0]
    assert canonical_trades_text(result.raw) == canonical_trades_text(python_result.raw)


def test_strict_turns_the_fallback_into_an_error(small_config, monkeypatch):
    _fake_rust_modules(monkeypatch, RuntimeError("boom in the core"))
    with pytest.raises(EngineError, match=r"rust mode failed \(OMEGA_STRICT=1\).*boom"):
        run_backtest(small_config, env={"OMEGA_STRICT": "1"}, backend=CORE_WITH_MR)


def test_strict_keeps_omega_errors_of_the_rust_path_as_they_are(small_config, monkeypatch):
    _fake_rust_modules(monkeypatch, StrategyError("bad parameter in Rust"))
    with pytest.raises(StrategyError, match="bad parameter in Rust"):
        run_backtest(small_config, env={"OMEGA_STRICT": "1"}, backend=CORE_WITH_MR)


def test_missing_extension_for_explicit_hybrid_falls_back_or_fails_under_strict(small_config):
    config = small_config.apply_overrides(["engine=hybrid"])
    result = run_backtest(config, env={}, backend=NO_CORE)
    assert (result.mode, result.mode_reason) == (
        "python",
        "fallback from hybrid: omega._core not available",
    )
    with pytest.raises(EngineError, match="hybrid mode unavailable"):
        run_backtest(config, env={"OMEGA_STRICT": "1"}, backend=NO_CORE)


def test_trace_is_returned_as_a_frame(small_config):
    config = small_config.apply_overrides(["trace=true", "data.synthetic.n_bars=3000"])
    result = run_backtest(config, env={}, backend=NO_CORE)
    assert result.trace is not None
    assert len(result.trace) == result.bars_processed
    assert {"index", "time", "event"} <= set(result.trace.columns)


def test_progress_reaches_the_total_in_python_mode(small_config):
    calls = []
    run_backtest(
        small_config,
        env={},
        backend=NO_CORE,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls, "the Python engine reported no progress"
    assert calls[-1] == (4000, 4000)
    assert all(done <= total for done, total in calls)


def test_custom_strategy_example_runs(monkeypatch):
    from pathlib import Path

    from omega.config import BacktestConfig

    repo = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(repo)  # strategy.module is relative to the current directory
    config = BacktestConfig.from_file(repo / "examples" / "custom_strategy.yaml")
    config = config.apply_overrides(["data.synthetic.n_bars=30000"])
    result = run_backtest(config, env={}, backend=NO_CORE)
    assert result.mode == "python"
    assert result.raw.n_trades > 0
    assert set(result.trades["tag"]) <= {"rsi_long", "rsi_short"}


def test_a_stale_core_without_the_strategy_list_counts_as_unavailable(monkeypatch):
    from omega.runner import probe_backend

    def stale():
        raise AttributeError("module 'omega._core' has no attribute 'rust_strategy_names'")

    rust = types.ModuleType("omega.engine.rust")
    rust.rust_strategy_names = stale
    monkeypatch.setitem(sys.modules, "omega.engine.rust", rust)
    monkeypatch.setitem(sys.modules, "omega._core", types.ModuleType("omega._core"))
    backend = probe_backend()
    assert backend.core_available is False
    assert "rust_strategy_names" in backend.detail
    choice = select_mode("auto", MR, backend, {})
    assert (choice.mode, choice.reason.split(" (")[0]) == ("python", "omega._core not available")

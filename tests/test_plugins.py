"""Run-time strategy plugins (C ABI): the example plugin examples/plugin_mean_reversion is built
with cargo once per session, then loaded by the core.

A plugin build of mean_reversion_z_score must trade exactly like the built-in Rust strategy
and the Python one; a plugin built for another ABI version or with other boundary type sizes,
a library without the plugin symbol and a file that is no library are refused with
PluginError; a panic inside the plugin becomes PluginError and the process carries on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from _rust_helpers import assert_same_run
from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings, SlippageSettings
from omega.errors import ConfigError, PluginError, StrategyError
from omega.strategy import get_strategy
from omega.timeframes import Timeframe

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.engine.loop import run_python
from omega.engine.plugin import plugin_info, run_plugin
from omega.engine.rust import run_rust

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_CRATE = REPO_ROOT / "examples" / "plugin_mean_reversion"
NAME = "mean_reversion_z_score"
PARAMS = {"lookback": 20, "z_entry": 1.5, "kalman_q": 0.05}


def _build(features: str | None, dest: Path, crate: Path = PLUGIN_CRATE) -> Path:
    """Builds an example plugin crate (dev profile, shared target dir; ``crate`` is
    ``examples/plugin_<name>``, its library ``libomega_plugin_<name>``) and copies the
    library to ``dest``: each variant gets its own file, so rebuilding never touches a
    loaded one."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo not found: cannot build the example plugin")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    command = [cargo, "build", "--quiet", "--manifest-path", str(crate / "Cargo.toml")]
    if features:
        command += ["--features", features]
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    built = target / "debug" / f"libomega_{crate.name}.so"
    assert built.is_file(), f"cargo built no {built}"
    copy = dest / f"lib{crate.name}_{features or 'ok'}.so"
    shutil.copyfile(built, copy)
    return copy


@pytest.fixture(scope="session")
def plugins(tmp_path_factory) -> dict[str, Path]:
    """The plugin as written, a build posing as one for ABI 1 (omega-strategy-api 0.1: the
    old symbol and version) and one whose descriptor lies about a size."""
    dest = tmp_path_factory.mktemp("plugins")
    return {
        "ok": _build(None, dest),
        "abi_mismatch": _build("abi_mismatch", dest),
        "size_mismatch": _build("size_mismatch", dest),
    }


@pytest.fixture(scope="module")
def eurusd():
    return generate_synthetic(n_bars=20_000, seed=7, symbol="EURUSD")


def settings_for(bars, **changes) -> EngineSettings:
    return replace(EngineSettings(instrument=bars.instrument), **changes)


def test_the_plugin_declares_its_strategy_and_api_version(plugins):
    from omega import _core

    api_version, abi_version = _core.strategy_api_versions()
    assert abi_version == 3
    assert plugin_info(plugins["ok"]) == (NAME, api_version)


CASES = {
    "defaults": ({}, {}),
    "tuned_with_trend_filter": (PARAMS, {}),
    "no_filter_random_slip_finer": (
        {"lookback": 30, "z_entry": 2.0, "trend_filter": False, "tp_atr": 0.0},
        dict(
            intrabar_policy="finer",
            slippage=SlippageSettings(model="random", pips=1.0, seed=12345),
        ),
    ),
    "m15_primary_with_h1": (
        PARAMS,
        dict(primary_timeframe=Timeframe.M15, timeframes=(Timeframe.M15, Timeframe.H1)),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plugin_trades_exactly_like_the_builtin_rust_and_python_strategy(plugins, eurusd, case):
    params, changes = CASES[case]
    settings = settings_for(eurusd, **changes)
    got = run_plugin(eurusd, plugins["ok"], params, settings, trace=True)
    builtin = run_rust(eurusd, NAME, params, settings, trace=True)
    python = run_python(eurusd, get_strategy(NAME)(params), settings, trace=True)
    if case != "defaults":  # the defaults (z_entry 3.5) trade rarely on 20k synthetic bars
        assert got.n_trades > 5, "the configuration must trade for the comparison to mean much"
    assert_same_run(builtin, got, trace=True)
    assert_same_run(python, got, trace=True)


def test_an_abi_version_mismatch_is_refused_naming_both_versions(plugins, eurusd):
    expected = "plugin built for Omega plugin ABI 1, this engine speaks ABI 3; rebuild"
    with pytest.raises(PluginError, match=expected):
        plugin_info(plugins["abi_mismatch"])
    with pytest.raises(PluginError, match="ABI version mismatch"):
        run_plugin(eurusd, plugins["abi_mismatch"], PARAMS, settings_for(eurusd))


def test_a_size_mismatch_is_refused_naming_the_type_and_both_sizes(plugins):
    with pytest.raises(PluginError) as caught:
        plugin_info(plugins["size_mismatch"])
    found = re.search(
        r"size of SliceAbi mismatch: expected (\d+) bytes, found (\d+)", str(caught.value)
    )
    assert found, str(caught.value)
    # SliceAbi on a 64-bit target, counted field by field: u64 index, two u32, then seven
    # pointer-sized fields (frames, n_frames, indicators, n_indicators, position,
    # record_context, record): 8 + 4 + 4 + 8 * 7 = 72; the broken build adds 8.
    assert (int(found[1]), int(found[2])) == (80, 88)


@pytest.mark.parametrize("function", ["evaluate", "manage_position"])
def test_a_panic_in_the_plugin_is_a_plugin_error_and_the_process_survives(
    plugins, eurusd, function
):
    settings = settings_for(eurusd)
    builtin = run_rust(eurusd, NAME, PARAMS, settings)
    # A bar where the hooked function certainly runs: manage_position at the close of the
    # first entry bar (a position is open there), evaluate at any bar.
    bar = int(builtin.trades["entry_index"][0]) if function == "manage_position" else 1234
    params = {**PARAMS, "panic_at_bar": bar, "panic_in": function}
    with pytest.raises(PluginError) as caught:
        run_plugin(eurusd, plugins["ok"], params, settings)
    message = str(caught.value)
    assert f"plugin strategy {NAME}: panic in {function}" in message, message
    assert f"panic_at_bar {bar}" in message, message
    # Still alive, and the same library runs cleanly afterwards.
    assert_same_run(builtin, run_plugin(eurusd, plugins["ok"], PARAMS, settings))


@pytest.mark.parametrize("function", ["create", "init"])
def test_a_panic_before_the_first_bar_is_a_plugin_error(plugins, eurusd, function):
    with pytest.raises(PluginError, match=f"panic in {function}: test hook"):
        run_plugin(eurusd, plugins["ok"], {"panic_in": function}, settings_for(eurusd))


def test_a_library_without_the_plugin_symbol_is_refused(eurusd):
    from omega import _core

    # The core extension itself: a real shared library, but no strategy plugin.
    with pytest.raises(PluginError, match="no symbol omega_strategy_plugin_v3"):
        run_plugin(eurusd, _core.__file__, {}, settings_for(eurusd))


def test_a_file_that_is_not_a_library_is_refused(tmp_path, eurusd):
    fake = tmp_path / "libfake.so"
    fake.write_text("not an ELF file\n")
    with pytest.raises(PluginError, match="cannot load the library"):
        run_plugin(eurusd, fake, {}, settings_for(eurusd))
    with pytest.raises(PluginError, match="no such file"):
        run_plugin(eurusd, tmp_path / "missing.so", {}, settings_for(eurusd))


def test_the_strategy_s_own_errors_stay_strategy_errors(plugins, eurusd):
    settings = settings_for(eurusd)
    with pytest.raises(StrategyError, match=r"lookback.*5") as caught:
        run_plugin(eurusd, plugins["ok"], {"lookback": 4}, settings)
    assert not isinstance(caught.value, PluginError)
    # An error the strategy reports from `indicators` (through take_error).
    with pytest.raises(StrategyError, match="must be coarser than the primary timeframe"):
        run_plugin(eurusd, plugins["ok"], {"trend_timeframe": "M5"}, settings)


def test_a_config_naming_a_plugin_runs_in_rust_mode_through_it(plugins, eurusd):
    from omega.config import BacktestConfig
    from omega.runner import run_backtest

    base = {"strategy": {"name": NAME, "params": PARAMS}}
    builtin = run_backtest(BacktestConfig.from_dict(base), bars=eurusd, env={})
    plugged = {"strategy": {**base["strategy"], "plugin": str(plugins["ok"])}}
    result = run_backtest(BacktestConfig.from_dict(plugged), bars=eurusd, env={})
    assert (builtin.mode, result.mode) == ("rust", "rust")
    assert "strategy.plugin" in result.mode_reason
    assert_same_run(builtin.raw, result.raw)
    # A plugin failure is not hidden by a fallback to the python engine.
    broken = {"strategy": {**plugged["strategy"], "plugin": str(plugins["abi_mismatch"])}}
    with pytest.raises(PluginError, match="ABI version mismatch"):
        run_backtest(BacktestConfig.from_dict(broken), bars=eurusd, env={})
    with pytest.raises(ConfigError, match=r"engine: python conflicts with strategy\.plugin"):
        BacktestConfig.from_dict({**plugged, "engine": "python"})


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_plugin_streamed_bar_by_bar_trades_like_its_backtest(plugins, eurusd, case):
    from omega.stream import StreamSession

    params, changes = CASES[case]
    settings = settings_for(eurusd, **changes)
    session = StreamSession(plugin=plugins["ok"], params=params, settings=settings)
    half = len(eurusd) // 2
    session.push_bars(eurusd.slice(0, half))
    session.push_bars(eurusd.slice(half, len(eurusd)))
    assert_same_run(session.finish(), run_plugin(eurusd, plugins["ok"], params, settings))


def test_a_stream_refuses_a_bad_plugin_as_a_backtest_does(plugins, eurusd):
    from omega.stream import StreamSession

    with pytest.raises(PluginError, match="ABI version mismatch"):
        StreamSession(plugin=plugins["abi_mismatch"], settings=settings_for(eurusd))
    with pytest.raises(ConfigError, match="not both"):
        StreamSession(NAME, plugin=plugins["ok"])

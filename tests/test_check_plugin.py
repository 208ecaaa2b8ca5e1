"""The parity kit: ``omega check-plugin`` / `omega.plugin_check.check_plugin` on the example
plugin examples/plugin_hull_keltner (its own Hull MA and Keltner band, Indicator trait) and its
Python twin examples/hull_keltner.py (register_indicator kinds).

The plugin matches its twin on every default case and, run directly, on M1, M5 and M15
primaries with the several-actions-per-bar path (break-even then an ATR trailing stop in one
bar) exercised through the ABI; a twin with one changed threshold is caught at the first bar
where the decisions part; the command's exit codes are 0, 1 and 2.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _rust_helpers import assert_same_run
from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings
from omega.plugin_check import DEFAULT_CASES, check_plugin, load_twin
from omega.timeframes import Timeframe

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.engine.loop import run_python
from omega.engine.plugin import run_plugin

REPO_ROOT = Path(__file__).resolve().parent.parent
CRATE = REPO_ROOT / "examples" / "plugin_hull_keltner"
TWIN = f"{REPO_ROOT / 'examples' / 'hull_keltner.py'}:HullKeltner"
N_BARS = 20_000


@pytest.fixture(scope="session")
def plugin(tmp_path_factory) -> Path:
    """The example plugin built as tests/test_plugins.py builds its plugin (dev profile, the
    shared target dir), copied so a rebuild never touches the loaded file."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo not found: cannot build the example plugin")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    command = [cargo, "build", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml")]
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    built = target / "debug" / "libomega_plugin_hull_keltner.so"
    assert built.is_file(), f"cargo built no {built}"
    copy = tmp_path_factory.mktemp("hk") / "libhull_keltner.so"
    shutil.copyfile(built, copy)
    return copy


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=N_BARS, seed=11, symbol="EURUSD")


@pytest.fixture(scope="module")
def twin():
    return load_twin(TWIN)


@pytest.fixture(scope="module")
def wrong_twin(twin):
    class WrongBreakEven(twin):
        """The twin with one threshold changed: break-even from 1.25 ATRs instead of 1."""

        class Params(twin.Params):
            be_atr: float = 1.25

    return WrongBreakEven


@pytest.mark.parametrize("primary", [Timeframe.M1, Timeframe.M5, Timeframe.M15])
def test_the_plugin_trades_exactly_like_its_twin_on_each_primary(plugin, twin, bars, primary):
    settings = replace(
        EngineSettings(instrument=bars.instrument), primary_timeframe=primary, timeframes=(primary,)
    )
    got = run_plugin(bars, plugin, {}, settings, trace=True)
    want = run_python(bars, twin({}), settings, trace=True)
    assert want.n_trades > 20, "the strategy must trade for the comparison to mean much"
    assert_same_run(got, want, trace=True)
    events = {row["event"] for row in got.trace}
    # several actions in one bar went through the ABI, and the ATR trailing stop moved
    assert any("break_even|trail_stop" in e for e in events), sorted(events)
    assert any("partial_queued" in e for e in events), sorted(events)
    # the custom indicators were computed on this primary: warm-up NaN, then values
    hull = [row["hull"] for row in got.trace]
    assert hull[0] != hull[0] and hull[-1] == hull[-1]


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic", "finer"])
def test_pending_limit_entries_and_manage_order_cross_the_abi_exactly(plugin, twin, bars, policy):
    """ABI 3: limit entries (price, expiry) and manage_order's cancels, under each intrabar
    policy, in a session (the slice's flag crosses too), plugin against twin."""
    from omega.engine.settings import SessionSettings

    settings = replace(
        EngineSettings(instrument=bars.instrument),
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5,),
        intrabar_policy=policy,
        session=SessionSettings(timezone="Europe/London", start="07:00", end="20:00"),
    )
    params = {"pullback_atr": 0.5, "order_bars": 6}
    got = run_plugin(bars, plugin, params, settings, trace=True)
    want = run_python(bars, twin(params), settings, trace=True)
    assert want.n_trades > 10
    assert_same_run(got, want, trace=True)
    events = "|".join(row["event"] for row in got.trace)
    for event in ("order_cancelled", "order_expired", "order_replaced"):
        assert event in events, event
    reasons = {s.reason for s in got.skipped_orders}
    assert {"cancelled", "expired"} <= reasons, reasons


def test_check_plugin_passes_the_example_on_every_case(plugin, bars):
    report = check_plugin(plugin, TWIN, bars=bars)
    assert [r.case for r in report.results] == list(DEFAULT_CASES)
    assert report.ok, [(r.case.name, r.difference) for r in report.failures]
    assert report.plugin_strategy == "hull_keltner"
    for r in report.results:
        assert r.trades > 10 and r.decisions > r.trades, r
        minutes = r.case.primary.seconds // 60  # a bar per started period (gaps add some)
        assert N_BARS // minutes <= r.bars <= N_BARS // minutes + 20, r
    primaries = {r.case.primary for r in report.results}
    assert primaries == {Timeframe.M1, Timeframe.M5, Timeframe.M15}
    assert {r.case.intrabar_policy for r in report.results} == {
        "pessimistic",
        "optimistic",
        "finer",
    }
    assert {r.case.sizing.mode for r in report.results} == {"fixed", "risk_percent"}
    assert {r.case.slippage.model != "none" for r in report.results} == {True, False}
    assert any(r.case.extra_timeframes == (Timeframe.H1,) for r in report.results)


def test_a_wrong_twin_is_caught_at_the_first_differing_bar(plugin, twin, wrong_twin, bars):
    case = DEFAULT_CASES[3]  # M5, pessimistic, risk-percent sizing
    report = check_plugin(plugin, wrong_twin, bars=bars, cases=[case])
    assert not report.ok
    (result,) = report.failures
    d = result.difference
    assert d is not None and d.what == "trace"
    # where the decisions first part, found by walking both traces here
    settings = case.settings(bars)
    ref = run_plugin(bars, plugin, {}, settings, trace=True).trace
    other = run_python(bars, wrong_twin({}), settings, trace=True).trace
    first = next(i for i, (a, b) in enumerate(zip(ref, other, strict=True)) if not _same_row(a, b))
    assert d.index == first and d.time == ref[first]["time"]
    assert d.fields == ("event",)
    assert "break_even" in ref[first]["event"] and "break_even" not in other[first]["event"]
    assert [r["index"] for r in d.plugin_rows] == list(range(first - 3, first + 4))
    assert all(map(_same_row, d.plugin_rows, ref[first - 3 : first + 4]))
    assert all(map(_same_row, d.twin_rows, other[first - 3 : first + 4]))
    # what matched before it: the decisions of the earlier bars
    assert result.decisions == sum(1 for r in ref[:first] if r["event"] != "none")
    # the right twin on the same case matches
    assert check_plugin(plugin, twin, bars=bars, cases=[case]).ok


def _same_row(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(
        a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        for k in a
    )


def _cli(*args: str):
    from omega.cli import app

    return CliRunner().invoke(app, list(args))


def test_the_command_exits_0_when_everything_matches(plugin):
    done = _cli("check-plugin", str(plugin), "--twin", TWIN, "--bars", "6000")
    assert done.exit_code == 0, done.output
    assert "OK: 8 cases" in done.output
    assert "M15+H1" in done.output and done.output.count("match") >= 8


def test_the_command_exits_1_and_shows_the_first_difference(plugin, tmp_path):
    module = tmp_path / "wrong_twin.py"
    module.write_text(
        "from omega.plugin_check import load_twin\n"
        f"Base = load_twin({TWIN!r})\n\n\n"
        "class Wrong(Base):\n"
        "    class Params(Base.Params):\n"
        "        stop_atr: float = 2.5\n"
    )
    done = _cli(
        "check-plugin", str(plugin), "--twin", f"{module}:Wrong", "--bars", "6000", "--params",
        '{"hull_period": 16}',
    )  # fmt: skip
    assert done.exit_code == 1, done.output
    assert "first difference" in done.output and "MISMATCH" in done.output
    assert "plugin" in done.output and "twin" in done.output


def test_the_command_exits_2_on_load_and_usage_errors(plugin, tmp_path):
    fake = tmp_path / "libfake.so"
    fake.write_text("not a library\n")
    done = _cli("check-plugin", str(fake), "--twin", TWIN)
    assert done.exit_code == 2 and "PluginError" in done.output, done.output
    done = _cli("check-plugin", str(tmp_path / "missing.so"), "--twin", TWIN)
    assert done.exit_code == 2 and "PluginError" in done.output, done.output
    done = _cli("check-plugin", str(plugin), "--twin", "no_such_module_xyz:Twin")
    assert done.exit_code == 2 and "ConfigError" in done.output, done.output
    done = _cli("check-plugin", str(plugin), "--twin", f"{TWIN[: -len('HullKeltner')]}Nope")
    assert done.exit_code == 2 and "not an omega Strategy" in done.output, done.output
    done = _cli("check-plugin", str(plugin), "--twin", TWIN, "--params", "{nope")
    assert done.exit_code == 2 and "--params" in done.output, done.output
    done = _cli("check-plugin", str(plugin), "--twin", TWIN, "--params", '{"hull_period": 1}')
    assert done.exit_code == 2 and "StrategyError" in done.output, done.output

"""Bias checks of a strategy plugin: the example plugin examples/plugin_hull_keltner (built
as tests/test_check_plugin.py builds it) passes look-ahead, warm-up and the stream session
check, with its decision trace (events and the values it records) compared bar by bar; its
declared indicators are not visible through the plugin ABI, which the report says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from omega.bias import check_bias
from omega.config import BacktestConfig
from omega.data import generate_synthetic

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

REPO_ROOT = Path(__file__).resolve().parent.parent
CRATE = REPO_ROOT / "examples" / "plugin_hull_keltner"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """The example plugin (dev profile, the shared target dir), copied so that a rebuild
    never touches the loaded file."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo not found: cannot build the example plugin")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    command = [cargo, "build", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml")]
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    built = target / "debug" / "libomega_plugin_hull_keltner.so"
    copy = tmp_path_factory.mktemp("bias_plugin") / "libhull_keltner.so"
    shutil.copyfile(built, copy)
    return copy


def test_the_example_plugin_passes_every_check(plugin):
    bars = generate_synthetic(n_bars=20_000, seed=11, symbol="EURUSD")
    config = BacktestConfig.from_dict(
        {"strategy": {"plugin": str(plugin)}, "timeframes": {"primary": "M5", "extra": []}}
    )
    report = check_bias(config, bars=bars, cuts=3, offsets=2)
    assert report.ok, report.problems
    assert report.subject == f"plugin {plugin} (rust mode)"
    look = report.lookahead
    assert look.indicators == [] and look.decisions_compared > 0  # the trace only
    warm = report.warmup
    assert warm.declared is None and warm.needed is None  # not visible through the ABI
    assert any(c.name.startswith("recorded ") for c in warm.runs[0].series)
    stream = report.stream
    assert stream.skipped == "" and stream.bars == report.primary_bars == 4_000
    assert stream.trades > 0


def test_the_example_plugin_passes_every_check_on_a_basket(plugin):
    """A basket of the plugin (an instance per instrument, a cross among them): each
    instrument's trace compared before every cut and after every later start, and the
    basket stream session against the batch basket."""
    config = BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 6_000, "seed": 11}},
            "strategy": {"plugin": str(plugin)},
            "timeframes": {"primary": "M5", "extra": []},
            "instruments": [{"symbol": "EURUSD"}, {"symbol": "GBPUSD"}, {"symbol": "EURGBP"}],
        }
    )
    report = check_bias(config, cuts=3, offsets=2)
    assert report.ok, report.problems
    assert report.subject == f"plugin {plugin} on 3 instruments (rust mode)"
    look = report.lookahead
    assert look.indicators == [] and look.decisions_compared > 0
    warm = report.warmup
    assert list(warm.instruments) == ["EURUSD", "GBPUSD", "EURGBP"]
    assert all(part.needed is None and len(part.runs) == 2 for part in warm.instruments.values())
    stream = report.stream
    assert stream.skipped == "" and stream.instruments == 3
    assert stream.bars == 3 * 1_200 and stream.trades > 0

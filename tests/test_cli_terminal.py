"""The omega commands in a pseudo-terminal, where rich draws progress bars.

CliRunner and captured subprocesses are no terminal, so rich skips the progress display there;
these tests run the real script under a pty (pexpect) as a user's shell would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect", reason="pexpect (the test extra) runs commands in a pty")

REPO = Path(__file__).resolve().parent.parent
SMALL = ["--set", "data.synthetic.n_bars=20000"]

MT5 = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n" + "".join(
    f"2024.02.01\t{h:02d}:{m:02d}:00\t1.1\t1.2\t1.0\t1.1\t1\t0\t2\n"
    for h in range(3)
    for m in range(60)
)


def _run_in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``python -m omega.cli ARGS`` in a pty; its exit status and everything it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMEGA_")}
    env.update(TERM="xterm-256color", COLUMNS="120")
    env.pop("NO_COLOR", None)
    env.pop("TERM_PROGRAM", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "omega.cli", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=300,
        dimensions=(40, 120),
    )
    output = child.read()  # until EOF
    child.close()
    assert child.exitstatus is not None, f"killed by signal {child.signalstatus}: {output}"
    return child.exitstatus, output


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    data = tmp_path / "bars.csv"
    data.write_text(MT5)
    return {
        "backtest": ["backtest", "--out", str(tmp_path / "bt"), *SMALL],
        "sweep": ["sweep", "--grid", "lookback=50,80", "--out", str(tmp_path / "sw"), *SMALL],
        "validate-data": ["validate-data", str(data), "--format", "mt5", "--tz", "EET"],
    }


@pytest.mark.parametrize("command", ["backtest", "sweep", "validate-data"])
@pytest.mark.parametrize("progress", [True, False], ids=["progress", "no-progress"])
def test_regression_progress_total_none_crashes_in_terminal(tmp_path, command, progress):
    """In a terminal the progress column formatted ``{task.total:,}`` with total=None: every
    backtest and sweep exited 1 with a TypeError before any output."""
    args = _commands(tmp_path)[command]
    if command != "validate-data":
        args.append("--progress" if progress else "--no-progress")
    elif not progress:
        args.append("--no-progress")
    status, output = _run_in_terminal(args, tmp_path)
    assert "Traceback" not in output, output
    assert "NoneType.__format__" not in output, output
    assert status == 0, output
    expected = {"backtest": "Wrote ", "sweep": "Wrote ", "validate-data": "OK"}[command]
    assert expected in output, output
    # rich draws each stage at least once when it is added; --no-progress draws nothing.
    stages = STAGES[command]
    if progress:
        for stage in stages:
            assert stage in output, (stage, output)
    else:
        assert not any(stage in output for stage in stages), output
        assert HIDE_CURSOR not in output, output


HIDE_CURSOR = "\x1b[?25l"  # rich's live display hides the cursor while it draws
STAGES = {
    "backtest": ["generating synthetic bars", "writing "],
    "sweep": ["generating synthetic bars", "0/2 sets"],
    "validate-data": ["loading "],
}


def test_progress_count_text_with_and_without_a_total():
    from omega.cli import _count_text

    assert _count_text(0, None, "bars") == ""  # a spinner stage before any count
    assert _count_text(4096, None, "bars") == "4,096 bars"
    assert _count_text(16384, 200000, "bars") == "16,384/200,000 bars"
    assert _count_text(1, 2.0, "sets") == "1/2 sets"


def test_python_engine_draws_a_bar_with_its_total(tmp_path):
    """Enough bars that the Python engine reports progress (every 4,096 primary bars) while
    rich redraws (ten times a second): at least one ``done/total bars`` frame is drawn."""
    args = ["backtest", "--engine", "python", "--set", "timeframes.primary=M1"]
    args += ["--set", "timeframes.extra=[]", "--set", "data.synthetic.n_bars=400000"]
    status, output = _run_in_terminal([*args, "--out", str(tmp_path / "o")], tmp_path)
    assert status == 0, output
    assert "/400,000 bars" in output, output

"""examples/walk_forward.py runs as documented (small data), and its numbers hang together."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("omega._core", reason="the example runs the Rust sweep")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "walk_forward.py"


def test_example_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("walk_forward_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = ["--bars", "60000", "--train", "3W", "--test", "1W", "--out", str(tmp_path)]
    if importlib.util.find_spec("matplotlib") is not None:
        args += ["--figure", str(tmp_path / "fig.png")]
    found = module.main(args)
    printed = capsys.readouterr().out
    assert "walk-forward efficiency" in printed and "PBO" in printed
    assert found["page"].is_file()
    assert len(found["cv"].paths) == 5  # phi(6, 2)
    assert found["pbo"].n_combinations == 70  # C(8, 4)
    assert found["mc"].n_trades == len(found["wf"].trades)
    assert type(found["nb"].best["lookback"]) is int
    if "--figure" in args:
        assert (tmp_path / "fig.png").stat().st_size > 10_000

"""`python -m omega.bench.compare`: both sides run in their own interpreter, alternating, and
a speed ratio is printed only next to the proof that both traded alike."""

from __future__ import annotations

import sys

import pytest

from omega.bench import compare


def test_comparing_an_installation_with_itself_reports_equal_trades(tmp_path, capsys) -> None:
    args = ["--other", sys.executable, "--bars", "3000", "--repeat", "1", "--rounds", "1"]
    status = compare.main([*args, "--cache", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    assert [row.split()[0] for row in rows] == ["sma_cross", "zscore_threshold", "mean_reversion"]
    assert not any("DIFFER" in row for row in rows)


def test_different_trades_are_flagged_and_fail(monkeypatch, tmp_path, capsys) -> None:
    def fake_run(python, args, mode):
        trades = 2 if python == "other-python" else 1
        return {
            name: {"seconds": 0.5, "trades": trades, "final_balance": 1.0}
            for name in compare.WORKLOADS
        }

    monkeypatch.setattr(compare, "_run", fake_run)
    status = compare.main(["--other", "other-python", "--rounds", "2", "--cache", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert out.count("DIFFER") == len(compare.WORKLOADS)
    assert "1.000" in out  # equal times: ratio 1


def test_other_is_required() -> None:
    with pytest.raises(SystemExit):
        compare.main([])

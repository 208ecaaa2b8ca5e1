"""The tools behind the golden files and the parity session: writing golden files, the
differences `compare_golden` reports (which field, which trade row and cell), and
`python -m omega.parity` end to end on a few seeded configurations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from omega.parity import main as parity_main
from omega.parity import run_parity
from omega.results.golden import GoldenCase, compare_golden, write_golden
from omega.runner import run_backtest

CASE = GoldenCase(
    name="tiny",
    description="a short synthetic run that trades",
    overrides=["data.synthetic.n_bars=6000", "engine=python", "strategy.params.z_entry=1.5"],
)


@pytest.fixture(scope="module")
def tiny_result():
    result = run_backtest(CASE.config(Path("."), None))
    assert result.raw.n_trades >= 2  # the differences below need trades
    return result


def test_written_golden_files_compare_clean(tmp_path, tiny_result):
    write_golden(tmp_path, CASE, tiny_result)
    record = json.loads((tmp_path / "tiny.json").read_text())
    assert record["n_trades"] == tiny_result.raw.n_trades
    assert compare_golden(tmp_path, CASE, tiny_result) == []


def test_a_changed_cell_is_reported_with_its_row_and_column(tmp_path, tiny_result):
    write_golden(tmp_path, CASE, tiny_result)
    trades = tmp_path / "tiny.trades.csv"
    lines = trades.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    column = header.index("exit_price")
    cells[column] = "0.5"
    lines[2] = ",".join(cells)
    trades.write_text("\n".join(lines) + "\n")
    problems = compare_golden(tmp_path, CASE, tiny_result)
    n = tiny_result.raw.n_trades
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"first differing trade: row 2 (of {n} expected, {n} got): ")
    assert "exit_price: 0.5 != " in problems[0]
    assert problems[0].count("!=") == 1  # only the changed cell


def test_a_shorter_trade_list_and_changed_counts_and_metrics_are_named(tmp_path, tiny_result):
    write_golden(tmp_path, CASE, tiny_result)
    trades = tmp_path / "tiny.trades.csv"
    lines = trades.read_text().splitlines()
    trades.write_text("\n".join(lines[:-1]) + "\n")
    record_path = tmp_path / "tiny.json"
    record = json.loads(record_path.read_text())
    record["n_trades"] += 1
    metric = next(iter(record["metrics"]))
    record["metrics"][metric] = "changed"
    record_path.write_text(json.dumps(record))
    problems = compare_golden(tmp_path, CASE, tiny_result)
    n = tiny_result.raw.n_trades
    assert f"n_trades: expected {n + 1!r}, got {n!r}" in problems
    assert f"trade lists agree on {n - 1} rows, then differ in length" in problems
    assert any(p.startswith(f"metrics.{metric}: expected 'changed', got ") for p in problems)


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("omega._core") is None,
    reason="omega._core is not built: parity needs two engines",
)
def test_parity_main_exits_0_without_mismatches(monkeypatch):
    monkeypatch.setenv("OMEGA_REAL_DATA", "/nonexistent")  # synthetic only: fast and anywhere
    assert parity_main(["--count", "3", "--bars", "3000", "--real-count", "0"]) == 0


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("omega._core") is None,
    reason="omega._core is not built: parity needs two engines",
)
def test_parity_reports_each_mismatch(monkeypatch):
    """A runner that changes one mode's trades must be reported: the comparison can fail."""
    import omega.parity as parity

    original = parity.run_case

    def tampered(case, bars, modes, runners):
        runs, found = original(case, bars, modes, runners)
        return runs, [
            *found,
            parity.Mismatch(case, (modes[0], modes[-1]), "injected difference", None),
        ]

    monkeypatch.setattr(parity, "run_case", tampered)
    out = io.StringIO()
    count, _, mismatches = run_parity(2, 0, 3000, parity.available_modes(), out=out)
    assert count == 2 and len(mismatches) == 2
    assert "2 mismatches" in out.getvalue()
    monkeypatch.setenv("OMEGA_REAL_DATA", "/nonexistent")
    assert parity_main(["--count", "1", "--bars", "3000", "--real-count", "0"]) == 1

"""`python -m omega.bench --quick --peers` end to end at tiny sizes: every table the bench
prints (modes, tracemalloc, peers with their trade comparison, the CLI process, the sweep,
import and loading, goals) comes out of one run, each measurement in its own process. No
timing is asserted; the peers must trade exactly like Omega where the rules match."""

from __future__ import annotations

import importlib.util
import json

import pytest

from omega.bench import cli

PEER_MODULES = ("backtesting", "vectorbt", "vectorbt_rust", "raptorbt", "talib")
MISSING = [m for m in PEER_MODULES if importlib.util.find_spec(m) is None]


def _core_available() -> bool:
    return importlib.util.find_spec("omega._core") is not None


@pytest.mark.skipif(not _core_available(), reason="omega._core is not built")
@pytest.mark.skipif(bool(MISSING), reason=f"peers not installed: {', '.join(MISSING)}")
def test_a_quick_run_with_peers_prints_every_table_and_peers_trade_like_omega(tmp_path, capsys):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    argv = ["--quick", "--peers", "--modes", "rust", "--cache-dir", str(tmp_path / "cache"),
            "--json", str(out_json), "--markdown", str(out_md)]  # fmt: skip
    status = cli.main(argv)
    text = capsys.readouterr().out
    assert status == 0, text
    for heading in (
        "### mean_reversion, 3,000 M1 bars: omega.run_backtest per mode",
        "### tracemalloc peak (Python allocations), mean_reversion 3,000",
        "### peers: sma_cross, 3,000 M1 bars",
        "### peers: zscore_threshold, 3,000 M1 bars",
        "### omega backtest as a fresh process, next to import pandas",
        "### parameter sweep: sma_cross, 210 sets",
        "### import and loading (best of several runs)",
        "### goals",
    ):
        assert heading in text, heading
    assert out_md.read_text().strip() == text.strip()
    figures = json.loads(out_json.read_text())
    rows = {(r["workload"], r["engine"]): r for r in figures["rows"]}
    for workload in ("sma_cross", "zscore_threshold"):
        for peer in cli.PEER_ORDER:
            row = rows[(workload, peer)]
            assert row["error"] == "", (peer, row["error"])
            assert row["data"]["seconds"] > 0
    # vectorbt and backtesting.py express both workloads exactly: their trades are compared
    # with Omega's and must be identical (a difference prints a "no (below)" cell).
    assert "no (below)" not in text
    assert text.count("identical") >= 4
    omega_sweep, vbt_sweep = figures["sweep"]
    assert omega_sweep["sets"] == vbt_sweep["sets"] == 210
    assert omega_sweep["trades"] == vbt_sweep["trades"]
    assert figures["cli"]["cli_median"] > 0
    assert figures["micro"]["parquet"]["rows"] == 3_000

"""The basket benchmark (omega.bench.basket) on a tiny basket: its output's shape and the
trade check across modes (no timing assertions)."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from omega.bench import basket as bench
from omega.data.synthetic import CURRENCY_START_USD


def _core_available() -> bool:
    try:
        import omega._core  # noqa: F401
    except ImportError:
        return False
    return True


needs_core = pytest.mark.skipif(not _core_available(), reason="omega._core is not built")


def test_the_basket_is_every_pair_of_the_eight_currencies_majors_first():
    symbols = bench.basket_symbols()
    assert len(symbols) == len(set(symbols)) == 28  # C(8, 2)
    pairs = {frozenset((s[:3], s[3:])) for s in symbols}
    assert len(pairs) == 28
    assert all(c in CURRENCY_START_USD for pair in pairs for c in pair)
    # Each currency against each of the seven others.
    assert Counter(c for s in symbols for c in (s[:3], s[3:])) == dict.fromkeys(
        CURRENCY_START_USD, 7
    )
    assert symbols[:7] == ["EURUSD", "GBPUSD", "AUDUSD", "NZDUSD", "USDCAD", "USDCHF", "USDJPY"]
    assert {"EURGBP", "EURJPY", "GBPJPY", "AUDNZD", "CHFJPY"} <= set(symbols)


def test_single_runs_of_a_cross_convert_at_the_basket_pair_first_close(tmp_path):
    symbols = ["EURUSD", "GBPUSD", "EURGBP"]
    config = bench.basket_config("sma_cross", symbols, 500, "rust")
    folder = bench.ensure_basket_input(tmp_path, symbols, 500)
    bars = bench.load_basket_input(folder, config)
    singles = bench.single_configs(config, bars)
    assert [m.instrument.symbol for m in singles] == symbols
    assert singles[0].account.conversion is None and singles[1].account.conversion is None
    conversion = singles[2].account.conversion
    assert conversion.symbol == "GBPUSD"
    assert conversion.rate == float(bars["GBPUSD"].bid_close[0])
    assert bars["EURGBP"].instrument.pip_size == 0.0001


@needs_core
def test_tiny_basket_prints_every_table_and_the_modes_trade_alike(tmp_path, capsys):
    out = tmp_path / "basket.json"
    args = "--symbols EURUSD GBPUSD EURGBP USDJPY --bars 3000 --rounds 2 --workloads sma_cross"
    args += f" --check-bars 2000 --cache {tmp_path} --json {out}"
    status = bench.main(args.split())
    printed = capsys.readouterr().out
    assert status == 0
    for call in (bench.BASKET_CALL, bench.BASKET_ENGINE_CALL, "run_basket, engine: python"):
        assert call in printed
    assert "### targets" in printed

    figures = json.loads(out.read_text())
    assert figures["symbols"] == ["EURUSD", "GBPUSD", "EURGBP", "USDJPY"]
    run = figures["workloads"]["sma_cross"]
    assert run["bars"] == 4 * 3000
    timing = run["timing"]
    assert len(timing) == 4
    assert all(len(side["rounds"]) == 2 and side["seconds"] > 0 for side in timing.values())
    counts = {side["trades"] for side in timing.values()}
    assert len(counts) == 1 and counts.pop() > 0  # every side traded, the same count
    assert run["ratio"] > 0 and run["engine_ratio"] > 0
    memory = run["memory"]
    assert memory["basket"]["bars"] == 4 * 3000
    assert memory["basket"]["input_bytes"] == 4 * 3000 * 80  # ten 8-byte columns
    assert memory["basket"]["trades"] > 0 and memory["load"]["trades"] is None
    assert math.isfinite(memory["added_per_bar"])
    checked = run["modes"]["2000"]
    assert checked["identical"]
    assert checked["rust"]["trades"] > 0
    assert checked["python"]["trades"] == checked["hybrid"]["trades"] == checked["rust"]["trades"]
    # the portfolio strategy's table: its time in rust mode, its trades in every mode
    pairs = figures["workloads"]["pairs_zscore"]
    assert pairs["bars"] == 4 * 3000 and len(pairs["timing"]["rounds"]) == 2
    assert pairs["modes"]["2000"]["identical"]
    assert "pairs_zscore (a portfolio strategy)" in printed


def test_verdicts_judge_hand_made_figures():
    run = {"ratio": 1.4, "engine_ratio": 1.6, "memory": {"added_per_bar": 32.5},
           "modes": {"100": {"identical": True}, "200": {"identical": False}}}  # fmt: skip
    rows = bench.verdicts({"w": run}, 28)
    assert [r[2] for r in rows] == ["met", "MISSED", "MISSED", "met", "MISSED"]
    assert rows[0][0].startswith("w: run_basket / 28 run_backtest")

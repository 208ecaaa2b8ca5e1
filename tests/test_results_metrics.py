"""Metrics against values derived by hand from tiny equity curves and trade lists."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from omega.engine.raw import RawRun, SkippedOrder, empty_trades
from omega.results.metrics import SECONDS_PER_YEAR, compute_metrics

DAY_NS = 86_400 * 1_000_000_000


def make_raw(equity, trades=None, final=None, skipped=(), step_ns=DAY_NS):
    n = len(equity)
    return RawRun(
        trades=trades if trades is not None else empty_trades(),
        equity_time=np.arange(n, dtype=np.int64) * step_ns,
        equity=np.array(equity, dtype=np.float64),
        final_balance=float(equity[-1] if final is None else final),
        bars_processed=n,
        base_bars=n * 1440,
        skipped_orders=list(skipped),
    )


def three_trades():
    trades = empty_trades()
    trades.update(
        side=np.array([1, 1, -1], dtype=np.int8),
        pnl=np.array([30.0, -10.0, 5.0]),
        fees=np.array([0.0, 1.0, 1.0]),
        bars_held=np.array([2, 3, 1], dtype=np.int64),
        exit_reason=np.array(["partial", "stop_loss", "take_profit"], dtype=object),
    )
    return trades


def test_drawdown_return_and_ratios_by_hand():
    equity = [1010.0, 990.0, 1000.0, 1030.0, 1020.0]
    m = compute_metrics(make_raw(equity), initial_balance=1000.0, timeframe_ns=DAY_NS)
    assert m["net_profit"] == 20.0
    assert m["return_pct"] == 2.0
    # Peak 1010 at bar 0; the deepest point 990 is 20 below it.
    assert m["max_drawdown"] == 20.0
    assert m["max_drawdown_pct"] == 20.0 / 1010.0 * 100.0
    # Longest run below the peak: bars 1..2 (2 bars), from bar 0's close (day 1) to bar 2's
    # close (day 3) = 2 days. The run at bar 4 is only 1 bar.
    assert m["max_drawdown_duration_bars"] == 2
    assert m["max_drawdown_duration_seconds"] == 2 * 86_400.0
    # Five daily bars span five days.
    years = 5 * 86_400.0 / SECONDS_PER_YEAR
    assert m["span_days"] == 5.0
    assert m["cagr"] == pytest.approx(1.02 ** (1 / years) - 1, rel=1e-12)
    returns = [1010 / 1000 - 1, 990 / 1010 - 1, 1000 / 990 - 1, 1030 / 1000 - 1, 1020 / 1030 - 1]
    scale = math.sqrt(5 / years)
    sharpe = statistics.mean(returns) / statistics.stdev(returns) * scale
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / 5)
    assert m["sharpe"] == pytest.approx(sharpe, rel=1e-12)
    assert m["sortino"] == pytest.approx(statistics.mean(returns) / downside * scale, rel=1e-12)


def test_drawdown_from_the_first_bar_starts_at_the_first_open():
    m = compute_metrics(make_raw([990.0, 980.0, 1005.0]), 1000.0, DAY_NS)
    assert m["max_drawdown"] == 20.0
    assert m["max_drawdown_duration_bars"] == 2
    # Peak = the initial balance, dated at the first bar's open (day 0); run ends at bar 1's
    # close (day 2).
    assert m["max_drawdown_duration_seconds"] == 2 * 86_400.0


def test_a_drawdown_still_open_at_the_end_counts_to_the_last_bar():
    m = compute_metrics(make_raw([1000.0, 1100.0, 1050.0, 1040.0, 1060.0]), 1000.0, DAY_NS)
    assert m["max_drawdown"] == 60.0
    assert m["max_drawdown_duration_bars"] == 3
    assert m["max_drawdown_duration_seconds"] == 3 * 86_400.0


def test_trade_statistics_by_hand():
    raw = make_raw([1000.0, 1010.0, 1020.0, 1015.0, 1025.0], trades=three_trades())
    m = compute_metrics(raw, 1000.0, DAY_NS)
    assert m["n_trades"] == 3
    assert (m["n_long"], m["n_short"]) == (2, 1)
    assert (m["n_wins"], m["n_losses"]) == (2, 1)
    assert m["win_rate"] == 2 / 3
    assert m["gross_profit"] == 35.0
    assert m["gross_loss"] == 10.0
    assert m["profit_factor"] == 3.5
    assert m["expectancy"] == 25.0 / 3
    assert m["avg_win"] == 17.5
    assert m["avg_loss"] == -10.0
    assert m["largest_win"] == 30.0
    assert m["largest_loss"] == -10.0
    assert m["total_fees"] == 2.0
    # The partial row's bars_held is not a separate stretch in the market: (3 + 1) / 5 bars.
    assert m["exposure"] == 0.8
    assert m["avg_bars_held"] == 2.0
    assert m["exit_reasons"] == {"partial": 1, "stop_loss": 1, "take_profit": 1}


def test_no_trades_gives_undefined_ratios_not_zeros():
    m = compute_metrics(make_raw([1000.0, 1000.0, 1000.0]), 1000.0, DAY_NS)
    assert m["n_trades"] == 0
    assert m["exposure"] == 0.0
    for key in ("win_rate", "profit_factor", "expectancy", "sharpe", "sortino"):
        assert math.isnan(m[key]), key
    assert m["max_drawdown"] == 0.0
    assert m["max_drawdown_duration_bars"] == 0


def test_only_winners_give_an_infinite_profit_factor():
    trades = empty_trades()
    trades.update(
        side=np.array([1], dtype=np.int8),
        pnl=np.array([5.0]),
        fees=np.array([0.0]),
        bars_held=np.array([1], dtype=np.int64),
        exit_reason=np.array(["take_profit"], dtype=object),
    )
    m = compute_metrics(make_raw([1000.0, 1005.0], trades=trades), 1000.0, DAY_NS)
    assert m["profit_factor"] == math.inf


def test_counters_come_from_the_raw_run():
    raw = make_raw([1000.0, 1001.0], skipped=[SkippedOrder(0, "below_min_lot")])
    raw.ignored_signals, raw.dropped_orders = 4, 1
    m = compute_metrics(raw, 1000.0, DAY_NS)
    assert (m["ignored_signals"], m["dropped_orders"], m["skipped_orders"]) == (4, 1, 1)
    assert (m["bars_processed"], m["base_bars"]) == (2, 2880)


def test_a_tiny_span_with_big_growth_gives_infinite_cagr_not_an_exception():
    minute = 60 * 1_000_000_000
    raw = make_raw([1000.0, 2000.0], step_ns=minute)
    m = compute_metrics(raw, 1000.0, minute)  # two minutes, doubled: 2 ** 262,980 overflows
    assert m["cagr"] == math.inf


def test_sums_are_exact_whatever_the_order():
    # Naive left-to-right summation loses the 1.0 (1e16 + 1.0 rounds back to 1e16).
    trades = empty_trades()
    trades.update(
        side=np.array([1, 1, 1], dtype=np.int8),
        pnl=np.array([1e16, 1.0, -1e16]),
        fees=np.array([0.0, 0.0, 0.0]),
        bars_held=np.array([1, 1, 1], dtype=np.int64),
        exit_reason=np.array(["strategy"] * 3, dtype=object),
    )
    m = compute_metrics(make_raw([1000.0, 1000.0, 1000.0], trades=trades), 1000.0, DAY_NS)
    assert m["expectancy"] == 1.0 / 3.0
    assert m["gross_profit"] == 1e16 + 1.0

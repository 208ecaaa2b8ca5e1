"""result.stats: every statistic checked against values worked out by hand on tiny runs."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from omega.config import default_config
from omega.data.bars import BarSeries
from omega.engine.raw import TRADE_COLUMNS, RawRun, empty_trades
from omega.results import BacktestResult
from omega.results.stats import (
    STATS_GROUPS,
    STATS_LABELS,
    compute_stats,
    format_stat,
    summary_html,
    summary_text,
)
from omega.timeframes import Timeframe

DAY = 86_400 * 10**9
T0 = 1_704_067_200 * 10**9  # 2024-01-01 00:00 UTC
# Six daily bars; initial balance 100. Peaks: 100, 103, 103, 103, 104, 104, so three
# drawdowns: bar 0 (1 % below the initial 100), bars 2-3 (2/103 deepest), bar 5 (2/104).
EQUITY = [99.0, 103.0, 101.0, 102.0, 104.0, 102.0]


def _config():
    return default_config().apply_overrides(
        [
            "timeframes.primary=D1",
            "timeframes.extra=[]",
            "strategy.name=sma_cross",
            "strategy.params={}",
        ]
    )


def _trades(rows: list[dict]) -> dict[str, np.ndarray]:
    if not rows:
        return empty_trades()
    return {
        name: np.array([row[name] for row in rows], dtype=dtype)
        for name, dtype in TRADE_COLUMNS.items()
    }


def _trade(entry_day, exit_day, side, entry, exit_, pnl, bars_held, reason="strategy"):
    return {
        "entry_time": T0 + entry_day * DAY,
        "exit_time": T0 + exit_day * DAY,
        "entry_index": entry_day,
        "exit_index": exit_day,
        "side": side,
        "size": 0.1,
        "entry_price": entry,
        "exit_price": exit_,
        "sl": math.nan,
        "tp": math.nan,
        "exit_reason": reason,
        "gross_pnl": pnl + 2.0,
        "fees": 2.0,
        "swap": 0.0,
        "pnl": pnl,
        "bars_held": bars_held,
        "mfe": 0.0,
        "tag": "",
    }


TRADES = [
    # long 1.1000 -> 1.1110: +1 %, held 2 days (2 bar closes)
    _trade(1, 3, 1, 1.1000, 1.1110, 50.0, 2),
    # short 1.2000 -> 1.2120: -1 %, held 1 day
    _trade(4, 5, -1, 1.2000, 1.2120, -30.0, 1),
]


def _result(equity=EQUITY, trades=TRADES, initial=100.0) -> BacktestResult:
    raw = RawRun(
        trades=_trades(trades),
        equity_time=T0 + DAY * np.arange(len(equity), dtype=np.int64),
        equity=np.array(equity, dtype=np.float64),
        final_balance=equity[-1] if len(equity) else initial,
        bars_processed=len(equity),
        base_bars=len(equity),
    )
    return BacktestResult.from_raw(
        raw,
        initial_balance=initial,
        timeframe_ns=Timeframe.D1.nanos,
        mode="python",
        mode_reason="built by hand",
        config=_config(),
    )


@pytest.fixture(scope="module")
def stats() -> pd.Series:
    return compute_stats(_result())


def test_labels_and_groups_agree(stats):
    assert list(stats.index) == list(STATS_LABELS)
    grouped = [label for labels in STATS_GROUPS.values() for label in labels]
    assert len(grouped) == len(set(grouped)) == len(stats)
    assert list(STATS_GROUPS) == ["Period", "Returns", "Risk", "Trades", "Costs"]


def test_period(stats):
    assert stats["Start"] == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    # The last bar opens on Jan 6 and is marked at its close, Jan 7 00:00.
    assert stats["End"] == pd.Timestamp("2024-01-07 00:00", tz="UTC")
    assert stats["Duration"] == pd.Timedelta(days=6)
    assert stats["Bars"] == 6
    # 2 + 1 bar closes in the market out of 6.
    assert stats["Exposure Time [%]"] == 50.0


def test_returns(stats):
    assert stats["Account Currency"] == "USD"
    assert stats["Equity Start [$]"] == 100.0
    assert stats["Equity Final [$]"] == 102.0
    assert stats["Equity Peak [$]"] == 104.0
    assert stats["Return [%]"] == pytest.approx(2.0, rel=1e-12)
    # No input bars attached to this result: no prices, so no buy & hold.
    assert math.isnan(stats["Buy & Hold Return [%]"])
    years = 6 / 365.25
    assert stats["CAGR [%]"] == pytest.approx((1.02 ** (1 / years) - 1) * 100, rel=1e-12)


def test_annualised_return_and_volatility_use_per_bar_returns():
    stats = compute_stats(_result())
    previous = [100.0, *EQUITY[:-1]]
    returns = [e / p - 1 for e, p in zip(EQUITY, previous, strict=True)]
    periods_per_year = 6 / (6 / 365.25)  # six bars over six days: 365.25 a year
    expected_return = statistics.fmean(returns) * periods_per_year * 100
    expected_vol = statistics.stdev(returns) * math.sqrt(periods_per_year) * 100
    assert stats["Return (Ann.) [%]"] == pytest.approx(expected_return, rel=1e-12)
    assert stats["Volatility (Ann.) [%]"] == pytest.approx(expected_vol, rel=1e-12)
    # The Sharpe ratio is the metrics' own, and equals their ratio.
    assert stats["Sharpe Ratio"] == pytest.approx(expected_return / expected_vol, rel=1e-12)


def test_risk(stats):
    result = _result()
    assert stats["Sharpe Ratio"] == result.metrics["sharpe"]
    assert stats["Sortino Ratio"] == result.metrics["sortino"]
    assert stats["Max. Drawdown [%]"] == pytest.approx(200 / 103, rel=1e-12)
    assert stats["Avg. Drawdown [%]"] == pytest.approx((1.0 + 200 / 103 + 200 / 104) / 3)
    assert stats["Calmar Ratio"] == pytest.approx(stats["CAGR [%]"] / (200 / 103), rel=1e-12)
    # Bar 0: from the open of the first bar to its close (1 day); bars 2-3: from the close of
    # bar 1 (the 103 peak) to the close of bar 3 (2 days); bar 5: from the close of bar 4 (1 day).
    assert stats["Max. Drawdown Duration"] == pd.Timedelta(days=2)
    assert stats["Avg. Drawdown Duration"] == pd.Timedelta(days=4) / 3


def test_trades(stats):
    assert stats["# Trades"] == 2
    assert stats["Win Rate [%]"] == 50.0
    assert stats["Best Trade [%]"] == pytest.approx(1.0, rel=1e-9)
    assert stats["Worst Trade [%]"] == pytest.approx(-1.0, rel=1e-9)
    assert stats["Avg. Trade [%]"] == pytest.approx(0.0, abs=1e-9)
    assert stats["Max. Trade Duration"] == pd.Timedelta(days=2)
    assert stats["Avg. Trade Duration"] == pd.Timedelta(days=1.5)
    assert stats["Profit Factor"] == pytest.approx(50 / 30, rel=1e-15)
    assert stats["Expectancy [$]"] == 10.0
    # sqrt(2) * mean(50, -30) / stdev(50, -30) = sqrt(2) * 10 / (40 * sqrt(2))
    assert stats["SQN"] == pytest.approx(0.25, rel=1e-12)
    assert stats["Total Fees [$]"] == 4.0
    assert stats["Total Swap [$]"] == 0.0


def test_types_are_timestamps_timedeltas_and_percentages(stats):
    for label in ("Start", "End"):
        assert isinstance(stats[label], pd.Timestamp) and str(stats[label].tz) == "UTC"
    for label in STATS_LABELS:
        if "Duration" in label:
            assert isinstance(stats[label], pd.Timedelta), label


def test_buy_and_hold_uses_the_mid_close_of_the_first_and_last_primary_bar():
    result = _result()
    # Base bars every 6 hours: the first D1 bar closes with base bar 3 (18:00), the last with
    # base bar 23. Mid = bid + 0.0001 (ask = bid + 0.0002).
    n = 24
    bid = np.full(n, 1.0)
    bid[3], bid[23] = 1.2, 1.5
    result.bars = BarSeries(
        time=T0 + (DAY // 4) * np.arange(n, dtype=np.int64),
        bid_open=bid,
        bid_high=bid,
        bid_low=bid,
        bid_close=bid,
        ask_open=bid + 0.0002,
        ask_high=bid + 0.0002,
        ask_low=bid + 0.0002,
        ask_close=bid + 0.0002,
        volume=np.zeros(n),
    )
    stats = compute_stats(result)
    assert stats["Buy & Hold Return [%]"] == pytest.approx((1.5001 / 1.2001 - 1) * 100, rel=1e-12)


def test_no_trades_gives_nan_not_made_up_numbers():
    stats = compute_stats(_result(trades=[]))
    assert stats["# Trades"] == 0
    for label in ("Win Rate [%]", "Best Trade [%]", "Avg. Trade [%]", "SQN", "Expectancy [$]"):
        assert math.isnan(stats[label]), label
    assert stats["Max. Trade Duration"] is pd.NaT
    assert stats["Total Fees [$]"] == 0.0
    assert stats["Exposure Time [%]"] == 0.0


def test_no_drawdown_has_no_drawdown_durations():
    stats = compute_stats(_result(equity=[101.0, 102.0, 103.0], trades=[]))
    assert stats["Max. Drawdown [%]"] == 0.0
    assert math.isnan(stats["Avg. Drawdown [%]"])
    assert stats["Max. Drawdown Duration"] is pd.NaT
    assert stats["Equity Peak [$]"] == 103.0


def test_format_stat_precision():
    assert format_stat("Return [%]", 2.345678) == "2.35"
    assert format_stat("Equity Final [$]", 1234567.891) == "1,234,567.89"
    assert format_stat("Sharpe Ratio", 1.23456) == "1.235"
    assert format_stat("# Trades", 12345) == "12,345"
    assert format_stat("Avg. Trade Duration", pd.Timedelta(seconds=90.6)) == "0 days 00:01:31"
    assert format_stat("Start", pd.Timestamp("2024-01-01", tz="UTC")) == "2024-01-01 00:00:00 UTC"
    assert format_stat("Profit Factor", math.inf) == "inf"
    assert format_stat("Max. Trade Duration", pd.NaT) == "-"


def test_summary_text_is_short():
    text = summary_text(_result())
    assert len(text.splitlines()) <= 5 and len(text) < 400
    assert "mode python" in text
    assert "2024-01-01 00:00 to 2024-01-07 00:00 UTC" in text
    assert "trades 2" in text
    assert "return   2.00 %" in text
    assert "max drawdown 1.94 %" in text


def test_summary_html_is_a_grouped_table_with_the_currency():
    page = summary_html(_result())
    assert page.startswith("<table") and page.endswith("</table>")
    for group in STATS_GROUPS:
        assert f">{group}</th>" in page
    assert "Equity Final [USD]" in page and "[$]" not in page
    assert ">50.00</td>" in page  # win rate


def test_stats_values_are_the_series_without_pandas_types():
    from omega.results.stats import compute_stats, stats_rows, stats_values
    from omega.runner import run_backtest

    config = default_config().apply_overrides(["data.synthetic.n_bars=20000"])
    result = run_backtest(config)
    values, series = stats_values(result), compute_stats(result)
    assert list(values) == list(series.index)
    for label, value in values.items():
        expected = series[label]
        if isinstance(value, np.datetime64):
            assert pd.Timestamp(value).tz_localize("UTC") == expected, label
        elif isinstance(value, np.timedelta64):
            assert pd.Timedelta(value) == expected, label
        else:
            assert value == expected or (value != value and expected != expected), label
    # Printed alike from either form.
    assert stats_rows(values) == stats_rows(series)


def test_regression_tiny_percentages_do_not_print_as_minus_zero():
    assert format_stat("Avg. Trade [%]", -0.0008325) == "-0.00083"
    assert format_stat("Avg. Trade [%]", 0.0) == "0.00"
    assert format_stat("Return [%]", 12.345) == "12.35"

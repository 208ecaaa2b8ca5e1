"""The HTML report: data thinned with numpy, one self-contained page (browser test elsewhere)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from omega.config import default_config
from omega.data.bars import BarSeries
from omega.report import render_html, write_report
from omega.report.data import candles, envelope, json_numbers, script_safe
from omega.runner import Backend, run_backtest
from omega.timeframes import Timeframe

MINUTE = 60 * 10**9


def _bars(bid: list[float], start_minute: int = 0) -> BarSeries:
    n = len(bid)
    values = np.array(bid, dtype=np.float64)
    return BarSeries(
        time=(start_minute + np.arange(n, dtype=np.int64)) * MINUTE,
        bid_open=values,
        bid_high=values + 0.5,
        bid_low=values - 0.5,
        bid_close=values + 0.25,
        ask_open=values + 1,
        ask_high=values + 1,
        ask_low=values + 1,
        ask_close=values + 1,
        volume=np.zeros(n),
    )


def test_candles_resample_to_the_primary_timeframe():
    # Twelve M1 bars from minute 3: M5 buckets [0, 5) holds minutes 3-4, [5, 10) 5-9, [10, 15)
    # 10-14.
    bars = _bars([float(v) for v in range(12)], start_minute=3)
    ohlc = candles(bars, Timeframe.M5.nanos)
    assert ohlc["time"].tolist() == [0, 5 * 60_000, 10 * 60_000]
    assert ohlc["width"] == 5 * 60_000
    assert ohlc["open"].tolist() == [0.0, 2.0, 7.0]
    assert ohlc["high"].tolist() == [1.5, 6.5, 11.5]
    assert ohlc["low"].tolist() == [-0.5, 1.5, 6.5]
    assert ohlc["close"].tolist() == [1.25, 6.25, 11.25]


def test_candles_merge_primary_bars_beyond_the_limit():
    bars = _bars([float(v) for v in range(12)], start_minute=3)
    ohlc = candles(bars, Timeframe.M5.nanos, limit=2)
    # Three M5 bars, at most two candles: two M5 bars per candle.
    assert ohlc["primary_per_candle"] == 2
    assert ohlc["width"] == 10 * 60_000
    assert ohlc["time"].tolist() == [0, 10 * 60_000]
    assert ohlc["open"].tolist() == [0.0, 7.0]
    assert ohlc["high"].tolist() == [6.5, 11.5]
    assert ohlc["low"].tolist() == [-0.5, 6.5]
    assert ohlc["close"].tolist() == [6.25, 11.25]


def test_candles_without_bars():
    assert candles(None, Timeframe.M5.nanos) is None


def test_envelope_keeps_each_buckets_extremes():
    times = np.arange(8)
    values = np.array([1.0, 5.0, -2.0, 0.0, 3.0, 3.0, 9.0, -7.0])
    out_t, out_v = envelope(times, values, buckets=2)
    assert out_t.tolist() == [0, 3, 4, 7]
    assert out_v.tolist() == [-2.0, 5.0, -7.0, 9.0]
    same_t, same_v = envelope(times, values, buckets=4)
    assert same_v is values and same_t is times  # short enough: untouched


def test_json_numbers_writes_null_for_non_finite():
    assert json_numbers(np.array([1.5, np.nan, np.inf, -2.0])) == "[1.5, null, null, -2.0]"
    assert json_numbers(np.array([3, 4], dtype=np.int64)) == "[3, 4]"


def test_script_safe_cannot_close_the_script_element():
    text = script_safe('a = "</script><!-- </SCRIPT>"; b = 1 </ 2')
    assert "</script" not in text.lower() and "<!--" not in text
    assert "</ 2" in text  # nothing else changes


@pytest.fixture(scope="module")
def small():
    config = default_config().apply_overrides(["data.synthetic.n_bars=20000"])
    result = run_backtest(config, env={}, backend=Backend(core_available=False))
    return result


def _data(page: str) -> dict:
    match = re.search(r"<script type='application/json' id='omega-data'>(.*?)</script>", page)
    assert match is not None
    return json.loads(match.group(1))


def test_page_is_self_contained(small):
    page = render_html(small)
    assert page.startswith("<!DOCTYPE html>")
    # Every script is inline, and nothing is loaded from elsewhere.
    assert re.search(r"<script[^>]*\ssrc=", page) is None
    assert re.search(r"<link[^>]*\shref=", page) is None
    assert re.search(r"<img[^>]*\ssrc=['\"]?https?:", page) is None
    for section in ("Statistics", "Charts", "Trades", "Data quality", "Configuration"):
        assert f"<h2>{section}</h2>" in page
    assert "Engine mode: <b>python</b>" in page
    assert "Equity Final [USD]" in page


def test_page_data_holds_every_trade_and_the_candles(small):
    data = _data(render_html(small))
    trades = small.raw.trades
    n = small.raw.n_trades
    assert n > 0 and data["n_trades"] == n
    assert data["trades"]["entry_time"] == (trades["entry_time"] // 1_000_000).tolist()
    assert data["trades"]["exit_price"] == trades["exit_price"].tolist()
    assert len(data["trades"]["exit_reason"]) == n
    # 20,000 M1 bars are 4,000 M5 bars: merged two at a time into 2,000 candles.
    assert len(data["candles"]["time"]) == 2000
    assert data["candles"]["primary_per_candle"] == 2
    assert len(data["equity"]["t"]) <= 4000
    assert min(data["drawdown"]["v"]) == pytest.approx(-small.metrics["max_drawdown_pct"])
    assert data["currency"] == "USD"


def test_write_report_is_deterministic(small, tmp_path):
    first = write_report(small, tmp_path / "a.html")
    second = write_report(small, tmp_path / "b.html")
    assert first == tmp_path / "a.html"
    assert first.read_bytes() == second.read_bytes()


def test_default_run_report_is_under_5_mb(tmp_path):
    config = default_config()
    result = run_backtest(config, env={})
    size = write_report(result, tmp_path / "report.html").stat().st_size
    assert size < 5 * 1024 * 1024


# ------------------------------------------------------------------ a basket's report


@pytest.fixture(scope="module")
def basket():
    from pathlib import Path

    from omega.basket import run_basket
    from omega.config import BacktestConfig

    example = Path(__file__).resolve().parent.parent / "examples" / "basket.yaml"
    config = BacktestConfig.from_file(example).apply_overrides(
        ["data.synthetic.n_bars=20000", "engine=python"]
    )
    return run_basket(config, env={}, backend=Backend(core_available=False))


def test_basket_page_is_self_contained_with_its_sections(basket):
    from omega.report.basket import render_basket_html

    page = render_basket_html(basket)
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"<script[^>]*\ssrc=", page) is None
    assert re.search(r"<link[^>]*\shref=", page) is None
    for section in ("Statistics", "Charts", "Correlation", "Trades", "Data quality"):
        assert f"<h2>{section}</h2>" in page
    for symbol in basket.symbols:  # a data-quality section per instrument
        assert f"<h3>{symbol}</h3>" in page
    assert "Engine mode: <b>python</b>" in page


def test_basket_stats_table_has_a_column_per_instrument(basket):
    from omega.report.basket import render_basket_html

    page = render_basket_html(basket)
    table = re.search(r"<table id='omega-basket-stats'>(.*?)</table>", page).group(1)
    header = re.findall(r"<th>(.*?)</th>", table.split("</tr>")[0])
    assert header == ["statistic", "account", *basket.symbols]
    trades_row = re.search(r"<tr><th># Trades</th>(.*?)</tr>", table).group(1)
    counts = [int(c.replace(",", "")) for c in re.findall(r"<td>(.*?)</td>", trades_row)]
    per_instrument = [basket.instruments[s].raw.n_trades for s in basket.symbols]
    assert counts == [sum(per_instrument), *per_instrument]


def test_basket_chart_data(basket):
    from omega.report.basket import render_basket_html

    page = render_basket_html(basket)
    data = _data(page)
    assert data["symbols"] == basket.symbols
    assert [c["symbol"] for c in data["instruments"]] == basket.symbols
    initial = basket.initial_balance
    for curve in data["instruments"]:
        # P&L from the account's initial balance: 0 before the first trade, the instrument's
        # net profit at the end.
        assert curve["v"][0] == 0.0
        expected = basket.instruments[curve["symbol"]].metrics["net_profit"]
        assert curve["v"][-1] == pytest.approx(expected, abs=1e-6)
        assert len(curve["t"]) == len(curve["v"])
    n = basket.account.raw.n_trades
    assert data["n_trades"] == n > 0
    assert data["trades"]["symbol"] == basket.trades["symbol"].tolist()
    assert data["trades"]["pnl"] == basket.trades["pnl"].tolist()
    assert data["equity"]["v"][-1] == basket.final_balance
    assert min(data["drawdown"]["v"]) == pytest.approx(-basket.account.metrics["max_drawdown_pct"])
    assert data["initial"] == initial and data["currency"] == "USD"
    cells = data["correlation"]["cells"]
    k = len(basket.symbols)
    assert len(cells["x"]) == k * k
    pairs = zip(cells["x"], cells["y"], cells["text"], strict=True)
    diagonal = [t for x, y, t in pairs if x == y]
    assert diagonal == ["1.00"] * k


def test_correlation_colours_on_a_fixed_scale():
    from omega.report.basket import correlation_color

    assert correlation_color(-1.0) == "#2166ac"  # blue
    assert correlation_color(0.0) == "#f7f7f7"  # pale
    assert correlation_color(1.0) == "#b2182b"  # red
    assert correlation_color(float("nan")) == "#dddddd"
    assert correlation_color(2.0) == correlation_color(1.0)  # clipped
    # Halfway to +1: halfway between pale and red, channel by channel.
    assert correlation_color(0.5) == "#" + "".join(
        f"{round((a + b) / 2):02x}" for a, b in ((247, 178), (247, 24), (247, 43))
    )


def test_basket_report_is_deterministic(basket, tmp_path):
    from omega.report.basket import write_basket_report

    first = write_basket_report(basket, tmp_path / "a.html")
    second = write_basket_report(basket, tmp_path / "b.html")
    assert first.read_bytes() == second.read_bytes()

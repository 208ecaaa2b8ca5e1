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

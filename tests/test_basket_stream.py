"""The basket stream session: bars fed in time order across the basket decide as the basket
backtest does (tested at length by the basket parity harness); when a time is decided; the
errors of a bad feed."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.basket import load_basket_bars, run_basket
from omega.config import BacktestConfig
from omega.errors import ConfigError, DataError, EngineError
from omega.stream import BasketStreamSession

CONFIG = {
    "data": {"synthetic": {"n_bars": 8_000, "seed": 2}},
    "strategy": {"name": "sma_cross", "params": {"fast": 8, "slow": 30}},
    "instruments": [{"symbol": "EURUSD"}, {"symbol": "GBPUSD"}, {"symbol": "EURGBP"}],
    "account": {"leverage": 30},
    "engine": "rust",
}


def test_a_config_streamed_equals_its_basket_run():
    config = BacktestConfig.from_dict(CONFIG)
    bars = load_basket_bars(config)
    expected = run_basket(config, bars=bars)
    session = BasketStreamSession.from_config(config, bars)
    stepped = session.push_bars(bars)
    raw = session.finish()
    assert stepped > 0 and stepped <= len(expected.raw.time)
    for got, want in zip(raw.members, expected.raw.members, strict=True):
        for name, column in want.trades.items():
            if column.dtype == object:
                assert list(got.trades[name]) == list(column), name
            else:
                assert np.array_equal(got.trades[name], column, equal_nan=True), name
    assert np.array_equal(raw.equity, expected.raw.equity)
    assert raw.final_balance == expected.raw.final_balance


def _bar(config: BacktestConfig, symbol: str, i: int):
    bars = load_basket_bars(config)[symbol]
    return (
        int(bars.time[i]),
        (bars.bid_open[i], bars.bid_high[i], bars.bid_low[i], bars.bid_close[i]),
        (bars.ask_open[i], bars.ask_high[i], bars.ask_low[i], bars.ask_close[i]),
    )


def test_a_time_is_decided_when_a_later_bar_arrives():
    config = BacktestConfig.from_dict(
        {**CONFIG, "timeframes": {"primary": "M1"}, "data": {"synthetic": {"n_bars": 50}}}
    )
    session = BasketStreamSession.from_config(config, load_basket_bars(config))
    t0, bid, ask = _bar(config, "EURUSD", 0)
    assert session.push("EURUSD", t0, bid, ask) == 0
    _, bid, ask = _bar(config, "GBPUSD", 0)
    assert session.push("GBPUSD", t0, bid, ask) == 0  # EURGBP's bar for t0 may still come
    t1, bid, ask = _bar(config, "EURUSD", 1)
    assert session.push("EURUSD", t1, bid, ask) == 1  # a later bar: t0 is complete
    assert session.times_stepped == 1


def test_a_bar_out_of_time_order_across_the_basket_is_refused():
    config = BacktestConfig.from_dict({**CONFIG, "data": {"synthetic": {"n_bars": 50}}})
    session = BasketStreamSession.from_config(config, load_basket_bars(config))
    t1, bid, ask = _bar(config, "EURUSD", 1)
    session.push("EURUSD", t1, bid, ask)
    t0, bid, ask = _bar(config, "GBPUSD", 0)
    with pytest.raises(DataError, match=r"time order across the basket.*member 1 \(GBPUSD\)"):
        session.push("GBPUSD", t0, bid, ask)
    with pytest.raises(ConfigError, match="not in the basket"):
        session.push("USDJPY", t1, bid, ask)


def test_a_member_without_bars_fails_the_finish_naming_it():
    config = BacktestConfig.from_dict({**CONFIG, "data": {"synthetic": {"n_bars": 50}}})
    session = BasketStreamSession.from_config(config, load_basket_bars(config))
    t0, bid, ask = _bar(config, "EURUSD", 0)
    session.push("EURUSD", t0, bid, ask)
    with pytest.raises(DataError, match=r"member 1 \(GBPUSD\) got no bars"):
        session.finish()
    with pytest.raises(EngineError, match="finished"):
        session.finish()

"""A stream session fed a backtest's bars one at a time gives that backtest's run exactly
(and so, by the parity suite, the Python reference engine's)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("omega._core")

from _rust_helpers import assert_same_run
from omega.data import generate_synthetic
from omega.engine.loop import run_python
from omega.engine.rust import run_rust
from omega.engine.settings import EngineSettings
from omega.errors import DataError, EngineError, StrategyError
from omega.strategy import get_strategy
from omega.stream import StreamSession
from omega.timeframes import Timeframe

STRATEGY = "mean_reversion_z_score"
PARAMS = {"lookback": 50, "z_entry": 2.0}


@pytest.fixture(scope="module")
def bars():
    # Two weeks of M1 bars with the weekend gap: buckets close on a later bar there.
    return generate_synthetic(n_bars=20_000, seed=8)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


def test_bar_by_bar_equals_the_backtest(bars, settings):
    session = StreamSession(STRATEGY, PARAMS, settings)
    decided = 0
    columns = [bars.time, bars.bid_open, bars.bid_high, bars.bid_low, bars.bid_close]
    asks = [bars.ask_open, bars.ask_high, bars.ask_low, bars.ask_close]
    for i in range(len(bars)):
        decided += session.push(
            columns[0][i],
            [c[i] for c in columns[1:]],
            [c[i] for c in asks],
            bars.volume[i],
        )
        if i == len(bars) // 2:
            state = session.state
            assert state["bars_stepped"] == decided
            assert state["n_trades"] >= 0 and state["balance"] > 0
    streamed = session.finish()
    batch = run_rust(bars, STRATEGY, PARAMS, settings)
    assert batch.n_trades > 20
    assert decided == batch.bars_processed
    assert_same_run(streamed, batch)
    reference = run_python(bars, get_strategy(STRATEGY)(PARAMS), settings)
    assert_same_run(streamed, reference)


@pytest.mark.parametrize("name", ["sma_cross", "zscore_threshold"])
def test_pushing_in_chunks_equals_the_backtest(bars, name):
    settings = EngineSettings(
        instrument=bars.instrument, primary_timeframe=Timeframe.M1, timeframes=(Timeframe.M1,)
    )
    session = StreamSession(name, None, settings)
    half = len(bars) // 3
    first = session.push_bars(bars.slice(0, half))
    second = session.push_bars(bars.slice(half, len(bars)))
    assert first + second == len(bars)  # M1 primary: every bar is decided as it arrives
    assert_same_run(session.finish(), run_rust(bars, name, {}, settings))


def test_state_reports_the_position_and_the_orders_for_the_next_open(bars, settings):
    session = StreamSession(STRATEGY, PARAMS, settings)
    seen_position = False
    step = 500
    for start in range(0, len(bars), step):
        session.push_bars(bars.slice(start, min(start + step, len(bars))))
        state = session.state
        if state["position"] is not None:
            seen_position = True
            assert state["position"]["side"] in ("long", "short")
            assert state["position"]["size"] > 0
        assert state["pending_entry"] in (None, "long", "short")
    assert seen_position


def test_bad_bars_and_a_finished_session_raise_named_errors(bars, settings):
    session = StreamSession(STRATEGY, PARAMS, settings)
    session.push_bars(bars.slice(0, 10))
    bid = [bars.bid_open[10], bars.bid_high[10], np.nan, bars.bid_close[10]]
    ask = [bars.ask_open[10], bars.ask_high[10], bars.ask_low[10], bars.ask_close[10]]
    with pytest.raises(DataError, match="bid_low"):
        session.push(bars.time[10], bid, ask, 1.0)
    with pytest.raises(DataError, match="increase"):
        session.push(bars.time[5], ask, ask, 1.0)
    session.push_bars(bars.slice(10, 100))  # the session is still usable
    session.finish()
    with pytest.raises(EngineError, match="finished"):
        session.push_bars(bars.slice(100, 110))
    with pytest.raises(StrategyError):
        StreamSession(STRATEGY, {"z_exit": 5.0}, settings)
    with pytest.raises(DataError):
        StreamSession(STRATEGY, PARAMS, settings).finish()  # no bars


def test_defaults(bars):
    session = StreamSession("sma_cross")
    session.push_bars(bars.slice(0, 2000))
    assert session.state["bars_stepped"] > 0

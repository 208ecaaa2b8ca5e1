"""Errors from the Rust core arrive as `omega.errors` classes, never as PanicException."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from omega.data import generate_synthetic
from omega.data.bars import BarSeries
from omega.engine.settings import EngineSettings
from omega.errors import (
    ConfigError,
    EmptyDataError,
    EngineError,
    NonFiniteValueError,
    NonMonotonicTimestampError,
    StrategyError,
)
from omega.strategy import Strategy, TradeSignal
from omega.timeframes import Timeframe

core = pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.engine.hybrid import run_hybrid  # noqa: E402
from omega.engine.rust import bar_columns, run_rust  # noqa: E402

MR = "mean_reversion_z_score"


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=3_000, seed=2)


def settings_for(bars, **changes) -> EngineSettings:
    return replace(EngineSettings(instrument=bars.instrument), **changes)


def test_unknown_strategy_is_a_strategy_error(bars):
    with pytest.raises(StrategyError, match="unknown strategy 'nope'"):
        run_rust(bars, "nope", {}, settings_for(bars))


def test_bad_parameters_are_strategy_errors_naming_the_parameter(bars):
    with pytest.raises(StrategyError, match="lookback"):
        run_rust(bars, MR, {"lookback": 3}, settings_for(bars))
    with pytest.raises(StrategyError, match="z_exit"):
        run_rust(bars, MR, {"z_exit": 3.0, "z_entry": 2.0}, settings_for(bars))


def test_the_rust_registry_validates_on_its_own(bars):
    # Straight into the core, past the Python parameter model.
    settings = settings_for(bars)
    with pytest.raises(StrategyError, match="unknown parameter 'bogus'"):
        core.run_backtest(bar_columns(bars), "M1", settings, MR, {"bogus": 1})
    with pytest.raises(StrategyError, match=r"parameter lookback must be an integer, got 2\.5"):
        core.run_backtest(bar_columns(bars), "M1", settings, MR, {"lookback": 2.5})
    with pytest.raises(StrategyError, match="lookback = 4 is out of range"):
        core.run_backtest(bar_columns(bars), "M1", settings, MR, {"lookback": 4})


def test_trend_timeframe_not_coarser_than_primary_is_a_strategy_error(bars):
    settings = settings_for(bars, primary_timeframe=Timeframe.H1, timeframes=(Timeframe.H1,))
    with pytest.raises(StrategyError, match="must be coarser"):
        run_rust(bars, MR, {"trend_timeframe": "H1"}, settings)


def test_a_cross_without_a_conversion_is_a_config_error(bars):
    with pytest.raises(ConfigError, match=r"give account\.conversion"):
        run_rust(bars, MR, {}, settings_for(bars, account_currency="GBP"))


def test_unknown_policy_is_a_config_error(bars):
    with pytest.raises(ConfigError, match="intrabar_policy"):
        run_rust(bars, MR, {}, settings_for(bars, intrabar_policy="lucky"))


def test_a_timeframe_finer_than_the_data_is_a_config_error(bars):
    m5 = replace(bars, timeframe=Timeframe.M5)
    settings = settings_for(bars, primary_timeframe=Timeframe.M1, timeframes=(Timeframe.M1,))
    with pytest.raises(ConfigError, match="finer than the data's base timeframe M5"):
        run_rust(m5, "sma_cross", {}, settings)


def test_empty_bars_are_an_empty_data_error(bars):
    with pytest.raises(EmptyDataError):
        run_rust(bars.slice(0, 0), MR, {}, settings_for(bars))


def test_decreasing_times_name_the_row(bars):
    time = bars.time.copy()
    time[10] = time[9]
    broken = replace(bars, time=time, source="broken.csv")
    with pytest.raises(NonMonotonicTimestampError) as info:
        run_rust(broken, MR, {}, settings_for(bars))
    assert (info.value.file, info.value.row, info.value.column) == ("broken.csv", 10, "time")


def test_non_finite_prices_name_row_and_column(bars):
    ask = bars.ask_high.copy()
    ask[42] = np.nan
    with pytest.raises(NonFiniteValueError) as info:
        run_rust(replace(bars, ask_high=ask), MR, {}, settings_for(bars))
    assert (info.value.row, info.value.column) == (42, "ask_high")


class Explodes(Strategy):
    name = "explodes"

    def evaluate(self, data):
        if data.index == 7:
            raise ZeroDivisionError("boom")
        return None


class ReturnsJunk(Strategy):
    name = "returns_junk"

    def evaluate(self, data):
        return "buy"


class BadSignal(Strategy):
    name = "bad_signal"

    def evaluate(self, data):
        return TradeSignal.long(size=1e-9) if data.index == 3 else None


def test_a_python_exception_in_hybrid_mode_is_a_strategy_error_with_its_cause(bars):
    with pytest.raises(
        StrategyError, match=r"failed at primary bar 7 .*ZeroDivisionError: boom"
    ) as info:
        run_hybrid(bars, Explodes(), settings_for(bars))
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_non_signal_return_in_hybrid_mode_is_a_strategy_error(bars):
    with pytest.raises(StrategyError, match="not a TradeSignal"):
        run_hybrid(bars, ReturnsJunk(), settings_for(bars))


def test_a_tiny_size_is_skipped_not_an_error(bars):
    run = run_hybrid(bars, BadSignal(), settings_for(bars))
    assert [(s.reason, s.detail) for s in run.skipped_orders] == [("below_min_lot", "")]


@pytest.mark.parametrize("detached", [False, True])
def test_panics_become_engine_errors(detached):
    with pytest.raises(EngineError, match="internal engine error \\(panic\\): kaboom"):
        core._panic_at_boundary("kaboom", detached)


def test_columns_are_borrowed_read_only_and_untouched(bars):
    cols = {name: getattr(bars, name).copy() for name in ("time", "bid_close", "ask_low")}
    for name in cols:
        getattr(bars, name).flags.writeable = False
    try:
        run_rust(bars, "sma_cross", {}, settings_for(bars))
    finally:
        for name in cols:
            getattr(bars, name).flags.writeable = True
    for name, before in cols.items():
        assert np.array_equal(getattr(bars, name), before)


def test_non_contiguous_columns_are_rejected_not_copied(bars):
    strided = BarSeries.__new__(BarSeries)
    strided.__dict__.update(bars.__dict__)
    strided.bid_open = np.repeat(bars.bid_open, 2)[::2]
    with pytest.raises(Exception, match="contiguous"):
        run_rust(strided, "sma_cross", {}, settings_for(bars))


def test_rust_log_records_reach_python_logging(bars, caplog):
    with caplog.at_level("DEBUG", logger="omega_engine"):
        run = run_rust(bars, "sma_cross", {}, settings_for(bars))
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("omega_engine")]
    assert any(f"{run.n_trades} trade rows" in m for m in messages), messages

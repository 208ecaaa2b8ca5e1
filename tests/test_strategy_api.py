"""The strategy API: signals, actions, parameters, registry, and the bounded data slice."""

from __future__ import annotations

import math

import pytest
from pydantic import Field

from omega.data import generate_synthetic
from omega.engine.loop import run_python
from omega.engine.settings import EngineSettings
from omega.errors import StrategyError
from omega.indicators import IndicatorSpec
from omega.strategy import (
    Close,
    DataSlice,
    IndicatorHandle,
    IndicatorRequest,
    ModifyStopLoss,
    MoveToBreakEven,
    PartialClose,
    Position,
    ScriptedStrategy,
    Strategy,
    StrategyParams,
    TradeSignal,
    get_strategy,
    register_strategy,
)
from omega.timeframes import Timeframe

M1, M5, M15, H1 = Timeframe.M1, Timeframe.M5, Timeframe.M15, Timeframe.H1


# --------------------------------------------------------------------------------------------
# TradeSignal and actions


def test_trade_signal_helpers_and_defaults() -> None:
    s = TradeSignal.long(stop_loss_distance=0.001, tag="x")
    assert (s.direction, s.is_long, s.stop_loss_distance, s.tag) == (1, True, 0.001, "x")
    assert TradeSignal.short().direction == -1
    with pytest.raises(AttributeError):
        s.size = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {"stop_loss": 1.1, "stop_loss_distance": 0.001},
        {"take_profit": 1.2, "take_profit_distance": 0.001},
        {"size": 1.0, "risk_percent": 1.0},
        {"size": 0.0},
        {"size": -1.0},
        {"risk_percent": math.nan},
        {"stop_loss": -1.0},
        {"stop_loss_distance": -0.001},
        {"take_profit_distance": math.inf},
        {"max_bars": 0},
        {"max_bars": 2.5},
        {"tag": 3},
    ],
)
def test_contradictory_or_invalid_signals_fail_at_construction(fields: dict) -> None:
    with pytest.raises(StrategyError):
        TradeSignal.long(**fields)


@pytest.mark.parametrize("direction", [0, 2, True, "long"])
def test_direction_must_be_plus_or_minus_one(direction: object) -> None:
    with pytest.raises(StrategyError, match="direction"):
        TradeSignal(direction)  # type: ignore[arg-type]


def test_action_validation() -> None:
    assert PartialClose(0.5).fraction == 0.5
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(StrategyError, match="fraction"):
            PartialClose(bad)
    assert ModifyStopLoss(None).price is None
    with pytest.raises(StrategyError):
        ModifyStopLoss(-1.0)
    with pytest.raises(StrategyError):
        MoveToBreakEven(math.nan)


# --------------------------------------------------------------------------------------------
# parameters and registry


class Demo(Strategy):
    name = "demo_api_test"

    class Params(StrategyParams):
        period: int = Field(20, ge=2, le=100, description="window")
        level: float = Field(1.5, gt=0)

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        return None


def test_params_are_validated_and_frozen() -> None:
    s = Demo({"period": 30})
    assert (s.params.period, s.params.level) == (30, 1.5)
    assert Demo(Demo.Params(period=3)).params.period == 3
    assert Demo().params.period == 20
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        s.params.period = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("params", "name"),
    [({"period": 1}, "period"), ({"level": 0}, "level"), ({"period": "x"}, "period")],
)
def test_param_errors_name_the_strategy_and_parameter(params: dict, name: str) -> None:
    with pytest.raises(StrategyError, match=rf"strategy demo_api_test: parameter {name}"):
        Demo(params)


def test_params_must_be_a_mapping() -> None:
    with pytest.raises(StrategyError, match="must be a mapping"):
        Demo([1, 2])  # type: ignore[arg-type]


def test_register_and_look_up() -> None:
    register_strategy(Demo)
    assert get_strategy("demo_api_test") is Demo
    register_strategy(Demo)  # registering the same class again is harmless

    class Other(Demo):
        pass

    with pytest.raises(StrategyError, match="already registered"):
        register_strategy(Other)
    with pytest.raises(StrategyError, match="unknown strategy 'nope'"):
        get_strategy("nope")

    class Nameless(Demo):
        name = ""

    with pytest.raises(StrategyError, match="identifier"):
        register_strategy(Nameless)


# --------------------------------------------------------------------------------------------
# the data slice: what a strategy may read at the close of bar i


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=600, seed=3)


SMA5 = IndicatorSpec.of("sma", period=5)


def test_slice_views_are_bounded_and_read_only(bars) -> None:
    seen = []

    def inspect(data: DataSlice) -> None:
        i = data.index
        m5 = data.closed_bars(M5)
        h1 = data.closed_bars("h1")
        assert len(m5) == i + 1
        assert data.last_closed(M5) == data.bar  # the primary's last closed bar is this one
        last_h1 = data.last_closed(H1)
        assert (last_h1 is None) == (len(h1) == 0)
        if last_h1 is not None:
            assert last_h1.time == h1.time[-1] and last_h1.ask_high == h1.ask_high[-1]
        # every visible H1 bar has closed by the close of primary bar i
        if len(h1):
            assert h1.time[-1] + H1.nanos <= data.time + M5.nanos
        assert data.bar.time == data.time == m5.time[-1]
        assert data.bar.bid_close == m5.bid_close[-1]
        for column in (m5.bid_close, m5.time, h1.ask_high):
            with pytest.raises(ValueError, match="read-only"):
                column[:1] = 0
        seen.append((i, len(h1)))

    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5, H1))
    run_python(bars, ScriptedStrategy(on_bar=inspect), settings)
    assert len(seen) == 120 and seen[-1][1] >= 8
    assert bars.bid_close.flags.writeable  # the caller's own arrays stay writeable


def test_indicator_reads_the_last_visible_value_and_offsets(bars) -> None:
    values = []
    requests = [IndicatorRequest(M5, "bid", SMA5), IndicatorRequest(H1, "ask", SMA5)]

    def read(data: DataSlice) -> None:
        m5, h1 = strategy.handles
        values.append(
            (
                data.value(m5),
                data.value(m5, offset=2),
                data.value(h1),
                len(data.closed_bars(H1)) - 1,
            )
        )

    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))  # H1 added by request
    strategy = ScriptedStrategy(requests=requests, on_bar=read)
    run_python(bars, strategy, settings)
    from omega.data.resample import resample
    from omega.indicators import SMA

    m5 = resample(bars, M5)
    h1 = resample(bars, H1)
    sma_m5 = SMA(5).batch(m5.bid_close)
    sma_h1 = SMA(5).batch(h1.ask_close)
    for i, (now, back2, h1_value, j) in enumerate(values):
        assert now == sma_m5[i] or (math.isnan(now) and math.isnan(sma_m5[i]))
        expect_back = sma_m5[i - 2] if i >= 2 else math.nan
        assert back2 == expect_back or (math.isnan(back2) and math.isnan(expect_back))
        expect_h1 = sma_h1[j] if j >= 0 else math.nan
        assert h1_value == expect_h1 or (math.isnan(h1_value) and math.isnan(expect_h1))
    assert not math.isnan(values[-1][2])  # the H1 series did get past its warm-up


def test_undeclared_indicators_and_negative_offsets_are_refused(bars) -> None:
    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))

    def undeclared(data: DataSlice) -> None:
        data.value(IndicatorHandle(0))

    with pytest.raises(StrategyError, match="unknown indicator handle IndicatorHandle\\(0\\)"):
        run_python(bars, ScriptedStrategy(on_bar=undeclared), settings)

    def future(data: DataSlice) -> None:
        data.value(IndicatorHandle(0), offset=-1)

    declared = [IndicatorRequest(M5, "bid", SMA5)]
    with pytest.raises(StrategyError, match="look-ahead"):
        run_python(bars, ScriptedStrategy(requests=declared, on_bar=future), settings)

    def unconfigured(data: DataSlice) -> None:
        data.closed_bars(M15)

    with pytest.raises(StrategyError, match="M15 is not configured"):
        run_python(bars, ScriptedStrategy(on_bar=unconfigured), settings)


def test_position_view_is_read_only_and_current(bars) -> None:
    seen: list[Position] = []

    class Watch(ScriptedStrategy):
        def manage_position(self, position, data):
            assert data.position is position
            seen.append((position.bars_held, position.size, position.unrealized_pnl))
            with pytest.raises(AttributeError):
                position.stop_loss = 1.0  # type: ignore[misc]
            return Close() if position.bars_held == 3 else None

    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))
    raw = run_python(bars, Watch({0: TradeSignal.long(size=0.5)}), settings)
    assert [s[0] for s in seen] == [1, 2, 3] and {s[1] for s in seen} == {0.5}
    # unrealized at the close: (bid close - entry) * size * contract size
    from omega.data.resample import resample

    m5 = resample(bars, M5)
    entry = raw.trades["entry_price"][0]
    assert seen[0][2] == (m5.bid_close[1] - entry) * 0.5 * 100_000.0
    assert raw.trades["exit_index"][0] == 4


def test_record_adds_values_to_the_trace(bars) -> None:
    def rec(data: DataSlice) -> None:
        data.record("i2", data.index * 2.0)

    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))
    raw = run_python(bars, ScriptedStrategy(on_bar=rec), settings, trace=True)
    assert raw.trace[7] == {
        "index": 7,
        "time": int(raw.equity_time[7]),
        "event": "none",
        "i2": 14.0,
    }
    assert run_python(bars, ScriptedStrategy(on_bar=rec), settings).trace is None


def test_progress_is_reported(bars) -> None:
    calls = []
    settings = EngineSettings(primary_timeframe=M1, timeframes=(M1,))
    big = generate_synthetic(n_bars=9000, seed=1)
    run_python(big, ScriptedStrategy(), settings, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4096, 9000), (8192, 9000), (9000, 9000)]


def test_declared_timeframes_finer_than_the_data_are_a_config_error(bars) -> None:
    from omega.data.resample import resample
    from omega.errors import ConfigError

    m5 = resample(bars, M5)
    requests = [IndicatorRequest(M1, "bid", SMA5)]
    settings = EngineSettings(primary_timeframe=M5, timeframes=(M5,))
    with pytest.raises(ConfigError, match="M1 is finer"):
        run_python(m5, ScriptedStrategy(requests=requests), settings)

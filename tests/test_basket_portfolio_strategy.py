"""Portfolio strategies (one strategy over a basket): what they see (every instrument's closed
bars, never a forming one), where their signals go, their errors; python and hybrid modes
identical."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from omega.basket import run_basket
from omega.config import BacktestConfig
from omega.data.bars import BarSeries, Instrument
from omega.engine.basket import BasketRaw, run_basket_hybrid, run_basket_python
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError, StrategyError
from omega.indicators import IndicatorSpec
from omega.strategy import TradeSignal
from omega.strategy.portfolio import (
    BasketContext,
    BasketSlice,
    PortfolioStrategy,
    portfolio_members,
)
from omega.timeframes import Timeframe

ENGINES = ["python", "hybrid"]
HOUR = 3_600 * 10**9
T0 = 1_709_596_800 * 10**9  # 2024-03-05 00:00 UTC
SPREAD = 0.0002
EURUSD = Instrument.for_symbol("EURUSD")
GBPUSD = Instrument.for_symbol("GBPUSD")


def bars_at(hours: Sequence[int], closes: Sequence[float], instrument: Instrument) -> BarSeries:
    c = np.asarray(closes, dtype=np.float64)
    o, h, low = c, c + 0.0005, c - 0.0005
    return BarSeries(
        T0 + np.asarray(hours, dtype=np.int64) * HOUR,
        o,
        h,
        low,
        c,
        o + SPREAD,
        h + SPREAD,
        low + SPREAD,
        c + SPREAD,
        np.zeros(len(c)),
        timeframe=Timeframe.H1,
        instrument=instrument,
    )


def settings(instrument: Instrument) -> EngineSettings:
    return EngineSettings(
        primary_timeframe=Timeframe.H1, timeframes=(Timeframe.H1,), instrument=instrument
    )


class Recorder(PortfolioStrategy):
    """Records what it sees at each close; trades when told to."""

    name = "recorder"

    def __init__(self, orders: dict[int, dict[str, TradeSignal]] | None = None) -> None:
        super().__init__({})
        self.orders = orders or {}
        self.seen: list[tuple[int, dict]] = []

    def init(self, ctx: BasketContext) -> None:
        self.sma = ctx.indicator("GBPUSD", IndicatorSpec.of("sma", period=2))

    def evaluate(self, basket: BasketSlice) -> dict[str, TradeSignal] | None:
        hour = (basket.time - T0) // HOUR
        self.seen.append(
            (
                hour,
                {
                    symbol: (
                        basket.close(symbol),
                        basket.has_bar(symbol),
                        len(basket.closes(symbol)),
                    )
                    for symbol in basket.symbols
                }
                | {"sma": basket.value(self.sma)},
            )
        )
        return self.orders.get(hour)


def run(engine: str, strategy: PortfolioStrategy, members: list[BarSeries]) -> BasketRaw:
    adapters = portfolio_members(
        strategy, [b.instrument for b in members], Timeframe.H1, (Timeframe.H1,)
    )
    runs = [(b, a, settings(b.instrument)) for b, a in zip(members, adapters, strict=True)]
    runner = run_basket_python if engine == "python" else run_basket_hybrid
    return runner(runs)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_portfolio_reads_every_instruments_closed_bars_and_no_forming_one(engine: str):
    # EURUSD has bars at hours 0..5; GBPUSD only at 0, 1, 3, 4 (no bar at 2 and 5). The
    # portfolio decides once per close time; at hour 2 it sees GBPUSD's hour-1 close (its
    # last closed bar), never a bar opening later than the current one.
    eu = bars_at(range(6), [1.10, 1.11, 1.12, 1.13, 1.14, 1.15], EURUSD)
    gu = bars_at([0, 1, 3, 4], [1.20, 1.21, 1.23, 1.24], GBPUSD)
    strategy = Recorder()
    run(engine, strategy, [eu, gu])
    seen = dict(strategy.seen)
    assert sorted(seen) == [0, 1, 2, 3, 4, 5]  # once per close time
    assert seen[2]["EURUSD"] == (1.12, True, 3)
    assert seen[2]["GBPUSD"] == (1.21, False, 2)  # between its bars: its last closed bar
    assert seen[3]["GBPUSD"] == (1.23, True, 3)
    assert seen[5]["GBPUSD"] == (1.24, False, 4)
    # a declared indicator on the other instrument, at its last closed bar
    assert seen[0]["sma"] != seen[0]["sma"]  # NaN: warm-up
    assert seen[1]["sma"] == pytest.approx((1.20 + 1.21) / 2)
    assert seen[2]["sma"] == seen[1]["sma"]
    assert seen[3]["sma"] == pytest.approx((1.21 + 1.23) / 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_signals_go_to_instruments_with_a_bar_closing_now(engine: str):
    eu = bars_at(range(6), [1.10] * 6, EURUSD)
    gu = bars_at([0, 1, 3, 4], [1.20] * 4, GBPUSD)
    orders = {
        1: {"EURUSD": TradeSignal.long(max_bars=1), "GBPUSD": TradeSignal.short(max_bars=1)},
        2: {"GBPUSD": TradeSignal.long()},  # GBPUSD has no bar at 2: dropped
    }
    strategy = Recorder(orders)
    raw = run(engine, strategy, [eu, gu])
    eu_trades, gu_trades = raw.members[0].trades, raw.members[1].trades
    assert list(eu_trades["entry_index"]) == [2] and list(eu_trades["side"]) == [1]
    assert list(gu_trades["entry_index"]) == [2] and list(gu_trades["side"]) == [-1]
    # GBPUSD's index 2 is hour 3: its entry fills at its next open
    assert raw.members[1].trades["entry_time"][0] == T0 + 3 * HOUR


def test_python_and_hybrid_identical_on_pairs_zscore():
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    config = BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 30_000, "seed": 11}},
            "strategy": {"name": "pairs_zscore", "params": {"lookback": 60, "entry": 1.8}},
            "instruments": [{"symbol": "EURUSD"}, {"symbol": "GBPUSD"}, {"symbol": "EURGBP"}],
        }
    )
    python = run_basket(config.apply_overrides(["engine=python"]))
    hybrid = run_basket(config.apply_overrides(["engine=hybrid"]))
    assert python.trades_equal(hybrid)
    assert np.array_equal(python.raw.equity, hybrid.raw.equity)
    assert len(python.trades) > 20
    # the two legs open together, opposite sides, and EURGBP (not a leg) never trades
    trades = python.trades
    assert set(trades["symbol"]) == {"EURUSD", "GBPUSD"}
    legs = trades.groupby("entry_time")["side"].apply(lambda s: sorted(s.tolist()))
    assert all(sides == ["long", "short"] for sides in legs)
    # auto picks rust: pairs_zscore has a Rust twin (tests/test_basket_portfolio_rust.py)
    assert run_basket(config.apply_overrides(["data.synthetic.n_bars=3000"])).mode == "rust"


class Bad(PortfolioStrategy):
    name = "bad"

    def __init__(self, answer: object) -> None:
        super().__init__({})
        self.answer = answer

    def evaluate(self, basket: BasketSlice):
        return self.answer


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        ([TradeSignal.long()], "not a mapping"),
        ({"USDJPY": TradeSignal.long()}, "not in the basket"),
        ({"EURUSD": "buy"}, "not a TradeSignal"),
    ],
)
def test_a_wrong_answer_names_the_portfolio(answer: object, match: str):
    eu = bars_at(range(3), [1.10] * 3, EURUSD)
    gu = bars_at(range(3), [1.20] * 3, GBPUSD)
    with pytest.raises(StrategyError, match=match):
        run("python", Bad(answer), [eu, gu])


def test_indicators_only_on_basket_symbols():
    class Wrong(PortfolioStrategy):
        name = "wrong"

        def init(self, ctx):
            ctx.indicator("USDJPY", IndicatorSpec.of("sma", period=3))

    with pytest.raises(StrategyError, match="not in the basket"):
        portfolio_members(Wrong({}), [EURUSD, GBPUSD], Timeframe.H1, (Timeframe.H1,))


def test_config_refuses_a_portfolio_strategy_outside_a_basket_and_per_instrument_params():
    with pytest.raises(ConfigError, match="portfolio strategy"):
        BacktestConfig.from_dict({"strategy": {"name": "pairs_zscore"}})
    with pytest.raises(ConfigError, match=r"instruments\[1\]\.params"):
        BacktestConfig.from_dict(
            {
                "strategy": {"name": "pairs_zscore"},
                "instruments": [{"symbol": "EURUSD"}, {"symbol": "GBPUSD", "params": {"entry": 3}}],
            }
        )
    with pytest.raises(ConfigError, match=r"strategy.params: legs \['EURUSD', 'AUDUSD'\]"):
        BacktestConfig.from_dict(
            {
                "strategy": {"name": "pairs_zscore", "params": {"legs": ["EURUSD", "AUDUSD"]}},
                "instruments": [{"symbol": "EURUSD"}, {"symbol": "GBPUSD"}],
            }
        )

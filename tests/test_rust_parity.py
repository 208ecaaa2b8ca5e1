"""rust mode == python mode, hybrid mode == python mode: exact equality of every trade field,
equity point, counter and (where asked) decision-trace row.

The seeded configurations here are chosen by hand to cover each execution rule (policies,
slippage models, fees, sizing, timeframes, management); tests/test_parity.py adds 200 drawn
ones. A custom Python strategy exercises the actions no built-in strategy returns
(partial closes, stop/target modifications, break-even moves, absolute levels, risk sizing,
skipped orders) through the Rust engine in hybrid mode.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from _rust_helpers import assert_same_run
from omega.data import generate_synthetic
from omega.engine.settings import (
    BreakEvenSettings,
    EngineSettings,
    FeeSettings,
    SizingSettings,
    SlippageSettings,
    TrailingSettings,
)
from omega.strategy import (
    Close,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    PartialClose,
    Strategy,
    TradeSignal,
    get_strategy,
)
from omega.timeframes import Timeframe

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

from omega.engine.hybrid import run_hybrid
from omega.engine.loop import run_python
from omega.engine.rust import run_rust, rust_strategy_names

M5, M15, H1 = Timeframe.M5, Timeframe.M15, Timeframe.H1


@pytest.fixture(scope="module")
def eurusd():
    return generate_synthetic(n_bars=20_000, seed=7, symbol="EURUSD")


@pytest.fixture(scope="module")
def usdjpy():
    return generate_synthetic(n_bars=20_000, seed=11, symbol="USDJPY")


def settings_for(bars, **changes) -> EngineSettings:
    return replace(EngineSettings(instrument=bars.instrument), **changes)


CONFIGS = {
    "defaults": {},
    "optimistic_fixed_slip_fees": dict(
        intrabar_policy="optimistic",
        slippage=SlippageSettings(model="fixed", pips=0.5),
        fees=FeeSettings(commission_per_lot=3.5, percent_of_notional=0.002),
    ),
    "finer_random_slip_risk": dict(
        intrabar_policy="finer",
        slippage=SlippageSettings(model="random", pips=1.0, seed=12345),
        sizing=SizingSettings(mode="risk_percent", risk_percent=1.5),
    ),
    "finer_atr_slip_management": dict(
        intrabar_policy="finer",
        slippage=SlippageSettings(model="atr", atr_fraction=0.1, atr_period=10),
        break_even=BreakEvenSettings(trigger=4.0, offset=1.0),
        trailing=TrailingSettings(distance=12.0),
        max_bars_held=20,
    ),
    "m1_primary_finer_is_pessimistic": dict(
        primary_timeframe=Timeframe.M1,
        timeframes=(Timeframe.M1,),
        intrabar_policy="finer",
        sizing=SizingSettings(mode="fixed", lots=0.37),
    ),
    "m15_primary_with_h1": dict(
        primary_timeframe=M15,
        timeframes=(M15, H1),
        slippage=SlippageSettings(model="random", pips=0.3, seed=-5),
    ),
}

STRATEGIES = {
    "mean_reversion_z_score": {"lookback": 20, "z_entry": 1.5, "kalman_q": 0.05},
    "mean_reversion_z_score_no_filter": {
        "lookback": 30,
        "z_entry": 2.0,
        "trend_filter": False,
        "tp_atr": 0.0,
    },
    "sma_cross": {"fast": 5, "slow": 20},
    "zscore_threshold": {"period": 20, "entry": 1.5},
}


def _strategy(key: str) -> tuple[str, dict]:
    name = "mean_reversion_z_score" if key.startswith("mean_reversion") else key
    return name, STRATEGIES[key]


def test_every_python_builtin_has_a_rust_twin():
    # (pairs_zscore is a portfolio strategy: its parity is tests/test_basket_portfolio_rust.py)
    assert set(rust_strategy_names()) == {
        "mean_reversion_z_score",
        "pairs_zscore",
        "sma_cross",
        "zscore_threshold",
    }


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("key", sorted(STRATEGIES))
def test_rust_equals_python(eurusd, config, key):
    name, params = _strategy(key)
    settings = settings_for(eurusd, **CONFIGS[config])
    expected = run_python(eurusd, get_strategy(name)(params), settings)
    got = run_rust(eurusd, name, params, settings)
    assert expected.n_trades > 5, "the configuration must trade for the comparison to mean much"
    assert_same_run(expected, got)


@pytest.mark.parametrize("config", ["defaults", "finer_random_slip_risk", "m15_primary_with_h1"])
def test_rust_equals_python_on_usdjpy_with_a_usd_account(usdjpy, config):
    # USDJPY with a USD account converts PnL and fees by division (account = base currency).
    name, params = _strategy("mean_reversion_z_score")
    settings = settings_for(usdjpy, **CONFIGS[config])
    expected = run_python(usdjpy, get_strategy(name)(params), settings)
    assert expected.n_trades > 5
    assert_same_run(expected, run_rust(usdjpy, name, params, settings))


def test_rust_equals_python_with_a_eur_account_on_eurusd(eurusd):
    settings = settings_for(
        eurusd, account_currency="EUR", fees=FeeSettings(percent_of_notional=0.003)
    )
    name, params = _strategy("zscore_threshold")
    expected = run_python(eurusd, get_strategy(name)(params), settings)
    assert expected.n_trades > 5
    assert_same_run(expected, run_rust(eurusd, name, params, settings))


@pytest.mark.parametrize("key", sorted(STRATEGIES))
def test_rust_trace_equals_python_trace(eurusd, key):
    name, params = _strategy(key)
    settings = settings_for(eurusd, **CONFIGS["finer_atr_slip_management"])
    expected = run_python(eurusd, get_strategy(name)(params), settings, trace=True)
    got = run_rust(eurusd, name, params, settings, trace=True)
    assert_same_run(expected, got, trace=True)
    events = {row["event"] for row in got.trace}
    assert {"signal_long", "signal_short", "exit_queued"} <= set("|".join(events).split("|"))


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("key", ["mean_reversion_z_score", "sma_cross"])
def test_hybrid_equals_python(eurusd, config, key):
    name, params = _strategy(key)
    settings = settings_for(eurusd, **CONFIGS[config])
    expected = run_python(eurusd, get_strategy(name)(params), settings, trace=True)
    got = run_hybrid(eurusd, get_strategy(name)(params), settings, trace=True)
    assert_same_run(expected, got, trace=True)


class Busy(Strategy):
    """Uses every signal field and action kind on a fixed schedule of bars, so both engines
    meet partial closes, modifications, break-even moves, reversals and skipped orders."""

    name = "busy_test_strategy"

    def evaluate(self, data):
        i = data.index
        close = data.bar.bid_close
        data.record("close", close)
        phase = i % 40
        if phase == 3:
            return TradeSignal.long(stop_loss_distance=0.0008, take_profit=close + 0.0015, tag="a")
        if phase == 9:  # while long: a reversal only if an exit is queued this bar
            return TradeSignal.short(stop_loss=close + 0.0010, risk_percent=0.5, tag="b")
        if phase == 21:
            return TradeSignal.short(size=0.004, tag="too_small")  # below min_lot: skipped
        if phase == 23:
            return TradeSignal.long(risk_percent=1.0, tag="no_stop")  # risk sizing without SL
        if phase == 25:
            return TradeSignal.long(size=0.05, stop_loss_distance=0.0006, max_bars=4, tag="c")
        return None

    def manage_position(self, position, data):
        phase = data.index % 40
        if phase == 5:
            return PartialClose(0.5)
        if phase == 6:
            return ModifyStopLoss(position.entry_price - 0.0003 * position.side)
        if phase == 7:
            return ModifyTakeProfit(None)
        if phase == 8:
            return MoveToBreakEven(0.5)
        if phase == 9:
            return Close()
        if phase == 12:
            return PartialClose(0.0001)  # rounds to 0 lots: partial_below_lot_step
        return None


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_hybrid_equals_python_for_every_action_kind(eurusd, config):
    settings = settings_for(eurusd, **CONFIGS[config])
    expected = run_python(eurusd, Busy(), settings, trace=True)
    got = run_hybrid(eurusd, Busy(), settings, trace=True)
    assert_same_run(expected, got, trace=True)
    reasons = set(expected.trades["exit_reason"])
    assert "partial" in reasons
    skipped = {s.reason for s in expected.skipped_orders}
    assert {"below_min_lot", "partial_below_lot_step"} <= skipped
    events = set("|".join(row["event"] for row in got.trace).split("|"))
    assert {"partial_queued", "modify_sl", "modify_tp", "break_even"} <= events


class Tight(Strategy):
    """Enters at every flat close with stop and target 2 pips away, alternating sides, so
    that many M15 bars touch both levels and the intrabar policy decides."""

    name = "tight_test_strategy"

    def evaluate(self, data):
        if data.position is not None:
            return None
        make = TradeSignal.long if data.index % 2 else TradeSignal.short
        return make(stop_loss_distance=0.0002, take_profit_distance=0.0002, tag="t")


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic", "finer"])
def test_hybrid_equals_python_when_both_levels_sit_inside_one_bar(eurusd, policy):
    settings = settings_for(
        eurusd,
        primary_timeframe=M15,
        timeframes=(M15,),
        intrabar_policy=policy,
        slippage=SlippageSettings(model="random", pips=0.7, seed=3),
    )
    expected = run_python(eurusd, Tight(), settings)
    got = run_hybrid(eurusd, Tight(), settings)
    assert_same_run(expected, got)
    exits_inside_the_bar = expected.trades["exit_time"] % M15.nanos != 0
    if policy == "finer":
        # The finer walk dates exits at the M1 bar that decided them.
        assert exits_inside_the_bar.sum() > 50
    else:
        assert not exits_inside_the_bar.any()


def test_the_intrabar_policy_changes_the_outcome(eurusd):
    runs = {}
    for policy in ("pessimistic", "optimistic", "finer"):
        settings = settings_for(
            eurusd, primary_timeframe=M15, timeframes=(M15,), intrabar_policy=policy
        )
        runs[policy] = run_hybrid(eurusd, Tight(), settings)
    reasons = {p: list(r.trades["exit_reason"]) for p, r in runs.items()}
    assert reasons["pessimistic"] != reasons["optimistic"]
    assert reasons["finer"] not in (reasons["pessimistic"], reasons["optimistic"])

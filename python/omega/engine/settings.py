"""Everything the engine needs besides bars and a strategy: one frozen, validated value.

`omega.config.BacktestConfig` (pydantic, user facing) maps onto `EngineSettings`; both engines
(the Python reference and the Rust core) read only this, so they cannot disagree on inputs.
Semantics of every field: docs/engine/execution.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from omega.data.bars import Instrument
from omega.timeframes import Timeframe

IntrabarPolicy = Literal["pessimistic", "optimistic", "finer"]
SlippageModel = Literal["none", "fixed", "random", "atr"]
SizingMode = Literal["fixed", "risk_percent"]
StopUnit = Literal["pips", "atr"]


@dataclass(frozen=True)
class SlippageSettings:
    model: SlippageModel = "none"
    pips: float = 0.0  # fixed: the slip; random: the maximum slip (uniform in [0, pips))
    atr_fraction: float = 0.0  # atr: slip = atr_fraction * ATR(atr_period) of the last closed bar
    atr_period: int = 14
    seed: int = 0  # random: seed of the SplitMix64 generator shared with Rust


@dataclass(frozen=True)
class FeeSettings:
    commission_per_lot: float = 0.0  # account currency per lot per side
    percent_of_notional: float = 0.0  # percent of the fill's notional per side


@dataclass(frozen=True)
class SizingSettings:
    mode: SizingMode = "fixed"
    lots: float = 1.0
    risk_percent: float = 1.0


@dataclass(frozen=True)
class BreakEvenSettings:
    """Fires once per position when the gain at a close reaches ``trigger`` units; the stop
    goes to entry +/- ``offset`` units. A unit is a pip, or ATR(stop_atr_period) at that close
    for ``unit="atr"``."""

    trigger: float
    offset: float = 0.0
    unit: StopUnit = "pips"


@dataclass(frozen=True)
class TrailingSettings:
    """At every close the stop follows the close at ``distance`` units (only tightening)."""

    distance: float
    unit: StopUnit = "pips"


@dataclass(frozen=True)
class EngineSettings:
    primary_timeframe: Timeframe = Timeframe.M5
    # Every timeframe the strategy may read (the primary is always included).
    timeframes: tuple[Timeframe, ...] = (Timeframe.M5,)
    intrabar_policy: IntrabarPolicy = "pessimistic"
    slippage: SlippageSettings = field(default_factory=SlippageSettings)
    fees: FeeSettings = field(default_factory=FeeSettings)
    sizing: SizingSettings = field(default_factory=SizingSettings)
    break_even: BreakEvenSettings | None = None
    trailing: TrailingSettings | None = None
    max_bars_held: int | None = None
    # ATR period of break-even / trailing in unit "atr" (primary timeframe, bid side).
    stop_atr_period: int = 14
    initial_balance: float = 100_000.0
    account_currency: str = "USD"
    instrument: Instrument = field(default_factory=Instrument)

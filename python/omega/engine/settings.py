"""Everything the engine needs besides bars and a strategy: one frozen, validated value.

`omega.config.BacktestConfig` (pydantic, user facing) maps onto `EngineSettings`; both engines
(the Python reference and the Rust core) read only this, so they cannot disagree on inputs.
Semantics of every field: docs/engine/execution.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from omega.data.bars import Instrument
from omega.timeframes import Timeframe

IntrabarPolicy = Literal["pessimistic", "optimistic", "finer"]
SlippageModel = Literal["none", "fixed", "random", "atr"]
SizingMode = Literal["fixed", "risk_percent"]
StopUnit = Literal["pips", "atr"]
EndOfData = Literal["last_close", "last_open", "mark"]
SwapUnit = Literal["points", "annual_percent"]


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
class SwapSettings:
    """Swap at each rollover a position is held over: ``long`` / ``short`` in ``unit``
    (points of ``instrument.point`` per lot per night, or percent of the notional per year);
    positive is a credit. Rollover at ``rollover_time`` (HH:MM) in ``timezone`` on local
    Monday to Friday, three nights on ``triple_weekday`` (0 = Monday)."""

    long: float = 0.0
    short: float = 0.0
    unit: SwapUnit = "points"
    rollover_time: str = "17:00"
    timezone: str = "America/New_York"
    triple_weekday: int = 2

    @property
    def rollover_minute(self) -> int:
        hour, minute = self.rollover_time.split(":")
        return int(hour) * 60 + int(minute)


@dataclass(frozen=True)
class MarginSettings:
    """Margin of a position: ``margin_rate`` of its notional; the margin level is equity /
    used margin x 100; below ``margin_call_level`` a warning, below ``stop_out_level`` the
    position is closed (exit reason ``stop_out``)."""

    margin_rate: float = 0.01
    margin_call_level: float = 100.0
    stop_out_level: float = 50.0


@dataclass(frozen=True, eq=False)
class CrossSettings:
    """Conversion of quote-currency amounts to the account currency for a cross: through
    the bid closes of the pair ``symbol`` (``times``: their bars' open times, UTC ns) or a
    ``fixed_rate``. ``multiply``: the pair quotes the account currency per unit of the
    instrument's quote currency (GBPUSD for EURGBP in a USD account), else divide."""

    symbol: str
    multiply: bool
    fixed_rate: float | None = None
    times: Any = None  # np.ndarray[int64] | None
    closes: Any = None  # np.ndarray[float64] | None
    # in a basket: the member whose bars these are (times and closes are views of them);
    # the Rust engine then reads that member's bars instead of copying the columns
    member: int | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CrossSettings):
            return NotImplemented
        return (self.symbol, self.multiply, self.fixed_rate, self.member) == (
            other.symbol,
            other.multiply,
            other.fixed_rate,
            other.member,
        ) and all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in ((self.times, other.times), (self.closes, other.closes))
        )

    def __hash__(self) -> int:
        return hash((self.symbol, self.multiply, self.fixed_rate))


@dataclass(frozen=True)
class SessionSettings:
    """Trading hours: entries fill only at bars opening in ``[start, end)`` local time of
    ``timezone`` on ``weekdays`` (0 = Monday); ``end <= start`` runs over midnight."""

    timezone: str = "UTC"
    start: str = "00:00"
    end: str = "24:00"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


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
    # the instrument's id: its place in a basket's instruments: list (0 alone); slices,
    # positions and working orders carry it, and a signal naming another id is refused
    instrument_id: int = 0
    end_of_data: EndOfData = "last_close"
    swap: SwapSettings | None = None
    margin: MarginSettings | None = None
    cross: CrossSettings | None = None
    session: SessionSettings | None = None
    # news blackouts: [start, end) windows in UTC ns
    blackouts: tuple[tuple[int, int], ...] = ()

"""`DataSlice`: everything a strategy may know at the close of one primary bar, and no more.

The engine builds one `MarketData` before the loop and one `DataSlice` over it, then moves the
slice from bar to bar. Every read is bounded by the visibility rule of the contract: primary
bars up to the current one, other timeframes up to their last bar whose close time is <= the
current bar's close time. Arrays handed out are read-only views.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from omega.data.bars import COLUMNS
from omega.errors import StrategyError
from omega.timeframes import Timeframe

if TYPE_CHECKING:
    from omega.data.bars import BarSeries
    from omega.indicators import IndicatorSpec
    from omega.strategy.position import Position

NAN = math.nan

IndicatorKey = tuple[Timeframe, str, "IndicatorSpec"]


class Bar(NamedTuple):
    """One two-sided bar (open time in UTC ns)."""

    time: int
    bid_open: float
    bid_high: float
    bid_low: float
    bid_close: float
    ask_open: float
    ask_high: float
    ask_low: float
    ask_close: float
    volume: float


@dataclass
class MarketData:
    """The read-only market context of one run, built by the engine before the loop.

    ``series`` holds every configured timeframe (read-only arrays); ``visible[tf][i]`` is the
    last index of ``tf`` visible at the close of primary bar ``i`` (-1 if none; the primary
    timeframe maps to ``i`` itself and has no entry); ``indicators`` maps each declared
    (timeframe, side, spec) to its full series (any float sequence; the engine uses
    ``array.array``).
    """

    primary_timeframe: Timeframe
    series: dict[Timeframe, BarSeries]
    visible: dict[Timeframe, Sequence[int]]
    indicators: dict[IndicatorKey, Sequence[float]]

    def __post_init__(self) -> None:
        p = self.series[self.primary_timeframe]
        # array.array: item access almost as fast as a list's, at a quarter of the memory
        # (8 bytes per value instead of a pointer plus a float object).
        self.primary_columns: tuple[Any, ...] = tuple(
            compact(getattr(p, name))
            for name in (
                "time",
                "bid_open",
                "bid_high",
                "bid_low",
                "bid_close",
                "ask_open",
                "ask_high",
                "ask_low",
                "ask_close",
                "volume",
            )
        )


def compact(values: np.ndarray | list) -> array:
    """An ``array.array`` copy of a 1-D int64 or float64 column (values unchanged)."""
    values = np.ascontiguousarray(values)
    out = array("q" if values.dtype.kind in "iu" else "d")
    out.frombytes(values.astype(np.int64 if values.dtype.kind in "iu" else np.float64).tobytes())
    return out


def prefix_view(series: BarSeries, stop: int) -> BarSeries:
    """``series.slice(0, stop)`` without its per-call validation.

    A new higher-timeframe bar closes often enough (once per hour for an H1 filter) that
    `dataclasses.replace` and `BarSeries.__post_init__` show up in profiles. Prefixes of an
    already validated series keep its invariants (equal lengths, C-contiguous, right dtypes),
    so the view is assembled directly: every field copied, the columns cut, no quality report.
    """
    view = object.__new__(type(series))
    fields = view.__dict__
    fields.update(series.__dict__)
    for name in COLUMNS:
        fields[name] = fields[name][:stop]
    fields["quality"] = None
    return view


class DataSlice:
    """The strategy's window on the market at the close of primary bar ``index``."""

    __slots__ = ("_i", "_market", "_memo", "_position", "_tf_memo", "_values")

    def __init__(self, market: MarketData) -> None:
        self._market = market
        self._i = -1
        self._position: Position | None = None
        self._values: dict[str, float] | None = None
        self._memo: dict[tuple[int, int, str], tuple] = {}
        self._tf_memo: dict[int, list] = {}

    # -- moved by the engine -------------------------------------------------------------
    def _move(
        self, index: int, position: Position | None, values: dict[str, float] | None = None
    ) -> None:
        """Point the slice at primary bar ``index`` (engine use only). ``values`` collects
        the ``record`` calls of this bar when a decision trace is requested."""
        self._i = index
        self._position = position
        self._values = values

    # -- what the strategy reads ---------------------------------------------------------
    @property
    def index(self) -> int:
        """Index of the current primary bar (0-based)."""
        return self._i

    @property
    def time(self) -> int:
        """Open time of the current primary bar (UTC ns); it closes at time + primary tf."""
        return self._market.primary_columns[0][self._i]

    @property
    def primary_timeframe(self) -> Timeframe:
        return self._market.primary_timeframe

    @property
    def timeframes(self) -> tuple[Timeframe, ...]:
        """Every timeframe this run may read, finest first."""
        return tuple(sorted(self._market.series, key=lambda tf: tf.seconds))

    @property
    def position(self) -> Position | None:
        """The open position, or ``None`` when flat."""
        return self._position

    @property
    def bar(self) -> Bar:
        """The current primary bar (closed: the slice is seen at its close)."""
        i = self._i
        return Bar(*(column[i] for column in self._market.primary_columns))

    def last_closed(self, timeframe: Timeframe | str) -> int:
        """Index of the last closed bar of ``timeframe`` (-1 if none closed yet)."""
        entry = self._tf_memo.get(id(timeframe))  # inlined _timeframe_entry hit: hot path
        if entry is None or entry[0] is not timeframe:
            entry = self._timeframe_entry(timeframe)
        visible = entry[2]
        return self._i if visible is None else visible[self._i]

    def closed_bars(self, timeframe: Timeframe | str | None = None) -> BarSeries:
        """The closed bars of ``timeframe`` up to now, as a read-only BarSeries view."""
        entry = self._tf_memo.get(id(timeframe))
        if entry is None or entry[0] is not timeframe:
            entry = self._timeframe_entry(timeframe)
        visible = entry[2]
        j = self._i if visible is None else visible[self._i]
        if entry[3] == j:
            return entry[4]
        view = prefix_view(self._market.series[entry[1]], j + 1)
        entry[3] = j
        entry[4] = view
        return view

    def indicator(
        self,
        spec: IndicatorSpec,
        timeframe: Timeframe | str | None = None,
        side: str = "bid",
        offset: int = 0,
    ) -> float:
        """Value of a declared indicator at the last visible bar of ``timeframe`` minus
        ``offset`` bars (NaN before the series starts or during its warm-up)."""
        # Hot path: strategies pass the same spec objects every bar, so a memo keyed by
        # object identity skips hashing the spec and the timeframe enum (both Python-level).
        memo_key = (id(spec), id(timeframe), side)
        hit = self._memo.get(memo_key)
        if hit is None or hit[0] is not spec or hit[1] is not timeframe:
            hit = self._lookup(spec, timeframe, side)
            self._memo[memo_key] = hit
        if offset < 0:
            raise StrategyError(f"indicator offset must be >= 0 (no look-ahead), got {offset}")
        visible = hit[3]
        j = self._i if visible is None else visible[self._i]
        k = j - offset
        if k < 0 or j < 0:
            return NAN
        return hit[2][k]

    def _lookup(self, spec: IndicatorSpec, timeframe: Timeframe | str | None, side: str) -> tuple:
        tf, visible = self._resolve(timeframe)
        values = self._market.indicators.get((tf, side, spec))
        if values is None:
            raise StrategyError(
                f"indicator {spec} on {tf} {side} was not declared by the strategy's "
                "indicators(); declare every series it reads"
            )
        # the memo entry holds spec and timeframe, so their ids cannot be reused meanwhile
        return (spec, timeframe, values, visible)

    def _closed_view(self, timeframe: Timeframe | str | None, j: int) -> BarSeries:
        """Bars ``0..=j`` of ``timeframe`` (engine use: hybrid mode's `closed_bars`)."""
        return prefix_view(self._market.series[self._timeframe_entry(timeframe)[1]], j + 1)

    def record(self, name: str, value: float) -> None:
        """Add ``name = value`` to this bar's decision-trace row (a no-op without a trace)."""
        if self._values is not None:
            self._values[name] = value

    def _resolve(self, timeframe: Timeframe | str | None) -> tuple[Timeframe, Sequence[int] | None]:
        """The run timeframe and its visibility map (None for the primary: index = i)."""
        entry = self._timeframe_entry(timeframe)
        return entry[1], entry[2]

    def _timeframe_entry(self, timeframe: Timeframe | str | None) -> list:
        """``[timeframe as given, run timeframe, visibility map, j, closed view at j]``.

        Hot path: strategies pass the same timeframe object every bar, so the entry is found
        by object identity (hashing a Timeframe enum member runs Python code); it also holds
        the last `closed_bars` view, rebuilt only when a new bar of that timeframe closes.
        """
        entry = self._tf_memo.get(id(timeframe))
        if entry is not None and entry[0] is timeframe:
            return entry
        market = self._market
        if timeframe is None:
            tf = market.primary_timeframe
        else:
            tf = timeframe if isinstance(timeframe, Timeframe) else Timeframe.parse(timeframe)
        if tf not in market.series:
            configured = ", ".join(str(t) for t in self.timeframes)
            raise StrategyError(f"timeframe {tf} is not configured for this run ({configured})")
        visible = None if tf is market.primary_timeframe else market.visible[tf]
        # the entry holds the timeframe object, so its id cannot be reused meanwhile
        entry = [timeframe, tf, visible, -2, None]
        self._tf_memo[id(timeframe)] = entry
        return entry

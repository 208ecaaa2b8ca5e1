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
    from omega.strategy.position import Position

NAN = math.nan


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


BAR_FIELDS = Bar._fields


@dataclass
class MarketData:
    """The read-only market context of one run, built by the engine before the loop.

    ``series`` holds every configured timeframe (read-only arrays); ``visible[tf][i]`` is the
    last index of ``tf`` visible at the close of primary bar ``i`` (-1 if none; the primary
    timeframe maps to ``i`` itself and has no entry); ``indicators[h]`` is the full series of
    the declaration with handle ``h`` (any float sequence; the engine uses ``array.array``)
    and ``indicator_timeframes[h]`` its timeframe. ``instrument`` is the instrument's id.
    """

    primary_timeframe: Timeframe
    series: dict[Timeframe, BarSeries]
    visible: dict[Timeframe, Sequence[int]]
    indicators: Sequence[Sequence[float]] = ()
    indicator_timeframes: Sequence[Timeframe] = ()
    instrument: int = 0

    def __post_init__(self) -> None:
        p = self.series[self.primary_timeframe]
        # array.array: item access almost as fast as a list's, at a quarter of the memory
        # (8 bytes per value instead of a pointer plus a float object).
        self.primary_columns: tuple[Any, ...] = tuple(
            compact(getattr(p, name)) for name in BAR_FIELDS
        )
        if len(self.indicators) != len(self.indicator_timeframes):
            raise ValueError("MarketData: one timeframe per indicator series")
        # per handle: (values, visibility map or None for the primary, read-only numpy view)
        self.handles: list[tuple[Sequence[float], Sequence[int] | None, np.ndarray]] = []
        for values, tf in zip(self.indicators, self.indicator_timeframes, strict=True):
            visible = None if tf is self.primary_timeframe else self.visible[tf]
            view = np.asarray(memoryview(values) if isinstance(values, array) else values)
            view = view.view()
            view.flags.writeable = False
            self.handles.append((values, visible, view))
        self._columns: dict[Timeframe, tuple[Any, ...]] = {
            self.primary_timeframe: self.primary_columns
        }

    def columns(self, timeframe: Timeframe) -> tuple[Any, ...]:
        """The ten `Bar` columns of ``timeframe`` as ``array.array`` (built on first use)."""
        columns = self._columns.get(timeframe)
        if columns is None:
            bars = self.series[timeframe]
            columns = tuple(compact(getattr(bars, name)) for name in BAR_FIELDS)
            self._columns[timeframe] = columns
        return columns


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

    __slots__ = ("_i", "_in_session", "_market", "_position", "_tf_memo", "_values")

    def __init__(self, market: MarketData) -> None:
        self._market = market
        self._i = -1
        self._in_session = True
        self._position: Position | None = None
        self._values: dict[str, float] | None = None
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

    @property
    def instrument(self) -> int:
        """The id of the instrument this slice is about (0 in a single-instrument run)."""
        return self._market.instrument

    @property
    def in_session(self) -> bool:
        """Whether the current bar's open is inside the trading session and outside every
        blackout (``execution.session``, ``execution.blackouts``; True when none is
        configured). Entries fill only at such bars."""
        return self._in_session

    @property
    def tracing(self) -> bool:
        """Whether a decision trace is recorded (``record`` is a no-op otherwise)."""
        return self._values is not None

    def last_closed(self, timeframe: Timeframe | str) -> Bar | None:
        """The last closed bar of ``timeframe`` (None if none has closed yet)."""
        entry = self._tf_memo.get(id(timeframe))  # inlined _timeframe_entry hit: hot path
        if entry is None or entry[0] is not timeframe:
            entry = self._timeframe_entry(timeframe)
        visible = entry[2]
        j = self._i if visible is None else visible[self._i]
        if entry[5] == j:  # the same bar as at the last call (a coarser bar closes rarely)
            return entry[6]
        if j < 0:
            bar = None
        else:
            columns = entry[7]
            if columns is None:
                columns = entry[7] = self._market.columns(entry[1])
            bar = Bar._make([column[j] for column in columns])
        entry[5] = j
        entry[6] = bar
        return bar

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

    def value(self, handle: int, offset: int = 0) -> float:
        """Value of a declared indicator at the last closed bar of its timeframe minus
        ``offset`` bars: NaN when no bar of that timeframe has closed yet, when ``offset``
        reaches before the start, and during the warm-up."""
        try:
            values, visible, _ = self._market.handles[handle]
        except (IndexError, TypeError):
            raise self._bad_handle(handle) from None
        if offset < 0 or handle < 0:
            if handle < 0:
                raise self._bad_handle(handle)
            raise StrategyError(f"indicator offset must be >= 0 (no look-ahead), got {offset}")
        j = self._i if visible is None else visible[self._i]
        k = j - offset
        if k < 0:  # also j < 0: nothing closed (offset >= 0)
            return NAN
        return values[k]

    def series(self, handle: int) -> np.ndarray:
        """The values of a declared indicator up to the last closed bar of its timeframe
        (a read-only view, no copy)."""
        try:
            _, visible, view = self._market.handles[handle]
        except (IndexError, TypeError):
            raise self._bad_handle(handle) from None
        if handle < 0:
            raise self._bad_handle(handle)
        j = self._i if visible is None else visible[self._i]
        return view[: j + 1]

    def _bad_handle(self, handle: object) -> StrategyError:
        return StrategyError(
            f"unknown indicator handle {handle!r}: this run declared "
            f"{len(self._market.handles)} indicator(s) in init(); read only the handles "
            "ctx.indicator returned in this run"
        )

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
        """``[timeframe as given, run timeframe, visibility map, j, closed view at j, j of the
        last Bar, that Bar, bar columns or None]``.

        Hot path: strategies pass the same timeframe object every bar, so the entry is found
        by object identity (hashing a Timeframe enum member runs Python code); it also holds
        the last `closed_bars` view and the last `last_closed` Bar, rebuilt only when a new
        bar of that timeframe closes.
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
        entry = [timeframe, tf, visible, -2, None, -2, None, None]
        self._tf_memo[id(timeframe)] = entry
        return entry

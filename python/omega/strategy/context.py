"""`RunContext`: what a strategy learns at the start of a run, and where it declares the
indicators it reads, getting back `IndicatorHandle`s that read in O(1) at every bar.

The twin of ``omega_strategy_api::RunContext`` (Rust): same names, handles numbered
0, 1, 2, ... in declaration order (docs: the Strategy API 0.2 name table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from omega.errors import StrategyError
from omega.timeframes import Timeframe

if TYPE_CHECKING:
    from omega.indicators import IndicatorSpec

SIDES = ("bid", "ask", "mid")


class Instrument(NamedTuple):
    """The traded instrument as the strategy sees it (``id`` 0 in a single-instrument run)."""

    id: int = 0
    symbol: str = ""
    pip_size: float = 0.0001


class IndicatorHandle(int):
    """A declared indicator: read it with ``data.value(handle)``, ``data.value(handle, 1)``
    or ``data.series(handle)``. An int (its declaration index), valid for the run whose
    `RunContext` gave it: declare again in every ``init``."""

    __slots__ = ()

    @property
    def index(self) -> int:
        """Its position in the run's declarations."""
        return int(self)

    def __repr__(self) -> str:
        return f"IndicatorHandle({int(self)})"


class IndicatorRequest(NamedTuple):
    """One declared series: computed once before the loop, shared by key."""

    timeframe: Timeframe
    side: str
    spec: IndicatorSpec


class RunContext:
    """Given to ``Strategy.init`` once at the start of every run.

    ``instrument``, ``primary_timeframe``, ``timeframes`` (the configured ones, primary
    included, finest first) and ``params`` (the strategy's validated ``Params``) are read
    only; ``indicator`` declares a series and returns its handle; ``declared`` lists the
    declarations in handle order; ``read_timeframe`` adds a timeframe read without one.
    """

    __slots__ = (
        "_declared",
        "_name",
        "_read",
        "instrument",
        "params",
        "primary_timeframe",
        "timeframes",
    )

    def __init__(
        self,
        instrument: Instrument,
        primary_timeframe: Timeframe,
        timeframes: tuple[Timeframe, ...],
        params: Any,
        strategy_name: str = "",
    ) -> None:
        self.instrument = instrument
        self.primary_timeframe = primary_timeframe
        self.timeframes = tuple(timeframes)
        self.params = params
        self._name = strategy_name
        self._declared: list[IndicatorRequest] = []
        self._read: list[Timeframe] = []

    def indicator(
        self,
        spec: IndicatorSpec,
        *,
        timeframe: Timeframe | str | None = None,
        side: str = "bid",
    ) -> IndicatorHandle:
        """Declare ``spec`` on ``side`` of ``timeframe`` (default: the primary timeframe, bid).

        Every call is a new handle, also for an equal declaration (the series is computed
        once all the same). A registered custom kind is declared the same way.
        """
        from omega.indicators import IndicatorSpec

        if not isinstance(spec, IndicatorSpec):
            raise self._error(f"indicator spec must be an IndicatorSpec, got {spec!r}")
        if timeframe is None:
            tf = self.primary_timeframe
        else:
            try:
                tf = Timeframe.parse(timeframe)
            except ValueError as exc:
                raise self._error(str(exc)) from None
        if side not in SIDES:
            raise self._error(f"indicator side must be one of {SIDES}, got {side!r}")
        handle = IndicatorHandle(len(self._declared))
        self._declared.append(IndicatorRequest(tf, side, spec))
        return handle

    def read_timeframe(self, timeframe: Timeframe | str) -> None:
        """Declare that the strategy reads the closed bars of ``timeframe`` (``closed_bars``,
        ``last_closed``) without an indicator on it: the engine adds it to the run."""
        try:
            self._read.append(Timeframe.parse(timeframe))
        except ValueError as exc:
            raise self._error(str(exc)) from None

    @property
    def read_timeframes(self) -> tuple[Timeframe, ...]:
        """The timeframes given to ``read_timeframe``."""
        return tuple(self._read)

    @property
    def declared(self) -> tuple[IndicatorRequest, ...]:
        """Every declaration so far, in handle order."""
        return tuple(self._declared)

    def _error(self, message: str) -> StrategyError:
        return StrategyError(f"strategy {self._name}: {message}" if self._name else message)

    def __repr__(self) -> str:
        return (
            f"RunContext({self.instrument.symbol or 'instrument'} {self.primary_timeframe}, "
            f"timeframes={[str(t) for t in self.timeframes]}, declared={len(self._declared)})"
        )

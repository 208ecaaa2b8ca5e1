"""`PortfolioStrategy`: one strategy over a whole basket (pairs trading, currency baskets).

It sees every instrument's closed bars and indicators through a `BasketSlice` and returns
signals per instrument; each instrument of the basket runs a `PortfolioMember` (a plain
`Strategy`) that asks the shared portfolio for its decision, so the engines run it as they
run any Python strategy (python and hybrid modes). Contract: docs/engine/portfolio.md.

At each close time the basket's members are first managed (``manage_position`` per
instrument with a position), then evaluated: the portfolio's ``evaluate`` runs once, at the
first instrument evaluated at that time, and its signals go to the instruments with a bar
closing then (a signal for an instrument without one is dropped and counted in
``dropped_signals``). No instrument's forming bar is visible: an instrument's last closed bar
is the last one opening at or before the current bar's open time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from omega.errors import StrategyError
from omega.strategy.base import Strategy, StrategyParams
from omega.strategy.context import IndicatorRequest, RunContext
from omega.strategy.data_slice import Bar, DataSlice, MarketData
from omega.strategy.signals import TradeSignal

if TYPE_CHECKING:
    from omega.data.bars import Instrument
    from omega.indicators import IndicatorSpec
    from omega.strategy.position import Position
    from omega.strategy.signals import PositionAction
    from omega.timeframes import Timeframe

NAN = float("nan")


class BasketContext:
    """Given to ``PortfolioStrategy.init``: the basket's ``symbols`` and ``instruments`` (by
    symbol), the primary timeframe, the configured timeframes, the params;
    ``indicator(symbol, spec, ...)`` declares a series on one instrument and returns its
    handle."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        primary_timeframe: Timeframe,
        timeframes: tuple[Timeframe, ...],
        params: Any,
        strategy_name: str,
    ) -> None:
        self.instruments = {inst.symbol: inst for inst in instruments}
        self.symbols = tuple(self.instruments)
        symbols = self.symbols
        self.primary_timeframe = primary_timeframe
        self.timeframes = timeframes
        self.params = params
        self._name = strategy_name
        # per handle: (symbol, that symbol's request); per symbol, its requests in order
        self.handles: list[tuple[str, int]] = []
        self.requests: dict[str, list[tuple[IndicatorSpec, Any, str]]] = {s: [] for s in symbols}

    def indicator(
        self,
        symbol: str,
        spec: IndicatorSpec,
        *,
        timeframe: Timeframe | str | None = None,
        side: str = "bid",
    ) -> int:
        """Declare ``spec`` on ``symbol``'s ``side`` of ``timeframe`` (default primary, bid)."""
        if symbol not in self.requests:
            raise StrategyError(
                f"strategy {self._name}: {symbol!r} is not in the basket {list(self.symbols)}"
            )
        requests = self.requests[symbol]
        self.handles.append((symbol, len(requests)))
        requests.append((spec, timeframe, side))
        return len(self.handles) - 1


class BasketSlice:
    """The basket at one close: every instrument's closed bars and declared indicators."""

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.time = 0  # open time of the bars closing now (UTC ns)
        self._slices: dict[str, DataSlice] = {}
        self._index: dict[str, int] = {}

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._shared.symbols

    def _at(self, time: int) -> None:
        if time != self.time:
            self.time = time
            self._index.clear()

    def _slice(self, symbol: str) -> tuple[DataSlice, int]:
        """``symbol``'s slice at its last closed primary bar (index -1: none yet)."""
        data = self._slices.get(symbol)
        if data is None:
            market = self._shared.market(symbol)
            data = self._slices[symbol] = DataSlice(market)
        i = self._index.get(symbol)
        if i is None:
            times = data._market.primary_columns[0]
            i = int(np.searchsorted(np.asarray(times), self.time, side="right")) - 1
            self._index[symbol] = i
            if i >= 0:
                data._move(i, None, None)
        return data, i

    def has_bar(self, symbol: str) -> bool:
        """Whether ``symbol`` has a bar closing now (only those can act on a signal)."""
        data, i = self._slice(symbol)
        return i >= 0 and int(data._market.primary_columns[0][i]) == self.time

    def bar(self, symbol: str) -> Bar | None:
        """``symbol``'s last closed primary bar (None before its first)."""
        data, i = self._slice(symbol)
        return data.bar if i >= 0 else None

    def close(self, symbol: str, ago: int = 0, side: str = "bid") -> float:
        """``symbol``'s close ``ago`` primary bars before its last closed one (NaN before
        its data starts)."""
        data, i = self._slice(symbol)
        k = i - ago
        if ago < 0:
            raise StrategyError(f"ago must be >= 0 (no look-ahead), got {ago}")
        if k < 0:
            return NAN
        column = 4 if side == "bid" else 8
        return float(data._market.primary_columns[column][k])

    def closes(self, symbol: str, side: str = "bid") -> np.ndarray:
        """``symbol``'s closes up to its last closed primary bar (a read-only view)."""
        data, i = self._slice(symbol)
        column = data._market.primary_columns[4 if side == "bid" else 8]
        view = np.asarray(column)[: i + 1]
        view.flags.writeable = False
        return view

    def value(self, handle: int, offset: int = 0) -> float:
        """A declared indicator at its instrument's last closed bar minus ``offset``."""
        try:
            symbol, local = self._shared.handles[handle]
        except (IndexError, TypeError):
            raise StrategyError(f"unknown basket indicator handle {handle!r}") from None
        data, i = self._slice(symbol)
        if i < 0:
            return NAN
        return data.value(local, offset)

    def position(self, symbol: str) -> Position | None:
        """``symbol``'s open position (None when flat): as of its management at this close
        for an instrument with a bar closing now, else as of its last close (a stop-out of
        the account between its bars shows at its next bar)."""
        return self._shared.positions.get(symbol)


class PortfolioStrategy:
    """Subclass, set ``name``, declare ``Params``, implement ``evaluate`` (and optionally
    ``manage_position``); register with ``@register_portfolio_strategy``."""

    name: ClassVar[str] = ""
    portfolio: ClassVar[bool] = True

    class Params(StrategyParams):
        pass

    def __init__(self, params: Mapping[str, Any] | StrategyParams | None = None) -> None:
        self.params = Strategy.validate_params.__func__(type(self), params)  # type: ignore[attr-defined]

    validate_params = classmethod(Strategy.validate_params.__func__)  # type: ignore[attr-defined]

    def init(self, ctx: BasketContext) -> None:
        """Once per run: declare indicators per instrument (``ctx.indicator(symbol, spec)``)."""

    def evaluate(self, basket: BasketSlice) -> Mapping[str, TradeSignal] | None:
        """At every close time: signals by symbol (for instruments with a bar closing now)."""
        raise NotImplementedError(f"{type(self).__name__}.evaluate")

    def manage_position(
        self, symbol: str, position: Position, basket: BasketSlice
    ) -> PositionAction | Sequence[PositionAction] | None:
        """At every close of ``symbol`` while it holds a position (before ``evaluate``)."""
        return None


class _Shared:
    """One run's portfolio and its members' common state."""

    def __init__(self, portfolio: PortfolioStrategy, ctx: BasketContext) -> None:
        self.portfolio = portfolio
        self.symbols = ctx.symbols
        self.handles = ctx.handles
        self.requests = ctx.requests
        self.markets: dict[str, Callable[[], MarketData]] = {}
        self.positions: dict[str, Position] = {}
        self.slice = BasketSlice(self)
        self.decided_at: int | None = None
        self.decisions: Mapping[str, TradeSignal] = {}
        self.managed: dict[str, Position] = {}  # managed at `managed_at`
        self.managed_at: int | None = None
        self.dropped_signals = 0

    def market(self, symbol: str) -> MarketData:
        try:
            return self.markets[symbol]()
        except KeyError:
            raise StrategyError(f"no market bound for {symbol}") from None

    def manage(self, symbol: str, time: int, position: Position) -> None:
        """``symbol`` holds ``position`` at its close at ``time``."""
        if self.managed_at != time:
            self.managed_at = time
            self.managed = {}
        self.managed[symbol] = position
        self.positions[symbol] = position

    def decide(self, time: int) -> Mapping[str, TradeSignal]:
        if self.decided_at != time:
            self.decided_at = time
            basket = self.slice
            basket._at(time)
            managed = self.managed if self.managed_at == time else {}
            for symbol in self.symbols:
                if basket.has_bar(symbol):  # managed now if it holds a position
                    position = managed.get(symbol)
                    if position is None:
                        self.positions.pop(symbol, None)
                    else:
                        self.positions[symbol] = position
            decided = self.portfolio.evaluate(self.slice)
            if decided is None:
                decided = {}
            if not isinstance(decided, Mapping):
                raise StrategyError(
                    f"portfolio {self.portfolio.name}: evaluate returned {decided!r}, "
                    "not a mapping of symbol to TradeSignal"
                )
            for symbol, signal in decided.items():
                if symbol not in self.symbols:
                    raise StrategyError(
                        f"portfolio {self.portfolio.name}: signal for {symbol!r}, not in the "
                        f"basket {list(self.symbols)}"
                    )
                if not isinstance(signal, TradeSignal):
                    raise StrategyError(
                        f"portfolio {self.portfolio.name}: {symbol}: {signal!r} is not a "
                        "TradeSignal"
                    )
            self.decisions = decided
            self.dropped_signals += sum(1 for s in decided if not basket.has_bar(s))
        return self.decisions


class PortfolioMember(Strategy):
    """One instrument's side of a portfolio strategy (what the engines run)."""

    name = "portfolio_member"

    def __init__(self, shared: _Shared, symbol: str) -> None:
        super().__init__({})
        self.name = f"{shared.portfolio.name}[{symbol}]"  # type: ignore[misc]
        self._shared = shared
        self.symbol = symbol

    def init(self, ctx: RunContext) -> None:
        from omega.indicators import IndicatorSpec

        for spec, timeframe, side in self._shared.requests[self.symbol]:
            if not isinstance(spec, IndicatorSpec):
                raise StrategyError(f"indicator spec must be an IndicatorSpec, got {spec!r}")
            ctx.indicator(spec, timeframe=timeframe, side=side)

    def bind_market(self, market: Callable[[], MarketData]) -> None:
        self._shared.markets[self.symbol] = market

    def manage_position(
        self, position: Position, data: DataSlice
    ) -> PositionAction | Sequence[PositionAction] | None:
        shared = self._shared
        time = int(data.time)
        shared.manage(self.symbol, time, position)
        shared.slice._at(time)
        return shared.portfolio.manage_position(self.symbol, position, shared.slice)

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        return self._shared.decide(int(data.time)).get(self.symbol)


def portfolio_members(
    portfolio: PortfolioStrategy,
    instruments: Sequence[Instrument],
    primary_timeframe: Timeframe,
    timeframes: tuple[Timeframe, ...],
) -> list[PortfolioMember]:
    """The members of one run of ``portfolio`` over ``instruments`` (its ``init`` runs
    here)."""
    ctx = BasketContext(
        instruments, primary_timeframe, timeframes, portfolio.params, portfolio.name
    )
    portfolio.init(ctx)
    shared = _Shared(portfolio, ctx)
    return [PortfolioMember(shared, symbol) for symbol in ctx.symbols]


def is_portfolio_strategy(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, PortfolioStrategy)


__all__ = [
    "BasketContext",
    "BasketSlice",
    "IndicatorRequest",
    "PortfolioMember",
    "PortfolioStrategy",
    "portfolio_members",
]

"""`ScriptedStrategy`: emits given signals and actions at given bars (for tests and demos).

It decides nothing itself, so a test can state exactly what the engine receives and check
the fills against the contract by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from omega.strategy.base import Strategy
from omega.strategy.context import IndicatorHandle, IndicatorRequest, RunContext
from omega.strategy.data_slice import DataSlice
from omega.strategy.position import Position
from omega.strategy.signals import OrderAction, PositionAction, TradeSignal, WorkingOrder

Actions = PositionAction | Sequence[PositionAction]
OrderActions = OrderAction | Sequence[OrderAction]


class ScriptedStrategy(Strategy):
    """``signals[i]`` is returned by ``evaluate`` at the close of primary bar ``i``,
    ``actions[i]`` (one action or a sequence) by ``manage_position``, ``order_actions[i]``
    by ``manage_order`` (while a pending entry works); ``requests`` are
    declared in ``init`` in order (their handles in ``handles``, and the context in
    ``context``); ``on_bar(data)`` (optional) is called at every ``evaluate`` first, e.g. to
    record values or raise."""

    name = "scripted"

    def __init__(
        self,
        signals: Mapping[int, TradeSignal] | None = None,
        actions: Mapping[int, Actions] | None = None,
        *,
        requests: Sequence[IndicatorRequest] | None = None,
        on_bar: Callable[[DataSlice], object] | None = None,
        order_actions: Mapping[int, OrderActions] | None = None,
    ) -> None:
        super().__init__({})
        self.signals = dict(signals or {})
        self.actions = dict(actions or {})
        self.requests = list(requests or [])
        self.on_bar = on_bar
        self.handles: list[IndicatorHandle] = []
        self.context: RunContext | None = None
        self.managed_at: list[int] = []  # bars where manage_position was called
        self.order_actions = dict(order_actions or {})
        self.orders_seen: list[tuple[int, str, float, int | None]] = []  # manage_order calls

    def init(self, ctx: RunContext) -> None:
        self.context = ctx
        self.handles = [
            ctx.indicator(spec, timeframe=timeframe, side=side)
            for timeframe, side, spec in self.requests
        ]

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        if self.on_bar is not None:
            self.on_bar(data)
        return self.signals.get(data.index)

    def manage_position(self, position: Position, data: DataSlice) -> Actions | None:
        self.managed_at.append(data.index)
        return self.actions.get(data.index)

    def manage_order(self, order: WorkingOrder, data: DataSlice) -> OrderActions | None:
        self.orders_seen.append((data.index, order.order, order.price, order.bars_left))  # type: ignore[arg-type]
        return self.order_actions.get(data.index)

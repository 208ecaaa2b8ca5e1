"""`Strategy`: the base class every Python strategy derives from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from omega.errors import StrategyError
from omega.strategy.context import IndicatorRequest, RunContext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from omega.strategy.data_slice import DataSlice
    from omega.strategy.position import Position
    from omega.strategy.signals import OrderAction, PositionAction, TradeSignal, WorkingOrder

__all__ = ["IndicatorRequest", "Strategy", "StrategyParams"]


class StrategyParams(BaseModel):
    """Base of every strategy's ``Params``: unknown names are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Strategy:
    """Subclass, set ``name``, declare ``Params``, and implement ``evaluate``.

    The engine calls ``init`` once at the start of every run (declare indicators there and
    keep their handles), then, at the close of every primary bar: ``manage_position`` while a
    position is open (after the declarative stop management), then ``evaluate``. Both see the
    market only through the ``DataSlice``. See docs/strategies/writing_python.md.
    """

    name: ClassVar[str] = ""

    class Params(StrategyParams):
        pass

    def __init__(self, params: Mapping[str, Any] | BaseModel | None = None) -> None:
        self.params = self.validate_params(params)

    @classmethod
    def validate_params(cls, params: Mapping[str, Any] | BaseModel | None) -> Any:
        """A validated ``Params`` instance; errors name the strategy and the parameter."""
        if isinstance(params, cls.Params):
            return params
        if isinstance(params, BaseModel):
            params = params.model_dump()
        if params is not None and not isinstance(params, Mapping):
            raise StrategyError(
                f"strategy {cls.name}: params must be a mapping, got {type(params).__name__}"
            )
        try:
            return cls.Params(**dict(params or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"parameter {'.'.join(str(p) for p in err['loc']) or '<model>'}: {err['msg']}"
                for err in exc.errors()
            )
            raise StrategyError(f"strategy {cls.name}: {problems}") from None

    def init(self, ctx: RunContext) -> None:
        """Called once at the start of every run, before the loop: declare every indicator
        read later with ``ctx.indicator(spec, ...)`` and keep the handles; raise
        `StrategyError` to refuse the run (e.g. a timeframe parameter that does not fit)."""

    def evaluate(self, data: DataSlice) -> TradeSignal | None:
        """Called at every primary close; a signal becomes an order for the next open."""
        raise NotImplementedError(f"{type(self).__name__}.evaluate")

    def manage_position(
        self, position: Position, data: DataSlice
    ) -> PositionAction | Sequence[PositionAction] | None:
        """Called at every close while a position is open; may return one action or a
        sequence of them, applied in the order given (docs/engine/execution.md)."""
        return None

    def manage_order(
        self, order: WorkingOrder, data: DataSlice
    ) -> OrderAction | Sequence[OrderAction] | None:
        """Called at every close while a pending entry works (before ``evaluate``); may
        return `CancelOrder` or `ModifyOrder` actions, applied in order. The default keeps
        the order working."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

"""The Python strategy API: signals, actions, the position view, the data slice, the base
class and the registry. Guide: docs/strategies/writing_python.md."""

from __future__ import annotations

from omega.strategy.base import Strategy, StrategyParams
from omega.strategy.context import IndicatorHandle, IndicatorRequest, Instrument, RunContext
from omega.strategy.data_slice import Bar, DataSlice, MarketData
from omega.strategy.position import Position
from omega.strategy.registry import (
    get_strategy,
    list_strategies,
    register_strategy,
    strategy_schema,
)
from omega.strategy.scripted import ScriptedStrategy
from omega.strategy.signals import (
    LONG,
    SHORT,
    CancelOrder,
    Close,
    ModifyOrder,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    OrderAction,
    PartialClose,
    PositionAction,
    TradeSignal,
    TrailStop,
    WorkingOrder,
)

__all__ = [
    "LONG",
    "SHORT",
    "Bar",
    "CancelOrder",
    "Close",
    "DataSlice",
    "IndicatorHandle",
    "IndicatorRequest",
    "Instrument",
    "MarketData",
    "ModifyOrder",
    "ModifyStopLoss",
    "ModifyTakeProfit",
    "MoveToBreakEven",
    "OrderAction",
    "PartialClose",
    "Position",
    "PositionAction",
    "RunContext",
    "ScriptedStrategy",
    "Strategy",
    "StrategyParams",
    "TradeSignal",
    "TrailStop",
    "WorkingOrder",
    "get_strategy",
    "list_strategies",
    "register_strategy",
    "strategy_schema",
]

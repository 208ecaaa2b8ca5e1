"""`Position`: the read-only view of the open position that strategies receive."""

from __future__ import annotations

import math
from typing import Protocol


class PositionState(Protocol):
    """What the engine keeps per open position (the Python engine's `OpenPosition`, or the
    hybrid mode's mirror of the Rust state)."""

    side: int
    entry_time: int
    entry_index: int
    entry_price: float
    size: float
    sl: float | None
    tp: float | None
    bars_held: int
    mfe: float
    unrealized_pnl: float
    tag: str


class Position:
    """The open position as the strategy may see it: every attribute is read-only.

    ``side`` is +1 long / -1 short; times are UTC int64 ns; ``stop_loss``/``take_profit`` are
    absolute prices or ``None``; ``size`` in lots (after partial closes); ``unrealized_pnl`` in
    account currency marked at the current close; ``mfe`` the maximum favourable excursion in
    price units; ``instrument`` the instrument's id (0 in a single-instrument run).
    """

    __slots__ = ("_instrument", "_state")

    def __init__(self, state: PositionState, instrument: int = 0) -> None:
        self._state = state
        self._instrument = instrument

    @property
    def side(self) -> int:
        return self._state.side

    @property
    def is_long(self) -> bool:
        return self._state.side == 1

    @property
    def entry_time(self) -> int:
        return self._state.entry_time

    @property
    def entry_index(self) -> int:
        return self._state.entry_index

    @property
    def entry_price(self) -> float:
        return self._state.entry_price

    @property
    def size(self) -> float:
        return self._state.size

    @property
    def stop_loss(self) -> float | None:
        return self._state.sl

    @property
    def take_profit(self) -> float | None:
        return self._state.tp

    @property
    def bars_held(self) -> int:
        return self._state.bars_held

    @property
    def mfe(self) -> float:
        return self._state.mfe

    @property
    def unrealized_pnl(self) -> float:
        return self._state.unrealized_pnl

    @property
    def tag(self) -> str:
        return self._state.tag

    @property
    def instrument(self) -> int:
        return self._instrument

    def __repr__(self) -> str:
        side = "long" if self.is_long else "short"
        sl = "none" if self.stop_loss is None else repr(self.stop_loss)
        tp = "none" if self.take_profit is None else repr(self.take_profit)
        upnl = self.unrealized_pnl
        unrealized = upnl if math.isfinite(upnl) else "nan"
        return (
            f"Position({side} {self.size} @ {self.entry_price!r}, stop_loss={sl}, "
            f"take_profit={tp}, bars_held={self.bars_held}, unrealized={unrealized})"
        )

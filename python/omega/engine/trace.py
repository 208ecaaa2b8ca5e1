"""The decision trace: one row per primary bar (docs/engine/execution.md, "Decision trace")."""

from __future__ import annotations

NONE = "none"
SIGNAL_LONG = "signal_long"
SIGNAL_SHORT = "signal_short"
IGNORED_SIGNAL = "ignored_signal"
EXIT_QUEUED = "exit_queued"
PARTIAL_QUEUED = "partial_queued"
MODIFY_SL = "modify_sl"
MODIFY_TP = "modify_tp"
BREAK_EVEN = "break_even"
TRAIL_STOP = "trail_stop"
ORDER_EXPIRED = "order_expired"
ORDER_CANCELLED = "order_cancelled"
ORDER_MODIFIED = "order_modified"
ORDER_REPLACED = "order_replaced"
SWAP = "swap"
MARGIN_CALL = "margin_call"


class DecisionTrace:
    """Collects events and recorded values of the current bar, then closes its row."""

    __slots__ = ("events", "rows", "values")

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.events: list[str] = []
        self.values: dict[str, float] = {}

    def begin(self) -> dict[str, float]:
        """Start a bar; returns the dict that collects ``slice.record`` values."""
        self.events = []
        self.values = {}
        return self.values

    def event(self, name: str) -> None:
        self.events.append(name)

    def end(self, index: int, time: int) -> None:
        row: dict = {"index": index, "time": time, "event": "|".join(self.events) or NONE}
        row.update(self.values)
        self.rows.append(row)

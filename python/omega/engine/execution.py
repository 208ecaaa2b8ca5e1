"""Where an open position meets a bar's range (docs/engine/execution.md, step 2).

A hit is ``(reason, level, slipped)``: the exit fills at ``level`` moved against the trader by
one slippage draw when ``slipped`` (stop-loss exits, gapped or touched); take-profit exits are
limit orders and never slip. Longs are checked against the bid side, shorts against the ask.
"""

from __future__ import annotations

from collections.abc import Sequence

STOP_LOSS = "stop_loss"
TAKE_PROFIT = "take_profit"

Hit = tuple[str, float, bool]


def range_hit(
    side: int,
    sl: float | None,
    tp: float | None,
    o: float,
    h: float,
    low: float,
    policy: str = "pessimistic",
    gaps: bool = True,
) -> tuple[Hit | None, bool]:
    """The exit a bar with ``(o, h, low)`` of the position's side causes, if any. The gap
    rows apply only with ``gaps`` (not to a position a pending entry opened inside the bar).

    Returns ``(hit, both_touched)``; when both levels are touched inside the range (no gap)
    ``policy`` picks the level (``finer`` is resolved by the caller with `finer_hit`, so here
    it counts as ``pessimistic``).
    """
    if side == 1:
        if gaps and sl is not None and o <= sl:
            return (STOP_LOSS, o, True), False
        if gaps and tp is not None and o >= tp:
            return (TAKE_PROFIT, o, False), False
        sl_touched = sl is not None and low <= sl
        tp_level = tp if tp is not None and h >= tp else None
    else:
        if gaps and sl is not None and o >= sl:
            return (STOP_LOSS, o, True), False
        if gaps and tp is not None and o <= tp:
            return (TAKE_PROFIT, o, False), False
        sl_touched = sl is not None and h >= sl
        tp_level = tp if tp is not None and low <= tp else None
    if sl_touched and sl is not None:
        if tp_level is None:
            return (STOP_LOSS, sl, True), False
        if policy == "optimistic":
            return (TAKE_PROFIT, tp_level, False), True
        return (STOP_LOSS, sl, True), True
    if tp_level is not None:
        return (TAKE_PROFIT, tp_level, False), False
    return None, False


def finer_hit(
    side: int,
    sl: float | None,
    tp: float | None,
    opens: Sequence[float],
    highs: Sequence[float],
    lows: Sequence[float],
    start: int,
    stop: int,
) -> tuple[Hit, int] | None:
    """Walk finer bars ``start .. stop-1`` (the position's side) in time order; the first
    with any hit decides (both inside one finer bar: stop-loss). Returns the hit and the
    index of the finer bar, or None if none hits."""
    for k in range(start, stop):
        hit, _ = range_hit(side, sl, tp, opens[k], highs[k], lows[k], "pessimistic")
        if hit is not None:
            return hit, k
    return None


def order_trigger(
    direction: int, order: str, price: float, o: float, h: float, low: float
) -> tuple[float, bool] | None:
    """A pending entry against one bar of the order's side (ask for a long, bid for a
    short): the fill level and whether the bar opened beyond the price (a gap, filled at the
    open), or None if the bar does not reach it."""
    falls_to = (direction == 1) == (order == "limit")  # long limit / short stop: price falls
    if falls_to:
        if o <= price:
            return o, True
        if low <= price:
            return price, False
        return None
    if o >= price:
        return o, True
    if h >= price:
        return price, False
    return None

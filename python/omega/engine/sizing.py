"""Position sizing of an entry (docs/engine/execution.md, "Sizing")."""

from __future__ import annotations

import math
from collections.abc import Callable

from omega.engine.settings import SizingSettings
from omega.strategy.signals import TradeSignal

BELOW_MIN_LOT = "below_min_lot"
NO_STOP_LOSS = "no_stop_loss"


def order_lots(
    signal: TradeSignal,
    sizing: SizingSettings,
    *,
    balance: float,
    fill: float,
    sl: float | None,
    contract_size: float,
    lot_step: float,
    min_lot: float,
    to_account: Callable[[float, float], float],
) -> tuple[float, str | None]:
    """``(lots, None)`` for an order to fill, or ``(0.0, skip_reason)``.

    The signal's own ``size`` or ``risk_percent`` wins over the configured mode.
    """
    if signal.size is not None:
        lots = signal.size
    elif signal.risk_percent is not None or sizing.mode == "risk_percent":
        pct = signal.risk_percent if signal.risk_percent is not None else sizing.risk_percent
        risk = balance * (pct / 100.0)
        if sl is None:
            return 0.0, NO_STOP_LOSS
        dist = fill - sl if signal.direction == 1 else sl - fill
        if dist <= 0.0:
            return 0.0, NO_STOP_LOSS
        per_lot = to_account(dist * contract_size, fill)
        lots = math.floor(risk / per_lot / lot_step) * lot_step
    else:
        lots = sizing.lots
    if lots < min_lot:
        return 0.0, BELOW_MIN_LOT
    return lots, None

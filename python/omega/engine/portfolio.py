"""Balance, the open position, and the trade rows (docs/engine/execution.md, "Money")."""

from __future__ import annotations

import math

import numpy as np

from omega.engine.fees import Money
from omega.engine.raw import TRADE_COLUMNS

NAN = math.nan
PARTIAL = "partial"


class OpenPosition:
    """Mutable engine state of the open position (strategies see it through `Position`)."""

    __slots__ = (
        "bars_held",
        "break_even_done",
        "entry_fee",
        "entry_index",
        "entry_price",
        "entry_time",
        "max_bars",
        "mfe",
        "side",
        "size",
        "sl",
        "tag",
        "tp",
        "unrealized_pnl",
    )

    def __init__(
        self,
        side: int,
        entry_time: int,
        entry_index: int,
        entry_price: float,
        size: float,
        sl: float | None,
        tp: float | None,
        entry_fee: float,
        max_bars: int | None,
        tag: str,
    ) -> None:
        self.side = side
        self.entry_time = entry_time
        self.entry_index = entry_index
        self.entry_price = entry_price
        self.size = size
        self.sl = sl
        self.tp = tp
        self.entry_fee = entry_fee
        self.max_bars = max_bars
        self.tag = tag
        self.bars_held = 0
        self.mfe = 0.0
        self.unrealized_pnl = 0.0
        self.break_even_done = False


class Portfolio:
    """The account: ``balance``, at most one ``position``, and the closed trade rows."""

    def __init__(self, initial_balance: float, money: Money) -> None:
        self.balance = initial_balance
        self.money = money
        self.position: OpenPosition | None = None
        self.swap = 0.0  # charged to the open position so far
        self.margin = 0.0  # held by the open position (0.0 without a margin model)
        self._rows: dict[str, list] = {name: [] for name in TRADE_COLUMNS}

    def open(
        self,
        side: int,
        time: int,
        index: int,
        price: float,
        lots: float,
        sl: float | None,
        tp: float | None,
        max_bars: int | None,
        tag: str,
    ) -> OpenPosition:
        """Open a position at ``price``; the entry fee is charged at once."""
        fee = self.money.fee(lots, price)
        self.balance = self.balance - fee
        self.swap = 0.0
        self.margin = 0.0
        self.position = OpenPosition(side, time, index, price, lots, sl, tp, fee, max_bars, tag)
        return self.position

    def close(self, lots: float, price: float, reason: str, time: int, index: int) -> None:
        """Close ``lots`` of the position at ``price``: a full close unless ``reason`` is
        ``partial``. Appends the trade row."""
        pos = self.position
        assert pos is not None
        money = self.money
        gross = money.gross(pos.side, pos.entry_price, price, lots)
        exit_fee = money.fee(lots, price)
        self.balance = self.balance + gross
        self.balance = self.balance - exit_fee
        full = reason != PARTIAL
        entry_fee_part = pos.entry_fee if full else 0.0
        fees = entry_fee_part + exit_fee
        swap = self.swap if full else 0.0
        if not full:
            # the margin of the lots still open
            remaining = pos.size - lots
            self.margin = self.margin * (remaining / pos.size)
        rows = self._rows
        rows["entry_time"].append(pos.entry_time)
        rows["exit_time"].append(time)
        rows["entry_index"].append(pos.entry_index)
        rows["exit_index"].append(index)
        rows["side"].append(pos.side)
        rows["size"].append(lots)
        rows["entry_price"].append(pos.entry_price)
        rows["exit_price"].append(price)
        rows["sl"].append(NAN if pos.sl is None else pos.sl)
        rows["tp"].append(NAN if pos.tp is None else pos.tp)
        rows["exit_reason"].append(reason)
        rows["gross_pnl"].append(gross)
        rows["fees"].append(fees)
        rows["swap"].append(swap)
        rows["pnl"].append(gross - fees + swap)
        rows["bars_held"].append(pos.bars_held)
        rows["mfe"].append(pos.mfe)
        rows["tag"].append(pos.tag)
        if full:
            self.position = None
        else:
            pos.size = pos.size - lots

    def charge_swap(self, amount: float) -> None:
        """A swap charge (positive: a credit) to the balance and the open position."""
        self.balance = self.balance + amount
        self.swap = self.swap + amount

    def unrealized(self, bid_close: float, ask_close: float) -> float:
        """Open PnL in account currency: longs marked at the bid close, shorts at the ask."""
        pos = self.position
        if pos is None:
            return 0.0
        if pos.side == 1:
            return self.money.gross(1, pos.entry_price, bid_close, pos.size)
        return self.money.gross(-1, pos.entry_price, ask_close, pos.size)

    def trade_columns(self) -> dict[str, np.ndarray]:
        """The trade rows as numpy columns in TRADE_COLUMNS order and dtypes."""
        out = {}
        for name, dtype in TRADE_COLUMNS.items():
            values = self._rows[name]
            if dtype == "object":
                column = np.empty(len(values), dtype=object)
                column[:] = values
            else:
                column = np.array(values, dtype=dtype)
            out[name] = column
        return out

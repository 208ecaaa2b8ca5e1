"""Money: conversion of quote-currency amounts to the account currency, and fees."""

from __future__ import annotations

from omega.data.bars import Instrument
from omega.engine.settings import FeeSettings
from omega.errors import ConfigError


class Money:
    """``to_account`` and ``fee`` for one instrument and account currency."""

    __slots__ = ("_commission", "_cs", "_divide", "_percent")

    def __init__(self, instrument: Instrument, account_currency: str, fees: FeeSettings) -> None:
        account = account_currency.upper()
        if account == instrument.quote_currency.upper():
            self._divide = False
        elif account == instrument.base_currency.upper():
            self._divide = True
        else:
            raise ConfigError(
                f"account.currency: {account} is neither the base nor the quote currency of "
                f"{instrument.symbol} ({instrument.base_currency}/{instrument.quote_currency}); "
                "cross rates are not supported yet"
            )
        self._cs = instrument.contract_size
        self._commission = fees.commission_per_lot
        self._percent = fees.percent_of_notional

    def to_account(self, amount_quote: float, rate: float) -> float:
        """An amount in the quote currency, in the account currency at ``rate``."""
        if self._divide:
            return amount_quote / rate
        return amount_quote

    def fee(self, lots: float, price: float) -> float:
        """Fee of one fill (commission per lot plus a percentage of the notional)."""
        notional = self.to_account(lots * self._cs * price, price)
        return lots * self._commission + notional * (self._percent / 100.0)

    def gross(self, side: int, entry: float, price: float, lots: float) -> float:
        """Gross PnL of closing ``lots`` of a position entered at ``entry`` at ``price``."""
        if side == 1:
            return self.to_account((price - entry) * lots * self._cs, price)
        return self.to_account((entry - price) * lots * self._cs, price)

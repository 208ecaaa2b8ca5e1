"""Money: conversion of quote-currency amounts to the account currency, and fees."""

from __future__ import annotations

from omega.data.bars import Instrument
from omega.engine.settings import CrossSettings, FeeSettings
from omega.errors import ConfigError

QUOTE, BASE, CROSS_MULTIPLY, CROSS_DIVIDE = range(4)


class Money:
    """``to_account`` and ``fee`` for one instrument and account currency. A cross (the
    account currency is neither of the pair's) converts at ``cross_rate``, which the loop
    sets to the conversion rate of each bar."""

    __slots__ = ("_commission", "_cs", "_mode", "_percent", "cross_rate")

    def __init__(
        self,
        instrument: Instrument,
        account_currency: str,
        fees: FeeSettings,
        cross: CrossSettings | None = None,
    ) -> None:
        account = account_currency.upper()
        if account == instrument.quote_currency.upper():
            self._mode = QUOTE
        elif account == instrument.base_currency.upper():
            self._mode = BASE
        elif cross is not None:
            self._mode = CROSS_MULTIPLY if cross.multiply else CROSS_DIVIDE
        else:
            raise ConfigError(
                f"account.currency: {account} is neither the base nor the quote currency of "
                f"{instrument.symbol} ({instrument.base_currency}/{instrument.quote_currency}): "
                f"give account.conversion (a pair with {instrument.quote_currency} and "
                f"{account}, or a fixed rate)"
            )
        self._cs = instrument.contract_size
        self._commission = fees.commission_per_lot
        self._percent = fees.percent_of_notional
        self.cross_rate = 1.0

    def to_account(self, amount_quote: float, rate: float) -> float:
        """An amount in the quote currency, in the account currency: ``rate`` is the pair's
        own price (a base-currency account divides by it); a cross uses ``cross_rate``."""
        mode = self._mode
        if mode == QUOTE:
            return amount_quote
        if mode == BASE:
            return amount_quote / rate
        if mode == CROSS_MULTIPLY:
            return amount_quote * self.cross_rate
        return amount_quote / self.cross_rate

    def fee(self, lots: float, price: float) -> float:
        """Fee of one fill (commission per lot plus a percentage of the notional)."""
        notional = self.to_account(lots * self._cs * price, price)
        return lots * self._commission + notional * (self._percent / 100.0)

    def gross(self, side: int, entry: float, price: float, lots: float) -> float:
        """Gross PnL of closing ``lots`` of a position entered at ``entry`` at ``price``."""
        if side == 1:
            return self.to_account((price - entry) * lots * self._cs, price)
        return self.to_account((entry - price) * lots * self._cs, price)

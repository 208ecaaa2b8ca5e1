"""The FX-account part of a config as engine settings: swap, margin, a cross's conversion,
trading sessions and news blackouts (docs/user-guide/config.md, docs/engine/execution.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from omega.engine.settings import CrossSettings, MarginSettings, SessionSettings, SwapSettings
from omega.errors import ConfigError, DataError

if TYPE_CHECKING:
    from omega.config.backtest import BacktestConfig

WEEKDAY_NUMBERS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}


def swap_settings(config: BacktestConfig) -> SwapSettings | None:
    swap = config.instrument.swap
    if swap is None:
        return None
    return SwapSettings(
        long=swap.long,
        short=swap.short,
        unit=swap.unit,
        rollover_time=swap.rollover_time,
        timezone=swap.timezone,
        triple_weekday=WEEKDAY_NUMBERS[swap.triple_day],
    )


def margin_settings(config: BacktestConfig) -> MarginSettings | None:
    """Margin is on with ``instrument.margin_rate`` or ``account.leverage`` (the rate wins)."""
    account = config.account
    rate = config.instrument.margin_rate
    if rate is None and account.leverage is not None:
        rate = 1.0 / account.leverage
    if rate is None:
        return None
    return MarginSettings(
        margin_rate=rate,
        margin_call_level=account.margin_call_level,
        stop_out_level=account.stop_out_level,
    )


def session_settings(config: BacktestConfig) -> SessionSettings | None:
    session = config.execution.session
    if session is None:
        return None
    return SessionSettings(
        timezone=session.timezone,
        start=session.start,
        end=session.end,
        weekdays=tuple(sorted({WEEKDAY_NUMBERS[day] for day in session.days})),
    )


def cross_settings(config: BacktestConfig) -> CrossSettings | None:
    """The conversion of a cross: a fixed rate, or the bid closes of the conversion pair's
    bars read with the data loaders. ``multiply`` when the pair quotes the account currency
    per unit of the instrument's quote currency."""
    conversion = config.account.conversion
    if conversion is None:
        return None
    instrument = config.instrument.to_instrument()
    quote, account = instrument.quote_currency.upper(), config.account.currency.upper()
    symbol = conversion.symbol.upper()
    if symbol == quote + account:
        multiply = True
    elif symbol == account + quote:
        multiply = False
    else:
        raise ConfigError(
            f"account.conversion.symbol: {symbol} does not convert {quote} to {account} "
            f"(use {quote}{account} or {account}{quote})"
        )
    if conversion.rate is not None:
        return CrossSettings(symbol, multiply, fixed_rate=conversion.rate)
    from omega.data.bars import Instrument
    from omega.data.loading import load

    assert conversion.path is not None and conversion.format is not None
    try:
        bars = load(
            conversion.path,
            conversion.format,
            tz=conversion.tz,
            instrument=Instrument.for_symbol(symbol),
        )
    except ConfigError as exc:
        raise ConfigError(f"account.conversion: {exc}") from None
    return CrossSettings(
        symbol,
        multiply,
        times=np.ascontiguousarray(bars.time, dtype=np.int64),
        closes=np.ascontiguousarray(bars.bid_close, dtype=np.float64),
    )


def load_blackouts(path: str | None) -> tuple[tuple[int, int], ...]:
    """News blackouts from a CSV file with columns ``start`` and ``end`` (ISO times; UTC
    unless they carry an offset) as ``[start, end)`` windows in UTC ns. Bad rows raise a
    DataError naming the file, the row and the field."""
    if path is None:
        return ()
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ConfigError(f"execution.blackouts: no such file {path!r}") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read blackouts: {exc}", file=path) from None
    for column in ("start", "end"):
        if column not in table.columns:
            raise DataError(
                f"blackouts need columns start and end, got {list(table.columns)}", file=path
            )
    windows = []
    for row, (start, end) in enumerate(zip(table["start"], table["end"], strict=True), 1):
        bounds = []
        for field, text in (("start", start), ("end", end)):
            try:
                stamp = pd.Timestamp(text)
            except ValueError:
                stamp = pd.NaT
            if stamp is pd.NaT:
                raise DataError(f"not a time: {text!r}", file=path, row=row, column=field) from None
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            bounds.append(int(stamp.value))
        if bounds[0] >= bounds[1]:
            raise DataError(
                f"a blackout must end after it starts ({start} >= {end})",
                file=path,
                row=row,
                column="end",
            )
        windows.append((bounds[0], bounds[1]))
    return tuple(windows)

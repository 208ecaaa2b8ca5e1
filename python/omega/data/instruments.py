"""Guessing the instrument from a file name, so ``load`` needs no symbol for common exports."""

from __future__ import annotations

import os
import re

from omega.data.bars import Instrument

# ISO 4217 codes that appear in FX symbols; a six-letter run is a symbol only if both halves are.
_CODES = "EUR USD GBP JPY CHF AUD NZD CAD SEK NOK DKK PLN HUF CZK TRY ZAR MXN SGD HKD CNH"
CURRENCIES = frozenset(_CODES.split(" "))
_LETTERS = re.compile(r"[A-Za-z]{6,}")


def resolve_instrument(instrument: Instrument | str | None, path: str | None) -> Instrument:
    """An Instrument as given, built from a symbol, guessed from the path, else EURUSD defaults."""
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, str):
        return Instrument.for_symbol(instrument)
    symbol = symbol_from_path(path) if path else None
    return Instrument.for_symbol(symbol) if symbol else Instrument()


def symbol_from_path(path: str) -> str | None:
    """``EURUSD_M1_2024_01.csv``, ``DAT_ASCII_EURUSD_M1_201701.csv``, ``x/eurusd/...`` -> EURUSD."""
    for part in reversed(os.fspath(path).replace("\\", "/").split("/")):
        for run in _LETTERS.findall(part):
            run = run.upper()
            for i in range(len(run) - 5):
                base, quote = run[i : i + 3], run[i + 3 : i + 6]
                if base in CURRENCIES and quote in CURRENCIES and base != quote:
                    return base + quote
    return None

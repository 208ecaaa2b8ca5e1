"""One exception hierarchy for every Omega error, raised with the same kinds by Python and Rust.

Data errors carry the file, row and column at fault so a user can open the file and look.
Rows are 1-based line numbers of the source file where one exists (header lines counted), else
0-based bar indices; ``row``/``column`` are ``None`` when the fault is not tied to one cell.
"""

from __future__ import annotations


class OmegaError(Exception):
    """Base of every error Omega raises on purpose."""


class ConfigError(OmegaError):
    """The configuration is invalid; the message names the key path."""


class StrategyError(OmegaError):
    """A strategy failed: unknown name, bad parameter, or an exception inside it."""


class EngineError(OmegaError):
    """The engine could not run the backtest (including internal failures of the Rust core)."""


class PluginError(OmegaError):
    """A run-time strategy plugin could not be loaded or violated the ABI."""


class InsufficientMemoryError(OmegaError):
    """A run's estimated memory exceeds what is available (`omega.data.memory_guard`); the
    message names both figures and the override. ``needed``/``available`` are in bytes."""

    def __init__(self, message: str, *, needed: int = 0, available: int = 0) -> None:
        self.needed = needed
        self.available = available
        super().__init__(message)

    def __reduce__(self):  # keep the figures across pickling (multiprocessing)
        return (_rebuild_memory_error, (self.args[0], self.needed, self.available))


def _rebuild_memory_error(message, needed, available):
    return InsufficientMemoryError(message, needed=needed, available=available)


class DataError(OmegaError):
    """Bad market data. Subclasses name the kind; attributes say where."""

    kind = "data"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.detail = message
        super().__init__(self._format(message))

    def _format(self, message: str) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        prefix = f"{self.kind}: "
        return prefix + message + (f" ({', '.join(where)})" if where else "")

    def __reduce__(self):  # keep file/row/column across pickling (multiprocessing)
        return (_rebuild_data_error, (type(self), self.detail, self.file, self.row, self.column))


def _rebuild_data_error(cls, message, file, row, column):
    return cls(message, file=file, row=row, column=column)


class EmptyDataError(DataError):
    kind = "empty_data"


class MissingColumnError(DataError):
    kind = "missing_column"


class ParseError(DataError):
    """A value could not be parsed (number, date or time)."""

    kind = "parse_error"


class NonFiniteValueError(DataError):
    kind = "non_finite_value"


class NonPositivePriceError(DataError):
    kind = "non_positive_price"


class OHLCInconsistencyError(DataError):
    """high < low, or open/close outside [low, high], on either side."""

    kind = "ohlc_inconsistent"


class DuplicateTimestampError(DataError):
    kind = "duplicate_timestamp"


class NonMonotonicTimestampError(DataError):
    kind = "decreasing_timestamp"


class AlignmentError(DataError):
    """Bid and ask files (or sides) do not cover the same timestamps."""

    kind = "bid_ask_misaligned"


class DataQualityError(DataError):
    """A soft anomaly promoted to an error by ``data.strict_quality``."""

    kind = "data_quality"


__all__ = [
    "AlignmentError",
    "ConfigError",
    "DataError",
    "DataQualityError",
    "DuplicateTimestampError",
    "EmptyDataError",
    "EngineError",
    "InsufficientMemoryError",
    "MissingColumnError",
    "NonFiniteValueError",
    "NonMonotonicTimestampError",
    "NonPositivePriceError",
    "OHLCInconsistencyError",
    "OmegaError",
    "ParseError",
    "PluginError",
    "StrategyError",
]

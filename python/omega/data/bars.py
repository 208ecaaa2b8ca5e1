"""The one in-memory form of market data: a two-sided bar series in numpy columns."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from omega.errors import DataError
from omega.timeframes import Timeframe

if TYPE_CHECKING:
    import pandas as pd

    from omega.data.quality import DataQualityReport

PRICE_COLUMNS = (
    "bid_open",
    "bid_high",
    "bid_low",
    "bid_close",
    "ask_open",
    "ask_high",
    "ask_low",
    "ask_close",
)
COLUMNS = ("time", *PRICE_COLUMNS, "volume")


@dataclass(frozen=True)
class Instrument:
    """What the engine needs to know about the traded symbol.

    ``pip_size`` is the unit of pip-denominated settings (0.0001 for EURUSD, 0.01 for USDJPY);
    ``point`` is the price increment (MT5 ``<SPREAD>`` is in points). PnL is computed in the
    quote currency and converted to the account currency (see docs/engine/execution.md).
    """

    symbol: str = "EURUSD"
    pip_size: float = 0.0001
    point: float = 0.00001
    contract_size: float = 100_000.0
    lot_step: float = 0.01
    min_lot: float = 0.01
    base_currency: str = "EUR"
    quote_currency: str = "USD"

    @classmethod
    def for_symbol(cls, symbol: str) -> Instrument:
        """Sensible defaults for a six-letter FX symbol (JPY quotes get 0.01 pips)."""
        symbol = symbol.upper()
        if len(symbol) != 6 or not symbol.isalpha():
            raise ValueError(f"cannot infer instrument metadata from symbol {symbol!r}")
        base, quote = symbol[:3], symbol[3:]
        if quote == "JPY":
            return cls(symbol, 0.01, 0.001, 100_000.0, 0.01, 0.01, base, quote)
        return cls(symbol, 0.0001, 0.00001, 100_000.0, 0.01, 0.01, base, quote)


@dataclass
class BarSeries:
    """Bars of one timeframe, both sides, UTC int64-nanosecond open times.

    Every column is a 1-D numpy array of equal length: ``time`` int64, prices and ``volume``
    float64, all C-contiguous (the Rust core borrows them without copying).
    """

    time: np.ndarray
    bid_open: np.ndarray
    bid_high: np.ndarray
    bid_low: np.ndarray
    bid_close: np.ndarray
    ask_open: np.ndarray
    ask_high: np.ndarray
    ask_low: np.ndarray
    ask_close: np.ndarray
    volume: np.ndarray
    timeframe: Timeframe = Timeframe.M1
    instrument: Instrument = field(default_factory=Instrument)
    source: str = "<memory>"
    quality: DataQualityReport | None = None
    # Defaults taken while loading that change results (no tz for MT5, no spread for one-sided
    # prices); run_backtest copies them into result.warnings.
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.time = np.ascontiguousarray(self.time, dtype=np.int64)
        for name in (*PRICE_COLUMNS, "volume"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        n = len(self.time)
        for name in COLUMNS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, time has {n}")

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        timeframe: Timeframe | str | None = None,
        symbol: str = "EURUSD",
        instrument: Instrument | str | None = None,
        spread_pips: float | None = None,
        spread_column: str | None = None,
        spread_unit: Literal["pips", "points", "price"] = "pips",
        side: Literal["bid", "ask"] = "bid",
        tz: str | None = None,
        time_column: str | None = None,
        source: str = "<DataFrame>",
        strict_quality: bool = False,
    ) -> BarSeries:
        """Bars from a pandas DataFrame, validated and quality-checked like a loaded file.

        Columns (names match ignoring case and surrounding spaces):

        * both sides: ``bid_open``, ``bid_high``, ``bid_low``, ``bid_close``, ``ask_open`` ..
          ``ask_close``; or
        * one side: ``open``, ``high``, ``low``, ``close`` (the ``side``, bid by default, as in
          backtesting.py frames); the other side is these prices plus a spread: ``spread_pips``
          (fixed), else a ``spread`` column (or ``spread_column``) in ``spread_unit`` (pips by
          default; "points" for MT5's ``<SPREAD>``, "price" for price units), else zero (a
          message in ``warnings``, which run_backtest passes on to the result, and the log).
          Derived prices are rounded to the instrument's price grid (``instrument.point``), as
          the file loaders do; given prices are used as they are;
        * ``volume`` optional (zeros without it).

        Times are bar open times: the DatetimeIndex, else ``time_column``, else a column named
        time, datetime, date or timestamp. Zoned times are converted to UTC; naive times are
        taken as UTC, or as local times in ``tz`` when given (DST handled as for files).
        ``timeframe`` defaults to the most common step between bars. The instrument is
        ``instrument`` (an Instrument or a symbol), else ``Instrument.for_symbol(symbol)``.

        Bad input raises the ``omega.errors`` kind a file would (MissingColumnError,
        ParseError, NonFiniteValueError for NaN, OHLCInconsistencyError, ...), naming the
        column and the row as a 0-based position (``df.iloc[row]``), with the index label in
        the message; DataError for an object that is not a DataFrame. ``quality`` holds the
        data-quality report; ``strict_quality=True`` raises DataQualityError on anomalies.
        """
        from omega.data.frames import bars_from_frame

        return bars_from_frame(
            df,
            timeframe=timeframe,
            symbol=symbol,
            instrument=instrument,
            spread_pips=spread_pips,
            spread_column=spread_column,
            spread_unit=spread_unit,
            side=side,
            tz=tz,
            time_column=time_column,
            source=source,
            strict_quality=strict_quality,
        )

    def __len__(self) -> int:
        return len(self.time)

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in COLUMNS)

    def column(self, side: str, field_name: str) -> np.ndarray:
        """``column("bid", "close")`` -> bid_close; side ``mid`` averages bid and ask."""
        if side == "mid":
            return (getattr(self, f"bid_{field_name}") + getattr(self, f"ask_{field_name}")) * 0.5
        return getattr(self, f"{side}_{field_name}")

    def slice(self, start: int, stop: int) -> BarSeries:
        """Bars ``[start, stop)`` as views (no copy)."""
        cols = {name: getattr(self, name)[start:stop] for name in COLUMNS}
        return replace(self, **cols, quality=None)

    def to_frame(self):
        """A pandas DataFrame indexed by UTC open time (for inspection, not for the engine)."""
        import pandas as pd

        index = pd.to_datetime(self.time, utc=True)
        return pd.DataFrame({name: getattr(self, name) for name in COLUMNS[1:]}, index=index)


def as_bar_series(obj: Any, instrument: Instrument | None = None) -> BarSeries:
    """``obj`` as a BarSeries: a BarSeries as it is, a pandas DataFrame through
    ``BarSeries.from_frame`` (with ``instrument`` when given); anything else is a DataError."""
    if isinstance(obj, BarSeries):
        return obj
    pandas = sys.modules.get("pandas")  # no DataFrame can exist before pandas is imported
    if pandas is not None and isinstance(obj, pandas.DataFrame):
        return BarSeries.from_frame(obj, instrument=instrument)
    raise DataError(
        f"bars must be an omega BarSeries or a pandas DataFrame, got {type(obj).__name__}"
    )

"""The loaders' common output: two-sided columns plus where every bar came from.

A loader parses; ``omega.data.load`` then validates (validation.py), measures quality
(quality.py) and builds the BarSeries. Keeping the source map until validation lets every
error name the file and line of the bar at fault.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from omega.data.bars import PRICE_COLUMNS
from omega.data.loaders._source import SourceFile, SourceMap

FIELDS = ("open", "high", "low", "close")


@dataclass
class RawBars:
    time: np.ndarray  # UTC int64 ns, file order
    prices: dict[str, np.ndarray]  # the eight PRICE_COLUMNS
    volume: np.ndarray
    source_map: SourceMap
    labels: dict[str, str] = field(default_factory=dict)  # column -> name in the source
    ask_source: str = "file"  # "file", "spread column", "fixed spread"
    blank_lines: int = 0
    timeframe: object | None = None  # a Timeframe when the source declares one (parquet)
    metadata: dict[str, str] = field(default_factory=dict)
    ask_source_map: SourceMap | None = None  # set when ask prices come from their own file

    def __post_init__(self) -> None:
        if sorted(self.prices) != sorted(PRICE_COLUMNS):
            raise ValueError(f"RawBars needs exactly {PRICE_COLUMNS}, got {sorted(self.prices)}")

    def __len__(self) -> int:
        return len(self.time)

    def label(self, column: str) -> str:
        return self.labels.get(column, column)

    def locate(self, index: int, column: str = "time") -> tuple[str, int]:
        """File and row of bar ``index`` as seen in ``column`` (ask columns may live apart)."""
        if self.ask_source_map is not None and column.startswith("ask_"):
            return self.ask_source_map.locate(index)
        return self.source_map.locate(index)


def price_decimals(point: float) -> int | None:
    """Decimals of a power-of-ten price increment (0.00001 -> 5), else None (no rounding)."""
    if point <= 0:
        return None
    decimals = round(-math.log10(point))
    return decimals if math.isclose(10.0**-decimals, point, rel_tol=1e-9) else None


def add_spread(
    given: dict[str, np.ndarray],
    spread_price: np.ndarray | float,
    point: float,
    side: str = "bid",
) -> dict[str, np.ndarray]:
    """Both sides from one side's OHLC (keys open..close) and a spread in price units.

    ask = bid + spread (or bid = ask - spread) on every field, rounded to the instrument's
    price grid so that derived prices are the same doubles a file quoting them would parse to.
    """
    if side not in ("bid", "ask"):
        raise ValueError(f"side must be 'bid' or 'ask', got {side!r}")
    other, sign = ("ask", 1.0) if side == "bid" else ("bid", -1.0)
    decimals = price_decimals(point)
    prices = {f"{side}_{f}": np.ascontiguousarray(given[f], dtype=np.float64) for f in FIELDS}
    for f in FIELDS:
        # A sum past the largest double is inf (not a warning): validation reports it as a
        # non-finite derived price, naming the column (e.g. <HIGH>+<SPREAD>).
        with np.errstate(over="ignore", invalid="ignore"):
            derived = prices[f"{side}_{f}"] + sign * spread_price
        prices[f"{other}_{f}"] = (
            round_in_place(derived, decimals) if decimals is not None else derived
        )
    return {name: prices[name] for name in PRICE_COLUMNS}


def round_in_place(values: np.ndarray, decimals: int) -> np.ndarray:
    """``np.round(values, decimals)`` without its temporaries: numpy rounds as multiply by
    10**decimals, rint, divide (exact powers of ten up to 1e22), which this repeats in place.

    Values of magnitude ``2**52 / 10**decimals`` or more are left as they are: their product
    is a whole number already (rounding is the identity there), and near the largest double
    it would overflow to inf, turning a valid extreme price into a "non-finite" one.
    """
    if not 0 <= decimals <= 22:
        return np.round(values, decimals)
    scale = 10.0**decimals
    limit = 2.0**52 / scale
    if len(values) and not (-limit < values.min() and values.max() < limit):
        inside = np.abs(values) < limit  # NaN and inf stay as they are
        values[inside] = round_in_place(values[inside], decimals)
        return values
    np.multiply(values, scale, out=values)
    np.rint(values, out=values)
    np.divide(values, scale, out=values)
    return values


def concat_parts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate per-file column dicts (same keys) in the given order."""
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


@dataclass
class FilePart:
    """One parsed file: naive or UTC times, columns, and its source rows."""

    time: np.ndarray
    columns: dict[str, np.ndarray]
    source: SourceFile
    blank_lines: int = 0


def gather(
    parts: list[FilePart],
) -> tuple[np.ndarray, dict[str, np.ndarray], list[SourceFile], int]:
    """Order files by their first timestamp and concatenate (rows within a file keep order).

    Overlapping files are not merged: validation then reports the first decreasing or
    duplicate timestamp with its file and line.
    """
    parts = sorted(parts, key=lambda p: (int(p.time[0]), p.source.path))
    time = parts[0].time if len(parts) == 1 else np.concatenate([p.time for p in parts])
    columns = concat_parts([p.columns for p in parts])
    return time, columns, [p.source for p in parts], sum(p.blank_lines for p in parts)

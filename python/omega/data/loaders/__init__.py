"""One module per file format; each turns a path into RawBars (parsed, not yet validated)."""

from __future__ import annotations

from collections.abc import Callable

from omega.data.loaders._raw import RawBars
from omega.data.loaders.csv import load_csv
from omega.data.loaders.histdata import load_histdata
from omega.data.loaders.lean import load_lean
from omega.data.loaders.mt5 import load_mt5
from omega.data.loaders.parquet import load_parquet

LOADERS: dict[str, Callable[..., RawBars]] = {
    "mt5": load_mt5,
    "histdata": load_histdata,
    "lean": load_lean,
    "csv": load_csv,
    "parquet": load_parquet,
}

__all__ = ["LOADERS", "RawBars"]

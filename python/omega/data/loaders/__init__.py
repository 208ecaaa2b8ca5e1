"""One module per file format; each turns a path into RawBars (parsed, not yet validated).

``LOADERS`` is built on first use: importing a helper such as ``omega.data.loaders._raw``
(as the quality report does for synthetic bars) does not import every format's reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omega.data.loaders._raw import RawBars

if TYPE_CHECKING:
    LOADERS: dict[str, Callable[..., RawBars]]


def _loaders() -> dict[str, Callable[..., RawBars]]:
    from omega.data.loaders.csv import load_csv
    from omega.data.loaders.histdata import load_histdata
    from omega.data.loaders.lean import load_lean
    from omega.data.loaders.mt5 import load_mt5
    from omega.data.loaders.parquet import load_parquet

    return {
        "mt5": load_mt5,
        "histdata": load_histdata,
        "lean": load_lean,
        "csv": load_csv,
        "parquet": load_parquet,
    }


def __getattr__(name: str) -> Any:
    if name == "LOADERS":
        value = globals()["LOADERS"] = _loaders()  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module 'omega.data.loaders' has no attribute {name!r}")


__all__ = ["LOADERS", "RawBars"]

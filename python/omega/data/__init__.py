"""Market data: loaders for five formats, validation, quality report, synthetic bars,
resampling and multi-timeframe visibility.

    from omega.data import load
    series = load("../shared/data/mt5_eurusd_2024", "mt5", tz="EET")
    print(series.quality.summary())

The names below are imported on first use, so that ``omega.data.bars`` (needed by every run)
does not pull in the file loaders (pyarrow.csv, pandas) when the bars are synthetic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager, and light (numpy only): the submodule ``omega.data.resample`` would otherwise shadow
# the function of the same name once anything imported the submodule.
from omega.data.resample import last_closed_index, resample

if TYPE_CHECKING:
    from omega.data.bars import BarSeries, Instrument
    from omega.data.loaders.parquet import write_parquet
    from omega.data.loading import FORMATS, infer_timeframe, load
    from omega.data.quality import DataQualityReport, quality_of
    from omega.data.synthetic import generate_synthetic
    from omega.data.validation import validate_series

# public name -> module that defines it
_LAZY = {
    "BarSeries": "omega.data.bars",
    "Instrument": "omega.data.bars",
    "write_parquet": "omega.data.loaders.parquet",
    "FORMATS": "omega.data.loading",
    "infer_timeframe": "omega.data.loading",
    "load": "omega.data.loading",
    "DataQualityReport": "omega.data.quality",
    "quality_of": "omega.data.quality",
    "generate_synthetic": "omega.data.synthetic",
    "validate_series": "omega.data.validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omega.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def quality_report_text(series: BarSeries) -> str:
    """The human summary of ``series.quality`` (measured now if the series has none)."""
    from omega.data.quality import quality_of

    report = series.quality if series.quality is not None else quality_of(series)
    return report.summary()


__all__ = [
    "FORMATS",
    "BarSeries",
    "DataQualityReport",
    "Instrument",
    "generate_synthetic",
    "infer_timeframe",
    "last_closed_index",
    "load",
    "quality_of",
    "quality_report_text",
    "resample",
    "validate_series",
    "write_parquet",
]

"""Market data: loaders for five formats, validation, quality report, synthetic bars,
resampling and multi-timeframe visibility.

    from omega.data import load
    series = load("../shared/data/mt5_eurusd_2024", "mt5", tz="EET")
    print(series.quality.summary())
"""

from __future__ import annotations

from omega.data.bars import BarSeries, Instrument
from omega.data.loaders.parquet import write_parquet
from omega.data.loading import FORMATS, infer_timeframe, load
from omega.data.quality import DataQualityReport, quality_of
from omega.data.resample import last_closed_index, resample
from omega.data.synthetic import generate_synthetic
from omega.data.validation import validate_series


def quality_report_text(series: BarSeries) -> str:
    """The human summary of ``series.quality`` (measured now if the series has none)."""
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

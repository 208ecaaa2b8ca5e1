"""Data layer: synthetic generation, resampling, Parquet round trip."""

from __future__ import annotations

import tempfile
from pathlib import Path

from omega.data import generate_synthetic, load, resample
from omega.data.loaders.parquet import write_parquet
from omega.timeframes import Timeframe

from .common import bars


class Synthetic:
    def time_generate_1m(self):
        generate_synthetic(n_bars=1_000_000, seed=1)


class Resample:
    def setup(self):
        self.bars = bars(1_000_000)

    def time_resample_m5(self):
        resample(self.bars, Timeframe.M5)

    def time_resample_h1(self):
        resample(self.bars, Timeframe.H1)


class ParquetReload:
    def setup(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "bars.parquet"
        write_parquet(bars(1_000_000), self.path)

    def teardown(self):
        self.tmp.cleanup()

    def time_load_parquet_1m(self):
        load(self.path, "parquet")

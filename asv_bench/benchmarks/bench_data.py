"""Data layer: synthetic generation, resampling, Parquet round trip."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

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


class MT5Load:
    """An MT5 export (tab-separated, EET server time, spread column) of 100k rows."""

    def setup(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "EURUSD_M1.csv"
        b = bars(100_000)
        server = pd.to_datetime(b.time, utc=True).tz_convert("EET")
        spread = np.round((b.ask_close - b.bid_close) / 1e-5).astype(np.int64)
        frame = pd.DataFrame(
            {
                "<DATE>": server.strftime("%Y.%m.%d"),
                "<TIME>": server.strftime("%H:%M:%S"),
                "<OPEN>": b.bid_open,
                "<HIGH>": b.bid_high,
                "<LOW>": b.bid_low,
                "<CLOSE>": b.bid_close,
                "<TICKVOL>": b.volume.astype(np.int64),
                "<VOL>": 0,
                "<SPREAD>": spread,
            }
        )
        frame.to_csv(self.path, sep="\t", index=False, float_format="%.5f")

    def teardown(self):
        self.tmp.cleanup()

    def time_load_mt5_100k(self):
        load(self.path, "mt5", tz="EET")

    def peakmem_load_mt5_100k(self):
        load(self.path, "mt5", tz="EET")

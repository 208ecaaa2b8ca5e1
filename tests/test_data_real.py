"""Each folder of the real FX data loaded fully; expectations from an independent pandas parse
and from the data's README (rows, spans, time zones, zero-spread share)."""

from __future__ import annotations

import glob

import numpy as np
import pandas as pd
import pytest

from omega.data import load, write_parquet

pytestmark = pytest.mark.real_data
HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def mt5(real_data_dir):
    return load(real_data_dir / "mt5_eurusd_2024", "mt5", tz="EET")


@pytest.fixture(scope="module")
def mt5_pandas(real_data_dir):
    files = sorted(glob.glob(str(real_data_dir / "mt5_eurusd_2024" / "*.csv")))
    return pd.concat([pd.read_csv(f, sep="\t") for f in files], ignore_index=True)


def test_mt5_rows_prices_and_spread(mt5, mt5_pandas):
    assert len(mt5) == 95_725 == len(mt5_pandas)
    assert np.array_equal(mt5.bid_close, mt5_pandas["<CLOSE>"].to_numpy())
    assert np.array_equal(mt5.volume, mt5_pandas["<TICKVOL>"].to_numpy(dtype=float))
    spread = mt5_pandas["<SPREAD>"].to_numpy()
    expected_ask_high = np.round(mt5_pandas["<HIGH>"].to_numpy() + spread * 1e-5, 5)
    assert np.array_equal(mt5.ask_high, expected_ask_high)
    zero = int((spread == 0).sum())
    assert mt5.quality.zero_spread_bars == zero
    assert 0.78 < zero / len(mt5) < 0.80  # README: ~79%
    assert mt5.instrument.symbol == "EURUSD"


def test_mt5_server_time_eet_to_utc(mt5, mt5_pandas):
    server = pd.to_datetime(
        mt5_pandas["<DATE>"] + " " + mt5_pandas["<TIME>"], format="%Y.%m.%d %H:%M:%S"
    )
    # Independent conversion: EET = UTC+2, UTC+3 from 2024-03-31 01:00 UTC (EU rule).
    eu_summer = server >= pd.Timestamp("2024-03-31 04:00")
    expected = server - pd.to_timedelta(np.where(eu_summer, 3, 2), unit="h")
    assert np.array_equal(mt5.time, expected.to_numpy().astype("datetime64[ns]").view(np.int64))
    # Weeks start Monday ~00:05 server time = Sunday ~22:05 UTC in winter.
    first_of_week = pd.to_datetime(mt5.time[1:][np.diff(mt5.time) > 40 * HOUR], utc=True)
    assert (first_of_week.day_of_week == 6).all()
    feb = first_of_week[first_of_week.month == 2]
    assert [t.strftime("%H:%M") for t in feb] == ["22:06", "22:06", "22:06", "22:06"]


def test_mt5_quality_report(mt5):
    q = mt5.quality
    assert q.weekend_gaps == 14
    assert q.crossed_bars == 0
    assert q.gaps_1_5 > 0  # short real gaps of a few minutes
    assert q.first_time == "2024-01-26 15:44:00 UTC"
    assert "95,725 M1 bars" in q.summary()


def test_histdata_fixed_est(real_data_dir):
    folder = real_data_dir / "histdata_eurusd_2017"
    s = load(folder, "histdata")
    files = sorted(glob.glob(str(folder / "*.csv")))
    raw = pd.concat([pd.read_csv(f, sep=";", header=None) for f in files], ignore_index=True)
    assert len(s) == 186_348 == len(raw)
    est = pd.to_datetime(raw[0], format="%Y%m%d %H%M%S")
    expected = (est + pd.Timedelta(hours=5)).to_numpy().astype("datetime64[ns]").view(np.int64)
    assert np.array_equal(s.time, expected)  # UTC-5 all year, no daylight saving
    assert np.array_equal(s.bid_low, raw[3].to_numpy())
    assert s.quality.zero_spread_bars == len(s)  # bid only, default spread 0
    # Sunday 17:00 EST = 22:00 UTC opens each week.
    starts = pd.to_datetime(s.time[1:][np.diff(s.time) > 24 * HOUR], utc=True)
    assert set(starts.strftime("%a %H:%M")) == {"Sun 22:00"}
    with_spread = load(folder, "histdata", spread_pips=0.5)
    assert with_spread.quality.zero_spread_bars == 0


def test_lean_oanda(real_data_dir):
    s = load(real_data_dir / "lean_oanda_eurusd_2014", "lean")
    assert len(s) == 15_366
    assert s.quality.first_time == "2014-05-01 00:00:00 UTC"
    assert s.quality.last_time == "2014-05-15 23:59:00 UTC"
    assert s.quality.zero_spread_bars == 0 and s.quality.crossed_bars == 0
    assert s.quality.spread_close_pips["median"] == pytest.approx(1.1, abs=0.05)


def test_parquet_round_trip_of_real_data(mt5, tmp_path):
    write_parquet(mt5, tmp_path / "mt5.parquet")
    back = load(tmp_path / "mt5.parquet", "parquet")
    for name in ("time", "bid_open", "ask_close", "volume"):
        assert np.array_equal(getattr(back, name), getattr(mt5, name))
    assert back.quality.zero_spread_bars == mt5.quality.zero_spread_bars

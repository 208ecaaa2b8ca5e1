"""Every loader on small files written here; expected values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omega.data import Instrument, generate_synthetic, load, write_parquet
from omega.errors import AlignmentError, ConfigError, EmptyDataError
from omega.timeframes import Timeframe

MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"


def utc(text: str) -> int:
    """ns of a UTC wall time written by hand in the test."""
    return pd.Timestamp(text, tz="UTC").value


def write(path: Path, text: str, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode())
    return path


# --- mt5 ---------------------------------------------------------------------------------


def test_mt5_bid_plus_spread_and_eet_winter_and_summer(tmp_path):
    f = write(
        tmp_path / "EURUSD_M1.csv",
        MT5_HEADER
        + "2024.01.15\t00:05:00\t1.09500\t1.09520\t1.09490\t1.09510\t12\t0\t3\n"
        + "2024.01.15\t00:06:00\t1.09510\t1.09530\t1.09500\t1.09525\t7\t0\t0\n"
        + "2024.07.15\t00:05:00\t1.08000\t1.08010\t1.07990\t1.08005\t4\t0\t12\n",
    )
    s = load(f, "mt5", tz="EET")
    # EET is UTC+2 in January, UTC+3 (EEST) in July.
    assert s.time.tolist() == [
        utc("2024-01-14 22:05"),
        utc("2024-01-14 22:06"),
        utc("2024-07-14 21:05"),
    ]
    assert s.bid_open.tolist() == [1.095, 1.0951, 1.08]
    assert s.ask_open.tolist() == [1.09503, 1.0951, 1.08012]
    assert s.ask_high.tolist() == [1.09523, 1.0953, 1.08022]
    assert s.ask_low.tolist() == [1.09493, 1.095, 1.08002]
    assert s.ask_close.tolist() == [1.09513, 1.09525, 1.08017]
    assert s.volume.tolist() == [12.0, 7.0, 4.0]
    assert s.instrument.symbol == "EURUSD"
    assert s.timeframe is Timeframe.M1
    assert s.quality is not None
    assert s.quality.zero_spread_bars == 1


def test_mt5_default_zone_is_utc_and_hh_mm_times(tmp_path):
    f = write(
        tmp_path / "x.csv",
        MT5_HEADER + "2024.02.01\t00:05\t1.1\t1.1\t1.1\t1.1\t1\t0\t0\n",
    )
    s = load(f, "mt5", instrument="USDJPY")
    assert s.time.tolist() == [utc("2024-02-01 00:05")]
    assert s.instrument.point == 0.001


def test_mt5_columns_in_other_order_and_extra_columns(tmp_path):
    f = write(
        tmp_path / "x.csv",
        "<TIME>\t<DATE>\t<EXTRA>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "10:00:00\t2024.02.01\tzz\t1.2\t1.3\t1.1\t1.25\t5\t0\t10\n",
    )
    s = load(f, "mt5")
    assert s.time.tolist() == [utc("2024-02-01 10:00")]
    assert s.ask_close.tolist() == [1.2501]


def test_mt5_directory_concatenates_files_in_time_order(tmp_path):
    # File names sort the other way round from time: order must come from the timestamps.
    write(tmp_path / "b.csv", MT5_HEADER + "2024.02.01\t00:00:00\t1.1\t1.1\t1.1\t1.1\t1\t0\t0\n")
    write(tmp_path / "a.csv", MT5_HEADER + "2024.02.02\t00:00:00\t1.2\t1.2\t1.2\t1.2\t1\t0\t0\n")
    write(tmp_path / "notes.txt", "not data")
    s = load(tmp_path, "mt5", timeframe="D1")
    assert s.bid_close.tolist() == [1.1, 1.2]
    assert s.timeframe is Timeframe.D1
    assert "2 files" in s.source
    s_glob = load(str(tmp_path / "*.csv"), "mt5", timeframe="D1")
    assert s_glob.bid_close.tolist() == [1.1, 1.2]


def test_mt5_utf16_export_and_utf8_bom(tmp_path):
    text = MT5_HEADER + "2024.02.01\t00:05:00\t1.1\t1.2\t1.0\t1.15\t3\t0\t2\n"
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))  # with BOM, as MetaTrader writes it
    s = load(utf16, "mt5")
    assert s.time.tolist() == [utc("2024-02-01 00:05")]
    assert s.ask_high.tolist() == [1.20002]
    bom = tmp_path / "h.csv"
    bom.write_bytes(b"\xef\xbb\xbf20170102 020000;1.05;1.06;1.04;1.055;0\n")
    assert load(bom, "histdata").time.tolist() == [utc("2017-01-02 07:00")]


def test_blank_lines_are_skipped_and_counted(tmp_path):
    f = write(
        tmp_path / "x.csv",
        MT5_HEADER
        + "2024.02.01\t00:00:00\t1.1\t1.1\t1.1\t1.1\t1\t0\t0\n\n"
        + "2024.02.01\t00:01:00\t1.2\t1.2\t1.2\t1.2\t1\t0\t0\n\n",
    )
    s = load(f, "mt5")
    assert len(s) == 2
    assert s.quality.blank_lines_skipped == 2
    assert s.quality.anomalies()["blank_lines_skipped"] == 2


# --- histdata ----------------------------------------------------------------------------


def test_histdata_fixed_est_and_spread_pips(tmp_path):
    f = write(
        tmp_path / "DAT_ASCII_EURUSD_M1_201701.csv",
        "20170102 020000;1.051550;1.051970;1.051550;1.051900;0\n"
        "20170102 020100;1.052090;1.052090;1.051770;1.051790;0\n"
        "20170702 170000;1.140000;1.140100;1.139900;1.140050;0\n",
    )
    s = load(f, "histdata", spread_pips=0.8)
    # EST without daylight saving: UTC-5 in July too.
    assert s.time.tolist() == [
        utc("2017-01-02 07:00"),
        utc("2017-01-02 07:01"),
        utc("2017-07-02 22:00"),
    ]
    assert s.bid_high.tolist() == [1.05197, 1.05209, 1.1401]
    assert s.ask_open.tolist() == [1.05163, 1.05217, 1.14008]
    assert s.ask_low.tolist() == [1.05163, 1.05185, 1.13998]
    assert s.quality.zero_spread_bars == 0


def test_histdata_default_zero_spread_is_reported(tmp_path):
    f = write(tmp_path / "h.csv", "20170102 020000;1.05;1.06;1.04;1.055;0\n")
    s = load(f, "histdata")
    assert s.ask_close.tolist() == s.bid_close.tolist() == [1.055]
    assert s.quality.zero_spread_bars == 1
    assert s.quality.ask_source == "fixed spread"


def test_histdata_tz_override(tmp_path):
    f = write(tmp_path / "h.csv", "20170102 020000;1.05;1.06;1.04;1.055;0\n")
    assert load(f, "histdata", tz="UTC").time.tolist() == [utc("2017-01-02 02:00")]


# --- lean --------------------------------------------------------------------------------


def test_lean_crlf_date_from_file_name_both_sides(tmp_path):
    write(
        tmp_path / "20140502_eurusd_minute_quote.csv",
        "0,1.38676,1.38686,1.38669,1.38686,0,1.38686,1.38697,1.38680,1.38697,0\n"
        "60000,1.38688,1.38688,1.38685,1.38685,2,1.38700,1.38700,1.38696,1.38698,3\n",
        newline="\r\n",
    )
    write(
        tmp_path / "20140501_eurusd_minute_quote.csv",
        "86340000,1.3,1.31,1.29,1.305,0,1.3001,1.3101,1.2901,1.3051,0\n",
        newline="\r\n",
    )
    s = load(tmp_path, "lean")
    assert s.time.tolist() == [
        utc("2014-05-01 23:59"),
        utc("2014-05-02 00:00"),
        utc("2014-05-02 00:01"),
    ]
    assert s.bid_open.tolist() == [1.3, 1.38676, 1.38688]
    assert s.ask_low.tolist() == [1.2901, 1.3868, 1.38696]
    assert s.volume.tolist() == [0.0, 0.0, 5.0]
    assert s.quality.ask_source == "file"


# --- csv ---------------------------------------------------------------------------------


def test_csv_one_side_fixed_spread_iso_times_with_tz(tmp_path):
    f = write(
        tmp_path / "eurusd.csv",
        "Time,Open,High,Low,Close,Volume\n"
        "2024-03-31 00:00:00,1.1,1.1002,1.0999,1.1001,5\n"
        "2024-04-01 00:00:00,1.2,1.2002,1.1999,1.2001,6\n",
    )
    s = load(f, "csv", spread_pips=1.0, tz="Europe/Berlin", timeframe="D1")
    # Berlin: CET (UTC+1) until 2024-03-31 02:00, then CEST (UTC+2).
    assert s.time.tolist() == [utc("2024-03-30 23:00"), utc("2024-03-31 22:00")]
    assert s.ask_open.tolist() == [1.1001, 1.2001]
    assert s.ask_close.tolist() == [1.1002, 1.2002]
    assert s.volume.tolist() == [5.0, 6.0]


def test_csv_ask_side_with_spread_column_in_points(tmp_path):
    f = write(
        tmp_path / "x.csv",
        "time,open,high,low,close,spread\n2024-01-02T10:00:00Z,1.1002,1.1004,1.1001,1.1003,20\n",
    )
    s = load(f, "csv", side="ask")
    assert s.time.tolist() == [utc("2024-01-02 10:00")]
    assert s.ask_open.tolist() == [1.1002]
    assert s.bid_open.tolist() == [1.1]
    assert s.bid_low.tolist() == [1.0999]
    assert s.volume.tolist() == [0.0]
    assert s.quality.ask_source == "spread column"


def test_csv_both_sides_epoch_seconds(tmp_path):
    f = write(
        tmp_path / "x.csv",
        "time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close,volume\n"
        "1704189600,1.1,1.2,1.0,1.15,1.11,1.21,1.01,1.16,9\n"
        "1704189660,1.15,1.2,1.1,1.12,1.16,1.21,1.11,1.13,3\n",
    )
    s = load(f, "csv", time_unit="s")
    assert s.time.tolist() == [utc("2024-01-02 10:00"), utc("2024-01-02 10:01")]
    assert s.ask_high.tolist() == [1.21, 1.21]
    assert s.volume.tolist() == [9.0, 3.0]


def test_csv_iso_with_offsets_is_absolute(tmp_path):
    f = write(
        tmp_path / "x.csv",
        "time,open,high,low,close\n2024-01-02T12:00:00+02:00,1,1,1,1\n",
    )
    assert load(f, "csv", tz="EET").time.tolist() == [utc("2024-01-02 10:00")]


def test_csv_separate_bid_and_ask_files(tmp_path):
    bid = write(
        tmp_path / "bid.csv",
        "time,open,high,low,close,volume\n"
        "2024-01-02 10:00,1.1,1.2,1.0,1.15,4\n2024-01-02 10:01,1.15,1.2,1.1,1.12,2\n",
    )
    ask = write(
        tmp_path / "ask.csv",
        "time,open,high,low,close\n"
        "2024-01-02 10:00,1.11,1.21,1.01,1.16\n2024-01-02 10:01,1.16,1.21,1.11,1.13\n",
    )
    s = load(None, "csv", bid_path=str(bid), ask_path=str(ask), instrument="EURUSD")
    assert s.bid_close.tolist() == [1.15, 1.12]
    assert s.ask_close.tolist() == [1.16, 1.13]
    assert s.volume.tolist() == [4.0, 2.0]


def test_csv_separate_files_misaligned_names_first_bad_row(tmp_path):
    bid = write(
        tmp_path / "bid.csv",
        "time,open,high,low,close\n"
        "2024-01-02 10:00,1,1,1,1\n2024-01-02 10:01,1,1,1,1\n2024-01-02 10:02,1,1,1,1\n",
    )
    ask = write(
        tmp_path / "ask.csv",
        "time,open,high,low,close\n2024-01-02 10:00,1,1,1,1\n2024-01-02 10:02,1,1,1,1\n",
    )
    with pytest.raises(AlignmentError) as err:
        load(None, "csv", bid_path=str(bid), ask_path=str(ask))
    # The bid bar of 10:01 (line 3 of bid.csv) has no ask partner.
    assert err.value.file == str(bid)
    assert err.value.row == 3
    assert err.value.column == "time"
    assert "bid.csv" in str(err.value) and "row 3" in str(err.value)


def test_csv_separate_files_one_longer(tmp_path):
    bid = write(tmp_path / "bid.csv", "time,open,high,low,close\n2024-01-02 10:00,1,1,1,1\n")
    ask = write(
        tmp_path / "ask.csv",
        "time,open,high,low,close\n2024-01-02 10:00,1,1,1,1\n2024-01-02 10:01,1,1,1,1\n",
    )
    with pytest.raises(AlignmentError) as err:
        load(None, "csv", bid_path=str(bid), ask_path=str(ask))
    assert (err.value.file, err.value.row, err.value.column) == (str(ask), 3, "time")


# --- parquet -----------------------------------------------------------------------------


def test_parquet_round_trip_keeps_columns_and_metadata(tmp_path):
    series = generate_synthetic(n_bars=3_000, seed=3, symbol="USDJPY", price_decimals=3)
    path = tmp_path / "usdjpy.parquet"
    write_parquet(series, path)
    back = load(path, "parquet")
    for name in ("time", "bid_open", "bid_high", "ask_low", "ask_close", "volume"):
        assert np.array_equal(getattr(back, name), getattr(series, name))
    assert back.instrument == series.instrument
    assert back.instrument.point == 0.001
    assert back.timeframe is Timeframe.M1
    assert back.quality.n_bars == 3_000


def test_parquet_keeps_declared_timeframe_and_explicit_instrument_wins(tmp_path):
    series = generate_synthetic(n_bars=10, seed=1)
    series.timeframe = Timeframe.H1  # metadata says H1 although the steps are 1 minute
    write_parquet(series, tmp_path / "a.parquet")
    back = load(tmp_path, "parquet", instrument=Instrument.for_symbol("GBPUSD"))
    assert back.timeframe is Timeframe.H1
    assert back.instrument.symbol == "GBPUSD"


# --- the entry point ---------------------------------------------------------------------


def test_unknown_format_and_unknown_option_are_config_errors(tmp_path):
    f = write(tmp_path / "h.csv", "20170102 020000;1.05;1.06;1.04;1.055;0\n")
    with pytest.raises(ConfigError, match="unknown data format"):
        load(f, "metatrader")
    with pytest.raises(ConfigError, match="spread_pip"):
        load(f, "histdata", spread_pip=1)
    with pytest.raises(ConfigError, match="time zone"):
        load(f, "histdata", tz="Mars/Olympus")


def test_nothing_to_load_is_empty_data_error(tmp_path):
    with pytest.raises(EmptyDataError) as err:
        load(tmp_path, "mt5")
    assert err.value.file == str(tmp_path)
    with pytest.raises(EmptyDataError):
        load(tmp_path / "missing.csv", "mt5")


def test_instrument_guessed_from_file_name(tmp_path):
    f = write(
        tmp_path / "DAT_ASCII_USDJPY_M1_2017.csv", "20170102 020000;117.1;117.2;117.0;117.15;0\n"
    )
    s = load(f, "histdata", spread_pips=1.0)
    assert s.instrument.symbol == "USDJPY"
    assert s.ask_close.tolist() == [117.16]


# --- round trips: synthetic bars written in each text format and loaded back ------------


def test_round_trip_mt5_text_in_eet(tmp_path, synthetic_bars):
    s = synthetic_bars
    server = pd.to_datetime(s.time, utc=True).tz_convert("EET")  # the writer's direction
    spread_points = np.round((s.ask_close - s.bid_close) / 1e-5).astype(int)
    lines = [MT5_HEADER.rstrip("\n")]
    for i in range(len(s)):
        lines.append(
            f"{server[i]:%Y.%m.%d}\t{server[i]:%H:%M:%S}\t{s.bid_open[i]:.5f}\t{s.bid_high[i]:.5f}"
            f"\t{s.bid_low[i]:.5f}\t{s.bid_close[i]:.5f}\t{int(s.volume[i])}\t0\t{spread_points[i]}"
        )
    path = write(tmp_path / "EURUSD_M1.csv", "\n".join(lines) + "\n")
    back = load(path, "mt5", tz="EET")
    for name in ("time", "bid_open", "bid_high", "bid_low", "bid_close", "ask_open", "ask_high",
                 "ask_low", "ask_close", "volume"):  # fmt: skip
        assert np.array_equal(getattr(back, name), getattr(s, name)), name
    assert back.quality.weekend_gaps == s.quality.weekend_gaps


def test_round_trip_lean_days(tmp_path, synthetic_bars):
    s = synthetic_bars
    ts = pd.to_datetime(s.time, utc=True)
    days = ts.strftime("%Y%m%d")
    ms = (s.time % 86_400_000_000_000) // 1_000_000
    for day in sorted(set(days)):
        rows = np.flatnonzero(days == day)
        text = "".join(
            f"{ms[i]},{s.bid_open[i]:.5f},{s.bid_high[i]:.5f},{s.bid_low[i]:.5f},"
            f"{s.bid_close[i]:.5f},0,{s.ask_open[i]:.5f},{s.ask_high[i]:.5f},{s.ask_low[i]:.5f},"
            f"{s.ask_close[i]:.5f},0\n"
            for i in rows
        )
        write(tmp_path / f"{day}_eurusd_minute_quote.csv", text, newline="\r\n")
    back = load(tmp_path, "lean")
    assert np.array_equal(back.time, s.time)
    assert np.array_equal(back.ask_low, s.ask_low)
    assert np.array_equal(back.bid_close, s.bid_close)


def test_csv_pair_options_must_be_complete(tmp_path):
    bid = write(tmp_path / "bid.csv", "time,open,high,low,close\n2024-01-02 10:00,1,1,1,1\n")
    with pytest.raises(ConfigError, match="both bid_path and ask_path"):
        load(None, "csv", bid_path=str(bid))
    with pytest.raises(ConfigError, match="path=None"):
        load(bid, "csv", bid_path=str(bid), ask_path=str(bid))

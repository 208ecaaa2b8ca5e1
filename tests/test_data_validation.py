"""Each hard rule: the error class, and a message naming file, row (source line) and column."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from omega.data import generate_synthetic, load, validate_series, write_parquet
from omega.errors import (
    DataError,
    DuplicateTimestampError,
    EmptyDataError,
    MissingColumnError,
    NonFiniteValueError,
    NonMonotonicTimestampError,
    NonPositivePriceError,
    OHLCInconsistencyError,
    ParseError,
)

MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
GOOD = "2024.02.01\t00:00:00\t1.1\t1.2\t1.0\t1.15\t1\t0\t2\n"


def mt5_row(minute: int, o="1.1", h="1.2", lo="1.0", c="1.15", spread="2") -> str:
    return f"2024.02.01\t00:{minute:02d}:00\t{o}\t{h}\t{lo}\t{c}\t1\t0\t{spread}\n"


def mt5_file(tmp_path: Path, *rows: str, name: str = "EURUSD.csv") -> Path:
    path = tmp_path / name
    path.write_text(MT5_HEADER + "".join(rows))
    return path


def assert_where(err: DataError, file: Path | str, row: int | None, column: str | None) -> None:
    """The attributes and the text both name the place, so a user can open the file and look."""
    assert err.file == str(file)
    assert err.row == row
    assert err.column == column
    text = str(err)
    assert f"file {file}" in text
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column {column}" in text


def test_empty_file_and_header_only_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(EmptyDataError) as err:
        load(empty, "mt5")
    assert_where(err.value, empty, 1, None)
    header_only = mt5_file(tmp_path, name="header.csv")
    with pytest.raises(EmptyDataError) as err:
        load(header_only, "mt5")
    assert_where(err.value, header_only, None, None)


def test_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(MT5_HEADER.replace("\t<SPREAD>", "") + GOOD.rsplit("\t", 1)[0] + "\n")
    with pytest.raises(MissingColumnError) as err:
        load(path, "mt5")
    assert_where(err.value, path, 1, "<SPREAD>")
    csv = tmp_path / "one.csv"
    csv.write_text("time,open,high,low\n2024-01-01,1,1,1\n")
    with pytest.raises(MissingColumnError) as err:
        load(csv, "csv")
    assert_where(err.value, csv, 1, "close")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (mt5_row(1, h="1.2x"), "<HIGH>"),
        (mt5_row(1, spread="two"), "<SPREAD>"),
        (mt5_row(1, c=""), "<CLOSE>"),
        ("2024.02.30\t00:01:00\t1.1\t1.2\t1.0\t1.15\t1\t0\t2\n", "<DATE>"),
        ("2024.02.01\t00:61:00\t1.1\t1.2\t1.0\t1.15\t1\t0\t2\n", "<TIME>"),
        ("2024-02-01\t00:01:00\t1.1\t1.2\t1.0\t1.15\t1\t0\t2\n", "<DATE>"),
    ],
)
def test_unparseable_value_names_line_and_column(tmp_path, row, column):
    path = mt5_file(tmp_path, GOOD, row, mt5_row(2))
    with pytest.raises(ParseError) as err:
        load(path, "mt5")
    assert_where(err.value, path, 3, column)  # header is line 1, the bad row line 3


def test_wrong_field_count_names_line(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        "20170102 020000;1.05;1.06;1.04;1.055;0\n20170102 020100;1.05;1.06;1.04;1.055\n"
    )
    with pytest.raises(ParseError) as err:
        load(path, "histdata")
    assert_where(err.value, path, 2, None)
    assert "expected 6 fields" in str(err.value)


def test_bad_iso_time_and_bad_epoch(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("time,open,high,low,close\n2024-01-02 10:00,1,1,1,1\nyesterday,1,1,1,1\n")
    with pytest.raises(ParseError) as err:
        load(path, "csv")
    assert_where(err.value, path, 3, "time")
    path.write_text("time,open,high,low,close\n1704189600,1,1,1,1\n17041896.5,1,1,1,1\n")
    with pytest.raises(ParseError) as err:
        load(path, "csv", time_unit="s")
    assert_where(err.value, path, 3, "time")


def test_lean_bad_file_name_and_ms_out_of_day(tmp_path):
    bad_name = tmp_path / "eurusd.csv"
    bad_name.write_text("0,1,1,1,1,0,1,1,1,1,0\n")
    with pytest.raises(ParseError) as err:
        load(bad_name, "lean")
    assert_where(err.value, bad_name, None, "file name")
    day = tmp_path / "20140501_eurusd_minute_quote.csv"
    day.write_text("0,1,1,1,1,0,1,1,1,1,0\n86400000,1,1,1,1,0,1,1,1,1,0\n")
    with pytest.raises(ParseError) as err:
        load(day, "lean")
    assert_where(err.value, day, 2, "field 1 (ms)")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_value(tmp_path, value):
    path = tmp_path / "h.csv"
    path.write_text(
        f"20170102 020000;1.05;1.06;1.04;1.055;0\n20170102 020100;1.05;{value};1.04;1.055;0\n"
    )
    with pytest.raises(NonFiniteValueError) as err:
        load(path, "histdata")
    assert_where(err.value, path, 2, "field 3 (high)")


def test_non_positive_price(tmp_path):
    path = mt5_file(tmp_path, GOOD, mt5_row(1, o="0.5", lo="0", c="0.6"))
    with pytest.raises(NonPositivePriceError) as err:
        load(path, "mt5")
    assert_where(err.value, path, 3, "<LOW>")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (mt5_row(1, h="0.9", lo="1.0", o="0.95", c="0.95"), "<HIGH>"),  # high < low
        (mt5_row(1, o="1.3"), "<OPEN>"),  # open above high
        (mt5_row(1, c="0.99"), "<CLOSE>"),  # close below low
    ],
)
def test_ohlc_inconsistent_bid(tmp_path, row, column):
    path = mt5_file(tmp_path, GOOD, mt5_row(1), row.replace("00:01:00", "00:02:00"))
    with pytest.raises(OHLCInconsistencyError) as err:
        load(path, "mt5")
    assert_where(err.value, path, 4, column)


def test_ohlc_inconsistent_ask_side(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text(
        "time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n"
        "2024-01-02 10:00,1.1,1.2,1.0,1.15,1.11,1.21,1.01,1.16\n"
        "2024-01-02 10:01,1.1,1.2,1.0,1.15,1.11,1.21,1.01,1.26\n"
    )
    with pytest.raises(OHLCInconsistencyError) as err:
        load(path, "csv")
    assert_where(err.value, path, 3, "ask_close")
    assert "ask close outside [low, high]" in str(err.value)


def test_duplicate_timestamp_names_the_second_occurrence(tmp_path):
    path = mt5_file(tmp_path, mt5_row(0), mt5_row(1), mt5_row(1))
    with pytest.raises(DuplicateTimestampError) as err:
        load(path, "mt5")
    assert_where(err.value, path, 4, "<DATE>/<TIME>")
    assert "row 3" in str(err.value)  # the earlier bar it repeats


def test_decreasing_timestamp(tmp_path):
    path = mt5_file(tmp_path, mt5_row(0), mt5_row(5), mt5_row(3))
    with pytest.raises(NonMonotonicTimestampError) as err:
        load(path, "mt5")
    assert_where(err.value, path, 4, "<DATE>/<TIME>")


def test_overlapping_files_name_the_later_file(tmp_path):
    mt5_file(tmp_path, mt5_row(0), mt5_row(1), mt5_row(2), name="a.csv")
    second = mt5_file(tmp_path, mt5_row(1), mt5_row(3), name="b.csv")
    # Files are ordered by their first bar: a (00:00..00:02) then b (00:01, 00:03): b's first
    # bar goes back in time; the message also names a's last bar (line 4).
    with pytest.raises(NonMonotonicTimestampError) as err:
        load(tmp_path, "mt5")
    assert_where(err.value, second, 2, "<DATE>/<TIME>")
    assert f"{tmp_path / 'a.csv'}, row 4" in str(err.value)


def test_parquet_rows_are_zero_based_indices(tmp_path):
    series = generate_synthetic(n_bars=20, seed=2)
    series.bid_close[7] = np.nan
    path = tmp_path / "bad.parquet"
    write_parquet(series, path)
    with pytest.raises(NonFiniteValueError) as err:
        load(path, "parquet")
    assert_where(err.value, path, 7, "bid_close")


def test_validate_series_in_memory():
    series = generate_synthetic(n_bars=50, seed=4)
    validate_series(series)  # synthetic bars are valid
    broken = replace(series, ask_low=series.ask_low.copy())
    broken.ask_low[10] = broken.ask_high[10] + 0.001
    with pytest.raises(OHLCInconsistencyError) as err:
        validate_series(broken)
    assert_where(err.value, series.source, 10, "ask_high")
    with pytest.raises(EmptyDataError):
        validate_series(series.slice(0, 0))

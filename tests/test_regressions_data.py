"""Regression tests for the data-loading faults of issue 13 (one test per finding, named
after it). Each input is the issue's reproduction, byte for byte where it gives one."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omega.cli import app
from omega.data import load
from omega.errors import (
    EmptyDataError,
    NonFiniteValueError,
    NonPositivePriceError,
    ParseError,
)

H = b"<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"
GOOD_MT5 = [
    b"2024.02.01\t00:00:00\t1.08\t1.09\t1.07\t1.08\t1\t0\t7",
    b"2024.02.01\t00:01:00\t1.08\t1.09\t1.07\t1.08\t1\t0\t7",
    b"2024.02.01\t00:02:00\t1.08\t1.09\t1.07\t1.08\t1\t0\t7",
    b"2024.02.01\t00:03:00\t1.08\t1.09\t1.07\t1.08\t1\t0\t7",
]
GOOD_LEAN = b"60000,1.1,1.2,1.0,1.1,5,1.1,1.2,1.0,1.1,5"
CSV_HEAD = b"time,open,high,low,close\n2024-01-01T00:00:00,1.1,1.2,1.0,1.1\n"


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def mt5(tmp_path: Path, lines: list[bytes], name: str = "u.csv") -> str:
    return write(tmp_path / name, b"\n".join([H, *lines]) + b"\n")


# ---------------------------------------------------------------- 1. tracebacks from loaders


def test_regression_non_utf8_bytes_in_mt5_file(tmp_path):
    # printf "$H\n2024.02.01\t00:00:00\t1.08\xe9\t1.09\t1.07\t1.08\t1\t0\t7\n" > u.csv
    path = write(
        tmp_path / "u.csv", H + b"\n2024.02.01\t00:00:00\t1.08\xe9\t1.09\t1.07\t1.08\t1\t0\t7\n"
    )
    with pytest.raises(ParseError) as info:
        load(path, "mt5", tz="UTC")
    err = info.value
    assert (err.file, err.row, err.column) == (path, 2, "<OPEN>")
    assert "UTF-8" in str(err)
    # The CLI command of the reproduction: the named error, exit 2, no traceback.
    result = CliRunner().invoke(app, ["validate-data", path, "--format", "mt5"])
    assert result.exit_code == 2, result.output
    assert "parse_error" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("fmt", "name", "data", "row", "column"),
    [
        ("histdata", "h.csv", b"20170102 020000;1.05\xff;1.06;1.05;1.05;0\n", 1, "field 2 (open)"),
        (
            "histdata",
            "h.csv",
            b"20170102 02\xe90000;1.05;1.06;1.05;1.05;0\n",
            1,
            "field 1 (datetime)",
        ),
        (
            "lean",
            "20240101_x.csv",
            b"60000,1.1,1.2,1.0,1.1,5,1.1,1.2\xc3,1.0,1.1,5\n",
            1,
            "field 8 (ask_high)",
        ),
        ("csv", "c.csv", CSV_HEAD + b"2024-01-01T00:01:00,1.1,1.2\x80,1.0,1.1\n", 3, "high"),
        (
            "mt5",
            "m.csv",
            H + b"\n2024.02.01\t00:\xe900:00\t1.08\t1.09\t1.07\t1.08\t1\t0\t7\n",
            2,
            "<TIME>",
        ),
    ],
)
def test_regression_non_utf8_bytes_in_every_format(tmp_path, fmt, name, data, row, column):
    path = write(tmp_path / name, data)
    with pytest.raises(ParseError) as info:
        load(path, fmt, tz="UTC")
    assert (info.value.row, info.value.column) == (row, column)
    assert "UTF-8" in str(info.value)


@pytest.mark.parametrize(("fmt", "name"), [("histdata", "h.csv"), ("lean", "20240101_e.csv")])
def test_regression_empty_histdata_or_lean_file(tmp_path, fmt, name):
    path = write(tmp_path / name, b"")
    with pytest.raises(EmptyDataError) as info:
        load(path, fmt)
    assert info.value.file == path


def test_regression_mt5_header_without_final_newline(tmp_path):
    path = write(tmp_path / "nh.csv", H)
    with pytest.raises(EmptyDataError, match="no data rows"):
        load(path, "mt5", tz="UTC")


# ---------------------------------------------------------------- 5. earliest fault first


def test_regression_earliest_fault_reported_first(tmp_path):
    # A bad value on row 2 and a short row 3: row 2 is reported (was row 3).
    bad_value = b"2024.02.01\t00:00:00\t1.0x\t1.09\t1.07\t1.08\t1\t0\t7"
    short = b"2024.02.01\t00:01:00\t1.08\t1.09\t1.07\t1.08\t1\t0"
    path = mt5(tmp_path, [bad_value, short, *GOOD_MT5[2:]])
    with pytest.raises(ParseError) as info:
        load(path, "mt5", tz="UTC")
    assert (info.value.row, info.value.column) == (2, "<OPEN>")


@pytest.mark.parametrize(
    ("lines", "row", "column"),
    [
        # bad date (row 3) before a short row (row 4)
        ([GOOD_MT5[0], GOOD_MT5[1].replace(b"02.01", b"02.31"), GOOD_MT5[2][:-2]], 3, "<DATE>"),
        # bad time (row 2) before a bad number (row 3)
        (
            [GOOD_MT5[0].replace(b"00:00:00", b"00:61:00"), GOOD_MT5[1].replace(b"1.09", b"1,09")],
            2,
            "<TIME>",
        ),
        # a bad date on row 4 and a bad time on row 3: the time (checked second) wins
        (
            [
                GOOD_MT5[0],
                GOOD_MT5[1].replace(b"00:01:00", b"0:01:00x"),
                GOOD_MT5[2].replace(b"2024", b"2o24"),
            ],
            3,
            "<TIME>",
        ),
        # an empty field (row 2) before a bad number (row 3)
        ([GOOD_MT5[0].replace(b"\t7", b"\t"), GOOD_MT5[1].replace(b"1.07", b"?")], 2, "<SPREAD>"),
        # a bad number (row 2) before an empty field (row 3)
        ([GOOD_MT5[0].replace(b"1.07", b"?"), GOOD_MT5[1].replace(b"\t7", b"\t")], 2, "<LOW>"),
        # a short row (row 2) before non-UTF-8 bytes (row 3)
        ([GOOD_MT5[0][:-2], GOOD_MT5[1].replace(b"1.07", b"1.0\xe7")], 2, None),
        # non-UTF-8 bytes (row 2) before a stray quote (row 3)
        ([GOOD_MT5[0].replace(b"1.07", b"1.0\xe7"), b'"' + GOOD_MT5[1]], 2, "<LOW>"),
    ],
)
def test_regression_earliest_fault_reported_first_any_kind(tmp_path, lines, row, column):
    path = mt5(tmp_path, lines)
    with pytest.raises(ParseError) as info:
        load(path, "mt5", tz="UTC")
    assert (info.value.row, info.value.column) == (row, column), str(info.value)


def test_regression_earliest_fault_reported_first_lean(tmp_path):
    # hex ms on row 2, short row 3
    data = b"\n".join([GOOD_LEAN, b"0x1,1.1,1.2,1.0,1.1,5,1.1,1.2,1.0,1.1,5", b"120000,1.1"])
    path = write(tmp_path / "20240101_q.csv", data + b"\n")
    with pytest.raises(ParseError) as info:
        load(path, "lean")
    assert (info.value.row, info.value.column) == (2, "field 1 (ms)")


def test_regression_earliest_fault_reported_first_csv(tmp_path):
    data = (
        b"time,open,high,low,close\n"
        b"2024-01-01T00:00:00,1.1,1.2,1.0,1.1\n"
        b"2024-01-01T0x:01:00,1.1,1.2,1.0,1.1\n"
        b"2024-01-01T00:02:00,1.1,1.2,1.0\n"
    )
    path = write(tmp_path / "c.csv", data)
    with pytest.raises(ParseError) as info:
        load(path, "csv")
    assert (info.value.row, info.value.column) == (3, "time")


# ---------------------------------------------------------------- 6. stray quote


def test_regression_stray_quote_at_line_start(tmp_path):
    path = mt5(tmp_path, [GOOD_MT5[0], b'"' + GOOD_MT5[1], GOOD_MT5[2]])
    with pytest.raises(ParseError) as info:
        load(path, "mt5", tz="UTC")
    assert info.value.row == 3
    assert "quote" in str(info.value)


# ---------------------------------------------------------------- 7. valid extremes


def test_regression_high_of_1e308_is_valid(tmp_path):
    # Valid by the documented rules (finite, > 0, low <= open, close <= high); was reported
    # non-finite because rounding the derived ask multiplied by 1e5, with a RuntimeWarning
    # (an error under this suite's filterwarnings).
    lines = [line.replace(b"\t1.09\t", b"\t1e308\t") for line in GOOD_MT5]
    series = load(mt5(tmp_path, lines), "mt5", tz="UTC")
    assert series.bid_high[0] == 1e308
    assert series.ask_high[0] == 1e308  # + 7 points is below the spacing of doubles there
    assert series.ask_close[0] == 1.08007


def test_regression_minus_1e308_is_non_positive(tmp_path):
    lines = [GOOD_MT5[0].replace(b"\t1.09\t", b"\t-1e308\t"), *GOOD_MT5[1:]]
    with pytest.raises(NonPositivePriceError) as info:
        load(mt5(tmp_path, lines), "mt5", tz="UTC")
    assert (info.value.row, info.value.column) == (2, "<HIGH>")


def test_regression_derived_price_past_the_largest_double_is_non_finite(tmp_path):
    # bid 1.7e308 + a spread of 1e303 overflows: a named error on the derived column, no warning.
    largest = GOOD_MT5[0].replace(b"\t1.09\t", b"\t1.7976931348623157e308\t")
    lines = [largest.replace(b"\t7", b"\t1e308")]
    with pytest.raises(NonFiniteValueError) as info:
        load(mt5(tmp_path, lines), "mt5", tz="UTC")
    assert (info.value.row, info.value.column) == (2, "<HIGH>+<SPREAD>")


# ---------------------------------------------------------------- 8. hex milliseconds


def test_regression_lean_hex_milliseconds_rejected(tmp_path):
    path = write(tmp_path / "20240101_x.csv", b"0xEA60,1.1,1.2,1.0,1.1,5,1.1,1.2,1.0,1.1,5\n")
    with pytest.raises(ParseError) as info:
        load(path, "lean")
    assert (info.value.row, info.value.column) == (1, "field 1 (ms)")
    assert "0xEA60" in str(info.value)


@pytest.mark.parametrize("ms", [b"60000.0", b"6e4", b"+0x10", b"123456789012345678901234567"])
def test_regression_lean_milliseconds_must_be_decimal_integers(tmp_path, ms):
    path = write(tmp_path / "20240101_x.csv", GOOD_LEAN + b"\n" + ms + GOOD_LEAN[5:] + b"\n")
    with pytest.raises(ParseError) as info:
        load(path, "lean")
    assert (info.value.row, info.value.column) == (2, "field 1 (ms)")


def test_regression_csv_epoch_hex_rejected(tmp_path):
    path = write(tmp_path / "c.csv", b"time,open,high,low,close\n0x10,1.1,1.2,1.0,1.1\n")
    with pytest.raises(ParseError) as info:
        load(path, "csv", time_unit="s")
    assert (info.value.row, info.value.column) == (2, "time")


def test_regression_extreme_prices_spread_in_pips_without_warning(tmp_path):
    # Valid bid of 1e308 and ask of 1.1 (crossed, a soft anomaly): the close spread in pips is
    # past the largest double; the report says -inf instead of a numpy overflow warning.
    row = b"%d,1e308,1e308,1e308,1e308,5,1.1,1.1,1.1,1.1,5"
    path = write(tmp_path / "20240101_big.csv", b"\n".join([row % 0, row % 60000]) + b"\n")
    series = load(path, "lean")
    assert series.quality.crossed_bars == 2
    assert series.quality.spread_close_pips == {
        "min": -math.inf,
        "median": -math.inf,
        "max": -math.inf,
    }


@pytest.mark.parametrize("data", [b"", b"PAR1", b"PAR1\x00\x00\x00\x00PAR1", b"not parquet"])
def test_regression_corrupt_parquet_file(tmp_path, data):
    # Found by tests/test_fuzz_loaders.py: the metadata read (instrument) raised ArrowInvalid.
    path = write(tmp_path / "bars.parquet", data)
    with pytest.raises(ParseError, match="not a readable parquet file") as info:
        load(path, "parquet")
    assert info.value.file == path


def test_regression_parquet_time_out_of_nanosecond_range(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from omega.data.bars import COLUMNS

    columns = {"time": pa.array([2**63 + 5, 2**63 + 6], type=pa.uint64())}
    columns.update({name: pa.array([1.0, 1.0]) for name in COLUMNS[1:]})
    pq.write_table(pa.table(columns), tmp_path / "bars.parquet")
    with pytest.raises(ParseError) as info:
        load(tmp_path / "bars.parquet", "parquet")
    assert info.value.column == "time"

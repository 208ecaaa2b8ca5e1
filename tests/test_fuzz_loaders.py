"""Fuzzing every file loader: malformed files give a named omega.errors error or a valid load.

Hypothesis builds a valid file of each format, then mutates it the ways real files go wrong
(docs/data/validation.md): bytes that are not UTF-8, UTF-16 and BOMs, truncation at any byte,
other separators and line ends, missing or extra fields, stray quotes, extreme and odd numbers,
reordered, repeated and blank lines. Whatever the input, ``omega.data.load`` must either return
a series or raise an ``OmegaError`` (a DataError naming its file): never another exception,
never a warning (warnings are errors in this suite).

CI runs a small number of examples; ``nox -s fuzz`` runs the same properties with the ``fuzz``
profile (tests/conftest.py; OMEGA_FUZZ_EXAMPLES sets its size).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omega.data import load
from omega.errors import DataError, OmegaError

CI_EXAMPLES = 40
M1 = {"timeframe": "M1"}  # the bars are minutes; inferring from a few is not the point


def fuzz_settings() -> settings:
    """The ``fuzz`` profile when pytest runs with ``--hypothesis-profile=fuzz``, else a small
    CI budget."""
    if settings.default is settings.get_profile("fuzz"):
        return settings(settings.default)
    return settings(
        max_examples=CI_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------- valid files

EXTREMES = [
    "1e308", "-1e308", "1.7976931348623157e308", "1e309", "-1e309", "inf", "-inf", "nan",
    "NaN", "0", "-0", "5e-324", "1e-320", "", " ", "0x10", "+1.0", "1e", ".", "-", "1,5",
    "١", "1.0.0", "9" * 40, "1_000", "0.00001", "99999999999",
]  # fmt: skip
BAD_BYTES = [b"\xe9", b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff"]


@st.composite
def bars(draw, n_min: int = 1, n_max: int = 6) -> list[tuple[int, float, float, float, float]]:
    """(minute, open, high, low, close) rows: valid, increasing minutes."""
    n = draw(st.integers(n_min, n_max))
    minutes = sorted(draw(st.sets(st.integers(0, 1439), min_size=n, max_size=n)))
    # Mostly FX-like prices; sometimes valid extremes (huge, near the largest double). Tiny
    # prices are off the price grid a derived side is rounded to (the mutations try them).
    scale = draw(st.sampled_from([1.0, 1.0, 1.0, 1e150, 8e307]))
    rows = []
    for minute in minutes:
        low = draw(st.floats(0.5, 2.0))
        high = low + draw(st.floats(0.0, 0.01))
        o = draw(st.floats(low, high))
        c = draw(st.floats(low, high))
        prices = (round(o, 5), round(high, 5), round(low, 5), round(c, 5))
        rows.append((minute, *(p * scale for p in prices)))
    return rows


def _clock(minute: int, sep: str = ":") -> str:
    return f"{minute // 60:02d}{sep}{minute % 60:02d}{sep}00"


def mt5_file(rows) -> tuple[bytes, str, dict]:
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    lines += [
        f"2024.02.01\t{_clock(m)}\t{o!r}\t{h!r}\t{lo!r}\t{c!r}\t5\t0\t7" for m, o, h, lo, c in rows
    ]
    return "\n".join(lines).encode() + b"\n", "EURUSD_M1.csv", {"tz": "UTC", **M1}


def histdata_file(rows) -> tuple[bytes, str, dict]:
    lines = [f"20170102 {_clock(m, '')};{o!r};{h!r};{lo!r};{c!r};0" for m, o, h, lo, c in rows]
    return "\n".join(lines).encode() + b"\n", "DAT_ASCII_EURUSD_M1_2017.csv", M1


def lean_file(rows) -> tuple[bytes, str, dict]:
    lines = [
        f"{m * 60000},{o!r},{h!r},{lo!r},{c!r},5,{o!r},{h!r},{lo!r},{c!r},5"
        for m, o, h, lo, c in rows
    ]
    return "\r\n".join(lines).encode() + b"\r\n", "20140501_eurusd_minute_quote.csv", M1


def csv_file(rows) -> tuple[bytes, str, dict]:
    lines = ["time,open,high,low,close,volume"]
    lines += [f"2024-01-02T{_clock(m)},{o!r},{h!r},{lo!r},{c!r},3" for m, o, h, lo, c in rows]
    return "\n".join(lines).encode() + b"\n", "bars.csv", {"spread_pips": 0.5, **M1}


def csv_two_sided_file(rows) -> tuple[bytes, str, dict]:
    lines = ["time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close"]
    lines += [
        f"{1704153600 + 60 * m},{o!r},{h!r},{lo!r},{c!r},{o!r},{h!r},{lo!r},{c!r}"
        for m, o, h, lo, c in rows
    ]
    return "\n".join(lines).encode() + b"\n", "two.csv", {"time_unit": "s", **M1}


FORMATS = {
    "mt5": mt5_file,
    "histdata": histdata_file,
    "lean": lean_file,
    "csv": csv_file,
    "csv-epoch": csv_two_sided_file,
}
DELIMITERS = {"mt5": b"\t", "histdata": b";", "lean": b",", "csv": b",", "csv-epoch": b","}


# ---------------------------------------------------------------- mutations


def _line_op(draw, lines: list[bytes], delimiter: bytes) -> list[bytes]:
    if not lines:
        return lines
    i = draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    fields = line.split(delimiter)
    kind = draw(
        st.sampled_from(
            ["extreme", "drop_field", "add_field", "separator", "quote", "bad_bytes", "blank"]
        )
    )
    if kind == "extreme":
        j = draw(st.integers(0, len(fields) - 1))
        fields[j] = draw(st.sampled_from(EXTREMES)).encode()
        line = delimiter.join(fields)
    elif kind == "drop_field" and len(fields) > 1:
        del fields[draw(st.integers(0, len(fields) - 1))]
        line = delimiter.join(fields)
    elif kind == "add_field":
        fields.insert(draw(st.integers(0, len(fields))), draw(st.sampled_from([b"", b"1", b"x"])))
        line = delimiter.join(fields)
    elif kind == "separator":
        other = draw(st.sampled_from([b",", b";", b"\t", b" ", b"|", b""]))
        line = line.replace(delimiter, other, draw(st.integers(1, 3)))
    elif kind == "quote":
        at = draw(st.integers(0, len(line)))
        line = line[:at] + b'"' + line[at:]
    elif kind == "bad_bytes":
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from(BAD_BYTES)) + line[at:]
    else:
        line = b""
    return [*lines[:i], line, *lines[i + 1 :]]


def _order_op(draw, lines: list[bytes]) -> list[bytes]:
    if len(lines) < 2:
        return lines
    kind = draw(st.sampled_from(["swap", "duplicate", "reverse", "move_header"]))
    i, j = sorted(draw(st.lists(st.integers(0, len(lines) - 1), min_size=2, max_size=2)))
    if kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "duplicate":
        lines.insert(j, lines[i])
    elif kind == "reverse":
        lines = lines[::-1]
    else:
        lines.append(lines.pop(0))
    return lines


def _file_op(draw, data: bytes) -> bytes:
    kind = draw(
        st.sampled_from(["truncate", "utf16", "utf8_bom", "crlf", "cr", "no_final_newline", "nul"])
    )
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "utf16":
        text = data.decode("utf-8", errors="replace").encode("utf-16")
        return text[: draw(st.sampled_from([len(text), len(text) - 1]))]
    if kind == "utf8_bom":
        return b"\xef\xbb\xbf" + data
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "cr":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    if kind == "no_final_newline":
        return data.rstrip(b"\r\n")
    at = draw(st.integers(0, len(data)))
    return data[:at] + b"\x00" + data[at:]


@st.composite
def malformed(draw, fmt: str) -> tuple[bytes, str, dict]:
    """A valid file of ``fmt`` put through 1-4 random mutations."""
    data, name, options = FORMATS[fmt](draw(bars()))
    delimiter = DELIMITERS[fmt]
    for _ in range(draw(st.integers(1, 4))):
        lines = data.splitlines()
        kind = draw(st.sampled_from(["line", "line", "order", "file"]))
        if kind == "line":
            data = b"\n".join(_line_op(draw, lines, delimiter)) + b"\n"
        elif kind == "order":
            data = b"\n".join(_order_op(draw, lines)) + b"\n"
        else:
            data = _file_op(draw, data)
    return data, name, options


def load_or_named_error(path: Path, fmt: str, options: dict) -> None:
    """The property: a series, or an OmegaError; a DataError names the file."""
    try:
        series = load(path, fmt.split("-")[0], **options)
    except OmegaError as exc:
        if isinstance(exc, DataError):
            assert exc.file is not None, f"{type(exc).__name__} without a file: {exc}"
        return
    assert len(series) >= 1


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_fuzz_loader_gives_a_named_error_or_a_valid_load(fmt):
    @fuzz_settings()
    @given(case=malformed(fmt))
    def check(case):
        data, name, options = case
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            load_or_named_error(path, fmt, options)

    check()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_fuzz_valid_files_load(fmt):
    """The unmutated files are valid: the mutation tests above are not all error paths."""

    @fuzz_settings()
    @given(rows=bars())
    def check(rows):
        data, name, options = FORMATS[fmt](rows)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            series = load(path, fmt.split("-")[0], **options)
            assert len(series) == len(rows)

    check()


@pytest.mark.parametrize("fmt", ["mt5", "histdata", "lean", "csv"])
def test_fuzz_earliest_bad_line_is_reported(fmt):
    """Two faults of different kinds on two lines: the error names the earlier line."""

    @fuzz_settings()
    @given(rows=bars(n_min=3, n_max=6), data=st.data())
    def check(rows, data):
        text, name, options = FORMATS[fmt](rows)
        lines = text.splitlines()
        header = 1 if fmt in ("mt5", "csv") else 0
        first, second = sorted(
            data.draw(
                st.lists(st.integers(header, len(lines) - 1), min_size=2, max_size=2, unique=True)
            )
        )
        delimiter = DELIMITERS[fmt]
        faults = {
            "short": lambda line: line.rsplit(delimiter, 1)[0],
            "long": lambda line: line + delimiter + b"1",
            "bad_number": lambda line: (
                line.replace(delimiter + b"1.", delimiter + b"x.", 1)
                if delimiter + b"1." in line
                else line.split(delimiter, 1)[0] + b"?" + delimiter + line.split(delimiter, 1)[1]
            ),
            "bad_bytes": lambda line: line[:-1] + b"\xe9",
            "quote": lambda line: b'"' + line,
            "empty_field": lambda line: line.rsplit(delimiter, 1)[0] + delimiter,
            "bad_time": lambda line: b"x" + line[1:],
        }
        kinds = data.draw(st.lists(st.sampled_from(sorted(faults)), min_size=2, max_size=2))
        lines[first] = faults[kinds[0]](lines[first])
        lines[second] = faults[kinds[1]](lines[second])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(b"\n".join(lines) + b"\n")
            with pytest.raises(DataError) as info:
                load(path, fmt, **options)
        assert info.value.row == first + 1, (kinds, str(info.value))

    check()


@st.composite
def parquet_tables(draw):
    """A parquet file of the BarSeries columns, mutated: column types, nulls, extremes, order,
    missing columns, or the bytes themselves (truncated, overwritten)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rows = draw(bars())
    n = len(rows)
    time = np.array([1_704_153_600 + 60 * r[0] for r in rows], dtype=np.int64) * 1_000_000_000
    columns: dict[str, pa.Array] = {
        "time": pa.array(time, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    }
    for side in ("bid", "ask"):
        for k, field in enumerate(("open", "high", "low", "close")):
            columns[f"{side}_{field}"] = pa.array([r[k + 1] for r in rows], type=pa.float64())
    columns["volume"] = pa.array([1.0] * n, type=pa.float64())
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(columns)))
        kind = draw(st.sampled_from(["type", "null", "extreme", "drop", "reverse"]))
        if kind == "type":
            columns[name] = draw(
                st.sampled_from(
                    [
                        columns[name].cast(pa.string()),
                        pa.array(np.arange(n), type=pa.int32()),
                        pa.array([True] * n),
                        pa.array(np.arange(n), type=pa.uint64()),
                        pa.array(np.full(n, 2**63 + 5, dtype=np.uint64)),
                        pa.array(np.arange(n) + 10**15, type=pa.int64()).cast(pa.timestamp("s")),
                    ]
                )
            )
        elif kind == "null":
            mask = np.zeros(n, dtype=bool)
            mask[draw(st.integers(0, n - 1))] = True
            column = columns[name]
            columns[name] = pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)
        elif kind == "extreme" and columns[name].type == pa.float64():
            values = columns[name].to_pylist()
            values[draw(st.integers(0, n - 1))] = draw(
                st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308, 0.0, 5e-324])
            )
            columns[name] = pa.array(values, type=pa.float64())
        elif kind == "drop" and len(columns) > 1:
            del columns[name]
        elif kind == "reverse":
            columns = {k: v[::-1] for k, v in columns.items()}
    table = pa.table(columns)
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    data = buffer.getvalue().to_pybytes()
    if draw(st.booleans()) and draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = draw(st.sampled_from([data[:at], data[:at] + b"\xff" * 8 + data[at + 8 :]]))
    return data


def test_fuzz_parquet_loader_gives_a_named_error_or_a_valid_load():
    @fuzz_settings()
    @given(data=parquet_tables())
    def check(data):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bars.parquet"
            path.write_bytes(data)
            load_or_named_error(path, "parquet", M1)

    check()

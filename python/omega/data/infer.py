"""Which loader reads a file: the format inferred from what the file itself says.

Only unambiguous signs count: MT5's ``<DATE>`` header, HistData's ``YYYYMMDD HHMMSS;`` rows,
LEAN's ``YYYYMMDD_`` file name with eleven numeric fields, a header of named columns for the
generic CSV, and the parquet magic number. Anything else is a ConfigError asking for the format.
This module reads only the first bytes of one file and imports no pyarrow or pandas.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from pathlib import Path

from omega.errors import ConfigError, EmptyDataError

_HEAD_BYTES = 4096
_HISTDATA_ROW = re.compile(r"\d{8} \d{6};[^;]+;[^;]+;[^;]+;[^;]+;[^;]*")
_LEAN_NAME = re.compile(r"\d{8}_")
_NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
_LEAN_ROW = re.compile(rf"\d+(,{_NUMBER}){{10}}")
_TIME_NAMES = {"time", "datetime", "date", "timestamp"}
_PRICE_SETS = ({"open", "high", "low", "close"}, {"bid_open", "bid_close", "ask_open", "ask_close"})


def first_data_file(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> str:
    """The file a loader would read first: the path itself, the first ``*.csv`` (else
    ``*.parquet``) of a folder, the first match of a glob, or the first of several paths."""
    if not isinstance(path, str | os.PathLike):
        paths = [os.fspath(p) for p in path]
        if not paths:
            raise ConfigError("no data path given")
        return first_data_file(sorted(paths)[0])
    text = os.fspath(path)
    candidate = Path(text)
    if candidate.is_file():
        return text
    if candidate.is_dir():
        for pattern in ("*.csv", "*.parquet"):
            found = sorted(p for p in candidate.glob(pattern) if p.is_file())
            if found:
                return str(found[0])
        raise EmptyDataError(f"no *.csv or *.parquet files in directory {text}", file=text)
    matches = sorted(p for p in glob.glob(text) if Path(p).is_file())
    if not matches:
        raise EmptyDataError(f"no data files found in path or glob {text}", file=text)
    return matches[0]


def infer_format(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> tuple[str, str]:
    """``(format, reason)`` for the data at ``path``, e.g. ``("mt5", "<DATE> header in x.csv")``.

    Raises ConfigError when the file does not say which format it is.
    """
    file = first_data_file(path)
    name = Path(file).name
    try:
        with open(file, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read data file: {exc.strerror or exc}") from None
    if head.startswith(b"PAR1"):
        return "parquet", f"parquet magic number in {name}"
    line = _first_line(head)
    if line.startswith("<DATE>"):
        return "mt5", f"MT5 <DATE> header in {name}"
    if _HISTDATA_ROW.fullmatch(line):
        return "histdata", f"HistData rows (YYYYMMDD HHMMSS;o;h;l;c;v) in {name}"
    if _LEAN_NAME.match(name) and _LEAN_ROW.fullmatch(line):
        return "lean", f"LEAN daily file name and quote rows in {name}"
    columns = {c.strip().lower() for c in line.split(",")}
    if columns & _TIME_NAMES and any(s <= columns for s in _PRICE_SETS):
        return "csv", f"header of named columns in {name}"
    raise ConfigError(
        f"{file}: cannot infer the data format from the file; "
        "give it with --format (mt5, histdata, lean, csv, parquet)"
    )


def _first_line(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # MetaTrader can export UTF-16
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return text.splitlines()[0].strip() if text.strip() else ""

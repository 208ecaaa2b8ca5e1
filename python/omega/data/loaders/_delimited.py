"""Reading one delimited text file with pyarrow.csv, with errors that name file, line, column.

The fast path is one multithreaded ``pyarrow.csv.read_csv``. Arrow's own errors do not say
which line failed, so on failure a diagnostic pass (only then) finds the first bad line and
column and raises ParseError. Blank lines are kept by the reader (``ignore_empty_lines=False``)
so row i is line ``first_line + i`` exactly; they are then removed and counted, never dropped
silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from omega.data.loaders._source import SourceFile
from omega.errors import EmptyDataError, MissingColumnError, ParseError


@dataclass
class FileTable:
    table: pa.Table
    source: SourceFile
    blank_lines: int


def detect_encoding(path: str) -> str:
    """UTF-16 when the file starts with a UTF-16 byte-order mark (MetaTrader can export
    UTF-16), else UTF-8 (a UTF-8 BOM is skipped by arrow)."""
    with open(path, "rb") as handle:
        start = handle.read(2)
    return "utf-16" if start in (b"\xff\xfe", b"\xfe\xff") else "utf8"


def read_header(path: str, delimiter: str) -> list[str]:
    """The first line split on ``delimiter`` (BOM and surrounding whitespace stripped)."""
    encoding = detect_encoding(path)
    with open(
        path, encoding="utf-8-sig" if encoding == "utf8" else encoding, errors="replace"
    ) as f:
        first = f.readline()
    if not first.strip():
        raise EmptyDataError("file is empty or has no header line", file=path, row=1)
    return [name.strip() for name in first.rstrip("\r\n").split(delimiter)]


def require_columns(path: str, header: list[str], needed: list[str]) -> None:
    """MissingColumnError naming the first needed column absent from the header (line 1)."""
    for name in needed:
        if name not in header:
            raise MissingColumnError(
                f"required column {name!r} not in header {header}", file=path, row=1, column=name
            )


def read_table(
    path: str,
    *,
    delimiter: str,
    column_names: list[str],
    column_types: dict[str, pa.DataType],
    header_lines: int,
    labels: dict[str, str] | None = None,
    include: list[str] | None = None,
) -> FileTable:
    """Read ``path`` skipping ``header_lines``; ``column_names`` name every field of a line.

    ``labels`` maps a column name to how a user knows it (e.g. "field 3 (bid high)") for errors.
    """
    labels = labels or {}
    read_options = pacsv.ReadOptions(
        skip_rows=header_lines,
        column_names=column_names,
        use_threads=True,
        encoding=detect_encoding(path),
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False)
    convert_options = pacsv.ConvertOptions(
        column_types=column_types,
        null_values=[""],
        strings_can_be_null=True,
        include_columns=include,
    )
    try:
        table = pacsv.read_csv(
            path,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
    except pa.ArrowInvalid as exc:
        _diagnose(path, exc, delimiter, column_names, column_types, header_lines, labels)
        raise ParseError(f"could not parse file: {exc}", file=path) from exc
    first_line = header_lines + 1
    table, lines, blank = _drop_blank_rows(table, first_line)
    if table.num_rows == 0:
        raise EmptyDataError("file has no data rows", file=path)
    source = SourceFile(path, table.num_rows, first_line, lines)
    _reject_nulls(table, source, labels)
    return FileTable(table, source, blank)


def _drop_blank_rows(table: pa.Table, first_line: int) -> tuple[pa.Table, np.ndarray | None, int]:
    if table.num_rows == 0 or not any(col.null_count for col in table.columns):
        return table, None, 0
    blank = np.ones(table.num_rows, dtype=bool)
    for col in table.columns:
        blank &= np.asarray(col.is_null())
    if not blank.any():
        return table, None, 0
    keep = ~blank
    lines = (np.flatnonzero(keep) + first_line).astype(np.int64)
    return table.filter(pa.array(keep)), lines, int(blank.sum())


def _reject_nulls(table: pa.Table, source: SourceFile, labels: dict[str, str]) -> None:
    """A missing value in an otherwise non-blank line is a parse error at that cell."""
    first: tuple[int, str] | None = None
    for name in table.column_names:
        col = table.column(name)
        if col.null_count:
            row = int(np.flatnonzero(np.asarray(col.is_null()))[0])
            if first is None or row < first[0]:
                first = (row, name)
    if first is not None:
        row, name = first
        raise ParseError(
            "missing value (empty field or short line)",
            file=source.path,
            row=source.line_of(row),
            column=labels.get(name, name),
        )


def _diagnose(
    path: str,
    exc: pa.ArrowInvalid,
    delimiter: str,
    column_names: list[str],
    column_types: dict[str, pa.DataType],
    header_lines: int,
    labels: dict[str, str],
) -> None:
    """Find the first bad line/field of a file arrow rejected; raise ParseError naming it."""
    if "columns" in str(exc):  # "Expected N columns, got M": find the line
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number <= header_lines:
                    continue
                line = raw.rstrip(b"\r\n")
                if not line:
                    continue
                fields = line.count(delimiter.encode()) + 1
                if fields != len(column_names):
                    raise ParseError(
                        f"expected {len(column_names)} fields separated by {delimiter!r}, "
                        f"found {fields}: {line[:80].decode(errors='replace')!r}",
                        file=path,
                        row=number,
                    ) from exc
        return
    as_text = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(
            skip_rows=header_lines, column_names=column_names, encoding=detect_encoding(path)
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(column_names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    worst: tuple[int, str, str] | None = None
    for name, dtype in column_types.items():
        if name not in as_text.column_names or pa.types.is_string(dtype):
            continue
        column = as_text.column(name).combine_chunks()
        row = _first_uncastable(column, dtype)
        if row is not None and (worst is None or row < worst[0]):
            worst = (row, name, str(column[row].as_py()))
    if worst is not None:
        row, name, value = worst
        raise ParseError(
            f"cannot parse {value!r} as {dtype_label(column_types[name])}",
            file=path,
            row=header_lines + 1 + row,
            column=labels.get(name, name),
        ) from exc


def dtype_label(dtype: pa.DataType) -> str:
    return "a number" if pa.types.is_floating(dtype) else f"{dtype}"


def _first_uncastable(column: pa.Array, dtype: pa.DataType) -> int | None:
    """Binary search for the first value arrow cannot cast (same rules as the fast path)."""

    def castable(lo: int, hi: int) -> bool:
        try:
            pc.cast(column.slice(lo, hi - lo), dtype)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
        return True

    lo, hi = 0, len(column)
    if castable(lo, hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if not castable(lo, mid):
            hi = mid
        else:
            lo = mid
    return lo

"""Reading one delimited text file with pyarrow.csv, with errors that name file, line, column.

The fast path is one multithreaded ``pyarrow.csv.read_csv``. Arrow's own errors do not say
which line failed, so on failure a diagnostic pass (only then) finds the earliest bad line:
a wrong number of fields, an unbalanced quote, bytes that are not UTF-8, a value that does not
parse. The lines before it are then read as usual and handed to the loader with the fault
*pending* (``FileTable.pending``): the loader's own checks (dates, times) run on those lines
first, so whatever the kind, the fault on the earliest line is the one reported
(docs/data/validation.md). Blank lines are kept by the reader (``ignore_empty_lines=False``)
so row i is line ``first_line + i`` exactly; they are then removed and counted, never dropped
silently.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from omega.data.loaders._source import SourceFile
from omega.errors import EmptyDataError, MissingColumnError, ParseError

_UTF8_BOM = b"\xef\xbb\xbf"
_QUOTE = b'"'
# How a file's text encoding is described in errors (docs/data/validation.md, "Encodings").
ENCODINGS_NOTE = "files must be UTF-8 (or UTF-16 with a byte-order mark)"


@dataclass
class FileTable:
    table: pa.Table
    source: SourceFile
    blank_lines: int
    # A fault on a line after every row of ``table``; raised by ``first_fault`` once the
    # loader's own checks of those rows found nothing earlier.
    pending: ParseError | None = None


def first_fault(ft: FileTable, *checks: Callable[[], Any]) -> list[Any]:
    """Run a loader's checks of ``ft``'s rows (each returns a value or raises ParseError);
    raise the error on the earliest row among them and ``ft.pending``, else return the values.

    One rule for every kind of parse fault: the earliest line wins (a tie goes to the check
    listed first).
    """
    results: list[Any] = []
    errors: list[ParseError] = []
    for check in checks:
        try:
            results.append(check())
        except ParseError as exc:
            errors.append(exc)
            results.append(None)
    if errors:
        raise min(errors, key=lambda e: -1 if e.row is None else e.row)
    if ft.pending is not None:
        raise ft.pending
    return results


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


@dataclass(frozen=True)
class _Options:
    path: str
    delimiter: str
    column_names: list[str]
    column_types: dict[str, pa.DataType]
    header_lines: int
    labels: dict[str, str]
    include: list[str] | None

    def read(self, source: Any, *, skip_rows: int, encoding: str, binary: bool = False):
        """``pyarrow.csv.read_csv`` with this file's options (``binary``: every column as raw
        bytes, so nothing is converted or checked)."""
        types = self.column_types
        if binary:
            types = dict.fromkeys(self.include or self.column_names, pa.binary())
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                skip_rows=skip_rows,
                column_names=self.column_names,
                use_threads=True,
                encoding=encoding,
            ),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                include_columns=self.include,
            ),
        )

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


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
    Raises EmptyDataError or ParseError; a fault after some good rows may instead be returned
    as ``pending`` with those rows (see ``first_fault``).
    """
    opts = _Options(
        path, delimiter, column_names, column_types, header_lines, labels or {}, include
    )
    first_line = header_lines + 1
    pending: ParseError | None = None
    try:
        table = opts.read(path, skip_rows=header_lines, encoding=detect_encoding(path))
    except (pa.ArrowInvalid, UnicodeError) as exc:
        table, pending = _diagnose(opts, exc)
    table, lines, blank = _drop_blank_rows(table, first_line)
    source = SourceFile(path, table.num_rows, first_line, lines)
    null = _first_null(table, source, opts)
    if null is not None:  # earlier than ``pending``: every row read precedes it
        row, pending = null
        table = table.slice(0, row)
        source = SourceFile(path, row, first_line, None if lines is None else lines[:row])
    if table.num_rows == 0:
        if pending is not None:
            raise pending
        raise EmptyDataError("file has no data rows", file=path)
    return FileTable(table, source, blank, pending)


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


def _first_null(
    table: pa.Table, source: SourceFile, opts: _Options
) -> tuple[int, ParseError] | None:
    """A missing value in an otherwise non-blank line is a parse error at that cell."""
    first: tuple[int, str] | None = None
    for name in table.column_names:
        col = table.column(name)
        if col.null_count:
            row = int(np.flatnonzero(np.asarray(col.is_null()))[0])
            if first is None or row < first[0]:
                first = (row, name)
    if first is None:
        return None
    row, name = first
    return row, ParseError(
        "missing value (empty field or short line)",
        file=source.path,
        row=source.line_of(row),
        column=opts.label(name),
    )


def _file_bytes(opts: _Options) -> bytes:
    """The file as UTF-8 bytes without a byte-order mark (UTF-16 files are transcoded);
    ParseError naming the line of bytes that are not valid UTF-16."""
    with open(opts.path, "rb") as handle:
        data = handle.read()
    if detect_encoding(opts.path) == "utf8":
        return data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    try:
        return data.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode("utf-16", errors="replace").count("\n") + 1
        raise ParseError(
            f"bytes that are not valid UTF-16 text ({ENCODINGS_NOTE})", file=opts.path, row=line
        ) from None


def _diagnose(opts: _Options, exc: Exception) -> tuple[pa.Table, ParseError]:
    """The earliest bad line of a file arrow rejected, as (the rows before it, its error)."""
    data = _file_bytes(opts)
    lines = data.splitlines(keepends=True)  # \n, \r\n and a lone \r end a line, as in arrow
    body = lines[opts.header_lines :]
    if not body:
        what = "file is empty" if not data.strip() else "file has no data rows"
        raise EmptyDataError(what, file=opts.path) from None
    first_line = opts.header_lines + 1
    start = sum(len(line) for line in lines[: opts.header_lines])
    data = data[start:]
    fault = _first_bad_line(body, first_line, opts)
    end = sum(len(line) for line in body[: fault[0]]) if fault is not None else len(data)
    for _ in range(3):  # a value fault found below moves the end up once; 3 is a safe bound
        prefix = data[:end]
        if fault is not None and not prefix.strip():
            raise fault[1] from None  # nothing but blank lines before it
        try:
            table = opts.read(pa.BufferReader(prefix), skip_rows=0, encoding="utf8")
        except (pa.ArrowInvalid, UnicodeError):
            cell = _first_bad_cell(prefix, opts, first_line)
            if cell is None:
                break
            fault = cell
            end = sum(len(line) for line in body[: fault[0]])
            continue
        if fault is None:  # arrow failed, yet no line is at fault: say what arrow said
            break
        return table, fault[1]
    raise ParseError(f"could not parse file: {exc}", file=opts.path) from None


def _fields(line: bytes, delimiter: bytes) -> int:
    if _QUOTE not in line:
        return line.count(delimiter) + 1
    text = line.decode("utf-8", errors="replace")
    return len(next(csv.reader([text], delimiter=delimiter.decode(), quotechar='"'), [""]))


def _first_bad_line(
    body: list[bytes], first_line: int, opts: _Options
) -> tuple[int, ParseError] | None:
    """The first line (index into ``body``) with an unbalanced quote or a wrong field count."""
    delimiter = opts.delimiter.encode()
    expected = len(opts.column_names)
    for index, raw in enumerate(body):
        line = raw.rstrip(b"\r\n")
        if not line:
            continue  # blank lines are counted, not faults
        shown = line[:80].decode("utf-8", errors="replace")
        if line.count(_QUOTE) % 2:
            message = f'unbalanced quote character (") in line: {shown!r}'
        else:
            fields = _fields(line, delimiter)
            if fields == expected:
                continue
            message = (
                f"expected {expected} fields separated by {opts.delimiter!r}, found {fields}: "
                f"{shown!r}"
            )
        return index, ParseError(message, file=opts.path, row=first_line + index)
    return None


def _first_bad_cell(
    prefix: bytes, opts: _Options, first_line: int
) -> tuple[int, ParseError] | None:
    """The earliest cell (row, then column order) that is not UTF-8 or does not convert to its
    column's type, by arrow's own rules, in lines whose field counts are right."""
    try:
        raw = opts.read(pa.BufferReader(prefix), skip_rows=0, encoding="utf8", binary=True)
    except pa.ArrowInvalid:
        return None
    best: tuple[int, str] | None = None
    for name in raw.column_names:
        column = raw.column(name).combine_chunks()
        row = _first_uncastable(column, _target(opts.column_types.get(name, pa.string())))
        if row is not None and (best is None or row < best[0]):
            best = (row, name)
    if best is None:
        return None
    row, name = best
    value = raw.column(name)[row].as_py()
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        message = f"bytes {value[:40]!r} are not valid UTF-8 text ({ENCODINGS_NOTE})"
    else:
        dtype = opts.column_types.get(name, pa.string())
        message = f"cannot parse {text[:80]!r} as {dtype_label(dtype)}"
    error = ParseError(message, file=opts.path, row=first_line + row, column=opts.label(name))
    return row, error


def _target(dtype: pa.DataType) -> pa.DataType:
    """What a column is converted to when read (dictionary text is checked as text)."""
    return pa.string() if pa.types.is_dictionary(dtype) else dtype


def dtype_label(dtype: pa.DataType) -> str:
    if pa.types.is_floating(dtype):
        return "a number"
    if pa.types.is_integer(dtype):
        return "a whole number"
    return f"{dtype}"


def _cast(column: pa.Array, dtype: pa.DataType) -> pa.Array:
    """Cast like the CSV reader converts: raw bytes must be UTF-8, numbers may have blanks
    around them."""
    if pa.types.is_binary(column.type):
        column = pc.cast(column, pa.string())
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        column = pc.utf8_trim_whitespace(column)
    return pc.cast(column, dtype)


def _first_uncastable(column: pa.Array, dtype: pa.DataType) -> int | None:
    """Binary search for the first value arrow cannot cast (same rules as the fast path)."""

    def castable(lo: int, hi: int) -> bool:
        try:
            _cast(column.slice(lo, hi - lo), dtype)
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


def strict_integers(column: pa.Array) -> int | None:
    """First row of a text column that is not a plain decimal integer (arrow also reads
    ``0x1F`` as hex; a file of decimal fields never means that), else None."""
    ok = pc.match_substring_regex(pc.utf8_trim_whitespace(column), r"^[+-]?[0-9]+$")
    bad = np.flatnonzero(~np.asarray(ok.fill_null(False)))
    return int(bad[0]) if len(bad) else None

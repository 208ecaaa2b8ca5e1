"""Turning parse failures of time columns into ParseError at the right file, line, column."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from omega.data.loaders._source import SourceFile
from omega.data.loaders._timeparse import FixedParseFailure, Layout, parse_fixed
from omega.errors import ParseError


def parse_column(
    array: pa.ChunkedArray | pa.Array,
    layouts: list[str],
    source: SourceFile,
    column: str,
) -> np.ndarray:
    """Parse a fixed-width text column; the layout is chosen by the width of the first value.

    ``layouts`` lists accepted patterns (e.g. ``["%H:%M:%S", "%H:%M"]``).
    """
    if pa.types.is_dictionary(array.type):
        return _parse_dictionary(array, layouts, source, column)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == pa.large_string() or array.type == pa.string():
        first = array[0].as_py() or ""
    else:
        array = array.cast(pa.string())
        first = array[0].as_py() or ""
    widths = {Layout(p).compile()[0]: p for p in layouts}
    pattern = widths.get(len(first), layouts[0])
    try:
        return parse_fixed([(array, Layout(pattern))])
    except FixedParseFailure as failure:
        expected = " or ".join(repr(p) for p in layouts)
        raise ParseError(
            f"cannot parse {failure.value!r} as a time of layout {expected} ({failure.reason})",
            file=source.path,
            row=source.line_of(failure.index),
            column=column,
        ) from None


def _parse_dictionary(
    array: pa.ChunkedArray | pa.Array, layouts: list[str], source: SourceFile, column: str
) -> np.ndarray:
    """Dictionary-encoded text (dates repeat ~1440 times a day): parse each distinct value once,
    then gather. Errors still name the first bad row of the file."""
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    parts, offset = [], 0
    for chunk in chunks:
        indices = chunk.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        try:
            values = parse_column(chunk.dictionary, layouts, _NO_ROWS, column)
        except ParseError:
            bad_entries = _bad_entries(chunk.dictionary, layouts)
            rows = np.flatnonzero(bad_entries[indices])
            if not len(rows):
                # Only entries no row uses are bad (a sliced array keeps its whole dictionary).
                used = np.unique(indices)
                values = np.zeros(len(chunk.dictionary), dtype=np.int64)
                values[used] = parse_column(
                    chunk.dictionary.take(pa.array(used)), layouts, _NO_ROWS, column
                )
                parts.append(values[indices])
                offset += len(chunk)
                continue
            row = int(rows[0])
            value = chunk.dictionary[int(indices[row])].as_py()
            expected = " or ".join(repr(p) for p in layouts)
            raise ParseError(
                f"cannot parse {value!r} as a time of layout {expected}",
                file=source.path,
                row=source.line_of(offset + row),
                column=column,
            ) from None
        parts.append(values[indices])
        offset += len(chunk)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _bad_entries(dictionary: pa.Array, layouts: list[str]) -> np.ndarray:
    """Which distinct values fail to parse (a handful: checked one by one)."""
    bad = np.zeros(len(dictionary), dtype=bool)
    for k in range(len(dictionary)):
        try:
            parse_column(dictionary.slice(k, 1), layouts, _NO_ROWS, "")
        except ParseError:
            bad[k] = True
    return bad


_NO_ROWS = SourceFile("<dictionary>", 0, 0)

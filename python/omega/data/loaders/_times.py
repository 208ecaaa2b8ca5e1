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

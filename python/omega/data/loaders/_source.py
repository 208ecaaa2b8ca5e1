"""Where each bar came from: file and 1-based line, so errors can point at the cell at fault."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from omega.errors import EmptyDataError


@dataclass(frozen=True)
class SourceFile:
    """Rows of one file. ``lines`` is set only when blank lines were skipped (else contiguous)."""

    path: str
    n_rows: int
    first_line: int
    lines: np.ndarray | None = None

    def line_of(self, row: int) -> int:
        if self.lines is not None:
            return int(self.lines[row])
        return self.first_line + row


class SourceMap:
    """Maps a bar index of the concatenated series to (file, row).

    Without files (in-memory or columnar sources) the row is the 0-based bar index, as
    omega.errors documents.
    """

    def __init__(self, files: list[SourceFile], label: str, line_based: bool = True) -> None:
        self.files = files
        self.label = label
        self.line_based = line_based
        self._starts = np.cumsum([0] + [f.n_rows for f in files])

    @classmethod
    def in_memory(cls, label: str = "<memory>") -> SourceMap:
        return cls([], label, line_based=False)

    def locate(self, index: int) -> tuple[str, int]:
        if not self.files:
            return self.label, int(index)
        k = int(np.searchsorted(self._starts, index, side="right") - 1)
        k = min(max(k, 0), len(self.files) - 1)
        source = self.files[k]
        row = int(index - self._starts[k])
        if not self.line_based:
            return source.path, row
        return source.path, source.line_of(row)


def resolve_files(path: str | os.PathLike[str] | list[str], pattern: str) -> list[str]:
    """A file, a directory (files matching ``pattern`` inside it) or a glob -> sorted paths.

    A list of these (e.g. a shell-expanded glob) is read like a folder: every file it names,
    in name order, each once.
    """
    if isinstance(path, list | tuple):
        return sorted({f for p in path for f in resolve_files(p, pattern)})
    text = os.fspath(path)
    candidate = Path(text)
    if candidate.is_file():
        return [text]
    if candidate.is_dir():
        found = sorted(str(p) for p in candidate.glob(pattern) if p.is_file())
        where = f"directory {text} (pattern {pattern!r})"
    else:
        found = sorted(p for p in glob.glob(text) if Path(p).is_file())
        where = f"path or glob {text}"
    if not found:
        raise EmptyDataError(f"no data files found in {where}", file=text)
    return found


T = TypeVar("T")


def map_files(read: Callable[[str], T], paths: list[str]) -> list[T]:
    """``read`` each file, several at once (arrow parses without the GIL); results in order.

    If files fail, the error of the first failing file in ``paths`` order is raised.
    """
    if len(paths) == 1:
        return [read(paths[0])]
    with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1, 8)) as pool:
        return list(pool.map(read, paths))


def describe_sources(paths: list[str]) -> str:
    """A short ``source`` label for a BarSeries."""
    if len(paths) == 1:
        return paths[0]
    return f"{os.path.dirname(paths[0]) or '.'} ({len(paths)} files)"

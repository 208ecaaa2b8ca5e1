"""The Rust scan of loaded bars (``omega._core``) when it is built, else None.

validation.py and quality.py keep their numpy code as the reference and the fallback; the
Rust pass gives the same first fault and the same counts (tests/test_data_fast_scan.py
compares the two). ``numpy_only()`` forces the reference path (tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import numpy as np

_forced_numpy = False


def core() -> ModuleType | None:
    """omega._core if importable and it has the data scan, else None."""
    if _forced_numpy:
        return None
    try:
        from omega import _core
    except ImportError:
        return None
    return _core if hasattr(_core, "data_first_fault") else None


@contextmanager
def numpy_only() -> Iterator[None]:
    """Run the block on the numpy reference path."""
    global _forced_numpy
    previous, _forced_numpy = _forced_numpy, True
    try:
        yield
    finally:
        _forced_numpy = previous


def scannable(time: np.ndarray, floats: list[np.ndarray]) -> bool:
    """The Rust pass takes int64 times and float64 columns, 1-D (any stride)."""
    return (
        time.dtype == np.int64
        and time.ndim == 1
        and all(a.dtype == np.float64 and a.ndim == 1 for a in floats)
    )

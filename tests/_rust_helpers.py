"""Helpers shared by the tests/test_rust_*.py files: exact comparison of two RawRuns."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from omega.engine.raw import TRADE_COLUMNS, RawRun


def assert_same_run(a: RawRun, b: RawRun, *, trace: bool = False) -> None:
    """Every trade field ==, equity array_equal, counters and skipped orders equal."""
    assert a.n_trades == b.n_trades, (a.n_trades, b.n_trades)
    for name, dtype in TRADE_COLUMNS.items():
        ca, cb = a.trades[name], b.trades[name]
        assert ca.dtype == cb.dtype == np.dtype(dtype), (name, ca.dtype, cb.dtype)
        if dtype == "object":
            assert list(ca) == list(cb), name
        else:
            assert np.array_equal(ca, cb, equal_nan=ca.dtype.kind == "f"), name
    assert np.array_equal(a.equity_time, b.equity_time)
    assert np.array_equal(a.equity, b.equity)
    assert a.final_balance == b.final_balance
    for attr in ("bars_processed", "base_bars", "ignored_signals", "dropped_orders"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert [dataclasses.astuple(s) for s in a.skipped_orders] == [
        dataclasses.astuple(s) for s in b.skipped_orders
    ]
    if trace:
        assert a.trace is not None and b.trace is not None
        assert len(a.trace) == len(b.trace)
        for row_a, row_b in zip(a.trace, b.trace, strict=True):
            assert list(row_a) == list(row_b), (row_a, row_b)
            for key in row_a:
                va, vb = row_a[key], row_b[key]
                same = va == vb or (
                    isinstance(va, float)
                    and isinstance(vb, float)
                    and math.isnan(va)
                    and math.isnan(vb)
                )
                assert same, (key, row_a, row_b)

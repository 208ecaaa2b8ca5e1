"""Check 3, stream vs batch: a `StreamSession` fed the same bars must decide as the batch run.

The session is fed in chunks (split at the look-ahead cuts, the last bars one at a time as a
live feed pushes them) and finished; its decision trace, trades, equity and counters must
equal the batch run's exactly. Python strategies have no streaming session (python and
hybrid modes): the check says so and is skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omega.bias.compare import (
    equal_values,
    events,
    first_row_difference,
    trade_difference,
    trade_rows,
)
from omega.bias.report import StreamResult
from omega.bias.subject import Subject

if TYPE_CHECKING:
    from omega.data.bars import BarSeries
    from omega.engine.raw import RawRun

#: Bars at the end pushed one by one (``push``), after the chunks (``push_bars``).
ONE_BY_ONE = 2_000


def check_stream(
    subject: Subject, bars: BarSeries, full: RawRun, chunks: list[int]
) -> StreamResult:
    reason = subject.stream_skip_reason
    if reason:
        return StreamResult(skipped=reason)
    tail = max(0, len(bars) - ONE_BY_ONE)
    bounds = sorted({c for c in chunks if 0 < c < tail} | ({tail} if tail > 0 else set()))
    run = subject.stream(bars, bounds)
    assert run is not None  # no skip reason: the subject streams
    rows_full = full.trace or []
    decided = sum(1 for event in events(rows_full) if event != "none")
    result = StreamResult(bars=len(rows_full), decisions=decided, trades=full.n_trades)
    result.difference = run_difference(full, run)
    return result


def run_difference(full: RawRun, run: RawRun) -> str:
    """The first difference between a batch run and a streamed one, described ("" when
    they are equal): decision trace, trades, equity, counters."""
    rows_full, rows_run = full.trace or [], run.trace or []
    diff = first_row_difference(rows_full, rows_run, min(len(rows_full), len(rows_run)))
    if diff is not None:
        i, fields = diff
        return (
            f"decision at bar {i:,}: {', '.join(fields)} differ "
            f"(batch {rows_full[i]!r}, stream {rows_run[i]!r})"
        )
    if len(rows_full) != len(rows_run):
        return f"batch decided {len(rows_full):,} bars, stream {len(rows_run):,}"
    names = list(full.trades)
    want, got = trade_rows(full), trade_rows(run)
    for j, (a, b) in enumerate(zip(want, got, strict=False)):
        fields = trade_difference(a, b, names)
        if fields:
            return f"trade #{j}: {', '.join(fields)} differ"
    if len(want) != len(got):
        return f"batch {len(want)} trades, stream {len(got)}"
    if len(full.equity) != len(run.equity) or not equal_values(full.equity, run.equity).all():
        return "equity curves differ"
    for name in ("final_balance", "bars_processed", "ignored_signals", "dropped_orders"):
        if getattr(full, name) != getattr(run, name):
            return f"{name}: batch {getattr(full, name)!r}, stream {getattr(run, name)!r}"
    return ""

"""Check 1, look-ahead: rerun on the data cut at K points; nothing before a cut may change.

A causal run decides bar ``i`` from bars ``0..i`` only, so removing every bar after a cut
cannot change any value or decision before it. Each cut is placed at the first base bar of
a primary bar (so every primary bar kept is complete; a coarser bar left incomplete by the
cut closes after the cut and is never visible before it). Compared exactly, bar by bar, up
to the cut: each declared indicator as the strategy reads it, the decision trace (event and
recorded values), the trades closed before the cut and the equity curve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.bias.compare import (
    END_OF_DATA,
    equal_values,
    events,
    first_row_difference,
    trade_difference,
    trade_rows,
)
from omega.bias.report import LookAheadResult, Offence
from omega.bias.subject import Subject, isolated

if TYPE_CHECKING:
    from omega.data.bars import BarSeries
    from omega.engine.raw import RawRun


def bucket_starts(bars: BarSeries, nanos: int) -> np.ndarray:
    """Base indices (> 0) of the first bar of each bucket of ``nanos`` after the first."""
    bucket = bars.time // nanos
    return np.flatnonzero(bucket[1:] != bucket[:-1]) + 1


def cut_points(bars: BarSeries, primary_nanos: int, count: int) -> list[tuple[int, int]]:
    """``count`` cuts spread evenly over the data, each at the first base bar of a primary
    bar: ``(base index, primary bars before it)``, distinct, in order."""
    starts = bucket_starts(bars, primary_nanos)
    cuts: list[tuple[int, int]] = []
    for k in range(1, count + 1):
        p = int(np.searchsorted(starts, len(bars) * k / (count + 1)))
        if p < len(starts) and (not cuts or cuts[-1][0] != starts[p]):
            cuts.append((int(starts[p]), p + 1))
    return cuts


def check_lookahead(
    subject: Subject,
    bars: BarSeries,
    full: RawRun,
    full_series: dict[str, np.ndarray] | None,
    count: int,
    step: Callable[[str], None],
) -> LookAheadResult:
    settings = subject.settings
    result = LookAheadResult(indicators=sorted(full_series or {}))
    rows_full = full.trace or []
    decided = np.array(events(rows_full)) != "none"
    for base_index, kept in cut_points(bars, settings.primary_timeframe.nanos, count):
        step(f"look-ahead: cut at bar {kept:,}")
        part = isolated(bars, 0, base_index)
        cut = subject.run(part, settings, trace=True)
        series = subject.series(part, settings) if full_series is not None else None
        cut_time = int(bars.time[base_index])
        result.cuts.append((kept, cut_time))
        result.bars_compared += kept
        result.decisions_compared += int(np.count_nonzero(decided[:kept]))
        offence = _first_offence(full, cut, full_series, series, kept, cut_time)
        if offence is not None:
            result.offences.append(offence)
    return result


#: Which kind of difference is reported first at one bar.
WHAT_ORDER = ("indicator", "decision", "trade", "equity")


def _first_offence(
    full: RawRun,
    cut: RawRun,
    full_series: dict[str, np.ndarray] | None,
    cut_series: dict[str, np.ndarray] | None,
    kept: int,
    cut_time: int,
) -> Offence | None:
    found = cut_offences(full, cut, full_series, cut_series, kept, cut_time)
    return min(found, key=lambda o: (o.bar, WHAT_ORDER.index(o.what)), default=None)


def cut_offences(
    full: RawRun,
    cut: RawRun,
    full_series: dict[str, np.ndarray] | None,
    cut_series: dict[str, np.ndarray] | None,
    kept: int,
    cut_time: int,
    symbol: str = "",
) -> list[Offence]:
    """Every kind of difference between the first ``kept`` primary bars of ``full`` and the
    run on the data cut at ``cut_time`` (at most one per series, trace, trades, equity).
    Also one member of a basket and its cut run (``symbol``: the member's)."""
    found: list[Offence] = []
    times = full.equity_time

    def offence(what: str, name: str, bar: int, a: Any, b: Any) -> None:
        found.append(Offence(kept, cut_time, what, name, bar, int(times[bar]), a, b, symbol))

    for key, values in (full_series or {}).items():
        other = (cut_series or {}).get(key)
        if other is None or len(other) != kept:  # pragma: no cover - one market, one length
            offence("indicator", key, kept - 1, "present", "missing")
            continue
        same = equal_values(values[:kept], other)
        if not same.all():
            i = int(np.argmin(same))
            offence("indicator", key, i, float(values[i]), float(other[i]))
    rows_full, rows_cut = full.trace or [], cut.trace or []
    if len(rows_cut) != kept:
        offence("decision", "<bars>", min(kept, len(rows_cut)) - 1, kept, len(rows_cut))
    else:
        diff = first_row_difference(rows_full, rows_cut, kept)
        if diff is not None:
            i, fields = diff
            offence("decision", ", ".join(fields), i, rows_full[i], rows_cut[i])
    names = list(full.trades)
    # trades closed before the cut; by time, as a basket's stop-out closes a member between
    # its bars (its exit_index is its last bar, its exit_time the time of the stop-out)
    reason, exit_time = names.index("exit_reason"), names.index("exit_time")
    want = [t for t in trade_rows(full) if t[exit_time] < cut_time and t[reason] != END_OF_DATA]
    got = [t for t in trade_rows(cut) if t[reason] != END_OF_DATA]
    entry = names.index("entry_index")
    for j in range(max(len(want), len(got))):
        a = want[j] if j < len(want) else None
        b = got[j] if j < len(got) else None
        fields = ["<trade>"] if a is None or b is None else trade_difference(a, b, names)
        if fields:
            bar = min(t[entry] for t in (a, b) if t is not None)
            offence("trade", ", ".join(fields), bar, _trade(a, names), _trade(b, names))
            break
    if kept > 1:
        # the cut run's last point is its final balance (end of data): compare before it
        same = equal_values(full.equity[: kept - 1], cut.equity[: kept - 1])
        if not same.all():
            i = int(np.argmin(same))
            offence("equity", "equity", i, float(full.equity[i]), float(cut.equity[i]))
    return found


def _trade(row: tuple[Any, ...] | None, names: list[str]) -> Any:
    if row is None:
        return "no trade"
    return dict(zip(names, row, strict=True))

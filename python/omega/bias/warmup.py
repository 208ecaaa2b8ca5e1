"""Check 2, warm-up and recursive sensitivity: rerun from K later starts.

A run started later has seen fewer bars. Recursive indicators (EMA, Kalman, Wilder's ATR)
remember their start for a while; every other value is a function of a fixed window. Per
series (declared indicators as read, and values the strategy records in the decision trace)
this counts the bars until the later run agrees with the full run for good, to a relative
tolerance (``|a - b| <= tol * max(1, |a|, |b|)``), and counts the trades that differ.

Flagged (a bias):

- a warm-up declaration (a Python strategy's ``warmup_bars``) shorter than the bars its
  declared indicators need before every one of them has a value;
- a decision (any trace event) before ``max(declared, needed)`` bars of a run, in the full
  run or any later start: the strategy acts on indicators that are not ready.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from omega.bias.compare import (
    END_OF_DATA,
    TRADE_KEY,
    close_values,
    events,
    trace_values,
    trade_rows,
    utc,
)
from omega.bias.cuts import bucket_starts
from omega.bias.report import Convergence, OffsetRun, WarmupFinding, WarmupResult
from omega.bias.subject import Subject, isolated

if TYPE_CHECKING:
    from omega.data.bars import BarSeries
    from omega.engine.raw import RawRun
    from omega.timeframes import Timeframe

DEFAULT_TOLERANCE = 1e-12


def offset_points(
    bars: BarSeries, primary: Timeframe, coarsest: Timeframe, count: int
) -> list[tuple[int, int, int]]:
    """``count`` later starts at ``k / (count + 1)`` of the data (k = 1..count), each at the
    first base bar of a bar of the coarsest run timeframe (so every timeframe starts with a
    whole bar), each run reaching to the next start (the last to the end): the windows
    cover the data after the first start once. ``(base start, base stop, primary bars of
    the full run before the start)``."""
    coarse = bucket_starts(bars, coarsest.nanos)
    primary_starts = bucket_starts(bars, primary.nanos)
    starts: list[int] = []
    for k in range(1, count + 1):
        p = int(np.searchsorted(coarse, len(bars) * k / (count + 1)))
        if p < len(coarse) and (not starts or starts[-1] != coarse[p]):
            starts.append(int(coarse[p]))
    stops = [*starts[1:], len(bars)]
    return [
        (start, stop, int(np.searchsorted(primary_starts, start)) + 1)
        for start, stop in zip(starts, stops, strict=True)
    ]


def first_value(series: dict[str, np.ndarray]) -> tuple[int, str] | None:
    """The bars a run needs before every series has a value (the first bar where all have
    one, plus one), and the series that is last to get one (one more than its length when
    it never does)."""
    worst: tuple[int, str] | None = None
    for name, values in series.items():
        finite = np.flatnonzero(~np.isnan(values))
        bar = (int(finite[0]) if finite.size else len(values)) + 1
        if worst is None or bar > worst[0]:
            worst = (bar, name)
    return worst


def converged(
    a: np.ndarray, b: np.ndarray, tolerance: float, mask: np.ndarray | None = None
) -> tuple[int | None, int]:
    """(bars until ``a`` and ``b`` agree for good, bars compared); None if the last bar
    compared disagrees."""
    agree = close_values(a, b, tolerance)
    if mask is not None:
        agree = agree | ~mask
        compared = int(np.count_nonzero(mask))
    else:
        compared = len(agree)
    bad = np.flatnonzero(~agree)
    if not bad.size:
        return 0, compared
    last = int(bad[-1])
    positions = np.flatnonzero(mask) if mask is not None else np.arange(len(agree))
    if last == positions[-1]:
        return None, compared
    return last + 1, compared


def check_warmup(
    subject: Subject,
    bars: BarSeries,
    full: RawRun,
    full_series: dict[str, np.ndarray] | None,
    coarsest: Timeframe,
    count: int,
    step: Callable[[str], None],
    tolerance: float = DEFAULT_TOLERANCE,
) -> WarmupResult:
    settings = subject.settings
    declared = subject.declared_warmup
    needed = first_value(full_series) if full_series else None
    result = WarmupResult(
        declared,
        None if needed is None else needed[0],
        "" if needed is None else needed[1],
        tolerance,
    )
    if declared is not None and needed is not None and declared < needed[0]:
        result.findings.append(
            WarmupFinding(
                "short_declaration",
                f"warm-up declared as {declared:,} bars, but {needed[1]} needs "
                f"{needed[0]:,} (its first value at bar {needed[0] - 1:,})",
            )
        )
    _early(result, full, declared, needed, 0)
    rows_full = full.trace or []
    events_full = events(rows_full)
    trades_full = trade_rows(full, (*TRADE_KEY, "exit_index"))
    for start, stop, skipped in offset_points(bars, settings.primary_timeframe, coarsest, count):
        step(f"warm-up: start at bar {skipped:,}")
        part = isolated(bars, start, stop)
        run = subject.run(part, settings, trace=True)
        n = len(run.equity_time)
        if not np.array_equal(
            run.equity_time, full.equity_time[skipped : skipped + n]
        ):  # pragma: no cover - starts are on whole coarse bars, so primary bars line up
            continue
        series = subject.series(part, settings) if full_series is not None else None
        curves = []
        for name, values in (full_series or {}).items():
            bars_, compared = converged(
                values[skipped : skipped + n], (series or {})[name], tolerance
            )
            curves.append(Convergence(name, bars_, compared))
        values_full = trace_values(rows_full[skipped : skipped + n])
        values_run = trace_values(run.trace or [])
        unrecorded = np.zeros(n, dtype=bool)  # a name the later run never recorded
        for name in (k for k in values_full if not k.endswith("?")):
            both = values_full[name + "?"] & values_run.get(name + "?", unrecorded)
            other = values_run.get(name, np.full(n, np.nan))
            bars_, compared = converged(values_full[name], other, tolerance, both)
            curves.append(Convergence(f"recorded {name}", bars_, compared))
        pairs = zip(events_full[skipped : skipped + n], events(run.trace or []), strict=True)
        differ = [i for i, (a, b) in enumerate(pairs) if a != b]
        start_time = int(bars.time[start])
        # trades decided inside the window: those the full run closed before its end, and
        # the window's own but the one its end of data closed
        want = Counter(t[:-1] for t in trades_full if t[0] >= start_time and t[-1] < skipped + n)
        got = Counter(t for t in trade_rows(run, TRADE_KEY) if t[5] != END_OF_DATA)
        changed = sum(((want - got) + (got - want)).values())
        result.runs.append(
            OffsetRun(
                skipped,
                start_time,
                n,
                curves,
                differ[-1] + 1 if differ else 0,
                changed,
                sum(want.values()),
            )
        )
        run_needed = first_value(series) if series else None
        _early(result, run, declared, run_needed, skipped)
    return result


def _early(
    result: WarmupResult,
    run: RawRun,
    declared: int | None,
    needed: tuple[int, str] | None,
    start_bar: int,
) -> None:
    """Flag the run's first decision before its warm-up (a decision at the close of bar
    ``limit - 1`` has seen ``limit`` bars: the first one allowed), if any."""
    limit = max(declared or 0, needed[0] if needed else 0)
    if limit <= 1:
        return
    for row in (run.trace or [])[: limit - 1]:
        if row["event"] != "none":
            bar = int(row["index"])
            if declared is not None and bar < declared - 1:
                why = f"its declared warm-up of {declared:,} bars ends (bar {declared - 1:,})"
            else:
                assert needed is not None
                why = f"{needed[1]} has a value (bar {needed[0] - 1:,})"
            where = "the full run" if start_bar == 0 else f"the run started at bar {start_bar:,}"
            result.findings.append(
                WarmupFinding(
                    "early_decision",
                    f"{row['event']} at bar {bar:,} ({utc(row['time'])}) of {where}, before {why}",
                    bar,
                    int(row["time"]),
                    start_bar,
                )
            )
            return

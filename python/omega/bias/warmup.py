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
    result = warmup_result(full, full_series, declared, tolerance)
    for start, stop, skipped in offset_points(bars, settings.primary_timeframe, coarsest, count):
        step(f"warm-up: start at bar {skipped:,}")
        part = isolated(bars, start, stop)
        run = subject.run(part, settings, trace=True)
        series = subject.series(part, settings) if full_series is not None else None
        stop_time = int(bars.time[stop]) if stop < len(bars) else None
        offset = compare_window(
            full, run, full_series, series, skipped, int(bars.time[start]), stop_time, tolerance
        )
        if offset is None:  # pragma: no cover - starts are on whole coarse bars
            continue
        result.runs.append(offset)
        flag_early(result, run, declared, series, skipped)
    return result


def warmup_result(
    full: RawRun,
    full_series: dict[str, np.ndarray] | None,
    declared: int | None,
    tolerance: float,
    symbol: str = "",
) -> WarmupResult:
    """The bars the indicators need, and the findings of the full run: a declaration
    shorter than that, a decision before it (``symbol``: a basket's instrument)."""
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
                f"{_prefix(symbol)}warm-up declared as {declared:,} bars, but {needed[1]} "
                f"needs {needed[0]:,} (its first value at bar {needed[0] - 1:,})",
                symbol=symbol,
            )
        )
    flag_early(result, full, declared, full_series, 0, symbol)
    return result


def flag_early(
    result: WarmupResult,
    run: RawRun,
    declared: int | None,
    series: dict[str, np.ndarray] | None,
    start_bar: int,
    symbol: str = "",
) -> None:
    """Flag the run's first decision before its warm-up: its declaration, or the bars its
    own ``series`` need before each has a value."""
    _early(result, run, declared, first_value(series) if series else None, start_bar, symbol)


def _prefix(symbol: str) -> str:
    return f"{symbol}: " if symbol else ""


def compare_window(
    full: RawRun,
    run: RawRun,
    full_series: dict[str, np.ndarray] | None,
    series: dict[str, np.ndarray] | None,
    skipped: int,
    start_time: int,
    stop_time: int | None,
    tolerance: float,
) -> OffsetRun | None:
    """A run started at ``start_time`` (``skipped`` primary bars into ``full``) and ending
    before ``stop_time`` (None: at the end) against the full run over its bars: each series
    and recorded value, the decision events, the trades. None when its primary bars are
    not the full run's (a start inside a primary bar)."""
    n = len(run.equity_time)
    if not np.array_equal(run.equity_time, full.equity_time[skipped : skipped + n]):
        return None
    curves = []
    for name, values in (full_series or {}).items():
        bars_, compared = converged(values[skipped : skipped + n], (series or {})[name], tolerance)
        curves.append(Convergence(name, bars_, compared))
    rows_full = (full.trace or [])[skipped : skipped + n]
    values_full = trace_values(rows_full)
    values_run = trace_values(run.trace or [])
    unrecorded = np.zeros(n, dtype=bool)  # a name the later run never recorded
    for name in (k for k in values_full if not k.endswith("?")):
        both = values_full[name + "?"] & values_run.get(name + "?", unrecorded)
        other = values_run.get(name, np.full(n, np.nan))
        bars_, compared = converged(values_full[name], other, tolerance, both)
        curves.append(Convergence(f"recorded {name}", bars_, compared))
    pairs = zip(events(rows_full), events(run.trace or []), strict=True)
    differ = [i for i, (a, b) in enumerate(pairs) if a != b]
    # trades decided inside the window: those the full run closed before the window's end
    # (by time: a basket's stop-out closes a member between its bars) and the window's own,
    # neither closed by an end of data (the full run's last window ends where it does)
    want = Counter(
        t[:-1]
        for t in trade_rows(full, (*TRADE_KEY, "exit_time"))
        if t[0] >= start_time and (stop_time is None or t[-1] < stop_time) and t[5] != END_OF_DATA
    )
    got = Counter(t for t in trade_rows(run, TRADE_KEY) if t[5] != END_OF_DATA)
    changed = sum(((want - got) + (got - want)).values())
    return OffsetRun(
        skipped,
        start_time,
        n,
        curves,
        differ[-1] + 1 if differ else 0,
        changed,
        sum(want.values()),
    )


def _early(
    result: WarmupResult,
    run: RawRun,
    declared: int | None,
    needed: tuple[int, str] | None,
    start_bar: int,
    symbol: str = "",
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
                    f"{_prefix(symbol)}{row['event']} at bar {bar:,} ({utc(row['time'])}) of "
                    f"{where}, before {why}",
                    bar,
                    int(row["time"]),
                    start_bar,
                    symbol,
                )
            )
            return

"""`check_bias`: the four checks of a config, as one report."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from omega.bias.cuts import check_lookahead, cut_points
from omega.bias.intrabar import POLICIES, check_intrabar
from omega.bias.report import BiasReport
from omega.bias.stream import check_stream
from omega.bias.subject import subject_for
from omega.bias.warmup import DEFAULT_TOLERANCE, check_warmup
from omega.data.bars import as_bar_series
from omega.errors import ConfigError, EmptyDataError

if TYPE_CHECKING:
    import pandas as pd

    from omega.config import BacktestConfig
    from omega.data.bars import BarSeries

CHECKS = ("lookahead", "warmup", "stream", "intrabar")
DEFAULT_CUTS = 5
DEFAULT_OFFSETS = 5

#: ``progress(label, done, total)``: called before each engine run of the check.
BiasProgress = Callable[[str, int, int], None]


def planned_runs(cuts: int, offsets: int, checks: Sequence[str]) -> int:
    """Engine runs `check_bias` makes at most: the full run, each cut, each later start, the
    stream session and the three intrabar policies."""
    return (
        1
        + (cuts if "lookahead" in checks else 0)
        + (offsets if "warmup" in checks else 0)
        + (1 if "stream" in checks else 0)
        + (len(POLICIES) if "intrabar" in checks else 0)
    )


def check_bias(
    config: BacktestConfig,
    *,
    bars: BarSeries | pd.DataFrame | Mapping[str, BarSeries] | None = None,
    cuts: int = DEFAULT_CUTS,
    offsets: int = DEFAULT_OFFSETS,
    checks: Sequence[str] = CHECKS,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: BiasProgress | None = None,
    env: Mapping[str, str] | None = None,
) -> BiasReport:
    """Check the strategy of ``config`` for look-ahead, warm-up, stream/batch and intrabar
    bias on ``bars`` (default: the data the config names), in the engine mode
    `omega.run_backtest` would use. ``report.ok`` is False when a bias was found.

    A basket (a config with ``instruments:``) is checked as a basket (`omega.bias.basket`):
    ``bars``, when given, is then a mapping of symbol to BarSeries.

    ``cuts`` points where the data is cut and ``offsets`` later starts (spread over the
    data); ``checks`` a subset of ``CHECKS``. Bad arguments raise `ConfigError`; errors of
    a run (a strategy failing, a plugin refused) propagate as the backtest raises them.
    """
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ConfigError(f"check_bias: unknown check(s) {', '.join(unknown)} (known: {CHECKS})")
    for name, value in (("cuts", cuts), ("offsets", offsets)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"check_bias: {name} must be an int >= 1, got {value!r}")
    if not tolerance >= 0:
        raise ConfigError(f"check_bias: tolerance must be >= 0, got {tolerance!r}")
    started = time.perf_counter()
    steps = Steps(planned_runs(cuts, offsets, checks), progress)
    if config.instruments is not None:
        from omega.bias.basket import check_basket_bias

        report = check_basket_bias(
            config,
            bars=bars,
            cuts=cuts,
            offsets=offsets,
            checks=checks,
            tolerance=tolerance,
            steps=steps,
            env=env,
        )
    else:
        report = _check_single(config, bars, cuts, offsets, checks, tolerance, steps, env)
    report.runs = steps.done
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress("done", steps.total, steps.total)
    return report


class Steps:
    """Counts the engine runs of a check and reports each before it starts."""

    def __init__(self, total: int, progress: BiasProgress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def __call__(self, label: str) -> None:
        if self.progress is not None:
            self.progress(label, self.done, self.total)
        self.done += 1


def _check_single(
    config: BacktestConfig,
    bars: BarSeries | pd.DataFrame | None,
    cuts: int,
    offsets: int,
    checks: Sequence[str],
    tolerance: float,
    step: Steps,
    env: Mapping[str, str] | None,
) -> BiasReport:
    if isinstance(bars, Mapping):
        raise ConfigError("bars by symbol are for a basket (a config with instruments:)")
    subject = subject_for(config, env)
    if bars is None:
        from omega.runner import load_bars

        bars = load_bars(config)
    bars = as_bar_series(bars, config.instrument.to_instrument())
    if len(bars) == 0:
        raise EmptyDataError("no bars to check", file=bars.source)
    step("full run")
    full = subject.run(bars, subject.settings, trace=True)
    needs_series = "lookahead" in checks or "warmup" in checks
    full_series = subject.series(bars, subject.settings) if needs_series else None
    report = BiasReport(subject.description, bars.source, len(bars), full.bars_processed)
    points = cut_points(bars, subject.settings.primary_timeframe.nanos, cuts)
    if "lookahead" in checks:
        report.lookahead = check_lookahead(subject, bars, full, full_series, cuts, step)
    if "warmup" in checks:
        coarsest = subject.coarsest_timeframe(subject.settings)
        report.warmup = check_warmup(
            subject, bars, full, full_series, coarsest, offsets, step, tolerance
        )
    if "stream" in checks:
        step("stream session")
        report.stream = check_stream(subject, bars, full, [c for c, _ in points])
    if "intrabar" in checks:
        report.intrabar = check_intrabar(subject, bars, step)
    return report

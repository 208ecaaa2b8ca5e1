"""Parameter sweeps: one strategy over many parameter sets, one row of metrics per set.

A strategy with a Rust implementation runs the whole sweep in one call into the core: the
bars are checked and resampled once, each indicator series is computed once for every set
that reads it, and the runs share the cores, each stepping a group of sets over one block of
bars at a time (the block's prices stay in cache). A set's equity curve and trade log are not
kept: its metrics are taken in the loop (exact sums, rounded once), so each row equals the
metrics of a single backtest with the same parameters (`omega.run_backtest` in any mode), bit
for bit. The trades and equity of a set you want to look at are one `omega.run_backtest`
with its parameters away. A Python-only strategy runs set after set in the Python engine
(same rows, much slower).

    from omega.sweep import parameter_grid, run_sweep
    table = run_sweep(bars, "mean_reversion_z_score",
                      parameter_grid({"lookback": [100, 200], "z_entry": [2.5, 3.0, 3.5]}),
                      settings)
    table.sort_values("sharpe", ascending=False).head()
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from omega.data.bars import BarSeries
from omega.engine.settings import EngineSettings
from omega.errors import OmegaError
from omega.runner import probe_backend

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def parameter_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values in ``grid`` (the last name varies fastest)."""
    names = list(grid)
    for name in names:
        values = grid[name]
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"parameter_grid: {name!r} needs a non-empty list of values")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def run_sweep(
    bars: BarSeries,
    strategy: str,
    param_sets: Iterable[Mapping[str, Any]],
    settings: EngineSettings | None = None,
    *,
    threads: int | None = None,
    progress: Progress | None = None,
    memory_check: bool = True,
) -> pd.DataFrame:
    """Backtest ``strategy`` once per parameter set and return one row per set.

    Columns: the parameters, every metric of `omega.results.compute_metrics`, and ``error``:
    missing (NaN), or the message of the error that run failed with (invalid parameters, a
    strategy error; that row's metrics are missing). Errors of the data or the settings
    raise, as every run would fail. ``threads`` defaults to the machine's cores;
    ``progress(done, total)`` is called as runs finish. Ctrl-C stops the sweep after the
    runs under way. ``memory_check=False`` skips the memory guard
    (`omega.data.memory_guard`), which refuses a sweep estimated not to fit.
    """
    sets = [dict(p) for p in param_sets]
    settings = settings if settings is not None else EngineSettings(instrument=bars.instrument)
    rust = strategy in probe_backend().rust_strategies
    if memory_check:
        from omega.data.memory_guard import guard_sweep

        guard_sweep(
            bars, sets, settings, threads or os.cpu_count() or 1, "rust" if rust else "python"
        )
    if rust:
        outcomes = _rust_sweep(bars, strategy, sets, settings, threads, progress)
    else:
        outcomes = _python_sweep(bars, strategy, sets, settings, progress)
    failed = sum(isinstance(o, BaseException) for o in outcomes)
    if failed:
        log.warning("%d of %d parameter sets failed; see the error column", failed, len(sets))
    return _table(sets, outcomes)


def _validated(strategy: str, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters checked by the Python twin where one exists (the messages of a single run)."""
    from omega.engine.rust import _normalised_params

    return _normalised_params(strategy, params)


def _rust_sweep(
    bars: BarSeries,
    strategy: str,
    sets: list[dict[str, Any]],
    settings: EngineSettings,
    threads: int | None,
    progress: Progress | None,
) -> list[dict[str, Any] | BaseException]:
    from omega.engine.rust import _core, bar_columns

    outcomes: list[dict[str, Any] | BaseException | None] = []
    valid: list[dict[str, Any]] = []
    for params in sets:
        try:
            valid.append(_validated(strategy, params))
            outcomes.append(None)
        except OmegaError as error:
            outcomes.append(error)
    swept = iter(
        _core().run_sweep(
            bar_columns(bars),
            bars.timeframe.name,
            settings,
            strategy,
            valid,
            threads or os.cpu_count() or 1,
            progress,
            bars.source,
        )
    )
    return [next(swept) if o is None else o for o in outcomes]


def _python_sweep(
    bars: BarSeries,
    strategy: str,
    sets: list[dict[str, Any]],
    settings: EngineSettings,
    progress: Progress | None,
) -> list[dict[str, Any] | BaseException]:
    from omega.engine.loop import run_python
    from omega.results.metrics import compute_metrics
    from omega.strategy import get_strategy

    cls = get_strategy(strategy)
    outcomes: list[dict[str, Any] | BaseException] = []
    for done, params in enumerate(sets, start=1):
        try:
            raw = run_python(bars, cls(params), settings)
            outcomes.append(
                compute_metrics(raw, settings.initial_balance, settings.primary_timeframe.nanos)
            )
        except (OmegaError, ValueError) as error:  # a bad set fails alone, as in Rust
            outcomes.append(error)
        if progress is not None:
            progress(done, len(sets))
    return outcomes


def _table(
    sets: list[dict[str, Any]], outcomes: list[dict[str, Any] | BaseException]
) -> pd.DataFrame:
    rows = []
    for params, outcome in zip(sets, outcomes, strict=True):
        row: dict[str, Any] = dict(params)
        if isinstance(outcome, BaseException):
            row["error"] = f"{type(outcome).__name__}: {outcome}"
        else:
            row.update(outcome)
            row["error"] = None
        rows.append(row)
    return pd.DataFrame(rows)

"""Cross-validation for time series: purged and embargoed K-fold, and combinatorial purged CV.

References: M. Lopez de Prado, *Advances in Financial Machine Learning* (2018), ch. 7
(purging, embargo, ``PurgedKFold``) and ch. 12 (combinatorial purged cross-validation, CPCV).

The observations are bars ``0..n-1`` cut into ``N`` contiguous groups. A split takes ``k`` groups
as the test set and the rest as the training set, in which

* **purging** drops every training bar whose label overlaps a test bar: bar ``i``'s label spans
  bars ``[i, i + horizon]`` (a trade opened at ``i`` and held up to ``horizon`` bars), so the
  ``horizon`` bars before each test group are dropped;
* the **embargo** drops the ``embargo`` bars right after each test group (serially correlated
  features computed there would still see the test period).

``k = 1`` is the purged K-fold (``N`` splits, each group tested once: one path). ``k > 1`` makes
``C(N, k)`` splits; each group is tested in ``C(N-1, k-1)`` of them, so the test groups assemble
into ``phi(N, k) = C(N, k) * k / N`` complete out-of-sample paths (AFML 12.4).

`cross_validate` runs this on a strategy: for every split the parameter set with the best
objective on the training segments is chosen (`omega.research.walkforward.optimise`), then
run alone on each test group; the groups of each path are stitched into one out-of-sample
equity curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings
    from omega.results import BacktestResult


@dataclass(frozen=True)
class Split:
    """One train/test split: bar positions (sorted) and the test groups they came from."""

    train: np.ndarray
    test: np.ndarray
    test_groups: tuple[int, ...]


def group_bounds(n: int, n_groups: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of ``n_groups`` contiguous groups of ``n`` bars (sizes differ by <= 1,
    the larger first, as ``numpy.array_split``)."""
    if n_groups < 2:
        raise ConfigError(f"cross-validation needs at least 2 groups, got {n_groups}")
    if n < n_groups:
        raise ConfigError(f"{n} bars cannot be cut into {n_groups} groups")
    size, extra = divmod(n, n_groups)
    bounds, start = [], 0
    for g in range(n_groups):
        stop = start + size + (1 if g < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _bars(value: int | float, n: int, name: str) -> int:
    """A count of bars: an int as it is, a float in [0, 1) as that fraction of ``n`` (AFML's
    ``pctEmbargo``: ``int(n * fraction)``)."""
    if isinstance(value, bool) or value < 0:
        raise ConfigError(f"{name} must be >= 0 bars (or a fraction in [0, 1)), got {value!r}")
    if isinstance(value, float):
        if value >= 1:
            raise ConfigError(f"{name}: a fraction must be < 1, got {value!r}")
        return int(n * value)
    return int(value)


def cpcv_splits(
    n: int,
    n_groups: int,
    n_test_groups: int,
    *,
    horizon: int | float = 0,
    embargo: int | float = 0,
) -> list[Split]:
    """The ``C(n_groups, n_test_groups)`` purged and embargoed splits of ``n`` bars, in the
    order of ``itertools.combinations`` of the group numbers."""
    if not 1 <= n_test_groups < n_groups:
        raise ConfigError(
            f"test groups must be between 1 and {n_groups - 1} (of {n_groups}), got {n_test_groups}"
        )
    bounds = group_bounds(n, n_groups)
    purge, after = _bars(horizon, n, "horizon"), _bars(embargo, n, "embargo")
    splits = []
    for groups in combinations(range(n_groups), n_test_groups):
        keep = np.ones(n, dtype=bool)
        test = np.zeros(n, dtype=bool)
        for g in groups:
            start, stop = bounds[g]
            test[start:stop] = True
            keep[max(0, start - purge) : min(n, stop + after)] = False
        splits.append(Split(np.flatnonzero(keep), np.flatnonzero(test), groups))
    return splits


def purged_kfold(
    n: int, n_splits: int, *, horizon: int | float = 0, embargo: int | float = 0
) -> list[Split]:
    """Purged and embargoed K-fold (AFML 7.4): each of ``n_splits`` groups tested once."""
    return cpcv_splits(n, n_splits, 1, horizon=horizon, embargo=embargo)


def n_paths(n_groups: int, n_test_groups: int) -> int:
    """``phi(N, k) = C(N, k) * k / N``: the number of backtest paths CPCV makes (AFML 12.4)."""
    return math.comb(n_groups, n_test_groups) * n_test_groups // n_groups


def cpcv_paths(n_groups: int, n_test_groups: int) -> np.ndarray:
    """``paths[p, g]``: the split (index into `cpcv_splits`) whose test of group ``g`` path
    ``p`` uses. Group ``g``'s tests are dealt out to the paths in split order, so every path
    has each group exactly once and every (split, test group) pair is used exactly once."""
    phi = n_paths(n_groups, n_test_groups)
    paths = np.full((phi, n_groups), -1, dtype=np.int64)
    seen = [0] * n_groups
    for index, groups in enumerate(combinations(range(n_groups), n_test_groups)):
        for g in groups:
            paths[seen[g], g] = index
            seen[g] += 1
    return paths


def segments(positions: np.ndarray) -> list[tuple[int, int]]:
    """Sorted bar positions as maximal contiguous ``[start, stop)`` runs."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [len(positions)]))
    return [
        (int(positions[a]), int(positions[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)
    ]


@dataclass
class CVResult:
    """What `cross_validate` returns.

    ``splits``: one row per split (test groups, the chosen parameters, the training score,
    the test bars' return). ``paths``: one row per path (return, max drawdown, Sharpe of the
    stitched equity). ``equity``: the stitched out-of-sample equity of every path (one column
    per path, indexed by bar close time, UTC). ``sweeps``: every training-segment sweep row
    (columns ``segment_start``, ``segment_stop`` added).
    """

    splits: pd.DataFrame
    paths: pd.DataFrame
    equity: pd.DataFrame
    sweeps: pd.DataFrame
    n_groups: int
    n_test_groups: int


def cross_validate(
    bars: BarSeries,
    strategy: str,
    param_sets: Iterable[Mapping[str, Any]],
    settings: EngineSettings | None = None,
    *,
    n_groups: int = 6,
    n_test_groups: int = 2,
    horizon: int | float = 0,
    embargo: int | float = 0,
    objective: str | Callable[[pd.DataFrame], Any] = "sharpe",
    backend: str = "auto",
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CVResult:
    """Combinatorial purged cross-validation of a parameter search (``n_test_groups=1``: the
    purged K-fold).

    Each training set is a few contiguous segments of bars (the groups left after removing
    the test groups, the purge and the embargo); every parameter set is backtested on each
    segment (one sweep per distinct segment, shared by the splits that contain it) and
    scored by the objective averaged over the segments, weighted by their bars. The best
    set is then backtested alone on each test group. ``progress(done, total)`` counts splits.
    """
    import pandas as pd

    from omega.engine.settings import EngineSettings
    from omega.research.walkforward import (
        evaluate_sets,
        params_key,
        run_single,
        scores,
        stitch_equity,
        summary,
    )

    sets = [dict(p) for p in param_sets]
    if not sets:
        raise ConfigError("cross_validate needs at least one parameter set")
    settings = settings if settings is not None else EngineSettings(instrument=bars.instrument)
    splits = cpcv_splits(len(bars), n_groups, n_test_groups, horizon=horizon, embargo=embargo)
    bounds = group_bounds(len(bars), n_groups)
    swept: dict[tuple[int, int], pd.DataFrame] = {}
    tested: dict[tuple[int, str], BacktestResult] = {}
    rows, chosen = [], []
    for index, split in enumerate(splits):
        parts = segments(split.train)
        if not parts:
            raise ConfigError(
                f"split {index}: purge and embargo leave no training bars "
                f"(horizon={horizon}, embargo={embargo})"
            )
        weighted = np.zeros(len(sets))
        weights = np.zeros(len(sets))
        for part in parts:
            if part not in swept:
                table = evaluate_sets(
                    bars.slice(*part), strategy, sets, settings, backend=backend, threads=threads
                )
                swept[part] = table
            score = scores(swept[part], objective)
            valid = np.isfinite(score)
            weighted[valid] += score[valid] * (part[1] - part[0])
            weights[valid] += part[1] - part[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(weights > 0, weighted / np.where(weights > 0, weights, 1), np.nan)
        if not np.isfinite(mean).any():
            raise ConfigError(f"split {index}: no parameter set has a finite objective")
        best = int(np.nanargmax(mean))
        params = sets[best]
        chosen.append(params)
        for g in split.test_groups:
            key = (g, params_key(params))
            if key not in tested:
                tested[key] = run_single(bars.slice(*bounds[g]), strategy, params, settings)
        rows.append(
            {
                "split": index,
                "test_groups": split.test_groups,
                "train_bars": len(split.train),
                "train_score": float(mean[best]),
                **{f"param_{k}": v for k, v in params.items()},
                "test_return_pct": float(
                    np.prod(
                        [
                            1 + tested[(g, params_key(params))].metrics["return_pct"] / 100
                            for g in split.test_groups
                        ]
                    )
                    * 100
                    - 100
                ),
            }
        )
        if progress is not None:
            progress(index + 1, len(splits))
    path_rows, curves = [], {}
    initial = settings.initial_balance
    for p, assignment in enumerate(cpcv_paths(n_groups, n_test_groups)):
        results = [
            tested[(g, params_key(chosen[int(s)]))] for g, s in enumerate(assignment.tolist())
        ]
        curve = stitch_equity(results, initial)
        curves[f"path_{p}"] = curve
        path_rows.append(
            {"path": p, "splits": tuple(int(s) for s in assignment), **summary(curve, initial)}
        )
    sweeps = pd.concat(
        [t.assign(segment_start=a, segment_stop=b) for (a, b), t in swept.items()],
        ignore_index=True,
    )
    return CVResult(
        splits=pd.DataFrame(rows),
        paths=pd.DataFrame(path_rows),
        equity=pd.DataFrame(curves),
        sweeps=sweeps,
        n_groups=n_groups,
        n_test_groups=n_test_groups,
    )

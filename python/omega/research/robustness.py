"""Robustness and overfitting statistics of a backtest and of the search that found it.

* `monte_carlo`: the trade sequence resampled, with replacement (``bootstrap``) or as a
  random order of the same trades (``reshuffle``); distributions and percentiles of the final
  return and the maximum drawdown of the closed-trade equity, and the percentile fan of the
  equity after each trade. A reshuffle keeps the final return (same trades) and shows how much
  of the drawdown was the luck of the order.
* `neighbourhood_stability`: a metric over a grid of two parameters (the heatmap) and, for
  every cell, the mean and minimum over its neighbours: a peak whose neighbours are much
  worse is a fragile optimum.
* `probabilistic_sharpe_ratio`, `expected_max_sharpe`, `deflated_sharpe_ratio`: D. H. Bailey
  and M. Lopez de Prado, "The Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest
  Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 2014, eqs. (1)-(2)
  and the PSR of Bailey and Lopez de Prado, "The Sharpe Ratio Efficient Frontier", Journal of
  Risk 15(2), 2012.
* `probability_of_backtest_overfitting`: combinatorially symmetric cross-validation (CSCV) of
  D. H. Bailey, J. Borwein, M. Lopez de Prado and Q. J. Zhu, "The Probability of Backtest
  Overfitting", Journal of Computational Finance 20(4), 2017 (SSRN 2326253, 2015).
  `block_performance` builds its matrix for a strategy: every parameter set backtested on
  each of ``n_blocks`` consecutive blocks of bars.

Sharpe ratios here are per observation (not annualised): divide an annualised Sharpe by
``sqrt(periods_per_year)`` first. Kurtosis is the plain (not excess) kurtosis: 3 for a normal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()
PERCENTILES = (5, 25, 50, 75, 95)


# ----------------------------------------------------------------------------- Monte Carlo


@dataclass
class MonteCarloResult:
    """``runs``: one row per simulation (``return_pct``, ``max_drawdown_pct``).
    ``percentiles``: those two at each percentile (rows) . ``fan``: the equity after trade
    ``0..n`` (rows; row 0 is the initial balance) at each percentile (columns ``p5``...)."""

    runs: pd.DataFrame
    percentiles: pd.DataFrame
    fan: pd.DataFrame
    method: str
    n_trades: int


def _trade_pnl(trades: Any) -> np.ndarray:
    if hasattr(trades, "trades") and hasattr(trades, "raw"):  # a BacktestResult
        trades = trades.trades
    if hasattr(trades, "columns"):
        if "pnl" not in trades.columns:
            raise ConfigError("monte_carlo: the trades table has no 'pnl' column")
        trades = trades["pnl"]
    pnl = np.asarray(trades, dtype=np.float64)
    if pnl.ndim != 1 or not np.isfinite(pnl).all():
        raise ConfigError("monte_carlo: trade P/L must be a 1-D array of finite numbers")
    return pnl


def monte_carlo(
    trades: Any,
    initial_balance: float,
    *,
    n: int = 1000,
    method: str = "bootstrap",
    seed: int = 0,
    percentiles: Sequence[float] = PERCENTILES,
) -> MonteCarloResult:
    """Monte Carlo over trades: ``trades`` is a BacktestResult, a trades table (its ``pnl``)
    or an array of trade P/L in account currency. The equity is ``initial_balance`` plus the
    running sum of P/L (closed trades; the costs are in the P/L). Seeded: the same arguments
    give the same result."""
    import pandas as pd

    if method not in ("bootstrap", "reshuffle"):
        raise ConfigError(f"monte_carlo: method must be 'bootstrap' or 'reshuffle', not {method!r}")
    if n < 1:
        raise ConfigError(f"monte_carlo: n must be >= 1, got {n}")
    if not initial_balance > 0:
        raise ConfigError(f"monte_carlo: initial balance must be > 0, got {initial_balance}")
    pnl = _trade_pnl(trades)
    if len(pnl) == 0:
        raise ConfigError("monte_carlo: no trades to resample")
    rng = np.random.default_rng(seed)
    if method == "bootstrap":
        paths = pnl[rng.integers(0, len(pnl), size=(n, len(pnl)))]
    else:
        paths = rng.permuted(np.broadcast_to(pnl, (n, len(pnl))), axis=1)
    equity = np.concatenate((np.full((n, 1), float(initial_balance)), paths), axis=1)
    np.cumsum(equity, axis=1, out=equity)
    peak = np.maximum.accumulate(equity, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(peak > 0, (peak - equity) / peak, np.nan)
    runs = pd.DataFrame(
        {
            "return_pct": (equity[:, -1] / initial_balance - 1.0) * 100.0,
            "max_drawdown_pct": np.nanmax(depth, axis=1) * 100.0,
        }
    )
    qs = list(percentiles)
    table = runs.quantile([q / 100 for q in qs])
    table.index = [f"p{q:g}" for q in qs]
    fan = pd.DataFrame(np.percentile(equity, qs, axis=0).T, columns=[f"p{q:g}" for q in qs])
    fan.index.name = "trade"
    return MonteCarloResult(runs, table, fan, method, len(pnl))


# ----------------------------------------------------------------------------- neighbourhood


@dataclass
class Neighbourhood:
    """``heatmap``: the metric, ``y`` values as rows and ``x`` values as columns (the best
    over any other parameters). ``mean`` and ``minimum``: over each cell's neighbourhood (the
    cells within ``radius`` grid steps on both axes, itself included; missing cells ignored).
    ``best``: the best cell's ``x``, ``y``, value, neighbourhood mean and ``stability`` =
    neighbourhood mean / value (1: a plateau; near 0 or negative: an isolated peak)."""

    heatmap: pd.DataFrame
    mean: pd.DataFrame
    minimum: pd.DataFrame
    best: dict[str, Any]
    metric: str
    x: str
    y: str


def neighbourhood_stability(
    table: pd.DataFrame, x: str, y: str, metric: str = "sharpe", *, radius: int = 1
) -> Neighbourhood:
    """Parameter-neighbourhood stability of ``metric`` over the ``x`` by ``y`` grid of a
    sweep table (rows of `omega.sweep.run_sweep`, failed rows ignored)."""
    for name in (x, y, metric):
        if name not in table.columns:
            raise ConfigError(f"neighbourhood_stability: no column {name!r} in the table")
    if radius < 1:
        raise ConfigError(f"neighbourhood_stability: radius must be >= 1, got {radius}")
    rows = table[[x, y, metric]].dropna()
    if rows.empty:
        raise ConfigError(f"neighbourhood_stability: no row has a {metric}")
    heatmap = rows.pivot_table(index=y, columns=x, values=metric, aggfunc="max").sort_index()
    heatmap = heatmap.reindex(sorted(heatmap.columns), axis=1)
    grid = heatmap.to_numpy(dtype=np.float64)
    h, w = grid.shape
    mean = np.full_like(grid, np.nan)
    minimum = np.full_like(grid, np.nan)
    for i in range(h):
        for j in range(w):
            if np.isnan(grid[i, j]):
                continue
            window = grid[max(0, i - radius) : i + radius + 1, max(0, j - radius) : j + radius + 1]
            mean[i, j] = np.nanmean(window)
            minimum[i, j] = np.nanmin(window)
    i, j = np.unravel_index(np.nanargmax(grid), grid.shape)
    value = float(grid[i, j])
    best = {
        x: _plain(heatmap.columns[j]),
        y: _plain(heatmap.index[i]),
        metric: value,
        "neighbourhood_mean": float(mean[i, j]),
        "neighbourhood_min": float(minimum[i, j]),
        "stability": float(mean[i, j]) / value if value > 0 else math.nan,
    }
    frame = type(heatmap)
    return Neighbourhood(
        heatmap=heatmap,
        mean=frame(mean, index=heatmap.index, columns=heatmap.columns),
        minimum=frame(minimum, index=heatmap.index, columns=heatmap.columns),
        best=best,
        metric=metric,
        x=x,
        y=y,
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (for printing and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


# ----------------------------------------------------------------------------- Sharpe ratios


@dataclass(frozen=True)
class SharpeMoments:
    """Per-observation Sharpe ratio, skewness, kurtosis (plain) and count of a return series."""

    sharpe: float
    skew: float
    kurtosis: float
    n: int


def sharpe_moments(returns: Any) -> SharpeMoments:
    """The moments the PSR and DSR need, from returns (population moments, as the paper;
    the Sharpe uses the sample standard deviation, ddof=1, as `omega.results.metrics`)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if len(r) < 3:
        raise ConfigError(f"Sharpe statistics need at least 3 returns, got {len(r)}")
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    if m2 == 0:
        raise ConfigError("Sharpe statistics: the returns do not vary")
    return SharpeMoments(
        sharpe=float(r.mean()) / float(np.std(r, ddof=1)),
        skew=float(np.mean(centred**3)) / m2**1.5,
        kurtosis=float(np.mean(centred**4)) / m2**2,
        n=len(r),
    )


def probabilistic_sharpe_ratio(
    sharpe: float, n_obs: int, *, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """PSR: the probability that the true Sharpe exceeds ``benchmark``, given an observed
    per-observation ``sharpe`` over ``n_obs`` returns with that skewness and kurtosis:
    ``Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2))``."""
    if n_obs < 2:
        raise ConfigError(f"PSR needs at least 2 observations, got {n_obs}")
    variance = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if variance <= 0:
        raise ConfigError(
            f"PSR undefined: 1 - skew*SR + (kurtosis-1)/4*SR^2 = {variance} <= 0 "
            f"(SR={sharpe}, skew={skew}, kurtosis={kurtosis})"
        )
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance))


def expected_max_sharpe(n_trials: int, variance: float, mean: float = 0.0) -> float:
    """``SR0``: the expected maximum of ``n_trials`` Sharpe ratios of zero true skill whose
    estimates vary with ``variance`` across the trials (the False Strategy theorem):
    ``mean + sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e)))``, g = Euler-Mascheroni."""
    if n_trials < 1:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
    if variance < 0:
        raise ConfigError(f"the variance of the trials' Sharpe ratios must be >= 0, got {variance}")
    if n_trials == 1:
        return mean  # one trial: nothing was selected
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return mean + math.sqrt(variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


@dataclass(frozen=True)
class DeflatedSharpe:
    """``dsr``: the deflated Sharpe ratio (a probability); ``sr0``: the expected maximum
    Sharpe of the trials (the benchmark); the inputs, per observation."""

    dsr: float
    sr0: float
    sharpe: float
    n_obs: int
    n_trials: int
    trials_variance: float
    skew: float
    kurtosis: float


def deflated_sharpe_ratio(
    sharpe: float,
    n_obs: int,
    n_trials: int,
    trials_variance: float,
    *,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> DeflatedSharpe:
    """DSR = PSR against ``SR0 = expected_max_sharpe(n_trials, trials_variance)``: the
    probability that the selected strategy's true Sharpe is positive after the selection
    among ``n_trials`` (Bailey and Lopez de Prado 2014, eq. 2). All Sharpe ratios per
    observation."""
    sr0 = expected_max_sharpe(n_trials, trials_variance)
    dsr = probabilistic_sharpe_ratio(sharpe, n_obs, skew=skew, kurtosis=kurtosis, benchmark=sr0)
    return DeflatedSharpe(dsr, sr0, sharpe, n_obs, n_trials, trials_variance, skew, kurtosis)


def deflated_sharpe_of_search(
    returns: Any, trial_sharpes: Any, periods_per_year: Any = None
) -> DeflatedSharpe:
    """The DSR of the chosen run's per-bar ``returns`` after a search whose trials had the
    Sharpe ratios ``trial_sharpes`` (the ``sharpe`` column of a sweep: annualised with each
    row's ``periods_per_year``, which de-annualises them; without it they are taken as per
    observation). Failed trials (NaN) count as trials but not in the variance."""
    moments = sharpe_moments(returns)
    sharpes = np.asarray(trial_sharpes, dtype=np.float64)
    if periods_per_year is not None:
        sharpes = sharpes / np.sqrt(np.asarray(periods_per_year, dtype=np.float64))
    finite = sharpes[np.isfinite(sharpes)]
    variance = float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0
    return deflated_sharpe_ratio(
        moments.sharpe,
        moments.n,
        max(len(sharpes), 1),
        variance,
        skew=moments.skew,
        kurtosis=moments.kurtosis,
    )


# ----------------------------------------------------------------------------- PBO (CSCV)


def _sharpe_columns(block: np.ndarray) -> np.ndarray:
    std = block.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, block.mean(axis=0) / std, np.nan)


_METRICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sharpe": _sharpe_columns,
    "mean": lambda block: block.mean(axis=0),
    "sum": lambda block: block.sum(axis=0),
}


@dataclass
class PBOResult:
    """``pbo``: the probability of backtest overfitting (share of the combinations whose
    in-sample best ranks at or below the out-of-sample median, logit <= 0). ``logits``: the
    logit of each combination. ``is_best``/``oos_of_best``: the in-sample best's performance
    in and out of sample per combination (the degradation plot). ``prob_oos_loss``: share of
    combinations where that out-of-sample performance is negative."""

    pbo: float
    logits: np.ndarray
    is_best: np.ndarray
    oos_of_best: np.ndarray
    prob_oos_loss: float
    n_partitions: int
    n_combinations: int


def _relative_rank(values: np.ndarray, index: int) -> float:
    """Rank of ``values[index]`` among ``values`` in 1..N (ties share their average rank),
    divided by N + 1 (the paper's relative rank omega-bar, strictly inside (0, 1))."""
    v = values[index]
    below = float(np.sum(values < v))
    equal = float(np.sum(values == v))
    return (below + (equal + 1.0) / 2.0) / (len(values) + 1.0)


def probability_of_backtest_overfitting(
    performance: Any,
    n_partitions: int = 16,
    *,
    metric: str | Callable[[np.ndarray], np.ndarray] = "sharpe",
) -> PBOResult:
    """PBO by CSCV. ``performance``: a T x N matrix (rows: observations in time order, e.g.
    returns per period or per block; columns: the N strategy configurations tried).

    The rows are cut into ``n_partitions`` (even) consecutive blocks of equal size (the first
    ``T mod S`` rows are dropped); each of the ``C(S, S/2)`` ways to choose half of the blocks
    as in-sample (the rest out-of-sample) picks the configuration with the best ``metric``
    in sample and ranks it out of sample; the logit of its relative rank is
    ``log(w / (1 - w))``. ``metric``: "sharpe" (mean / sample std of each column, the paper's
    choice), "mean", "sum", or a function of a rows x N block returning N numbers. A
    configuration whose metric is NaN never wins and ranks lowest.
    """
    matrix = np.asarray(performance, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ConfigError("PBO needs a T x N matrix with at least 2 configurations (columns)")
    if n_partitions < 2 or n_partitions % 2:
        raise ConfigError(f"PBO needs an even number of partitions >= 2, got {n_partitions}")
    rows = matrix.shape[0]
    if rows < n_partitions:
        raise ConfigError(f"PBO: {rows} rows cannot make {n_partitions} partitions")
    score = _METRICS.get(metric) if isinstance(metric, str) else metric
    if score is None:
        raise ConfigError(f"PBO metric {metric!r}: expected sharpe, mean, sum or a function")
    size = rows // n_partitions
    blocks = matrix[rows - size * n_partitions :].reshape(n_partitions, size, -1)
    logits, is_best, oos_best = [], [], []
    for chosen in combinations(range(n_partitions), n_partitions // 2):
        rest = [b for b in range(n_partitions) if b not in chosen]
        r_is = np.asarray(score(blocks[list(chosen)].reshape(-1, matrix.shape[1])), float)
        r_oos = np.asarray(score(blocks[rest].reshape(-1, matrix.shape[1])), float)
        if not np.isfinite(r_is).any():
            raise ConfigError("PBO: no configuration has a finite in-sample metric")
        best = int(np.nanargmax(r_is))
        ranked = np.where(np.isfinite(r_oos), r_oos, -np.inf)
        w = _relative_rank(ranked, best)
        logits.append(math.log(w / (1.0 - w)))
        is_best.append(float(r_is[best]))
        oos_best.append(float(r_oos[best]))
    lam = np.asarray(logits)
    oos = np.asarray(oos_best)
    return PBOResult(
        pbo=float(np.mean(lam <= 0)),
        logits=lam,
        is_best=np.asarray(is_best),
        oos_of_best=oos,
        prob_oos_loss=float(np.mean(oos < 0)),
        n_partitions=n_partitions,
        n_combinations=len(lam),
    )


def block_performance(
    bars: BarSeries,
    strategy: str,
    param_sets: Iterable[Mapping[str, Any]],
    settings: EngineSettings | None = None,
    *,
    n_blocks: int = 16,
    metric: str = "return_pct",
    backend: str = "auto",
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """The CSCV matrix of a search: ``metric`` of every parameter set (columns ``set_0``...)
    backtested on each of ``n_blocks`` consecutive blocks of bars (rows), one sweep per block.
    A failed run is NaN. Feed it to `probability_of_backtest_overfitting` with
    ``metric="mean"`` (the mean block return)."""
    import pandas as pd

    from omega.engine.settings import EngineSettings
    from omega.research.cv import group_bounds
    from omega.research.walkforward import evaluate_sets

    sets = [dict(p) for p in param_sets]
    if not sets:
        raise ConfigError("block_performance needs at least one parameter set")
    settings = settings if settings is not None else EngineSettings(instrument=bars.instrument)
    rows = []
    bounds = group_bounds(len(bars), n_blocks)
    for done, (start, stop) in enumerate(bounds, start=1):
        table = evaluate_sets(
            bars.slice(start, stop), strategy, sets, settings, backend=backend, threads=threads
        )
        if metric in table.columns:
            rows.append(table[metric].to_numpy(dtype=np.float64, na_value=np.nan))
        elif "error" in table.columns and table["error"].notna().all():
            rows.append(np.full(len(sets), np.nan))
        else:
            raise ConfigError(f"block_performance: {metric!r} is not a metric")
        if progress is not None:
            progress(done, len(bounds))
    frame = pd.DataFrame(rows, columns=[f"set_{i}" for i in range(len(sets))])
    frame.index = pd.Index(
        [pd.Timestamp(int(bars.time[a]), unit="ns", tz="UTC") for a, _ in bounds],
        name="block_start",
    )
    return frame

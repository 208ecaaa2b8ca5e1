"""Research tools: parameter search, resumable studies, execution backends.

Part A (search, studies, backends; this package's public interface, stable for the
walk-forward, cross-validation and robustness tools built on it):

    omega.research.backends.evaluate(bars, strategy, param_sets, settings, *,
        backend="auto" | "local" | "process" | "ray", threads=None, progress=None)
        -> DataFrame
        # one row per set, in order, equal to omega.sweep.run_sweep's rows
    omega.research.search.optimize(bars, strategy, space, settings, *,
        method="grid" | "random" | "tpe", trials=None, objective="sharpe" | callable
        | [(metric or callable, "max" | "min"), ...], constraints=None, seed=None,
        backend="auto", threads=None, batch=None, study=None, progress=None)
        -> OptimizeResult  (.table DataFrame, .best params dict, .pareto DataFrame)
    omega.research.study.Study(path, name)  # SQLite; .table() loads it as a DataFrame

Part B: ``walk_forward``, ``cross_validate`` (purged K-fold, CPCV), ``monte_carlo``,
``neighbourhood_stability``, the (probabilistic, deflated) Sharpe ratios and
``probability_of_backtest_overfitting`` (CSCV).

``strategy`` is a registered strategy name, ``omega.research.backends.Plugin(path)``, or
``omega.research.backends.Basket(config)`` for a basket config (an ``instruments:`` list;
``bars`` then by symbol, ``settings`` None; each set one basket run, the account's metrics).
``import omega.research`` stays light: the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "evaluate": "omega.research.backends",
    "Plugin": "omega.research.backends",
    "Basket": "omega.research.backends",
    "optimize": "omega.research.search",
    "OptimizeResult": "omega.research.search",
    "IntRange": "omega.research.search",
    "FloatRange": "omega.research.search",
    "pareto_front": "omega.research.search",
    "Study": "omega.research.study",
    "load_study": "omega.research.study",
    # part B: walk-forward, time-series cross-validation, robustness statistics
    "walk_forward": "omega.research.walkforward",
    "walk_forward_windows": "omega.research.walkforward",
    "cross_validate": "omega.research.cv",
    "purged_kfold": "omega.research.cv",
    "cpcv_splits": "omega.research.cv",
    "cpcv_paths": "omega.research.cv",
    "n_paths": "omega.research.cv",
    "monte_carlo": "omega.research.robustness",
    "neighbourhood_stability": "omega.research.robustness",
    "probabilistic_sharpe_ratio": "omega.research.robustness",
    "deflated_sharpe_ratio": "omega.research.robustness",
    "deflated_sharpe_of_search": "omega.research.robustness",
    "expected_max_sharpe": "omega.research.robustness",
    "probability_of_backtest_overfitting": "omega.research.robustness",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omega.research' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

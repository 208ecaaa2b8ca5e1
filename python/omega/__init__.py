"""Omega: FX backtesting with a Rust core and a Python front end.

``import omega`` stays light: the public names below are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "BacktestConfig": "omega.config",
    "default_config": "omega.config",
    "run_backtest": "omega.runner",
    "run_basket": "omega.basket",
    "BasketResult": "omega.basket",
    "BacktestResult": "omega.results",
    "check_bias": "omega.bias",
    "canonical_trades_text": "omega.results",
    "trades_sha256": "omega.results",
    "load": "omega.data",
    "generate_synthetic": "omega.data",
    "get_strategy": "omega.strategy",
    "list_strategies": "omega.strategy",
    "register_strategy": "omega.strategy",
    "strategy_schema": "omega.strategy",
    "Strategy": "omega.strategy",
    "TradeSignal": "omega.strategy",
    "optimize": "omega.research.search",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omega' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

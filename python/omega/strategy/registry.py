"""Strategies by name: ``@register_strategy``, ``get_strategy``, ``list_strategies``."""

from __future__ import annotations

from typing import Any, TypeVar

from omega.errors import StrategyError
from omega.strategy.base import Strategy

_REGISTRY: dict[str, type[Any]] = {}  # Strategy or PortfolioStrategy subclasses
S = TypeVar("S", bound=type[Any])


def register_strategy(cls: S) -> S:
    """Class decorator: make ``cls`` available as ``get_strategy(cls.name)``."""
    from omega.strategy.portfolio import is_portfolio_strategy

    if not (isinstance(cls, type) and issubclass(cls, Strategy)) and not is_portfolio_strategy(cls):
        raise StrategyError(f"{cls!r} is not a Strategy (or PortfolioStrategy) subclass")
    name = cls.name
    if not name or not name.isidentifier():
        raise StrategyError(f"{cls.__name__}.name must be a non-empty identifier, got {name!r}")
    known = _REGISTRY.get(name)
    if known is not None and known is not cls:
        raise StrategyError(f"strategy name {name!r} is already registered by {known.__name__}")
    _REGISTRY[name] = cls
    return cls


def _load_builtins() -> None:
    import omega.strategies  # noqa: F401  (registers the built-in strategies)


def get_strategy(name: str) -> type[Any]:
    """The strategy class registered under ``name`` (a `Strategy`, or a
    `PortfolioStrategy` for baskets)."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise StrategyError(f"unknown strategy {name!r}; known: {known}") from None


def list_strategies() -> list[str]:
    """Registered strategy names, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def strategy_schema(name: str) -> dict[str, Any]:
    """JSON Schema of the strategy's parameters (types, defaults, ranges, descriptions)."""
    return get_strategy(name).Params.model_json_schema()

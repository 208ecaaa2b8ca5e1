"""Custom indicator kinds: ``@register_indicator`` on an `Indicator` subclass.

After registration ``IndicatorSpec.of(kind, **params)`` accepts the kind like a built-in one;
the engine computes each declared series once per run by folding ``update`` over the bars of
its timeframe (never per bar in the strategy). The Rust twin is
``CustomIndicator::on_field(kind, &params, side, field, factory)`` with the same name and
parameters (float rules for bit-identical twins: docs/indicators.md).
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from omega.indicators.base import Indicator
from omega.indicators.errors import IndicatorParameterError

#: What ``update`` receives per bar: ``field`` one price (``update(value)``), ``range`` the
#: side's high, low and close (``update(high, low, close)``), ``bar`` the whole two-sided
#: `omega.strategy.Bar` (``update(bar)``).
INPUTS = ("field", "range", "bar")

_CUSTOM: dict[str, type[Indicator]] = {}
_DEFAULTS: dict[str, dict[str, Any]] = {}

C = TypeVar("C", bound=type[Indicator])


def register_indicator(cls: C) -> C:
    """Class decorator: make ``cls`` available as ``IndicatorSpec.of(cls.kind, ...)``.

    ``cls`` subclasses `omega.indicators.Indicator` and sets ``kind`` (a lowercase
    identifier, not a built-in kind), ``param_names`` (its ``__init__`` keyword names in
    order) and ``input`` (one of ``INPUTS``). Registering the same class again is a no-op.
    """
    from omega.indicators.spec import KINDS

    if not (isinstance(cls, type) and issubclass(cls, Indicator)):
        raise IndicatorParameterError(f"{cls!r} is not an omega.indicators.Indicator subclass")
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind.isidentifier() or kind != kind.lower():
        raise IndicatorParameterError(
            f"{cls.__name__}.kind must be a lowercase identifier, got {kind!r}"
        )
    if kind in KINDS:
        raise IndicatorParameterError(f"{cls.__name__}.kind {kind!r} is a built-in indicator kind")
    known = _CUSTOM.get(kind)
    if known is not None and known is not cls:
        raise IndicatorParameterError(
            f"indicator kind {kind!r} is already registered by {known.__name__}"
        )
    names = getattr(cls, "param_names", None)
    if not isinstance(names, tuple) or not all(isinstance(n, str) for n in names):
        raise IndicatorParameterError(
            f"{cls.__name__}.param_names must be a tuple of str, got {names!r}"
        )
    if getattr(cls, "input", None) not in INPUTS:
        raise IndicatorParameterError(
            f"{cls.__name__}.input must be one of {', '.join(INPUTS)}, "
            f"got {getattr(cls, 'input', None)!r}"
        )
    signature = inspect.signature(cls.__init__)
    missing = [n for n in names if n not in signature.parameters]
    if missing:
        raise IndicatorParameterError(
            f"{cls.__name__}.param_names: {', '.join(missing)} not parameters of __init__"
        )
    defaults = {
        n: signature.parameters[n].default
        for n in names
        if signature.parameters[n].default is not inspect.Parameter.empty
    }
    _CUSTOM[kind] = cls
    _DEFAULTS[kind] = defaults
    return cls


def custom_kind(kind: str) -> type[Indicator] | None:
    """The class registered for ``kind`` (None if none)."""
    return _CUSTOM.get(kind)


def custom_defaults(kind: str) -> dict[str, Any]:
    """The ``__init__`` defaults of ``kind``'s parameters."""
    return _DEFAULTS[kind]


def custom_kinds() -> tuple[str, ...]:
    """Registered custom kinds, in registration order."""
    return tuple(_CUSTOM)

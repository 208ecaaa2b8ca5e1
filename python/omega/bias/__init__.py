"""Bias detection: ``omega check-bias CONFIG`` and ``omega.check_bias(config)``.

Four checks of one strategy configuration (docs/user-guide/bias.md says what each proves
and what it cannot):

1. look-ahead (`omega.bias.cuts`): reruns on the data cut at K points change nothing before
   the cut;
2. warm-up (`omega.bias.warmup`): reruns from K later starts, bars until each series agrees
   with the full run, trades changed, decisions before the warm-up;
3. stream vs batch (`omega.bias.stream`): a streaming session decides as the backtest;
4. intrabar bounds (`omega.bias.intrabar`): the P&L under the three intrabar policies.

`omega.bias.subject` is the seam between the checks and what runs (a strategy in any mode);
`omega.bias.basket` checks a basket (an ``instruments:`` config) with the same comparisons,
instrument by instrument and on the account.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module; imported on first use, so ``omega`` (whose CLI registers
# ``omega.bias.cli``) does not load numpy and the checks at start-up
_LAZY = {
    "CHECKS": "omega.bias.check",
    "check_bias": "omega.bias.check",
    "BiasReport": "omega.bias.report",
    "print_report": "omega.bias.report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omega.bias' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

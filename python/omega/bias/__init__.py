"""Bias detection: ``omega check-bias CONFIG`` and ``omega.check_bias(config)``.

Four checks of one strategy configuration (docs/user-guide/bias.md says what each proves
and what it cannot):

1. look-ahead (`omega.bias.cuts`): reruns on the data cut at K points change nothing before
   the cut;
2. warm-up (`omega.bias.warmup`): reruns from K later starts, bars until each series agrees
   with the full run, trades changed, decisions before the warm-up;
3. stream vs batch (`omega.bias.stream`): a streaming session decides as the backtest;
4. intrabar bounds (`omega.bias.intrabar`): the P&L under the three intrabar policies.

`omega.bias.subject` is the seam between the checks and what runs (strategies in every
mode now, portfolios later).
"""

from omega.bias.check import CHECKS, check_bias
from omega.bias.report import BiasReport, print_report

__all__ = ["CHECKS", "BiasReport", "check_bias", "print_report"]

"""Check 4, intrabar bounds: the run under the pessimistic, optimistic and finer policies.

When a bar's range reaches both the stop and the target, the bar alone cannot say which
came first (docs/engine/execution.md, step 2). The three policies bound the effect: the P&L
of each, the band between them, and per run the exits on bars where SL and TP were both in
range with neither gapped at the open (the bars a policy decides), with their P&L and their
share of all trades' absolute P&L. Information, never a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from omega.bias.report import IntrabarResult, PolicyRun
from omega.bias.subject import Subject
from omega.data.resample import resample
from omega.engine.settings import IntrabarPolicy

if TYPE_CHECKING:
    from omega.data.bars import BarSeries
    from omega.engine.raw import RawRun
    from omega.timeframes import Timeframe

POLICIES: tuple[IntrabarPolicy, ...] = ("pessimistic", "optimistic", "finer")


def both_in_range(primary: BarSeries, run: RawRun) -> np.ndarray:
    """Per trade: its exit bar reached its SL and TP, with neither gapped at the open."""
    t = run.trades
    if len(t["exit_index"]) == 0:
        return np.zeros(0, dtype=bool)
    i = t["exit_index"]
    sl, tp, long = t["sl"], t["tp"], t["side"] > 0
    reason = t["exit_reason"]
    ranged = (reason == "stop_loss") | (reason == "take_profit")
    bo, bh, bl = primary.bid_open[i], primary.bid_high[i], primary.bid_low[i]
    ao, ah, al = primary.ask_open[i], primary.ask_high[i], primary.ask_low[i]
    with np.errstate(invalid="ignore"):  # NaN levels compare False
        long_hit = (bo > sl) & (bo < tp) & (bl <= sl) & (bh >= tp)
        short_hit = (ao < sl) & (ao > tp) & (ah >= sl) & (al <= tp)
    return ranged & np.where(long, long_hit, short_hit)


def check_intrabar(
    subject: Subject, bars: BarSeries, step: Callable[[str], None]
) -> IntrabarResult:
    settings = subject.settings
    primary = settings.primary_timeframe
    primary_bars = bars if primary == bars.timeframe else resample(bars, primary)
    result = IntrabarResult()
    if primary == bars.timeframe:
        result.note = same_timeframe_note(primary)
    for policy in POLICIES:
        step(f"intrabar: {policy}")
        run = subject.run(bars, replace(settings, intrabar_policy=policy), trace=False)
        result.runs.append(
            policy_run(policy, primary_bars, run, run.final_balance - settings.initial_balance)
        )
    return result


def policy_run(policy: str, primary: BarSeries, run: RawRun, pnl: float) -> PolicyRun:
    """One policy's run: its P&L (``pnl``), its trades, the exits on bars where SL and TP
    were both in range, their P&L and their share of all trades' absolute P&L."""
    hit = both_in_range(primary, run)
    trade_pnl = run.trades["pnl"]
    total = float(np.abs(trade_pnl).sum())
    ambiguous = float(np.abs(trade_pnl[hit]).sum())
    return PolicyRun(
        policy,
        pnl,
        run.n_trades,
        int(np.count_nonzero(hit)),
        float(trade_pnl[hit].sum()),
        ambiguous / total if total else 0.0,
    )


def same_timeframe_note(primary: Timeframe) -> str:
    return f"primary = data timeframe ({primary}): no finer bars, finer equals pessimistic"

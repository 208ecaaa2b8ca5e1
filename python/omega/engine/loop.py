"""`run_python`: the reference event loop, one primary bar at a time, exactly as
docs/engine/execution.md orders it. Plain Python floats throughout (no numpy in the loop), so
every operation is one IEEE double operation, the same as the Rust engine's."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import get_args

import numpy as np

from omega.data.bars import BarSeries
from omega.engine import trace as ev
from omega.engine.execution import finer_hit, range_hit
from omega.engine.fees import Money
from omega.engine.market import build_market, init_strategy
from omega.engine.portfolio import PARTIAL, Portfolio
from omega.engine.raw import RawRun, SkippedOrder
from omega.engine.settings import (
    EngineSettings,
    IntrabarPolicy,
    SizingMode,
    SlippageModel,
    StopUnit,
)
from omega.engine.sizing import order_lots
from omega.engine.slippage import Slippage
from omega.errors import ConfigError, EmptyDataError, StrategyError
from omega.indicators import IndicatorCache, IndicatorSpec
from omega.strategy.base import Strategy
from omega.strategy.data_slice import DataSlice, compact
from omega.strategy.position import Position
from omega.strategy.signals import (
    Close,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    PartialClose,
    PositionAction,
    TradeSignal,
    TrailStop,
)

PROGRESS_EVERY = 4096
STRATEGY = "strategy"
MAX_BARS = "max_bars"
END_OF_DATA = "end_of_data"
PARTIAL_BELOW_LOT_STEP = "partial_below_lot_step"

Progress = Callable[[int, int], object]


def check_settings(settings: EngineSettings) -> None:
    """Settings the frozen dataclass cannot check itself (ConfigError names the key)."""
    if settings.intrabar_policy not in get_args(IntrabarPolicy):
        raise ConfigError(f"execution.intrabar_policy: unknown policy {settings.intrabar_policy!r}")
    if settings.slippage.model not in get_args(SlippageModel):
        raise ConfigError(f"execution.slippage.model: unknown model {settings.slippage.model!r}")
    if settings.sizing.mode not in get_args(SizingMode):
        raise ConfigError(f"execution.sizing.mode: unknown mode {settings.sizing.mode!r}")
    units = get_args(StopUnit)
    if settings.break_even is not None and settings.break_even.unit not in units:
        raise ConfigError(f"execution.break_even.unit: unknown unit {settings.break_even.unit!r}")
    if settings.trailing is not None and settings.trailing.unit not in units:
        raise ConfigError(f"execution.trailing.unit: unknown unit {settings.trailing.unit!r}")
    period = settings.stop_atr_period
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ConfigError(f"execution.stop_atr_period: must be an int >= 1, got {period!r}")


def stop_atr_needed(settings: EngineSettings) -> bool:
    """Whether break-even or trailing is in ATR units (the ATR series is computed then)."""
    be, trail = settings.break_even, settings.trailing
    return (be is not None and be.unit == "atr") or (trail is not None and trail.unit == "atr")


def _strategy_failure(strategy: Strategy, i: int, time: int, exc: Exception) -> StrategyError:
    when = np.datetime64(time, "ns").astype("datetime64[s]")
    return StrategyError(
        f"strategy {strategy.name or type(strategy).__name__} failed at primary bar {i} "
        f"({when}Z): {type(exc).__name__}: {exc}"
    )


def run_python(
    bars: BarSeries,
    strategy: Strategy,
    settings: EngineSettings,
    *,
    trace: bool = False,
    progress: Progress | None = None,
) -> RawRun:
    """Backtest ``strategy`` on ``bars`` (the base series) with the reference engine."""
    if len(bars) == 0:
        raise EmptyDataError("no bars to backtest", file=bars.source)
    check_settings(settings)
    instrument = settings.instrument
    money = Money(instrument, settings.account_currency, settings.fees)
    primary = settings.primary_timeframe
    ctx = init_strategy(strategy, settings)
    cache = IndicatorCache()
    market = build_market(bars, settings, ctx.declared, cache, ctx.read_timeframes)
    primary_bars = market.series[primary]
    n = len(primary_bars)
    time, bo, bh, bl, bc, ao, ah, al, ac, _ = market.primary_columns

    pip = instrument.pip_size
    step = instrument.lot_step
    cs = instrument.contract_size
    atr = None
    if settings.slippage.model == "atr":
        atr_spec = IndicatorSpec.of("atr", period=settings.slippage.atr_period)
        atr = compact(cache.get(primary_bars, "bid", atr_spec))
    slippage = Slippage(settings.slippage, pip, atr)

    # finer policy: the base bars inside each primary bar, per side
    policy = settings.intrabar_policy
    use_finer = policy == "finer" and primary != bars.timeframe
    if use_finer:
        base_time = bars.time
        finer_start = compact(np.searchsorted(base_time, primary_bars.time, "left"))
        finer_stop = compact(np.searchsorted(base_time, primary_bars.time + primary.nanos, "left"))
        finer_time = compact(base_time)
        finer_side = {
            1: (compact(bars.bid_open), compact(bars.bid_high), compact(bars.bid_low)),
            -1: (compact(bars.ask_open), compact(bars.ask_high), compact(bars.ask_low)),
        }

    # break-even and trailing: distances in units of the pip, or of ATR(stop_atr_period)
    # at the current close (primary, bid) for unit "atr"
    be = settings.break_even
    trail = settings.trailing
    stop_atr = None
    if stop_atr_needed(settings):
        stop_atr_spec = IndicatorSpec.of("atr", period=settings.stop_atr_period)
        stop_atr = compact(cache.get(primary_bars, "bid", stop_atr_spec))
    be_atr = be is not None and be.unit == "atr"
    trail_atr = trail is not None and trail.unit == "atr"
    default_max_bars = settings.max_bars_held or None

    portfolio = Portfolio(settings.initial_balance, money)
    data = DataSlice(market)
    recorder = ev.DecisionTrace() if trace else None
    evaluate = strategy.evaluate
    manage = strategy.manage_position

    equity = compact(np.zeros(n))
    skipped: list[SkippedOrder] = []
    ignored = 0
    view: Position | None = None
    # pending orders decided at the previous close
    exit_reason: str | None = None  # "strategy" or "max_bars"
    exit_fraction: float | None = None  # None: full close
    entry: TradeSignal | None = None

    for i in range(n):
        t = time[i]
        values = recorder.begin() if recorder is not None else None

        # 1. fills at the open: exit first, then entry
        if exit_reason is not None:
            pos = portfolio.position
            assert pos is not None
            lots = pos.size
            reason = exit_reason
            if exit_fraction is not None:
                q = math.floor(pos.size * exit_fraction / step) * step
                if q >= pos.size:
                    reason = STRATEGY
                else:
                    lots = q
                    reason = PARTIAL
            exit_reason = None
            if lots <= 0.0:
                skipped.append(SkippedOrder(t, PARTIAL_BELOW_LOT_STEP))
            else:
                slip = slippage.draw(i)
                price = bo[i] - slip if pos.side == 1 else ao[i] + slip
                portfolio.close(lots, price, reason, t, i)
                if portfolio.position is None:
                    view = None
        if entry is not None:
            signal = entry
            entry = None
            long = signal.direction == 1
            slip = slippage.peek(i)
            fill = ao[i] + slip if long else bo[i] - slip
            sl = signal.stop_loss
            if sl is None and signal.stop_loss_distance is not None:
                sl = fill - signal.stop_loss_distance if long else fill + signal.stop_loss_distance
            tp = signal.take_profit
            if tp is None and signal.take_profit_distance is not None:
                d = signal.take_profit_distance
                tp = fill + d if long else fill - d
            lots, skip_reason = order_lots(
                signal,
                settings.sizing,
                balance=portfolio.balance,
                fill=fill,
                sl=sl,
                contract_size=cs,
                lot_step=step,
                min_lot=instrument.min_lot,
                to_account=money.to_account,
            )
            if skip_reason is not None:
                skipped.append(SkippedOrder(t, skip_reason, signal.tag))
            else:
                slippage.commit()
                pos = portfolio.open(
                    signal.direction, t, i, fill, lots, sl, tp, signal.max_bars, signal.tag
                )
                view = Position(pos)

        # 2. the position meets the bar's range
        pos = portfolio.position
        if pos is not None:
            side = pos.side
            if side == 1:
                hit, both = range_hit(1, pos.sl, pos.tp, bo[i], bh[i], bl[i], policy)
            else:
                hit, both = range_hit(-1, pos.sl, pos.tp, ao[i], ah[i], al[i], policy)
            exit_time = t
            if both and use_finer:
                opens, highs, lows = finer_side[side]
                found = finer_hit(
                    side, pos.sl, pos.tp, opens, highs, lows, finer_start[i], finer_stop[i]
                )
                if found is not None:
                    hit, k = found
                    exit_time = finer_time[k]
            if hit is not None:
                reason, level, slipped = hit
                price = level
                if slipped:
                    slip = slippage.draw(i)
                    price = level - slip if side == 1 else level + slip
                portfolio.close(pos.size, price, reason, exit_time, i)
                view = None

        # 3. management at the close
        unrealized = 0.0
        pos = portfolio.position
        if pos is not None:
            long = pos.side == 1
            entry_price = pos.entry_price
            pos.bars_held = pos.bars_held + 1
            fav = bh[i] - entry_price if long else entry_price - al[i]
            if fav > pos.mfe:
                pos.mfe = fav
            if be is not None and not pos.break_even_done:
                scale = stop_atr[i] if be_atr else pip  # type: ignore[index]
                # a NaN scale (ATR warm-up) compares False: no fire, not marked done
                trigger = be.trigger * scale
                if long and bc[i] - entry_price >= trigger:
                    new = entry_price + be.offset * scale
                    if pos.sl is None or new > pos.sl:
                        pos.sl = new
                    pos.break_even_done = True
                elif not long and entry_price - ac[i] >= trigger:
                    new = entry_price - be.offset * scale
                    if pos.sl is None or new < pos.sl:
                        pos.sl = new
                    pos.break_even_done = True
                if pos.break_even_done and recorder is not None:
                    recorder.event(ev.BREAK_EVEN)
            if trail is not None:
                distance = trail.distance * (stop_atr[i] if trail_atr else pip)  # type: ignore[index]
                if distance == distance:  # NaN (ATR warm-up): skipped
                    if long:
                        cand = bc[i] - distance
                        if pos.sl is None or cand > pos.sl:
                            pos.sl = cand
                    else:
                        cand = ac[i] + distance
                        if pos.sl is None or cand < pos.sl:
                            pos.sl = cand
            unrealized = portfolio.unrealized(bc[i], ac[i])
            pos.unrealized_pnl = unrealized
            limit = pos.max_bars if pos.max_bars is not None else default_max_bars
            if limit is not None and pos.bars_held >= limit:
                exit_reason, exit_fraction = MAX_BARS, None
                if recorder is not None:
                    recorder.event(ev.EXIT_QUEUED)
            else:
                data._move(i, view, values)
                try:
                    action = manage(view, data)  # type: ignore[arg-type]
                except Exception as exc:
                    raise _strategy_failure(strategy, i, t, exc) from exc
                if action is not None:
                    actions = _as_actions(action)
                    if actions is None:
                        raise _strategy_failure(
                            strategy, i, t, TypeError(f"manage_position returned {action!r}")
                        )
                    for act in actions:
                        if isinstance(act, Close):
                            exit_reason, exit_fraction = STRATEGY, None
                            event = ev.EXIT_QUEUED
                        elif isinstance(act, PartialClose):
                            if exit_reason is not None and exit_fraction is None:
                                continue  # a full exit is queued: ignored, no event
                            exit_reason, exit_fraction = STRATEGY, act.fraction
                            event = ev.PARTIAL_QUEUED
                        else:
                            try:
                                event = _apply_stop_action(act, pos, bc[i], ac[i], pip, data)
                            except (StrategyError, TypeError) as exc:
                                raise _strategy_failure(strategy, i, t, exc) from exc
                            if event is None:
                                continue  # skipped (NaN distance) or the stop did not move
                        if recorder is not None:
                            recorder.event(event)

        # 4. evaluation at the close
        data._move(i, view, values)
        try:
            decided = evaluate(data)
        except Exception as exc:
            raise _strategy_failure(strategy, i, t, exc) from exc
        if decided is not None:
            if not isinstance(decided, TradeSignal):
                raise _strategy_failure(
                    strategy, i, t, TypeError(f"evaluate returned {decided!r}, not a TradeSignal")
                )
            if portfolio.position is None or (exit_reason is not None and exit_fraction is None):
                entry = decided
                if recorder is not None:
                    recorder.event(ev.SIGNAL_LONG if decided.direction == 1 else ev.SIGNAL_SHORT)
            else:
                ignored += 1
                if recorder is not None:
                    recorder.event(ev.IGNORED_SIGNAL)

        # 5. equity at the close
        equity[i] = portfolio.balance + unrealized
        if recorder is not None:
            recorder.end(i, t)
        if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
            progress(i + 1, n)

    # 6. after the last bar
    last = n - 1
    pos = portfolio.position
    if pos is not None:
        price = bc[last] if pos.side == 1 else ac[last]
        portfolio.close(pos.size, price, END_OF_DATA, time[last] + primary.nanos, last)
    equity[last] = portfolio.balance
    dropped = (exit_reason is not None) + (entry is not None)
    if progress is not None:
        progress(n, n)

    return RawRun(
        trades=portfolio.trade_columns(),
        equity_time=np.frombuffer(time, dtype=np.int64).copy(),
        equity=np.frombuffer(equity, dtype=np.float64).copy(),
        final_balance=portfolio.balance,
        bars_processed=n,
        base_bars=len(bars),
        ignored_signals=ignored,
        dropped_orders=int(dropped),
        skipped_orders=skipped,
        trace=recorder.rows if recorder is not None else None,
    )


def _as_actions(returned: object) -> Sequence[PositionAction] | None:
    """What ``manage_position`` returned as a sequence of actions (None: not actions)."""
    if isinstance(returned, PositionAction):
        return (returned,)
    if (
        isinstance(returned, Sequence)
        and not isinstance(returned, str | bytes)
        and all(isinstance(a, PositionAction) for a in returned)
    ):
        return returned
    return None


def distance(value: float, unit: str, atr: int | None, pip: float, data: DataSlice) -> float:
    """A distance in price units: ``value`` pips, price units, or multiples of the declared
    indicator ``atr`` at this close (NaN during its warm-up)."""
    if unit == "pips":
        return value * pip
    if unit == "price":
        return value
    return value * data.value(atr)  # type: ignore[arg-type]


def _apply_stop_action(
    action: PositionAction, pos, bid_close: float, ask_close: float, pip: float, data: DataSlice
) -> str | None:
    """Apply an action that moves a level at once; its trace event (None: no event)."""
    if isinstance(action, ModifyStopLoss):
        pos.sl = action.price
        return ev.MODIFY_SL
    if isinstance(action, ModifyTakeProfit):
        pos.tp = action.price
        return ev.MODIFY_TP
    if isinstance(action, MoveToBreakEven):
        offset = distance(action.offset, action.unit, action.atr, pip, data)
        if offset != offset:
            return None
        pos.sl = pos.entry_price + offset if pos.side == 1 else pos.entry_price - offset
        return ev.BREAK_EVEN
    if isinstance(action, TrailStop):
        d = distance(action.distance, action.unit, action.atr, pip, data)
        if d != d:
            return None
        if pos.side == 1:
            cand = bid_close - d
            if pos.sl is not None and not cand > pos.sl:
                return None
        else:
            cand = ask_close + d
            if pos.sl is not None and not cand < pos.sl:
                return None
        pos.sl = cand
        return ev.TRAIL_STOP
    raise TypeError(f"manage_position returned {action!r}")

"""`run_python`: the reference event loop, one primary bar at a time, exactly as
docs/engine/execution.md orders it. Plain Python floats throughout (no numpy in the loop), so
every operation is one IEEE double operation, the same as the Rust engine's."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import get_args

import numpy as np

from omega.data.bars import BarSeries
from omega.engine import trace as ev
from omega.engine.calendar import Sessions, SwapClock, zone
from omega.engine.execution import Hit, finer_hit, order_trigger, range_hit
from omega.engine.fees import Money
from omega.engine.market import build_market, init_strategy
from omega.engine.portfolio import PARTIAL, OpenPosition, Portfolio
from omega.engine.raw import RawRun, SkippedOrder
from omega.engine.settings import (
    CrossSettings,
    EndOfData,
    EngineSettings,
    IntrabarPolicy,
    SizingMode,
    SlippageModel,
    StopUnit,
    SwapUnit,
)
from omega.engine.sizing import order_lots
from omega.engine.slippage import Slippage
from omega.errors import ConfigError, EmptyDataError, StrategyError
from omega.indicators import IndicatorCache, IndicatorSpec
from omega.strategy.base import Strategy
from omega.strategy.data_slice import DataSlice, compact
from omega.strategy.position import Position
from omega.strategy.signals import (
    CancelOrder,
    Close,
    ModifyOrder,
    ModifyStopLoss,
    ModifyTakeProfit,
    MoveToBreakEven,
    OrderAction,
    PartialClose,
    PositionAction,
    TradeSignal,
    TrailStop,
    WorkingOrder,
)

PROGRESS_EVERY = 4096
STRATEGY = "strategy"
MAX_BARS = "max_bars"
END_OF_DATA = "end_of_data"
STOP_OUT = "stop_out"
PARTIAL_BELOW_LOT_STEP = "partial_below_lot_step"
INSUFFICIENT_MARGIN = "insufficient_margin"
EXPIRED = "expired"
CANCELLED = "cancelled"

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
    if settings.end_of_data not in get_args(EndOfData):
        raise ConfigError(f"execution.end_of_data: unknown policy {settings.end_of_data!r}")
    _check_account(settings)


def _check_account(settings: EngineSettings) -> None:
    """The swap, margin, conversion, session and blackout settings (ConfigError names the
    key), as the Rust engine's `EngineSettings::validate` checks them."""
    swap = settings.swap
    if swap is not None:
        if not (math.isfinite(swap.long) and math.isfinite(swap.short)):
            raise ConfigError("swap.long and swap.short must be finite")
        if swap.unit not in get_args(SwapUnit):
            raise ConfigError(f"swap.unit: unknown unit {swap.unit!r}")
        zone(swap.timezone, "swap.timezone")
        if not (0 <= swap.rollover_minute < 24 * 60 and 0 <= swap.triple_weekday <= 6):
            raise ConfigError("swap: rollover time or triple weekday out of range")
    margin = settings.margin
    if margin is not None:
        levels = (margin.margin_rate, margin.margin_call_level, margin.stop_out_level)
        if not all(math.isfinite(v) and v > 0.0 for v in levels):
            raise ConfigError("margin: rate and levels must be finite and > 0")
    session = settings.session
    if session is not None:
        zone(session.timezone, "session.timezone")
        if not (0 <= session.start_minute < 24 * 60 and 0 <= session.end_minute <= 24 * 60):
            raise ConfigError("session: start or end out of range")
        if any(not 0 <= day <= 6 for day in session.weekdays):
            raise ConfigError(
                f"session.weekdays: not weekdays (0 = Monday .. 6): {session.weekdays}"
            )
    for start, end in settings.blackouts:
        if start >= end:
            raise ConfigError(f"blackouts: a window must end after it starts ({start} >= {end})")
    cross = settings.cross
    if cross is not None:
        if cross.fixed_rate is not None:
            if not (math.isfinite(cross.fixed_rate) and cross.fixed_rate > 0.0):
                raise ConfigError(
                    f"account.conversion.rate must be finite and > 0, got {cross.fixed_rate}"
                )
        elif cross.times is None or len(cross.times) == 0 or len(cross.times) != len(cross.closes):
            raise ConfigError(
                f"account.conversion: the {cross.symbol} series is empty or its columns "
                "differ in length"
            )
        else:
            bad = ~(np.isfinite(cross.closes) & (cross.closes > 0.0))
            if bad.any():
                raise ConfigError(
                    f"account.conversion: {cross.symbol} close at row {int(np.argmax(bad))} "
                    "is not a finite price > 0"
                )


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
    loop = _Loop(bars, strategy, settings, trace)
    n = loop.n
    for i in range(n):
        loop.step(i)
        if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
            progress(i + 1, n)
    raw = loop.finish()
    if progress is not None:
        progress(n, n)
    return raw


class _Loop:
    """A run between two primary bars: the account, the queued orders, the equity so far.
    One method per numbered step of docs/engine/execution.md, mirrored by the Rust
    engine's `Stepper` (crates/engine/src/run.rs) method for method."""

    def __init__(
        self, bars: BarSeries, strategy: Strategy, settings: EngineSettings, trace: bool
    ) -> None:
        instrument = settings.instrument
        self.bars = bars
        self.strategy = strategy
        self.settings = settings
        self.money = Money(instrument, settings.account_currency, settings.fees, settings.cross)
        self.primary = primary = settings.primary_timeframe
        ctx = init_strategy(strategy, settings)
        cache = IndicatorCache()
        market = build_market(bars, settings, ctx.declared, cache, ctx.read_timeframes)
        primary_bars = market.series[primary]
        self.n = n = len(primary_bars)
        (
            self.time,
            self.bo,
            self.bh,
            self.bl,
            self.bc,
            self.ao,
            self.ah,
            self.al,
            self.ac,
            _,
        ) = market.primary_columns
        self.pip = instrument.pip_size
        self.step_lots = instrument.lot_step
        self.cs = instrument.contract_size
        atr = None
        if settings.slippage.model == "atr":
            atr_spec = IndicatorSpec.of("atr", period=settings.slippage.atr_period)
            atr = compact(cache.get(primary_bars, "bid", atr_spec))
        self.slippage = Slippage(settings.slippage, self.pip, atr)

        # finer policy: the base bars inside each primary bar, per side
        self.policy = settings.intrabar_policy
        self.use_finer = self.policy == "finer" and primary != bars.timeframe
        if self.use_finer:
            base_time = bars.time
            self.finer_start = compact(np.searchsorted(base_time, primary_bars.time, "left"))
            self.finer_stop = compact(
                np.searchsorted(base_time, primary_bars.time + primary.nanos, "left")
            )
            self.finer_time = compact(base_time)
            self.finer_side = {
                1: (compact(bars.bid_open), compact(bars.bid_high), compact(bars.bid_low)),
                -1: (compact(bars.ask_open), compact(bars.ask_high), compact(bars.ask_low)),
            }

        # break-even and trailing: distances in units of the pip, or of ATR(stop_atr_period)
        # at the current close (primary, bid) for unit "atr"
        self.stop_atr = None
        if stop_atr_needed(settings):
            stop_atr_spec = IndicatorSpec.of("atr", period=settings.stop_atr_period)
            self.stop_atr = compact(cache.get(primary_bars, "bid", stop_atr_spec))
        self.default_max_bars = settings.max_bars_held or None

        self.portfolio = Portfolio(settings.initial_balance, self.money)
        self.data = DataSlice(market)
        self.recorder = ev.DecisionTrace() if trace else None
        self.equity = compact(np.zeros(n))
        self.skipped: list[SkippedOrder] = []
        self.ignored = 0
        self.view: Position | None = None
        # orders decided at the previous close
        self.exit_reason: str | None = None  # "strategy" or "max_bars"
        self.exit_fraction: float | None = None  # None: full close
        self.entry: TradeSignal | None = None
        # a pending (limit or stop) entry while it works, and the view manage_order sees
        self.working: TradeSignal | None = None
        self.working_view: WorkingOrder | None = None
        self.values: dict | None = None
        # the FX account: swap, margin, a cross's conversion rates, sessions
        self.point = instrument.point
        self.swap = SwapClock(settings.swap) if settings.swap is not None else None
        self.margin = settings.margin
        self.cross = settings.cross
        self.cross_cursor = 0
        self.sessions = (
            Sessions(settings.session, settings.blackouts)
            if settings.session is not None or settings.blackouts
            else None
        )
        self.in_session = True
        # a basket member: the P&L and margin of the account's other positions at their
        # marks (0.0 in a single-instrument run), for sizing and the free-margin check
        self.others_unrealized = 0.0
        self.others_margin = 0.0

    def step(self, i: int) -> None:
        """Primary bar ``i``, in the order of docs/engine/execution.md. A basket member runs
        the same phases, with the account's margin steps between them (`basket.py`)."""
        # 0. the bar's conversion rate and session; swap for the rollovers since the last bar
        # 1. fills at the open: exit first, a stop-out at the open, then entry
        self.open_phase(i)
        self.stop_out_at_open(i)
        self.entry_phase(i)
        # 2. the position meets the bar's range; then a working pending entry does; then the
        # margin the position holds meets the bar's worst price
        self.range_phase(i)
        self.stop_out_in_range(i)
        # 3. management at the close; 4. evaluation at the close
        unrealized = self.manage_phase(i)
        self.evaluate_at_close(i)
        # 5. equity at the close (steps 3 and 4 only queue orders); the margin-call warning
        self.warn_margin(unrealized)
        self.mark_close(i, self.portfolio.balance + unrealized)

    def open_phase(self, i: int) -> None:
        """Steps 0 and 1 up to the stop-out: the bar's clock, then the exit queued at the
        last close fills at this open."""
        self.values = self.recorder.begin() if self.recorder is not None else None
        self.begin_bar(i)
        self.fill_exit_at_open(i)

    def entry_phase(self, i: int) -> None:
        """Step 1 after the stop-out: the entry queued at the last close fills."""
        self.fill_entry_at_open(i)

    def range_phase(self, i: int) -> None:
        """Step 2 up to the stop-out: the position meets the range, then a working order."""
        self.meet_range(i)
        self.work_pending_order(i)

    def manage_phase(self, i: int) -> float:
        """Step 3 (step 4, ``evaluate_at_close``, follows); returns the position's P&L
        marked at the close (0.0 when flat)."""
        unrealized = self.portfolio.unrealized(self.bc[i], self.ac[i])
        self.manage_at_close(i, unrealized)
        self.manage_order_at_close(i)
        return unrealized

    def begin_bar(self, i: int) -> None:
        """Step 0: the bar's conversion rate (a cross) and session flag, then the swap of
        the rollovers since the previous bar's open, charged to a position held over them."""
        t = self.time[i]
        cross = self.cross
        if cross is not None:
            self.money.cross_rate = self._cross_rate(cross, t)
        if self.sessions is not None:
            self.in_session = self.sessions.refusal(t) is None
            self.data._in_session = self.in_session
        if self.swap is not None:
            nights = self.swap.nights_until(t, i == 0)
            if nights > 0:
                self.charge_swap(i, nights)

    def _cross_rate(self, cross: CrossSettings, t: int) -> float:
        if cross.fixed_rate is not None:
            return cross.fixed_rate
        times = cross.times
        k = self.cross_cursor
        while k + 1 < len(times) and times[k + 1] <= t:
            k += 1
        self.cross_cursor = k
        if len(times) == 0:
            raise ConfigError(f"account.conversion: no {cross.symbol} bars to convert with")
        # Before the conversion's first bar only when that opens within this bar (data
        # starting inside a primary bar): its first rate.
        if times[0] >= t + self.primary.nanos:
            raise ConfigError(
                f"account.conversion: no {cross.symbol} rate at or before the bar opening at "
                f"{utc_text(t)} ({t} UTC ns): the {cross.symbol} bars start at "
                f"{utc_text(int(times[0]))}"
            )
        return float(cross.closes[k])

    def charge_swap(self, i: int, nights: int) -> None:
        """The swap of ``nights`` for the open position (if any), converted at this bar's
        open on the position's side."""
        pos = self.portfolio.position
        if pos is None:
            return
        swap = self.settings.swap
        assert swap is not None
        if pos.side == 1:
            rate, price = swap.long, self.bo[i]
        else:
            rate, price = swap.short, self.ao[i]
        if swap.unit == "points":
            per_night = rate * self.point * self.cs * pos.size
        else:
            per_night = price * self.cs * pos.size * (rate / 100.0) / 365.0
        amount = self.money.to_account(per_night * float(nights), price)
        self.portfolio.charge_swap(amount)
        if self.recorder is not None:
            self.recorder.event(ev.SWAP)

    def margin_level(self, price: float) -> float | None:
        """The margin level (percent) of the open position with its P&L marked at
        ``price``."""
        pos = self.portfolio.position
        if pos is None or self.margin is None:
            return None
        portfolio = self.portfolio
        gross = self.money.gross(pos.side, pos.entry_price, price, pos.size)
        return (portfolio.balance + gross) / portfolio.margin * 100.0

    def stop_out_at_open(self, i: int) -> None:
        """Step 1, stop-out at the open: a position whose margin level at this open is below
        the stop-out level closes at the open."""
        self._stop_out(i, self.bo[i], self.ao[i])

    def stop_out_in_range(self, i: int) -> None:
        """Step 2, stop-out in the range: at the bar's worst price for the position (bid low
        for a long, ask high for a short), closed at that price."""
        self._stop_out(i, self.bl[i], self.ah[i])

    def _stop_out(self, i: int, long_price: float, short_price: float) -> None:
        """Closes the open position at its side's price (reason ``stop_out``, slipped as a
        stop) when its margin level there is below the stop-out level."""
        pos = self.portfolio.position
        if self.margin is None or pos is None:
            return
        price = long_price if pos.side == 1 else short_price
        level = self.margin_level(price)
        if level is not None and level < self.margin.stop_out_level:
            self.exit_on_hit(i, (STOP_OUT, price, True), self.time[i])

    def warn_margin(self, unrealized: float) -> None:
        """Step 5: the margin-call warning while the margin level at the close is below the
        warning level."""
        if self.margin is None or self.portfolio.position is None:
            return
        portfolio = self.portfolio
        level = (portfolio.balance + unrealized) / portfolio.margin * 100.0
        if level < self.margin.margin_call_level and self.recorder is not None:
            self.recorder.event(ev.MARGIN_CALL)

    def entry_refusal(self, t: int, lots: float, fill: float) -> tuple[str | None, float]:
        """Why an entry of ``lots`` filled at ``fill`` at a bar opening at ``t`` is refused
        by the session, the blackouts or the margin (None: it may open), and its margin."""
        if self.sessions is not None:
            reason = self.sessions.refusal(t)
            if reason is not None:
                return reason, 0.0
        if self.margin is None:
            return None, 0.0
        required = self.money.to_account(lots * self.cs * fill * self.margin.margin_rate, fill)
        # free margin: the balance alone in a single run (it holds no other position)
        free = self.portfolio.balance + self.others_unrealized - self.others_margin
        if required > free:
            return INSUFFICIENT_MARGIN, 0.0
        return None, required

    def fill_exit_at_open(self, i: int) -> None:
        """Step 1, the exit: an exit queued at the last close fills at this open."""
        if self.exit_reason is None:
            return
        portfolio = self.portfolio
        pos = portfolio.position
        assert pos is not None
        lots = pos.size
        reason = self.exit_reason
        if self.exit_fraction is not None:
            q = math.floor(pos.size * self.exit_fraction / self.step_lots) * self.step_lots
            if q >= pos.size:
                reason = STRATEGY
            else:
                lots = q
                reason = PARTIAL
        self.exit_reason = None
        t = self.time[i]
        if lots <= 0.0:
            self.skipped.append(SkippedOrder(t, PARTIAL_BELOW_LOT_STEP))
            return
        slip = self.slippage.draw(i)
        price = self.bo[i] - slip if pos.side == 1 else self.ao[i] + slip
        portfolio.close(lots, price, reason, t, i)
        if portfolio.position is None:
            self.view = None

    def fill_entry_at_open(self, i: int) -> None:
        """Step 1, the entry: a signal of the last close fills at this open, sized at the
        fill."""
        signal = self.entry
        if signal is None:
            return
        self.entry = None
        slip = self.slippage.peek(i)
        fill = self.ao[i] + slip if signal.direction == 1 else self.bo[i] - slip
        if self.open_filled(signal, i, self.time[i], fill):
            self.slippage.commit()

    def open_filled(self, signal: TradeSignal, i: int, t: int, fill: float) -> bool:
        """Opens the position of ``signal`` filled at ``fill`` (levels from the fill, sized
        at the fill), or records why the order is skipped; whether it opened."""
        long = signal.direction == 1
        sl = signal.stop_loss
        if sl is None and signal.stop_loss_distance is not None:
            sl = fill - signal.stop_loss_distance if long else fill + signal.stop_loss_distance
        tp = signal.take_profit
        if tp is None and signal.take_profit_distance is not None:
            d = signal.take_profit_distance
            tp = fill + d if long else fill - d
        lots, skip_reason = order_lots(
            signal,
            self.settings.sizing,
            # the account's equity but this position's (the balance alone in a single run)
            balance=self.portfolio.balance + self.others_unrealized,
            fill=fill,
            sl=sl,
            contract_size=self.cs,
            lot_step=self.step_lots,
            min_lot=self.settings.instrument.min_lot,
            to_account=self.money.to_account,
        )
        margin = 0.0
        if skip_reason is None:
            skip_reason, margin = self.entry_refusal(t, lots, fill)
        if skip_reason is not None:
            self.skipped.append(SkippedOrder(t, skip_reason, signal.tag))
            return False
        pos = self.portfolio.open(
            signal.direction, t, i, fill, lots, sl, tp, signal.max_bars, signal.tag
        )
        self.portfolio.margin = margin
        self.view = Position(pos, self.settings.instrument_id)
        return True

    def meet_range(self, i: int) -> None:
        """Step 2: the open position (including one opened at this open) meets the bar's
        range."""
        pos = self.portfolio.position
        if pos is None:
            return
        side = pos.side
        if side == 1:
            hit, both = range_hit(
                1, pos.sl, pos.tp, self.bo[i], self.bh[i], self.bl[i], self.policy
            )
        else:
            hit, both = range_hit(
                -1, pos.sl, pos.tp, self.ao[i], self.ah[i], self.al[i], self.policy
            )
        exit_time = self.time[i]
        if both and self.use_finer:
            opens, highs, lows = self.finer_side[side]
            found = finer_hit(
                side, pos.sl, pos.tp, opens, highs, lows, self.finer_start[i], self.finer_stop[i]
            )
            if found is not None:
                hit, k = found
                exit_time = self.finer_time[k]
        if hit is not None:
            self.exit_on_hit(i, hit, exit_time)

    def exit_on_hit(self, i: int, hit: Hit, exit_time: int) -> None:
        """Closes the whole position on a range ``hit`` (a stop-loss slips, a take-profit
        does not)."""
        pos = self.portfolio.position
        assert pos is not None
        reason, level, slipped = hit
        price = level
        if slipped:
            slip = self.slippage.draw(i)
            price = level - slip if pos.side == 1 else level + slip
        self.portfolio.close(pos.size, price, reason, exit_time, i)
        self.view = None

    def work_pending_order(self, i: int) -> None:
        """Step 2, pending entries: a working limit or stop entry (there is one only while
        the account is flat) expires, or fills when this bar's range reaches its price; a
        filled order's position then meets the rest of the bar."""
        order = self.working
        if order is None or self.portfolio.position is not None:
            return
        t = self.time[i]
        if order.expires_at is not None and t >= order.expires_at:
            self.expire_order(t)
            return
        direction, kind, price = order.direction, order.order, order.price
        trigger = None
        finer_bar = None
        if self.use_finer:
            # the first finer bar that reaches the price fills the order
            opens, highs, lows = self.finer_side[-direction]
            sessions = self.sessions
            for k in range(self.finer_start[i], self.finer_stop[i]):
                if sessions is not None and sessions.refusal(self.finer_time[k]) is not None:
                    continue  # no fill outside the session: the order keeps working
                trigger = order_trigger(direction, kind, price, opens[k], highs[k], lows[k])
                if trigger is not None:
                    finer_bar = k
                    break
        elif not self.in_session:
            pass
        elif direction == 1:
            trigger = order_trigger(1, kind, price, self.ao[i], self.ah[i], self.al[i])
        else:
            trigger = order_trigger(-1, kind, price, self.bo[i], self.bh[i], self.bl[i])
        if trigger is None:
            view = self.working_view
            assert view is not None
            if view.bars_left is not None:
                view.bars_left = view.bars_left - 1
                if view.bars_left == 0:
                    self.expire_order(t)
            return
        level, gapped = trigger
        self.working = self.working_view = None
        entry_time = self.finer_time[finer_bar] if finer_bar is not None else t
        # a stop entry becomes a market order when triggered: it slips; a limit does not
        stop = kind == "stop"
        slip = self.slippage.peek(i) if stop else 0.0
        fill = level + slip if direction == 1 else level - slip
        if self.open_filled(order, i, entry_time, fill):
            if stop:
                self.slippage.commit()
            self.meet_range_after_fill(i, finer_bar, gapped)

    def meet_range_after_fill(self, i: int, finer_bar: int | None, gapped: bool) -> None:
        """The position a pending entry opened inside bar ``i`` meets the rest of the bar:
        the gap rows only if it filled at the open (``gapped``), then touches under the
        intrabar policy; with the finer policy, from the finer bar that filled it onward."""
        pos = self.portfolio.position
        assert pos is not None
        side, sl, tp = pos.side, pos.sl, pos.tp
        hit = None
        exit_time = self.time[i]
        if finer_bar is not None:
            opens, highs, lows = self.finer_side[side]
            for k in range(finer_bar, self.finer_stop[i]):
                gaps = k != finer_bar or gapped
                hit, _ = range_hit(side, sl, tp, opens[k], highs[k], lows[k], "pessimistic", gaps)
                if hit is not None:
                    exit_time = self.finer_time[k]
                    break
        elif side == 1:
            hit, _ = range_hit(1, sl, tp, self.bo[i], self.bh[i], self.bl[i], self.policy, gapped)
        else:
            hit, _ = range_hit(-1, sl, tp, self.ao[i], self.ah[i], self.al[i], self.policy, gapped)
        if hit is not None:
            self.exit_on_hit(i, hit, exit_time)

    def expire_order(self, t: int) -> None:
        """Drops the working order as expired (recorded in ``skipped_orders``)."""
        order = self.working
        assert order is not None
        self.working = self.working_view = None
        self.skipped.append(SkippedOrder(t, EXPIRED, order.tag))
        if self.recorder is not None:
            self.recorder.event(ev.ORDER_EXPIRED)

    def manage_order_at_close(self, i: int) -> None:
        """Step 3.7: ``manage_order`` for the working pending entry, its actions in order."""
        view = self.working_view
        if view is None:
            return
        strategy = self.strategy
        t = self.time[i]
        self.data._move(i, None, self.values)
        try:
            returned = strategy.manage_order(view, self.data)
        except Exception as exc:
            raise _strategy_failure(strategy, i, t, exc) from exc
        if returned is None:
            return
        actions = _as_actions(returned, OrderAction)
        if actions is None:
            raise _strategy_failure(
                strategy, i, t, TypeError(f"manage_order returned {returned!r}")
            )
        for act in actions:
            order = self.working
            if order is None:
                break  # cancelled by an earlier action
            if isinstance(act, CancelOrder):
                self.working = self.working_view = None
                self.skipped.append(SkippedOrder(t, CANCELLED, order.tag))
                event = ev.ORDER_CANCELLED
            else:
                assert isinstance(act, ModifyOrder)
                self.working = dataclasses.replace(order, price=act.price)
                view.price = act.price
                event = ev.ORDER_MODIFIED
            if self.recorder is not None:
                self.recorder.event(event)

    def manage_at_close(self, i: int, unrealized: float) -> None:
        """Step 3: the position still open after step 2: its counters, the configured
        break-even and trailing, the bar limit, then ``manage_position`` and its actions in
        order."""
        pos = self.portfolio.position
        if pos is None:
            return
        self.apply_configured_rules(i, pos, unrealized)
        recorder = self.recorder
        limit = pos.max_bars if pos.max_bars is not None else self.default_max_bars
        if limit is not None and pos.bars_held >= limit:
            self.exit_reason, self.exit_fraction = MAX_BARS, None
            if recorder is not None:
                recorder.event(ev.EXIT_QUEUED)
            return
        data = self.data
        strategy = self.strategy
        t = self.time[i]
        data._move(i, self.view, self.values)
        try:
            action = strategy.manage_position(self.view, data)  # type: ignore[arg-type]
        except Exception as exc:
            raise _strategy_failure(strategy, i, t, exc) from exc
        if action is None:
            return
        actions = _as_actions(action)
        if actions is None:
            raise _strategy_failure(
                strategy, i, t, TypeError(f"manage_position returned {action!r}")
            )
        for act in actions:
            if isinstance(act, Close):
                self.exit_reason, self.exit_fraction = STRATEGY, None
                event = ev.EXIT_QUEUED
            elif isinstance(act, PartialClose):
                if self.exit_reason is not None and self.exit_fraction is None:
                    continue  # a full exit is queued: ignored, no event
                self.exit_reason, self.exit_fraction = STRATEGY, act.fraction
                event = ev.PARTIAL_QUEUED
            else:
                try:
                    event = _apply_stop_action(act, pos, self.bc[i], self.ac[i], self.pip, data)
                except (StrategyError, TypeError) as exc:
                    raise _strategy_failure(strategy, i, t, exc) from exc
                if event is None:
                    continue  # skipped (NaN distance) or the stop did not move
            if recorder is not None:
                recorder.event(event)

    def apply_configured_rules(self, i: int, pos: OpenPosition, unrealized: float) -> None:
        """Steps 3.1 to 3.4: bars held, MFE, the configured break-even and trailing."""
        long = pos.side == 1
        entry_price = pos.entry_price
        pos.bars_held = pos.bars_held + 1
        fav = self.bh[i] - entry_price if long else entry_price - self.al[i]
        if fav > pos.mfe:
            pos.mfe = fav
        pos.unrealized_pnl = unrealized
        be = self.settings.break_even
        if be is not None and not pos.break_even_done:
            scale = self.stop_atr[i] if be.unit == "atr" else self.pip  # type: ignore[index]
            # a NaN scale (ATR warm-up) compares False: no fire, not marked done
            trigger = be.trigger * scale
            if long and self.bc[i] - entry_price >= trigger:
                new = entry_price + be.offset * scale
                if pos.sl is None or new > pos.sl:
                    pos.sl = new
                pos.break_even_done = True
            elif not long and entry_price - self.ac[i] >= trigger:
                new = entry_price - be.offset * scale
                if pos.sl is None or new < pos.sl:
                    pos.sl = new
                pos.break_even_done = True
            if pos.break_even_done and self.recorder is not None:
                self.recorder.event(ev.BREAK_EVEN)
        trail = self.settings.trailing
        if trail is not None:
            scale = self.stop_atr[i] if trail.unit == "atr" else self.pip  # type: ignore[index]
            distance = trail.distance * scale
            if distance == distance:  # NaN (ATR warm-up): skipped
                if long:
                    cand = self.bc[i] - distance
                    if pos.sl is None or cand > pos.sl:
                        pos.sl = cand
                else:
                    cand = self.ac[i] + distance
                    if pos.sl is None or cand < pos.sl:
                        pos.sl = cand

    def evaluate_at_close(self, i: int) -> None:
        """Step 4: ``evaluate`` at every close; its signal becomes the pending entry when the
        account is flat or a full exit is pending (a reversal), else it is ignored."""
        data = self.data
        strategy = self.strategy
        t = self.time[i]
        data._move(i, self.view, self.values)
        try:
            decided = strategy.evaluate(data)
        except Exception as exc:
            raise _strategy_failure(strategy, i, t, exc) from exc
        if decided is None:
            return
        if not isinstance(decided, TradeSignal):
            raise _strategy_failure(
                strategy, i, t, TypeError(f"evaluate returned {decided!r}, not a TradeSignal")
            )
        own = self.settings.instrument_id
        if decided.instrument is not None and decided.instrument != own:
            raise _strategy_failure(
                strategy,
                i,
                t,
                StrategyError(
                    f"signal at bar {i} is for instrument {decided.instrument}; this run trades "
                    f"instrument {own} (a strategy trades its slice's instrument: leave the "
                    "field unset)"
                ),
            )
        recorder = self.recorder
        if self.portfolio.position is None or (
            self.exit_reason is not None and self.exit_fraction is None
        ):
            # a new signal replaces a working order
            if self.working is not None:
                self.working = self.working_view = None
                if recorder is not None:
                    recorder.event(ev.ORDER_REPLACED)
            if recorder is not None:
                recorder.event(ev.SIGNAL_LONG if decided.direction == 1 else ev.SIGNAL_SHORT)
            if decided.order == "market":
                self.entry = decided
            else:
                self.working = decided
                self.working_view = WorkingOrder(decided, i)
                self.working_view.instrument = self.settings.instrument_id
        else:
            self.ignored += 1
            if recorder is not None:
                recorder.event(ev.IGNORED_SIGNAL)

    def mark_close(self, i: int, equity: float) -> None:
        """Step 5: the equity point of this close (a basket member records its position's
        P&L instead), and the bar's trace row."""
        self.equity[i] = equity
        if self.recorder is not None:
            self.recorder.end(i, self.time[i])

    def finish(self) -> RawRun:
        """Step 6, after the last bar: an open position closes at the last close; orders
        still queued are dropped."""
        final = self.close_at_end()
        self.equity[self.n - 1] = final
        return self.into_output(final)

    def close_at_end(self) -> float:
        """Step 6: the ``end_of_data`` policy for a position still open; the final equity
        (the balance, plus the P&L of a position left open)."""
        last = self.n - 1
        portfolio = self.portfolio
        pos = portfolio.position
        policy = self.settings.end_of_data
        if pos is not None and policy == "last_close":
            price = self.bc[last] if pos.side == 1 else self.ac[last]
            portfolio.close(
                pos.size, price, END_OF_DATA, self.time[last] + self.primary.nanos, last
            )
        elif pos is not None and policy == "last_open":
            price = self.bo[last] if pos.side == 1 else self.ao[last]
            portfolio.close(pos.size, price, END_OF_DATA, self.time[last], last)
        if portfolio.position is None:
            return portfolio.balance
        # (mark: the position stays open, marked at the last close)
        return portfolio.balance + portfolio.unrealized(self.bc[last], self.ac[last])

    def into_output(self, final: float) -> RawRun:
        """The result as it stands: trades, the recorded curve, counts; orders still
        queued are dropped."""
        portfolio = self.portfolio
        dropped = (
            (self.exit_reason is not None) + (self.entry is not None) + (self.working is not None)
        )
        recorder = self.recorder
        return RawRun(
            trades=portfolio.trade_columns(),
            equity_time=np.frombuffer(self.time, dtype=np.int64).copy(),
            equity=np.frombuffer(self.equity, dtype=np.float64).copy(),
            final_balance=final,
            bars_processed=self.n,
            base_bars=len(self.bars),
            ignored_signals=self.ignored,
            dropped_orders=int(dropped),
            skipped_orders=self.skipped,
            trace=recorder.rows if recorder is not None else None,
        )


def _as_actions(returned: object, kind: type = PositionAction) -> Sequence | None:
    """What ``manage_position`` (``manage_order``) returned as a sequence of actions of
    ``kind`` (None: not actions)."""
    if isinstance(returned, kind):
        return (returned,)
    if (
        isinstance(returned, Sequence)
        and not isinstance(returned, str | bytes)
        and all(isinstance(a, kind) for a in returned)
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


def utc_text(ns: int) -> str:
    """``2024-01-02T10:05:00Z`` (nanoseconds where not a whole second), as the Rust engine
    writes a time in a message."""
    unit = "s" if ns % 1_000_000_000 == 0 else "ns"
    return str(np.datetime_as_string(np.datetime64(ns, "ns"), unit=unit, timezone="UTC"))

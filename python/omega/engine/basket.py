"""`run_basket_python`: several instruments on one account, the reference of
docs/engine/portfolio.md (mirrored by crates/engine/src/basket.rs).

Each member is a single-instrument `_Loop` (its bars, settings and strategy); the account's
balance is handed from member to member as they step, so every fill, fee and swap changes the
one balance in the contract's order. Bars opening at the same time step phase by phase across
the members (all opens, then all ranges, then all closes) in the members' order, with the
account's margin steps (the stop-out, worst position first, and the margin-call warning)
between the phases. A basket of one member is the single-instrument run, operation for
operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omega.data.bars import BarSeries
from omega.engine import trace as ev
from omega.engine.loop import STOP_OUT, _Loop, check_settings
from omega.engine.raw import RawRun
from omega.engine.settings import EngineSettings, MarginSettings
from omega.errors import ConfigError, EmptyDataError
from omega.strategy.base import Strategy

Progress = Callable[[int, int], object]
PROGRESS_EVERY = 4096


@dataclass(frozen=True)
class BasketRaw:
    """A basket run: each member's run (its ``equity`` is the member's open P&L at each
    of its primary closes) and the account's equity at each distinct primary close time."""

    members: list[RawRun]
    time: np.ndarray
    equity: np.ndarray
    final_balance: float


class _Seat:
    """A member between bars: its loop, its next primary bar, its mark (the bid and ask
    its open P&L was last priced at)."""

    __slots__ = ("loop", "mark", "n", "next")

    def __init__(self, loop: _Loop) -> None:
        self.loop = loop
        self.next = 0
        self.n = loop.n
        self.mark = (0.0, 0.0)

    def stepping(self, now: int) -> bool:
        return self.next < self.n and int(self.loop.time[self.next]) == now


def _account_margin(settings: Sequence[EngineSettings]) -> MarginSettings | None:
    first = settings[0].margin
    for other in settings[1:]:
        margin = other.margin
        same = (first is None and margin is None) or (
            first is not None
            and margin is not None
            and first.margin_call_level == margin.margin_call_level
            and first.stop_out_level == margin.stop_out_level
        )
        if not same:
            raise ConfigError("basket members must share the account's margin model and levels")
    return first


def run_basket_python(
    members: Sequence[tuple[BarSeries, Strategy, EngineSettings]],
    *,
    trace: bool = False,
    progress: Progress | None = None,
) -> BasketRaw:
    """Backtest each ``(bars, strategy, settings)`` member on one account."""
    if not members:
        raise ConfigError("a basket needs at least one member")
    for bars, _, settings in members:
        if len(bars) == 0:
            raise EmptyDataError("no bars to backtest", file=bars.source)
        check_settings(settings)
    margin = _account_margin([settings for _, _, settings in members])
    seats = [_Seat(_Loop(bars, strategy, settings, trace)) for bars, strategy, settings in members]
    for seat, (_, strategy, _) in zip(seats, members, strict=True):
        bind = getattr(strategy, "bind_market", None)
        if bind is not None:  # a portfolio strategy's member reads the others' markets
            bind(lambda loop=seat.loop: loop.data._market)
    account = _Account(members[0][2].initial_balance, margin)
    total = sum(seat.n for seat in seats)
    done = 0
    while True:
        pending = [int(seat.loop.time[seat.next]) for seat in seats if seat.next < seat.n]
        if not pending:
            break
        now = min(pending)
        active = [k for k, seat in enumerate(seats) if seat.stepping(now)]
        account.step(seats, active, now)
        for k in active:
            seats[k].next += 1
        if progress is not None:
            before, done = done, done + len(active)
            if done // PROGRESS_EVERY != before // PROGRESS_EVERY:
                progress(done, total)
    raw = account.finish(seats)
    if progress is not None:
        progress(total, total)
    return raw


class _Account:
    """The account between bars: its balance, its margin levels, its equity curve."""

    def __init__(self, balance: float, margin: MarginSettings | None) -> None:
        self.balance = balance
        self.margin = margin
        self.time: list[int] = []
        self.equity: list[float] = []

    def step(self, seats: list[_Seat], active: list[int], now: int) -> None:
        """The bars opening at ``now`` of the ``active`` members, phase by phase."""
        # 0-1. each member's clock and queued exit at its open; its mark moves to the open
        for k in active:
            seat = seats[k]
            loop, i = seat.loop, seat.next
            loop.portfolio.balance = self.balance
            loop.open_phase(i)
            self.balance = loop.portfolio.balance
            seat.mark = (loop.bo[i], loop.ao[i])
        # 1. the account's stop-out at the opens, then the queued entries
        if self.margin is not None:
            self.stop_out(seats, "open", now)
        for k in active:
            self.lend(seats, k, seats[k].loop.entry is not None)
            loop = seats[k].loop
            loop.entry_phase(seats[k].next)
            self.balance = loop.portfolio.balance
        # 2. each member's range and working order, then the stop-out at the worst prices
        for k in active:
            self.lend(seats, k, seats[k].loop.working is not None)
            loop = seats[k].loop
            loop.range_phase(seats[k].next)
            self.balance = loop.portfolio.balance
        if self.margin is not None:
            self.stop_out(seats, "range", now)
        # 3. management at each close; the mark moves to the close. 4. then evaluation at
        # each close (a portfolio strategy decides once every member is managed)
        unrealized = []
        for k in active:
            seat = seats[k]
            loop, i = seat.loop, seat.next
            loop.portfolio.balance = self.balance
            unrealized.append(loop.manage_phase(i))
            seat.mark = (loop.bc[i], loop.ac[i])
        for k in active:
            seats[k].loop.evaluate_at_close(seats[k].next)
        # 5. the margin-call warning on the account, each member's point, the account's
        if self.margin is not None:
            level = self.margin_level(seats, lambda k, seat: seat.mark)
            if level is not None and level < self.margin.margin_call_level:
                for k in active:
                    loop = seats[k].loop
                    if loop.portfolio.position is not None and loop.recorder is not None:
                        loop.recorder.event(ev.MARGIN_CALL)
        for k, u in zip(active, unrealized, strict=True):
            seats[k].loop.mark_close(seats[k].next, u)
        self.time.append(now)
        self.equity.append(self.marked_equity(seats))

    def marked_equity(self, seats: list[_Seat]) -> float:
        """The balance plus every member's open P&L at its mark, in the members' order."""
        equity = self.balance
        for seat in seats:
            equity = equity + seat.loop.portfolio.unrealized(*seat.mark)
        return equity

    def lend(self, seats: list[_Seat], k: int, fills: bool) -> None:
        """Before member ``k`` steps a phase: the balance, and when it may fill an order
        (``fills``), the open P&L and margin of the account's other positions at their
        marks (its sizing and free-margin check)."""
        seats[k].loop.portfolio.balance = self.balance
        if not fills:
            return
        unrealized, margin = 0.0, 0.0
        for j, seat in enumerate(seats):
            if j != k and seat.loop.portfolio.position is not None:
                unrealized = unrealized + seat.loop.portfolio.unrealized(*seat.mark)
                margin = margin + seat.loop.portfolio.margin
        loop = seats[k].loop
        loop.others_unrealized = unrealized
        loop.others_margin = margin

    def margin_level(
        self, seats: list[_Seat], price_of: Callable[[int, _Seat], tuple[float, float]]
    ) -> float | None:
        """The account's margin level (percent), each open position priced by
        ``price_of`` (bid, ask); None without open positions."""
        equity, used, any_open = self.balance, 0.0, False
        for k, seat in enumerate(seats):
            portfolio = seat.loop.portfolio
            if portfolio.position is not None:
                equity = equity + portfolio.unrealized(*price_of(k, seat))
                used = used + portfolio.margin
                any_open = True
        return equity / used * 100.0 if any_open else None

    def stop_out(self, seats: list[_Seat], at: str, now: int) -> None:
        """While the account's margin level is below the stop-out level, closes its
        positions worst first (the lowest P&L at the prices of ``at``; the first member on
        a tie): a member stepping this bar at that price, slipped as a stop, the others at
        their mark."""
        margin = self.margin
        assert margin is not None

        def price_of(k: int, seat: _Seat) -> tuple[float, float]:
            if not seat.stepping(now):
                return seat.mark
            loop, i = seat.loop, seat.next
            if at == "open":
                return loop.bo[i], loop.ao[i]
            return loop.bl[i], loop.ah[i]

        while True:
            level = self.margin_level(seats, price_of)
            if level is None or not level < margin.stop_out_level:
                break
            worst: tuple[int, float] | None = None
            for k, seat in enumerate(seats):
                portfolio = seat.loop.portfolio
                if portfolio.position is not None:
                    pnl = portfolio.unrealized(*price_of(k, seat))
                    if worst is None or pnl < worst[1]:
                        worst = (k, pnl)
            assert worst is not None
            k = worst[0]
            seat = seats[k]
            bid, ask = price_of(k, seat)
            loop = seat.loop
            loop.portfolio.balance = self.balance
            pos = loop.portfolio.position
            assert pos is not None
            price = bid if pos.side == 1 else ask
            if seat.stepping(now):
                loop.exit_on_hit(seat.next, (STOP_OUT, price, True), now)
            else:
                # between its bars: closed at its mark, no slippage drawn; the exit it had
                # queued for its next open goes with the position
                index = max(seat.next - 1, 0)
                loop.portfolio.close(pos.size, price, STOP_OUT, now, index)
                loop.view = None
                loop.exit_reason = loop.exit_fraction = None
            self.balance = loop.portfolio.balance

    def finish(self, seats: list[_Seat]) -> BasketRaw:
        """Step 6 for each member in order (its ``end_of_data`` at its own last bar), then
        the members' results and the account's."""
        for seat in seats:
            loop = seat.loop
            loop.portfolio.balance = self.balance
            had_position = loop.portfolio.position is not None
            loop.close_at_end()
            self.balance = loop.portfolio.balance
            if had_position and loop.portfolio.position is None:
                loop.equity[seat.n - 1] = 0.0  # realized: its last open P&L point is 0
        final = self.marked_equity(seats)
        equity = np.array(self.equity, dtype=np.float64)
        if len(equity):
            equity[-1] = final
        members = []
        for seat in seats:
            loop = seat.loop
            members.append(loop.into_output(float(loop.equity[seat.n - 1])))
        return BasketRaw(
            members=members,
            time=np.array(self.time, dtype=np.int64),
            equity=equity,
            final_balance=final,
        )


def run_basket_rust(
    members: Sequence[tuple[BarSeries, str, dict, EngineSettings]],
    *,
    trace: bool = False,
) -> BasketRaw:
    """The basket in the Rust engine with built-in Rust strategies: members are
    ``(bars, strategy_name, params, settings)``; one call, the GIL released."""
    from omega.engine.rust import _core, _normalised_params, bar_columns, raw_run_from_core

    out = _core().run_basket(
        [
            (
                bar_columns(bars),
                bars.timeframe.name,
                settings,
                bars.source,
                name,
                _normalised_params(name, params),
            )
            for bars, name, params, settings in members
        ],
        trace,
    )
    return _basket_from_core(out, raw_run_from_core)


def run_basket_rust_portfolio(
    members: Sequence[tuple[BarSeries, EngineSettings]],
    name: str,
    params: Mapping[str, Any],
    *,
    trace: bool = False,
) -> BasketRaw:
    """The basket in the Rust engine run by the built-in Rust portfolio strategy ``name``
    (its Python twin validates ``params`` first): members are ``(bars, settings)``; one
    call, the GIL released."""
    from omega.engine.rust import _core, bar_columns, raw_run_from_core, rust_portfolio_params

    given = rust_portfolio_params(name, params)
    out = _core().run_basket_portfolio(
        [
            (bar_columns(bars), bars.timeframe.name, settings, bars.source)
            for bars, settings in members
        ],
        name,
        given,
        trace,
    )
    return _basket_from_core(out, raw_run_from_core)


def run_basket_plugin(
    path: str,
    members: Sequence[tuple[BarSeries, dict, EngineSettings]],
    *,
    trace: bool = False,
) -> BasketRaw:
    """The basket in the Rust engine with a strategy plugin: members are ``(bars, params,
    settings)``, each an instance of the plugin's strategy; one call, the GIL released."""
    from omega.engine.rust import _core, bar_columns, raw_run_from_core

    out = _core().run_basket_plugin(
        str(path),
        [
            (bar_columns(bars), bars.timeframe.name, settings, bars.source, dict(params))
            for bars, params, settings in members
        ],
        trace,
    )
    return _basket_from_core(out, raw_run_from_core)


def run_basket_portfolio_plugin(
    path: str,
    members: Sequence[tuple[BarSeries, EngineSettings]],
    params: Mapping[str, Any],
    *,
    trace: bool = False,
) -> BasketRaw:
    """The basket in the Rust engine run by the portfolio strategy a plugin library exports
    (it validates ``params`` itself): members are ``(bars, settings)``; one call, the GIL
    released."""
    from omega.engine.plugin import resolve_plugin_path
    from omega.engine.rust import _core, bar_columns, raw_run_from_core

    out = _core().run_basket_portfolio_plugin(
        [
            (bar_columns(bars), bars.timeframe.name, settings, bars.source)
            for bars, settings in members
        ],
        str(resolve_plugin_path(path)),
        dict(params),
        trace,
    )
    return _basket_from_core(out, raw_run_from_core)


def run_basket_hybrid(
    members: Sequence[tuple[BarSeries, Strategy, EngineSettings]],
    *,
    trace: bool = False,
) -> BasketRaw:
    """The basket in the Rust engine calling each member's Python strategy back."""
    from omega.engine.hybrid import _Driver
    from omega.engine.market import init_strategy
    from omega.engine.rust import _core, bar_columns, raw_run_from_core

    drivers = []
    for bars, strategy, settings in members:
        if len(bars) == 0:
            raise EmptyDataError("no bars to backtest", file=bars.source)
        check_settings(settings)
        driver = _Driver(strategy, bars, settings, init_strategy(strategy, settings))
        bind = getattr(strategy, "bind_market", None)
        if bind is not None:  # built by the core before the loop starts
            bind(lambda driver=driver: driver.slice._market)
        drivers.append(driver)
    try:
        out = _core().run_basket_hybrid(
            [
                (bar_columns(bars), bars.timeframe.name, settings, bars.source, driver)
                for (bars, _, settings), driver in zip(members, drivers, strict=True)
            ],
            trace,
        )
    finally:
        for driver in drivers:
            driver.detach()
    return _basket_from_core(out, raw_run_from_core)


def _basket_from_core(out: dict, member_run: Callable[[dict], RawRun]) -> BasketRaw:
    for member in out["members"]:
        # a member whose primary bars are its input's gets the input's time column (no
        # copy): a read-only view, so writing to the run cannot change the bars
        shared = np.asarray(member["equity_time"]).view()
        shared.flags.writeable = False
        member["equity_time"] = shared
    return BasketRaw(
        members=[member_run(member) for member in out["members"]],
        time=np.asarray(out["time"], dtype=np.int64),
        equity=np.asarray(out["equity"], dtype=np.float64),
        final_balance=float(out["final_balance"]),
    )

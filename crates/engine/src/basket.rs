//! A basket: several instruments, one account (docs/engine/portfolio.md).
//!
//! Each member is a single-instrument run (its bars, settings and strategy, its own
//! [`Stepper`]); the account's balance is handed from member to member as they step, so
//! every fill, fee and swap changes the one balance in the order the contract gives. Bars
//! that open at the same time step phase by phase across the members (all opens, then all
//! ranges, then all closes), in the members' order, with the account's margin steps (the
//! stop-out, worst position first, and the margin-call warning) between the phases. A basket
//! of one member is the single-instrument run, operation for operation.
//!
//! Mirrored by `omega/engine/basket.py`.

use crate::error::EngineError;
use crate::market::Frames;
use crate::output::{ExitReason, RunOutput};
use crate::run::{
    build_checked_frames, compute_declared, plan, prices, ConversionBars, Plan, Prepared,
    RunOptions, StepInputs, Stepper,
};
use crate::settings::{EngineSettings, MarginSettings};
use omega_indicators::IndicatorCache;
use omega_strategy_api::{BarColumns, Side, Strategy, Timeframe};

/// One instrument of a basket: its base bars and its run settings (the instrument, the
/// execution rules; the account fields are the basket's and equal in every member).
#[derive(Debug)]
pub struct BasketMember<'a> {
    pub bars: BarColumns<'a>,
    pub base_tf: Timeframe,
    pub settings: EngineSettings,
}

/// A basket run's result: each member's run (its trades; its `equity` is the member's
/// open P&L at each of its primary closes) and the account's equity at each distinct
/// primary close time of the basket.
#[derive(Debug)]
pub struct BasketOutput {
    pub members: Vec<RunOutput>,
    pub time: Vec<i64>,
    pub equity: Vec<f64>,
    pub final_balance: f64,
}

/// Where the account's stop-out prices a position stepping this bar: at its open (step 1)
/// or at the bar's worst price for it (step 2). Members without a bar now are at their mark.
#[derive(Clone, Copy)]
enum StopOutAt {
    Open,
    Range,
}

/// A member's loop state between bars: its stepper, where it is in its primary bars, and
/// its mark (the bid and ask its open P&L was last priced at).
#[derive(Debug)]
pub(crate) struct Seat {
    pub(crate) stepper: Stepper,
    pub(crate) next: usize,
    pub(crate) n: usize,
    pub(crate) mark: (f64, f64),
    /// Its position's P&L at `mark` once its close is marked (0.0 when flat): what the
    /// account's equity adds for it until its next close.
    pub(crate) unrealized: f64,
}

/// Runs `strategies[k]` on `members[k]`, all on one account.
pub fn run_basket<S: Strategy>(
    members: &[BasketMember<'_>],
    strategies: &mut [S],
    options: RunOptions,
) -> Result<BasketOutput, EngineError> {
    if members.is_empty() || members.len() != strategies.len() {
        return Err(EngineError::Config(
            "a basket needs one strategy per member and at least one member".into(),
        ));
    }
    let margin = account_margin(&members.iter().map(|m| &m.settings).collect::<Vec<_>>())?;
    // Each member's frames and series, prepared as a single run prepares them.
    let mut plans = Vec::with_capacity(members.len());
    let mut conversions = Vec::with_capacity(members.len());
    for (member, strategy) in members.iter().zip(strategies.iter_mut()) {
        conversions.push(member.settings.validate()?);
        plans.push(plan(strategy, member.base_tf, &member.settings)?);
    }
    let mut frames: Vec<Frames<'_>> = Vec::with_capacity(members.len());
    let mut caches: Vec<IndicatorCache> = Vec::with_capacity(members.len());
    for (
        member,
        Plan {
            declared,
            timeframes,
        },
    ) in members.iter().zip(&plans)
    {
        let built = build_checked_frames(
            member.bars,
            member.base_tf,
            member.settings.primary_timeframe,
            timeframes.clone(),
        )?;
        let mut cache = IndicatorCache::new();
        compute_declared(&built, declared, &member.settings, &mut cache)?;
        frames.push(built);
        caches.push(cache);
    }
    let prepared = members
        .iter()
        .zip(&plans)
        .zip(frames.iter().zip(&caches))
        .map(|((member, plan), (frames, cache))| {
            Prepared::new(
                frames,
                &frames.timeframes,
                &plan.declared,
                cache,
                &member.settings,
            )
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let mut inputs: Vec<StepInputs<'_, '_>> = prepared.iter().map(Prepared::inputs).collect();
    for (k, member) in members.iter().enumerate() {
        inputs[k].conversion = conversion_of(&member.settings, |j| {
            members.get(j).map(|m| (m.bars.time, m.bars.bid_close))
        })?;
    }
    let mut seats: Vec<Seat> = members
        .iter()
        .zip(&prepared)
        .zip(&inputs)
        .zip(conversions)
        .map(|(((member, prepared), inputs), conversion)| {
            let n = inputs.primary.len();
            Seat {
                stepper: Stepper::new(
                    &member.settings,
                    conversion,
                    &prepared.timeframes(),
                    n,
                    options,
                ),
                next: 0,
                n,
                mark: (0.0, 0.0),
                unrealized: 0.0,
            }
        })
        .collect();
    let mut account = Account {
        balance: members[0].settings.initial_balance,
        margin,
        time: Vec::new(),
        equity: Vec::new(),
    };
    let settings: Vec<&EngineSettings> = members.iter().map(|m| &m.settings).collect();
    let mut active: Vec<usize> = Vec::with_capacity(members.len());
    // The earliest next primary bar; every member with a bar opening then steps now.
    while let Some(now) = seats
        .iter()
        .zip(&inputs)
        .filter(|(seat, _)| seat.next < seat.n)
        .map(|(seat, inputs)| inputs.primary.time[seat.next])
        .min()
    {
        active.clear();
        active.extend((0..seats.len()).filter(|&k| {
            let seat = &seats[k];
            seat.next < seat.n && inputs[k].primary.time[seat.next] == now
        }));
        account.step(&mut seats, &active, &inputs, &settings, strategies, now)?;
        for &k in &active {
            seats[k].next += 1;
        }
    }
    let base_bars: Vec<usize> = members.iter().map(|m| m.bars.len()).collect();
    // A member whose primary bars are its input's leaves `equity_time` empty: the caller
    // holds those times (the Python binding hands the input's column out, no copy).
    let copy_time: Vec<bool> = members
        .iter()
        .map(|m| m.settings.primary_timeframe != m.base_tf)
        .collect();
    account.finish(seats, &inputs, &base_bars, &copy_time, strategies)
}

/// The conversion series of a member whose cross converts through another member's bars
/// (`CrossSettings::member`): that member's base times and bid closes, from `bars_of`.
pub(crate) fn conversion_of<'a>(
    settings: &EngineSettings,
    bars_of: impl Fn(usize) -> Option<ConversionBars<'a>>,
) -> Result<Option<ConversionBars<'a>>, EngineError> {
    let Some(j) = settings.cross.as_ref().and_then(|c| c.member) else {
        return Ok(None);
    };
    bars_of(j).map(Some).ok_or_else(|| {
        EngineError::Config(format!(
            "account.conversion: basket member {j} (the conversion pair of {}) does not exist",
            settings.instrument.symbol
        ))
    })
}

/// Every member's margin model, or none: the levels are the account's.
pub(crate) fn account_margin(
    settings: &[&EngineSettings],
) -> Result<Option<MarginSettings>, EngineError> {
    let first = settings[0].margin;
    for member in &settings[1..] {
        let same = match (first, member.margin) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.margin_call_level == b.margin_call_level && a.stop_out_level == b.stop_out_level
            }
            _ => false,
        };
        if !same {
            return Err(EngineError::Config(
                "basket members must share the account's margin model and levels".into(),
            ));
        }
    }
    Ok(first)
}

/// The account between bars: its balance, its margin levels, its equity curve.
#[derive(Debug)]
pub(crate) struct Account {
    pub(crate) balance: f64,
    pub(crate) margin: Option<MarginSettings>,
    pub(crate) time: Vec<i64>,
    pub(crate) equity: Vec<f64>,
}

impl Account {
    /// The bars opening at `now` of the `active` members, phase by phase.
    pub(crate) fn step<S: Strategy>(
        &mut self,
        seats: &mut [Seat],
        active: &[usize],
        inputs: &[StepInputs<'_, '_>],
        settings: &[&EngineSettings],
        strategies: &mut [S],
        now: i64,
    ) -> Result<(), EngineError> {
        // 0-1. Each member's clock and queued exit, at its open; its mark moves to the open.
        for &k in active {
            let seat = &mut seats[k];
            let i = seat.next;
            seat.stepper.book.balance = self.balance;
            seat.stepper.open_phase(i, &inputs[k])?;
            self.balance = seat.stepper.book.balance;
            let px = prices(&inputs[k].primary, i);
            seat.mark = (px.bo, px.ao);
        }
        // 1. The account's stop-out at the opens, then the queued entries.
        if self.margin.is_some() {
            self.stop_out(seats, inputs, StopOutAt::Open, now);
        }
        for &k in active {
            self.lend(seats, k, seats[k].stepper.pending().0.is_some());
            let seat = &mut seats[k];
            seat.stepper.entry_phase(seat.next, &inputs[k], settings[k]);
            self.balance = seat.stepper.book.balance;
        }
        // 2. Each member's range and working order, then the stop-out at the worst prices.
        for &k in active {
            self.lend(seats, k, seats[k].stepper.has_working_order());
            let seat = &mut seats[k];
            let px = prices(&inputs[k].primary, seat.next);
            seat.stepper
                .range_phase(seat.next, &px, &inputs[k], settings[k]);
            self.balance = seat.stepper.book.balance;
        }
        if self.margin.is_some() {
            self.stop_out(seats, inputs, StopOutAt::Range, now);
        }
        // 3. Management at each close; the mark moves to the close. 4. Then evaluation at
        // each close (a portfolio strategy decides once every member is managed).
        for &k in active {
            let seat = &mut seats[k];
            let px = prices(&inputs[k].primary, seat.next);
            seat.stepper.book.balance = self.balance;
            seat.unrealized = seat.stepper.manage_phase(
                seat.next,
                &px,
                &inputs[k],
                settings[k],
                &mut strategies[k],
            )?;
            seat.mark = (px.bc, px.ac);
        }
        for &k in active {
            let seat = &mut seats[k];
            seat.stepper
                .evaluate_at_close(seat.next, &inputs[k], &mut strategies[k])?;
        }
        // 5. The margin-call warning on the account, each member's point, the account's.
        if let Some(margin) = self.margin {
            if let Some(level) = self.margin_level(seats, |_, seat| seat.mark) {
                if level < margin.margin_call_level {
                    for &k in active {
                        if seats[k].stepper.book.position.is_some() {
                            seats[k].stepper.note_margin_call();
                        }
                    }
                }
            }
        }
        for &k in active {
            let seat = &mut seats[k];
            let time = inputs[k].primary.time[seat.next];
            seat.stepper.mark_close(seat.next, time, seat.unrealized);
        }
        // Each member's P&L at its mark as computed at its last close (a member between
        // its bars keeps its mark; one stopped out there holds 0.0): `marked_equity`'s sum.
        let equity = seats
            .iter()
            .fold(self.balance, |equity, seat| equity + seat.unrealized);
        self.time.push(now);
        self.equity.push(equity);
        Ok(())
    }

    /// The balance plus every member's open P&L at its mark, in the members' order.
    fn marked_equity(&self, seats: &[Seat]) -> f64 {
        seats.iter().fold(self.balance, |equity, seat| {
            equity + seat.stepper.book.unrealized(seat.mark.0, seat.mark.1)
        })
    }

    /// Before member `k` steps a phase: the balance, and when it may fill an order
    /// (`fills`), the open P&L and margin of the account's other positions at their marks
    /// (its sizing and free-margin check; an O(members) sum, skipped when nothing fills).
    fn lend(&self, seats: &mut [Seat], k: usize, fills: bool) {
        seats[k].stepper.book.balance = self.balance;
        if !fills {
            return;
        }
        let (mut unrealized, mut margin) = (0.0, 0.0);
        for (j, seat) in seats.iter().enumerate() {
            if j != k && seat.stepper.book.position.is_some() {
                unrealized += seat.stepper.book.unrealized(seat.mark.0, seat.mark.1);
                margin += seat.stepper.book.margin;
            }
        }
        let stepper = &mut seats[k].stepper;
        stepper.others_unrealized = unrealized;
        stepper.others_margin = margin;
    }

    /// The account's margin level (percent) with each open position priced by `price_of`
    /// (its side's bid or ask); `None` without open positions.
    fn margin_level(
        &self,
        seats: &[Seat],
        price_of: impl Fn(usize, &Seat) -> (f64, f64),
    ) -> Option<f64> {
        let (mut equity, mut used, mut any) = (self.balance, 0.0, false);
        for (k, seat) in seats.iter().enumerate() {
            if seat.stepper.book.position.is_some() {
                let (bid, ask) = price_of(k, seat);
                equity += seat.stepper.book.unrealized(bid, ask);
                used += seat.stepper.book.margin;
                any = true;
            }
        }
        any.then(|| equity / used * 100.0)
    }

    /// While the account's margin level is below the stop-out level, closes its positions
    /// worst first (the lowest P&L at the prices of `at`; the first member on a tie): a
    /// member stepping this bar at that price, slipped as a stop, the others at their mark.
    fn stop_out(
        &mut self,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        at: StopOutAt,
        now: i64,
    ) {
        let Some(margin) = self.margin else {
            return;
        };
        let price_of = |k: usize, seat: &Seat| -> (f64, f64) {
            let stepping = seat.next < seat.n && inputs[k].primary.time[seat.next] == now;
            if !stepping {
                return seat.mark;
            }
            let px = prices(&inputs[k].primary, seat.next);
            match at {
                StopOutAt::Open => (px.bo, px.ao),
                StopOutAt::Range => (px.bl, px.ah),
            }
        };
        while let Some(level) = self.margin_level(seats, price_of) {
            if level >= margin.stop_out_level || level.is_nan() {
                break;
            }
            // The worst open position at these prices.
            let mut worst: Option<(usize, f64)> = None;
            for (k, seat) in seats.iter().enumerate() {
                if seat.stepper.book.position.is_some() {
                    let (bid, ask) = price_of(k, seat);
                    let pnl = seat.stepper.book.unrealized(bid, ask);
                    if worst.map_or(true, |(_, w)| pnl < w) {
                        worst = Some((k, pnl));
                    }
                }
            }
            let Some((k, _)) = worst else {
                break;
            };
            let (bid, ask) = price_of(k, &seats[k]);
            let seat = &mut seats[k];
            let stepping = seat.next < seat.n && inputs[k].primary.time[seat.next] == now;
            let stepper = &mut seat.stepper;
            stepper.book.balance = self.balance;
            let Some(pos) = stepper.book.position.as_ref() else {
                break;
            };
            let (side, size) = (pos.side, pos.size);
            let price = if side == Side::Long { bid } else { ask };
            if stepping {
                stepper.exit_on_hit(
                    seat.next,
                    (ExitReason::StopOut, price, true),
                    now,
                    &inputs[k],
                );
            } else {
                // Between its bars: closed at its mark, no slippage drawn; the exit it had
                // queued for its next open goes with the position.
                let index = seat.next.saturating_sub(1);
                stepper
                    .book
                    .close(size, price, ExitReason::StopOut, now, index);
                stepper.drop_pending_exit();
                seat.unrealized = 0.0;
            }
            self.balance = stepper.book.balance;
        }
    }

    /// Step 6 for each member in order (its `end_of_data` at its own last bar), then the
    /// members' results and the account's.
    pub(crate) fn finish<S: Strategy>(
        mut self,
        seats: Vec<Seat>,
        inputs: &[StepInputs<'_, '_>],
        base_bars: &[usize],
        copy_time: &[bool],
        strategies: &[S],
    ) -> Result<BasketOutput, EngineError> {
        let mut seats = seats;
        for (k, seat) in seats.iter_mut().enumerate() {
            let stepper = &mut seat.stepper;
            stepper.book.balance = self.balance;
            let had_position = stepper.book.position.is_some();
            stepper.close_at_end(inputs[k].primary);
            self.balance = stepper.book.balance;
            // A position closed at the end is realized: its last open P&L point is 0.
            if had_position && stepper.book.position.is_none() && stepper.stepped() > 0 {
                stepper.zero_last_point();
            }
        }
        let final_equity = self.marked_equity(&seats);
        if let Some(last) = self.equity.last_mut() {
            *last = final_equity;
        }
        let outputs = seats
            .into_iter()
            .zip(strategies)
            .zip(base_bars.iter().zip(inputs).zip(copy_time))
            .map(|((seat, strategy), ((&base, inputs), &copy))| {
                // A member's final figure: its position's P&L if one is left open, else 0.
                let last = seat.stepper.equity().last().copied().unwrap_or(0.0);
                let mut out = seat.stepper.into_output(base, last, strategy);
                if copy {
                    out.equity_time = inputs.primary.time.to_vec();
                }
                out
            })
            .collect();
        Ok(BasketOutput {
            members: outputs,
            time: self.time,
            equity: self.equity,
            final_balance: final_equity,
        })
    }
}

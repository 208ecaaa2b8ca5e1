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
    /// A cross member ahead of the basket (`run_ahead`): the conversion rate of each bar
    /// it stepped ahead from bar `ahead_from`, and the rate before them.
    pub(crate) ahead_rates: Vec<f64>,
    pub(crate) ahead_from: usize,
    pub(crate) rate_before: f64,
}

/// At most this many bars of a member are stepped ahead of the basket at once: the rates a
/// cross records while ahead stay a few pages (it runs ahead again at the next time).
const MAX_AHEAD: usize = 4096;

impl Seat {
    /// Whether the member has stepped beyond the basket's time (`run_ahead`).
    #[inline(always)]
    fn is_ahead(&self) -> bool {
        self.stepper.stepped() > self.next
    }

    /// The member's mark before the closes at `now` (its open if it has a bar then, else
    /// its last close): kept in `mark` while it steps with the basket, read from its bars
    /// while it is ahead (a position ahead is held without a conversion: its P&L at a price
    /// is the same at any time).
    fn mark_before_close(&self, primary: &BarColumns<'_>, now: i64) -> (f64, f64, f64) {
        let book = &self.stepper.book;
        if !self.is_ahead() {
            return (self.mark.0, self.mark.1, book.cross_rate);
        }
        let i = self.next;
        let (bar, (bid, ask)) = if primary.time[i] == now {
            (Some(i), (primary.bid_open[i], primary.ask_open[i]))
        } else {
            (
                i.checked_sub(1),
                (primary.bid_close[i - 1], primary.ask_close[i - 1]),
            )
        };
        // The conversion rate of that bar: recorded for a cross, else the only one.
        let rate = match bar.and_then(|bar| bar.checked_sub(self.ahead_from)) {
            Some(k) if !self.ahead_rates.is_empty() => self.ahead_rates[k],
            None if !self.ahead_rates.is_empty() => self.rate_before,
            _ => book.cross_rate,
        };
        (bid, ask, rate)
    }

    /// Steps the member's bars from the basket's time on for as long as they leave the
    /// account alone (`Stepper::leaves_account_alone`): one member's bars in a row, as a
    /// single run steps them, rather than interleaved with every other member's. The
    /// account meets the member again at its first bar that may touch it; until the basket
    /// reaches that bar's time, the member's marks and open P&L at each earlier time are
    /// read back from its bars and its curve (`Account::step`).
    fn run_ahead<S: Strategy>(
        &mut self,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
        strategy: &mut S,
    ) -> Result<(), EngineError> {
        if self.is_ahead() {
            return Ok(()); // stopped at a bar that may touch the account
        }
        let stepper = &mut self.stepper;
        let mut i = stepper.stepped();
        // The rates matter for a position only (a flat member's P&L is 0 at any rate; it
        // stays flat ahead: no bar that leaves the account alone fills an order).
        let cross = stepper.converts_cross() && stepper.book.position.is_some();
        if cross {
            self.ahead_rates.clear();
            self.ahead_from = i;
            self.rate_before = stepper.book.cross_rate;
        }
        let end = self.n.min(i + MAX_AHEAD);
        while i < end && stepper.leaves_account_alone(i, &inputs.primary) {
            stepper.step_alone(i, inputs, settings, strategy)?;
            if cross {
                self.ahead_rates.push(stepper.book.cross_rate);
            }
            i += 1;
        }
        Ok(())
    }
}

/// Runs `strategies[k]` on `members[k]`, all on one account; each strategy sees its own
/// member only (built-in strategies, plugin instances).
pub fn run_basket<S: Strategy>(
    members: &[BasketMember<'_>],
    strategies: &mut [S],
    options: RunOptions,
) -> Result<BasketOutput, EngineError> {
    run_members(members, strategies, options, false)
}

/// [`run_basket`] for strategies that share state (the members of a portfolio strategy,
/// Python strategies): every member is managed before any is evaluated.
pub fn run_basket_shared<S: Strategy>(
    members: &[BasketMember<'_>],
    strategies: &mut [S],
    options: RunOptions,
) -> Result<BasketOutput, EngineError> {
    run_members(members, strategies, options, true)
}

fn run_members<S: Strategy>(
    members: &[BasketMember<'_>],
    strategies: &mut [S],
    options: RunOptions,
    shared_strategies: bool,
) -> Result<BasketOutput, EngineError> {
    run_deciding(
        members,
        strategies,
        options,
        shared_strategies,
        &mut EachOwn,
    )
}

/// The basket run: `strategies[k]` prepares member `k` (its `init` declares its series);
/// `decide` manages and evaluates at the closes.
pub(crate) fn run_deciding<S: Strategy, D: Decide<S>>(
    members: &[BasketMember<'_>],
    strategies: &mut [S],
    options: RunOptions,
    shared_strategies: bool,
    decide: &mut D,
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
                ahead_rates: Vec::new(),
                ahead_from: 0,
                rate_before: 0.0,
            }
        })
        .collect();
    let mut account = Account {
        balance: members[0].settings.initial_balance,
        margin,
        time: Vec::new(),
        equity: Vec::new(),
        shared_strategies,
        stepping: Vec::new(),
        ahead: Vec::new(),
    };
    let settings: Vec<&EngineSettings> = members.iter().map(|m| &m.settings).collect();
    let mut active: Vec<usize> = Vec::with_capacity(members.len());
    while let Some(now) = next_active(&seats, &inputs, &mut active) {
        if !shared_strategies {
            for &k in &active {
                seats[k].run_ahead(&inputs[k], settings[k], &mut strategies[k])?;
            }
        }
        account.step(
            &mut seats, &active, &inputs, &settings, strategies, decide, now,
        )?;
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

/// The earliest time of the members' next primary bars, and in `active` the members with a
/// bar opening then (they step now); `None` once every member is done.
pub(crate) fn next_active(
    seats: &[Seat],
    inputs: &[StepInputs<'_, '_>],
    active: &mut Vec<usize>,
) -> Option<i64> {
    active.clear();
    let mut now = None;
    for (k, seat) in seats.iter().enumerate() {
        if seat.next < seat.n {
            let time = inputs[k].primary.time[seat.next];
            if now.map_or(true, |now| time < now) {
                now = Some(time);
                active.clear();
            }
            if now == Some(time) {
                active.push(k);
            }
        }
    }
    now
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

/// How the members decide at their closes (steps 3 and 4): each by its own strategy
/// ([`EachOwn`]), or one portfolio strategy for all (`crate::basket_portfolio`).
pub(crate) trait Decide<S: Strategy> {
    /// Member `k`'s management at its close (step 3); its position's P&L at the close.
    fn manage(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        settings: &EngineSettings,
        strategies: &mut [S],
        now: i64,
    ) -> Result<f64, EngineError>;

    /// Member `k`'s evaluation at its close (step 4).
    fn evaluate(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        strategies: &mut [S],
        now: i64,
    ) -> Result<(), EngineError>;
}

/// Each member decides by its own strategy, `strategies[k]`.
#[derive(Debug)]
pub(crate) struct EachOwn;

impl<S: Strategy> Decide<S> for EachOwn {
    #[inline(always)]
    fn manage(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        settings: &EngineSettings,
        strategies: &mut [S],
        _now: i64,
    ) -> Result<f64, EngineError> {
        let seat = &mut seats[k];
        let px = prices(&inputs[k].primary, seat.next);
        seat.stepper
            .manage_phase(seat.next, &px, &inputs[k], settings, &mut strategies[k])
    }

    #[inline(always)]
    fn evaluate(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        strategies: &mut [S],
        _now: i64,
    ) -> Result<(), EngineError> {
        let seat = &mut seats[k];
        seat.stepper
            .evaluate_at_close(seat.next, &inputs[k], &mut strategies[k])
    }
}

/// The account between bars: its balance, its margin levels, its equity curve.
#[derive(Debug)]
pub(crate) struct Account {
    pub(crate) balance: f64,
    pub(crate) margin: Option<MarginSettings>,
    pub(crate) time: Vec<i64>,
    pub(crate) equity: Vec<f64>,
    /// Whether the members' strategies share state (`run_basket_shared`).
    pub(crate) shared_strategies: bool,
    /// Scratch of `step`: the members stepping a time, and those ahead of it.
    pub(crate) stepping: Vec<usize>,
    pub(crate) ahead: Vec<usize>,
}

impl Account {
    /// The bars opening at `now` of the `active` members, phase by phase. A member with
    /// nothing to do in a phase (no queued entry; no position and no working order in the
    /// range) is passed over: the phase would not touch it.
    #[allow(clippy::too_many_arguments)] // the members' state, the time, who decides
    pub(crate) fn step<S: Strategy, D: Decide<S>>(
        &mut self,
        seats: &mut [Seat],
        active: &[usize],
        inputs: &[StepInputs<'_, '_>],
        settings: &[&EngineSettings],
        strategies: &mut [S],
        decide: &mut D,
        now: i64,
    ) -> Result<(), EngineError> {
        // Members that stepped this bar already (`Seat::run_ahead`) only show their marks and
        // open P&L at this time: the phases run over the others.
        let mut stepping = std::mem::take(&mut self.stepping);
        let mut ahead = std::mem::take(&mut self.ahead);
        stepping.clear();
        ahead.clear();
        for &k in active {
            if seats[k].is_ahead() {
                ahead.push(k);
            } else {
                stepping.push(k);
            }
        }
        let result = self.step_phases(
            seats, &stepping, &ahead, inputs, settings, strategies, decide, now,
        );
        self.stepping = stepping;
        self.ahead = ahead;
        result
    }

    #[allow(clippy::too_many_arguments)] // `step`'s arguments, its members split in two
    #[inline(always)]
    fn step_phases<S: Strategy, D: Decide<S>>(
        &mut self,
        seats: &mut [Seat],
        stepping: &[usize],
        ahead: &[usize],
        inputs: &[StepInputs<'_, '_>],
        settings: &[&EngineSettings],
        strategies: &mut [S],
        decide: &mut D,
        now: i64,
    ) -> Result<(), EngineError> {
        // 0-1. Each member's clock and queued exit, at its open; its mark moves to the open
        // (a member ahead keeps its mark: `lend` reads its prices at this time).
        for &k in stepping {
            let seat = &mut seats[k];
            let i = seat.next;
            seat.stepper.book.balance = self.balance;
            seat.stepper.open_phase(i, &inputs[k])?;
            self.balance = seat.stepper.book.balance;
            let primary = &inputs[k].primary;
            seat.mark = (primary.bid_open[i], primary.ask_open[i]);
        }
        // 1. The account's stop-out at the opens, then the queued entries.
        if self.margin.is_some() {
            self.stop_out(seats, inputs, StopOutAt::Open, now);
        }
        for &k in stepping {
            if seats[k].stepper.pending().0.is_some() {
                self.lend(seats, k, inputs, now);
                let seat = &mut seats[k];
                seat.stepper.entry_phase(seat.next, &inputs[k], settings[k]);
                self.balance = seat.stepper.book.balance;
            }
        }
        // 2. Each member's range and working order, then the stop-out at the worst prices.
        for &k in stepping {
            let stepper = &seats[k].stepper;
            let working = stepper.has_working_order();
            if !working && stepper.book.position.is_none() {
                continue;
            }
            if working {
                self.lend(seats, k, inputs, now);
            }
            let seat = &mut seats[k];
            seat.stepper.book.balance = self.balance;
            let px = prices(&inputs[k].primary, seat.next);
            seat.stepper
                .range_phase(seat.next, &px, &inputs[k], settings[k]);
            self.balance = seat.stepper.book.balance;
        }
        if self.margin.is_some() {
            self.stop_out(seats, inputs, StopOutAt::Range, now);
        }
        // 3. Management at each close; the mark moves to the close. 4. Then evaluation at
        // each close. Steps 3 and 4 only queue orders, so a member's evaluation right after
        // its management gives what evaluating after everyone's management gives, unless
        // the strategies share state (a portfolio strategy decides once every member is
        // managed): then each phase runs over all members first.
        let interleave = !self.shared_strategies;
        let mark_now = interleave && self.margin.is_none();
        for &k in stepping {
            seats[k].stepper.book.balance = self.balance;
            let unrealized = decide.manage(k, seats, inputs, settings[k], strategies, now)?;
            let seat = &mut seats[k];
            let primary = &inputs[k].primary;
            seat.unrealized = unrealized;
            seat.mark = (primary.bid_close[seat.next], primary.ask_close[seat.next]);
            if interleave {
                decide.evaluate(k, seats, inputs, strategies, now)?;
            }
            if mark_now {
                let seat = &mut seats[k];
                seat.stepper.mark_close(seat.next, now, seat.unrealized);
            }
        }
        for &k in ahead {
            // Its close stepped already: the P&L its curve recorded then; at its last bar
            // ahead, its mark (it steps with the basket again from its next bar).
            let seat = &mut seats[k];
            let i = seat.next;
            seat.unrealized = seat.stepper.equity()[i];
            if seat.stepper.stepped() == i + 1 {
                let primary = &inputs[k].primary;
                seat.mark = (primary.bid_close[i], primary.ask_close[i]);
            }
        }
        if !interleave {
            for &k in stepping {
                decide.evaluate(k, seats, inputs, strategies, now)?;
            }
        }
        // 5. The margin-call warning on the account, each member's point, the account's (a
        // member ahead is flat: with a margin model a position never leaves the account
        // alone).
        if let Some(margin) = self.margin {
            if let Some(level) = self.margin_level(seats, |_, seat| seat.mark) {
                if level < margin.margin_call_level {
                    for &k in stepping {
                        if seats[k].stepper.book.position.is_some() {
                            seats[k].stepper.note_margin_call();
                        }
                    }
                }
            }
        }
        if !mark_now {
            for &k in stepping {
                let seat = &mut seats[k];
                seat.stepper.mark_close(seat.next, now, seat.unrealized);
            }
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

    /// Before member `k` steps a phase in which it may fill an order: the balance, and the
    /// open P&L and margin of the account's other positions at their marks (its sizing and
    /// free-margin check; an O(members) sum).
    fn lend(&self, seats: &mut [Seat], k: usize, inputs: &[StepInputs<'_, '_>], now: i64) {
        seats[k].stepper.book.balance = self.balance;
        let (mut unrealized, mut margin) = (0.0, 0.0);
        for (j, seat) in seats.iter().enumerate() {
            if j != k && seat.stepper.book.position.is_some() {
                let (bid, ask, rate) = seat.mark_before_close(&inputs[j].primary, now);
                unrealized += seat
                    .stepper
                    .book
                    .marked()
                    .at_rate(rate)
                    .unrealized(bid, ask);
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
            // (a member ahead at its last bar kept the mark of an earlier one)
            if let Some(last) = seat.n.checked_sub(1) {
                let primary = &inputs[k].primary;
                seat.mark = (primary.bid_close[last], primary.ask_close[last]);
            }
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

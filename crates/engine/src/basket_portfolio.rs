//! A basket run by one portfolio strategy (docs/engine/portfolio.md, "Portfolio
//! strategies"): the members' management and evaluation go to the strategy with a
//! [`BasketSlice`] of every instrument. Mirrored by `omega/strategy/portfolio.py` (the
//! members of a Python portfolio share one object the same way).
//!
//! At each close time the members are managed in order (the strategy's `manage_position`
//! for each holding a position, its basket showing the positions managed so far), then
//! the strategy's `evaluate` runs once, at the first member evaluated, and its signals go
//! to the members with a bar closing then (a signal for another is dropped).

use crate::basket::{run_deciding, BasketMember, BasketOutput, Decide, Seat};
use crate::error::EngineError;
use crate::run::{prices, RunOptions, StepInputs};
use crate::settings::EngineSettings;
use omega_strategy_api::{
    BasketContext, BasketMemberView, BasketSlice, DataSlice, IndicatorHandle, IndicatorSpec,
    InstrumentId, PortfolioStrategy, Position, PositionAction, PriceSide, RunContext, SliceParts,
    Strategy, StrategyError, Timeframe, TradeSignal,
};

/// Runs `portfolio` over `members`, all on one account.
pub fn run_portfolio<P: PortfolioStrategy>(
    members: &[BasketMember<'_>],
    portfolio: &mut P,
    options: RunOptions,
) -> Result<BasketOutput, EngineError> {
    let settings: Vec<&EngineSettings> = members.iter().map(|m| &m.settings).collect();
    let (mut seats, mut decide) = portfolio_members(&settings, portfolio)?;
    run_deciding(members, &mut seats, options, true, &mut decide)
}

/// The members of a basket run by `portfolio` (its `init` runs here) and the policy that
/// has it decide for them.
pub(crate) fn portfolio_members<P: PortfolioStrategy>(
    settings: &[&EngineSettings],
    mut portfolio: P,
) -> Result<(Vec<PortfolioMember>, PortfolioDecide<P>), EngineError> {
    let Some(first) = settings.first() else {
        return Err(EngineError::Config(
            "a basket needs at least one member".into(),
        ));
    };
    let symbols: Vec<String> = settings
        .iter()
        .map(|s| s.instrument.symbol.clone())
        .collect();
    let pips: Vec<f64> = settings.iter().map(|s| s.instrument.pip_size).collect();
    let primary = first.primary_timeframe;
    let mut ctx = BasketContext::new(&symbols, &pips, primary, &first.timeframes);
    portfolio
        .init(&mut ctx)
        .map_err(|e| EngineError::Strategy(e.0))?;
    if let Some(&(member, ..)) = ctx.requests().iter().find(|r| r.0 >= settings.len()) {
        return Err(EngineError::Strategy(format!(
            "portfolio {}: an indicator declared on member {member}, not in the basket {symbols:?}",
            portfolio.name()
        )));
    }
    let members = (0..settings.len())
        .map(|k| PortfolioMember {
            name: format!("{}[{}]", portfolio.name(), symbols[k]),
            requests: ctx
                .requests()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.0 == k)
                .map(|(handle, &(_, timeframe, side, spec))| (handle, timeframe, side, spec))
                .collect(),
            handles: Vec::new(),
        })
        .collect();
    let n = settings.len();
    let handles = vec![(0, IndicatorHandle(0)); ctx.requests().len()];
    Ok((
        members,
        PortfolioDecide(Deciding {
            handles_read: false,
            portfolio,
            symbols,
            handles,
            positions: vec![None; n],
            managed_at: vec![None; n],
            decided_at: None,
            decisions: vec![None; n],
            at: Vec::new(),
            located_at: None,
            primary: settings.iter().map(|s| s.primary_timeframe).collect(),
        }),
    ))
}

/// A member's side of a portfolio for the engine's preparation: its `init` declares the
/// series the portfolio asked for on this instrument; the portfolio decides the rest
/// ([`PortfolioDecide`]).
#[derive(Debug)]
pub struct PortfolioMember {
    name: String,
    /// (the portfolio's handle, timeframe, side, spec) of each series on this member.
    requests: Vec<(usize, Timeframe, PriceSide, IndicatorSpec)>,
    /// (the portfolio's handle, this member's handle), set by `init`.
    handles: Vec<(usize, IndicatorHandle)>,
}

impl Strategy for PortfolioMember {
    fn name(&self) -> &str {
        &self.name
    }

    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.handles = self
            .requests
            .iter()
            .map(|&(handle, timeframe, side, spec)| {
                (handle, ctx.indicator_on(timeframe, side, spec))
            })
            .collect();
        Ok(())
    }

    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Err(StrategyError::new(
            "a portfolio member decides through its portfolio (internal)",
        ))
    }
}

/// The portfolio's state across closes, as `omega.strategy.portfolio._Shared` keeps it.
#[derive(Debug)]
struct Deciding<P> {
    handles_read: bool,
    portfolio: P,
    symbols: Vec<String>,
    /// Per portfolio handle: its member and that member's handle.
    handles: Vec<(usize, IndicatorHandle)>,
    /// Each member's position as the basket shows it: set when it is managed, and at the
    /// decision for members with a bar closing then (managed then, or none).
    positions: Vec<Option<Position>>,
    managed_at: Vec<Option<i64>>,
    decided_at: Option<i64>,
    decisions: Vec<Option<TradeSignal>>,
    /// Where the members are at `located_at` (kept across closes: the visible counts only
    /// grow, so each close advances them from the last instead of searching every series).
    at: Vec<Where>,
    located_at: Option<i64>,
    /// Each member's primary timeframe.
    primary: Vec<Timeframe>,
}

/// How a portfolio decides for its members: their handles read back once their `init` ran
/// (at the first close), then management and evaluation asked of the portfolio.
#[derive(Debug)]
pub struct PortfolioDecide<P>(Deciding<P>);

impl<P: PortfolioStrategy> Decide<PortfolioMember> for PortfolioDecide<P> {
    fn manage(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        settings: &EngineSettings,
        members: &mut [PortfolioMember],
        now: i64,
    ) -> Result<f64, EngineError> {
        self.0.read_handles(members);
        self.0.manage(k, seats, inputs, settings, now)
    }

    fn evaluate(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        members: &mut [PortfolioMember],
        now: i64,
    ) -> Result<(), EngineError> {
        self.0.read_handles(members);
        self.0.evaluate(k, seats, inputs, now)
    }
}

/// Where each member is at a basket close: the index of its last closed primary bar (the
/// last opening at or before `now`), the closed-bar count of each of its frames then, and
/// whether it has a bar closing now.
#[derive(Debug, Default)]
struct Where {
    index: Option<usize>,
    visible: Vec<usize>,
    has_bar: bool,
}

/// Moves `at` to `now`. Within one time no member has moved on (the basket advances its
/// members after the time's last phase), and across times a member's last closed bar
/// never goes back, so each frame's count of bars closed by then moves forward only: the
/// count a search for the first bar closing after the close would give.
fn locate_members(at: &mut Vec<Where>, seats: &[Seat], inputs: &[StepInputs<'_, '_>], now: i64) {
    if at.len() != seats.len() {
        *at = seats.iter().map(|_| Where::default()).collect();
    }
    for ((w, seat), inputs) in at.iter_mut().zip(seats).zip(inputs) {
        let primary = &inputs.primary;
        w.has_bar = seat.next < seat.n && primary.time[seat.next] == now;
        w.index = if w.has_bar {
            Some(seat.next)
        } else {
            seat.next.checked_sub(1)
        };
        w.visible.resize(inputs.views.len(), 0);
        if let Some(i) = w.index {
            let close = primary.time[i] + seat.stepper.primary_nanos();
            for (count, view) in w.visible.iter_mut().zip(inputs.views) {
                let span = view.timeframe.nanos();
                let times = view.bars.time;
                while *count < times.len() && times[*count] + span <= close {
                    *count += 1;
                }
            }
        }
    }
}

/// Every member's view at a close, from where they are and the positions the basket shows
/// (as the Python basket's slices: the position is the basket's, not the slice's; the
/// session flag is not tracked across members).
fn member_views<'a>(
    at: &'a [Where],
    inputs: &'a [StepInputs<'_, 'a>],
    positions: &'a [Option<Position>],
    primary: &'a [Timeframe],
) -> Vec<BasketMemberView<'a>> {
    at.iter()
        .zip(inputs)
        .zip(positions)
        .enumerate()
        .map(|(j, ((w, inputs), position))| BasketMemberView {
            slice: w.index.map(|index| {
                DataSlice::new(SliceParts {
                    index,
                    primary: primary[j],
                    frames: inputs.views,
                    visible: &w.visible,
                    indicators: inputs.indicators,
                    instrument: InstrumentId(j as u32),
                    position: None,
                    recorder: None,
                    in_session: true,
                })
            }),
            has_bar: w.has_bar,
            position: position.as_ref(),
        })
        .collect()
}

impl<P: PortfolioStrategy> Deciding<P> {
    fn read_handles(&mut self, members: &[PortfolioMember]) {
        if !self.handles_read {
            self.handles_read = true;
            for (k, member) in members.iter().enumerate() {
                for &(handle, local) in &member.handles {
                    self.handles[handle] = (k, local);
                }
            }
        }
    }

    fn manage(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        settings: &EngineSettings,
        now: i64,
    ) -> Result<f64, EngineError> {
        self.locate(seats, inputs, now);
        // (taken out while the portfolio is asked, which borrows the rest mutably)
        let at = std::mem::take(&mut self.at);
        let primary = std::mem::take(&mut self.primary);
        let seat = &mut seats[k];
        let px = prices(&inputs[k].primary, seat.next);
        let mut asked = Asked {
            deciding: self,
            k,
            now,
            at: &at,
            inputs,
            primary: &primary,
        };
        let managed = seat
            .stepper
            .manage_phase(seat.next, &px, &inputs[k], settings, &mut asked);
        self.at = at;
        self.primary = primary;
        managed
    }

    fn locate(&mut self, seats: &[Seat], inputs: &[StepInputs<'_, '_>], now: i64) {
        if self.located_at != Some(now) {
            locate_members(&mut self.at, seats, inputs, now);
            self.located_at = Some(now);
        }
    }

    fn evaluate(
        &mut self,
        k: usize,
        seats: &mut [Seat],
        inputs: &[StepInputs<'_, '_>],
        now: i64,
    ) -> Result<(), EngineError> {
        if self.decided_at != Some(now) {
            self.decide(seats, inputs, now)?;
        }
        let signal = self.decisions[k].take();
        let seat = &mut seats[k];
        seat.stepper
            .evaluate_at_close(seat.next, &inputs[k], &mut Decided(signal))
    }

    /// The portfolio's decision at `now`, once every member closing then is managed.
    fn decide(
        &mut self,
        seats: &[Seat],
        inputs: &[StepInputs<'_, '_>],
        now: i64,
    ) -> Result<(), EngineError> {
        self.decided_at = Some(now);
        self.locate(seats, inputs, now);
        let at = &self.at;
        for (j, w) in at.iter().enumerate() {
            if w.has_bar && self.managed_at[j] != Some(now) {
                self.positions[j] = None;
            }
        }
        let views = member_views(at, inputs, &self.positions, &self.primary);
        let basket = BasketSlice {
            time: now,
            members: &views,
            handles: &self.handles,
        };
        let signals = self
            .portfolio
            .evaluate(&basket)
            .map_err(|e| EngineError::Strategy(e.0))?;
        self.decisions.iter_mut().for_each(|d| *d = None);
        for (member, signal) in signals {
            if member >= self.decisions.len() {
                return Err(EngineError::Strategy(format!(
                    "portfolio {}: signal for member {member}, not in the basket {:?}",
                    self.portfolio.name(),
                    self.symbols
                )));
            }
            // (a signal for a member without a bar closing now is dropped)
            self.decisions[member] = at[member].has_bar.then_some(signal);
        }
        Ok(())
    }
}

/// Member `k`'s management, asked of the portfolio with the basket.
struct Asked<'x, 'i, 'a, P> {
    deciding: &'x mut Deciding<P>,
    k: usize,
    now: i64,
    at: &'x [Where],
    inputs: &'x [StepInputs<'i, 'a>],
    primary: &'x [Timeframe],
}

impl<P: PortfolioStrategy> Strategy for Asked<'_, '_, '_, P> {
    fn name(&self) -> &str {
        self.deciding.portfolio.name()
    }

    fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        Ok(())
    }

    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Ok(None)
    }

    fn manage_position(
        &mut self,
        position: &Position,
        _slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let deciding = &mut *self.deciding;
        deciding.positions[self.k] = Some(position.clone());
        deciding.managed_at[self.k] = Some(self.now);
        let views = member_views(self.at, self.inputs, &deciding.positions, self.primary);
        let basket = BasketSlice {
            time: self.now,
            members: &views,
            handles: &deciding.handles,
        };
        deciding
            .portfolio
            .manage_position(self.k, position, &basket)
    }
}

/// A member's evaluation: the portfolio's decision for it.
struct Decided(Option<TradeSignal>);

impl Strategy for Decided {
    fn name(&self) -> &str {
        "portfolio"
    }

    fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        Ok(())
    }

    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Ok(self.0.take())
    }
}

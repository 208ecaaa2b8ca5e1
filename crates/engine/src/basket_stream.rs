//! A basket streamed: each instrument's base bars fed as they close, the account stepped
//! time by time with the same phases as a basket backtest ([`crate::basket`]). Fed a
//! basket's bars and finished, it returns that basket's output, bit for bit.
//!
//! Bars must come in time order across the basket (bars of equal time in any order). A
//! time steps once a bar of any instrument at or after the end of its primary bars arrives
//! (or at the end): until then another instrument's bar for it may still come.

use crate::basket::{account_margin, conversion_of, Account, BasketOutput, Decide, EachOwn, Seat};
use crate::basket_portfolio::{portfolio_members, PortfolioDecide, PortfolioMember};
use crate::error::{DataErrorKind, EngineError};
use crate::run::{RunOptions, StepInputs, Stepper};
use crate::settings::EngineSettings;
use crate::stream::{FeedViews, StreamFeed};
use omega_strategy_api::{Bar, PortfolioStrategy, Strategy, Timeframe};

/// A basket run bar by bar, each member by its own strategy. See the module documentation.
#[derive(Debug)]
pub struct BasketStream<S: Strategy>(Stepped<S, EachOwn>);

/// A basket run bar by bar by one portfolio strategy (`crate::basket_portfolio`).
#[derive(Debug)]
pub struct PortfolioStream<P: PortfolioStrategy>(Stepped<PortfolioMember, PortfolioDecide<P>>);

impl<S: Strategy> BasketStream<S> {
    /// A basket of `members` (each instrument's base timeframe and settings) run by
    /// `strategies` (one each): the same checks as a basket backtest's start.
    pub fn new(
        members: Vec<(Timeframe, EngineSettings)>,
        strategies: Vec<S>,
        options: RunOptions,
    ) -> Result<Self, EngineError> {
        Stepped::start(members, strategies, EachOwn, false, options).map(BasketStream)
    }

    /// Feeds member `k`'s next base bar; returns how many basket times were stepped.
    pub fn push(&mut self, k: usize, bar: Bar) -> Result<usize, EngineError> {
        self.0.push(k, bar)
    }

    /// Ends the stream and returns the basket's output.
    pub fn finish(self) -> Result<BasketOutput, EngineError> {
        self.0.finish()
    }

    /// Basket times stepped so far.
    pub fn times_stepped(&self) -> usize {
        self.0.times_stepped()
    }

    /// The account's equity at each stepped time.
    pub fn equity(&self) -> &[f64] {
        self.0.equity()
    }
}

impl<P: PortfolioStrategy> PortfolioStream<P> {
    /// A basket of `members` (each instrument's base timeframe and settings) run by
    /// `portfolio` (its `init` runs here).
    pub fn new(
        members: Vec<(Timeframe, EngineSettings)>,
        portfolio: P,
        options: RunOptions,
    ) -> Result<Self, EngineError> {
        let settings: Vec<&EngineSettings> = members.iter().map(|(_, s)| s).collect();
        let (seats, decide) = portfolio_members(&settings, portfolio)?;
        Stepped::start(members, seats, decide, true, options).map(PortfolioStream)
    }

    /// Feeds member `k`'s next base bar; returns how many basket times were stepped.
    pub fn push(&mut self, k: usize, bar: Bar) -> Result<usize, EngineError> {
        self.0.push(k, bar)
    }

    /// Ends the stream and returns the basket's output.
    pub fn finish(self) -> Result<BasketOutput, EngineError> {
        self.0.finish()
    }

    /// Basket times stepped so far.
    pub fn times_stepped(&self) -> usize {
        self.0.times_stepped()
    }

    /// The account's equity at each stepped time.
    pub fn equity(&self) -> &[f64] {
        self.0.equity()
    }
}

/// The stream's state: `S` prepares each member, `D` decides at the closes.
#[derive(Debug)]
pub(crate) struct Stepped<S: Strategy, D> {
    feeds: Vec<StreamFeed>,
    strategies: Vec<S>,
    decide: D,
    seats: Vec<Seat>,
    account: Account,
    /// The latest bar time fed (any instrument).
    clock: Option<i64>,
    /// The longest primary timeframe of the members (ns).
    span: i64,
}

impl<S: Strategy, D: Decide<S>> Stepped<S, D> {
    fn start(
        members: Vec<(Timeframe, EngineSettings)>,
        mut strategies: Vec<S>,
        decide: D,
        shared_strategies: bool,
        options: RunOptions,
    ) -> Result<Self, EngineError> {
        if members.is_empty() || members.len() != strategies.len() {
            return Err(EngineError::Config(
                "a basket needs one strategy per member and at least one member".into(),
            ));
        }
        let margin = account_margin(&members.iter().map(|(_, s)| s).collect::<Vec<_>>())?;
        let mut feeds = Vec::with_capacity(members.len());
        let mut seats = Vec::with_capacity(members.len());
        let mut span = 0;
        for ((base_tf, settings), strategy) in members.into_iter().zip(strategies.iter_mut()) {
            let conversion = settings.validate()?;
            span = span.max(settings.primary_timeframe.nanos());
            let (feed, timeframes) = StreamFeed::new(base_tf, settings, strategy)?;
            seats.push(Seat {
                stepper: Stepper::new(&feed.settings, conversion, &timeframes, 0, options),
                next: 0,
                n: 0,
                mark: (0.0, 0.0),
                unrealized: 0.0,
                ahead_rates: Vec::new(),
                ahead_from: 0,
                rate_before: 0.0,
            });
            feeds.push(feed);
        }
        let account = Account {
            balance: feeds[0].settings.initial_balance,
            margin,
            time: Vec::new(),
            equity: Vec::new(),
            shared_strategies,
            stepping: Vec::new(),
            ahead: Vec::new(),
        };
        Ok(Stepped {
            feeds,
            strategies,
            decide,
            seats,
            account,
            clock: None,
            span,
        })
    }

    fn push(&mut self, k: usize, bar: Bar) -> Result<usize, EngineError> {
        let Some(feed) = self.feeds.get(k) else {
            return Err(EngineError::Config(format!(
                "basket stream: no member {k} (the basket has {})",
                self.feeds.len()
            )));
        };
        feed.check(&bar)?;
        if let Some(clock) = self.clock {
            if bar.time < clock {
                return Err(EngineError::Data {
                    kind: DataErrorKind::NonMonotonicTimestamp,
                    message: format!(
                        "basket stream: bars must come in time order across the basket: \
                         member {k} ({}) bar at {} after a bar at {clock}",
                        feed.settings.instrument.symbol, bar.time
                    ),
                    row: Some(feed.base_len()),
                    column: Some("time"),
                });
            }
        }
        self.clock = Some(bar.time);
        let before = self.account.time.len();
        for feed in &mut self.feeds {
            feed.close_ended(bar.time);
        }
        self.step_ready(false)?;
        self.feeds[k].add(bar);
        self.step_ready(false)?;
        Ok(self.account.time.len() - before)
    }

    /// Ends the stream: closes every bucket still open, steps the times left and returns
    /// the basket's output (each member's `end_of_data` at its last bar).
    fn finish(mut self) -> Result<BasketOutput, EngineError> {
        for (k, feed) in self.feeds.iter_mut().enumerate() {
            feed.close_all().map_err(|error| match error {
                EngineError::Data { kind, .. } => EngineError::Data {
                    kind,
                    message: format!(
                        "basket stream: member {k} ({}) got no bars",
                        feed.settings.instrument.symbol
                    ),
                    row: None,
                    column: None,
                },
                other => other,
            })?;
        }
        self.step_ready(true)?;
        let Stepped {
            feeds,
            strategies,
            seats,
            account,
            ..
        } = self;
        let views: Vec<FeedViews<'_>> = feeds.iter().map(StreamFeed::views).collect();
        let inputs = member_inputs(&feeds, &views)?;
        let base_bars: Vec<usize> = feeds.iter().map(StreamFeed::base_len).collect();
        let copy_time = vec![true; feeds.len()]; // the stream owns its bars
        account.finish(seats, &inputs, &base_bars, &copy_time, &strategies)
    }

    fn times_stepped(&self) -> usize {
        self.account.time.len()
    }

    fn equity(&self) -> &[f64] {
        &self.account.equity
    }

    /// Steps every time no bar can join any more (every time left at the end).
    fn step_ready(&mut self, end: bool) -> Result<(), EngineError> {
        let Stepped {
            feeds,
            strategies,
            decide,
            seats,
            account,
            clock,
            span,
        } = self;
        for (seat, feed) in seats.iter_mut().zip(feeds.iter()) {
            seat.n = feed.closed_primary();
        }
        let next_time = |seats: &[Seat], feeds: &[StreamFeed]| {
            seats
                .iter()
                .zip(feeds)
                .filter(|(seat, _)| seat.next < seat.n)
                .map(|(seat, feed)| feed.primary_bars().time[seat.next])
                .min()
        };
        let ready = |now: i64| {
            end || (clock.is_some_and(|c| now + *span <= c)
                && feeds
                    .iter()
                    .all(|f| f.open_primary_start().map_or(true, |start| start > now)))
        };
        if !next_time(seats, feeds).is_some_and(ready) {
            return Ok(());
        }
        let views: Vec<FeedViews<'_>> = feeds.iter().map(StreamFeed::views).collect();
        let inputs = member_inputs(feeds, &views)?;
        let settings: Vec<&EngineSettings> = feeds.iter().map(|f| &f.settings).collect();
        let mut active = Vec::with_capacity(seats.len());
        while let Some(now) = next_time(seats, feeds).filter(|&now| ready(now)) {
            active.clear();
            active.extend((0..seats.len()).filter(|&k| {
                let seat = &seats[k];
                seat.next < seat.n && inputs[k].primary.time[seat.next] == now
            }));
            account.step(seats, &active, &inputs, &settings, strategies, decide, now)?;
            for &k in &active {
                seats[k].next += 1;
            }
        }
        Ok(())
    }
}

/// Each feed's step inputs, a cross converting through another member reading that
/// member's base bars as fed so far.
fn member_inputs<'v, 'a>(
    feeds: &'a [StreamFeed],
    views: &'v [FeedViews<'a>],
) -> Result<Vec<StepInputs<'v, 'a>>, EngineError> {
    let mut inputs: Vec<StepInputs<'v, 'a>> = views.iter().map(FeedViews::inputs).collect();
    for (k, feed) in feeds.iter().enumerate() {
        inputs[k].conversion = conversion_of(&feed.settings, |j| {
            feeds.get(j).map(|f| {
                let bars = f.base_columns();
                (bars.time, bars.bid_close)
            })
        })?;
    }
    Ok(inputs)
}

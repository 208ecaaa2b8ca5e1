//! The [`PortfolioStrategy`] trait: one strategy over a whole basket (pairs trading,
//! currency baskets), the Rust side of `omega.strategy.portfolio.PortfolioStrategy`.
//!
//! It sees every instrument's closed bars and declared indicators through a [`BasketSlice`]
//! and returns signals per instrument. At each close time of the basket the engine first
//! manages each instrument holding a position ([`PortfolioStrategy::manage_position`]),
//! then calls [`PortfolioStrategy::evaluate`] once; its signals go to the instruments with
//! a bar closing then (a signal for another is dropped). No instrument's forming bar is
//! visible: an instrument's last closed bar is the last one opening at or before the
//! current bar's open time. Contract: docs/engine/portfolio.md.

use crate::context::{IndicatorHandle, StrategyError};
use crate::indicator_spec::IndicatorSpec;
use crate::params::Params;
use crate::signal::{Position, PositionAction, TradeSignal};
use crate::slice::{BarColumns, DataSlice};
use crate::types::{PriceSide, Timeframe};

/// An indicator declared on one instrument of the basket (see [`BasketContext::indicator`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BasketHandle(pub u32);

/// What [`PortfolioStrategy::init`] sees: the basket's symbols (member `k` is instrument
/// id `k`), their pip sizes, the primary timeframe, the configured timeframes.
#[derive(Debug)]
pub struct BasketContext<'a> {
    pub symbols: &'a [String],
    pub pip_sizes: &'a [f64],
    pub primary: Timeframe,
    pub timeframes: &'a [Timeframe],
    /// Per handle: its member and the declaration.
    requests: Vec<(usize, Timeframe, PriceSide, IndicatorSpec)>,
}

impl<'a> BasketContext<'a> {
    pub fn new(
        symbols: &'a [String],
        pip_sizes: &'a [f64],
        primary: Timeframe,
        timeframes: &'a [Timeframe],
    ) -> Self {
        BasketContext {
            symbols,
            pip_sizes,
            primary,
            timeframes,
            requests: Vec::new(),
        }
    }

    /// The member trading `symbol`.
    pub fn member(&self, symbol: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s == symbol)
    }

    /// Declares `spec` on the bid side of the primary timeframe of `member`.
    pub fn indicator(&mut self, member: usize, spec: IndicatorSpec) -> BasketHandle {
        self.indicator_on(member, self.primary, PriceSide::Bid, spec)
    }

    /// Declares `spec` on `side` of `timeframe` of `member`.
    pub fn indicator_on(
        &mut self,
        member: usize,
        timeframe: Timeframe,
        side: PriceSide,
        spec: IndicatorSpec,
    ) -> BasketHandle {
        self.requests.push((member, timeframe, side, spec));
        BasketHandle(self.requests.len() as u32 - 1)
    }

    /// Every declaration in handle order: `(member, timeframe, side, spec)`.
    pub fn requests(&self) -> &[(usize, Timeframe, PriceSide, IndicatorSpec)] {
        &self.requests
    }
}

/// One instrument at a basket close: its slice at its last closed primary bar (`None`
/// before its first), whether it has a bar closing now, and its position as of its last
/// close (as of its management for one closing now).
#[derive(Debug, Clone, Copy)]
pub struct BasketMemberView<'a> {
    pub slice: Option<DataSlice<'a>>,
    pub has_bar: bool,
    pub position: Option<&'a Position>,
}

/// The basket at one close: every instrument's closed bars and declared indicators.
#[derive(Debug, Clone, Copy)]
pub struct BasketSlice<'a> {
    /// Open time (UTC ns) of the bars closing now.
    pub time: i64,
    pub members: &'a [BasketMemberView<'a>],
    /// Per [`BasketHandle`]: its member and that member's own indicator handle.
    pub handles: &'a [(usize, IndicatorHandle)],
}

impl<'a> BasketSlice<'a> {
    /// Whether `member` has a bar closing now (only those can act on a signal).
    pub fn has_bar(&self, member: usize) -> bool {
        self.members.get(member).is_some_and(|m| m.has_bar)
    }

    /// `member`'s slice at its last closed primary bar (`None` before its first).
    pub fn slice(&self, member: usize) -> Option<&DataSlice<'a>> {
        self.members.get(member).and_then(|m| m.slice.as_ref())
    }

    /// `member`'s bid closes up to its last closed primary bar (empty before it).
    pub fn closes(&self, member: usize) -> &'a [f64] {
        self.primary_bars(member).map_or(&[], |bars| bars.bid_close)
    }

    /// `member`'s ask closes up to its last closed primary bar (empty before it).
    pub fn ask_closes(&self, member: usize) -> &'a [f64] {
        self.primary_bars(member).map_or(&[], |bars| bars.ask_close)
    }

    fn primary_bars(&self, member: usize) -> Option<BarColumns<'a>> {
        let slice = self.slice(member)?;
        slice.closed_bars(slice.primary_timeframe())
    }

    /// `member`'s open position (see [`BasketMemberView::position`]).
    pub fn position(&self, member: usize) -> Option<&'a Position> {
        self.members.get(member).and_then(|m| m.position)
    }

    /// A declared indicator at its instrument's last closed bar (NaN before it).
    pub fn value(&self, handle: BasketHandle) -> f64 {
        let Some(&(member, local)) = self.handles.get(handle.0 as usize) else {
            return f64::NAN;
        };
        self.slice(member).map_or(f64::NAN, |s| s.value(local))
    }
}

/// A strategy over a whole basket. See the module documentation.
pub trait PortfolioStrategy {
    /// Registry name (`"pairs_zscore"`).
    fn name(&self) -> &str;

    /// The validated parameters the strategy was built with.
    fn params(&self) -> Option<&Params> {
        None
    }

    /// Once per run: read the basket, declare indicators per instrument.
    fn init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError>;

    /// At every close time: signals by member (for members with a bar closing now).
    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError>;

    /// At every close of `member` while it holds `position` (before `evaluate`).
    fn manage_position(
        &mut self,
        member: usize,
        position: &Position,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let _ = (member, position, basket);
        Ok(Vec::new())
    }
}

impl<P: PortfolioStrategy + ?Sized> PortfolioStrategy for &mut P {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn params(&self) -> Option<&Params> {
        (**self).params()
    }
    fn init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        (**self).init(ctx)
    }
    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        (**self).evaluate(basket)
    }
    fn manage_position(
        &mut self,
        member: usize,
        position: &Position,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        (**self).manage_position(member, position, basket)
    }
}

//! The [`Strategy`] trait every Omega strategy implements.

use crate::context::{RunContext, StrategyError};
use crate::params::Params;
use crate::signal::{OrderAction, Position, PositionAction, TradeSignal, WorkingOrder};
use crate::slice::DataSlice;

/// A trading strategy driven bar by bar by the engine (backtest or live, the same calls).
///
/// At the start of every run the engine calls [`Strategy::init`], where the strategy
/// declares its indicators and keeps their handles. Then, at each primary close, it calls
/// [`Strategy::manage_position`] (only while a position is open and no forced exit was
/// queued) and [`Strategy::evaluate`]. The exact order of events is
/// docs/engine/execution.md. An `Err` stops the run with its message.
pub trait Strategy {
    /// Registry name (`"mean_reversion_z_score"`).
    fn name(&self) -> &str;

    /// The validated parameters the strategy was built with, handed back to it (and to
    /// tools) through [`RunContext::params`]; `None` for a strategy without any.
    fn params(&self) -> Option<&Params> {
        None
    }

    /// The start of a run: read the instrument, timeframes and parameters from `ctx` and
    /// declare every indicator read later (built-in or custom). Called again for every run,
    /// so per-run state is reset here and handles are declared anew.
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError>;

    /// Decides at the close whether to enter at the next open.
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError>;

    /// Manages the open position at the close: the actions are applied in the order given
    /// (docs/engine/execution.md, step 3.6).
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let _ = (position, slice);
        Ok(Vec::new())
    }

    /// Manages the working pending entry order at the close, before `evaluate`: the actions
    /// are applied in the order given (docs/engine/execution.md, step 3.7). The default
    /// leaves the order working.
    fn manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<OrderAction>, StrategyError> {
        let _ = (order, slice);
        Ok(Vec::new())
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn params(&self) -> Option<&Params> {
        (**self).params()
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        (**self).init(ctx)
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        (**self).evaluate(slice)
    }
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        (**self).manage_position(position, slice)
    }
    fn manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<OrderAction>, StrategyError> {
        (**self).manage_order(order, slice)
    }
}

//! The [`Strategy`] trait every Omega strategy implements.

use crate::signal::{Position, PositionAction, TradeSignal};
use crate::slice::DataSlice;
use crate::types::{IndicatorKey, Timeframe};

/// A trading strategy driven bar by bar by the engine (backtest or live, the same calls).
///
/// At each primary close the engine calls [`Strategy::manage_position`] (only while a
/// position is open and no forced exit was queued) and then [`Strategy::evaluate`]. The
/// exact order of events is docs/engine/execution.md.
pub trait Strategy {
    /// Registry name (`"mean_reversion_z_score"`).
    fn name(&self) -> &str;

    /// Indicators the engine must compute before the run; read them with
    /// [`DataSlice::indicator`]. Their timeframes are added to the configured ones.
    fn indicators(&self, primary: Timeframe) -> Vec<IndicatorKey>;

    /// Decides at the close whether to enter at the next open.
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal>;

    /// Manages the open position at the close.
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        let _ = (position, slice);
        None
    }

    /// A failure the strategy could not express through its return values (for instance an
    /// exception raised by a strategy written in another language). The engine polls it after
    /// every call and stops the run with this message when it is `Some`.
    fn take_error(&mut self) -> Option<String> {
        None
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn indicators(&self, primary: Timeframe) -> Vec<IndicatorKey> {
        (**self).indicators(primary)
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        (**self).evaluate(slice)
    }
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        (**self).manage_position(position, slice)
    }
    fn take_error(&mut self) -> Option<String> {
        (**self).take_error()
    }
}

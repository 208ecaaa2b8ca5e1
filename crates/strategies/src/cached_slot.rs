//! A strategy's memo of where one of its indicators sits in the slices of a run, so each bar
//! reads it by index instead of searching the declared indicators by key.

use omega_strategy_api::{
    DataSlice, IndicatorKey, IndicatorSlot, IndicatorSpec, PriceSide, Timeframe,
};

/// The key of `spec` on the bid side of `timeframe` (every built-in strategy reads bids).
pub(crate) fn bid_key(timeframe: Timeframe, spec: IndicatorSpec) -> IndicatorKey {
    IndicatorKey {
        timeframe,
        side: PriceSide::Bid,
        spec,
    }
}

/// The slot of one bid indicator of a strategy (fixed spec). Reused only for the same
/// timeframe (the part of a key that follows the slice's primary timeframe), and the slice
/// checks that the slot belongs to its layout, so a stale memo costs a search, never a wrong
/// value. Strategies forget their slots at each run start (see [`RunStart`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct CachedSlot(Option<IndicatorSlot>);

impl CachedSlot {
    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    /// The values up to its last closed bar (empty when not declared) of `spec` on the bid
    /// side of `timeframe`. The whole key is built only when the slot must be found again,
    /// not at every bar.
    #[inline]
    pub(crate) fn series<'a>(
        &mut self,
        slice: &DataSlice<'a>,
        timeframe: Timeframe,
        spec: &IndicatorSpec,
    ) -> &'a [f64] {
        if let Some(slot) = &self.0 {
            if slot.key().timeframe == timeframe {
                return slice.slot_series(slot).unwrap_or(&[]);
            }
        }
        self.0 = slice.indicator_slot(&bid_key(timeframe, *spec));
        match &self.0 {
            Some(slot) => slice.slot_series(slot).unwrap_or(&[]),
            None => &[],
        }
    }

    /// The indicator `offset` bars before its last closed bar; NaN when not declared or
    /// before the series starts (as `indicator_offset(..).unwrap_or(NAN)`).
    #[inline]
    pub(crate) fn value(
        &mut self,
        slice: &DataSlice<'_>,
        timeframe: Timeframe,
        spec: &IndicatorSpec,
        offset: usize,
    ) -> f64 {
        let series = self.series(slice, timeframe, spec);
        series
            .len()
            .checked_sub(1 + offset)
            .map_or(f64::NAN, |k| series[k])
    }
}

/// Set by `Strategy::indicators` (which takes `&self`), taken by the next `evaluate` or
/// `manage_position` (which take `&mut self`) to drop per-run memos.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunStart(std::cell::Cell<bool>);

impl RunStart {
    pub(crate) fn mark(&self) {
        self.0.set(true);
    }

    /// Whether a run started since the last call.
    #[inline]
    pub(crate) fn take(&self) -> bool {
        self.0.replace(false)
    }
}

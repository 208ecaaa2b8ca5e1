//! `sma_cross`, line by line from docs/strategies/sma_cross.md (as `omega.strategies.sma_cross`).

use crate::cached_slot::{bid_key, CachedSlot, RunStart};

use omega_strategy_api::{
    validate, DataSlice, IndicatorKey, IndicatorSpec, Limit, ParamError, ParamSpec, ParamValue,
    Position, PositionAction, PriceField, Strategy, Timeframe, TradeSignal,
};

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("fast", 10)
        .min(Limit::incl(1.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::int("slow", 30)
        .min(Limit::incl(2.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::float("size", 1.0).min(Limit::excl(0.0)),
];

/// Always in the market after the first cross of a fast and a slow SMA of the bid close.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast: IndicatorSpec,
    slow: IndicatorSpec,
    size: f64,
    /// (bar index, cross) of the last bar computed: `manage_position` and `evaluate` ask at
    /// the same close (as the Python twin). Per-run memos, like the slots.
    cross_at: Option<(usize, i8)>,
    fast_slot: CachedSlot,
    slow_slot: CachedSlot,
    run_start: RunStart,
}

impl SmaCross {
    pub const NAME: &'static str = "sma_cross";

    pub fn new(given: &[(String, ParamValue)]) -> Result<Self, ParamError> {
        let p = validate(PARAMS, given)?;
        let (fast, slow) = (p.int("fast"), p.int("slow"));
        if fast >= slow {
            return Err(ParamError::Invalid {
                message: format!("fast ({fast}) must be < slow ({slow})"),
            });
        }
        Ok(SmaCross {
            fast: IndicatorSpec::Sma {
                period: fast as usize,
                field: PriceField::Close,
            },
            slow: IndicatorSpec::Sma {
                period: slow as usize,
                field: PriceField::Close,
            },
            size: p.float("size"),
            cross_at: None,
            fast_slot: CachedSlot::default(),
            slow_slot: CachedSlot::default(),
            run_start: RunStart::default(),
        })
    }

    /// +1 on a cross above at this close, -1 on a cross below, 0 otherwise (once per bar).
    fn cross(&mut self, slice: &DataSlice<'_>) -> i8 {
        if self.run_start.take() {
            self.cross_at = None;
            self.fast_slot.clear();
            self.slow_slot.clear();
        }
        match self.cross_at {
            Some((index, cross)) if index == slice.index() => cross,
            _ => {
                let cross = self.compute_cross(slice);
                self.cross_at = Some((slice.index(), cross));
                cross
            }
        }
    }

    fn compute_cross(&mut self, slice: &DataSlice<'_>) -> i8 {
        let timeframe = slice.primary_timeframe();
        // The last two closed values of each (NaN before the series starts).
        let last_two = |series: &[f64]| match *series {
            [.., before, last] => (before, last),
            [last] => (f64::NAN, last),
            [] => (f64::NAN, f64::NAN),
        };
        let (f0, f1) = last_two(self.fast_slot.series(slice, timeframe, &self.fast));
        let (s0, s1) = last_two(self.slow_slot.series(slice, timeframe, &self.slow));
        slice.record("fast", f1);
        slice.record("slow", s1);
        if f0.is_nan() || s0.is_nan() || f1.is_nan() || s1.is_nan() {
            return 0;
        }
        if f0 <= s0 && f1 > s1 {
            return 1;
        }
        if f0 >= s0 && f1 < s1 {
            return -1;
        }
        0
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn indicators(&self, primary: Timeframe) -> Vec<IndicatorKey> {
        self.run_start.mark();
        vec![bid_key(primary, self.fast), bid_key(primary, self.slow)]
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        let cross = self.cross(slice);
        if cross == 0 {
            return None;
        }
        if slice.position().is_some_and(|p| p.side.sign() == cross) {
            return None;
        }
        Some(if cross == 1 {
            TradeSignal::long()
                .with_size(self.size)
                .with_tag("sma_long")
        } else {
            TradeSignal::short()
                .with_size(self.size)
                .with_tag("sma_short")
        })
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        let cross = self.cross(slice);
        (cross != 0 && cross != position.side.sign()).then_some(PositionAction::Close)
    }
}

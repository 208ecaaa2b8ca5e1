//! `zscore_threshold`, line by line from docs/strategies/zscore_threshold.md.

use crate::cached_slot::{bid_key, CachedSlot, RunStart};
use omega_strategy_api::{
    validate, DataSlice, IndicatorKey, IndicatorSpec, Limit, ParamError, ParamSpec, ParamValue,
    Position, PositionAction, PriceField, Strategy, Timeframe, TradeSignal,
};

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("period", 50)
        .min(Limit::incl(2.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::float("entry", 2.0)
        .min(Limit::excl(0.0))
        .max(Limit::incl(10.0)),
    ParamSpec::float("exit", 0.5)
        .min(Limit::incl(0.0))
        .max(Limit::incl(10.0)),
    ParamSpec::float("sl_mult", 2.0).min(Limit::excl(0.0)),
    ParamSpec::float("tp_mult", 3.0).min(Limit::excl(0.0)),
    ParamSpec::float("size", 1.0).min(Limit::excl(0.0)),
];

/// Fades a close more than `entry` rolling standard deviations from its rolling mean.
#[derive(Debug, Clone)]
pub struct ZScoreThreshold {
    zscore: IndicatorSpec,
    std: IndicatorSpec,
    entry: f64,
    exit: f64,
    sl_mult: f64,
    tp_mult: f64,
    size: f64,
    zscore_slot: CachedSlot,
    std_slot: CachedSlot,
    run_start: RunStart,
}

impl ZScoreThreshold {
    pub const NAME: &'static str = "zscore_threshold";

    pub fn new(given: &[(String, ParamValue)]) -> Result<Self, ParamError> {
        let p = validate(PARAMS, given)?;
        let (entry, exit) = (p.float("entry"), p.float("exit"));
        if exit >= entry {
            return Err(ParamError::Invalid {
                message: format!("exit ({exit}) must be < entry ({entry})"),
            });
        }
        let period = p.int("period") as usize;
        Ok(ZScoreThreshold {
            zscore: IndicatorSpec::ZScore {
                period,
                field: PriceField::Close,
            },
            std: IndicatorSpec::RollingStd {
                period,
                field: PriceField::Close,
            },
            entry,
            exit,
            sl_mult: p.float("sl_mult"),
            tp_mult: p.float("tp_mult"),
            size: p.float("size"),
            zscore_slot: CachedSlot::default(),
            std_slot: CachedSlot::default(),
            run_start: RunStart::default(),
        })
    }

    fn forget_slots_at_run_start(&mut self) {
        if self.run_start.take() {
            self.zscore_slot.clear();
            self.std_slot.clear();
        }
    }

    fn value(slice: &DataSlice<'_>, spec: &IndicatorSpec, slot: &mut CachedSlot) -> f64 {
        slot.value(slice, slice.primary_timeframe(), spec, 0)
    }
}

impl Strategy for ZScoreThreshold {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn indicators(&self, primary: Timeframe) -> Vec<IndicatorKey> {
        self.run_start.mark();
        vec![bid_key(primary, self.zscore), bid_key(primary, self.std)]
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        self.forget_slots_at_run_start();
        if slice.position().is_some() {
            return None;
        }
        let z = Self::value(slice, &self.zscore, &mut self.zscore_slot);
        let s = Self::value(slice, &self.std, &mut self.std_slot);
        slice.record("z", z);
        slice.record("std", s);
        if z.is_nan() || s.is_nan() {
            return None;
        }
        let signal = |signal: TradeSignal, tag: &str| {
            signal
                .with_stop_loss_distance(self.sl_mult * s)
                .with_take_profit_distance(self.tp_mult * s)
                .with_size(self.size)
                .with_tag(tag)
        };
        if z < -self.entry {
            return Some(signal(TradeSignal::long(), "z_long"));
        }
        if z > self.entry {
            return Some(signal(TradeSignal::short(), "z_short"));
        }
        None
    }

    fn manage_position(
        &mut self,
        _position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        self.forget_slots_at_run_start();
        let z = Self::value(slice, &self.zscore, &mut self.zscore_slot);
        if z.is_nan() {
            return None;
        }
        (z.abs() < self.exit).then_some(PositionAction::Close)
    }
}

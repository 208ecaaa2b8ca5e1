//! `zscore_threshold`, line by line from docs/strategies/zscore_threshold.md.

use omega_strategy_api::{
    validate, DataSlice, IndicatorHandle, IndicatorSpec, Limit, ParamError, ParamSpec, ParamValue,
    Params, Position, PositionAction, PriceField, RunContext, Strategy, StrategyError, TradeSignal,
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
    params: Params,
    zscore_handle: IndicatorHandle,
    std_handle: IndicatorHandle,
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
            params: p,
            zscore_handle: IndicatorHandle(0),
            std_handle: IndicatorHandle(0),
        })
    }
}

impl Strategy for ZScoreThreshold {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }

    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.zscore_handle = ctx.indicator(self.zscore);
        self.std_handle = ctx.indicator(self.std);
        Ok(())
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        if slice.position().is_some() {
            return Ok(None);
        }
        let z = slice.value(self.zscore_handle);
        let s = slice.value(self.std_handle);
        slice.record("z", z);
        slice.record("std", s);
        if z.is_nan() || s.is_nan() {
            return Ok(None);
        }
        let signal = |signal: TradeSignal, tag: &str| {
            signal
                .with_stop_loss_distance(self.sl_mult * s)
                .with_take_profit_distance(self.tp_mult * s)
                .with_size(self.size)
                .with_tag(tag)
        };
        if z < -self.entry {
            return Ok(Some(signal(TradeSignal::long(), "z_long")));
        }
        if z > self.entry {
            return Ok(Some(signal(TradeSignal::short(), "z_short")));
        }
        Ok(None)
    }

    fn manage_position(
        &mut self,
        _position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let z = slice.value(self.zscore_handle);
        // NaN compares false: no exit during warm-up.
        Ok(if z.abs() < self.exit {
            vec![PositionAction::Close]
        } else {
            vec![]
        })
    }
}

//! `mean_reversion_z_score`, line by line from docs/strategies/mean_reversion_z_score.md.

use omega_strategy_api::{
    validate, DataSlice, IndicatorHandle, IndicatorSpec, Limit, ParamError, ParamSpec, ParamValue,
    Params, Position, PositionAction, PriceField, PriceSide, RunContext, Side, Strategy,
    StrategyError, Timeframe, TradeSignal,
};

/// Parameters with the types, defaults and ranges of the docs page.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::float("kalman_q", 0.01).min(Limit::excl(0.0)),
    ParamSpec::float("kalman_r", 1.0).min(Limit::excl(0.0)),
    ParamSpec::float("kalman_p0", 1.0).min(Limit::excl(0.0)),
    ParamSpec::int("lookback", 200)
        .min(Limit::incl(5.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::float("z_entry", 3.5)
        .min(Limit::incl(0.1))
        .max(Limit::incl(10.0)),
    ParamSpec::float("z_exit", 0.5)
        .min(Limit::incl(0.0))
        .max(Limit::incl(10.0)),
    ParamSpec::int("atr_period", 14)
        .min(Limit::incl(2.0))
        .max(Limit::incl(500.0)),
    ParamSpec::float("sl_atr", 3.0).min(Limit::excl(0.0)),
    ParamSpec::float("tp_atr", 4.0).min(Limit::incl(0.0)),
    ParamSpec::int("max_holding_bars", 48).min(Limit::incl(0.0)),
    ParamSpec::boolean("trend_filter", true),
    ParamSpec::timeframe("trend_timeframe", Timeframe::H1),
    ParamSpec::int("trend_ema", 50)
        .min(Limit::incl(2.0))
        .max(Limit::incl(1000.0)),
];

/// Fades large Kalman-residual z-scores in the direction of the higher-timeframe trend.
#[derive(Debug, Clone)]
pub struct MeanReversionZScore {
    zscore: IndicatorSpec,
    atr: IndicatorSpec,
    ema: IndicatorSpec,
    z_entry: f64,
    z_exit: f64,
    sl_atr: f64,
    tp_atr: f64,
    max_holding_bars: u32,
    trend_filter: bool,
    trend_timeframe: Timeframe,
    params: Params,
    zscore_handle: IndicatorHandle,
    atr_handle: IndicatorHandle,
    ema_handle: IndicatorHandle,
}

impl MeanReversionZScore {
    pub const NAME: &'static str = "mean_reversion_z_score";

    pub fn new(given: &[(String, ParamValue)]) -> Result<Self, ParamError> {
        let p = validate(PARAMS, given)?;
        let (z_entry, z_exit) = (p.float("z_entry"), p.float("z_exit"));
        if z_exit >= z_entry {
            return Err(ParamError::Invalid {
                message: format!("z_exit ({z_exit}) must be < z_entry ({z_entry})"),
            });
        }
        Ok(MeanReversionZScore {
            zscore: IndicatorSpec::KalmanZScore {
                q: p.float("kalman_q"),
                r: p.float("kalman_r"),
                x0: None,
                p0: p.float("kalman_p0"),
                lookback: p.int("lookback") as usize,
                field: PriceField::Close,
            },
            atr: IndicatorSpec::Atr {
                period: p.int("atr_period") as usize,
            },
            ema: IndicatorSpec::Ema {
                period: p.int("trend_ema") as usize,
                field: PriceField::Close,
            },
            z_entry,
            z_exit,
            sl_atr: p.float("sl_atr"),
            tp_atr: p.float("tp_atr"),
            max_holding_bars: u32::try_from(p.int("max_holding_bars")).unwrap_or(u32::MAX),
            trend_filter: p.boolean("trend_filter"),
            trend_timeframe: p.timeframe("trend_timeframe"),
            params: p,
            zscore_handle: IndicatorHandle(0),
            atr_handle: IndicatorHandle(0),
            ema_handle: IndicatorHandle(0),
        })
    }
}

impl Strategy for MeanReversionZScore {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }

    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        let primary = ctx.primary_timeframe();
        self.zscore_handle = ctx.indicator(self.zscore);
        self.atr_handle = ctx.indicator(self.atr);
        if self.trend_filter {
            if self.trend_timeframe.seconds() <= primary.seconds() {
                return Err(StrategyError(format!(
                    "strategy {}: parameter trend_timeframe: {} must be coarser than the primary \
                     timeframe {}",
                    Self::NAME,
                    self.trend_timeframe.name(),
                    primary.name()
                )));
            }
            self.ema_handle = ctx.indicator_on(self.trend_timeframe, PriceSide::Bid, self.ema);
        }
        Ok(())
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Ok(self.signal(slice))
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let z = slice.value(self.zscore_handle);
        if z.is_nan() {
            return Ok(vec![]);
        }
        let exit = match position.side {
            Side::Long => z >= -self.z_exit,
            Side::Short => z <= self.z_exit,
        };
        Ok(if exit {
            vec![PositionAction::Close]
        } else {
            vec![]
        })
    }
}

impl MeanReversionZScore {
    /// The entry decision at this close (docs/strategies/mean_reversion_z_score.md).
    fn signal(&self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        if slice.position().is_some() {
            return None;
        }
        let z = slice.value(self.zscore_handle);
        let a = slice.value(self.atr_handle);
        slice.record("z", z);
        slice.record("atr", a);
        if z.is_nan() || a.is_nan() {
            return None;
        }
        let (mut allow_long, mut allow_short) = (true, true);
        if self.trend_filter {
            let htf_close = slice.last_closed(self.trend_timeframe)?.bid.close;
            let ema = slice.value(self.ema_handle);
            slice.record("htf_close", htf_close);
            slice.record("htf_ema", ema);
            if ema.is_nan() {
                return None;
            }
            allow_long = htf_close >= ema;
            allow_short = htf_close <= ema;
        }
        let sl_distance = self.sl_atr * a;
        let tp_distance = (self.tp_atr != 0.0).then_some(self.tp_atr * a);
        let signal = |side: Side, tag: &str| {
            let mut s = TradeSignal::new(side)
                .with_stop_loss_distance(sl_distance)
                .with_tag(tag);
            if let Some(d) = tp_distance {
                s = s.with_take_profit_distance(d);
            }
            if self.max_holding_bars != 0 {
                s = s.with_max_bars(self.max_holding_bars);
            }
            s
        };
        if z < -self.z_entry && allow_long {
            return Some(signal(Side::Long, "mr_long"));
        }
        if z > self.z_entry && allow_short {
            return Some(signal(Side::Short, "mr_short"));
        }
        None
    }
}

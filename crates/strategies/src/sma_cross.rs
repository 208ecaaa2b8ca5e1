//! `sma_cross`, line by line from docs/strategies/sma_cross.md (as `omega.strategies.sma_cross`).

use omega_strategy_api::{
    validate, DataSlice, IndicatorHandle, IndicatorSpec, Limit, ParamError, ParamSpec, ParamValue,
    Params, Position, PositionAction, PriceField, RunContext, Strategy, StrategyError, TradeSignal,
};

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("fast", 10)
        .min(Limit::incl(1.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::int("slow", 30)
        .min(Limit::incl(2.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::float("size", 1.0).min(Limit::excl(0.0)),
    ParamSpec::float("entry_offset_pips", 0.0)
        .min(Limit::incl(0.0))
        .max(Limit::incl(10_000.0)),
    ParamSpec::boolean("entry_stop", false),
    ParamSpec::int("entry_expiry_bars", 0)
        .min(Limit::incl(0.0))
        .max(Limit::incl(100_000.0)),
];

/// Always in the market after the first cross of a fast and a slow SMA of the bid close.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast: IndicatorSpec,
    slow: IndicatorSpec,
    size: f64,
    /// Pending entries: the offset from the signal bar's close (0: market entries), stop
    /// orders (else limit orders), their expiry in bars (0: never).
    entry_offset_pips: f64,
    entry_stop: bool,
    entry_expiry_bars: u32,
    pip: f64,
    params: Params,
    /// (bar index, cross) of the last bar computed: `manage_position` and `evaluate` ask at
    /// the same close (as the Python twin). Reset by `init`.
    cross_at: Option<(usize, i8)>,
    fast_handle: IndicatorHandle,
    slow_handle: IndicatorHandle,
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
            entry_offset_pips: p.float("entry_offset_pips"),
            entry_stop: p.boolean("entry_stop"),
            entry_expiry_bars: p.int("entry_expiry_bars") as u32,
            pip: 0.0001,
            params: p,
            cross_at: None,
            fast_handle: IndicatorHandle(0),
            slow_handle: IndicatorHandle(0),
        })
    }

    /// +1 on a cross above at this close, -1 on a cross below, 0 otherwise (once per bar).
    fn cross(&mut self, slice: &DataSlice<'_>) -> i8 {
        match self.cross_at {
            Some((index, cross)) if index == slice.index() => cross,
            _ => {
                let cross = self.compute_cross(slice);
                self.cross_at = Some((slice.index(), cross));
                cross
            }
        }
    }

    fn compute_cross(&self, slice: &DataSlice<'_>) -> i8 {
        // The last two closed values of each (NaN before the series starts).
        let (f0, f1) = (
            slice.value_at(self.fast_handle, 1),
            slice.value(self.fast_handle),
        );
        let (s0, s1) = (
            slice.value_at(self.slow_handle, 1),
            slice.value(self.slow_handle),
        );
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

impl SmaCross {
    /// `signal` as a pending entry when `entry_offset_pips` > 0: a limit (or stop)
    /// `entry_offset_pips` below (above) the ask close for a long, above (below) the bid
    /// close for a short.
    #[cold] // out of the per-bar path of market entries
    fn entry_order(&self, slice: &DataSlice<'_>, cross: i8, signal: TradeSignal) -> TradeSignal {
        let bar = slice.bar();
        let offset = self.entry_offset_pips * self.pip;
        let price = match (cross == 1, self.entry_stop) {
            (true, true) => bar.ask.close + offset,
            (true, false) => bar.ask.close - offset,
            (false, true) => bar.bid.close - offset,
            (false, false) => bar.bid.close + offset,
        };
        let signal = if self.entry_stop {
            signal.with_stop_entry(price)
        } else {
            signal.with_limit(price)
        };
        if self.entry_expiry_bars > 0 {
            signal.expiring_after(self.entry_expiry_bars)
        } else {
            signal
        }
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }

    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.cross_at = None;
        self.pip = ctx.instrument().pip_size;
        self.fast_handle = ctx.indicator(self.fast);
        self.slow_handle = ctx.indicator(self.slow);
        Ok(())
    }

    #[inline]
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        let cross = self.cross(slice);
        if cross == 0 {
            return Ok(None);
        }
        if slice.position().is_some_and(|p| p.side.sign() == cross) {
            return Ok(None);
        }
        let signal = if cross == 1 {
            TradeSignal::long()
                .with_size(self.size)
                .with_tag("sma_long")
        } else {
            TradeSignal::short()
                .with_size(self.size)
                .with_tag("sma_short")
        };
        Ok(Some(if self.entry_offset_pips == 0.0 {
            signal
        } else {
            self.entry_order(slice, cross, signal)
        }))
    }

    #[inline]
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let cross = self.cross(slice);
        let exit = cross != 0 && cross != position.side.sign();
        Ok(if exit {
            vec![PositionAction::Close]
        } else {
            vec![]
        })
    }
}

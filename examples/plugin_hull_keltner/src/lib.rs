//! `hull_keltner`: a trend strategy whose two indicators are defined here, in the plugin
//! crate, with the [`Indicator`] trait of omega-strategy-api (its only dependency).
//!
//! - [`HullMa`] (`Input = f64`, bid close): `WMA(2 * WMA(n / 2) - WMA(n), isqrt(n))`, built
//!   from the crate's own [`Wma`];
//! - [`KeltnerBand`] (`Input = Hlc`, bid side): an SMA-seeded EMA of the close (the middle)
//!   plus `band * k` times the crate's own Wilder ATR (`band` = +1 upper, 0 middle, -1 lower).
//!
//! Both are declared in `init` with [`CustomIndicator::on_field`] / [`CustomIndicator::on_range`]
//! on the primary timeframe the [`RunContext`] names (never a hardcoded one) and read with
//! `slice.value(handle)` / `slice.value_at(handle, 1)`.
//!
//! Rules (bid close `c`, previous close `p`, Hull `h` now and `h1` one bar back):
//! - flat: long when `p <= h1 && c > h` (a cross up) and `c > middle`; short when `p >= h1 &&
//!   c < h` and `c < middle`; stop `stop_atr * ATR` away (built-in ATR, `atr_period`);
//! - long open: close on the opposite cross; half off when the close crosses above the upper
//!   band; once the gain reaches `be_atr * ATR`, [`PositionAction::MoveToBreakEven`]
//!   (`be_pips`; only while the stop is below that level) then [`PositionAction::TrailStop`]
//!   at `trail_atr` ATRs ([`Distance::Atr`]), several actions in one bar. Shorts mirror it
//!   (the gain against the ask close, the lower band).
//!
//! # Float-operation rules the Python twin (examples/hull_keltner.py) follows
//! Parity is bit-for-bit, so both sides perform the same IEEE operations in the same order
//! (crates/strategy_api/src/indicator.rs):
//! - WMA: the weighted sum is recomputed from the window every bar, oldest value first,
//!   `acc = acc + x_j * (j + 1) as f64` from `acc = 0.0`, then one division by
//!   `(n * (n + 1) / 2) as f64` (no running sums, no `mul_add`);
//! - Hull: `2.0 * half - full` from bar `n - 1`, fed to the smoothing WMA; `isqrt` in integers;
//! - EMA: seed = `(sum of the first n - 1 values, left to right, from 0.0) + x_n` divided by
//!   `n as f64`; then `prev = (x - prev) * alpha + prev` with `alpha = 2.0 / (n + 1) as f64`;
//! - ATR: `tr = max(max(h - l, |h - pc|), |l - pc|)` (inputs never NaN, so `f64::max` and
//!   Python's `max` agree); seed = sum of TR_1..TR_n left to right / n; then
//!   `atr = atr * (n - 1) as f64; atr = atr + tr; atr = atr / n as f64`;
//! - band: `middle + k * band * atr` is computed as `middle + (k * band) * atr`, with the
//!   product `k * band` taken once at construction;
//! - strategy arithmetic: `stop_atr * atr`, `be_atr * atr`, `entry + be_pips * pip` as
//!   written, comparisons with NaN false on both sides.

use omega_strategy_api::abi::PluginStrategy;
use omega_strategy_api::{
    validate, DataSlice, Distance, Hlc, Indicator, IndicatorHandle, IndicatorSpec, Limit,
    OrderAction, ParamSpec, ParamValue, Params, Position, PositionAction, PriceField, PriceSide,
    RunContext, Side, Strategy, StrategyError, TradeSignal, WorkingOrder,
};

/// Weighted moving average, weights `1..=n` (newest `n`); first `n - 1` outputs NaN.
#[derive(Debug, Clone)]
pub struct Wma {
    period: usize,
    divider: f64,
    window: Vec<f64>,
    count: usize,
}

impl Wma {
    pub fn new(period: usize) -> Self {
        assert!(period >= 1, "wma period must be >= 1");
        Wma {
            period,
            divider: (period * (period + 1) / 2) as f64,
            window: vec![0.0; period],
            count: 0,
        }
    }
}

impl Indicator for Wma {
    type Input = f64;
    fn name(&self) -> &str {
        "wma"
    }
    fn warmup_period(&self) -> usize {
        self.period - 1
    }
    fn update(&mut self, x: f64) -> f64 {
        let n = self.period;
        let slot = self.count % n;
        self.window[slot] = x;
        self.count += 1;
        if self.count < n {
            return f64::NAN;
        }
        let mut acc = 0.0;
        for j in 0..n {
            acc += self.window[(slot + 1 + j) % n] * (j + 1) as f64; // oldest first
        }
        acc / self.divider
    }
    fn reset(&mut self) {
        self.count = 0;
    }
}

fn isqrt(n: usize) -> usize {
    let mut r = 0;
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

/// Hull moving average of period `n >= 2`; first `n + isqrt(n) - 2` outputs NaN.
#[derive(Debug, Clone)]
pub struct HullMa {
    period: usize,
    half: Wma,
    full: Wma,
    smooth: Wma,
    count: usize,
}

impl HullMa {
    pub fn new(period: usize) -> Self {
        assert!(period >= 2, "hull period must be >= 2");
        HullMa {
            period,
            half: Wma::new(period / 2),
            full: Wma::new(period),
            smooth: Wma::new(isqrt(period)),
            count: 0,
        }
    }
}

impl Indicator for HullMa {
    type Input = f64;
    fn name(&self) -> &str {
        "hk_hull"
    }
    fn warmup_period(&self) -> usize {
        self.period + isqrt(self.period) - 2
    }
    fn update(&mut self, x: f64) -> f64 {
        self.count += 1;
        let half = self.half.update(x);
        let full = self.full.update(x);
        if self.count < self.period {
            return f64::NAN;
        }
        self.smooth.update(2.0 * half - full)
    }
    fn reset(&mut self) {
        self.half.reset();
        self.full.reset();
        self.smooth.reset();
        self.count = 0;
    }
}

/// SMA-seeded exponential moving average; first `n - 1` outputs NaN.
#[derive(Debug, Clone)]
struct Ema {
    period: usize,
    alpha: f64,
    seed: f64,
    count: usize,
    prev: f64,
}

impl Ema {
    fn new(period: usize) -> Self {
        Ema {
            period,
            alpha: 2.0 / (period + 1) as f64,
            seed: 0.0,
            count: 0,
            prev: f64::NAN,
        }
    }
    fn update(&mut self, x: f64) -> f64 {
        self.count += 1;
        if self.count < self.period {
            self.seed += x;
            return f64::NAN;
        }
        self.prev = if self.count == self.period {
            (self.seed + x) / self.period as f64
        } else {
            (x - self.prev) * self.alpha + self.prev
        };
        self.prev
    }
    fn reset(&mut self) {
        self.seed = 0.0;
        self.count = 0;
        self.prev = f64::NAN;
    }
}

/// Wilder's average true range; first `n` outputs NaN.
#[derive(Debug, Clone)]
struct Atr {
    period: usize,
    count: usize,
    prev_close: f64,
    seed: f64,
    atr: f64,
}

impl Atr {
    fn new(period: usize) -> Self {
        Atr {
            period,
            count: 0,
            prev_close: f64::NAN,
            seed: 0.0,
            atr: f64::NAN,
        }
    }
    fn update(&mut self, bar: Hlc) -> f64 {
        self.count += 1;
        let pc = self.prev_close;
        self.prev_close = bar.close;
        if self.count == 1 {
            return f64::NAN;
        }
        let tr = (bar.high - bar.low)
            .max((bar.high - pc).abs())
            .max((bar.low - pc).abs());
        let n = self.period as f64;
        if self.count <= self.period {
            self.seed += tr;
            return f64::NAN;
        }
        if self.count == self.period + 1 {
            self.atr = (self.seed + tr) / n;
        } else {
            let mut atr = self.atr * (self.period - 1) as f64;
            atr += tr;
            self.atr = atr / n;
        }
        self.atr
    }
    fn reset(&mut self) {
        self.count = 0;
        self.prev_close = f64::NAN;
        self.seed = 0.0;
        self.atr = f64::NAN;
    }
}

/// One Keltner line: EMA(period) of the close `+ band * k *` ATR(atr_period); NaN until both
/// exist (`max(period - 1, atr_period)` bars).
#[derive(Debug, Clone)]
pub struct KeltnerBand {
    ema: Ema,
    atr: Atr,
    scale: f64,
    warmup: usize,
    count: usize,
}

impl KeltnerBand {
    pub fn new(period: usize, atr_period: usize, k: f64, band: i64) -> Self {
        assert!(
            period >= 1 && atr_period >= 1,
            "keltner periods must be >= 1"
        );
        KeltnerBand {
            ema: Ema::new(period),
            atr: Atr::new(atr_period),
            scale: k * band as f64,
            warmup: (period - 1).max(atr_period),
            count: 0,
        }
    }
}

impl Indicator for KeltnerBand {
    type Input = Hlc;
    fn name(&self) -> &str {
        "hk_keltner"
    }
    fn warmup_period(&self) -> usize {
        self.warmup
    }
    fn update(&mut self, bar: Hlc) -> f64 {
        let middle = self.ema.update(bar.close);
        let atr = self.atr.update(bar);
        self.count += 1;
        if self.count <= self.warmup {
            return f64::NAN;
        }
        middle + self.scale * atr
    }
    fn reset(&mut self) {
        self.ema.reset();
        self.atr.reset();
        self.count = 0;
    }
}

pub const NAME: &str = "hull_keltner";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("hull_period", 20).min(Limit::incl(2.0)),
    ParamSpec::int("kc_period", 20).min(Limit::incl(1.0)),
    ParamSpec::int("atr_period", 14).min(Limit::incl(1.0)),
    ParamSpec::float("kc_k", 2.0).min(Limit::excl(0.0)),
    ParamSpec::float("stop_atr", 2.0).min(Limit::excl(0.0)),
    ParamSpec::float("be_atr", 1.0).min(Limit::excl(0.0)),
    ParamSpec::float("be_pips", 1.0).min(Limit::incl(0.0)),
    ParamSpec::float("trail_atr", 1.5).min(Limit::excl(0.0)),
    ParamSpec::float("pullback_atr", 0.0).min(Limit::incl(0.0)),
    ParamSpec::int("order_bars", 0).min(Limit::incl(0.0)),
];

/// Handles declared in `init` (valid for the current run only).
#[derive(Debug, Clone, Copy)]
struct Handles {
    hull: IndicatorHandle,
    middle: IndicatorHandle,
    upper: IndicatorHandle,
    lower: IndicatorHandle,
    atr: IndicatorHandle,
}

#[derive(Debug)]
pub struct HullKeltner {
    params: Params,
    handles: Option<Handles>,
    pip: f64,
    /// The previous primary close (NaN before the first bar of a run).
    prev_close: f64,
}

impl HullKeltner {
    /// `signal` as a limit entry at `limit` when `pullback_atr` > 0 (expiring after
    /// `order_bars` bars when that is > 0), else as it is (a market entry).
    fn entry(&self, signal: TradeSignal, limit: f64) -> TradeSignal {
        if self.params.float("pullback_atr") == 0.0 {
            return signal;
        }
        let signal = signal.with_limit(limit);
        match self.params.int("order_bars") {
            0 => signal,
            bars => signal.expiring_after(bars as u32),
        }
    }

    fn handles(&self) -> Result<Handles, StrategyError> {
        self.handles
            .ok_or_else(|| StrategyError::new("hull_keltner: evaluate before init"))
    }
    fn period(&self, name: &str) -> usize {
        self.params.int(name) as usize // >= 1 by validation
    }
}

impl PluginStrategy for HullKeltner {
    const NAME: &'static str = NAME;
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        let params = validate(PARAMS, params).map_err(|e| format!("strategy {NAME}: {e}"))?;
        Ok(HullKeltner {
            params,
            handles: None,
            pip: 0.0,
            prev_close: f64::NAN,
        })
    }
}

impl Strategy for HullKeltner {
    fn name(&self) -> &str {
        NAME
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        let hull_period = self.period("hull_period");
        let (kc, atr_period) = (self.period("kc_period"), self.period("atr_period"));
        let k = self.params.float("kc_k");
        // `custom` puts both on ctx.primary_timeframe(): the run's primary, whatever it is.
        let hull = ctx.custom(omega_strategy_api::CustomIndicator::on_field(
            "hk_hull",
            &[hull_period as f64],
            PriceSide::Bid,
            PriceField::Close,
            move || HullMa::new(hull_period),
        ));
        let mut band = |b: i64| {
            ctx.custom(omega_strategy_api::CustomIndicator::on_range(
                "hk_keltner",
                &[kc as f64, atr_period as f64, k, b as f64],
                PriceSide::Bid,
                move || KeltnerBand::new(kc, atr_period, k, b),
            ))
        };
        let (middle, upper, lower) = (band(0), band(1), band(-1));
        let atr = ctx.indicator_on(
            ctx.primary_timeframe(),
            PriceSide::Bid,
            IndicatorSpec::Atr { period: atr_period },
        );
        self.handles = Some(Handles {
            hull,
            middle,
            upper,
            lower,
            atr,
        });
        self.pip = ctx.instrument().pip_size;
        self.prev_close = f64::NAN;
        Ok(())
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        let h = self.handles()?;
        let close = slice.bar().bid.close;
        let prev = self.prev_close;
        self.prev_close = close;
        let (hull, hull1) = (slice.value(h.hull), slice.value_at(h.hull, 1));
        let middle = slice.value(h.middle);
        let atr = slice.value(h.atr);
        slice.record("hull", hull);
        slice.record("kc_mid", middle);
        if slice.position().is_some() || [prev, hull, hull1, middle, atr].iter().any(|v| v.is_nan())
        {
            return Ok(None);
        }
        let stop = self.params.float("stop_atr") * atr;
        if prev <= hull1 && close > hull && close > middle {
            let signal = TradeSignal::long().with_stop_loss_distance(stop);
            let limit = slice.bar().ask.close - self.params.float("pullback_atr") * atr;
            return Ok(Some(self.entry(signal.with_tag("hk_long"), limit)));
        }
        if prev >= hull1 && close < hull && close < middle {
            let signal = TradeSignal::short().with_stop_loss_distance(stop);
            let limit = close + self.params.float("pullback_atr") * atr;
            return Ok(Some(self.entry(signal.with_tag("hk_short"), limit)));
        }
        Ok(None)
    }

    /// A pending entry (the order works until the Hull turns against it): cancel it then.
    fn manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<OrderAction>, StrategyError> {
        let h = self.handles()?;
        let (hull, hull1) = (slice.value(h.hull), slice.value_at(h.hull, 1));
        let against = match order.side {
            Side::Long => hull < hull1,
            Side::Short => hull > hull1,
        };
        Ok(if against {
            vec![OrderAction::Cancel]
        } else {
            vec![]
        })
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let h = self.handles()?;
        let bar = slice.bar();
        let (close, prev) = (bar.bid.close, self.prev_close); // prev: evaluate runs after
        let (hull, hull1) = (slice.value(h.hull), slice.value_at(h.hull, 1));
        let atr = slice.value(h.atr);
        let long = position.side == Side::Long;
        let gain = if long {
            close - position.entry_price
        } else {
            position.entry_price - bar.ask.close
        };
        slice.record("gain", gain);
        let crossed_against = if long {
            prev >= hull1 && close < hull
        } else {
            prev <= hull1 && close > hull
        };
        if crossed_against {
            return Ok(vec![PositionAction::Close]);
        }
        let mut actions = Vec::new();
        let (band, band1) = if long {
            (slice.value(h.upper), slice.value_at(h.upper, 1))
        } else {
            (slice.value(h.lower), slice.value_at(h.lower, 1))
        };
        let band_cross = if long {
            prev <= band1 && close > band
        } else {
            prev >= band1 && close < band
        };
        if band_cross {
            actions.push(PositionAction::PartialClose(0.5));
        }
        if gain >= self.params.float("be_atr") * atr {
            let be_pips = self.params.float("be_pips");
            let below_be = match position.stop_loss {
                None => true,
                Some(stop) if long => stop < position.entry_price + be_pips * self.pip,
                Some(stop) => stop > position.entry_price - be_pips * self.pip,
            };
            if below_be {
                actions.push(PositionAction::MoveToBreakEven(Distance::Pips(be_pips)));
            }
            actions.push(PositionAction::TrailStop(Distance::Atr {
                handle: h.atr,
                multiple: self.params.float("trail_atr"),
            }));
        }
        Ok(actions)
    }
}

omega_strategy_api::export_strategy!(HullKeltner);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wma_and_hull_by_hand() {
        let mut w = Wma::new(3);
        let out = w.batch([1.0, 2.0, 3.0, 4.0]);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], (1.0 + 2.0 * 2.0 + 3.0 * 3.0) / 6.0);
        assert_eq!(out[3], (2.0 + 3.0 * 2.0 + 4.0 * 3.0) / 6.0);
        let mut hull = HullMa::new(4); // WMA(2), WMA(4), smoothed by WMA(2)
        let out = hull.batch((1..=6).map(f64::from));
        assert_eq!(out.iter().take_while(|v| v.is_nan()).count(), 4);
        assert_eq!(hull.warmup_period(), 4);
        // A straight line: the Hull MA follows it with no lag.
        assert_eq!(&out[4..], &[5.0, 6.0]);
    }

    #[test]
    fn keltner_band_warms_up_then_offsets_the_middle() {
        let bars: Vec<Hlc> = (0..6)
            .map(|i| Hlc {
                high: 1.0 + i as f64 + 0.5,
                low: 1.0 + i as f64 - 0.5,
                close: 1.0 + i as f64,
            })
            .collect();
        let mid = KeltnerBand::new(2, 2, 2.0, 0).batch(bars.clone());
        let up = KeltnerBand::new(2, 2, 2.0, 1).batch(bars);
        assert_eq!(mid.iter().take_while(|v| v.is_nan()).count(), 2);
        // TR is 1.5 from bar 1 on (|h - pc| dominates), so the ATR is 1.5: upper = mid + 3.
        assert_eq!(up[3] - mid[3], 3.0);
    }
}

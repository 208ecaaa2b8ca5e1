//! Keltner channel: EMA(close) middle, bands at `k` ATRs (this crate's [`Ema`] and [`Atr`]).

use crate::atr::Atr;
use crate::bollinger::BollingerBand;
use crate::donchian::check_band;
use crate::ema::Ema;
use crate::error::{check_float, check_period, IndicatorError};
use crate::indicator::{Hlc, Indicator};

/// `Keltner(n, atr_period, k)`: middle = EMA(n) of the close, `upper = middle + k * atr`,
/// `lower = middle - k * atr` with ATR(atr_period); all three NaN until both exist
/// (`max(n - 1, atr_period)` bars). Equal to `talib.EMA` and `talib.ATR` composed to within
/// their few-ulp differences (TA-Lib 0.8.1 fuses multiply-adds on some CPUs).
#[derive(Debug, Clone)]
pub struct Keltner {
    period: usize,
    atr_period: usize,
    k: f64,
    band: BollingerBand,
    ema: Ema,
    atr: Atr,
    count: usize,
    bands: (f64, f64, f64),
}

impl Keltner {
    /// `band`: `+1` upper, `0` middle, `-1` lower.
    pub fn new(period: usize, atr_period: usize, k: f64, band: i8) -> Result<Self, IndicatorError> {
        let period = check_period("keltner", "period", period, 1)?;
        let atr_period = check_period("keltner", "atr_period", atr_period, 1)?;
        Ok(Keltner {
            period,
            atr_period,
            k: check_float("keltner", "k", k, 0.0, true)?,
            band: check_band("keltner", band)?,
            ema: Ema::new(period)?,
            atr: Atr::new(atr_period)?,
            count: 0,
            bands: (f64::NAN, f64::NAN, f64::NAN),
        })
    }

    /// `(upper, middle, lower)` after the latest update (NaN during warm-up).
    pub fn bands(&self) -> (f64, f64, f64) {
        self.bands
    }
}

impl Indicator for Keltner {
    type Input = Hlc;

    fn name(&self) -> &str {
        "keltner"
    }

    fn warmup_period(&self) -> usize {
        (self.period - 1).max(self.atr_period)
    }

    #[inline]
    fn update(&mut self, bar: Hlc) -> f64 {
        let middle = self.ema.update(bar.close);
        let atr = self.atr.update(bar);
        self.count += 1;
        if self.count <= self.warmup_period() {
            return f64::NAN;
        }
        let upper = middle + self.k * atr;
        let lower = middle - self.k * atr;
        self.bands = (upper, middle, lower);
        self.band.pick(upper, middle, lower)
    }

    fn reset(&mut self) {
        self.ema.reset();
        self.atr.reset();
        self.count = 0;
        self.bands = (f64::NAN, f64::NAN, f64::NAN);
    }
}

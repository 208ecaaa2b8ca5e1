//! Donchian channel: TA-Lib's TA_MAX of highs and TA_MIN of lows, and their midpoint.

use crate::bollinger::{rename, BollingerBand};
use crate::error::{check_period, IndicatorError};
use crate::indicator::{Hlc, Indicator};

/// Highest (`highest = true`) or lowest of the last `n` values, TA-Lib's TA_MAX/TA_MIN scan.
///
/// TA-Lib keeps the extreme and its index; when the index leaves the window it rescans the
/// window oldest first with a strict comparison, otherwise a new value replaces the extreme
/// when `>=` (`<=` for the lowest). The same steps give the same value for NaN inputs too.
/// First `n - 1` outputs NaN.
#[derive(Debug, Clone)]
pub struct RollingExtreme {
    highest: bool,
    /// The last `n` values, slot `index % n`.
    values: Vec<f64>,
    /// Values pushed since the last reset.
    count: usize,
    /// Index of the current extreme plus one (0: none yet).
    index_plus_one: usize,
    extreme: f64,
}

impl RollingExtreme {
    pub fn new(period: usize, highest: bool) -> Result<Self, IndicatorError> {
        let period = check_period(if highest { "max" } else { "min" }, "period", period, 1)?;
        Ok(RollingExtreme {
            highest,
            values: vec![0.0; period],
            count: 0,
            index_plus_one: 0,
            extreme: f64::NAN,
        })
    }

    #[inline]
    fn beats(&self, x: f64, extreme: f64, strict: bool) -> bool {
        match (self.highest, strict) {
            (true, true) => x > extreme,
            (true, false) => x >= extreme,
            (false, true) => x < extreme,
            (false, false) => x <= extreme,
        }
    }

    /// Feeds the next value; returns the extreme of the last `n` (NaN for the first `n - 1`).
    #[inline]
    pub fn update(&mut self, value: f64) -> f64 {
        let n = self.values.len();
        let today = self.count;
        self.values[today % n] = value;
        self.count += 1;
        if today + 1 < n {
            return f64::NAN;
        }
        let trailing = today + 1 - n;
        if self.index_plus_one < trailing + 1 {
            let mut index = trailing;
            let mut extreme = self.values[index % n];
            for i in trailing + 1..=today {
                let x = self.values[i % n];
                if self.beats(x, extreme, true) {
                    index = i;
                    extreme = x;
                }
            }
            self.index_plus_one = index + 1;
            self.extreme = extreme;
        } else if self.beats(value, self.extreme, false) {
            self.index_plus_one = today + 1;
            self.extreme = value;
        }
        self.extreme
    }

    pub fn reset(&mut self) {
        self.count = 0;
        self.index_plus_one = 0;
        self.extreme = f64::NAN;
    }
}

/// `+1` upper, `0` middle, `-1` lower, with the indicator's name in the error.
pub(crate) fn check_band(
    indicator: &'static str,
    band: i8,
) -> Result<BollingerBand, IndicatorError> {
    BollingerBand::from_i8(band).map_err(|e| rename(e, indicator))
}

/// `Donchian(n)`: upper = highest high of the last `n` bars (TA_MAX), lower = lowest low
/// (TA_MIN), middle = `(upper + lower) * 0.5`; first `n - 1` NaN. The close is not used.
#[derive(Debug, Clone)]
pub struct Donchian {
    period: usize,
    band: BollingerBand,
    upper: RollingExtreme,
    lower: RollingExtreme,
    bands: (f64, f64, f64),
}

impl Donchian {
    /// `band`: `+1` upper, `0` middle, `-1` lower.
    pub fn new(period: usize, band: i8) -> Result<Self, IndicatorError> {
        let period = check_period("donchian", "period", period, 1)?;
        Ok(Donchian {
            period,
            band: check_band("donchian", band)?,
            upper: RollingExtreme::new(period, true)?,
            lower: RollingExtreme::new(period, false)?,
            bands: (f64::NAN, f64::NAN, f64::NAN),
        })
    }

    /// `(upper, middle, lower)` after the latest update.
    pub fn bands(&self) -> (f64, f64, f64) {
        self.bands
    }
}

impl Indicator for Donchian {
    type Input = Hlc;

    fn name(&self) -> &str {
        "donchian"
    }

    fn warmup_period(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, bar: Hlc) -> f64 {
        let upper = self.upper.update(bar.high);
        let lower = self.lower.update(bar.low);
        let middle = (upper + lower) * 0.5;
        self.bands = (upper, middle, lower);
        self.band.pick(upper, middle, lower)
    }

    fn reset(&mut self) {
        self.upper.reset();
        self.lower.reset();
        self.bands = (f64::NAN, f64::NAN, f64::NAN);
    }
}

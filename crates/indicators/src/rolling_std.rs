//! Rolling population standard deviation, as TA-Lib 0.8.1's TA_STDDEV(n, nbdev = 1).
//!
//! Plain running sums of `x` and `x * x` (TA-Lib <= 0.6) cancel catastrophically on prices:
//! `mean(x^2) - mean(x)^2` at EURUSD ~1.1 with pip-sized moves keeps about half the digits,
//! and a 2-bar window can be wrong by a factor of hundreds. TA-Lib 0.8.1 keeps the sums of
//! deviations from a `shift` near the window instead, and re-anchors the shift on the window
//! mean with a fresh two-pass sum ("reseed") when cancellation threatens, when a large value
//! leaves the window, or every `32 n` outputs. We repeat that algorithm operation for
//! operation (as does the Python reference), so the series equals talib.STDDEV bit for bit.

use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;
use crate::ring::Window;

/// Reseed when the variance falls below this fraction of the mean squared deviation.
const RESEED_RATIO: f64 = 0.000001;
/// Reseed when the squared deviation that left exceeds this multiple of the remaining sum.
const OUTLIER_RATIO: f64 = 1000000.0;
/// Reseed at least every `RESEED_EVERY * period` outputs (bounds the drift of the sums).
const RESEED_EVERY: usize = 32;
/// After a reseed a variance below this fraction of the mean squared deviation is rounding
/// noise of the mean itself and becomes 0.
const NOISE_FLOOR_RATIO: f64 = 0.000000000001;

/// `RollingStd(n)`: population (ddof 0) standard deviation of the last `n` values; first
/// `n - 1` outputs NaN. Never negative; exactly 0.0 for a flat window.
#[derive(Debug, Clone)]
pub struct RollingStd {
    period: usize,
    inv_period: f64,
    window: Window,
    shift: f64,
    sum: f64,
    sum_sq: f64,
    until_reseed: usize,
}

impl RollingStd {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("rolling_std", "period", period, 2)?;
        Ok(RollingStd {
            period,
            inv_period: 1.0 / period as f64,
            window: Window::new(period),
            shift: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            until_reseed: RESEED_EVERY * period,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }

    /// Feeds `value`; returns the population variance of the window (NaN during warm-up).
    pub fn update_variance(&mut self, value: f64) -> f64 {
        let count = self.window.push(value);
        if count == 1 {
            self.shift = value; // anchor on the first value of the first window
        }
        let dev = value - self.shift;
        self.sum += dev;
        self.sum_sq += dev * dev;
        if count < self.period {
            return f64::NAN;
        }
        let inv = self.inv_period;
        let mean_dev = self.sum * inv;
        let mut variance = self.sum_sq * inv - mean_dev * mean_dev;
        // Remove the oldest value of this window (prepares the next one).
        let dev = self.window.oldest() - self.shift;
        self.sum -= dev;
        let dev_sq = dev * dev;
        self.sum_sq -= dev_sq;
        self.until_reseed = self.until_reseed.saturating_sub(1);
        if variance < RESEED_RATIO * (self.sum_sq * inv)
            || dev_sq > OUTLIER_RATIO * self.sum_sq
            || self.until_reseed == 0
        {
            variance = self.reseed();
        }
        variance
    }

    /// Re-anchors the shift on the window mean and rebuilds the sums with a two-pass sum.
    fn reseed(&mut self) -> f64 {
        let inv = self.inv_period;
        self.until_reseed = RESEED_EVERY * self.period;
        let mut total = 0.0;
        for x in self.window.chronological() {
            total += x;
        }
        let shift = total * inv;
        let mut sum_dev = 0.0;
        let mut sum_sq = 0.0;
        for x in self.window.chronological() {
            let dev = x - shift;
            sum_dev += dev;
            sum_sq += dev * dev;
        }
        let mean_dev = sum_dev * inv;
        let mut variance = sum_sq * inv - mean_dev * mean_dev;
        if variance < NOISE_FLOOR_RATIO * (sum_sq * inv) {
            variance = 0.0;
        }
        // Take the oldest value out again under the new shift, as the regular path did.
        let dev = self.window.oldest() - shift;
        self.shift = shift;
        self.sum = sum_dev - dev;
        self.sum_sq = sum_sq - dev * dev;
        variance
    }
}

impl Indicator for RollingStd {
    type Input = f64;

    fn name(&self) -> &str {
        "rolling_std"
    }

    fn warmup_period(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        let variance = self.update_variance(value);
        if variance.is_nan() {
            variance
        } else {
            variance.sqrt()
        }
    }

    fn reset(&mut self) {
        self.window.reset();
        self.shift = 0.0;
        self.sum = 0.0;
        self.sum_sq = 0.0;
        self.until_reseed = RESEED_EVERY * self.period;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_std_of_small_windows() {
        let mut std = RollingStd::new(2).unwrap();
        let out = std.batch([1.0, 3.0, 3.0, 7.0]);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..], &[1.0, 0.0, 2.0]);
    }

    #[test]
    fn flat_window_is_exactly_zero() {
        let mut std = RollingStd::new(4).unwrap();
        let out = std.batch([1.1; 10]);
        assert!(out[3..].iter().all(|&s| s == 0.0));
    }

    #[test]
    fn no_cancellation_at_fx_prices() {
        // Two values a pip apart at 1.1: the exact population std is half a pip (to within
        // the rounding of 1.1001 itself).
        let mut std = RollingStd::new(2).unwrap();
        let out = std.batch([1.1, 1.1001, 1.1, 1.1001]);
        let expected = (1.1001 - 1.1) / 2.0;
        for &s in &out[1..] {
            assert!((s - expected).abs() <= 1e-15, "{s} vs {expected}");
        }
    }

    #[test]
    fn periodic_reseed_keeps_values() {
        // Long enough to pass several 32 * n reseeds; compare with a direct two-pass std.
        let n = 3;
        let xs: Vec<f64> = (0..500)
            .map(|i| 1.1 + ((i * 37 % 11) as f64) * 1e-5)
            .collect();
        let out = RollingStd::new(n).unwrap().batch(xs.iter().copied());
        for i in (n - 1)..xs.len() {
            let w = &xs[i + 1 - n..=i];
            let mean = w.iter().sum::<f64>() / n as f64;
            let var = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
            assert!((out[i] - var.sqrt()).abs() <= 1e-12 * var.sqrt().max(1e-5));
        }
    }
}

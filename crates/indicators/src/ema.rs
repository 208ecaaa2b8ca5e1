//! Exponential moving average, SMA-seeded like TA-Lib's classic TA_EMA.

use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;

/// `EMA(n)`: `k = 2 / (n + 1)`; first `n - 1` outputs NaN; the output at index `n - 1` is the
/// mean of the first `n` values (summed left to right, then divided by `n`); afterwards
/// `prev = (x - prev) * k + prev`.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    divisor: f64,
    seed_sum: f64,
    count: usize,
    prev: f64,
}

impl Ema {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("ema", "period", period, 1)?;
        Ok(Ema {
            period,
            k: 2.0 / (period + 1) as f64,
            divisor: period as f64,
            seed_sum: 0.0,
            count: 0,
            prev: f64::NAN,
        })
    }

    /// The smoothing factor `2 / (n + 1)`.
    pub fn k(&self) -> f64 {
        self.k
    }
}

impl Indicator for Ema {
    type Input = f64;

    fn name(&self) -> &str {
        "ema"
    }

    fn warmup_period(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        self.count += 1;
        if self.count < self.period {
            self.seed_sum += value;
            return f64::NAN;
        }
        self.prev = if self.count == self.period {
            (self.seed_sum + value) / self.divisor
        } else {
            (value - self.prev) * self.k + self.prev
        };
        self.prev
    }

    fn reset(&mut self) {
        self.seed_sum = 0.0;
        self.count = 0;
        self.prev = f64::NAN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_with_the_mean_then_smoothed() {
        let mut ema = Ema::new(3).unwrap();
        let out = ema.batch([2.0, 4.0, 6.0, 8.0, 2.0]);
        assert!(out[0].is_nan() && out[1].is_nan());
        // seed 4, k = 0.5: (8 - 4) * 0.5 + 4 = 6; (2 - 6) * 0.5 + 6 = 4
        assert_eq!(&out[2..], &[4.0, 6.0, 4.0]);
    }

    #[test]
    fn k_is_two_over_n_plus_one() {
        assert_eq!(Ema::new(9).unwrap().k(), 0.2);
    }

    #[test]
    fn rejects_zero_period() {
        assert!(Ema::new(0).is_err());
    }
}

//! Wilder's RSI as TA-Lib's classic TA_RSI (unstable period 0).

use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;

/// `RSI(n)`: NaN for the first `n` values, first output at index `n`.
///
/// The first `n` differences are summed into gain and loss (a negative difference is
/// subtracted from loss), both are divided by `n`; afterwards each is smoothed as
/// `avg *= n - 1; avg += part; avg /= n`. Output `100 * (gain / (gain + loss))`, and 0 when
/// `gain + loss == 0` (flat prices).
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    divisor: f64,
    keep: f64,
    gain: f64,
    loss: f64,
    prev_value: f64,
    count: usize,
}

impl Rsi {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("rsi", "period", period, 2)?;
        Ok(Rsi {
            period,
            divisor: period as f64,
            keep: (period - 1) as f64,
            gain: 0.0,
            loss: 0.0,
            prev_value: f64::NAN,
            count: 0,
        })
    }

    #[inline]
    fn add(&mut self, diff: f64) {
        if diff < 0.0 {
            self.loss -= diff;
        } else {
            self.gain += diff;
        }
    }
}

impl Indicator for Rsi {
    type Input = f64;

    fn name(&self) -> &str {
        "rsi"
    }

    fn warmup_period(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        self.count += 1;
        if self.count == 1 {
            self.prev_value = value;
            return f64::NAN;
        }
        let diff = value - self.prev_value;
        self.prev_value = value;
        if self.count <= self.period {
            self.add(diff);
            return f64::NAN;
        }
        if self.count > self.period + 1 {
            self.loss *= self.keep;
            self.gain *= self.keep;
        }
        self.add(diff);
        self.loss /= self.divisor;
        self.gain /= self.divisor;
        let total = self.gain + self.loss;
        if total == 0.0 {
            return 0.0;
        }
        100.0 * (self.gain / total)
    }

    fn reset(&mut self) {
        self.gain = 0.0;
        self.loss = 0.0;
        self.prev_value = f64::NAN;
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        let mut rsi = Rsi::new(2).unwrap();
        // diffs: +1, -1 -> gain 0.5, loss 0.5 -> 50; then +2: gain (0.5 + 2) / 2 = 1.25,
        // loss 0.25 -> 100 * 1.25 / 1.5
        let out = rsi.batch([1.0, 2.0, 1.0, 3.0]);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 50.0);
        assert_eq!(out[3], 100.0 * (1.25 / 1.5));
    }

    #[test]
    fn flat_prices_give_zero() {
        let mut rsi = Rsi::new(3).unwrap();
        let out = rsi.batch([1.1; 6]);
        assert_eq!(&out[3..], &[0.0, 0.0, 0.0]);
    }

    #[test]
    fn rejects_period_one() {
        assert!(Rsi::new(1).is_err());
    }
}

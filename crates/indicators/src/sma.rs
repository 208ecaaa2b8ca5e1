//! Simple moving average with TA-Lib's running sum (TA_SMA / TA_INT_SMA op order).

use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;
use crate::ring::Window;

/// `SMA(n)`: first `n - 1` outputs NaN, then the mean of the last `n` values.
///
/// A running `total` holds the previous `n - 1` values: `t = total + x` is the window sum,
/// the value leaving the window is subtracted after the output is taken, and the output is
/// `t / n` -- TA-Lib's order, which the Python reference repeats.
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    divisor: f64,
    total: f64,
    window: Window,
}

impl Sma {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("sma", "period", period, 1)?;
        Ok(Sma {
            period,
            divisor: period as f64,
            total: 0.0,
            window: Window::new(period),
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
}

impl Indicator for Sma {
    type Input = f64;

    fn name(&self) -> &str {
        "sma"
    }

    fn warmup_period(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        let count = self.window.push(value);
        if count < self.period {
            self.total += value;
            return f64::NAN;
        }
        let window_sum = self.total + value;
        self.total = window_sum - self.window.oldest();
        window_sum / self.divisor
    }

    fn reset(&mut self) {
        self.total = 0.0;
        self.window.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_window_means() {
        let mut sma = Sma::new(3).unwrap();
        let out = sma.batch([1.0, 2.0, 3.0, 4.0, 6.0]);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(&out[2..], &[2.0, 3.0, 13.0 / 3.0]);
        assert_eq!(sma.warmup_period(), 2);
    }

    #[test]
    fn period_one_is_identity() {
        let mut sma = Sma::new(1).unwrap();
        assert_eq!(sma.batch([1.5, -2.0, 7.25]), vec![1.5, -2.0, 7.25]);
    }

    #[test]
    fn reset_restarts_warmup() {
        let mut sma = Sma::new(2).unwrap();
        sma.batch([1.0, 2.0, 3.0]);
        sma.reset();
        assert!(sma.update(10.0).is_nan());
        assert_eq!(sma.update(20.0), 15.0);
    }

    #[test]
    fn rejects_zero_period() {
        assert!(matches!(
            Sma::new(0),
            Err(IndicatorError::InvalidParameter { .. })
        ));
    }
}

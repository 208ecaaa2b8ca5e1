//! Commodity channel index as TA-Lib's TA_CCI.

use crate::error::{check_period, IndicatorError};
use crate::indicator::{Hlc, Indicator};
use crate::stochastic::FLAT;

/// `CCI(n)`, `n >= 2`: NaN for the first `n - 1` bars.
///
/// Typical price `tp = (high + low + close) / 3`. TA-Lib keeps the last `n` in a circular
/// buffer and sums it in storage order (slot `i % n` for bar `i`), not oldest first; so do we:
/// `mean = sum / n`, `dev = sum |tp_j - mean|`, then `(tp - mean) / (0.015 * (dev / n))`, and
/// 0.0 when `|tp - mean|` or `dev / n` is `<= 1e-14 * |mean|` (TA-Lib 0.8.1's zero test,
/// measured on the library; the classic exact test gives +-133 where a rounded mean is one ulp
/// off `tp`).
#[derive(Debug, Clone)]
pub struct Cci {
    divisor: f64,
    buffer: Vec<f64>,
    count: usize,
}

impl Cci {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("cci", "period", period, 2)?;
        Ok(Cci {
            divisor: period as f64,
            buffer: vec![0.0; period],
            count: 0,
        })
    }
}

impl Indicator for Cci {
    type Input = Hlc;

    fn name(&self) -> &str {
        "cci"
    }

    fn warmup_period(&self) -> usize {
        self.buffer.len() - 1
    }

    #[inline]
    fn update(&mut self, bar: Hlc) -> f64 {
        let n = self.buffer.len();
        let typical = (bar.high + bar.low + bar.close) / 3.0;
        self.buffer[self.count % n] = typical;
        self.count += 1;
        if self.count < n {
            return f64::NAN;
        }
        let mut average = 0.0;
        for &x in &self.buffer {
            average += x;
        }
        average /= self.divisor;
        let mut deviation = 0.0;
        for &x in &self.buffer {
            deviation += (x - average).abs();
        }
        let distance = typical - average;
        let mean_deviation = deviation / self.divisor;
        // TA-Lib 0.8.1: a distance or mean deviation within 1e-14 of the mean counts as zero.
        let flat = FLAT * average.abs();
        if distance.abs() <= flat || mean_deviation <= flat {
            0.0
        } else {
            distance / (0.015 * mean_deviation)
        }
    }

    fn reset(&mut self) {
        self.count = 0;
    }
}

//! Wilder's average true range as TA-Lib's classic TA_ATR (unstable period 0).

use crate::error::{check_period, IndicatorError};
use crate::indicator::{Hlc, Indicator};

/// True range with TA-Lib's order: start from `high - low`, then the distances to the previous
/// close (`|prev_close - high|`, `|prev_close - low|`), keeping the greatest.
#[inline]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let to_high = (prev_close - high).abs();
    if to_high > greatest {
        greatest = to_high;
    }
    let to_low = (prev_close - low).abs();
    if to_low > greatest {
        greatest = to_low;
    }
    greatest
}

/// `ATR(n)` over one side's high, low, close: NaN for the first `n` bars.
///
/// `TR_i` exists from bar 1 (it needs the previous close). The first output (bar `n`) is the
/// mean of `TR_1 .. TR_n` summed left to right from 0.0; then
/// `atr *= n - 1; atr += tr; atr /= n`.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    divisor: f64,
    keep: f64,
    prev_close: f64,
    count: usize,
    seed_sum: f64,
    atr: f64,
}

impl Atr {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("atr", "period", period, 1)?;
        Ok(Atr {
            period,
            divisor: period as f64,
            keep: (period - 1) as f64,
            prev_close: f64::NAN,
            count: 0,
            seed_sum: 0.0,
            atr: f64::NAN,
        })
    }
}

impl Indicator for Atr {
    type Input = Hlc;

    fn name(&self) -> &str {
        "atr"
    }

    fn warmup_period(&self) -> usize {
        self.period
    }

    #[inline]
    fn update(&mut self, bar: Hlc) -> f64 {
        self.count += 1;
        let prev_close = self.prev_close;
        self.prev_close = bar.close;
        if self.count == 1 {
            return f64::NAN;
        }
        let tr = true_range(bar.high, bar.low, prev_close);
        if self.count <= self.period {
            self.seed_sum += tr;
            return f64::NAN;
        }
        if self.count == self.period + 1 {
            self.atr = (self.seed_sum + tr) / self.divisor;
        } else {
            let mut atr = self.atr * self.keep;
            atr += tr;
            self.atr = atr / self.divisor;
        }
        self.atr
    }

    fn reset(&mut self) {
        self.prev_close = f64::NAN;
        self.count = 0;
        self.seed_sum = 0.0;
        self.atr = f64::NAN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::hlc_iter;

    #[test]
    fn true_range_takes_gaps_into_account() {
        assert_eq!(true_range(2.0, 1.0, 1.5), 1.0);
        assert_eq!(true_range(2.0, 1.0, 4.0), 3.0); // gap down
        assert_eq!(true_range(5.0, 4.5, 1.0), 4.0); // gap up
    }

    #[test]
    fn seed_is_mean_then_wilder() {
        let high = [2.0, 3.0, 4.0, 4.0];
        let low = [1.0, 2.0, 2.0, 3.0];
        let close = [1.5, 2.5, 3.0, 3.5];
        // TR_1 = max(1, 1.5, 0.5) = 1.5; TR_2 = max(2, 1.5, 0.5) = 2; TR_3 = max(1, 1, 0) = 1
        let mut atr = Atr::new(2).unwrap();
        let out = atr.batch(hlc_iter(&high, &low, &close));
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 1.75);
        assert_eq!(out[3], (1.75 * 1.0 + 1.0) / 2.0);
    }
}

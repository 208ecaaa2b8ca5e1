//! Weighted moving average matching TA-Lib's TA_WMA (within 1e-12; see [`Wma`]).

use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;
use crate::ring::Window;

/// `WMA(n)`: weights `1 ..= n` (newest `n`) over `n (n + 1) / 2`; first `n - 1` outputs NaN.
///
/// TA-Lib's running sums: `weighted = carry + x * n` is the window's weighted sum and
/// `total = carry_sub + x` its plain sum; the output is `weighted / divider`, then
/// `carry = weighted - total` and `carry_sub = total - oldest`. Those sums drift by a rounding
/// per bar while TA-Lib 0.8.1 does not, so every `n`-th output (the first included) recomputes
/// both from the window, oldest first (`weighted += x_j * (j + 1)`). Same steps as the Python
/// reference (`omega.indicators.wma`).
#[derive(Debug, Clone)]
pub struct Wma {
    period: usize,
    weight: f64,
    divider: f64,
    window: Window,
    /// Sum of the newest `n - 1` values.
    sub: f64,
    /// Their weighted sum, weights `1 ..= n - 1`.
    weighted: f64,
}

impl Wma {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("wma", "period", period, 1)?;
        Ok(Wma {
            period,
            weight: period as f64,
            divider: (period * (period + 1) / 2) as f64,
            window: Window::new(period),
            sub: 0.0,
            weighted: 0.0,
        })
    }

    pub fn period(&self) -> usize {
        self.period
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

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        let n = self.period;
        let count = self.window.push(value);
        if count < n {
            return f64::NAN;
        }
        let (total, weighted) = if (count - n) % n == 0 {
            let (mut total, mut weighted) = (0.0, 0.0);
            for (j, x) in self.window.chronological().enumerate() {
                total += x;
                weighted += x * (j + 1) as f64;
            }
            (total, weighted)
        } else {
            (self.sub + value, self.weighted + value * self.weight)
        };
        let out = weighted / self.divider;
        self.weighted = weighted - total;
        self.sub = total - self.window.oldest(); // the oldest leaves with the next bar
        out
    }

    fn reset(&mut self) {
        self.window.reset();
        self.sub = 0.0;
        self.weighted = 0.0;
    }
}

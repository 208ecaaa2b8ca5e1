//! Hull moving average: `WMA(2 * WMA(x, n / 2) - WMA(x, n), isqrt(n))`.

use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;
use crate::wma::Wma;

/// `floor(sqrt(n))` exactly (`usize::isqrt` needs Rust 1.84, above the MSRV); Python's
/// `math.isqrt`.
fn isqrt(n: usize) -> usize {
    let mut root = (n as f64).sqrt() as usize;
    while root * root > n {
        root -= 1;
    }
    while (root + 1) * (root + 1) <= n {
        root += 1;
    }
    root
}

/// `Hull(n)`, `n >= 2`: `raw = 2.0 * WMA(n / 2) - WMA(n)` from bar `n - 1`, then
/// `WMA(isqrt(n))` of `raw`; first `n + isqrt(n) - 2` outputs NaN.
#[derive(Debug, Clone)]
pub struct Hull {
    period: usize,
    half: Wma,
    full: Wma,
    smooth: Wma,
    count: usize,
}

impl Hull {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("hull", "period", period, 2)?;
        Ok(Hull {
            period,
            half: Wma::new(period / 2)?,
            full: Wma::new(period)?,
            smooth: Wma::new(isqrt(period))?,
            count: 0,
        })
    }
}

impl Indicator for Hull {
    type Input = f64;

    fn name(&self) -> &str {
        "hull"
    }

    fn warmup_period(&self) -> usize {
        self.period + self.smooth.period() - 2
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        self.count += 1;
        let half = self.half.update(value);
        let full = self.full.update(value);
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

//! Rolling z-score: `(x - SMA(n)) / RollingStd(n)`.

use crate::bollinger::rename;
use crate::error::IndicatorError;
use crate::indicator::Indicator;
use crate::rolling_std::RollingStd;
use crate::sma::Sma;

/// `ZScore(n)`: NaN for the first `n - 1` values and wherever the window's std is 0 (a flat
/// window has no scale).
#[derive(Debug, Clone)]
pub struct ZScore {
    sma: Sma,
    std: RollingStd,
}

impl ZScore {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Self::named(period, "zscore", "period")
    }

    pub(crate) fn named(
        period: usize,
        indicator: &'static str,
        parameter: &'static str,
    ) -> Result<Self, IndicatorError> {
        let std = RollingStd::new(period).map_err(|e| match rename(e, indicator) {
            IndicatorError::InvalidParameter {
                indicator, reason, ..
            } => IndicatorError::InvalidParameter {
                indicator,
                parameter,
                reason,
            },
            other => other,
        })?;
        Ok(ZScore {
            sma: Sma::new(period)?,
            std,
        })
    }
}

impl Indicator for ZScore {
    type Input = f64;

    fn name(&self) -> &str {
        "zscore"
    }

    fn warmup_period(&self) -> usize {
        self.std.period() - 1
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        let mean = self.sma.update(value);
        let std = self.std.update(value);
        if std > 0.0 {
            (value - mean) / std
        } else {
            f64::NAN // warm-up (NaN) or a flat window (0.0)
        }
    }

    fn reset(&mut self) {
        self.sma.reset();
        self.std.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_the_latest_value() {
        let mut z = ZScore::new(2).unwrap();
        let out = z.batch([1.0, 3.0, 3.0, 2.0]);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 1.0); // (3 - 2) / 1
        assert!(out[2].is_nan()); // flat window
        assert_eq!(out[3], -1.0); // (2 - 2.5) / 0.5
    }
}

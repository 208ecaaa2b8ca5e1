//! z-score of the Kalman filter's posterior residual.

use crate::error::IndicatorError;
use crate::indicator::Indicator;
use crate::kalman::Kalman;
use crate::zscore::ZScore;

/// `ZScore(lookback)` of the residual `e_t = y_t - x_t`, `x_t` the [`Kalman`] level after the
/// update with `y_t`. NaN for the first `lookback - 1` values and where the window is flat.
#[derive(Debug, Clone)]
pub struct KalmanZScore {
    lookback: usize,
    kalman: Kalman,
    zscore: ZScore,
    residual: f64,
}

impl KalmanZScore {
    pub fn new(
        q: f64,
        r: f64,
        x0: Option<f64>,
        p0: f64,
        lookback: usize,
    ) -> Result<Self, IndicatorError> {
        Ok(KalmanZScore {
            lookback,
            zscore: ZScore::named(lookback, "kalman_zscore", "lookback")?,
            kalman: Kalman::new(q, r, x0, p0)?,
            residual: f64::NAN,
        })
    }

    /// The residual of the latest update.
    pub fn residual(&self) -> f64 {
        self.residual
    }
}

impl Indicator for KalmanZScore {
    type Input = f64;

    fn name(&self) -> &str {
        "kalman_zscore"
    }

    fn warmup_period(&self) -> usize {
        self.lookback - 1
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        self.residual = value - self.kalman.update(value);
        self.zscore.update(self.residual)
    }

    fn reset(&mut self) {
        self.kalman.reset();
        self.zscore.reset();
        self.residual = f64::NAN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_zscore_of_the_residual() {
        let ys = [1.0, 1.2, 0.9, 1.4, 1.1, 1.3];
        let mut kf = Kalman::new(0.1, 1.0, None, 1.0).unwrap();
        let residuals: Vec<f64> = ys.iter().map(|&y| y - kf.update(y)).collect();
        let expected = ZScore::new(3).unwrap().batch(residuals);
        let got = KalmanZScore::new(0.1, 1.0, None, 1.0, 3).unwrap().batch(ys);
        assert_eq!(format!("{got:?}"), format!("{expected:?}"));
    }

    #[test]
    fn rejects_short_lookback() {
        let err = KalmanZScore::new(0.1, 1.0, None, 1.0, 1).unwrap_err();
        assert!(err.to_string().contains("lookback"), "{err}");
    }
}

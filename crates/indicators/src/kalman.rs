//! Kalman filter for a local-level model.

use crate::error::{check_float, IndicatorError};
use crate::indicator::Indicator;

/// Local level `level_t = level_{t-1} + w (var q)`, `y_t = level_t + v (var r)`.
///
/// Before the first update the level is `x0`, or the first observation when `x0` is `None`,
/// and its variance is `p0`. Each update with `y`:
/// `p_prior = P + q; k = p_prior / (p_prior + r); x = x + k * (y - x); P = (1 - k) * p_prior`,
/// returning the posterior level `x` (no warm-up). Only the ratios of `q`, `r`, `p0` matter.
#[derive(Debug, Clone)]
pub struct Kalman {
    q: f64,
    r: f64,
    x0: Option<f64>,
    p0: f64,
    level: f64,
    variance: f64,
    gain: f64,
    started: bool,
}

impl Kalman {
    pub fn new(q: f64, r: f64, x0: Option<f64>, p0: f64) -> Result<Self, IndicatorError> {
        let q = check_float("kalman", "q", q, 0.0, false)?;
        let r = check_float("kalman", "r", r, 0.0, true)?;
        let p0 = check_float("kalman", "p0", p0, 0.0, false)?;
        if let Some(x) = x0 {
            if !x.is_finite() {
                return Err(IndicatorError::InvalidParameter {
                    indicator: "kalman",
                    parameter: "x0",
                    reason: format!("must be finite or None, got {x}"),
                });
            }
        }
        let mut kalman = Kalman {
            q,
            r,
            x0,
            p0,
            level: f64::NAN,
            variance: p0,
            gain: f64::NAN,
            started: false,
        };
        kalman.reset();
        Ok(kalman)
    }

    /// The gain `k` of the latest update (NaN before the first).
    pub fn gain(&self) -> f64 {
        self.gain
    }

    /// The posterior variance `P` after the latest update (`p0` before the first).
    pub fn variance(&self) -> f64 {
        self.variance
    }
}

impl Indicator for Kalman {
    type Input = f64;

    fn name(&self) -> &str {
        "kalman"
    }

    fn warmup_period(&self) -> usize {
        0
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        if !self.started {
            self.level = value;
            self.started = true;
        }
        let p_prior = self.variance + self.q;
        let k = p_prior / (p_prior + self.r);
        self.level = self.level + k * (value - self.level);
        self.variance = (1.0 - k) * p_prior;
        self.gain = k;
        self.level
    }

    fn reset(&mut self) {
        self.level = self.x0.unwrap_or(f64::NAN);
        self.variance = self.p0;
        self.gain = f64::NAN;
        self.started = self.x0.is_some();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_observation_seeds_the_level() {
        let mut kf = Kalman::new(1.0, 1.0, None, 0.0).unwrap();
        // p_prior = 0 + 1 -> k = 0.5, P = 0.5; the level stays at the first observation
        assert_eq!(kf.update(5.0), 5.0);
        // p_prior = 0.5 + 1 = 1.5 -> k = 0.6 -> 5 + 0.6 * (10 - 5) = 8
        assert_eq!(kf.variance(), 0.5);
        assert_eq!(kf.update(10.0), 8.0);
        assert_eq!(kf.gain(), 0.6);
    }

    #[test]
    fn explicit_x0() {
        let mut kf = Kalman::new(0.0, 1.0, Some(0.0), 1.0).unwrap();
        // p_prior 1, k 0.5
        assert_eq!(kf.update(4.0), 2.0);
    }

    #[test]
    fn rejects_bad_variances() {
        assert!(Kalman::new(-1.0, 1.0, None, 1.0).is_err());
        assert!(Kalman::new(1.0, 0.0, None, 1.0).is_err());
        assert!(Kalman::new(1.0, 1.0, Some(f64::NAN), 1.0).is_err());
    }
}

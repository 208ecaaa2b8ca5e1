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
    /// `P` has reached a fixed point of its update: every later step would compute the same
    /// `k` and `P` again, so they are reused (the same values, bit for bit, without the
    /// division on the critical path).
    steady: bool,
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
            steady: false,
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
        if !self.steady {
            let p_prior = self.variance + self.q;
            let k = p_prior / (p_prior + self.r);
            let variance = (1.0 - k) * p_prior;
            // `P` alone decides the next `k` and `P`, so equal bits mean a fixed point.
            self.steady = variance.to_bits() == self.variance.to_bits();
            self.variance = variance;
            self.gain = k;
        }
        self.level = self.level + self.gain * (value - self.level);
        self.level
    }

    fn reset(&mut self) {
        self.level = self.x0.unwrap_or(f64::NAN);
        self.variance = self.p0;
        self.gain = f64::NAN;
        self.started = self.x0.is_some();
        self.steady = false;
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

    /// The update as documented, every step in full.
    fn reference(q: f64, r: f64, p0: f64, ys: &[f64]) -> Vec<(f64, f64, f64)> {
        let (mut x, mut p) = (ys[0], p0);
        ys.iter()
            .map(|&y| {
                let p_prior = p + q;
                let k = p_prior / (p_prior + r);
                x = x + k * (y - x);
                p = (1.0 - k) * p_prior;
                (x, p, k)
            })
            .collect()
    }

    #[test]
    fn reusing_the_steady_gain_changes_no_bit() {
        let ys: Vec<f64> = (0..5000)
            .map(|i| 1.1 + ((i * 7919) % 1013) as f64 * 1e-5)
            .collect();
        for (q, r, p0) in [
            (1e-5, 1e-3, 1.0),
            (0.1, 1.0, 0.0),
            (1.0, 1e-9, 5.0),
            (1e-12, 1.0, 1.0),
        ] {
            let mut kf = Kalman::new(q, r, None, p0).unwrap();
            let got: Vec<(f64, f64, f64)> = ys
                .iter()
                .map(|&y| (kf.update(y), kf.variance(), kf.gain()))
                .collect();
            let want = reference(q, r, p0, &ys);
            let bits = |v: &[(f64, f64, f64)]| -> Vec<[u64; 3]> {
                v.iter()
                    .map(|(a, b, c)| [a.to_bits(), b.to_bits(), c.to_bits()])
                    .collect()
            };
            assert_eq!(bits(&got), bits(&want), "q={q} r={r} p0={p0}");
        }
        // The shortcut is taken with mean_reversion_z_score's defaults (else it is dead code).
        let mut kf = Kalman::new(0.01, 1.0, None, 1.0).unwrap();
        ys.iter().for_each(|&y| {
            kf.update(y);
        });
        assert!(kf.steady);
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

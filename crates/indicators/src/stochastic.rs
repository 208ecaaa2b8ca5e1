//! Slow stochastic oscillator as TA-Lib's TA_STOCH with SMA smoothing (MA type 0).

use crate::donchian::RollingExtreme;
use crate::error::{check_period, IndicatorError};
use crate::indicator::{Hlc, Indicator};
use crate::sma::Sma;

/// Relative size under which TA-Lib 0.8.1 treats a range or a distance as zero.
pub(crate) const FLAT: f64 = 1e-14;

/// `Stochastic(k_period, k_smooth, d_period)`; `line` 0 slow %K, 1 %D.
///
/// Fast %K = `(close - lowest) / diff * 100.0` with `diff = highest - lowest` over the last
/// `k_period` bars (TA-Lib's TA_MAX/TA_MIN scan), 0.0 when the range is flat:
/// `|diff| <= 1e-14 * (|highest| + |lowest|)`, TA-Lib 0.8.1's order and zero test (measured on
/// the library; the classic `/ (diff / 100)` and exact-zero test differ). Slow %K =
/// SMA(k_smooth) of fast %K, %D = SMA(d_period) of slow %K. Like TA_STOCH both lines start at
/// bar `k_period + k_smooth + d_period - 3` (slow %K is NaN until %D exists).
#[derive(Debug, Clone)]
pub struct Stochastic {
    k_period: usize,
    k_smooth: usize,
    d_period: usize,
    line: u8,
    highest: RollingExtreme,
    lowest: RollingExtreme,
    smooth_k: Sma,
    smooth_d: Sma,
    count: usize,
    lines: (f64, f64),
}

impl Stochastic {
    pub fn new(
        k_period: usize,
        k_smooth: usize,
        d_period: usize,
        line: u8,
    ) -> Result<Self, IndicatorError> {
        let k_period = check_period("stochastic", "k_period", k_period, 1)?;
        let k_smooth = check_period("stochastic", "k_smooth", k_smooth, 1)?;
        let d_period = check_period("stochastic", "d_period", d_period, 1)?;
        if line > 1 {
            return Err(IndicatorError::InvalidParameter {
                indicator: "stochastic",
                parameter: "line",
                reason: format!("must be 0 (slow %K) or 1 (%D), got {line}"),
            });
        }
        Ok(Stochastic {
            k_period,
            k_smooth,
            d_period,
            line,
            highest: RollingExtreme::new(k_period, true)?,
            lowest: RollingExtreme::new(k_period, false)?,
            smooth_k: Sma::new(k_smooth)?,
            smooth_d: Sma::new(d_period)?,
            count: 0,
            lines: (f64::NAN, f64::NAN),
        })
    }

    /// `(slow %K, %D)` after the latest update (NaN during warm-up).
    pub fn lines(&self) -> (f64, f64) {
        self.lines
    }
}

impl Indicator for Stochastic {
    type Input = Hlc;

    fn name(&self) -> &str {
        "stochastic"
    }

    fn warmup_period(&self) -> usize {
        self.k_period + self.k_smooth + self.d_period - 3
    }

    #[inline]
    fn update(&mut self, bar: Hlc) -> f64 {
        self.count += 1;
        let lowest = self.lowest.update(bar.low);
        let highest = self.highest.update(bar.high);
        if self.count < self.k_period {
            return f64::NAN;
        }
        let diff = highest - lowest;
        // TA-Lib 0.8.1: a range within 1e-14 of the prices' magnitude counts as flat.
        let fast_k = if diff.abs() <= FLAT * (highest.abs() + lowest.abs()) {
            0.0
        } else {
            (bar.close - lowest) / diff * 100.0
        };
        let slow_k = self.smooth_k.update(fast_k);
        if self.count < self.k_period + self.k_smooth - 1 {
            return f64::NAN;
        }
        let slow_d = self.smooth_d.update(slow_k);
        if self.count <= self.warmup_period() {
            return f64::NAN;
        }
        self.lines = (slow_k, slow_d);
        if self.line == 1 {
            slow_d
        } else {
            slow_k
        }
    }

    fn reset(&mut self) {
        self.highest.reset();
        self.lowest.reset();
        self.smooth_k.reset();
        self.smooth_d.reset();
        self.count = 0;
        self.lines = (f64::NAN, f64::NAN);
    }
}

//! MACD as TA-Lib's TA_MACD (EMA seeding and output alignment included).

use crate::ema::Ema;
use crate::error::{check_period, IndicatorError};
use crate::indicator::Indicator;

/// `MACD(fast, slow, signal)`, `fast < slow`; `line` 0 MACD, 1 signal, 2 histogram.
///
/// TA_MACD seeds both EMAs at bar `slow - 1`: the slow one with the mean of bars
/// `0 ..= slow - 1`, the fast one with the mean of bars `slow - fast ..= slow - 1` only, so the
/// fast EMA is fed from bar `slow - fast` on. `macd = fast - slow` from bar `slow - 1`; the
/// signal is an EMA of it seeded the same way; `histogram = macd - signal`. All three lines
/// start at bar `slow + signal - 2` (earlier MACD values are NaN, as in TA-Lib's output).
#[derive(Debug, Clone)]
pub struct Macd {
    fast_period: usize,
    slow_period: usize,
    signal_period: usize,
    line: u8,
    fast: Ema,
    slow: Ema,
    signal: Ema,
    count: usize,
    lines: (f64, f64, f64),
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize, line: u8) -> Result<Self, IndicatorError> {
        let fast = check_period("macd", "fast", fast, 1)?;
        let slow = check_period("macd", "slow", slow, 2)?;
        let signal = check_period("macd", "signal", signal, 1)?;
        if fast >= slow {
            return Err(IndicatorError::InvalidParameter {
                indicator: "macd",
                parameter: "fast",
                reason: format!("must be < slow, got fast {fast}, slow {slow}"),
            });
        }
        if line > 2 {
            return Err(IndicatorError::InvalidParameter {
                indicator: "macd",
                parameter: "line",
                reason: format!("must be 0 (MACD), 1 (signal) or 2 (histogram), got {line}"),
            });
        }
        Ok(Macd {
            fast_period: fast,
            slow_period: slow,
            signal_period: signal,
            line,
            fast: Ema::new(fast)?,
            slow: Ema::new(slow)?,
            signal: Ema::new(signal)?,
            count: 0,
            lines: (f64::NAN, f64::NAN, f64::NAN),
        })
    }

    /// `(macd, signal, histogram)` after the latest update (NaN during warm-up).
    pub fn lines(&self) -> (f64, f64, f64) {
        self.lines
    }
}

impl Indicator for Macd {
    type Input = f64;

    fn name(&self) -> &str {
        "macd"
    }

    fn warmup_period(&self) -> usize {
        self.slow_period + self.signal_period - 2
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        self.count += 1;
        let slow = self.slow.update(value);
        if self.count <= self.slow_period - self.fast_period {
            return f64::NAN;
        }
        let fast = self.fast.update(value);
        if self.count < self.slow_period {
            return f64::NAN;
        }
        let macd = fast - slow;
        let signal = self.signal.update(macd);
        if self.count <= self.warmup_period() {
            return f64::NAN;
        }
        let histogram = macd - signal;
        self.lines = (macd, signal, histogram);
        match self.line {
            1 => signal,
            2 => histogram,
            _ => macd,
        }
    }

    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.count = 0;
        self.lines = (f64::NAN, f64::NAN, f64::NAN);
    }
}

//! Wilder's ADX, +DI and -DI as TA-Lib's TA_ADX, TA_PLUS_DI and TA_MINUS_DI.

use crate::atr::true_range;
use crate::error::{check_period, IndicatorError};
use crate::indicator::{Hlc, Indicator};

/// `ADX(n)`, `n >= 2`; `line` 0 ADX, 1 +DI, 2 -DI.
///
/// From bar 1: `up = high - prev_high`, `down = prev_low - low`; -DM = `down` when
/// `down > 0 && up < down`, else +DM = `up` when `up > 0 && up > down`; TR as [`Atr`]'s.
/// Bars `1 ..= n - 1` sum DM and TR; from bar `n` each is smoothed `s = s - s / n + part`
/// (TA-Lib's order). `DI = 100 * (DM / TR)` (0.0 when TR is 0) exists from bar `n`, like
/// TA_PLUS_DI. `DX = 100 * (|-DI - +DI| / (-DI + +DI))` of bars `n ..= 2n - 1` is summed (a bar
/// with TR or DI sum 0 adds nothing) and divided by `n` for the first ADX at bar `2n - 1`; then
/// `adx = (adx * (n - 1) + dx) / n`, unchanged on such a bar.
///
/// [`Atr`]: crate::Atr
#[derive(Debug, Clone)]
pub struct Adx {
    period: usize,
    line: u8,
    divisor: f64,
    keep: f64,
    count: usize,
    prev: Hlc,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    sum_dx: f64,
    /// `(adx, +di, -di)` after the latest update.
    lines: (f64, f64, f64),
}

const NAN_BAR: Hlc = Hlc {
    high: f64::NAN,
    low: f64::NAN,
    close: f64::NAN,
};

impl Adx {
    pub fn new(period: usize, line: u8) -> Result<Self, IndicatorError> {
        let period = check_period("adx", "period", period, 2)?;
        if line > 2 {
            return Err(IndicatorError::InvalidParameter {
                indicator: "adx",
                parameter: "line",
                reason: format!("must be 0 (ADX), 1 (+DI) or 2 (-DI), got {line}"),
            });
        }
        Ok(Adx {
            period,
            line,
            divisor: period as f64,
            keep: (period - 1) as f64,
            count: 0,
            prev: NAN_BAR,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            lines: (f64::NAN, f64::NAN, f64::NAN),
        })
    }

    /// `(adx, +di, -di)` after the latest update (NaN during their warm-ups).
    pub fn lines(&self) -> (f64, f64, f64) {
        self.lines
    }

    #[inline]
    fn add_dm(&mut self, up: f64, down: f64) {
        if down > 0.0 && up < down {
            self.minus_dm += down;
        } else if up > 0.0 && up > down {
            self.plus_dm += up;
        }
    }
}

impl Indicator for Adx {
    type Input = Hlc;

    fn name(&self) -> &str {
        "adx"
    }

    fn warmup_period(&self) -> usize {
        if self.line == 0 {
            2 * self.period - 1
        } else {
            self.period
        }
    }

    #[inline]
    fn update(&mut self, bar: Hlc) -> f64 {
        self.count += 1;
        let (count, n) = (self.count, self.period);
        let up = bar.high - self.prev.high;
        let down = self.prev.low - bar.low;
        let prev_close = self.prev.close;
        self.prev = bar;
        if count == 1 {
            return f64::NAN;
        }
        let tr = true_range(bar.high, bar.low, prev_close);
        if count <= n {
            self.add_dm(up, down);
            self.tr += tr;
            return f64::NAN;
        }
        self.minus_dm -= self.minus_dm / self.divisor;
        self.plus_dm -= self.plus_dm / self.divisor;
        self.add_dm(up, down);
        self.tr = self.tr - self.tr / self.divisor + tr;
        let mut adx = self.lines.0;
        let (mut plus_di, mut minus_di) = (0.0, 0.0);
        let mut dx = f64::NAN; // stays NaN when TR or the DI sum is 0: the ADX keeps its value
        if self.tr != 0.0 {
            minus_di = 100.0 * (self.minus_dm / self.tr);
            plus_di = 100.0 * (self.plus_dm / self.tr);
            let di_sum = minus_di + plus_di;
            if di_sum != 0.0 {
                dx = 100.0 * ((minus_di - plus_di).abs() / di_sum);
            }
        }
        if count <= 2 * n {
            if !dx.is_nan() {
                self.sum_dx += dx;
            }
            if count == 2 * n {
                adx = self.sum_dx / self.divisor;
            }
        } else if !dx.is_nan() {
            adx = (adx * self.keep + dx) / self.divisor;
        }
        self.lines = (adx, plus_di, minus_di);
        match self.line {
            1 => plus_di,
            2 => minus_di,
            _ => adx,
        }
    }

    fn reset(&mut self) {
        self.count = 0;
        self.prev = NAN_BAR;
        self.plus_dm = 0.0;
        self.minus_dm = 0.0;
        self.tr = 0.0;
        self.sum_dx = 0.0;
        self.lines = (f64::NAN, f64::NAN, f64::NAN);
    }
}

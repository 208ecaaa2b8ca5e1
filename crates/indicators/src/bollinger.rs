//! Bollinger bands as TA-Lib's TA_BBANDS with MA type SMA.

use crate::error::{check_float, IndicatorError};
use crate::indicator::Indicator;
use crate::rolling_std::RollingStd;
use crate::sma::Sma;

/// Which band [`Bollinger::update`](Indicator::update) returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BollingerBand {
    Upper,
    Middle,
    Lower,
}

impl BollingerBand {
    /// This band's value of a channel (Bollinger, Donchian, Keltner).
    #[inline]
    pub fn pick(self, upper: f64, middle: f64, lower: f64) -> f64 {
        match self {
            BollingerBand::Upper => upper,
            BollingerBand::Middle => middle,
            BollingerBand::Lower => lower,
        }
    }

    /// `+1` upper, `0` middle, `-1` lower (the encoding of `IndicatorSpec::Bollinger::band`).
    pub fn from_i8(band: i8) -> Result<Self, IndicatorError> {
        match band {
            1 => Ok(BollingerBand::Upper),
            0 => Ok(BollingerBand::Middle),
            -1 => Ok(BollingerBand::Lower),
            other => Err(IndicatorError::InvalidParameter {
                indicator: "bollinger",
                parameter: "band",
                reason: format!("must be 1 (upper), 0 (middle) or -1 (lower), got {other}"),
            }),
        }
    }
}

/// `Bollinger(n, k_up, k_down)`: middle = SMA(n), std = RollingStd(n),
/// `upper = middle + k_up * std`, `lower = middle - k_down * std`; first `n - 1` NaN.
///
/// TA-Lib multiplies by `k` only when `k != 1`; `std * 1.0` is the same double, so always
/// multiplying gives the same bands.
#[derive(Debug, Clone)]
pub struct Bollinger {
    sma: Sma,
    std: RollingStd,
    k_up: f64,
    k_down: f64,
    band: BollingerBand,
    bands: (f64, f64, f64),
}

impl Bollinger {
    pub fn new(
        period: usize,
        k_up: f64,
        k_down: f64,
        band: BollingerBand,
    ) -> Result<Self, IndicatorError> {
        let std = RollingStd::new(period).map_err(|e| rename(e, "bollinger"))?;
        Ok(Bollinger {
            sma: Sma::new(period)?,
            std,
            k_up: check_float("bollinger", "k_up", k_up, 0.0, false)?,
            k_down: check_float("bollinger", "k_down", k_down, 0.0, false)?,
            band,
            bands: (f64::NAN, f64::NAN, f64::NAN),
        })
    }

    /// `(upper, middle, lower)` after the latest update.
    pub fn bands(&self) -> (f64, f64, f64) {
        self.bands
    }
}

pub(crate) fn rename(error: IndicatorError, indicator: &'static str) -> IndicatorError {
    match error {
        IndicatorError::InvalidParameter {
            parameter, reason, ..
        } => IndicatorError::InvalidParameter {
            indicator,
            parameter,
            reason,
        },
        other => other,
    }
}

impl Indicator for Bollinger {
    type Input = f64;

    fn name(&self) -> &str {
        "bollinger"
    }

    fn warmup_period(&self) -> usize {
        self.std.period() - 1
    }

    #[inline]
    fn update(&mut self, value: f64) -> f64 {
        let middle = self.sma.update(value);
        let std = self.std.update(value);
        let upper = middle + self.k_up * std;
        let lower = middle - self.k_down * std;
        self.bands = (upper, middle, lower);
        self.band.pick(upper, middle, lower)
    }

    fn reset(&mut self) {
        self.sma.reset();
        self.std.reset();
        self.bands = (f64::NAN, f64::NAN, f64::NAN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_around_the_mean() {
        let mut bb = Bollinger::new(2, 2.0, 1.0, BollingerBand::Upper).unwrap();
        let out = bb.batch([1.0, 3.0]);
        assert!(out[0].is_nan());
        // mean 2, std 1
        assert_eq!(out[1], 4.0);
        assert_eq!(bb.bands(), (4.0, 2.0, 1.0));
    }

    #[test]
    fn rejects_bad_band_and_k() {
        assert!(BollingerBand::from_i8(2).is_err());
        assert!(Bollinger::new(5, -1.0, 2.0, BollingerBand::Middle).is_err());
        assert!(Bollinger::new(1, 2.0, 2.0, BollingerBand::Middle).is_err());
    }
}

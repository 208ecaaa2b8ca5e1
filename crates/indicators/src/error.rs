//! Errors of indicator construction and computation.

use thiserror::Error;

/// What can go wrong; bindings map these to `omega.indicators.errors` classes.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IndicatorError {
    /// A parameter is out of range, e.g. `period = 0` or a negative variance.
    #[error("{indicator}: {parameter} {reason}")]
    InvalidParameter {
        indicator: &'static str,
        parameter: &'static str,
        reason: String,
    },
    /// Input columns do not fit together (unequal lengths, output buffer of the wrong size).
    #[error("{0}")]
    InputMismatch(String),
}

pub(crate) fn check_period(
    indicator: &'static str,
    parameter: &'static str,
    value: usize,
    minimum: usize,
) -> Result<usize, IndicatorError> {
    if value < minimum {
        return Err(IndicatorError::InvalidParameter {
            indicator,
            parameter,
            reason: format!("must be >= {minimum}, got {value}"),
        });
    }
    Ok(value)
}

/// A finite value `>= minimum` (or `> minimum` when `strict`).
pub(crate) fn check_float(
    indicator: &'static str,
    parameter: &'static str,
    value: f64,
    minimum: f64,
    strict: bool,
) -> Result<f64, IndicatorError> {
    let too_small = if strict {
        value <= minimum
    } else {
        value < minimum
    };
    if !value.is_finite() || too_small {
        let bound = if strict { ">" } else { ">=" };
        return Err(IndicatorError::InvalidParameter {
            indicator,
            parameter,
            reason: format!("must be finite and {bound} {minimum}, got {value}"),
        });
    }
    Ok(value)
}

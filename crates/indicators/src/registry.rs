//! The one place that turns a built-in [`IndicatorSpec`] into its computation: batch
//! ([`compute`](crate::compute)), streaming ([`SpecStream`](crate::SpecStream)) and warm-up
//! all go through [`with_built!`]. A new built-in kind is a row of the spec table in
//! omega-strategy-api and an arm here.

/// Evaluates `$single` with `$ind` bound to the concrete indicator of a single-input spec and
/// `$field` to its field, or `$range` with `$ind` bound to a high/low/close one. Each arm is
/// monomorphic (no virtual call per bar in batch computation). Returns early with the
/// constructor's error on invalid parameters.
macro_rules! with_built {
    ($spec:expr, single |$ind:ident, $field:ident| $single:expr, range |$rind:ident| $range:expr $(,)?) => {{
        use omega_strategy_api::IndicatorSpec as S;
        #[allow(unreachable_patterns)]
        match *$spec {
            S::Sma { period, field } => {
                let ($ind, $field) = ($crate::Sma::new(period)?, field);
                $single
            }
            S::Ema { period, field } => {
                let ($ind, $field) = ($crate::Ema::new(period)?, field);
                $single
            }
            S::Rsi { period, field } => {
                let ($ind, $field) = ($crate::Rsi::new(period)?, field);
                $single
            }
            S::Atr { period } => {
                let $rind = $crate::Atr::new(period)?;
                $range
            }
            S::RollingStd { period, field } => {
                let ($ind, $field) = ($crate::RollingStd::new(period)?, field);
                $single
            }
            S::Bollinger { period, k_up, k_down, band, field } => {
                let band = $crate::BollingerBand::from_i8(band)?;
                let ($ind, $field) = ($crate::Bollinger::new(period, k_up, k_down, band)?, field);
                $single
            }
            S::ZScore { period, field } => {
                let ($ind, $field) = ($crate::ZScore::new(period)?, field);
                $single
            }
            S::Kalman { q, r, x0, p0, field } => {
                let ($ind, $field) = ($crate::Kalman::new(q, r, x0, p0)?, field);
                $single
            }
            S::KalmanZScore { q, r, x0, p0, lookback, field } => {
                let ($ind, $field) = ($crate::KalmanZScore::new(q, r, x0, p0, lookback)?, field);
                $single
            }
            other => {
                return Err($crate::IndicatorError::InvalidParameter {
                    indicator: other.kind(),
                    parameter: "kind",
                    reason: "is not implemented by omega-indicators yet".to_string(),
                })
            }
        }
    }};
}

pub(crate) use with_built;

/// Leading NaN outputs of `spec` from a fresh state (its parameter errors as `compute`'s).
pub fn warmup_period(
    spec: &omega_strategy_api::IndicatorSpec,
) -> Result<usize, crate::IndicatorError> {
    use crate::Indicator;
    Ok(with_built!(spec,
        single |ind, _field| ind.warmup_period(),
        range |ind| ind.warmup_period(),
    ))
}

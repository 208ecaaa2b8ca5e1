//! The one place that turns a built-in [`IndicatorSpec`] into its computation: batch
//! ([`compute`](crate::compute)) and streaming ([`SpecStream`](crate::SpecStream)) both go
//! through [`with_built!`]. A new built-in kind is a row of the spec table in
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
            S::Bollinger {
                period,
                k_up,
                k_down,
                band,
                field,
            } => {
                let band = $crate::BollingerBand::from_i8(band)?;
                let ($ind, $field) = ($crate::Bollinger::new(period, k_up, k_down, band)?, field);
                $single
            }
            S::ZScore { period, field } => {
                let ($ind, $field) = ($crate::ZScore::new(period)?, field);
                $single
            }
            S::Kalman {
                q,
                r,
                x0,
                p0,
                field,
            } => {
                let ($ind, $field) = ($crate::Kalman::new(q, r, x0, p0)?, field);
                $single
            }
            S::KalmanZScore {
                q,
                r,
                x0,
                p0,
                lookback,
                field,
            } => {
                let ($ind, $field) = ($crate::KalmanZScore::new(q, r, x0, p0, lookback)?, field);
                $single
            }
            S::Wma { period, field } => {
                let ($ind, $field) = ($crate::Wma::new(period)?, field);
                $single
            }
            S::Hull { period, field } => {
                let ($ind, $field) = ($crate::Hull::new(period)?, field);
                $single
            }
            S::Macd {
                fast,
                slow,
                signal,
                line,
                field,
            } => {
                let line = $crate::registry::line("macd", line)?;
                let ($ind, $field) = ($crate::Macd::new(fast, slow, signal, line)?, field);
                $single
            }
            S::Stochastic {
                k_period,
                k_smooth,
                d_period,
                line,
            } => {
                let line = $crate::registry::line("stochastic", line)?;
                let $rind = $crate::Stochastic::new(k_period, k_smooth, d_period, line)?;
                $range
            }
            S::Adx { period, line } => {
                let $rind = $crate::Adx::new(period, $crate::registry::line("adx", line)?)?;
                $range
            }
            S::Cci { period } => {
                let $rind = $crate::Cci::new(period)?;
                $range
            }
            S::Donchian { period, band } => {
                let $rind = $crate::Donchian::new(period, band)?;
                $range
            }
            S::Keltner {
                period,
                atr_period,
                k,
                band,
            } => {
                let $rind = $crate::Keltner::new(period, atr_period, k, band)?;
                $range
            }
            // `IndicatorSpec` is non-exhaustive: a kind added to the table without an arm
            // here is an error, never a wrong series.
            other => {
                return Err($crate::IndicatorError::InvalidParameter {
                    indicator: other.kind(),
                    parameter: "kind",
                    reason: "is not implemented by omega-indicators".to_string(),
                })
            }
        }
    }};
}

pub(crate) use with_built;

/// A `line` selector as the indicators take it (a negative one is refused by name).
pub(crate) fn line(indicator: &'static str, line: i8) -> Result<u8, crate::IndicatorError> {
    u8::try_from(line).map_err(|_| crate::IndicatorError::InvalidParameter {
        indicator,
        parameter: "line",
        reason: format!("must be >= 0, got {line}"),
    })
}

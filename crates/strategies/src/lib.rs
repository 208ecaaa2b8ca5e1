//! omega-strategies: the built-in strategies, written against omega-strategy-api only (as a
//! third party would), and a registry that builds them by name with validated parameters.
//!
//! Each follows its docs page (docs/strategies/) and its Python twin line by line, so the
//! Rust and Python runs of one configuration trade identically.
#![deny(unsafe_code)]

pub mod mean_reversion_z_score;
pub mod pairs_zscore;
pub mod sma_cross;
pub mod zscore_threshold;

pub use mean_reversion_z_score::MeanReversionZScore;
pub use pairs_zscore::PairsZScore;
pub use sma_cross::SmaCross;
pub use zscore_threshold::ZScoreThreshold;

use omega_strategy_api::{
    DataSlice, ParamError, ParamSpec, ParamValue, Params, Position, PositionAction, RunContext,
    Strategy, StrategyError, TradeSignal,
};
use std::fmt;

/// Registry names, sorted.
pub const NAMES: &[&str] = &[
    MeanReversionZScore::NAME,
    SmaCross::NAME,
    ZScoreThreshold::NAME,
];

/// The declared parameters of a built-in strategy.
pub fn param_specs(name: &str) -> Option<&'static [ParamSpec]> {
    match name {
        MeanReversionZScore::NAME => Some(mean_reversion_z_score::PARAMS),
        SmaCross::NAME => Some(sma_cross::PARAMS),
        ZScoreThreshold::NAME => Some(zscore_threshold::PARAMS),
        _ => None,
    }
}

/// Registry names of the built-in portfolio strategies (one strategy over a basket).
pub const PORTFOLIO_NAMES: &[&str] = &[PairsZScore::NAME];

/// Builds the portfolio strategy registered as `name` from user parameters.
pub fn build_portfolio(
    name: &str,
    params: &[(String, ParamValue)],
) -> Result<PairsZScore, BuildError> {
    match name {
        PairsZScore::NAME => PairsZScore::new(params).map_err(|error| BuildError::Params {
            strategy: PairsZScore::NAME,
            error,
        }),
        other => Err(BuildError::UnknownStrategy(other.to_string())),
    }
}

/// Why a strategy could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    UnknownStrategy(String),
    Params {
        strategy: &'static str,
        error: ParamError,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::UnknownStrategy(name) => {
                write!(f, "unknown strategy '{name}'; known: {}", NAMES.join(", "))
            }
            BuildError::Params { strategy, error } => write!(f, "strategy {strategy}: {error}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// A built-in strategy chosen by name; dispatch is a `match`, so the engine stays
/// monomorphic (`Engine<BuiltinStrategy>`) with no virtual calls.
#[derive(Debug, Clone)]
pub enum BuiltinStrategy {
    MeanReversionZScore(MeanReversionZScore),
    SmaCross(SmaCross),
    ZScoreThreshold(ZScoreThreshold),
}

/// Builds the strategy registered as `name` from user parameters (defaults filled in).
pub fn build(name: &str, params: &[(String, ParamValue)]) -> Result<BuiltinStrategy, BuildError> {
    let wrap = |strategy: &'static str| move |error| BuildError::Params { strategy, error };
    match name {
        MeanReversionZScore::NAME => MeanReversionZScore::new(params)
            .map(BuiltinStrategy::MeanReversionZScore)
            .map_err(wrap(MeanReversionZScore::NAME)),
        SmaCross::NAME => SmaCross::new(params)
            .map(BuiltinStrategy::SmaCross)
            .map_err(wrap(SmaCross::NAME)),
        ZScoreThreshold::NAME => ZScoreThreshold::new(params)
            .map(BuiltinStrategy::ZScoreThreshold)
            .map_err(wrap(ZScoreThreshold::NAME)),
        other => Err(BuildError::UnknownStrategy(other.to_string())),
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            BuiltinStrategy::MeanReversionZScore($s) => $body,
            BuiltinStrategy::SmaCross($s) => $body,
            BuiltinStrategy::ZScoreThreshold($s) => $body,
        }
    };
}

impl Strategy for BuiltinStrategy {
    fn name(&self) -> &str {
        dispatch!(self, s => s.name())
    }
    fn params(&self) -> Option<&Params> {
        dispatch!(self, s => s.params())
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        dispatch!(self, s => s.init(ctx))
    }
    #[inline]
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        dispatch!(self, s => s.evaluate(slice))
    }
    #[inline]
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        dispatch!(self, s => s.manage_position(position, slice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(items: &[(&str, ParamValue)]) -> Vec<(String, ParamValue)> {
        items
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn builds_every_registered_name_with_defaults() {
        for name in NAMES {
            let s = build(name, &[]).unwrap();
            assert_eq!(s.name(), *name);
            assert!(param_specs(name).is_some());
        }
    }

    #[test]
    fn rejects_unknown_names_and_bad_parameters() {
        assert!(matches!(
            build("nope", &[]),
            Err(BuildError::UnknownStrategy(_))
        ));
        let e = build(
            MeanReversionZScore::NAME,
            &given(&[("lookback", ParamValue::Int(4))]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("lookback"), "{e}");
        let e = build(
            MeanReversionZScore::NAME,
            &given(&[("z_exit", ParamValue::Float(3.5))]),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("z_exit (3.5) must be < z_entry (3.5)"),
            "{e}"
        );
        let e = build(SmaCross::NAME, &given(&[("fast", ParamValue::Int(30))])).unwrap_err();
        assert!(
            e.to_string().contains("fast (30) must be < slow (30)"),
            "{e}"
        );
        let e = build(
            ZScoreThreshold::NAME,
            &given(&[("entry", ParamValue::Float(0.0))]),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                BuildError::Params {
                    error: ParamError::OutOfRange { .. },
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn trend_timeframe_must_be_coarser_than_the_primary() {
        use omega_strategy_api::{Instrument, Timeframe};
        let instrument = Instrument::default();
        let init = |s: &mut BuiltinStrategy| {
            let params = s.params().cloned().unwrap_or_default();
            let timeframes = [Timeframe::M5];
            let mut ctx = RunContext::new(&instrument, Timeframe::M5, &timeframes, &params);
            s.init(&mut ctx).map(|()| ctx.declared().len())
        };
        let mut s = build(
            MeanReversionZScore::NAME,
            &given(&[("trend_timeframe", ParamValue::Text("M5".into()))]),
        )
        .unwrap();
        assert!(init(&mut s).unwrap_err().0.contains("must be coarser"));
        let mut ok = build(MeanReversionZScore::NAME, &[]).unwrap();
        assert_eq!(init(&mut ok), Ok(3));
        assert_eq!(ok.params().unwrap().int("lookback"), 200);
    }
}

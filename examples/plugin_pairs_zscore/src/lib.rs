//! `pairs_zscore` as a run-time Omega portfolio strategy plugin.
//!
//! The strategy is the built-in one (omega-strategies), wrapped in a type that implements
//! [`PluginPortfolioStrategy`] and exported with [`export_portfolio_strategy!`]: loaded by
//! omega-plugin-host it trades a basket exactly like the built-in portfolio.
//!
//! One extra parameter exists for the host's tests and is removed before the strategy
//! validates the rest: `panic_at_close` (an open time, UTC ns) makes the plugin panic in
//! `evaluate` at that basket close; `panic_at_close = -1` panics at the first one.

use omega_strategies::PairsZScore;
use omega_strategy_api::abi::PluginPortfolioStrategy;
use omega_strategy_api::{
    BasketContext, BasketSlice, ParamValue, Params, PortfolioStrategy, Position, PositionAction,
    StrategyError, TradeSignal,
};

/// The built-in portfolio plus the test hook.
#[derive(Debug)]
pub struct PairsZScorePlugin {
    inner: PairsZScore,
    panic_at: Option<i64>,
}

impl PluginPortfolioStrategy for PairsZScorePlugin {
    const NAME: &'static str = PairsZScore::NAME;

    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        let mut panic_at = None;
        let mut rest = Vec::with_capacity(params.len());
        for (name, value) in params {
            match (name.as_str(), value) {
                ("panic_at_close", ParamValue::Int(t)) => panic_at = Some(*t),
                _ => rest.push((name.clone(), value.clone())),
            }
        }
        let inner =
            PairsZScore::new(&rest).map_err(|e| format!("strategy {}: {e}", PairsZScore::NAME))?;
        Ok(PairsZScorePlugin { inner, panic_at })
    }
}

impl PortfolioStrategy for PairsZScorePlugin {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn params(&self) -> Option<&Params> {
        self.inner.params()
    }
    fn init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        self.inner.init(ctx)
    }
    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        if let Some(at) = self.panic_at {
            if at == -1 || at == basket.time {
                panic!("test hook: panic_at_close {} in evaluate", basket.time);
            }
        }
        self.inner.evaluate(basket)
    }
    fn manage_position(
        &mut self,
        member: usize,
        position: &Position,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        self.inner.manage_position(member, position, basket)
    }
}

omega_strategy_api::export_portfolio_strategy!(PairsZScorePlugin);

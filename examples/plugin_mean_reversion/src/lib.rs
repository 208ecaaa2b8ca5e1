//! `mean_reversion_z_score` as a run-time Omega strategy plugin.
//!
//! The strategy is the built-in one (omega-strategies), wrapped in a type that implements
//! [`PluginStrategy`] and exported with [`export_strategy!`]: loaded by omega-plugin-host it
//! trades exactly like the built-in strategy.
//!
//! Two extra parameters exist for the host's tests and are removed before the strategy
//! validates the rest: `panic_at_bar` (a bar index) makes the plugin panic at that bar in the
//! function named by `panic_in` (`evaluate`, the default, or `manage_position`); `panic_in`
//! = `create` or `init` panics in that function at once.

use omega_strategies::MeanReversionZScore;
use omega_strategy_api::abi::PluginStrategy;
use omega_strategy_api::{
    DataSlice, ParamValue, Params, Position, PositionAction, RunContext, Strategy, StrategyError,
    TradeSignal,
};

/// Where the test hook panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PanicIn {
    Evaluate,
    ManagePosition,
    Init,
}

/// The built-in strategy plus the test hook.
#[derive(Debug)]
pub struct MeanReversionPlugin {
    inner: MeanReversionZScore,
    panic_at: Option<(PanicIn, usize)>,
}

impl MeanReversionPlugin {
    fn maybe_panic(&self, here: PanicIn, index: usize) {
        if self.panic_at == Some((here, index)) {
            panic!("test hook: panic_at_bar {index} in {here:?}");
        }
    }
}

impl PluginStrategy for MeanReversionPlugin {
    const NAME: &'static str = MeanReversionZScore::NAME;

    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        let mut at_bar = None;
        let mut panic_in = PanicIn::Evaluate;
        let mut rest = Vec::with_capacity(params.len());
        for (name, value) in params {
            match (name.as_str(), value) {
                ("panic_at_bar", ParamValue::Int(i)) => {
                    at_bar = Some(usize::try_from(*i).map_err(|e| format!("panic_at_bar: {e}"))?)
                }
                ("panic_in", ParamValue::Text(f)) => {
                    panic_in = match f.as_str() {
                        "evaluate" => PanicIn::Evaluate,
                        "manage_position" => PanicIn::ManagePosition,
                        "init" => PanicIn::Init,
                        "create" => panic!("test hook: panic in create"),
                        other => return Err(format!("panic_in: unknown function {other:?}")),
                    }
                }
                _ => rest.push((name.clone(), value.clone())),
            }
        }
        let inner = MeanReversionZScore::new(&rest)
            .map_err(|e| format!("strategy {}: {e}", MeanReversionZScore::NAME))?;
        let panic_at = match (panic_in, at_bar) {
            (PanicIn::Init, _) => Some((PanicIn::Init, 0)),
            (here, Some(bar)) => Some((here, bar)),
            (_, None) => None,
        };
        Ok(MeanReversionPlugin { inner, panic_at })
    }
}

impl Strategy for MeanReversionPlugin {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn params(&self) -> Option<&Params> {
        self.inner.params()
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.maybe_panic(PanicIn::Init, 0);
        self.inner.init(ctx)
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        self.maybe_panic(PanicIn::Evaluate, slice.index());
        self.inner.evaluate(slice)
    }
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        self.maybe_panic(PanicIn::ManagePosition, slice.index());
        self.inner.manage_position(position, slice)
    }
}

#[cfg(not(any(feature = "abi_mismatch", feature = "size_mismatch")))]
omega_strategy_api::export_strategy!(MeanReversionPlugin);

/// What a build against omega-strategy-api 0.1 exports: the ABI 1 symbol and version (the
/// rest of the descriptor is never read), for the loader's tests.
#[cfg(feature = "abi_mismatch")]
#[allow(unsafe_code)] // `no_mangle`
#[no_mangle]
pub extern "C" fn omega_strategy_plugin_v1() -> *const omega_strategy_api::abi::PluginDescriptor {
    use omega_strategy_api::abi::PluginDescriptor;
    static DESCRIPTOR: PluginDescriptor = PluginDescriptor {
        abi_version: 1,
        ..PluginDescriptor::of::<MeanReversionPlugin>()
    };
    &DESCRIPTOR
}

/// A descriptor that lies about a size, for the loader's tests.
#[cfg(feature = "size_mismatch")]
#[allow(unsafe_code)] // `no_mangle`
#[no_mangle]
pub extern "C" fn omega_strategy_plugin_v3() -> *const omega_strategy_api::abi::PluginDescriptor {
    use omega_strategy_api::abi::PluginDescriptor;
    static DESCRIPTOR: PluginDescriptor = {
        let mut d = PluginDescriptor::of::<MeanReversionPlugin>();
        d.sizes.slice += 8;
        d
    };
    &DESCRIPTOR
}

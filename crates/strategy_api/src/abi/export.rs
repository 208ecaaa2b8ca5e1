//! [`export_strategy!`](crate::export_strategy) and
//! [`export_portfolio_strategy!`](crate::export_portfolio_strategy): the one symbol a plugin
//! library exports.
//!
//! The function's name is [`PLUGIN_SYMBOL`](super::PLUGIN_SYMBOL) spelled out (a macro cannot
//! build an identifier from a constant): both change together with
//! [`ABI_VERSION`](crate::ABI_VERSION), so a library built against another ABI is either not
//! found or found under an older name and refused with both versions named.

/// Exports `$ty` (a [`PluginStrategy`](crate::abi::PluginStrategy)) as this library's plugin:
/// defines the [`PLUGIN_SYMBOL`](crate::abi::PLUGIN_SYMBOL) function returning its static
/// [`PluginDescriptor`](crate::abi::PluginDescriptor). Use once per cdylib.
#[macro_export]
macro_rules! export_strategy {
    ($ty:ty) => {
        /// The Omega strategy plugin descriptor (C ABI, see `omega_strategy_api::abi`).
        #[allow(unsafe_code)] // `no_mangle` is flagged by the lint: the symbol must be exact
        #[no_mangle]
        pub extern "C" fn omega_strategy_plugin_v3() -> *const $crate::abi::PluginDescriptor {
            static DESCRIPTOR: $crate::abi::PluginDescriptor =
                $crate::abi::PluginDescriptor::of::<$ty>();
            &DESCRIPTOR
        }
    };
}

/// Exports `$ty` (a [`PluginPortfolioStrategy`](crate::abi::PluginPortfolioStrategy)) as
/// this library's portfolio plugin: defines the
/// [`PORTFOLIO_PLUGIN_SYMBOL`](crate::abi::PORTFOLIO_PLUGIN_SYMBOL) function returning its
/// static [`PortfolioPluginDescriptor`](crate::abi::PortfolioPluginDescriptor). Use once per
/// cdylib, and not together with [`export_strategy!`](crate::export_strategy): a library is
/// one kind of plugin.
#[macro_export]
macro_rules! export_portfolio_strategy {
    ($ty:ty) => {
        /// The Omega portfolio plugin descriptor (C ABI, see `omega_strategy_api::abi`).
        #[allow(unsafe_code)] // `no_mangle` is flagged by the lint: the symbol must be exact
        #[no_mangle]
        pub extern "C" fn omega_portfolio_plugin_v3(
        ) -> *const $crate::abi::PortfolioPluginDescriptor {
            static DESCRIPTOR: $crate::abi::PortfolioPluginDescriptor =
                $crate::abi::PortfolioPluginDescriptor::of::<$ty>();
            &DESCRIPTOR
        }
    };
}

#[cfg(test)]
#[allow(unsafe_code)] // reading the descriptor the macro returns
mod tests {
    use crate::abi::{PluginDescriptor, PluginStrategy, PLUGIN_SYMBOL};
    use crate::{DataSlice, ParamValue, RunContext, Strategy, StrategyError, TradeSignal};

    struct Flat;

    impl Strategy for Flat {
        fn name(&self) -> &str {
            "flat"
        }
        fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
            Ok(())
        }
        fn evaluate(
            &mut self,
            _slice: &DataSlice<'_>,
        ) -> Result<Option<TradeSignal>, StrategyError> {
            Ok(None)
        }
    }

    impl PluginStrategy for Flat {
        const NAME: &'static str = "flat";
        fn create(_params: &[(String, ParamValue)]) -> Result<Self, String> {
            Ok(Flat)
        }
    }

    crate::export_strategy!(Flat);

    #[test]
    fn the_exported_function_is_named_as_the_symbol_the_host_looks_up() {
        // The macro's identifier and the constant are written separately: this ties them
        // (the call only compiles under the name the constant spells).
        let descriptor: *const PluginDescriptor = omega_strategy_plugin_v3();
        assert_eq!(PLUGIN_SYMBOL, "omega_strategy_plugin_v3");
        assert!(PLUGIN_SYMBOL.ends_with(&format!("_v{}", crate::ABI_VERSION)));
        // SAFETY: the macro returns the address of a static descriptor.
        let d = unsafe { &*descriptor };
        assert_eq!(d.abi_version, crate::ABI_VERSION);
        // SAFETY: a static name of this build.
        assert_eq!(unsafe { d.name.to_str() }, Ok("flat"));
    }

    mod portfolio {
        use crate::abi::{
            PluginPortfolioStrategy, PortfolioPluginDescriptor, PORTFOLIO_PLUGIN_SYMBOL,
        };
        use crate::{
            BasketContext, BasketSlice, ParamValue, PortfolioStrategy, StrategyError, TradeSignal,
        };

        struct Idle;

        impl PortfolioStrategy for Idle {
            fn name(&self) -> &str {
                "idle"
            }
            fn init(&mut self, _ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
                Ok(())
            }
            fn evaluate(
                &mut self,
                _basket: &BasketSlice<'_>,
            ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
                Ok(Vec::new())
            }
        }

        impl PluginPortfolioStrategy for Idle {
            const NAME: &'static str = "idle";
            fn create(_params: &[(String, ParamValue)]) -> Result<Self, String> {
                Ok(Idle)
            }
        }

        crate::export_portfolio_strategy!(Idle);

        #[test]
        fn the_portfolio_function_is_named_as_its_symbol() {
            let descriptor: *const PortfolioPluginDescriptor = omega_portfolio_plugin_v3();
            assert_eq!(PORTFOLIO_PLUGIN_SYMBOL, "omega_portfolio_plugin_v3");
            // SAFETY: the macro returns the address of a static descriptor.
            let d = unsafe { &*descriptor };
            assert_eq!(d.abi_version, crate::ABI_VERSION);
            // SAFETY: a static name of this build.
            assert_eq!(unsafe { d.name.to_str() }, Ok("idle"));
        }
    }
}

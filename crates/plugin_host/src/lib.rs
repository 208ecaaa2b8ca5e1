//! omega-plugin-host: loads strategy plugins at run time and runs them as [`Strategy`]s.
//!
//! A plugin is a `cdylib` built against omega-strategy-api that exports
//! [`omega_strategy_api::abi::PLUGIN_SYMBOL`] (see `export_strategy!`). [`Plugin::load`] opens
//! it with libloading, refuses it unless its ABI version and the size of every boundary type
//! equal this build's, and never unloads it. [`Plugin::create`] builds an instance from user
//! parameters; the returned [`PluginStrategy`] implements [`Strategy`], so the engine runs it
//! like a built-in strategy (`run_backtest::<PluginStrategy>`), with the same results.
//!
//! A plugin that panics or breaks the protocol stops the run: the adapter returns a
//! `StrategyError` from the call (the engine stops there) and keeps the cause as a
//! [`PluginError`] for the caller ([`PluginStrategy::take_fault`]). The host's side of every
//! call is guarded as well: a panic while it prepares a call or reads the answer becomes
//! [`PluginError::HostPanic`], and the plugin's error message is read without trusting it
//! (null pointer, bytes that are not UTF-8).
//!
//! A *portfolio* plugin (one strategy over a basket) exports
//! [`omega_strategy_api::abi::PORTFOLIO_PLUGIN_SYMBOL`] instead (`export_portfolio_strategy!`):
//! [`PortfolioPlugin::load`] checks it the same way and [`PortfolioPlugin::create`] returns a
//! [`PluginPortfolio`], a `PortfolioStrategy` the engine runs with `run_portfolio`, guarded
//! as [`PluginStrategy`]. [`plugin_kind`] tells which kind a library is; loading one kind
//! as the other is refused with [`PluginError::Kind`].
//!
//! A plugin built for another ABI version is refused before anything is called, naming both
//! versions; a library exporting only an older version's symbol
//! ([`omega_strategy_api::abi::LEGACY_PLUGIN_SYMBOLS`]) is recognised as such.
//!
//! [`Strategy`]: omega_strategy_api::Strategy
#![deny(unsafe_code)]

mod adapter;
mod instance;
mod loader;
mod portfolio_adapter;
mod portfolio_loader;

pub use adapter::PluginStrategy;
pub use loader::{plugin_kind, Plugin};
pub use portfolio_adapter::PluginPortfolio;
pub use portfolio_loader::PortfolioPlugin;

use std::fmt;
use std::path::PathBuf;

/// The two kinds of plugin library, told apart by the symbol they export
/// ([`plugin_kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// A single-instrument strategy (`export_strategy!`): one instance per instrument.
    Strategy,
    /// A portfolio strategy (`export_portfolio_strategy!`): one strategy over a basket.
    Portfolio,
}

impl PluginKind {
    /// `"strategy"` or `"portfolio"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Strategy => "strategy",
            PluginKind::Portfolio => "portfolio",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Strategy => {
                "a single-instrument strategy plugin (export_strategy!, one instance per \
                 instrument)"
            }
            PluginKind::Portfolio => {
                "a portfolio strategy plugin (export_portfolio_strategy!, one strategy over a \
                 basket)"
            }
        })
    }
}

/// Why a plugin could not be loaded, built or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The file could not be opened as a shared library.
    #[error("plugin {path}: cannot load the library: {message}")]
    Load { path: PathBuf, message: String },
    /// The library does not export the plugin symbol.
    #[error("plugin {path}: no symbol {symbol} (not an Omega strategy plugin, or built without export_strategy!): {message}")]
    MissingSymbol {
        path: PathBuf,
        symbol: &'static str,
        message: String,
    },
    /// The library is the other kind of plugin than the one asked for.
    #[error("plugin {path}: the library is {found}, where {expected} is expected")]
    Kind {
        path: PathBuf,
        expected: PluginKind,
        found: PluginKind,
    },
    /// Built against another ABI version of omega-strategy-api.
    #[error(
        "plugin {path}: ABI version mismatch: plugin built for Omega plugin ABI {found}, \
         this engine speaks ABI {expected}; rebuild the plugin against omega-strategy-api {api}",
        api = omega_strategy_api::API_VERSION
    )]
    AbiVersion {
        path: PathBuf,
        expected: u32,
        found: u32,
    },
    /// A boundary type has another size in the plugin than here.
    #[error(
        "plugin {path}: size of {type_name} mismatch: expected {expected} bytes, found {found}"
    )]
    Size {
        path: PathBuf,
        type_name: &'static str,
        expected: usize,
        found: usize,
    },
    /// The descriptor is unusable (null, or a name that is not UTF-8).
    #[error("plugin {path}: invalid descriptor: {message}")]
    Descriptor { path: PathBuf, message: String },
    /// The strategy rejected its parameters or reported an error of its own.
    #[error("{message}")]
    Strategy { message: String },
    /// The plugin panicked inside one of its functions.
    #[error("plugin strategy {strategy}: panic in {function}: {message}")]
    Panic {
        strategy: String,
        function: &'static str,
        message: String,
    },
    /// The host itself panicked while preparing a call or handling its answer (a bug on this
    /// side, or an engine input it cannot describe); the plugin is not called again.
    #[error("plugin strategy {strategy}: the host panicked around {function}: {message}")]
    HostPanic {
        strategy: String,
        function: &'static str,
        message: String,
    },
    /// The plugin returned something the ABI does not allow.
    #[error("plugin strategy {strategy}: invalid answer from {function}: {message}")]
    Protocol {
        strategy: String,
        function: &'static str,
        message: String,
    },
}

//! The C ABI of run-time strategy plugins (`ABI_VERSION` 3).
//!
//! A plugin is a `cdylib` that depends on this crate alone and exports one symbol,
//! [`PLUGIN_SYMBOL`], with [`export_strategy!`](crate::export_strategy). The symbol returns a
//! `'static` [`PluginDescriptor`]: the ABI version, the sizes of every boundary type, the
//! strategy name and a table of `extern "C"` functions. A host (omega-plugin-host) checks the
//! version and the sizes before it calls anything else.
//!
//! The module is split by concern; every item is re-exported here, so paths stay
//! `omega_strategy_api::abi::Name`:
//! - `types`: the `#[repr(C)]` boundary structs, tags, flags and statuses;
//! - `codec`: conversions between the API types and those structs;
//! - `guest`: the plugin side, [`PluginStrategy`] and the exported functions;
//! - `panic`: [`catch_panic`] and [`panic_message`], keeping unwinds off the boundary;
//! - `export`: the [`export_strategy!`](crate::export_strategy) and
//!   [`export_portfolio_strategy!`](crate::export_portfolio_strategy) macros;
//! - `portfolio_types`, `portfolio_guest`: the same for a portfolio strategy (one strategy
//!   over a basket, [`PluginPortfolioStrategy`]), exported under its own symbol
//!   [`PORTFOLIO_PLUGIN_SYMBOL`] with a [`PortfolioPluginDescriptor`].
//!
//! `unsafe` is allowed in `types`, `codec`, `guest` and the two `portfolio_` modules only;
//! every block says why it holds.

mod codec;
mod export;
mod guest;
mod guest_instance;
mod panic;
mod portfolio_guest;
mod portfolio_types;
mod types;

pub use codec::timeframe;
pub use guest::PluginStrategy;
pub use panic::{catch_panic, panic_message, NON_STRING_PANIC};
pub use portfolio_guest::PluginPortfolioStrategy;
pub use portfolio_types::*;
pub use types::*;

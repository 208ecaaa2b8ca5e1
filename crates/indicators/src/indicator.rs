//! The `Indicator` trait lives in `omega-strategy-api` (so a plugin crate that depends on the
//! API alone can define its own); re-exported here for the built-ins.

pub use omega_strategy_api::indicator::{hlc_iter, Hlc, Indicator};

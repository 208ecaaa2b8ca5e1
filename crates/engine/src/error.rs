//! Errors of the engine, one variant per `omega.errors` class the bindings raise.

use thiserror::Error;

/// The kinds of bad input data the engine itself detects (the loaders catch the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataErrorKind {
    Empty,
    NonMonotonicTimestamp,
    ColumnLength,
    NonFinite,
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum EngineError {
    /// Settings that cannot be run (maps to `omega.errors.ConfigError`).
    #[error("{0}")]
    Config(String),
    /// Bad bars; `row` is the 0-based bar index (maps to the matching `DataError` subclass).
    #[error("{message}")]
    Data {
        kind: DataErrorKind,
        message: String,
        row: Option<usize>,
        column: Option<&'static str>,
    },
    /// The strategy failed or returned an invalid request (`StrategyError`).
    #[error("{0}")]
    Strategy(String),
    /// A bug in the engine itself (`EngineError`).
    #[error("internal engine error: {0}")]
    Internal(String),
    /// A run of a sweep that was stopped before it started (`EngineError`).
    #[error("cancelled before it ran")]
    Cancelled,
}

/// The text of a panic payload: one rendering shared with the plugin ABI and the plugin host
/// (a `&str` or `String` message, else a placeholder; never panics).
pub use omega_strategy_api::abi::panic_message;

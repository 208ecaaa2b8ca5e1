//! omega-strategy-api: the stable API strategy authors depend on.
#![deny(unsafe_code)]

pub mod types;

pub use types::*;

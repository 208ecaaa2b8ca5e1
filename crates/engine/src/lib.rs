//! omega-engine: the Rust backtest engine.
//!
//! [`run_backtest`] walks the primary bars of a base series in the order of
//! docs/engine/execution.md (fills at the open, the range against stops and targets,
//! management and evaluation at the close, equity), generic over the strategy so built-in
//! strategies are statically dispatched. Its output is field for field the Python
//! `omega.engine.raw.RawRun`, and the same float operations in the same order make the two
//! engines' results identical.
#![deny(unsafe_code)]

pub mod bars;
pub mod basket;
pub mod basket_portfolio;
pub mod basket_stream;
pub mod calendar;
pub mod error;
pub mod exact_sum;
pub mod market;
pub mod metrics;
pub mod money;
pub mod output;
pub mod portfolio;
pub mod resample;
pub mod rng;
pub mod run;
pub mod settings;
pub mod stream;
mod streamed;
pub mod sweep;
pub mod text;
pub mod validation;
pub mod visibility;

pub use bars::OwnedBars;
pub use basket::{run_basket, run_basket_shared, BasketMember, BasketOutput};
pub use basket_portfolio::run_portfolio;
pub use basket_stream::{BasketStream, PortfolioStream};
pub use error::{panic_message, DataErrorKind, EngineError};
pub use output::{ExitReason, RunOutput, SkippedOrder, Tags, TraceRow, TradeLog};
pub use rng::SplitMix64;
pub use run::{run_backtest, run_backtest_sharing_base_time, run_backtest_with_cache, RunOptions};
pub use settings::*;
pub use stream::StreamSession;
pub use sweep::{run_sweep, SweepResult};

//! omega-indicators: incremental indicators, bit-identical to the Python reference
//! (`omega.indicators`).
//!
//! Every indicator is a recurrence with an incremental [`Indicator::update`]; a batch series is
//! the fold of `update` from the first bar ([`Indicator::batch`]). The Python reference performs
//! the same `f64` operations in the same order, so both produce the same bits. Where TA-Lib has
//! the indicator we follow its algorithm and warm-up (see `docs/indicators.md`).
//!
//! [`compute`] turns an [`IndicatorSpec`](omega_strategy_api::IndicatorSpec) into a series from
//! one side's bar columns, and [`IndicatorCache`] computes each
//! [`IndicatorKey`](omega_strategy_api::IndicatorKey) once.
#![deny(unsafe_code)]

mod atr;
mod bollinger;
pub mod buffers;
mod cache;
mod compute;
mod ema;
mod error;
mod indicator;
mod kalman;
mod kalman_zscore;
mod registry;
mod ring;
mod rolling_std;
mod rsi;
mod sma;
mod stream;
mod zscore;

pub use atr::{true_range, Atr};
pub use bollinger::{Bollinger, BollingerBand};
pub use cache::IndicatorCache;
pub use compute::{compute, compute_into, SideColumns};
pub use ema::Ema;
pub use error::IndicatorError;
pub use indicator::{hlc_iter, Hlc, Indicator};
pub use kalman::Kalman;
pub use kalman_zscore::KalmanZScore;
pub use registry::warmup_period;
pub use rolling_std::RollingStd;
pub use rsi::Rsi;
pub use sma::Sma;
pub use stream::{SideBar, SpecStream};
pub use zscore::ZScore;

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

mod adx;
mod atr;
mod bollinger;
pub mod buffers;
mod cache;
mod cci;
mod compute;
mod donchian;
mod ema;
mod error;
mod hull;
mod indicator;
mod kalman;
mod kalman_zscore;
mod keltner;
mod macd;
mod registry;
mod ring;
mod rolling_std;
mod rsi;
mod sma;
mod stochastic;
mod stream;
mod wma;
mod zscore;

pub use adx::Adx;
pub use atr::{true_range, Atr};
pub use bollinger::{Bollinger, BollingerBand};
pub use cache::IndicatorCache;
pub use cci::Cci;
pub use compute::{compute, compute_into, SideColumns};
pub use donchian::{Donchian, RollingExtreme};
pub use ema::Ema;
pub use error::IndicatorError;
pub use hull::Hull;
pub use indicator::{hlc_iter, Hlc, Indicator};
pub use kalman::Kalman;
pub use kalman_zscore::KalmanZScore;
pub use keltner::Keltner;
pub use macd::Macd;
pub use rolling_std::RollingStd;
pub use rsi::Rsi;
pub use sma::Sma;
pub use stochastic::Stochastic;
pub use stream::{SideBar, SpecStream};
pub use wma::Wma;
pub use zscore::ZScore;

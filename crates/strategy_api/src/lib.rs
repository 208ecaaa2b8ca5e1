//! omega-strategy-api: the stable API strategy authors depend on.
//!
//! A strategy implements [`Strategy`]: it declares the indicators it reads, returns a
//! [`TradeSignal`] from `evaluate` at a bar's close (filled at the next open), and may manage
//! the open position with a [`PositionAction`]. It sees the market only through a
//! [`DataSlice`], which never shows a bar that has not closed. Parameters are declared with
//! [`ParamSpec`] and validated by [`validate`], the same rules as the Python strategies.
//!
//! # A complete strategy
//!
//! ```
//! use omega_strategy_api::*;
//!
//! /// Buys when the bid close is above its SMA, with a 20-pip stop.
//! struct AboveSma {
//!     sma: IndicatorKey,
//! }
//!
//! const PARAMS: &[ParamSpec] = &[ParamSpec::int("period", 20).min(Limit::incl(2.0))];
//!
//! impl AboveSma {
//!     fn new(primary: Timeframe, given: &[(String, ParamValue)]) -> Result<Self, ParamError> {
//!         let params = validate(PARAMS, given)?;
//!         let period = params.int("period") as usize;
//!         let spec = IndicatorSpec::Sma { period, field: PriceField::Close };
//!         Ok(AboveSma { sma: IndicatorKey { timeframe: primary, side: PriceSide::Bid, spec } })
//!     }
//! }
//!
//! impl Strategy for AboveSma {
//!     fn name(&self) -> &str {
//!         "above_sma"
//!     }
//!     fn indicators(&self, _primary: Timeframe) -> Vec<IndicatorKey> {
//!         vec![self.sma]
//!     }
//!     fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
//!         if slice.position().is_some() {
//!             return None;
//!         }
//!         let sma = slice.indicator(&self.sma)?;
//!         let close = slice.bar().bid.close;
//!         slice.record("sma", sma);
//!         (close > sma).then(|| TradeSignal::long().with_stop_loss_distance(0.0020).with_tag("above"))
//!     }
//!     fn manage_position(&mut self, _p: &Position, slice: &DataSlice<'_>) -> Option<PositionAction> {
//!         let sma = slice.indicator(&self.sma)?;
//!         (slice.bar().bid.close < sma).then_some(PositionAction::Close)
//!     }
//! }
//!
//! // Drive it by hand over three bars, as an engine would.
//! let time = [0, 300, 600];
//! let close = [1.10, 1.11, 1.12];
//! let sma = [f64::NAN, 1.105, 1.115];
//! let cols = BarColumns {
//!     time: &time, bid_open: &close, bid_high: &close, bid_low: &close, bid_close: &close,
//!     ask_open: &close, ask_high: &close, ask_low: &close, ask_close: &close, volume: &close,
//! };
//! let mut strategy = AboveSma::new(Timeframe::M5, &[("period".into(), ParamValue::Int(2))]).unwrap();
//! let frames = [FrameView { timeframe: Timeframe::M5, bars: cols }];
//! let indicators = [IndicatorView { key: strategy.indicators(Timeframe::M5)[0], values: &sma }];
//! let decisions: Vec<bool> = (0..3)
//!     .map(|i| {
//!         let visible = [i + 1];
//!         let slice = DataSlice::new(SliceParts {
//!             index: i,
//!             primary: Timeframe::M5,
//!             frames: &frames,
//!             visible: &visible,
//!             indicators: &indicators,
//!             position: None,
//!             recorder: None,
//!         });
//!         strategy.evaluate(&slice).is_some()
//!     })
//!     .collect();
//! assert_eq!(decisions, [false, true, true]);
//! ```
//!
//! # Versioning
//! The crate follows semver ([`API_VERSION`]); [`ABI_VERSION`] changes whenever a
//! `#[repr(C)]` type that crosses the run-time plugin boundary changes layout.
#![deny(unsafe_code)]

pub mod abi; // the run-time plugin C ABI and `export_strategy!` (the only `unsafe` module)
pub mod params;
pub mod signal;
pub mod slice;
pub mod strategy;
pub mod types;

pub use params::{validate, Limit, ParamError, ParamKind, ParamSpec, ParamValue, Params};
pub use signal::{Position, PositionAction, Side, TradeSignal};
pub use slice::{
    BarColumns, DataSlice, FrameView, IndicatorSlot, IndicatorView, SliceParts, TraceRecorder,
};
pub use strategy::Strategy;
pub use types::*;

/// Version of this crate (semver).
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Layout version of the `#[repr(C)]` plugin boundary (`Ohlc`, `Bar` and the plugin vtable).
/// A loader refuses a plugin built against a different value. 2 since omega-strategy-api 0.2
/// (1 was 0.1).
pub const ABI_VERSION: u32 = 2;

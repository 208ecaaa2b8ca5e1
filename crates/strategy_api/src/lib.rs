//! omega-strategy-api: the stable API strategy authors depend on.
//!
//! A strategy implements [`Strategy`]: at the start of a run, [`Strategy::init`] declares the
//! indicators it reads through a [`RunContext`] and keeps their [`IndicatorHandle`]s; at each
//! bar's close `evaluate` returns a [`TradeSignal`] (filled at the next open) and
//! `manage_position` may return [`PositionAction`]s for the open position. It sees the market
//! only through a [`DataSlice`], which never shows a bar that has not closed. Parameters are
//! declared with [`ParamSpec`] and validated by [`validate`], the same rules as the Python
//! strategies. A strategy's own indicators implement [`Indicator`] and are declared with
//! [`CustomIndicator`]: the engine computes them once per run.
//!
//! # A complete strategy
//!
//! ```
//! use omega_strategy_api::*;
//!
//! /// Buys when the bid close is above its SMA, with a 20-pip stop.
//! struct AboveSma {
//!     period: usize,
//!     sma: IndicatorHandle,
//! }
//!
//! const PARAMS: &[ParamSpec] = &[ParamSpec::int("period", 20).min(Limit::incl(2.0))];
//!
//! impl Strategy for AboveSma {
//!     fn name(&self) -> &str {
//!         "above_sma"
//!     }
//!     fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
//!         self.period = ctx.params().int("period") as usize;
//!         let spec = IndicatorSpec::Sma { period: self.period, field: PriceField::Close };
//!         self.sma = ctx.indicator(spec); // bid side of the primary timeframe
//!         Ok(())
//!     }
//!     fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
//!         if slice.position().is_some() {
//!             return Ok(None);
//!         }
//!         let (sma, close) = (slice.value(self.sma), slice.bar().bid.close);
//!         slice.record("sma", sma);
//!         let signal = TradeSignal::long().with_stop_loss_distance(0.0020).with_tag("above");
//!         Ok((close > sma).then_some(signal))
//!     }
//!     fn manage_position(
//!         &mut self,
//!         _position: &Position,
//!         slice: &DataSlice<'_>,
//!     ) -> Result<Vec<PositionAction>, StrategyError> {
//!         let below = slice.bar().bid.close < slice.value(self.sma);
//!         Ok(if below { vec![PositionAction::Close] } else { vec![] })
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
//! let params = validate(PARAMS, &[("period".into(), ParamValue::Int(2))]).unwrap();
//! let instrument = Instrument::default();
//! let mut ctx = RunContext::new(&instrument, Timeframe::M5, &[Timeframe::M5], &params);
//! let mut strategy = AboveSma { period: 0, sma: IndicatorHandle(0) };
//! strategy.init(&mut ctx).unwrap();
//! assert_eq!(ctx.declared().len(), 1);
//! let frames = [FrameView { timeframe: Timeframe::M5, bars: cols }];
//! let indicators = [IndicatorView { frame: 0, values: &sma }];
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
//!             instrument: InstrumentId(0),
//!             in_session: true,
//!         });
//!         strategy.evaluate(&slice).unwrap().is_some()
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
pub mod context;
pub mod indicator;
pub mod indicator_spec;
pub mod params;
pub mod portfolio;
pub mod signal;
pub mod slice;
pub mod strategy;
pub mod types;

pub use abi::{catch_panic, panic_message};
pub use context::{
    BarFed, CustomIndicator, CustomKey, Declared, IndicatorHandle, IndicatorInput, Instrument,
    InstrumentId, RunContext, StrategyError,
};
pub use indicator::{hlc_iter, Hlc, Indicator};
pub use indicator_spec::{IndicatorKey, IndicatorSpec, SpecError, SpecParam, SPEC_WORDS};
pub use params::{validate, Limit, ParamError, ParamKind, ParamSpec, ParamValue, Params};
pub use portfolio::{
    BasketContext, BasketHandle, BasketMemberView, BasketSlice, PortfolioStrategy,
};
pub use signal::{
    Distance, EntryOrder, OrderAction, Position, PositionAction, Side, TradeSignal, WorkingOrder,
};
pub use slice::{BarColumns, DataSlice, FrameView, IndicatorView, SliceParts, TraceRecorder};
pub use strategy::Strategy;
pub use types::*;

/// Version of this crate (semver).
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Layout version of the `#[repr(C)]` plugin boundary (`Ohlc`, `Bar` and the plugin vtable).
/// A loader refuses a plugin built against a different value. 2 since omega-strategy-api 0.2
/// (1 was 0.1).
pub const ABI_VERSION: u32 = 3;

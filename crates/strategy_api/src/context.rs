//! [`RunContext`]: what a strategy learns at the start of a run, and where it declares the
//! indicators it reads, getting back [`IndicatorHandle`]s that read in O(1) at every bar.

use crate::indicator::{Hlc, Indicator};
use crate::indicator_spec::{IndicatorKey, IndicatorSpec};
use crate::params::{ParamError, Params};
use crate::types::{Bar, PriceField, PriceSide, Timeframe};
use std::fmt;
use std::sync::Arc;

/// Which instrument a signal or slice is about. A single-instrument run has one, id 0; the
/// id is carried now so that multi-instrument portfolios need no new break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct InstrumentId(pub u32);

/// The traded instrument as the strategy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub id: InstrumentId,
    /// `"EURUSD"`; empty when the data did not name it.
    pub symbol: String,
    /// Price units per pip (0.0001 for EURUSD, 0.01 for USDJPY).
    pub pip_size: f64,
}

impl Default for Instrument {
    fn default() -> Self {
        Instrument {
            id: InstrumentId(0),
            symbol: String::new(),
            pip_size: 0.0001,
        }
    }
}

/// A strategy's failure: the engine stops the run and reports this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyError(pub String);

impl StrategyError {
    pub fn new(message: impl Into<String>) -> Self {
        StrategyError(message.into())
    }
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StrategyError {}

impl From<ParamError> for StrategyError {
    fn from(error: ParamError) -> Self {
        StrategyError(error.to_string())
    }
}

/// A declared indicator: read it with [`DataSlice::value`](crate::DataSlice::value),
/// [`value_at`](crate::DataSlice::value_at) or [`series`](crate::DataSlice::series).
/// Valid for the run whose [`RunContext`] gave it (declare again in every `init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndicatorHandle(pub u32);

impl IndicatorHandle {
    /// Its position in the run's declarations (and in the slice's indicator list).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a custom indicator reads from each bar of its timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorInput {
    /// One field of one side (`f64` input).
    Field(PriceSide, PriceField),
    /// High, low and close of one side ([`Hlc`] input).
    Range(PriceSide),
    /// The whole two-sided bar ([`Bar`] input).
    Bar,
}

impl IndicatorInput {
    /// The input's side of `bar` (`Mid` averages bid and ask as the engine's mid columns do).
    fn hlc(side: PriceSide, bar: &Bar) -> Hlc {
        let ohlc = bar.side(side);
        Hlc {
            high: ohlc.high,
            low: ohlc.low,
            close: ohlc.close,
        }
    }
}

/// A type-erased custom indicator fed whole bars (what the engine drives).
pub trait BarFed: Send {
    fn update_bar(&mut self, bar: &Bar) -> f64;
    fn warmup_period(&self) -> usize;
    fn reset(&mut self);
}

struct Fed<I, F> {
    indicator: I,
    read: F,
}

impl<I, F> BarFed for Fed<I, F>
where
    I: Indicator + Send,
    F: Fn(&Bar) -> I::Input + Send,
{
    #[inline]
    fn update_bar(&mut self, bar: &Bar) -> f64 {
        self.indicator.update((self.read)(bar))
    }
    fn warmup_period(&self) -> usize {
        self.indicator.warmup_period()
    }
    fn reset(&mut self) {
        self.indicator.reset()
    }
}

type Factory = Arc<dyn Fn() -> Box<dyn BarFed> + Send + Sync>;

/// A strategy's own indicator: an [`Indicator`] implementation, its name and parameters
/// (its identity: declarations with equal name, parameters, input and timeframe share one
/// computed series, also across the parameter sets of a sweep) and a factory of fresh
/// instances. The engine computes it once per run (bar by bar in streaming), never per bar
/// in the strategy.
///
/// ```
/// use omega_strategy_api::*;
///
/// /// Close minus the previous close.
/// #[derive(Default)]
/// struct Change { last: Option<f64> }
///
/// impl Indicator for Change {
///     type Input = f64;
///     fn name(&self) -> &str { "change" }
///     fn warmup_period(&self) -> usize { 1 }
///     fn update(&mut self, x: f64) -> f64 {
///         let out = self.last.map_or(f64::NAN, |last| x - last);
///         self.last = Some(x);
///         out
///     }
///     fn reset(&mut self) { self.last = None }
/// }
///
/// let change = CustomIndicator::on_field("change", &[], PriceSide::Bid, PriceField::Close, Change::default);
/// assert_eq!(change.name(), "change");
/// ```
#[derive(Clone)]
pub struct CustomIndicator {
    name: String,
    params: Vec<f64>,
    input: IndicatorInput,
    timeframe: Option<Timeframe>,
    make: Factory,
}

impl fmt::Debug for CustomIndicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomIndicator")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("input", &self.input)
            .field("timeframe", &self.timeframe)
            .finish()
    }
}

impl CustomIndicator {
    fn with_reader<I, F, M>(
        name: &str,
        params: &[f64],
        input: IndicatorInput,
        read: F,
        make: M,
    ) -> Self
    where
        I: Indicator + Send + 'static,
        F: Fn(&Bar) -> I::Input + Send + Sync + Copy + 'static,
        M: Fn() -> I + Send + Sync + 'static,
    {
        CustomIndicator {
            name: name.to_string(),
            params: params.to_vec(),
            input,
            timeframe: None,
            make: Arc::new(move || {
                Box::new(Fed {
                    indicator: make(),
                    read,
                })
            }),
        }
    }

    /// An indicator of one price field of one side (`Input = f64`).
    pub fn on_field<I, M>(
        name: &str,
        params: &[f64],
        side: PriceSide,
        field: PriceField,
        make: M,
    ) -> Self
    where
        I: Indicator<Input = f64> + Send + 'static,
        M: Fn() -> I + Send + Sync + 'static,
    {
        let input = IndicatorInput::Field(side, field);
        // One reader per (side, field): a plain fn pointer keeps the closure `Copy`.
        let read: fn(&Bar, PriceSide, PriceField) -> f64 = |bar, side, field| {
            let ohlc = bar.side(side);
            match field {
                PriceField::Open => ohlc.open,
                PriceField::High => ohlc.high,
                PriceField::Low => ohlc.low,
                PriceField::Close => ohlc.close,
            }
        };
        Self::with_reader(
            name,
            params,
            input,
            move |bar: &Bar| read(bar, side, field),
            make,
        )
    }

    /// An indicator of one side's high, low and close (`Input = Hlc`).
    pub fn on_range<I, M>(name: &str, params: &[f64], side: PriceSide, make: M) -> Self
    where
        I: Indicator<Input = Hlc> + Send + 'static,
        M: Fn() -> I + Send + Sync + 'static,
    {
        let read = move |bar: &Bar| IndicatorInput::hlc(side, bar);
        Self::with_reader(name, params, IndicatorInput::Range(side), read, make)
    }

    /// An indicator of the whole two-sided bar (`Input = Bar`).
    pub fn on_bar<I, M>(name: &str, params: &[f64], make: M) -> Self
    where
        I: Indicator<Input = Bar> + Send + 'static,
        M: Fn() -> I + Send + Sync + 'static,
    {
        Self::with_reader(name, params, IndicatorInput::Bar, |bar: &Bar| *bar, make)
    }

    /// Computed on `timeframe` instead of the primary one.
    pub fn on_timeframe(mut self, timeframe: Timeframe) -> Self {
        self.timeframe = Some(timeframe);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn params(&self) -> &[f64] {
        &self.params
    }
    pub fn input(&self) -> IndicatorInput {
        self.input
    }
    /// The timeframe, `None` until declared (then the primary one unless set).
    pub fn timeframe(&self) -> Option<Timeframe> {
        self.timeframe
    }
    /// A fresh instance (state as after `reset`).
    pub fn instance(&self) -> Box<dyn BarFed> {
        (self.make)()
    }
    /// The identity under which equal declarations share one series.
    pub fn key(&self) -> CustomKey {
        CustomKey {
            timeframe: self.timeframe,
            input: self.input,
            name: self.name.clone(),
            params: self.params.iter().map(|p| p.to_bits()).collect(),
        }
    }
}

/// Identity of a custom series (floats by bit pattern).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomKey {
    pub timeframe: Option<Timeframe>,
    pub input: IndicatorInput,
    pub name: String,
    pub params: Vec<u64>,
}

/// One declared indicator, in declaration (handle) order.
#[derive(Debug, Clone)]
pub enum Declared {
    Builtin(IndicatorKey),
    Custom(CustomIndicator),
}

impl Declared {
    pub fn timeframe(&self) -> Timeframe {
        match self {
            Declared::Builtin(key) => key.timeframe,
            Declared::Custom(custom) => custom
                .timeframe
                .expect("RunContext::custom sets the timeframe"),
        }
    }
}

/// The start of a run: the instrument, the timeframes, the validated parameters, and the
/// place to declare indicators. See [`Strategy::init`](crate::Strategy::init).
#[derive(Debug)]
pub struct RunContext<'a> {
    instrument: &'a Instrument,
    primary: Timeframe,
    timeframes: &'a [Timeframe],
    params: &'a Params,
    declared: Vec<Declared>,
    read_timeframes: Vec<Timeframe>,
}

impl<'a> RunContext<'a> {
    /// `timeframes` are the configured ones (the primary included).
    pub fn new(
        instrument: &'a Instrument,
        primary: Timeframe,
        timeframes: &'a [Timeframe],
        params: &'a Params,
    ) -> Self {
        RunContext {
            instrument,
            primary,
            timeframes,
            params,
            declared: Vec::new(),
            read_timeframes: Vec::new(),
        }
    }

    pub fn instrument(&self) -> &'a Instrument {
        self.instrument
    }
    pub fn primary_timeframe(&self) -> Timeframe {
        self.primary
    }
    /// The configured timeframes (the primary included); declaring an indicator on another
    /// timeframe adds it.
    pub fn timeframes(&self) -> &'a [Timeframe] {
        self.timeframes
    }
    /// The strategy's validated parameters, defaults filled in.
    pub fn params(&self) -> &'a Params {
        self.params
    }

    fn declare(&mut self, declared: Declared) -> IndicatorHandle {
        let handle = IndicatorHandle(self.declared.len() as u32);
        self.declared.push(declared);
        handle
    }

    /// A built-in indicator on the bid side of the primary timeframe.
    pub fn indicator(&mut self, spec: IndicatorSpec) -> IndicatorHandle {
        self.indicator_on(self.primary, PriceSide::Bid, spec)
    }

    /// A built-in indicator on `side` of `timeframe` (which must not be finer than the
    /// primary one; the engine says so before the run).
    pub fn indicator_on(
        &mut self,
        timeframe: Timeframe,
        side: PriceSide,
        spec: IndicatorSpec,
    ) -> IndicatorHandle {
        self.declare(Declared::Builtin(IndicatorKey {
            timeframe,
            side,
            spec,
        }))
    }

    /// A custom indicator (on the primary timeframe unless it names one).
    pub fn custom(&mut self, mut indicator: CustomIndicator) -> IndicatorHandle {
        indicator.timeframe.get_or_insert(self.primary);
        self.declare(Declared::Custom(indicator))
    }

    /// Declares that the strategy reads the closed bars of `timeframe`
    /// ([`DataSlice::closed_bars`](crate::DataSlice::closed_bars)) without an indicator on
    /// it: the engine adds it to the run's timeframes.
    pub fn read_timeframe(&mut self, timeframe: Timeframe) {
        self.read_timeframes.push(timeframe);
    }

    /// Everything declared so far, in handle order.
    pub fn declared(&self) -> &[Declared] {
        &self.declared
    }

    /// The timeframes given to [`RunContext::read_timeframe`].
    pub fn read_timeframes(&self) -> &[Timeframe] {
        &self.read_timeframes
    }

    /// The declarations (in handle order) and the timeframes read without an indicator.
    pub fn into_parts(self) -> (Vec<Declared>, Vec<Timeframe>) {
        (self.declared, self.read_timeframes)
    }
}

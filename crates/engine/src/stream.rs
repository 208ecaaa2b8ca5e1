//! Streaming: a strategy fed base bars one at a time, as they close (a live feed, a replay).
//!
//! The session keeps each run timeframe's bars, closing a bucket as soon as it is known to be
//! complete (its last possible base bar arrived, or a later bar did), updates the indicators
//! bar by bar, and steps each primary bar with the same `Stepper` a backtest uses. Fed the
//! bars of a backtest and then [`StreamSession::finish`]ed, it returns that backtest's
//! output, bit for bit: the architecture's "one code path for streaming and batch".

use crate::bars::OwnedBars;
use crate::error::{DataErrorKind, EngineError};
use crate::output::RunOutput;
use crate::portfolio::Portfolio;
use crate::run::{engine_keys, plan, Plan, RunOptions, StepInputs, Stepper};
use crate::settings::{EngineSettings, IntrabarPolicy};
use omega_indicators::{SideBar, SpecStream};
use omega_strategy_api::{
    Bar, BarColumns, BarFed, Declared, FrameView, IndicatorKey, IndicatorView, Ohlc, PriceSide,
    Strategy, Timeframe, TradeSignal,
};

/// One run timeframe's closed bars and the bucket still open.
#[derive(Debug)]
struct StreamFrame {
    timeframe: Timeframe,
    /// The base timeframe itself: every base bar is a closed bar of it, read from the
    /// session's base bars (`bars` stays empty).
    is_base: bool,
    bars: OwnedBars,
    /// `bounds[k]..bounds[k + 1]` are the base bars of closed bar `k` (empty until one closed).
    bounds: Vec<usize>,
    open: Option<OpenBucket>,
}

/// The aggregate of a bucket's base bars so far (first open, max high, min low, last close,
/// volume summed in time order: the resampling contract).
#[derive(Debug, Clone, Copy)]
struct OpenBucket {
    start: i64,
    end: i64,
    first_base: usize,
    bid: Ohlc,
    ask: Ohlc,
    volume: f64,
}

impl OpenBucket {
    fn new(start: i64, end: i64, index: usize, bar: &Bar) -> Self {
        OpenBucket {
            start,
            end,
            first_base: index,
            bid: bar.bid,
            ask: bar.ask,
            volume: bar.volume,
        }
    }

    fn add(&mut self, bar: &Bar) {
        let merge = |into: &mut Ohlc, from: Ohlc| {
            into.high = into.high.max(from.high);
            into.low = into.low.min(from.low);
            into.close = from.close;
        };
        merge(&mut self.bid, bar.bid);
        merge(&mut self.ask, bar.ask);
        self.volume += bar.volume;
    }
}

/// An indicator series of one run timeframe, grown as its frame closes bars.
#[derive(Debug)]
struct StreamSeries {
    frame: usize,
    state: SeriesState,
    values: Vec<f64>,
}

/// How a series is updated with its frame's newest bar.
enum SeriesState {
    Builtin(SpecStream, PriceSide),
    Custom(Box<dyn BarFed>),
}

impl std::fmt::Debug for SeriesState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeriesState::Builtin(stream, side) => write!(f, "Builtin({stream:?}, {side:?})"),
            SeriesState::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl SeriesState {
    fn update(&mut self, bar: &Bar) -> f64 {
        match self {
            SeriesState::Builtin(stream, side) => {
                let ohlc = bar.side(*side);
                stream.update(SideBar {
                    open: ohlc.open,
                    high: ohlc.high,
                    low: ohlc.low,
                    close: ohlc.close,
                })
            }
            SeriesState::Custom(indicator) => indicator.update_bar(bar),
        }
    }
}

/// Frame `k`'s closed bars (the base bars themselves for the base timeframe).
#[inline]
fn frame_bars<'a>(frames: &'a [StreamFrame], base: &'a OwnedBars, k: usize) -> BarColumns<'a> {
    let frame = &frames[k];
    if frame.is_base {
        base.columns()
    } else {
        frame.bars.columns()
    }
}

/// A strategy run bar by bar. See the module documentation.
#[derive(Debug)]
pub struct StreamSession<S: Strategy> {
    feed: StreamFeed,
    strategy: S,
    stepper: Stepper,
}

/// One instrument's bars as they arrive: its base bars, each run timeframe's closed bars
/// and open bucket, and the indicator series over them (a stream session's, or a basket
/// stream member's).
#[derive(Debug)]
pub(crate) struct StreamFeed {
    pub(crate) settings: EngineSettings,
    base_tf: Timeframe,
    base: OwnedBars,
    frames: Vec<StreamFrame>,
    primary: usize,
    /// The strategy's declarations in handle order (`declared` of them), then the engine's
    /// own: the slippage ATR and the stop ATR when configured (`slip_at`, `stop_at`).
    series: Vec<StreamSeries>,
    declared: usize,
    slip_at: Option<usize>,
    stop_at: Option<usize>,
}

/// What a feed's frames and series look like to a step, built once per batch of steps.
pub(crate) struct FeedViews<'a> {
    views: Vec<FrameView<'a>>,
    indicators: Vec<IndicatorView<'a>>,
    feed: &'a StreamFeed,
}

impl<'a> FeedViews<'a> {
    pub(crate) fn inputs(&self) -> StepInputs<'_, 'a> {
        let feed = self.feed;
        let engine_series = |at: Option<usize>| at.map_or(&[][..], |k| &feed.series[k].values[..]);
        let (slip_atr, stop_atr) = (engine_series(feed.slip_at), engine_series(feed.stop_at));
        let primary = &feed.frames[feed.primary];
        let finer = (feed.settings.intrabar_policy == IntrabarPolicy::Finer && !primary.is_base)
            .then(|| (&primary.bounds[..], feed.base.columns()));
        StepInputs {
            views: &self.views,
            indicators: &self.indicators,
            primary: self.views[feed.primary].bars,
            finer,
            slip_atr,
            stop_atr,
            conversion: None,
        }
    }
}

impl<S: Strategy> StreamSession<S> {
    /// A session for base bars of `base_tf`: the same settings and strategy checks as a
    /// backtest's start.
    pub fn new(
        base_tf: Timeframe,
        settings: EngineSettings,
        mut strategy: S,
        options: RunOptions,
    ) -> Result<Self, EngineError> {
        let conversion = settings.validate()?;
        let (feed, timeframes) = StreamFeed::new(base_tf, settings, &mut strategy)?;
        let stepper = Stepper::new(&feed.settings, conversion, &timeframes, 0, options);
        Ok(StreamSession {
            feed,
            strategy,
            stepper,
        })
    }

    /// Feeds the next base bar; returns how many primary bars were stepped (0 or more: a
    /// bar can close the primary bucket before it and its own).
    pub fn push(&mut self, bar: Bar) -> Result<usize, EngineError> {
        self.feed.check(&bar)?;
        let before = self.stepper.stepped();
        // A later bar closes every bucket that ends at or before it (after a gap).
        self.feed.close_ended(bar.time);
        self.step_closed()?;
        self.feed.add(bar);
        self.step_closed()?;
        Ok(self.stepper.stepped() - before)
    }

    /// Ends the stream: closes the buckets still open, steps their primary bar and returns
    /// the run's output (an open position closes at the last close, as at a backtest's end).
    pub fn finish(self) -> Result<RunOutput, EngineError> {
        self.finish_with_strategy().0
    }

    /// [`StreamSession::finish`], handing the strategy back too (a plugin's adapter keeps
    /// the fault behind an error there).
    pub fn finish_with_strategy(mut self) -> (Result<RunOutput, EngineError>, S) {
        if let Err(error) = self.feed.close_all().and_then(|()| self.step_closed()) {
            return (Err(error), self.strategy);
        }
        let StreamSession {
            stepper,
            feed,
            strategy,
        } = self;
        let bars = feed.primary_bars();
        let mut out = stepper.finish(bars.columns(), feed.base.time.len(), &strategy);
        out.equity_time = bars.time.clone();
        (Ok(out), strategy)
    }

    /// The strategy (a plugin's adapter keeps its faults there).
    pub fn strategy_mut(&mut self) -> &mut S {
        &mut self.strategy
    }

    /// Primary bars stepped so far.
    pub fn bars_stepped(&self) -> usize {
        self.stepper.stepped()
    }

    /// The account after the last step: balance, open position, closed trade rows.
    pub fn account(&self) -> &Portfolio {
        self.stepper.book()
    }

    /// The entry waiting for the next open, and whether an exit waits for it.
    pub fn pending(&self) -> (Option<&TradeSignal>, bool) {
        self.stepper.pending()
    }

    /// The equity at each stepped primary bar's close.
    pub fn equity(&self) -> &[f64] {
        self.stepper.equity()
    }

    /// Steps every closed primary bar not stepped yet (the views are built once for them:
    /// no frame or series grows while they are stepped).
    fn step_closed(&mut self) -> Result<(), EngineError> {
        let closed = self.feed.closed_primary();
        if self.stepper.stepped() == closed {
            return Ok(());
        }
        let views = self.feed.views();
        let inputs = views.inputs();
        while self.stepper.stepped() < closed {
            let i = self.stepper.stepped();
            self.stepper
                .step(i, &inputs, &self.feed.settings, &mut self.strategy)?;
        }
        Ok(())
    }
}

impl StreamFeed {
    /// A feed for `strategy`'s run on base bars of `base_tf` (its `init` runs here), and
    /// the run's timeframes.
    pub(crate) fn new<S: Strategy>(
        base_tf: Timeframe,
        settings: EngineSettings,
        strategy: &mut S,
    ) -> Result<(Self, Vec<Timeframe>), EngineError> {
        let Plan {
            declared,
            timeframes,
        } = plan(strategy, base_tf, &settings)?;
        let frames: Vec<StreamFrame> = timeframes
            .iter()
            .map(|&timeframe| StreamFrame {
                timeframe,
                is_base: timeframe == base_tf,
                bars: OwnedBars::default(),
                bounds: Vec::new(),
                open: None,
            })
            .collect();
        let frame_of = |tf: Timeframe| timeframes.iter().position(|&t| t == tf);
        let primary = frame_of(settings.primary_timeframe)
            .ok_or_else(|| EngineError::Internal("the primary is a run timeframe".into()))?;
        let builtin = |key: &IndicatorKey| {
            SpecStream::new(&key.spec)
                .map(|stream| SeriesState::Builtin(stream, key.side))
                .map_err(|e| EngineError::Config(format!("indicator {:?}: {e}", key.spec)))
        };
        let [slip_key, stop_key] = engine_keys(&settings);
        let mut states: Vec<(Timeframe, SeriesState)> = Vec::with_capacity(declared.len() + 2);
        for d in &declared {
            let state = match d {
                Declared::Builtin(key) => builtin(key)?,
                Declared::Custom(custom) => SeriesState::Custom(custom.instance()),
            };
            states.push((d.timeframe(), state));
        }
        for key in slip_key.iter().chain(&stop_key) {
            states.push((key.timeframe, builtin(key)?));
        }
        let mut series = Vec::with_capacity(states.len());
        for (timeframe, state) in states {
            let frame = frame_of(timeframe).ok_or_else(|| {
                EngineError::Internal(format!(
                    "indicator timeframe {} has no frame",
                    timeframe.name()
                ))
            })?;
            series.push(StreamSeries {
                frame,
                state,
                values: Vec::new(),
            });
        }
        let slip_at = slip_key.map(|_| declared.len());
        let stop_at = stop_key.map(|_| declared.len() + usize::from(slip_key.is_some()));
        let feed = StreamFeed {
            settings,
            base_tf,
            base: OwnedBars::default(),
            frames,
            primary,
            series,
            declared: declared.len(),
            slip_at,
            stop_at,
        };
        Ok((feed, timeframes))
    }

    /// Closes every bucket that ends at or before `time` (no later base bar can join it).
    pub(crate) fn close_ended(&mut self, time: i64) {
        for k in 0..self.frames.len() {
            if self.frames[k].open.is_some_and(|open| open.end <= time) {
                self.close_bucket(k);
            }
        }
    }

    /// Appends the (checked) base `bar` to the base bars and the open buckets, closing a
    /// bucket its last possible base bar completes.
    pub(crate) fn add(&mut self, bar: Bar) {
        let index = self.base.time.len();
        self.base.push(bar.time, bar.bid, bar.ask, bar.volume);
        let last_possible = bar.time + self.base_tf.nanos();
        for k in 0..self.frames.len() {
            let frame = &mut self.frames[k];
            if frame.is_base {
                self.update_series(k);
                continue;
            }
            match frame.open.as_mut() {
                Some(open) => open.add(&bar),
                None => {
                    let tf = frame.timeframe.nanos();
                    let start = bar.time.div_euclid(tf) * tf;
                    frame.open = Some(OpenBucket::new(start, start + tf, index, &bar));
                }
            }
            // Its last possible base bar closes a bucket at once: no need to wait for more.
            if frame.open.is_some_and(|open| last_possible >= open.end) {
                self.close_bucket(k);
            }
        }
    }

    /// The primary frame's closed bars (the base bars when the primary is the base).
    pub(crate) fn primary_bars(&self) -> &OwnedBars {
        if self.frames[self.primary].is_base {
            &self.base
        } else {
            &self.frames[self.primary].bars
        }
    }

    /// Primary bars closed so far.
    pub(crate) fn closed_primary(&self) -> usize {
        self.primary_bars().time.len()
    }

    /// The base bars fed so far.
    pub(crate) fn base_columns(&self) -> BarColumns<'_> {
        self.base.columns()
    }

    /// Base bars fed so far.
    pub(crate) fn base_len(&self) -> usize {
        self.base.time.len()
    }

    /// The start of the primary bucket still open, if any.
    pub(crate) fn open_primary_start(&self) -> Option<i64> {
        let frame = &self.frames[self.primary];
        if frame.is_base {
            return None;
        }
        frame.open.map(|open| open.start)
    }

    /// The frames and series as they stand, for a batch of steps.
    pub(crate) fn views(&self) -> FeedViews<'_> {
        let frames = &self.frames;
        let views: Vec<FrameView<'_>> = (0..frames.len())
            .map(|k| FrameView {
                timeframe: frames[k].timeframe,
                bars: frame_bars(frames, &self.base, k),
            })
            .collect();
        let indicators: Vec<IndicatorView<'_>> = self.series[..self.declared]
            .iter()
            .map(|series| IndicatorView {
                frame: series.frame,
                values: &series.values,
            })
            .collect();
        FeedViews {
            views,
            indicators,
            feed: self,
        }
    }

    /// Closes the buckets still open (the end of the stream); an error when no bar came.
    pub(crate) fn close_all(&mut self) -> Result<(), EngineError> {
        if self.base.time.is_empty() {
            return Err(EngineError::Data {
                kind: DataErrorKind::Empty,
                message: "no bars to backtest".into(),
                row: None,
                column: None,
            });
        }
        for k in 0..self.frames.len() {
            if self.frames[k].open.is_some() {
                self.close_bucket(k);
            }
        }
        Ok(())
    }

    pub(crate) fn check(&self, bar: &Bar) -> Result<(), EngineError> {
        let row = self.base.time.len();
        let values = [
            ("bid_open", bar.bid.open),
            ("bid_high", bar.bid.high),
            ("bid_low", bar.bid.low),
            ("bid_close", bar.bid.close),
            ("ask_open", bar.ask.open),
            ("ask_high", bar.ask.high),
            ("ask_low", bar.ask.low),
            ("ask_close", bar.ask.close),
            ("volume", bar.volume),
        ];
        if let Some((name, value)) = values.iter().find(|(_, v)| !v.is_finite()) {
            return Err(EngineError::Data {
                kind: DataErrorKind::NonFinite,
                message: format!("{name} is {value} at bar {row}"),
                row: Some(row),
                column: Some(name),
            });
        }
        if let Some(&last) = self.base.time.last() {
            if bar.time <= last {
                return Err(EngineError::Data {
                    kind: DataErrorKind::NonMonotonicTimestamp,
                    message: format!(
                        "bar times must increase strictly: bar {row} at {} follows {last}",
                        bar.time
                    ),
                    row: Some(row),
                    column: Some("time"),
                });
            }
        }
        Ok(())
    }

    /// Appends frame `k`'s open bucket as a closed bar and updates its series.
    fn close_bucket(&mut self, k: usize) {
        let end_index = self.base.time.len();
        let frame = &mut self.frames[k];
        let Some(open) = frame.open.take() else {
            return;
        };
        frame
            .bounds
            .extend(frame.bounds.is_empty().then_some(open.first_base));
        frame.bars.push(open.start, open.bid, open.ask, open.volume);
        frame.bounds.push(end_index);
        self.update_series(k);
    }

    /// Feeds frame `k`'s newest bar to the series of that timeframe.
    fn update_series(&mut self, k: usize) {
        let bars = frame_bars(&self.frames, &self.base, k);
        let bar = bars.bar(bars.len() - 1);
        for series in self.series.iter_mut().filter(|s| s.frame == k) {
            let value = series.state.update(&bar);
            series.values.push(value);
        }
    }
}

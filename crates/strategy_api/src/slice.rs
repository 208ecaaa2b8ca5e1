//! [`DataSlice`]: everything a strategy may see at the close of one primary bar.
//!
//! A slice borrows the engine's column storage and is rebuilt per bar from references and
//! indices only (no allocation). It never exposes a bar that has not closed: every timeframe
//! is cut at its last bar whose close time (`open + tf`) is `<=` the close of the current
//! primary bar, and indicators are read at that same index.

use crate::context::{IndicatorHandle, InstrumentId};
use crate::signal::Position;
use crate::types::{Bar, Ohlc, PriceSide, Timeframe};
use std::cell::RefCell;

/// Bars of one timeframe as borrowed columns of equal length.
#[derive(Debug, Clone, Copy)]
pub struct BarColumns<'a> {
    pub time: &'a [i64],
    pub bid_open: &'a [f64],
    pub bid_high: &'a [f64],
    pub bid_low: &'a [f64],
    pub bid_close: &'a [f64],
    pub ask_open: &'a [f64],
    pub ask_high: &'a [f64],
    pub ask_low: &'a [f64],
    pub ask_close: &'a [f64],
    pub volume: &'a [f64],
}

impl<'a> BarColumns<'a> {
    #[inline]
    pub fn len(&self) -> usize {
        self.time.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
    /// Bar `i` (panics if out of range, like slice indexing).
    #[inline]
    pub fn bar(&self, i: usize) -> Bar {
        Bar {
            time: self.time[i],
            bid: Ohlc {
                open: self.bid_open[i],
                high: self.bid_high[i],
                low: self.bid_low[i],
                close: self.bid_close[i],
            },
            ask: Ohlc {
                open: self.ask_open[i],
                high: self.ask_high[i],
                low: self.ask_low[i],
                close: self.ask_close[i],
            },
            volume: self.volume[i],
        }
    }
    /// The first `n` bars (views, no copy).
    #[inline]
    pub fn head(&self, n: usize) -> BarColumns<'a> {
        BarColumns {
            time: &self.time[..n],
            bid_open: &self.bid_open[..n],
            bid_high: &self.bid_high[..n],
            bid_low: &self.bid_low[..n],
            bid_close: &self.bid_close[..n],
            ask_open: &self.ask_open[..n],
            ask_high: &self.ask_high[..n],
            ask_low: &self.ask_low[..n],
            ask_close: &self.ask_close[..n],
            volume: &self.volume[..n],
        }
    }
    /// Bars `[start, stop)` (views, no copy).
    pub fn range(&self, start: usize, stop: usize) -> BarColumns<'a> {
        let cut = |c: &'a [f64]| &c[start..stop];
        BarColumns {
            time: &self.time[start..stop],
            bid_open: cut(self.bid_open),
            bid_high: cut(self.bid_high),
            bid_low: cut(self.bid_low),
            bid_close: cut(self.bid_close),
            ask_open: cut(self.ask_open),
            ask_high: cut(self.ask_high),
            ask_low: cut(self.ask_low),
            ask_close: cut(self.ask_close),
            volume: cut(self.volume),
        }
    }
    /// Open, high, low, close columns of one side (`None` for `Mid`, which is not stored).
    pub fn side(&self, side: PriceSide) -> Option<[&'a [f64]; 4]> {
        match side {
            PriceSide::Bid => Some([self.bid_open, self.bid_high, self.bid_low, self.bid_close]),
            PriceSide::Ask => Some([self.ask_open, self.ask_high, self.ask_low, self.ask_close]),
            PriceSide::Mid => None,
        }
    }
}

/// One configured timeframe: all of its bars (the slice cuts them at the visible count).
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    pub timeframe: Timeframe,
    pub bars: BarColumns<'a>,
}

/// One declared indicator's series over all bars of its timeframe; `frame` is the index of
/// that timeframe in the slice's frames (the slice cuts the series at its visible count).
#[derive(Debug, Clone, Copy)]
pub struct IndicatorView<'a> {
    pub frame: usize,
    pub values: &'a [f64],
}

/// Values a strategy records for the decision trace during one bar.
///
/// The engine owns one recorder and hands it to the slice only when a trace was requested,
/// so recording costs a branch when tracing is off.
#[derive(Debug, Default)]
pub struct TraceRecorder {
    values: RefCell<Vec<(String, f64)>>,
}

impl TraceRecorder {
    pub fn new() -> Self {
        Self::default()
    }
    #[inline]
    pub fn record(&self, name: &str, value: f64) {
        self.values.borrow_mut().push((name.to_string(), value));
    }
    /// The values recorded since the last call, in recording order.
    pub fn take(&self) -> Vec<(String, f64)> {
        std::mem::take(&mut *self.values.borrow_mut())
    }
}

/// The parts a slice is made of; the engine (or a test) fills it in.
#[derive(Debug, Clone, Copy)]
pub struct SliceParts<'a> {
    /// Current primary bar index.
    pub index: usize,
    pub primary: Timeframe,
    /// Every configured timeframe (the primary included), full length.
    pub frames: &'a [FrameView<'a>],
    /// Closed-bar count of each frame at this close, parallel to `frames`.
    pub visible: &'a [usize],
    /// The declared indicators in handle order (see [`RunContext`](crate::RunContext)).
    pub indicators: &'a [IndicatorView<'a>],
    pub instrument: InstrumentId,
    pub position: Option<&'a Position>,
    pub recorder: Option<&'a TraceRecorder>,
    /// Whether the current bar's open is inside the configured trading session and outside
    /// every blackout (`true` when none is configured).
    pub in_session: bool,
}

/// The view of the market at the close of primary bar `index()`.
#[derive(Debug, Clone, Copy)]
pub struct DataSlice<'a> {
    parts: SliceParts<'a>,
}

impl<'a> DataSlice<'a> {
    /// Builds a slice. `visible` must be parallel to `frames` with each count `<=` the
    /// frame's length, and each indicator's `frame` an index of `frames` (checked in debug
    /// builds).
    pub fn new(parts: SliceParts<'a>) -> Self {
        debug_assert_eq!(parts.frames.len(), parts.visible.len());
        debug_assert!(parts
            .indicators
            .iter()
            .all(|v| v.frame < parts.frames.len()));
        debug_assert!(parts
            .frames
            .iter()
            .zip(parts.visible)
            .all(|(f, &n)| n <= f.bars.len()));
        DataSlice { parts }
    }

    /// The parts the slice was built from (for adapters that pass a slice on, such as the
    /// plugin host).
    #[inline]
    pub fn parts(&self) -> &SliceParts<'a> {
        &self.parts
    }
    /// Index of the current primary bar.
    #[inline]
    pub fn index(&self) -> usize {
        self.parts.index
    }
    #[inline]
    pub fn primary_timeframe(&self) -> Timeframe {
        self.parts.primary
    }
    /// The current (just closed) primary bar.
    #[inline]
    pub fn bar(&self) -> Bar {
        self.closed_bars(self.parts.primary)
            .map(|b| b.bar(b.len() - 1))
            .expect("the primary timeframe is always configured and has a closed bar")
    }
    /// Open time (UTC ns) of the current primary bar.
    #[inline]
    pub fn time(&self) -> i64 {
        self.bar().time
    }
    #[inline]
    fn frame(&self, timeframe: Timeframe) -> Option<usize> {
        self.parts
            .frames
            .iter()
            .position(|f| f.timeframe == timeframe)
    }
    /// Closed bars of `timeframe` (oldest first), or `None` if it is not configured.
    #[inline]
    pub fn closed_bars(&self, timeframe: Timeframe) -> Option<BarColumns<'a>> {
        let k = self.frame(timeframe)?;
        Some(self.parts.frames[k].bars.head(self.parts.visible[k]))
    }
    /// The last closed bar of `timeframe`, if it is configured and one has closed.
    #[inline]
    pub fn last_closed(&self, timeframe: Timeframe) -> Option<Bar> {
        let bars = self.closed_bars(timeframe)?;
        (!bars.is_empty()).then(|| bars.bar(bars.len() - 1))
    }
    /// The instrument this slice shows.
    #[inline]
    pub fn instrument(&self) -> InstrumentId {
        self.parts.instrument
    }
    /// Whether the current bar's open is inside the trading session and outside every
    /// blackout (`execution.session`, `execution.blackouts`; `true` when none is
    /// configured). Entries fill only at such bars.
    #[inline]
    pub fn in_session(&self) -> bool {
        self.parts.in_session
    }
    /// A declared indicator's values up to the last closed bar of its timeframe.
    ///
    /// # Panics
    /// On a handle this run's `init` did not return (a handle kept from another strategy).
    #[inline]
    pub fn series(&self, handle: IndicatorHandle) -> &'a [f64] {
        match self.parts.indicators.get(handle.index()) {
            Some(view) => &view.values[..self.parts.visible[view.frame]],
            None => panic!(
                "indicator handle {} was not declared in this run's init ({} declared)",
                handle.0,
                self.parts.indicators.len()
            ),
        }
    }
    /// The indicator at the last closed bar of its timeframe; NaN during warm-up or before
    /// a bar of its timeframe has closed.
    #[inline]
    pub fn value(&self, handle: IndicatorHandle) -> f64 {
        self.value_at(handle, 0)
    }
    /// The indicator `offset` bars before the last closed bar of its timeframe (`offset = 0`
    /// is [`DataSlice::value`]); NaN before the series starts.
    #[inline]
    pub fn value_at(&self, handle: IndicatorHandle, offset: usize) -> f64 {
        let series = self.series(handle);
        series
            .len()
            .checked_sub(1 + offset)
            .map_or(f64::NAN, |k| series[k])
    }
    /// The open position, if any.
    #[inline]
    pub fn position(&self) -> Option<&'a Position> {
        self.parts.position
    }
    /// Records a value for the decision trace of this bar (no-op when tracing is off).
    #[inline]
    pub fn record(&self, name: &str, value: f64) {
        if let Some(recorder) = self.parts.recorder {
            recorder.record(name, value);
        }
    }
    /// Whether a decision trace is being recorded (to skip computing values only traced).
    #[inline]
    pub fn tracing(&self) -> bool {
        self.parts.recorder.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Store {
        time: Vec<i64>,
        x: Vec<f64>,
    }

    fn columns(s: &Store) -> BarColumns<'_> {
        BarColumns {
            time: &s.time,
            bid_open: &s.x,
            bid_high: &s.x,
            bid_low: &s.x,
            bid_close: &s.x,
            ask_open: &s.x,
            ask_high: &s.x,
            ask_low: &s.x,
            ask_close: &s.x,
            volume: &s.x,
        }
    }

    #[test]
    fn cuts_frames_and_indicators_at_the_visible_count() {
        let m5 = Store {
            time: vec![0, 300, 600, 900],
            x: vec![1.0, 2.0, 3.0, 4.0],
        };
        let h1 = Store {
            time: vec![0, 3600],
            x: vec![10.0, 20.0],
        };
        let frames = [
            FrameView {
                timeframe: Timeframe::M5,
                bars: columns(&m5),
            },
            FrameView {
                timeframe: Timeframe::H1,
                bars: columns(&h1),
            },
        ];
        let h1_values = [10.0, 20.0];
        let m5_values = [7.0, 8.0, 9.0, 9.5];
        let indicators = [
            IndicatorView {
                frame: 1,
                values: &h1_values,
            },
            IndicatorView {
                frame: 0,
                values: &m5_values,
            },
        ];
        let (h1_sma, m5_sma) = (IndicatorHandle(0), IndicatorHandle(1));
        let recorder = TraceRecorder::new();
        let visible = [3, 0];
        let slice = DataSlice::new(SliceParts {
            index: 2,
            primary: Timeframe::M5,
            frames: &frames,
            visible: &visible,
            indicators: &indicators,
            position: None,
            recorder: Some(&recorder),
            instrument: InstrumentId(0),
            in_session: true,
        });
        assert_eq!(slice.bar().bid.close, 3.0);
        assert_eq!(slice.time(), 600);
        assert_eq!(slice.closed_bars(Timeframe::M5).unwrap().len(), 3);
        assert!(slice.last_closed(Timeframe::H1).is_none());
        assert!(slice.value(h1_sma).is_nan()); // no H1 bar has closed
        assert_eq!(slice.value(m5_sma), 9.0);
        assert_eq!(slice.value_at(m5_sma, 2), 7.0);
        assert!(slice.value_at(m5_sma, 3).is_nan());
        assert!(slice.closed_bars(Timeframe::D1).is_none());
        slice.record("z", 1.5);
        assert_eq!(recorder.take(), vec![("z".to_string(), 1.5)]);

        let visible = [4, 1];
        let slice = DataSlice::new(SliceParts {
            visible: &visible,
            ..slice.parts
        });
        assert_eq!(slice.value(h1_sma), 10.0);
        assert!(slice.value_at(h1_sma, 1).is_nan());
        assert_eq!(slice.series(h1_sma), &h1_values[..1]);
        assert_eq!(slice.last_closed(Timeframe::H1).unwrap().bid.close, 10.0);
    }

    #[test]
    #[should_panic(expected = "indicator handle 5 was not declared")]
    fn an_undeclared_handle_is_a_clear_panic() {
        let m5 = Store {
            time: vec![0],
            x: vec![1.0],
        };
        let frames = [FrameView {
            timeframe: Timeframe::M5,
            bars: columns(&m5),
        }];
        let slice = DataSlice::new(SliceParts {
            index: 0,
            primary: Timeframe::M5,
            frames: &frames,
            visible: &[1],
            indicators: &[],
            position: None,
            recorder: None,
            instrument: InstrumentId(0),
            in_session: true,
        });
        slice.value(IndicatorHandle(5));
    }
}

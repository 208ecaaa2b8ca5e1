//! [`DataSlice`]: everything a strategy may see at the close of one primary bar.
//!
//! A slice borrows the engine's column storage and is rebuilt per bar from references and
//! indices only (no allocation). It never exposes a bar that has not closed: every timeframe
//! is cut at its last bar whose close time (`open + tf`) is `<=` the close of the current
//! primary bar, and indicators are read at that same index.

use crate::signal::Position;
use crate::types::{Bar, IndicatorKey, IndicatorSpec, Ohlc, PriceSide, Timeframe};
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

/// One computed indicator series over all bars of its timeframe.
#[derive(Debug, Clone, Copy)]
pub struct IndicatorView<'a> {
    pub key: IndicatorKey,
    pub values: &'a [f64],
}

/// Where a declared indicator sits in the slices of one run: found by key once
/// ([`DataSlice::indicator_slot`]), then read at every bar without a search
/// ([`DataSlice::slot_value`]).
///
/// A slot belongs to the run it was found in: the engine calls `Strategy::indicators` at the
/// start of every run, so forget slots there. Each read checks, without comparing keys, that
/// the slice still holds the very series the slot was found for (same position, same memory,
/// same length) and otherwise searches by key. Only a slot kept into another run whose series
/// happens to reuse that memory at that position could read the wrong series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorSlot {
    key: IndicatorKey,
    indicator: usize,
    frame: usize,
    /// Address and length of the series when found (identity only, never dereferenced).
    values_at: usize,
    values_len: usize,
}

impl IndicatorSlot {
    /// The key this slot was found for.
    pub fn key(&self) -> &IndicatorKey {
        &self.key
    }
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
    /// Computed indicators, sorted by key.
    pub indicators: &'a [IndicatorView<'a>],
    pub position: Option<&'a Position>,
    pub recorder: Option<&'a TraceRecorder>,
}

/// The view of the market at the close of primary bar `index()`.
#[derive(Debug, Clone, Copy)]
pub struct DataSlice<'a> {
    parts: SliceParts<'a>,
}

impl<'a> DataSlice<'a> {
    /// Builds a slice. `indicators` must be sorted by key and `visible` parallel to `frames`
    /// with each count `<=` the frame's length (checked in debug builds).
    pub fn new(parts: SliceParts<'a>) -> Self {
        debug_assert_eq!(parts.frames.len(), parts.visible.len());
        debug_assert!(parts.indicators.windows(2).all(|w| w[0].key < w[1].key));
        debug_assert!(parts
            .frames
            .iter()
            .zip(parts.visible)
            .all(|(f, &n)| n <= f.bars.len()));
        DataSlice { parts }
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
        self.bars(self.parts.primary)
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
    pub fn bars(&self, timeframe: Timeframe) -> Option<BarColumns<'a>> {
        let k = self.frame(timeframe)?;
        Some(self.parts.frames[k].bars.head(self.parts.visible[k]))
    }
    /// The last closed bar of `timeframe`, if it is configured and one has closed.
    #[inline]
    pub fn last_closed(&self, timeframe: Timeframe) -> Option<Bar> {
        let bars = self.bars(timeframe)?;
        (!bars.is_empty()).then(|| bars.bar(bars.len() - 1))
    }
    /// The indicator's values up to the last closed bar of its timeframe, or `None` if the
    /// strategy did not declare it in `Strategy::indicators`.
    #[inline]
    pub fn indicator_series(&self, key: &IndicatorKey) -> Option<&'a [f64]> {
        // A strategy declares a handful of indicators: a scan by equality beats a binary
        // search by `Ord` (which builds both keys at each step) until the list is long.
        let indicators = self.parts.indicators;
        let found = if indicators.len() <= 16 {
            indicators.iter().position(|v| v.key == *key)?
        } else {
            indicators.binary_search_by(|v| v.key.cmp(key)).ok()?
        };
        let k = self.frame(key.timeframe)?;
        Some(&self.parts.indicators[found].values[..self.parts.visible[k]])
    }
    /// The indicator at the last closed bar of its timeframe; `None` if not declared or no
    /// bar of that timeframe has closed yet. NaN during warm-up.
    #[inline]
    pub fn indicator(&self, key: &IndicatorKey) -> Option<f64> {
        self.indicator_series(key)?.last().copied()
    }
    /// The indicator `offset` bars before the last closed bar of its timeframe (`offset = 0`
    /// is [`DataSlice::indicator`]); `None` if not declared or before the series starts.
    #[inline]
    pub fn indicator_offset(&self, key: &IndicatorKey, offset: usize) -> Option<f64> {
        let series = self.indicator_series(key)?;
        let k = series.len().checked_sub(1 + offset)?;
        Some(series[k])
    }
    /// The slot of a declared indicator (`None` if it was not declared), for
    /// [`DataSlice::slot_value`]. Valid for every slice of the same run.
    pub fn indicator_slot(&self, key: &IndicatorKey) -> Option<IndicatorSlot> {
        let indicator = self.parts.indicators.iter().position(|v| v.key == *key)?;
        let frame = self.frame(key.timeframe)?;
        let values = self.parts.indicators[indicator].values;
        Some(IndicatorSlot {
            key: *key,
            indicator,
            frame,
            values_at: values.as_ptr() as usize,
            values_len: values.len(),
        })
    }
    /// [`DataSlice::indicator_series`] of the slot's key, cut without a search while the slice
    /// holds the series the slot was found for (see [`IndicatorSlot`]).
    #[inline]
    pub fn slot_series(&self, slot: &IndicatorSlot) -> Option<&'a [f64]> {
        let parts = &self.parts;
        match (
            parts.indicators.get(slot.indicator),
            parts.frames.get(slot.frame),
        ) {
            (Some(view), Some(frame))
                if view.values.as_ptr() as usize == slot.values_at
                    && view.values.len() == slot.values_len
                    && frame.timeframe == slot.key.timeframe =>
            {
                debug_assert!(view.key == slot.key, "a slot kept from another run");
                view.values.get(..parts.visible[slot.frame])
            }
            _ => self.indicator_series(&slot.key),
        }
    }
    /// [`DataSlice::indicator_offset`] of the slot's key (see [`DataSlice::slot_series`]).
    #[inline]
    pub fn slot_value(&self, slot: &IndicatorSlot, offset: usize) -> Option<f64> {
        let series = self.slot_series(slot)?;
        let k = series.len().checked_sub(1 + offset)?;
        Some(series[k])
    }
    /// Shorthand for [`DataSlice::indicator`] with the key's parts.
    #[inline]
    pub fn indicator_at(
        &self,
        timeframe: Timeframe,
        side: PriceSide,
        spec: IndicatorSpec,
    ) -> Option<f64> {
        self.indicator(&IndicatorKey {
            timeframe,
            side,
            spec,
        })
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
    use crate::types::{IndicatorSpec, PriceField};

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
        let sma = IndicatorKey {
            timeframe: Timeframe::H1,
            side: PriceSide::Bid,
            spec: IndicatorSpec::Sma {
                period: 1,
                field: PriceField::Close,
            },
        };
        let values = [10.0, 20.0];
        let indicators = [IndicatorView {
            key: sma,
            values: &values,
        }];
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
        });
        assert_eq!(slice.bar().bid.close, 3.0);
        assert_eq!(slice.time(), 600);
        assert_eq!(slice.bars(Timeframe::M5).unwrap().len(), 3);
        assert!(slice.last_closed(Timeframe::H1).is_none());
        assert_eq!(slice.indicator(&sma), None);
        assert!(slice.bars(Timeframe::D1).is_none());
        slice.record("z", 1.5);
        assert_eq!(recorder.take(), vec![("z".to_string(), 1.5)]);

        let visible = [4, 1];
        let slice = DataSlice::new(SliceParts {
            visible: &visible,
            ..slice.parts
        });
        assert_eq!(slice.indicator(&sma), Some(10.0));
        assert_eq!(slice.indicator_offset(&sma, 0), Some(10.0));
        assert_eq!(slice.indicator_offset(&sma, 1), None);
        assert_eq!(slice.last_closed(Timeframe::H1).unwrap().bid.close, 10.0);
        let undeclared = IndicatorKey {
            spec: IndicatorSpec::Atr { period: 3 },
            ..sma
        };
        assert_eq!(slice.indicator(&undeclared), None);

        // Slots read the same values; a slot of another layout falls back to the key.
        let slot = slice.indicator_slot(&sma).unwrap();
        assert_eq!(slot.key(), &sma);
        assert_eq!(slice.slot_value(&slot, 0), Some(10.0));
        assert_eq!(slice.slot_value(&slot, 1), None);
        assert_eq!(slice.slot_series(&slot), Some(&values[..1]));
        assert!(slice.indicator_slot(&undeclared).is_none());
        let other_values = [7.0, 8.0, 9.0, 9.5];
        let m5_sma = IndicatorKey {
            timeframe: Timeframe::M5,
            ..sma
        };
        let two = [
            IndicatorView {
                key: m5_sma,
                values: &other_values,
            },
            IndicatorView {
                key: sma,
                values: &values,
            },
        ];
        let visible = [4, 2];
        let reordered = DataSlice::new(SliceParts {
            visible: &visible,
            indicators: &two,
            ..slice.parts
        });
        assert_eq!(reordered.slot_value(&slot, 0), Some(20.0)); // H1 sma, not the M5 one at index 0
        assert_eq!(reordered.slot_value(&slot, 1), Some(10.0));
    }
}

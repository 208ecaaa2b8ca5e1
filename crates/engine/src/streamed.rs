//! A run's metrics taken in its loop, for sweeps: no equity curve, no trade log.
//!
//! Bit for bit the metrics of [`compute_metrics`](crate::metrics::compute_metrics) over the
//! curve and the trades: every sum is exact (rounded once, as `math.fsum`), every other value
//! the same IEEE operation on the same operands. Two things need care:
//!
//! - The last bar's equity is replaced by the final balance after the loop (the position is
//!   closed at the last close), so each value is taken one bar late.
//! - The standard deviation of the returns is two passes (the mean first, then the squared
//!   deviations). Instead of the curve, the run keeps the *segments* over which the account
//!   (balance, side, entry, size) did not change, a few per trade, and the second pass
//!   computes each bar's equity again from them and the bar's closes: the same operations,
//!   so the same doubles.
//!
//! A value an exact sum declines (NaN, infinities, magnitudes near overflow: a blown
//! account) marks the run exotic: its caller runs it again the ordinary way, where
//! `fsum`'s special cases and errors live.

use crate::exact_sum::ExactSum;
use crate::metrics::{
    bar_return, close_time, downside_square, mean_return, squared_deviation, BelowPeak, Drawdown,
};
use crate::portfolio::Marked;
use omega_strategy_api::BarColumns;

/// The account from bar `start` on (until the next segment's start).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub(crate) start: usize,
    pub(crate) marked: Marked,
}

/// A streamed run's record of its account (the segments) and the first pass over its
/// equity, taken a block of bars behind the loop (while the block is in cache): the returns'
/// sums and the drawdown.
#[derive(Debug, Clone)]
pub(crate) struct EquityStream {
    segments: Vec<Segment>,
    timeframe_ns: i64,
    /// Bars taken by the first pass; the segment holding the next one; its equity before.
    next: usize,
    segment: usize,
    previous: f64,
    returns: ExactSum,
    downsides: ExactSum,
    drawdown: FastDrawdown,
    exotic: bool,
}

impl EquityStream {
    pub(crate) fn new(initial: f64, timeframe_ns: i64) -> Self {
        EquityStream {
            segments: Vec::new(),
            timeframe_ns,
            next: 0,
            segment: 0,
            previous: initial,
            returns: ExactSum::new(),
            downsides: ExactSum::new(),
            drawdown: FastDrawdown::new(initial),
            exotic: false,
        }
    }

    /// The account `marked` the equity of bar `i` is computed from (bars in order).
    #[inline(always)]
    pub(crate) fn record(&mut self, i: usize, marked: Marked) {
        match self.segments.last() {
            Some(last) if last.marked.same_as(&marked) => {}
            _ => self.segments.push(Segment { start: i, marked }),
        }
    }

    /// The first pass over bars up to `end` (exclusive; recorded already, and not the run's
    /// last bar, whose equity the final balance replaces).
    pub(crate) fn advance(&mut self, end: usize, bars: &BarColumns<'_>) {
        let (bid_close, ask_close, time) = (bars.bid_close, bars.ask_close, bars.time);
        let tf = self.timeframe_ns;
        let start_ns = time.first().copied().unwrap_or(0);
        let close_ns = |k: usize| close_time(time, tf, k);
        let mut i = self.next;
        while i < end {
            let (marked, stop) = segment_at(&self.segments, &mut self.segment, i, end);
            let mut previous = self.previous;
            let mut ok = true;
            // Flat: the equity is the balance at every bar of the segment; after its first
            // bar each return is exactly 0 (e / e - 1 for a finite non-zero e), which adds
            // nothing to the sums, and the drawdown sees the same value again, which changes
            // nothing. Only the first bar is taken.
            let stop_taken = if marked.long.is_none() && flat_returns_zero(marked.balance) {
                stop.min(i + 1)
            } else {
                stop
            };
            for k in i..stop_taken {
                let e = marked.equity(bid_close[k], ask_close[k]);
                let r = bar_return(previous, e);
                ok &= self.returns.add(r);
                ok &= self.downsides.add(downside_square(r));
                self.drawdown.push(k, e, close_ns, start_ns);
                previous = e;
            }
            self.previous = previous;
            self.exotic |= !ok;
            i = stop;
        }
        self.next = i;
    }

    /// After the loop over the first `n` of `bars`, whose last equity is `final_balance`.
    pub(crate) fn finish(
        mut self,
        n: usize,
        final_balance: f64,
        bars: &BarColumns<'_>,
    ) -> FirstPass {
        let initial = self.drawdown.initial;
        let tf = self.timeframe_ns;
        let time = bars.time;
        let start_ns = time.first().copied().unwrap_or(0);
        let close_ns = |k: usize| close_time(time, tf, k);
        if n > 0 {
            self.advance(n - 1, bars);
            let r = bar_return(self.previous, final_balance);
            self.exotic |= !self.returns.add(r);
            self.exotic |= !self.downsides.add(downside_square(r));
            self.drawdown.push(n - 1, final_balance, close_ns, start_ns);
        }
        let (drawdown, exotic_drawdown) = self.drawdown.finish(n, close_ns, start_ns);
        FirstPass {
            n,
            initial,
            final_balance,
            sum: self.returns.value(),
            downsides: self.downsides.value(),
            drawdown,
            segments: self.segments,
            exotic: self.exotic || exotic_drawdown,
        }
    }
}

/// Whether a flat account's returns after its first bar are exactly 0: `e / e - 1` is 0
/// for a finite non-zero equity `e` (the balance, as the loop marks it).
#[inline]
fn flat_returns_zero(balance: f64) -> bool {
    let e = balance + 0.0;
    bar_return(e, e) == 0.0
}

/// Below this, a product's low half could lose bits to underflow: such squares are added
/// one by one.
const TINY: f64 = 1e-250;

/// The account of bar `i` (`*segment` the index of its segment, moved forward) and the
/// bar (at most `end`) where that account changes.
#[inline(always)]
fn segment_at(segments: &[Segment], segment: &mut usize, i: usize, end: usize) -> (Marked, usize) {
    while *segment + 1 < segments.len() && segments[*segment + 1].start <= i {
        *segment += 1;
    }
    let stop = segments
        .get(*segment + 1)
        .map_or(end, |next| next.start.min(end));
    (segments[*segment].marked, stop)
}

/// `_drawdown` of a finite curve with a positive peak (else the run is exotic): the
/// percentage of a depth below a peak grows with the depth (division and product by
/// positive numbers, correctly rounded, are monotone), so it is computed once per peak, for
/// its deepest bar, instead of at every bar. The same doubles as [`DrawdownTracker`]
/// (crate::metrics::DrawdownTracker) wherever this does not declare the run exotic.
#[derive(Debug, Clone)]
struct FastDrawdown {
    initial: f64,
    peak: f64,
    /// Deepest bar below the current peak (`None` before a bar is under it).
    depth: Option<f64>,
    max: f64,
    max_pct: f64,
    exotic: bool,
    runs: BelowPeak,
}

impl FastDrawdown {
    fn new(initial: f64) -> Self {
        FastDrawdown {
            initial,
            peak: initial,
            depth: None,
            max: f64::NEG_INFINITY,
            max_pct: f64::NEG_INFINITY,
            exotic: false,
            runs: BelowPeak::default(),
        }
    }

    #[inline(always)]
    fn push(&mut self, i: usize, e: f64, close_ns: impl Fn(usize) -> i64, start_ns: i64) {
        if e > self.peak {
            self.close_peak();
            self.peak = e;
        }
        let d = self.peak - e;
        self.depth = Some(
            self.depth
                .map_or(d, |depth| if d > depth { d } else { depth }),
        );
        self.runs.push(i, d > 0.0, close_ns, start_ns);
    }

    /// The deepest percentage below the peak being left.
    #[inline]
    fn close_peak(&mut self) {
        let Some(depth) = self.depth.take() else {
            return;
        };
        let pct = (if self.peak > 0.0 {
            depth / self.peak
        } else {
            f64::NAN
        }) * 100.0;
        // A non-positive peak, an overflow: the percentages need the general path.
        self.exotic |= !(self.peak > 0.0 && pct.is_finite() && depth.is_finite());
        if depth > self.max {
            self.max = depth;
        }
        if pct > self.max_pct {
            self.max_pct = pct;
        }
    }

    /// The drawdown and whether the run is exotic.
    fn finish(
        mut self,
        n: usize,
        close_ns: impl Fn(usize) -> i64,
        start_ns: i64,
    ) -> (Drawdown, bool) {
        if n == 0 {
            return (Drawdown::NONE, false);
        }
        self.close_peak();
        let (duration_bars, duration_seconds) = self.runs.finish(n, close_ns, start_ns);
        let drawdown = Drawdown {
            max: self.max,
            max_pct: self.max_pct,
            duration_bars,
            duration_seconds,
        };
        (drawdown, self.exotic)
    }
}

/// What the first pass leaves for the second and for the metrics.
#[derive(Debug)]
pub(crate) struct FirstPass {
    pub(crate) n: usize,
    initial: f64,
    final_balance: f64,
    /// Correctly rounded sums of the returns and of their downside squares.
    pub(crate) sum: f64,
    pub(crate) downsides: f64,
    pub(crate) drawdown: Drawdown,
    segments: Vec<Segment>,
    pub(crate) exotic: bool,
}

impl FirstPass {
    /// The second pass, to be advanced over the bars in order.
    pub(crate) fn second_pass(&self) -> SecondPass {
        SecondPass {
            next: 0,
            segment: 0,
            previous: self.initial,
            mean: mean_return(self.sum, self.n.max(1)),
            squares: ExactSum::new(),
            exotic: false,
        }
    }

    /// Adds the squared deviations of bars `second.next..end` (`end <= n`) to `second`;
    /// `bid_close`, `ask_close` are the primary bars'.
    #[inline]
    pub(crate) fn advance(
        &self,
        second: &mut SecondPass,
        end: usize,
        bid_close: &[f64],
        ask_close: &[f64],
    ) {
        let end = end.min(self.n);
        // The last bar's equity is the final balance (handled apart, below).
        let loop_end = end.min(self.n.saturating_sub(1));
        let mut i = second.next;
        let mut previous = second.previous;
        let mean = second.mean;
        while i < loop_end {
            let (marked, stop) = segment_at(&self.segments, &mut second.segment, i, loop_end);
            // Flat (see `EquityStream::advance`): after the first bar every return is 0 and
            // adds the same square, `(0 - mean)^2`; `count` of them are added at once, as
            // the exact product's two halves.
            let square = squared_deviation(0.0, mean);
            let stop_taken = if marked.long.is_none()
                && flat_returns_zero(marked.balance)
                && (square == 0.0 || (square.is_finite() && square.abs() >= TINY))
            {
                stop.min(i + 1)
            } else {
                stop
            };
            let mut ok = true;
            for k in i..stop_taken {
                let e = marked.equity(bid_close[k], ask_close[k]);
                let r = bar_return(previous, e);
                ok &= second.squares.add(squared_deviation(r, mean));
                previous = e;
            }
            let count = (stop - stop_taken) as f64;
            if count > 0.0 {
                let high = count * square;
                let low = count.mul_add(square, -high);
                ok &= second.squares.add(high) && second.squares.add(low);
            }
            second.exotic |= !ok;
            i = stop;
        }
        if end == self.n && i < end {
            // i == n - 1
            let r = bar_return(previous, self.final_balance);
            second.exotic |= !second.squares.add(squared_deviation(r, mean));
            previous = self.final_balance;
            i = end;
        }
        second.next = i;
        second.previous = previous;
    }
}

/// The second pass's state between blocks of bars.
#[derive(Debug, Clone)]
pub(crate) struct SecondPass {
    next: usize,
    segment: usize,
    previous: f64,
    mean: f64,
    squares: ExactSum,
    pub(crate) exotic: bool,
}

impl SecondPass {
    /// The correctly rounded sum of the squared deviations.
    pub(crate) fn squares(&self) -> f64 {
        self.squares.value()
    }
}

//! Result metrics of one run, value for value `omega.results.metrics.compute_metrics`.
//!
//! The Python metrics are the reference; this port exists so Rust code (an optimizer ranking
//! runs) gets the same numbers without Python. "The same" means the same doubles: every sum is
//! [`fsum`] (a port of CPython's `math.fsum`, correctly rounded, so independent of the order
//! and of the algorithm), every other operation is the same IEEE operation in the same order
//! as the Python code, integer divisions are Python's correctly rounded `int / int`
//! ([`int_true_div`]), and `cagr`'s power is libm `pow`, which Python's `**` calls too.
//! Formulas: docs/user-guide/results.md.

use crate::exact_sum::ExactSum;
use crate::output::{ExitReason, RunOutput};
use std::collections::BTreeMap;
use thiserror::Error;

/// Seconds in a 365.25-day year (`SECONDS_PER_YEAR`).
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;
const NS_PER_SECOND: i64 = 1_000_000_000;

/// Where Python's `compute_metrics` raises, this raises the same kind with the same message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetricsError {
    /// Python: `ZeroDivisionError` from `net_profit / initial_balance`.
    #[error("float division by zero")]
    ZeroInitialBalance,
    /// Python: `ValueError` from `math.fsum` given both infinities.
    #[error("-inf + inf in fsum")]
    FsumInfMinusInf,
    /// Python: `OverflowError` from `math.fsum` when finite summands overflow.
    #[error("intermediate overflow in fsum")]
    FsumOverflow,
    /// Columns of one table with different lengths (Python would fail in numpy instead).
    #[error("metrics input: column {column} has {len} rows, {reference} has {expected}")]
    ColumnLength {
        column: &'static str,
        len: usize,
        reference: &'static str,
        expected: usize,
    },
}

/// `math.fsum`: the correctly rounded sum, with CPython's special cases: NaN in -> NaN,
/// infinities of one sign -> that infinity, both signs -> [`MetricsError::FsumInfMinusInf`],
/// finite overflow -> `FsumOverflow`.
///
/// Summed by [`ExactSum`] (fast); where it declines (a non-finite value, a magnitude near
/// overflow) by [`fsum_partials`], the port of CPython's algorithm with its error cases. Both
/// are correctly rounded, so they agree wherever both apply.
pub fn fsum<I>(values: I) -> Result<f64, MetricsError>
where
    I: IntoIterator<Item = f64>,
    I::IntoIter: Clone,
{
    let values = values.into_iter();
    let mut exact = ExactSum::new();
    if values.clone().all(|v| exact.add(v)) {
        return Ok(exact.value());
    }
    fsum_partials(values)
}

/// `math.fsum` as CPython's mathmodule.c computes it (Shewchuk's partials).
pub fn fsum_partials(values: impl IntoIterator<Item = f64>) -> Result<f64, MetricsError> {
    let mut partials: Vec<f64> = Vec::new();
    let mut special_sum = 0.0_f64;
    let mut inf_sum = 0.0_f64;
    for value in values {
        let mut x = value;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        if x != 0.0 {
            if !x.is_finite() {
                if value.is_finite() {
                    return Err(MetricsError::FsumOverflow);
                }
                if value.is_infinite() {
                    inf_sum += value;
                }
                special_sum += value;
                partials.clear();
            } else {
                partials.push(x);
            }
        }
    }
    if special_sum != 0.0 {
        // Also true for NaN (NaN != 0).
        return if inf_sum.is_nan() {
            Err(MetricsError::FsumInfMinusInf)
        } else {
            Ok(special_sum)
        };
    }
    let Some(mut hi) = partials.pop() else {
        return Ok(0.0);
    };
    // Add the partials from the largest down; stop when the sum becomes inexact.
    let mut lo = 0.0_f64;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    // Half-even rounding across partials (CPython: sum([1e-16, 1, 1e16]) rounds up).
    if let Some(&next) = partials.last() {
        if (lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
    }
    Ok(hi)
}

/// Python's `a / b` for integers: the exact quotient correctly rounded to a double (not
/// `a as f64 / b as f64`, which rounds twice once `|a|` exceeds 2^53, e.g. a span of a few
/// months in nanoseconds). `b != 0`.
pub fn int_true_div(a: i128, b: i64) -> f64 {
    const EXACT: u128 = 1 << 53;
    let (ua, ub) = (a.unsigned_abs(), u128::from(b.unsigned_abs()));
    if ua <= EXACT && ub <= EXACT {
        // Both exact as doubles: one rounding, as CPython's fast path.
        return a as f64 / b as f64;
    }
    let bits = |v: u128| 128 - v.leading_zeros() as i32;
    // Scale so the integer quotient has at least 55 bits: 53 kept, a guard bit, and bit 0
    // below it that can carry the sticky remainder without changing the rounding.
    let shift = 55 + bits(ub) - bits(ua);
    let (quotient, remainder) = if shift >= 0 {
        let num = ua << shift;
        (num / ub, num % ub)
    } else {
        (ua / ub, ua % ub)
    };
    let sticky = u128::from(remainder != 0);
    let magnitude = (quotient | sticky) as f64; // round-to-nearest-even, once
    let scaled = if shift > 0 {
        // Exact: a power of two, and the result stays a normal double.
        magnitude * f64::from_bits(((1023 - shift) as u64) << 52)
    } else {
        magnitude
    };
    if (a < 0) != (b < 0) {
        -scaled
    } else {
        scaled
    }
}

/// numpy's `maximum`: NaN if either is NaN.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

/// Gross profit over gross loss; `inf` without losses but with profits, NaN with neither.
fn profit_factor(gross_profit: f64, gross_loss: f64) -> f64 {
    if gross_loss > 0.0 {
        gross_profit / gross_loss
    } else if gross_profit > 0.0 {
        f64::INFINITY
    } else {
        f64::NAN
    }
}

/// `_ratio`: NaN for a zero denominator.
fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator != 0.0 {
        numerator / denominator
    } else {
        f64::NAN
    }
}

/// `_mean`: fsum / len, NaN when empty.
fn mean(values: &[f64]) -> Result<f64, MetricsError> {
    if values.is_empty() {
        return Ok(f64::NAN);
    }
    Ok(fsum(values.iter().copied())? / values.len() as f64)
}

/// The trade columns the metrics read (of `RawRun.trades`).
#[derive(Debug, Clone, Copy)]
pub struct TradeColumns<'a> {
    pub pnl: &'a [f64],
    pub side: &'a [i8],
    pub fees: &'a [f64],
    /// Swap per row (an empty slice: no swap column, as in runs without a swap model).
    pub swap: &'a [f64],
    pub bars_held: &'a [i64],
    pub exit_reason: &'a [&'a str],
}

/// The fields of `RawRun` the metrics read, plus the run's settings they depend on.
#[derive(Debug, Clone, Copy)]
pub struct MetricsInput<'a> {
    pub trades: TradeColumns<'a>,
    /// Open times of the primary bars (UTC ns).
    pub equity_time: &'a [i64],
    /// Equity at each primary bar's close.
    pub equity: &'a [f64],
    pub final_balance: f64,
    pub bars_processed: usize,
    pub base_bars: usize,
    pub ignored_signals: usize,
    pub dropped_orders: usize,
    pub skipped_orders: usize,
    pub initial_balance: f64,
    /// The primary timeframe: bar close = open + it.
    pub timeframe_ns: i64,
}

/// Every metric of `omega.results.metrics.compute_metrics`, same names and meanings.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub initial_balance: f64,
    pub final_balance: f64,
    pub net_profit: f64,
    pub return_pct: f64,
    pub cagr: f64,
    pub span_days: f64,
    pub periods_per_year: f64,
    pub max_drawdown: f64,
    pub max_drawdown_pct: f64,
    pub max_drawdown_duration_bars: usize,
    pub max_drawdown_duration_seconds: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub n_trades: usize,
    pub n_long: usize,
    pub n_short: usize,
    pub n_wins: usize,
    pub n_losses: usize,
    pub win_rate: f64,
    pub gross_profit: f64,
    pub gross_loss: f64,
    pub profit_factor: f64,
    pub expectancy: f64,
    pub avg_win: f64,
    pub avg_loss: f64,
    pub largest_win: f64,
    pub largest_loss: f64,
    pub total_fees: f64,
    pub total_swap: f64,
    pub avg_bars_held: f64,
    pub exposure: f64,
    /// Rows per exit reason, sorted by reason.
    pub exit_reasons: BTreeMap<String, usize>,
    pub bars_processed: usize,
    pub base_bars: usize,
    pub ignored_signals: usize,
    pub dropped_orders: usize,
    pub skipped_orders: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Drawdown {
    pub(crate) max: f64,
    pub(crate) max_pct: f64,
    pub(crate) duration_bars: usize,
    pub(crate) duration_seconds: f64,
}

/// `_drawdown`; equity `i` was marked at `close_ns(i)`. One pass: the running peak, the
/// depths and the runs below the peak are taken as they come (no per-bar buffers).
fn drawdown(
    equity: &[f64],
    initial: f64,
    close_ns: impl Fn(usize) -> i64,
    start_ns: i64,
) -> Drawdown {
    let mut tracker = DrawdownTracker::new(initial);
    for (i, &e) in equity.iter().enumerate() {
        tracker.push(i, e, &close_ns, start_ns);
    }
    tracker.finish(equity.len(), &close_ns, start_ns)
}

/// The drawdown of an equity curve fed value by value (bar `i` at a time), so a sweep can
/// take it in its loop instead of keeping the curve: the same operations in the same order
/// as `_drawdown`, whatever feeds it.
#[derive(Debug, Clone)]
pub(crate) struct DrawdownTracker {
    peak: f64,
    max: f64,
    /// Over the non-NaN percentages (`nanmax`).
    max_pct: f64,
    any_finite_pct: bool,
    runs: BelowPeak,
}

impl DrawdownTracker {
    pub(crate) fn new(initial: f64) -> Self {
        DrawdownTracker {
            peak: initial,
            max: f64::NEG_INFINITY,
            max_pct: f64::NEG_INFINITY,
            any_finite_pct: false,
            runs: BelowPeak::default(),
        }
    }

    /// Equity `e` at bar `i` (bars in order from 0).
    #[inline]
    pub(crate) fn push(
        &mut self,
        i: usize,
        e: f64,
        close_ns: impl Fn(usize) -> i64,
        start_ns: i64,
    ) {
        self.peak = nan_max(self.peak, e);
        let d = self.peak - e;
        self.max = nan_max(self.max, d);
        let pct = (if self.peak > 0.0 {
            d / self.peak
        } else {
            f64::NAN
        }) * 100.0;
        self.any_finite_pct |= pct.is_finite();
        if !pct.is_nan() && pct > self.max_pct {
            self.max_pct = pct;
        }
        self.runs.push(i, d > 0.0, close_ns, start_ns);
    }

    /// The drawdown after `n` bars were pushed (a run still below the peak ends at the last).
    pub(crate) fn finish(
        self,
        n: usize,
        close_ns: impl Fn(usize) -> i64,
        start_ns: i64,
    ) -> Drawdown {
        if n == 0 {
            return Drawdown::NONE;
        }
        let (duration_bars, duration_seconds) = self.runs.finish(n, close_ns, start_ns);
        Drawdown {
            max: self.max,
            max_pct: if self.any_finite_pct {
                self.max_pct
            } else {
                f64::NAN
            },
            duration_bars,
            duration_seconds,
        }
    }
}

impl Drawdown {
    /// Of an empty curve.
    pub(crate) const NONE: Drawdown = Drawdown {
        max: 0.0,
        max_pct: 0.0,
        duration_bars: 0,
        duration_seconds: 0.0,
    };
}

/// The longest run of bars below the running peak, fed bar by bar.
#[derive(Debug, Clone, Default)]
pub(crate) struct BelowPeak {
    longest_bars: usize,
    longest_seconds: f64,
    /// The open run's first bar.
    run_start: Option<usize>,
}

impl BelowPeak {
    /// Bar `i` is `below` the peak or not.
    #[inline(always)]
    pub(crate) fn push(
        &mut self,
        i: usize,
        below: bool,
        close_ns: impl Fn(usize) -> i64,
        start_ns: i64,
    ) {
        if below {
            if self.run_start.is_none() {
                self.run_start = Some(i);
            }
        } else if let Some(start) = self.run_start.take() {
            self.close_run(start, i - 1, close_ns, start_ns);
        }
    }

    /// A run below the peak over bars `start..=last`.
    #[cold]
    fn close_run(
        &mut self,
        start: usize,
        last: usize,
        close_ns: impl Fn(usize) -> i64,
        start_ns: i64,
    ) {
        let length = last - start + 1;
        if length > self.longest_bars {
            let peak_time = if start == 0 {
                start_ns
            } else {
                close_ns(start - 1)
            };
            self.longest_bars = length;
            self.longest_seconds = int_true_div(
                i128::from(close_ns(last)) - i128::from(peak_time),
                NS_PER_SECOND,
            );
        }
    }

    /// (bars, seconds) of the longest run after `n >= 1` bars (an open run ends at the last).
    pub(crate) fn finish(
        mut self,
        n: usize,
        close_ns: impl Fn(usize) -> i64,
        start_ns: i64,
    ) -> (usize, f64) {
        if let Some(start) = self.run_start.take() {
            self.close_run(start, n - 1, close_ns, start_ns);
        }
        (self.longest_bars, self.longest_seconds)
    }
}

/// `r = e / previous - 1`, one bar's return as `_risk_ratios` computes it.
#[inline(always)]
pub(crate) fn bar_return(previous: f64, e: f64) -> f64 {
    e / previous - 1.0
}

/// `np.minimum(r, 0) ** 2`: numpy's minimum propagates NaN.
#[inline(always)]
pub(crate) fn downside_square(r: f64) -> f64 {
    let m = if r.is_nan() || r < 0.0 { r } else { 0.0 };
    m * m
}

/// `(r - mean) ** 2`.
#[inline(always)]
pub(crate) fn squared_deviation(r: f64, mean: f64) -> f64 {
    (r - mean) * (r - mean)
}

/// The mean return of `n` returns summing (correctly rounded) to `sum`.
pub(crate) fn mean_return(sum: f64, n: usize) -> f64 {
    sum / n as f64
}

/// Sharpe and Sortino from the correctly rounded sums of the `n` returns, of their squared
/// deviations from [`mean_return`] and of the downside squares.
pub(crate) fn ratios_from_sums(
    n: usize,
    sum: f64,
    squares: f64,
    downsides: f64,
    periods_per_year: f64,
) -> (f64, f64) {
    let mean = mean_return(sum, n);
    let n = n as f64;
    let std = (squares / (n - 1.0)).sqrt();
    let downside = (downsides / n).sqrt();
    let scale = periods_per_year.sqrt();
    (ratio(mean, std) * scale, ratio(mean, downside) * scale)
}

/// Whether `_risk_ratios` gives NaN for both without summing anything.
pub(crate) fn ratios_undefined(n: usize, periods_per_year: f64) -> bool {
    n < 2 || !periods_per_year.is_finite()
}

/// `_risk_ratios`: (sharpe, sortino). The returns `e[i] / e[i-1] - 1` are recomputed for each
/// sum rather than stored (the same operation gives the same double).
fn risk_ratios(
    equity: &[f64],
    initial: f64,
    periods_per_year: f64,
) -> Result<(f64, f64), MetricsError> {
    if ratios_undefined(equity.len(), periods_per_year) {
        return Ok((f64::NAN, f64::NAN));
    }
    let returns = || {
        std::iter::once(initial)
            .chain(equity[..equity.len() - 1].iter().copied())
            .zip(equity.iter().copied())
            .map(|(previous, e)| bar_return(previous, e))
    };
    let sum = fsum(returns())?;
    let mean = mean_return(sum, equity.len());
    let squares = fsum(returns().map(|r| squared_deviation(r, mean)))?;
    let downsides = fsum(returns().map(downside_square))?;
    Ok(ratios_from_sums(
        equity.len(),
        sum,
        squares,
        downsides,
        periods_per_year,
    ))
}

pub(crate) struct TradeStats {
    n_trades: usize,
    n_long: usize,
    n_short: usize,
    n_wins: usize,
    n_losses: usize,
    win_rate: f64,
    gross_profit: f64,
    gross_loss: f64,
    profit_factor: f64,
    expectancy: f64,
    avg_win: f64,
    avg_loss: f64,
    largest_win: f64,
    largest_loss: f64,
    total_fees: f64,
    total_swap: f64,
    avg_bars_held: f64,
    exposure: f64,
    exit_reasons: BTreeMap<String, usize>,
}

/// `_trade_stats`.
fn trade_stats(t: &TradeColumns<'_>, bars_processed: usize) -> Result<TradeStats, MetricsError> {
    let n = t.pnl.len();
    let wins: Vec<f64> = t.pnl.iter().copied().filter(|&p| p > 0.0).collect();
    let losses: Vec<f64> = t.pnl.iter().copied().filter(|&p| p < 0.0).collect();
    let gross_profit = fsum(wins.iter().copied())?;
    let gross_loss = -fsum(losses.iter().copied())?; // -0.0 without losses, as in Python
    let closing_bars: Vec<i64> = t
        .bars_held
        .iter()
        .zip(t.exit_reason)
        .filter(|(_, reason)| **reason != "partial")
        .map(|(&bars, _)| bars)
        .collect();
    // numpy's int64 sum wraps; it cannot in practice (bars are counted in an i64 too).
    let bars_in_market = closing_bars.iter().fold(0_i64, |s, &b| s.wrapping_add(b));
    let profit_factor = profit_factor(gross_profit, gross_loss);
    let mut exit_reasons = BTreeMap::new();
    for reason in t.exit_reason {
        *exit_reasons.entry((*reason).to_owned()).or_insert(0) += 1;
    }
    let count_ratio = |a: usize, b: usize| {
        if b == 0 {
            f64::NAN
        } else {
            int_true_div(a as i128, b as i64)
        }
    };
    Ok(TradeStats {
        n_trades: n,
        n_long: t.side.iter().filter(|&&s| s > 0).count(),
        n_short: t.side.iter().filter(|&&s| s < 0).count(),
        n_wins: wins.len(),
        n_losses: losses.len(),
        win_rate: count_ratio(wins.len(), n),
        gross_profit,
        gross_loss,
        profit_factor,
        expectancy: mean(t.pnl)?,
        avg_win: mean(&wins)?,
        avg_loss: mean(&losses)?,
        largest_win: wins.iter().copied().reduce(f64::max).unwrap_or(f64::NAN),
        largest_loss: losses.iter().copied().reduce(f64::min).unwrap_or(f64::NAN),
        total_fees: fsum(t.fees.iter().copied())?,
        total_swap: fsum(t.swap.iter().copied())?,
        // numpy's mean of int64: a float64 sum (exact below 2^53 bars) / the count.
        avg_bars_held: if closing_bars.is_empty() {
            f64::NAN
        } else {
            let total: i128 = closing_bars.iter().map(|&b| i128::from(b)).sum();
            total as f64 / closing_bars.len() as f64
        },
        exposure: if bars_processed == 0 {
            f64::NAN
        } else {
            int_true_div(i128::from(bars_in_market), bars_processed as i64)
        },
        exit_reasons,
    })
}

/// `_trade_stats` taken trade by trade (a sweep keeps no trade log): counts, extremes and
/// exact sums, rounded once at the end, so the same doubles as over the columns. A value an
/// exact sum declines (non-finite, near overflow) marks the tally [`TradeTally::exotic`]:
/// its caller recomputes the run from the columns, where `fsum`'s special cases live.
#[derive(Debug, Clone, Default)]
pub struct TradeTally {
    n: usize,
    n_long: usize,
    n_short: usize,
    n_wins: usize,
    n_losses: usize,
    wins: ExactSum,
    losses: ExactSum,
    pnl: ExactSum,
    fees: ExactSum,
    swap: ExactSum,
    largest_win: Option<f64>,
    largest_loss: Option<f64>,
    /// Bars held by the rows that closed a position (not partials): wrapping as numpy's
    /// int64 sum, and exactly for the mean.
    bars_in_market: i64,
    closing_bars: i128,
    closing_rows: usize,
    reasons: [usize; ExitReason::ALL.len()],
    exotic: bool,
}

impl TradeTally {
    /// One trade row.
    pub fn add(
        &mut self,
        pnl: f64,
        side: i8,
        fees: f64,
        swap: f64,
        bars_held: i64,
        reason: ExitReason,
    ) {
        self.n += 1;
        self.n_long += usize::from(side > 0);
        self.n_short += usize::from(side < 0);
        if pnl > 0.0 {
            self.n_wins += 1;
            self.exotic |= !self.wins.add(pnl);
            self.largest_win = Some(self.largest_win.map_or(pnl, |w| w.max(pnl)));
        } else if pnl < 0.0 {
            self.n_losses += 1;
            self.exotic |= !self.losses.add(pnl);
            self.largest_loss = Some(self.largest_loss.map_or(pnl, |l| l.min(pnl)));
        }
        self.exotic |= !self.pnl.add(pnl);
        self.exotic |= !self.fees.add(fees);
        self.exotic |= !self.swap.add(swap);
        if reason != ExitReason::Partial {
            self.bars_in_market = self.bars_in_market.wrapping_add(bars_held);
            self.closing_bars += i128::from(bars_held);
            self.closing_rows += 1;
        }
        self.reasons[reason as usize] += 1;
    }

    /// Whether a value was declined: the statistics must come from the columns instead.
    pub fn exotic(&self) -> bool {
        self.exotic
    }

    pub(crate) fn stats(&self, bars_processed: usize) -> TradeStats {
        let n = self.n;
        let gross_profit = self.wins.value();
        let gross_loss = -self.losses.value();
        let profit_factor = profit_factor(gross_profit, gross_loss);
        let count_ratio = |a: usize, b: usize| {
            if b == 0 {
                f64::NAN
            } else {
                int_true_div(a as i128, b as i64)
            }
        };
        let mean_of = |sum: &ExactSum, count: usize| {
            if count == 0 {
                f64::NAN
            } else {
                sum.value() / count as f64
            }
        };
        let exit_reasons = ExitReason::ALL
            .iter()
            .zip(self.reasons)
            .filter(|(_, count)| *count > 0)
            .map(|(reason, count)| (reason.as_str().to_owned(), count))
            .collect();
        TradeStats {
            n_trades: n,
            n_long: self.n_long,
            n_short: self.n_short,
            n_wins: self.n_wins,
            n_losses: self.n_losses,
            win_rate: count_ratio(self.n_wins, n),
            gross_profit,
            gross_loss,
            profit_factor,
            expectancy: mean_of(&self.pnl, n),
            avg_win: mean_of(&self.wins, self.n_wins),
            avg_loss: mean_of(&self.losses, self.n_losses),
            largest_win: self.largest_win.unwrap_or(f64::NAN),
            largest_loss: self.largest_loss.unwrap_or(f64::NAN),
            total_fees: self.fees.value(),
            total_swap: self.swap.value(),
            avg_bars_held: if self.closing_rows == 0 {
                f64::NAN
            } else {
                self.closing_bars as f64 / self.closing_rows as f64
            },
            exposure: if bars_processed == 0 {
                f64::NAN
            } else {
                int_true_div(i128::from(self.bars_in_market), bars_processed as i64)
            },
            exit_reasons,
        }
    }
}

/// `_cagr`: libm `pow`, as CPython's float `**` (whose overflow Python maps to `inf`).
fn cagr(growth: f64, years: f64) -> f64 {
    if years <= 0.0 || growth <= 0.0 {
        return f64::NAN;
    }
    growth.powf(1.0 / years) - 1.0
}

fn check_lengths(input: &MetricsInput<'_>) -> Result<(), MetricsError> {
    let t = &input.trades;
    let columns: [(&'static str, usize); 4] = [
        ("side", t.side.len()),
        ("fees", t.fees.len()),
        ("bars_held", t.bars_held.len()),
        ("exit_reason", t.exit_reason.len()),
    ];
    let swap = (!t.swap.is_empty()).then_some(("swap", t.swap.len()));
    for (column, len) in columns.into_iter().chain(swap) {
        if len != t.pnl.len() {
            return Err(MetricsError::ColumnLength {
                column,
                len,
                reference: "pnl",
                expected: t.pnl.len(),
            });
        }
    }
    if input.equity.len() != input.equity_time.len() {
        return Err(MetricsError::ColumnLength {
            column: "equity",
            len: input.equity.len(),
            reference: "equity_time",
            expected: input.equity_time.len(),
        });
    }
    Ok(())
}

/// All metrics of one run, identical to Python's `compute_metrics`.
pub fn compute_metrics(input: &MetricsInput<'_>) -> Result<Metrics, MetricsError> {
    check_lengths(input)?;
    let initial = input.initial_balance;
    let equity = input.equity;
    let close_ns = |i: usize| close_time(input.equity_time, input.timeframe_ns, i);
    let start_ns = input.equity_time.first().copied().unwrap_or(0);
    let dd = drawdown(equity, initial, close_ns, start_ns);
    assemble(
        &RunSummary {
            equity_time: input.equity_time,
            timeframe_ns: input.timeframe_ns,
            initial_balance: initial,
            final_balance: input.final_balance,
            equity_len: equity.len(),
            bars_processed: input.bars_processed,
            base_bars: input.base_bars,
            ignored_signals: input.ignored_signals,
            dropped_orders: input.dropped_orders,
            skipped_orders: input.skipped_orders,
        },
        dd,
        |periods_per_year| risk_ratios(equity, initial, periods_per_year),
        || trade_stats(&input.trades, input.bars_processed),
    )
}

/// Close time of bar `i` (numpy int64 addition wraps; mirrored, though real times never
/// come near).
#[inline]
pub(crate) fn close_time(equity_time: &[i64], timeframe_ns: i64, i: usize) -> i64 {
    equity_time[i].wrapping_add(timeframe_ns)
}

/// What the metrics read of a run besides its equity curve and trades.
pub(crate) struct RunSummary<'a> {
    pub(crate) equity_time: &'a [i64],
    pub(crate) timeframe_ns: i64,
    pub(crate) initial_balance: f64,
    pub(crate) final_balance: f64,
    /// Equity values (one per primary bar).
    pub(crate) equity_len: usize,
    pub(crate) bars_processed: usize,
    pub(crate) base_bars: usize,
    pub(crate) ignored_signals: usize,
    pub(crate) dropped_orders: usize,
    pub(crate) skipped_orders: usize,
}

/// The metrics from their parts, in `compute_metrics`' order (so errors come in its order):
/// a run's drawdown, its (sharpe, sortino) given `periods_per_year`, its trade statistics.
pub(crate) fn assemble(
    run: &RunSummary<'_>,
    dd: Drawdown,
    risk: impl FnOnce(f64) -> Result<(f64, f64), MetricsError>,
    trades: impl FnOnce() -> Result<TradeStats, MetricsError>,
) -> Result<Metrics, MetricsError> {
    let initial = run.initial_balance;
    let close_ns = |i: usize| close_time(run.equity_time, run.timeframe_ns, i);
    let final_balance = run.final_balance;
    let net_profit = final_balance - initial;
    let start_ns = run.equity_time.first().copied().unwrap_or(0);
    let span_seconds = match run.equity_time.len() {
        0 => 0.0,
        n => int_true_div(
            i128::from(close_ns(n - 1)) - i128::from(start_ns),
            NS_PER_SECOND,
        ),
    };
    let years = span_seconds / SECONDS_PER_YEAR;
    let periods_per_year = ratio(run.equity_len as f64, years);
    let cagr = if initial > 0.0 {
        cagr(final_balance / initial, years)
    } else {
        f64::NAN
    };
    if initial == 0.0 {
        return Err(MetricsError::ZeroInitialBalance);
    }
    let return_pct = net_profit / initial * 100.0;
    let (sharpe, sortino) = risk(periods_per_year)?;
    let t = trades()?;
    Ok(Metrics {
        initial_balance: initial,
        final_balance,
        net_profit,
        return_pct,
        cagr,
        span_days: span_seconds / 86_400.0,
        periods_per_year,
        max_drawdown: dd.max,
        max_drawdown_pct: dd.max_pct,
        max_drawdown_duration_bars: dd.duration_bars,
        max_drawdown_duration_seconds: dd.duration_seconds,
        sharpe,
        sortino,
        n_trades: t.n_trades,
        n_long: t.n_long,
        n_short: t.n_short,
        n_wins: t.n_wins,
        n_losses: t.n_losses,
        win_rate: t.win_rate,
        gross_profit: t.gross_profit,
        gross_loss: t.gross_loss,
        profit_factor: t.profit_factor,
        expectancy: t.expectancy,
        avg_win: t.avg_win,
        avg_loss: t.avg_loss,
        largest_win: t.largest_win,
        largest_loss: t.largest_loss,
        total_fees: t.total_fees,
        total_swap: t.total_swap,
        avg_bars_held: t.avg_bars_held,
        exposure: t.exposure,
        exit_reasons: t.exit_reasons,
        bars_processed: run.bars_processed,
        base_bars: run.base_bars,
        ignored_signals: run.ignored_signals,
        dropped_orders: run.dropped_orders,
        skipped_orders: run.skipped_orders,
    })
}

impl Metrics {
    /// The metrics of a Rust engine run, for ranking runs without Python.
    pub fn from_run(
        run: &RunOutput,
        initial_balance: f64,
        timeframe_ns: i64,
    ) -> Result<Metrics, MetricsError> {
        Self::from_output(run, &run.equity_time, initial_balance, timeframe_ns)
    }

    /// [`Metrics::from_run`] with the primary bars' open times given apart (a run whose
    /// caller holds them leaves `equity_time` empty).
    pub fn from_output(
        run: &RunOutput,
        equity_time: &[i64],
        initial_balance: f64,
        timeframe_ns: i64,
    ) -> Result<Metrics, MetricsError> {
        let reasons: Vec<&str> = run.trades.exit_reason.iter().map(|r| r.as_str()).collect();
        compute_metrics(&MetricsInput {
            trades: TradeColumns {
                pnl: &run.trades.pnl,
                side: &run.trades.side,
                fees: &run.trades.fees,
                swap: &run.trades.swap,
                bars_held: &run.trades.bars_held,
                exit_reason: &reasons,
            },
            equity_time,
            equity: &run.equity,
            final_balance: run.final_balance,
            bars_processed: run.bars_processed,
            base_bars: run.base_bars,
            ignored_signals: run.ignored_signals,
            dropped_orders: run.dropped_orders,
            skipped_orders: run.skipped_orders.len(),
            initial_balance,
            timeframe_ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_NS: i64 = 86_400 * 1_000_000_000;
    const TWO_53: f64 = 9_007_199_254_740_992.0;

    fn sum(values: &[f64]) -> Result<f64, MetricsError> {
        fsum(values.iter().copied())
    }

    #[test]
    fn fsum_is_exact_where_naive_summation_is_not() {
        assert_eq!(sum(&[1e16, 1.0, -1e16]), Ok(1.0));
        // 2^53 + 1 + 1 = 2^53 + 2 exactly; left to right, each +1 rounds back to 2^53.
        assert_eq!(sum(&[TWO_53, 1.0, 1.0]), Ok(TWO_53 + 2.0));
        // Ten times the double nearest 0.1 is 1 + 5.55e-17: rounds to 1.0 (naively 0.9999...).
        assert_eq!(sum(&[0.1; 10]), Ok(1.0));
        // 1e16 + 1 is a tie between 1e16 and 1e16 + 2; the 1e-16 breaks it upwards.
        assert_eq!(sum(&[1e-16, 1.0, 1e16]), Ok(1e16 + 2.0));
        assert_eq!(sum(&[1e16, 1.0, 1e-16]), Ok(1e16 + 2.0));
    }

    #[test]
    fn fsum_of_nothing_and_of_negative_zero_is_positive_zero() {
        for values in [&[][..], &[-0.0], &[-0.0, -0.0]] {
            let total = sum(values).unwrap();
            assert!(total == 0.0 && total.is_sign_positive(), "{values:?}");
        }
    }

    #[test]
    fn fsum_special_values_follow_cpython() {
        assert_eq!(sum(&[f64::INFINITY, 1.0, f64::INFINITY]), Ok(f64::INFINITY));
        assert_eq!(sum(&[-1.0, f64::NEG_INFINITY]), Ok(f64::NEG_INFINITY));
        assert!(sum(&[1.0, f64::NAN, 2.0]).unwrap().is_nan());
        assert!(sum(&[f64::INFINITY, f64::NAN]).unwrap().is_nan());
        assert_eq!(
            sum(&[f64::INFINITY, f64::NEG_INFINITY]),
            Err(MetricsError::FsumInfMinusInf)
        );
        assert_eq!(sum(&[1e308, 1e308]), Err(MetricsError::FsumOverflow));
        // Not an overflow once the partials cancel again.
        assert_eq!(sum(&[1e308, -1e308, 1e308]), Ok(1e308));
    }

    #[test]
    fn integer_division_rounds_once_like_python() {
        let m = (1_i128 << 53) + 1; // odd, between 2^53 and 2^54: not a double
                                    // 3m / 3 = m, a tie between 2^53 and 2^53 + 2: to even, 2^53.
        assert_eq!(int_true_div(3 * m, 3), TWO_53);
        assert_eq!(int_true_div(-3 * m, 3), -TWO_53);
        assert_eq!(int_true_div(3 * m, -3), -TWO_53);
        // Converting first rounds 3m = 3 * 2^53 + 3 up to 3 * 2^53 + 4, and then / 3 goes up.
        assert_eq!((3 * m) as f64 / 3.0, TWO_53 + 2.0);
        // (2^54 + 3) / 2 = 2^53 + 1.5: nearer to 2^53 + 2.
        assert_eq!(int_true_div((1 << 54) + 3, 2), TWO_53 + 2.0);
        // A 365-day span in ns (3.2e16 > 2^53) is exactly 31,536,000 s.
        assert_eq!(
            int_true_div(365 * i128::from(DAY_NS), 1_000_000_000),
            31_536_000.0
        );
        // Small operands: plain division; a huge divisor: exact powers of two.
        assert_eq!(int_true_div(1, 3), 1.0 / 3.0);
        assert_eq!(int_true_div(1, 1 << 60), 1.0 / (1_u64 << 60) as f64);
        assert_eq!(int_true_div(3, 1 << 62), 0.75 / (1_u64 << 60) as f64);
        assert_eq!(int_true_div(0, 7), 0.0);
    }

    fn input<'a>(
        equity_time: &'a [i64],
        equity: &'a [f64],
        trades: TradeColumns<'a>,
    ) -> MetricsInput<'a> {
        MetricsInput {
            trades,
            equity_time,
            equity,
            final_balance: equity.last().copied().unwrap_or(1000.0),
            bars_processed: equity.len(),
            base_bars: equity.len() * 1440,
            ignored_signals: 4,
            dropped_orders: 1,
            skipped_orders: 2,
            initial_balance: 1000.0,
            timeframe_ns: DAY_NS,
        }
    }

    const NO_TRADES: TradeColumns<'static> = TradeColumns {
        pnl: &[],
        side: &[],
        fees: &[],
        swap: &[],
        bars_held: &[],
        exit_reason: &[],
    };

    fn days(n: i64) -> Vec<i64> {
        (0..n).map(|i| i * DAY_NS).collect()
    }

    #[test]
    fn drawdown_and_returns_by_hand() {
        let equity = [1010.0, 990.0, 1000.0, 1030.0, 1020.0];
        let m = compute_metrics(&input(&days(5), &equity, NO_TRADES)).unwrap();
        assert_eq!(m.net_profit, 20.0);
        assert_eq!(m.return_pct, 2.0);
        // Peak 1010 at bar 0, deepest 990: 20 below it; the run below is bars 1..2, from
        // bar 0's close (day 1) to bar 2's close (day 3).
        assert_eq!(m.max_drawdown, 20.0);
        assert_eq!(m.max_drawdown_pct, 20.0 / 1010.0 * 100.0);
        assert_eq!(m.max_drawdown_duration_bars, 2);
        assert_eq!(m.max_drawdown_duration_seconds, 2.0 * 86_400.0);
        assert_eq!(m.span_days, 5.0);
        assert_eq!(
            m.periods_per_year,
            5.0 / (5.0 * 86_400.0 / SECONDS_PER_YEAR)
        );
        assert!(m.sharpe > 0.0 && m.sortino > m.sharpe);
        assert_eq!(
            (
                m.bars_processed,
                m.base_bars,
                m.ignored_signals,
                m.dropped_orders
            ),
            (5, 7200, 4, 1)
        );
        assert_eq!(m.skipped_orders, 2);
    }

    #[test]
    fn a_drawdown_from_the_first_bar_is_dated_from_the_first_open() {
        let m = compute_metrics(&input(&days(3), &[990.0, 980.0, 1005.0], NO_TRADES)).unwrap();
        assert_eq!(m.max_drawdown, 20.0);
        assert_eq!(m.max_drawdown_duration_bars, 2);
        assert_eq!(m.max_drawdown_duration_seconds, 2.0 * 86_400.0);
    }

    #[test]
    fn trade_statistics_by_hand() {
        let trades = TradeColumns {
            pnl: &[30.0, -10.0, 5.0],
            side: &[1, 1, -1],
            fees: &[0.0, 1.0, 1.0],
            swap: &[],
            bars_held: &[2, 3, 1],
            exit_reason: &["partial", "stop_loss", "take_profit"],
        };
        let equity = [1000.0, 1010.0, 1020.0, 1015.0, 1025.0];
        let m = compute_metrics(&input(&days(5), &equity, trades)).unwrap();
        assert_eq!((m.n_trades, m.n_long, m.n_short), (3, 2, 1));
        assert_eq!((m.n_wins, m.n_losses), (2, 1));
        assert_eq!(m.win_rate, 2.0 / 3.0);
        assert_eq!(
            (m.gross_profit, m.gross_loss, m.profit_factor),
            (35.0, 10.0, 3.5)
        );
        assert_eq!(m.expectancy, 25.0 / 3.0);
        assert_eq!((m.avg_win, m.avg_loss), (17.5, -10.0));
        assert_eq!((m.largest_win, m.largest_loss), (30.0, -10.0));
        assert_eq!(m.total_fees, 2.0);
        // The partial row is not a separate stretch in the market: (3 + 1) / 5 bars.
        assert_eq!((m.exposure, m.avg_bars_held), (0.8, 2.0));
        let reasons: Vec<(&str, usize)> = m
            .exit_reasons
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            reasons,
            [("partial", 1), ("stop_loss", 1), ("take_profit", 1)]
        );
    }

    #[test]
    fn no_trades_give_nan_ratios_and_a_negative_zero_gross_loss() {
        let m = compute_metrics(&input(&days(3), &[1000.0; 3], NO_TRADES)).unwrap();
        assert_eq!((m.n_trades, m.exposure), (0, 0.0));
        for v in [
            m.win_rate,
            m.profit_factor,
            m.expectancy,
            m.sharpe,
            m.sortino,
        ] {
            assert!(v.is_nan());
        }
        // Python: -math.fsum([]) is -0.0.
        assert!(m.gross_loss == 0.0 && m.gross_loss.is_sign_negative());
        assert!(m.avg_bars_held.is_nan() && m.largest_win.is_nan());
        assert_eq!((m.max_drawdown, m.max_drawdown_duration_bars), (0.0, 0));
        assert!(m.exit_reasons.is_empty());
    }

    #[test]
    fn only_winners_give_an_infinite_profit_factor() {
        let trades = TradeColumns {
            pnl: &[5.0],
            side: &[1],
            fees: &[0.0],
            swap: &[],
            bars_held: &[1],
            exit_reason: &["take_profit"],
        };
        let m = compute_metrics(&input(&days(2), &[1000.0, 1005.0], trades)).unwrap();
        assert_eq!(m.profit_factor, f64::INFINITY);
    }

    #[test]
    fn huge_growth_over_a_tiny_span_gives_infinite_cagr() {
        let minute = 60_000_000_000;
        let times = [0, minute];
        let mut run = input(&times, &[1000.0, 2000.0], NO_TRADES);
        run.timeframe_ns = minute;
        assert_eq!(compute_metrics(&run).unwrap().cagr, f64::INFINITY);
    }

    #[test]
    fn empty_equity_and_bad_inputs() {
        let m = compute_metrics(&MetricsInput {
            final_balance: 1000.0,
            bars_processed: 0,
            ..input(&[], &[], NO_TRADES)
        });
        let m = m.unwrap();
        assert_eq!(
            (m.span_days, m.max_drawdown, m.max_drawdown_pct),
            (0.0, 0.0, 0.0)
        );
        assert!(m.periods_per_year.is_nan() && m.cagr.is_nan() && m.exposure.is_nan());

        let times = days(2);
        let mut zero = input(&times, &[1000.0, 1005.0], NO_TRADES);
        zero.initial_balance = 0.0;
        assert_eq!(
            compute_metrics(&zero),
            Err(MetricsError::ZeroInitialBalance)
        );

        let short = TradeColumns {
            fees: &[],
            swap: &[],
            ..TradeColumns {
                pnl: &[5.0],
                side: &[1],
                fees: &[0.0],
                swap: &[],
                bars_held: &[1],
                exit_reason: &["strategy"],
            }
        };
        let err = compute_metrics(&input(&days(2), &[1000.0, 1005.0], short)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "metrics input: column fees has 0 rows, pnl has 1"
        );
    }

    #[test]
    fn from_run_reads_the_run_output_columns() {
        use crate::output::{ExitReason, SkippedOrder, TradeLog, TradeRow};
        let mut trades = TradeLog::default();
        for (pnl, reason) in [(12.0, ExitReason::Partial), (-4.0, ExitReason::StopLoss)] {
            trades.push(TradeRow {
                entry_time: 0,
                exit_time: DAY_NS,
                entry_index: 0,
                exit_index: 1,
                side: -1,
                size: 1.0,
                entry_price: 1.1,
                exit_price: 1.2,
                sl: f64::NAN,
                tp: f64::NAN,
                exit_reason: reason,
                gross_pnl: pnl + 0.5,
                fees: 0.5,
                swap: 0.0,
                pnl,
                bars_held: 3,
                mfe: 0.0,
                tag: String::new(),
            });
        }
        let skipped = SkippedOrder {
            time: 0,
            reason: "below_min_lot",
            detail: String::new(),
        };
        let run = RunOutput {
            trades,
            equity_time: days(4),
            equity: vec![1000.0, 1012.0, 1008.0, 1008.0],
            final_balance: 1008.0,
            bars_processed: 4,
            base_bars: 5760,
            ignored_signals: 1,
            dropped_orders: 0,
            skipped_orders: vec![skipped],
            trace: None,
        };
        let m = Metrics::from_run(&run, 1000.0, DAY_NS).unwrap();
        assert_eq!((m.n_trades, m.n_short, m.n_wins, m.n_losses), (2, 2, 1, 1));
        assert_eq!(
            (m.gross_profit, m.gross_loss, m.total_fees),
            (12.0, 4.0, 1.0)
        );
        // Only the stop-loss row closes the position: 3 of 4 bars in the market.
        assert_eq!((m.exposure, m.avg_bars_held), (0.75, 3.0));
        assert_eq!(m.exit_reasons.get("partial"), Some(&1));
        assert_eq!(
            (m.skipped_orders, m.base_bars, m.net_profit),
            (1, 5760, 8.0)
        );
        assert_eq!(m.max_drawdown, 4.0);
    }
}

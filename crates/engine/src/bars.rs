//! Owned column storage and input checks for bar series.

use crate::error::{DataErrorKind, EngineError};
use omega_indicators::buffers;
use omega_strategy_api::{BarColumns, Ohlc};

/// Bars of one timeframe owned by the engine (resampled series).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnedBars {
    pub time: Vec<i64>,
    pub bid_open: Vec<f64>,
    pub bid_high: Vec<f64>,
    pub bid_low: Vec<f64>,
    pub bid_close: Vec<f64>,
    pub ask_open: Vec<f64>,
    pub ask_high: Vec<f64>,
    pub ask_low: Vec<f64>,
    pub ask_close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl OwnedBars {
    /// Appends one bar (open time, bid and ask OHLC, volume).
    #[inline]
    pub fn push(&mut self, time: i64, bid: Ohlc, ask: Ohlc, volume: f64) {
        self.time.push(time);
        self.bid_open.push(bid.open);
        self.bid_high.push(bid.high);
        self.bid_low.push(bid.low);
        self.bid_close.push(bid.close);
        self.ask_open.push(ask.open);
        self.ask_high.push(ask.high);
        self.ask_low.push(ask.low);
        self.ask_close.push(ask.close);
        self.volume.push(volume);
    }

    /// `n` deterministic M1 bars for tests and benches: a random walk driven by SplitMix64
    /// (four steps of up to +/-2 pips per bar, spread 1 pip, volume 1), one minute apart from
    /// the epoch. Not market-like; the Python generator (`omega.data.generate_synthetic`) is.
    pub fn random_walk(n: usize, seed: u64) -> Self {
        let mut rng = crate::SplitMix64::new(seed);
        let mut b = OwnedBars::with_capacity(n);
        let mut price = 1.1;
        for i in 0..n {
            let open = price;
            let (mut high, mut low) = (open, open);
            for _ in 0..4 {
                price += (rng.next_f64() - 0.5) * 0.0004;
                high = high.max(price);
                low = low.min(price);
            }
            let bid = Ohlc {
                open,
                high,
                low,
                close: price,
            };
            let spread = 0.0001;
            let ask = Ohlc {
                open: open + spread,
                high: high + spread,
                low: low + spread,
                close: price + spread,
            };
            b.push(i as i64 * 60_000_000_000, bid, ask, 1.0);
        }
        b
    }

    /// Empty columns with room for `n` bars (kept buffers reused, see
    /// `omega_indicators::buffers`).
    pub fn with_capacity(n: usize) -> Self {
        Self::from_columns(buffers::take(n), || buffers::take(n))
    }

    /// `n` bars of unspecified (initialised) values for the caller to overwrite in place:
    /// kept buffers as the last run left them, new ones zeroed.
    pub fn for_overwrite(n: usize) -> Self {
        Self::from_columns(buffers::overwritable(n, 0), || {
            buffers::overwritable(n, 0.0)
        })
    }

    fn from_columns(time: Vec<i64>, column: impl Fn() -> Vec<f64>) -> Self {
        OwnedBars {
            time,
            bid_open: column(),
            bid_high: column(),
            bid_low: column(),
            bid_close: column(),
            ask_open: column(),
            ask_high: column(),
            ask_low: column(),
            ask_close: column(),
            volume: column(),
        }
    }

    /// Hands the columns' memory to the next run instead of freeing it.
    pub fn recycle(self) {
        buffers::give(self.time);
        for column in [
            self.bid_open,
            self.bid_high,
            self.bid_low,
            self.bid_close,
            self.ask_open,
            self.ask_high,
            self.ask_low,
            self.ask_close,
            self.volume,
        ] {
            buffers::give(column);
        }
    }

    pub fn columns(&self) -> BarColumns<'_> {
        BarColumns {
            time: &self.time,
            bid_open: &self.bid_open,
            bid_high: &self.bid_high,
            bid_low: &self.bid_low,
            bid_close: &self.bid_close,
            ask_open: &self.ask_open,
            ask_high: &self.ask_high,
            ask_low: &self.ask_low,
            ask_close: &self.ask_close,
            volume: &self.volume,
        }
    }
}

/// Whether every column has the length of `time` and there is at least one bar (the part of
/// [`check_input`] resampling needs before it can read the columns).
pub fn has_shape(bars: &BarColumns<'_>) -> bool {
    let n = bars.time.len();
    n > 0
        && [
            bars.bid_open,
            bars.bid_high,
            bars.bid_low,
            bars.bid_close,
            bars.ask_open,
            bars.ask_high,
            bars.ask_low,
            bars.ask_close,
            bars.volume,
        ]
        .iter()
        .all(|c| c.len() == n)
}

/// Checks what the engine relies on: equal lengths, at least one bar, strictly increasing
/// times, finite prices. Rows are 0-based bar indices.
/// Rows per block of the input checks: a block is tested without a branch per row (the
/// compiler vectorises that), and only a failing block is searched for its first bad row.
const CHECK_BLOCK: usize = 2048;

/// The first row whose value is NaN or infinite.
fn first_non_finite(column: &[f64]) -> Option<usize> {
    column
        .chunks(CHECK_BLOCK)
        .enumerate()
        .find(|(_, block)| !block.iter().fold(true, |ok, v| ok & v.is_finite()))
        .and_then(|(b, block)| Some(b * CHECK_BLOCK + block.iter().position(|v| !v.is_finite())?))
}

/// The first `k` with `time[k + 1] <= time[k]`.
fn first_not_increasing(time: &[i64]) -> Option<usize> {
    let pairs = time.len().saturating_sub(1);
    (0..pairs).step_by(CHECK_BLOCK).find_map(|start| {
        let end = (start + CHECK_BLOCK).min(pairs);
        let (earlier, later) = (&time[start..end], &time[start + 1..end + 1]);
        let ok = earlier
            .iter()
            .zip(later)
            .fold(true, |ok, (a, b)| ok & (b > a));
        if ok {
            return None;
        }
        (start..end).find(|&k| time[k + 1] <= time[k])
    })
}

pub fn check_input(bars: &BarColumns<'_>) -> Result<(), EngineError> {
    let n = bars.time.len();
    let price_columns: [(&'static str, &[f64]); 9] = [
        ("bid_open", bars.bid_open),
        ("bid_high", bars.bid_high),
        ("bid_low", bars.bid_low),
        ("bid_close", bars.bid_close),
        ("ask_open", bars.ask_open),
        ("ask_high", bars.ask_high),
        ("ask_low", bars.ask_low),
        ("ask_close", bars.ask_close),
        ("volume", bars.volume),
    ];
    for (name, column) in price_columns {
        if column.len() != n {
            return Err(EngineError::Data {
                kind: DataErrorKind::ColumnLength,
                message: format!("column {name} has {} rows, time has {n}", column.len()),
                row: None,
                column: Some(name),
            });
        }
        if let Some(row) = first_non_finite(column) {
            return Err(EngineError::Data {
                kind: DataErrorKind::NonFinite,
                message: format!("{name} is {} at bar {row}", column[row]),
                row: Some(row),
                column: Some(name),
            });
        }
    }
    if n == 0 {
        return Err(EngineError::Data {
            kind: DataErrorKind::Empty,
            message: "no bars to backtest".into(),
            row: None,
            column: None,
        });
    }
    if let Some(k) = first_not_increasing(bars.time) {
        return Err(EngineError::Data {
            kind: DataErrorKind::NonMonotonicTimestamp,
            message: format!(
                "bar times must increase strictly: bar {} at {} follows {}",
                k + 1,
                bars.time[k + 1],
                bars.time[k]
            ),
            row: Some(k + 1),
            column: Some("time"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Block sizes around CHECK_BLOCK and bad rows anywhere: the block tests find the row
        // the plain row-by-row search finds.
        #[test]
        fn block_checks_find_the_first_bad_row(
            len in 0usize..3 * CHECK_BLOCK + 3,
            bad in proptest::collection::vec((0usize..3 * CHECK_BLOCK + 3, 0u8..3), 0..4),
        ) {
            let mut column: Vec<f64> = (0..len).map(|k| k as f64 * 0.5).collect();
            let mut time: Vec<i64> = (0..len as i64).map(|k| k * 60).collect();
            for &(row, kind) in &bad {
                if row < len {
                    column[row] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][kind as usize];
                    time[row] = if kind == 0 { 0 } else { time[row] - 60 };
                }
            }
            prop_assert_eq!(first_non_finite(&column), column.iter().position(|v| !v.is_finite()));
            prop_assert_eq!(
                first_not_increasing(&time),
                time.windows(2).position(|w| w[1] <= w[0])
            );
        }
    }
}

//! One pass over loaded bar columns: the hard data rules (first fault) and the soft anomaly
//! counts of the quality report.
//!
//! It mirrors `omega.data.validation` and `omega.data.quality` (the numpy reference) exactly:
//! the same rule order (finite, > 0, OHLC on the bid side then the ask side, time strictly
//! increasing), the same first row and column within a rule, the same integer arithmetic
//! (floor division and modulo as numpy's, wrapping on overflow as int64 arrays do) and the
//! same float operations for the close spread and its percentiles. Messages are written in
//! Python from the fault's rule, row and column, so both paths say the same words.

/// Price columns in the order the rules look at them (as `omega.data.bars.PRICE_COLUMNS`).
pub const PRICE_COLUMNS: [&str; 8] = [
    "bid_open",
    "bid_high",
    "bid_low",
    "bid_close",
    "ask_open",
    "ask_high",
    "ask_low",
    "ask_close",
];

const NS_PER_DAY: i64 = 86_400 * 1_000_000_000;
const SATURDAY: i64 = 5;
/// Located examples kept per anomaly kind (as `quality.MAX_EXAMPLES`).
pub const MAX_EXAMPLES: usize = 5;

/// Which hard rule failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    NonFinite,
    NonPositive,
    /// OHLC inconsistency on one side (0 = bid, 1 = ask).
    Ohlc,
    Duplicate,
    NonMonotonic,
}

/// The first hard fault: rule, 0-based bar index and column name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub rule: Rule,
    pub index: usize,
    pub column: &'static str,
}

/// The bar columns: `prices` in [`PRICE_COLUMNS`] order, all of `time`'s length.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub time: &'a [i64],
    pub prices: [&'a [f64]; 8],
    pub volume: &'a [f64],
}

/// First fault of the hard rules, or None. Callers check emptiness first.
pub fn first_fault(c: &Columns<'_>) -> Option<Fault> {
    let n = c.time.len();
    // Per rule, the first row at fault and the first column (rule order) at that row.
    let mut finite: Option<(usize, &'static str)> = None;
    let mut positive: Option<(usize, &'static str)> = None;
    let mut ohlc: [Option<(usize, &'static str)>; 2] = [None, None];
    for i in 0..n {
        if finite.is_none() {
            finite = PRICE_COLUMNS
                .iter()
                .zip(c.prices.iter())
                .find(|(_, col)| !col[i].is_finite())
                .map(|(name, _)| (i, *name))
                .or_else(|| (!c.volume[i].is_finite()).then_some((i, "volume")));
            if finite.is_some() {
                break; // the first rule wins; later rules cannot be reported
            }
        }
        if positive.is_none() {
            positive = PRICE_COLUMNS
                .iter()
                .zip(c.prices.iter())
                .find(|(_, col)| col[i] <= 0.0)
                .map(|(name, _)| (i, *name));
        }
        for (side, slot) in ohlc.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = ohlc_fault(c, side, i);
            }
        }
    }
    if let Some((index, column)) = finite {
        return Some(Fault {
            rule: Rule::NonFinite,
            index,
            column,
        });
    }
    if let Some((index, column)) = positive {
        return Some(Fault {
            rule: Rule::NonPositive,
            index,
            column,
        });
    }
    if let Some((index, column)) = ohlc.into_iter().flatten().next() {
        return Some(Fault {
            rule: Rule::Ohlc,
            index,
            column,
        });
    }
    (1..n).find(|&i| c.time[i] <= c.time[i - 1]).map(|i| Fault {
        rule: if c.time[i] == c.time[i - 1] {
            Rule::Duplicate
        } else {
            Rule::NonMonotonic
        },
        index: i,
        column: "time",
    })
}

fn ohlc_fault(c: &Columns<'_>, side: usize, i: usize) -> Option<(usize, &'static str)> {
    let base = side * 4;
    let (o, h, lo, cl) = (
        c.prices[base][i],
        c.prices[base + 1][i],
        c.prices[base + 2][i],
        c.prices[base + 3][i],
    );
    if h < lo {
        Some((i, PRICE_COLUMNS[base + 1]))
    } else if o > h || o < lo {
        Some((i, PRICE_COLUMNS[base]))
    } else if cl > h || cl < lo {
        Some((i, PRICE_COLUMNS[base + 3]))
    } else {
        None
    }
}

/// A count and the first [`MAX_EXAMPLES`] bar indices it counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counted {
    pub count: i64,
    pub examples: Vec<usize>,
}

impl Counted {
    fn add(&mut self, index: usize) {
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(index);
        }
    }
}

/// The soft anomaly counts of `quality.measure_quality` for validated bars.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quality {
    pub off_grid: Counted,
    pub irregular: Counted,
    pub weekend_gaps: i64,
    pub missing_bars: i64,
    /// Non-weekend gaps by missing bars: 1-5, 6-60, over 60 (example = the bar after).
    pub gaps: [Counted; 3],
    pub crossed: Counted,
    pub crossed_by_field: [i64; 4],
    pub zero_spread: Counted,
    pub zero_volume: i64,
    pub negative_volume: Counted,
    /// Close spread in pips: min, median (numpy's linear percentile), max.
    pub spread_close_pips: Option<[f64; 3]>,
}

/// Count every soft anomaly in one pass (plus a selection for the median spread).
/// `timeframe_ns` must be > 0; the columns must be non-empty.
pub fn measure(c: &Columns<'_>, timeframe_ns: i64, pip_size: f64) -> Quality {
    let n = c.time.len();
    let tf = timeframe_ns;
    let mut q = Quality::default();
    let mut spread = Vec::with_capacity(n);
    for i in 0..n {
        let t = c.time[i];
        if t.rem_euclid(tf) != 0 {
            q.off_grid.add(i);
        }
        let mut crossed = false;
        let mut zero = true;
        for f in 0..4 {
            let (bid, ask) = (c.prices[f][i], c.prices[f + 4][i]);
            if ask < bid {
                q.crossed_by_field[f] += 1;
                crossed = true;
            }
            zero &= ask == bid;
        }
        if crossed {
            q.crossed.add(i);
        }
        if zero {
            q.zero_spread.add(i);
        }
        let volume = c.volume[i];
        if volume == 0.0 {
            q.zero_volume += 1;
        }
        if volume < 0.0 {
            q.negative_volume.add(i);
        }
        spread.push((c.prices[7][i] - c.prices[3][i]) / pip_size);
    }
    measure_gaps(&mut q, c.time, tf);
    q.spread_close_pips = min_median_max(&mut spread);
    q
}

fn measure_gaps(q: &mut Quality, time: &[i64], tf: i64) {
    for i in 1..time.len() {
        let step = time[i].wrapping_sub(time[i - 1]);
        if step.rem_euclid(tf) != 0 {
            q.irregular.add(i);
        }
        if step <= tf {
            continue;
        }
        let start = time[i - 1].wrapping_add(tf);
        let end = time[i];
        if overlaps_saturday(start, end) {
            q.weekend_gaps += 1;
            continue;
        }
        let missing = end.wrapping_sub(start).div_euclid(tf);
        q.missing_bars = q.missing_bars.wrapping_add(missing);
        let bucket = match missing {
            m if m < 1 => None,
            1..=5 => Some(0),
            6..=60 => Some(1),
            _ => Some(2),
        };
        if let Some(b) = bucket {
            q.gaps[b].add(i);
        }
    }
}

/// Whether [start, end) (UTC ns) overlaps a Saturday (UTC), with numpy's floor arithmetic.
fn overlaps_saturday(start: i64, end: i64) -> bool {
    let day = start.div_euclid(NS_PER_DAY);
    let weekday = (day + 3).rem_euclid(7);
    let saturday = day + (SATURDAY - weekday).rem_euclid(7);
    saturday.wrapping_mul(NS_PER_DAY) < end
}

/// `np.percentile(values, [0, 50, 100])` (method "linear") with numpy's interpolation
/// formula, so the floats are the same; None when a value is not finite (the caller then
/// asks numpy, whose NaN/inf rules we do not reproduce). Reorders `values`.
///
/// For finite values numpy's `a + (b - a) * 0` is `a` (no -0.0 arises: x - x is +0.0), so
/// the minimum, the maximum and an odd count's median are order statistics; an even count's
/// median takes numpy's `t >= 0.5` branch, `b - (b - a) * 0.5`.
fn min_median_max(values: &mut [f64]) -> Option<[f64; 3]> {
    if values.is_empty() || !values.iter().all(|v| v.is_finite()) {
        return None;
    }
    let n = values.len();
    let cmp = |a: &f64, b: &f64| a.total_cmp(b);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let below = (n - 1) / 2;
    let (_, &mut a, rest) = values.select_nth_unstable_by(below, cmp);
    let median = if (n - 1) % 2 == 0 {
        a
    } else {
        let b = rest.iter().copied().fold(f64::INFINITY, f64::min);
        b - (b - a) * 0.5
    };
    Some([min, median, max])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns<'a>(time: &'a [i64], p: &'a [Vec<f64>; 8], v: &'a [f64]) -> Columns<'a> {
        Columns {
            time,
            prices: [&p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &p[6], &p[7]],
            volume: v,
        }
    }

    fn flat(n: usize, bid: f64, ask: f64) -> [Vec<f64>; 8] {
        std::array::from_fn(|k| vec![if k < 4 { bid } else { ask }; n])
    }

    #[test]
    fn finite_fault_beats_an_earlier_ohlc_fault() {
        let mut p = flat(3, 1.0, 1.1);
        p[1][0] = 0.5; // bid high < low at row 0
        p[6][2] = f64::NAN;
        let f = first_fault(&columns(&[0, 60, 120], &p, &[1.0; 3])).unwrap();
        assert_eq!((f.rule, f.index, f.column), (Rule::NonFinite, 2, "ask_low"));
    }

    #[test]
    fn bid_side_fault_beats_an_earlier_ask_fault_and_time_is_last() {
        let mut p = flat(3, 1.0, 1.1);
        p[4][0] = 2.0; // ask open above high at row 0
        p[3][1] = 0.9; // bid close below low at row 1
        let f = first_fault(&columns(&[0, 0, 120], &p, &[1.0; 3])).unwrap();
        assert_eq!((f.rule, f.index, f.column), (Rule::Ohlc, 1, "bid_close"));
        let p = flat(3, 1.0, 1.1);
        let f = first_fault(&columns(&[0, 60, 60], &p, &[1.0; 3])).unwrap();
        assert_eq!((f.rule, f.index), (Rule::Duplicate, 2));
        let f = first_fault(&columns(&[0, 60, 59], &p, &[1.0; 3])).unwrap();
        assert_eq!((f.rule, f.index), (Rule::NonMonotonic, 2));
    }

    #[test]
    fn gaps_are_bucketed_and_weekends_set_apart() {
        let m = 60_000_000_000_i64;
        // 1970-01-01 is a Thursday: a gap from Friday into Sunday overlaps Saturday.
        let friday = NS_PER_DAY;
        let time = [0, m, 4 * m, 4 * m + 70 * m, friday, friday + 2 * NS_PER_DAY];
        let p = flat(6, 1.0, 1.0);
        let q = measure(&columns(&time, &p, &[0.0; 6]), m, 0.0001);
        assert_eq!(q.gaps[0].count, 1); // 2 missing
        assert_eq!(q.gaps[2].count, 2); // 69 missing, then the rest of Thursday
        assert_eq!(q.weekend_gaps, 1);
        assert_eq!(q.missing_bars, 2 + 69 + (friday - 74 * m - m) / m);
        assert_eq!(q.zero_spread.count, 6);
        assert_eq!(q.zero_volume, 6);
    }

    #[test]
    fn median_of_an_even_count_uses_numpys_upper_formula() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(
            min_median_max(&mut v),
            Some([1.0, 3.0 - (3.0 - 2.0) * 0.5, 4.0])
        );
        let mut v = vec![5.0, 1.0, 3.0];
        assert_eq!(min_median_max(&mut v), Some([1.0, 3.0, 5.0]));
        assert_eq!(min_median_max(&mut [1.0, f64::INFINITY]), None);
    }
}

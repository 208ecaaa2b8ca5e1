//! Resampling base bars to a coarser timeframe (the contract of docs/engine/execution.md).
//!
//! Buckets are `floor(t / tf) * tf` from the UTC epoch; per side open = first, high = max,
//! low = min, close = last; volume is summed in time order; an empty bucket yields no bar.

use crate::bars::OwnedBars;
use omega_indicators::buffers;
use omega_strategy_api::{BarColumns, Ohlc, Timeframe};

/// Bars of `target` built from `base`, and for each of them the range `[start, end)` of the
/// base bars it covers (`bounds[k]..bounds[k + 1]`; `bounds` has one more entry than bars).
///
/// `base.time` must increase strictly (checked by `check_input` before): a bucket then ends
/// at the first bar at or past its end, found by comparison instead of a division per bar.
pub fn resample(base: &BarColumns<'_>, target: Timeframe) -> (OwnedBars, Vec<usize>) {
    let (bars, bounds, _) = resample_checking(base, target);
    (bars, bounds)
}

/// [`resample`] of unchecked input (equal column lengths assumed) that also reports whether
/// the input passes `check_input` (every value finite, times strictly increasing): the run
/// reads the base columns once instead of twice. When it does not, the bars are meaningless
/// and `check_input` names the problem.
pub fn resample_checking(
    base: &BarColumns<'_>,
    target: Timeframe,
) -> (OwnedBars, Vec<usize>, bool) {
    let tf = target.nanos();
    let n = base.len();
    let capacity = bucket_capacity(base.time, tf);
    let mut out = OwnedBars::with_capacity(capacity);
    let mut bounds = buffers::take(capacity + 1);
    let mut finite = true;
    let mut increasing = true;
    let mut buckets = BucketClock::new(tf);
    let mut i = 0;
    while i < n {
        let bucket = buckets.start_of(base.time[i]);
        let end = bucket + tf;
        bounds.push(i);
        let Bucket {
            end: j,
            bid_high: bh,
            bid_low: bl,
            ask_high: ah,
            ask_low: al,
            volume,
            finite: bucket_finite,
        } = scan_bucket(base, i, end, &mut increasing);
        finite &= bucket_finite;
        out.push(
            bucket,
            Ohlc {
                open: base.bid_open[i],
                high: bh,
                low: bl,
                close: base.bid_close[j - 1],
            },
            Ohlc {
                open: base.ask_open[i],
                high: ah,
                low: al,
                close: base.ask_close[j - 1],
            },
            volume,
        );
        // (A bar at or past `end` is later than every bar of this bucket: no check needed.)
        i = j;
    }
    bounds.push(n);
    (out, bounds, finite && increasing && n > 0)
}

/// Bucket starts (`floor(t / tf) * tf`) of a walk through times: the next bucket is usually
/// the one right after the last, found by two comparisons instead of an integer division
/// (the costliest step of a bucket); any other time is divided.
#[derive(Debug, Clone, Copy)]
struct BucketClock {
    tf: i64,
    /// End of the last bucket returned (a multiple of `tf`), `i64::MIN` before the first.
    end: i64,
}

impl BucketClock {
    fn new(tf: i64) -> Self {
        BucketClock { tf, end: i64::MIN }
    }

    #[inline(always)]
    fn start_of(&mut self, t: i64) -> i64 {
        let start = match self.end.checked_add(self.tf) {
            Some(next_end) if t >= self.end && t < next_end => self.end,
            _ => t.div_euclid(self.tf) * self.tf,
        };
        self.end = start + self.tf;
        start
    }
}

/// One bucket's aggregate over base bars `start..end` (`end` is the first bar past it).
struct Bucket {
    end: usize,
    bid_high: f64,
    bid_low: f64,
    ask_high: f64,
    ask_low: f64,
    volume: f64,
    finite: bool,
}

/// Walks the base bars of the bucket that starts at `start` and ends before `end_time`:
/// high = max, low = min per side, volume summed in time order; `finite` says every value was
/// finite and `increasing` is cleared at the first non-increasing time. The one scan shared by
/// the single-thread and the in-place two-thread resampler.
#[inline(always)]
fn scan_bucket(
    base: &BarColumns<'_>,
    start: usize,
    end_time: i64,
    increasing: &mut bool,
) -> Bucket {
    let n = base.len();
    let (mut bh, mut bl, mut ah, mut al) = (
        base.bid_high[start],
        base.bid_low[start],
        base.ask_high[start],
        base.ask_low[start],
    );
    let mut volume = base.volume[start];
    // Finite means not NaN or infinite: `x * 0` is (+/-)0 then and NaN otherwise, so a sum of
    // these per bucket stays 0 exactly when every value was finite.
    let mut probe = 0.0;
    let mut j = start;
    loop {
        for v in [
            base.bid_open[j],
            base.bid_high[j],
            base.bid_low[j],
            base.bid_close[j],
            base.ask_open[j],
            base.ask_high[j],
            base.ask_low[j],
            base.ask_close[j],
            base.volume[j],
        ] {
            probe += v * 0.0;
        }
        if j > start {
            bh = bh.max(base.bid_high[j]);
            bl = bl.min(base.bid_low[j]);
            ah = ah.max(base.ask_high[j]);
            al = al.min(base.ask_low[j]);
            volume += base.volume[j];
        }
        j += 1;
        if j >= n || base.time[j] >= end_time {
            break;
        }
        *increasing &= base.time[j] > base.time[j - 1];
    }
    Bucket {
        end: j,
        bid_high: bh,
        bid_low: bl,
        ask_high: ah,
        ask_low: al,
        volume,
        finite: probe == 0.0,
    }
}

/// Below this many base bars a second thread costs more than it saves.
const PARALLEL_MIN_BARS: usize = 200_000;

/// [`resample_checking`] on two threads for large inputs (each writes its half of the
/// output in place, so the new memory is also first touched on both cores); the same bars,
/// bounds and verdict as on one thread.
pub fn resample_checking_parallel(
    base: &BarColumns<'_>,
    target: Timeframe,
) -> (OwnedBars, Vec<usize>, bool) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 {
        return resample_checking(base, target);
    }
    resample_checking_split(base, target, PARALLEL_MIN_BARS)
}

fn resample_checking_split(
    base: &BarColumns<'_>,
    target: Timeframe,
    min_bars: usize,
) -> (OwnedBars, Vec<usize>, bool) {
    let (tf, n) = (target.nanos(), base.len());
    if n < min_bars.max(2) {
        return resample_checking(base, target);
    }
    // Split at the first bucket change at or after the middle.
    let bucket_of = |t: i64| t.div_euclid(tf);
    let mut mid = n / 2;
    while mid < n && bucket_of(base.time[mid]) == bucket_of(base.time[mid - 1]) {
        mid += 1;
    }
    if mid == n {
        return resample_checking(base, target);
    }
    let (left, right) = (base.range(0, mid), base.range(mid, n));
    let (left_count, right_count) = std::thread::scope(|scope| {
        let right_count = scope.spawn(|| count_buckets(right.time, tf));
        let left_count = count_buckets(left.time, tf);
        (left_count, join(right_count))
    });
    let total = left_count + right_count;
    // Every row and bound is written below. New (zeroed) pages are first touched by the
    // thread that fills them; kept buffers are reused as they are.
    let mut out = OwnedBars::for_overwrite(total);
    let mut bounds = buffers::overwritable(total + 1, 0usize);
    bounds[total] = n;
    let (left_out, right_out) = split_bars(&mut out, left_count);
    let (left_bounds, right_bounds) = bounds[..total].split_at_mut(left_count);
    let (left_ok, right_ok) = std::thread::scope(|scope| {
        let right_ok = scope.spawn(|| fill_buckets(&right, mid, tf, right_out, right_bounds));
        let left_ok = fill_buckets(&left, 0, tf, left_out, left_bounds);
        (left_ok, join(right_ok))
    });
    // Each half checks its own bars; the seam is checked here.
    let seam_ok = base.time[mid] > base.time[mid - 1];
    (out, bounds, left_ok && right_ok && seam_ok)
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Buckets that [`fill_buckets`] makes of `times` (the same walk, times only).
fn count_buckets(times: &[i64], tf: i64) -> usize {
    let mut count = 0;
    let mut buckets = BucketClock::new(tf);
    let mut i = 0;
    while i < times.len() {
        let end = buckets.start_of(times[i]) + tf;
        count += 1;
        i += 1;
        while i < times.len() && times[i] < end {
            i += 1;
        }
    }
    count
}

/// Mutable column views of one part of an output frame (time, then the nine others in
/// `OwnedBars` order).
struct BarsMut<'a> {
    time: &'a mut [i64],
    columns: [&'a mut [f64]; 9],
}

/// Output rows `[0, at)` and `[at, len)`.
fn split_bars(out: &mut OwnedBars, at: usize) -> (BarsMut<'_>, BarsMut<'_>) {
    let (lt, rt) = out.time.split_at_mut(at);
    let (a0, b0) = out.bid_open.split_at_mut(at);
    let (a1, b1) = out.bid_high.split_at_mut(at);
    let (a2, b2) = out.bid_low.split_at_mut(at);
    let (a3, b3) = out.bid_close.split_at_mut(at);
    let (a4, b4) = out.ask_open.split_at_mut(at);
    let (a5, b5) = out.ask_high.split_at_mut(at);
    let (a6, b6) = out.ask_low.split_at_mut(at);
    let (a7, b7) = out.ask_close.split_at_mut(at);
    let (a8, b8) = out.volume.split_at_mut(at);
    (
        BarsMut {
            time: lt,
            columns: [a0, a1, a2, a3, a4, a5, a6, a7, a8],
        },
        BarsMut {
            time: rt,
            columns: [b0, b1, b2, b3, b4, b5, b6, b7, b8],
        },
    )
}

/// The walk of [`resample_checking`] writing in place: row `k` of `out` and `bounds[k]`
/// (a base index, `offset` added) for the `k`-th bucket. Returns the input verdict; a
/// bucket count other than `out`'s length is a failed verdict too.
fn fill_buckets(
    base: &BarColumns<'_>,
    offset: usize,
    tf: i64,
    out: BarsMut<'_>,
    bounds: &mut [usize],
) -> bool {
    let n = base.len();
    let rows = out.time.len();
    let BarsMut {
        time: out_time,
        columns: [bo, bh_out, bl_out, bc, ao, ah_out, al_out, ac, vol],
    } = out;
    let mut finite = true;
    let mut increasing = true;
    let mut k = 0;
    let mut buckets = BucketClock::new(tf);
    let mut i = 0;
    while i < n {
        if k == rows {
            return false;
        }
        let bucket = buckets.start_of(base.time[i]);
        let end = bucket + tf;
        bounds[k] = offset + i;
        let Bucket {
            end: j,
            bid_high: bh,
            bid_low: bl,
            ask_high: ah,
            ask_low: al,
            volume,
            finite: bucket_finite,
        } = scan_bucket(base, i, end, &mut increasing);
        finite &= bucket_finite;
        out_time[k] = bucket;
        bo[k] = base.bid_open[i];
        bh_out[k] = bh;
        bl_out[k] = bl;
        bc[k] = base.bid_close[j - 1];
        ao[k] = base.ask_open[i];
        ah_out[k] = ah;
        al_out[k] = al;
        ac[k] = base.ask_close[j - 1];
        vol[k] = volume;
        k += 1;
        i = j;
    }
    finite && increasing && k == rows
}

/// [`resample`] from an already resampled `fine` frame whose timeframe divides `target`
/// (every fine bucket lies inside one target bucket, both floored from the epoch), reading
/// the few fine bars instead of all base bars. Open, high, low and close do not depend on the
/// grouping; volume is summed again over the base bars in time order (`fine_bounds`, the
/// fine frame's base ranges), so every value equals `resample(base, target)` bit for bit.
pub fn resample_coarser(
    fine: &BarColumns<'_>,
    fine_bounds: &[usize],
    base_volume: &[f64],
    target: Timeframe,
) -> (OwnedBars, Vec<usize>) {
    let tf = target.nanos();
    let n = fine.len();
    let capacity = bucket_capacity(fine.time, tf);
    let mut out = OwnedBars::with_capacity(capacity);
    let mut bounds = buffers::take(capacity + 1);
    let mut buckets = BucketClock::new(tf);
    let mut i = 0;
    while i < n {
        let bucket = buckets.start_of(fine.time[i]);
        let end = bucket + tf;
        bounds.push(fine_bounds[i]);
        let (mut bh, mut bl, mut ah, mut al) = (
            fine.bid_high[i],
            fine.bid_low[i],
            fine.ask_high[i],
            fine.ask_low[i],
        );
        let mut j = i + 1;
        while j < n && fine.time[j] < end {
            bh = bh.max(fine.bid_high[j]);
            bl = bl.min(fine.bid_low[j]);
            ah = ah.max(fine.ask_high[j]);
            al = al.min(fine.ask_low[j]);
            j += 1;
        }
        out.push(
            bucket,
            Ohlc {
                open: fine.bid_open[i],
                high: bh,
                low: bl,
                close: fine.bid_close[j - 1],
            },
            Ohlc {
                open: fine.ask_open[i],
                high: ah,
                low: al,
                close: fine.ask_close[j - 1],
            },
            0.0, // summed below, over the base bars
        );
        i = j;
    }
    bounds.push(fine_bounds[n]);
    out.volume.clear();
    ordered_sums_into(base_volume, &bounds, &mut out.volume);
    (out, bounds)
}

/// Appends to `sums` the sum of `values[bounds[k]..bounds[k + 1]]` for each `k`, each added in
/// index order from its first value (the bits of a fold per range). Four ranges are summed in
/// lockstep: their additions are independent, so they overlap instead of waiting on one
/// chain of dependent additions through all of `values`.
fn ordered_sums_into(values: &[f64], bounds: &[usize], sums: &mut Vec<f64>) {
    let ranges = bounds.len().saturating_sub(1);
    let mut k = 0;
    while k + 4 <= ranges {
        let start: [usize; 4] = std::array::from_fn(|l| bounds[k + l]);
        let len: [usize; 4] = std::array::from_fn(|l| bounds[k + l + 1] - bounds[k + l]);
        let mut sum: [f64; 4] = std::array::from_fn(|l| values[start[l]]);
        // Full buckets have equal lengths: one bound for all four lanes, no test per lane.
        let common = len.iter().copied().min().unwrap_or(0);
        let lanes: [&[f64]; 4] = std::array::from_fn(|l| &values[start[l]..start[l] + common]);
        for t in 1..common {
            for (sum, lane) in sum.iter_mut().zip(&lanes) {
                *sum += lane[t];
            }
        }
        for (l, sum) in sum.iter_mut().enumerate() {
            let rest = &values[start[l] + common.max(1)..start[l] + len[l]];
            *sum = rest.iter().fold(*sum, |s, v| s + v);
        }
        sums.extend_from_slice(&sum);
        k += 4;
    }
    for k in k..ranges {
        let range = &values[bounds[k]..bounds[k + 1]];
        sums.push(range[1..].iter().fold(range[0], |sum, v| sum + v));
    }
}

/// At most one bar per bucket between the first and the last: no reallocation, and no
/// over-allocation for coarse timeframes.
fn bucket_capacity(times: &[i64], tf: i64) -> usize {
    let buckets = match (times.first(), times.last()) {
        (Some(first), Some(last)) => (last.div_euclid(tf) - first.div_euclid(tf)) as usize + 1,
        _ => 0,
    };
    buckets.min(times.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000_000_000;

    proptest! {
        #[test]
        fn the_bucket_clock_floors_like_a_division(
            steps in proptest::collection::vec(-5i64..400, 1..60),
            tf_minutes in prop::sample::select(vec![1i64, 5, 15, 60, 240, 1440]),
            first in -100_000i64..100_000,
        ) {
            let tf = tf_minutes * MIN;
            let mut clock = BucketClock::new(tf);
            let mut t = first * MIN;
            for step in steps {
                // Any order, gaps and repeats: the clock must not assume the walk is valid.
                t += step * MIN;
                prop_assert_eq!(clock.start_of(t), t.div_euclid(tf) * tf);
            }
        }

        #[test]
        fn lockstep_sums_have_the_bits_of_one_fold_per_range(
            lens in proptest::collection::vec(1usize..70, 0..12),
            seed in any::<u64>(),
        ) {
            let mut bounds = vec![0];
            for len in &lens {
                bounds.push(bounds.last().unwrap() + len);
            }
            let mut rng = crate::SplitMix64::new(seed);
            let values: Vec<f64> = (0..*bounds.last().unwrap())
                .map(|_| (rng.next_f64() - 0.3) * 1e3)
                .collect();
            let mut sums = Vec::new();
            ordered_sums_into(&values, &bounds, &mut sums);
            let folds: Vec<u64> = bounds
                .windows(2)
                .map(|w| values[w[0] + 1..w[1]].iter().fold(values[w[0]], |s, v| s + v).to_bits())
                .collect();
            prop_assert_eq!(sums.iter().map(|s| s.to_bits()).collect::<Vec<_>>(), folds);
        }
    }

    fn owned(times: &[i64], values: &[f64]) -> OwnedBars {
        let v = values.to_vec();
        OwnedBars {
            time: times.to_vec(),
            bid_open: v.clone(),
            bid_high: v.iter().map(|x| x + 0.5).collect(),
            bid_low: v.iter().map(|x| x - 0.5).collect(),
            bid_close: v.iter().map(|x| x + 0.25).collect(),
            ask_open: v.iter().map(|x| x + 1.0).collect(),
            ask_high: v.iter().map(|x| x + 1.5).collect(),
            ask_low: v.iter().map(|x| x + 0.5).collect(),
            ask_close: v.iter().map(|x| x + 1.25).collect(),
            volume: vec![1.0; v.len()],
        }
    }

    #[test]
    fn hand_worked_m5_buckets_skip_empty_ones() {
        // Minutes 0,1,4 | (5..9 empty) | 10,14 | 16.
        let times: Vec<i64> = [0, 1, 4, 10, 14, 16].iter().map(|m| m * MIN).collect();
        let bars = owned(&times, &[1.0, 3.0, 2.0, 5.0, 4.0, 7.0]);
        let (m5, bounds) = resample(&bars.columns(), Timeframe::M5);
        assert_eq!(m5.time, vec![0, 10 * MIN, 15 * MIN]);
        assert_eq!(bounds, vec![0, 3, 5, 6]);
        assert_eq!(m5.bid_open, vec![1.0, 5.0, 7.0]);
        assert_eq!(m5.bid_high, vec![3.5, 5.5, 7.5]);
        assert_eq!(m5.bid_low, vec![0.5, 3.5, 6.5]);
        assert_eq!(m5.bid_close, vec![2.25, 4.25, 7.25]);
        assert_eq!(m5.ask_high, vec![4.5, 6.5, 8.5]);
        assert_eq!(m5.ask_low, vec![1.5, 4.5, 7.5]);
        assert_eq!(m5.volume, vec![3.0, 2.0, 1.0]);
    }

    #[test]
    fn checking_flags_what_check_input_rejects() {
        use crate::bars::check_input;
        let times: Vec<i64> = [0, 1, 4, 10, 14, 16].iter().map(|m| m * MIN).collect();
        let good = owned(&times, &[1.0, 3.0, 2.0, 5.0, 4.0, 7.0]);
        let (bars, bounds, ok) = resample_checking(&good.columns(), Timeframe::M5);
        assert!(ok);
        assert_eq!((bars, bounds), resample(&good.columns(), Timeframe::M5));
        let mut broken = Vec::new();
        for row in 0..times.len() {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut b = good.clone();
                b.ask_low[row] = bad;
                broken.push(b.clone());
                let mut b = good.clone();
                b.volume[row] = bad;
                broken.push(b);
            }
            if row > 0 {
                for t in [times[row - 1], times[row - 1] - 7 * MIN] {
                    let mut b = good.clone();
                    b.time[row] = t; // repeated or going back, inside or across buckets
                    broken.push(b);
                }
            }
        }
        for b in &broken {
            assert!(check_input(&b.columns()).is_err());
            assert!(!resample_checking(&b.columns(), Timeframe::M5).2, "{b:?}");
        }
        let empty = owned(&[], &[]);
        assert!(!resample_checking(&empty.columns(), Timeframe::M5).2);
    }

    #[test]
    fn two_threads_resample_and_check_like_one() {
        // Irregular gaps (weekends, holes), several sizes and split points, bad inputs too.
        let mut state = 7u64;
        let mut rand = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let sizes = [
            (2, Timeframe::M5),
            (50, Timeframe::M5),
            (997, Timeframe::H1),
            (5000, Timeframe::M15),
        ];
        for (n, tf) in sizes {
            let mut t = -3 * 24 * 60 * MIN;
            let times: Vec<i64> = (0..n)
                .map(|_| {
                    t += (1 + rand(3) + if rand(50) == 0 { 500 } else { 0 }) as i64 * MIN;
                    t
                })
                .collect();
            let values: Vec<f64> = (0..n).map(|_| 1.0 + rand(1000) as f64 * 1e-4).collect();
            let mut bars = owned(&times, &values);
            bars.volume = (0..n).map(|_| 0.1 + rand(100) as f64 * 0.37).collect();
            let mut cases = vec![bars.clone()];
            let mut nan = bars.clone();
            nan.bid_close[n - 1] = f64::NAN;
            cases.push(nan);
            let mut back = bars.clone();
            back.time[n / 2] = back.time[n / 2 - 1];
            cases.push(back);
            for case in &cases {
                let one = resample_checking(&case.columns(), tf);
                let two = resample_checking_split(&case.columns(), tf, 0);
                assert_eq!(one.2, two.2, "verdict, n {n}");
                if one.2 {
                    assert_eq!((one.0, one.1), (two.0, two.1), "n {n}");
                }
            }
        }
    }

    #[test]
    fn negative_times_floor_towards_minus_infinity() {
        let bars = owned(&[-MIN, 0], &[1.0, 2.0]);
        let (m5, _) = resample(&bars.columns(), Timeframe::M5);
        assert_eq!(m5.time, vec![-5 * MIN, 0]);
    }

    proptest! {
        #[test]
        fn every_bucket_matches_a_direct_fold(
            gaps in proptest::collection::vec(1i64..40, 1..300),
            values in proptest::collection::vec(0.5f64..2.0, 300),
            tf_index in 1usize..7,
        ) {
            let mut t = 0;
            let times: Vec<i64> = gaps.iter().map(|g| { t += g * MIN; t }).collect();
            let bars = owned(&times, &values[..times.len()]);
            let target = Timeframe::ALL[tf_index];
            let (out, bounds) = resample(&bars.columns(), target);
            prop_assert_eq!(bounds.len(), out.time.len() + 1);
            prop_assert_eq!(*bounds.last().unwrap(), times.len());
            for k in 0..out.time.len() {
                let (s, e) = (bounds[k], bounds[k + 1]);
                prop_assert!(s < e);
                let tf = target.nanos();
                for &time in &times[s..e] {
                    prop_assert_eq!(time.div_euclid(tf) * tf, out.time[k]);
                }
                prop_assert_eq!(out.bid_open[k], bars.bid_open[s]);
                prop_assert_eq!(out.ask_close[k], bars.ask_close[e - 1]);
                let hi = bars.bid_high[s..e].iter().copied().fold(f64::MIN, f64::max);
                let lo = bars.ask_low[s..e].iter().copied().fold(f64::MAX, f64::min);
                prop_assert_eq!(out.bid_high[k], hi);
                prop_assert_eq!(out.ask_low[k], lo);
                prop_assert_eq!(out.volume[k], (e - s) as f64);
            }
            // Buckets are strictly increasing: no bucket is split or repeated.
            prop_assert!(out.time.windows(2).all(|w| w[0] < w[1]));
        }

        #[test]
        fn coarser_from_a_fine_frame_equals_coarser_from_the_base(
            gaps in proptest::collection::vec(1i64..40, 1..300),
            values in proptest::collection::vec(0.5f64..2.0, 300),
            volumes in proptest::collection::vec(0.1f64..3.0, 300),
            fine_index in 1usize..6,
            steps in 1usize..3,
        ) {
            let mut t = -5000 * MIN; // negative times too
            let times: Vec<i64> = gaps.iter().map(|g| { t += g * MIN; t }).collect();
            let mut bars = owned(&times, &values[..times.len()]);
            bars.volume = volumes[..times.len()].to_vec(); // sums that round differently
            let fine_tf = Timeframe::ALL[fine_index];
            let target = Timeframe::ALL[(fine_index + steps).min(6)];
            let (fine, fine_bounds) = resample(&bars.columns(), fine_tf);
            let direct = resample(&bars.columns(), target);
            let via_fine = resample_coarser(&fine.columns(), &fine_bounds, &bars.volume, target);
            prop_assert_eq!(direct, via_fine);
        }
    }
}

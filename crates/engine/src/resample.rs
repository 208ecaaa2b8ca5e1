//! Resampling base bars to a coarser timeframe (the contract of docs/engine/execution.md).
//!
//! Buckets are `floor(t / tf) * tf` from the UTC epoch; per side open = first, high = max,
//! low = min, close = last; volume is summed in time order; an empty bucket yields no bar.

use crate::bars::OwnedBars;
use omega_strategy_api::{BarColumns, Timeframe};

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
    let mut bounds = Vec::with_capacity(capacity + 1);
    // Finite means not NaN or infinite: `x * 0` is (+/-)0 then and NaN otherwise, so a sum of
    // these per bucket stays 0 exactly when every value was finite.
    let mut finite = true;
    let mut increasing = true;
    let mut i = 0;
    while i < n {
        let bucket = base.time[i].div_euclid(tf) * tf;
        let end = bucket + tf;
        bounds.push(i);
        let (mut bh, mut bl, mut ah, mut al) = (
            base.bid_high[i],
            base.bid_low[i],
            base.ask_high[i],
            base.ask_low[i],
        );
        let mut volume = base.volume[i];
        let mut probe = 0.0;
        let mut j = i;
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
            if j > i {
                bh = bh.max(base.bid_high[j]);
                bl = bl.min(base.bid_low[j]);
                ah = ah.max(base.ask_high[j]);
                al = al.min(base.ask_low[j]);
                volume += base.volume[j];
            }
            j += 1;
            if j >= n || base.time[j] >= end {
                break;
            }
            increasing &= base.time[j] > base.time[j - 1];
        }
        finite &= probe == 0.0;
        out.time.push(bucket);
        out.bid_open.push(base.bid_open[i]);
        out.bid_high.push(bh);
        out.bid_low.push(bl);
        out.bid_close.push(base.bid_close[j - 1]);
        out.ask_open.push(base.ask_open[i]);
        out.ask_high.push(ah);
        out.ask_low.push(al);
        out.ask_close.push(base.ask_close[j - 1]);
        out.volume.push(volume);
        // (A bar at or past `end` is later than every bar of this bucket: no check needed.)
        i = j;
    }
    bounds.push(n);
    (out, bounds, finite && increasing && n > 0)
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
    let mut bounds = Vec::with_capacity(capacity + 1);
    let mut i = 0;
    while i < n {
        let bucket = fine.time[i].div_euclid(tf) * tf;
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
        let base_range = &base_volume[fine_bounds[i]..fine_bounds[j]];
        let volume = base_range[1..].iter().fold(base_range[0], |sum, v| sum + v);
        out.time.push(bucket);
        out.bid_open.push(fine.bid_open[i]);
        out.bid_high.push(bh);
        out.bid_low.push(bl);
        out.bid_close.push(fine.bid_close[j - 1]);
        out.ask_open.push(fine.ask_open[i]);
        out.ask_high.push(ah);
        out.ask_low.push(al);
        out.ask_close.push(fine.ask_close[j - 1]);
        out.volume.push(volume);
        i = j;
    }
    bounds.push(fine_bounds[n]);
    (out, bounds)
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

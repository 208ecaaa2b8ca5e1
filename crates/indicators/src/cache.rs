//! `IndicatorCache`: each (timeframe, side, spec) series computed once and shared.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use omega_strategy_api::{BarColumns, CustomIndicator, CustomKey, IndicatorKey};

use crate::compute::{compute, SideColumns};
use crate::error::IndicatorError;

/// Computed series keyed by [`IndicatorKey`] for one data set.
///
/// The key carries no data identity: the caller passes the columns of the key's timeframe and
/// side, and uses one cache per data set. A `BTreeMap` keeps any iteration deterministic.
#[derive(Debug, Default)]
pub struct IndicatorCache {
    series: BTreeMap<IndicatorKey, Vec<f64>>,
    custom: BTreeMap<CustomKey, Vec<f64>>,
    hits: u64,
    misses: u64,
}

impl IndicatorCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The series for `key`, computing it from `columns` on the first request only.
    pub fn get_or_compute(
        &mut self,
        key: IndicatorKey,
        columns: &SideColumns<'_>,
    ) -> Result<&[f64], IndicatorError> {
        match self.series.entry(key) {
            Entry::Occupied(entry) => {
                self.hits += 1;
                Ok(entry.into_mut())
            }
            Entry::Vacant(entry) => {
                let series = compute(&key.spec, columns)?;
                self.misses += 1;
                Ok(entry.insert(series))
            }
        }
    }

    /// Computes `key` if absent, so that later [`get`](Self::get)s can borrow several series
    /// at once.
    pub fn ensure(
        &mut self,
        key: IndicatorKey,
        columns: &SideColumns<'_>,
    ) -> Result<(), IndicatorError> {
        self.get_or_compute(key, columns).map(|_| ())
    }

    /// [`ensure`](Self::ensure) of every job in order, with the same result, cache state and
    /// counts as that sequence (it stops at the first error), but the missing series are
    /// computed on up to two threads when there is enough work to pay for one.
    pub fn ensure_all(
        &mut self,
        jobs: &[(IndicatorKey, SideColumns<'_>)],
    ) -> Result<(), IndicatorError> {
        // The first occurrence of each key not cached yet computes; the others are hits.
        let todo: Vec<usize> = (0..jobs.len())
            .filter(|&k| {
                let key = &jobs[k].0;
                !self.series.contains_key(key) && !jobs[..k].iter().any(|(other, _)| other == key)
            })
            .collect();
        let mut computed: Vec<Option<Result<Vec<f64>, IndicatorError>>> =
            (0..jobs.len()).map(|_| None).collect();
        for (k, result) in compute_jobs(jobs, &todo) {
            computed[k] = Some(result);
        }
        for ((key, _), result) in jobs.iter().zip(computed) {
            match result {
                Some(result) => {
                    let series = result?;
                    self.misses += 1;
                    self.series.insert(*key, series);
                }
                None => self.hits += 1,
            }
        }
        Ok(())
    }

    /// A series computed earlier (no counting, no computing).
    pub fn get(&self, key: &IndicatorKey) -> Option<&[f64]> {
        self.series.get(key).map(Vec::as_slice)
    }

    /// Computes a custom indicator over `bars` (the bars of its timeframe) if no declaration
    /// with the same [`CustomKey`] was computed before: a fresh instance folded over every
    /// bar, as a stream would feed it.
    pub fn ensure_custom(&mut self, indicator: &CustomIndicator, bars: &BarColumns<'_>) {
        match self.custom.entry(indicator.key()) {
            Entry::Occupied(_) => self.hits += 1,
            Entry::Vacant(entry) => {
                let mut instance = indicator.instance();
                let mut out = crate::buffers::overwritable(bars.len(), f64::NAN);
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = instance.update_bar(&bars.bar(i));
                }
                self.misses += 1;
                entry.insert(out);
            }
        }
    }

    /// A custom series computed earlier.
    pub fn get_custom(&self, key: &CustomKey) -> Option<&[f64]> {
        self.custom.get(key).map(Vec::as_slice)
    }

    pub fn hits(&self) -> u64 {
        self.hits
    }

    pub fn misses(&self) -> u64 {
        self.misses
    }

    pub fn len(&self) -> usize {
        self.series.len() + self.custom.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.custom.is_empty()
    }

    pub fn clear(&mut self) {
        for (_, series) in std::mem::take(&mut self.series) {
            crate::buffers::give(series);
        }
        for (_, series) in std::mem::take(&mut self.custom) {
            crate::buffers::give(series);
        }
        self.hits = 0;
        self.misses = 0;
    }
}

impl Drop for IndicatorCache {
    /// The series' memory goes to the next run (see [`crate::buffers`]).
    fn drop(&mut self) {
        for (_, series) in std::mem::take(&mut self.series) {
            crate::buffers::give(series);
        }
        for (_, series) in std::mem::take(&mut self.custom) {
            crate::buffers::give(series);
        }
    }
}

/// Below this many bars in all, a second thread costs more than it saves.
const PARALLEL_MIN_BARS: usize = 100_000;

/// Computes `jobs[k]` for each `k` in `todo`: on the calling thread, or split over it and one
/// more (longest series first, each to the less loaded thread). Every series is computed by
/// the same sequential code either way, so the values do not depend on the split.
fn compute_jobs(
    jobs: &[(IndicatorKey, SideColumns<'_>)],
    todo: &[usize],
) -> Vec<(usize, Result<Vec<f64>, IndicatorError>)> {
    let run = |share: &[usize]| -> Vec<(usize, Result<Vec<f64>, IndicatorError>)> {
        share
            .iter()
            .map(|&k| (k, compute(&jobs[k].0.spec, &jobs[k].1)))
            .collect()
    };
    let size = |k: usize| jobs[k].1.close.len();
    let total: usize = todo.iter().map(|&k| size(k)).sum();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if todo.len() < 2 || total < PARALLEL_MIN_BARS || threads < 2 {
        return run(todo);
    }
    let mut by_size = todo.to_vec();
    by_size.sort_by_key(|&k| std::cmp::Reverse(size(k)));
    let (mut mine, mut other) = (Vec::new(), Vec::new());
    let (mut mine_load, mut other_load) = (0, 0);
    for k in by_size {
        if mine_load <= other_load {
            mine_load += size(k);
            mine.push(k);
        } else {
            other_load += size(k);
            other.push(k);
        }
    }
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| run(&other));
        let mut results = run(&mine);
        match helper.join() {
            Ok(theirs) => results.extend(theirs),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use omega_strategy_api::{IndicatorSpec, PriceField, PriceSide, Timeframe};

    fn key(period: usize, side: PriceSide) -> IndicatorKey {
        IndicatorKey {
            timeframe: Timeframe::M1,
            side,
            spec: IndicatorSpec::Sma {
                period,
                field: PriceField::Close,
            },
        }
    }

    #[test]
    fn computes_each_key_once() {
        let c = [1.0, 2.0, 3.0, 4.0];
        let cols = SideColumns {
            open: &c,
            high: &c,
            low: &c,
            close: &c,
        };
        let mut cache = IndicatorCache::new();
        let first = cache
            .get_or_compute(key(2, PriceSide::Bid), &cols)
            .unwrap()
            .to_vec();
        let again = cache
            .get_or_compute(key(2, PriceSide::Bid), &cols)
            .unwrap()
            .to_vec();
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!((cache.hits(), cache.misses()), (1, 1));
        cache.ensure(key(3, PriceSide::Bid), &cols).unwrap();
        cache.ensure(key(2, PriceSide::Ask), &cols).unwrap();
        assert_eq!((cache.hits(), cache.misses(), cache.len()), (1, 3, 3));
        let (a, b) = (
            cache.get(&key(2, PriceSide::Bid)).unwrap(),
            cache.get(&key(3, PriceSide::Bid)).unwrap(),
        );
        assert_eq!(a[1], 1.5);
        assert_eq!(b[2], 2.0);
    }

    fn cols(c: &[f64]) -> SideColumns<'_> {
        SideColumns {
            open: c,
            high: c,
            low: c,
            close: c,
        }
    }

    #[test]
    fn ensure_all_matches_ensure_in_sequence_on_one_thread_or_two() {
        // 2 x 60k bars: above the threshold, so two threads compute.
        let c: Vec<f64> = (0..60_000)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.001)
            .collect();
        let small = [1.0, 2.0, 3.0];
        for data in [&c[..], &small[..]] {
            let jobs = [
                (key(3, PriceSide::Bid), cols(data)),
                (key(5, PriceSide::Ask), cols(data)),
                (key(3, PriceSide::Bid), cols(data)), // repeated: a hit
                (key(2, PriceSide::Bid), cols(data)),
            ];
            let mut one_by_one = IndicatorCache::new();
            one_by_one
                .ensure(key(2, PriceSide::Bid), &cols(data))
                .unwrap();
            let mut together = IndicatorCache::new();
            together
                .ensure(key(2, PriceSide::Bid), &cols(data))
                .unwrap();
            for (key, columns) in &jobs {
                one_by_one.ensure(*key, columns).unwrap();
            }
            together.ensure_all(&jobs).unwrap();
            assert_eq!((together.hits(), together.misses()), (2, 3));
            assert_eq!((one_by_one.hits(), one_by_one.misses()), (2, 3));
            for (key, _) in &jobs {
                let (a, b) = (together.get(key).unwrap(), one_by_one.get(key).unwrap());
                assert_eq!(format!("{a:?}"), format!("{b:?}"));
            }
        }
        // The first failing job stops it, as in sequence: later keys are not cached.
        let bad = [
            (key(2, PriceSide::Bid), cols(&c)),
            (key(0, PriceSide::Bid), cols(&c)),
            (key(4, PriceSide::Bid), cols(&c)),
        ];
        let mut cache = IndicatorCache::new();
        assert!(cache.ensure_all(&bad).is_err());
        assert_eq!((cache.len(), cache.misses()), (1, 1));
        assert!(cache.get(&key(4, PriceSide::Bid)).is_none());
    }

    #[test]
    fn failed_computation_is_not_cached() {
        let c = [1.0];
        let cols = SideColumns {
            open: &c,
            high: &c,
            low: &c,
            close: &c,
        };
        let mut cache = IndicatorCache::new();
        assert!(cache.get_or_compute(key(0, PriceSide::Bid), &cols).is_err());
        assert!(cache.is_empty());
        assert_eq!(cache.misses(), 0);
    }
}

//! `IndicatorCache`: each (timeframe, side, spec) series computed once and shared.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use omega_strategy_api::IndicatorKey;

use crate::compute::{compute, SideColumns};
use crate::error::IndicatorError;

/// Computed series keyed by [`IndicatorKey`] for one data set.
///
/// The key carries no data identity: the caller passes the columns of the key's timeframe and
/// side, and uses one cache per data set. A `BTreeMap` keeps any iteration deterministic.
#[derive(Debug, Default)]
pub struct IndicatorCache {
    series: BTreeMap<IndicatorKey, Vec<f64>>,
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

    /// A series computed earlier (no counting, no computing).
    pub fn get(&self, key: &IndicatorKey) -> Option<&[f64]> {
        self.series.get(key).map(Vec::as_slice)
    }

    pub fn hits(&self) -> u64 {
        self.hits
    }

    pub fn misses(&self) -> u64 {
        self.misses
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    pub fn clear(&mut self) {
        self.series.clear();
        self.hits = 0;
        self.misses = 0;
    }
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

//! Everything the loop reads, built once before it: timeframes, resampled bars, indicators.

use crate::bars::OwnedBars;
use crate::error::EngineError;
use crate::resample::{resample_checking_parallel, resample_coarser};
use omega_indicators::{buffers, IndicatorCache, SideColumns};
use omega_strategy_api::{BarColumns, IndicatorKey, PriceSide, Timeframe};

/// Bars of one run timeframe: the input itself (base) or a resampled copy.
#[derive(Debug)]
pub enum FrameStore<'a> {
    Borrowed(BarColumns<'a>),
    Owned(OwnedBars),
}

impl FrameStore<'_> {
    pub fn columns(&self) -> BarColumns<'_> {
        match self {
            FrameStore::Borrowed(c) => *c,
            FrameStore::Owned(o) => o.columns(),
        }
    }
}

/// Resampled frames of every run timeframe (finest first) and the base ranges of the primary
/// bars (for the `finer` intrabar policy).
#[derive(Debug)]
pub struct Frames<'a> {
    /// The input the frames were resampled from.
    pub base: BarColumns<'a>,
    pub timeframes: Vec<Timeframe>,
    pub stores: Vec<FrameStore<'a>>,
    /// `primary_bounds[i]..primary_bounds[i + 1]` are the base bars of primary bar `i`;
    /// `None` when the primary timeframe is the base timeframe.
    pub primary_bounds: Option<Vec<usize>>,
    pub primary: usize,
    /// Whether the frame resampled from the base found it valid (see `resample_checking`);
    /// `None` when no frame was resampled from the base.
    pub base_checked: Option<bool>,
}

/// Configured + primary + requested timeframes, finest first; none finer than the base.
pub fn run_timeframes(
    base: Timeframe,
    primary: Timeframe,
    configured: &[Timeframe],
    declared: &[Timeframe],
) -> Result<Vec<Timeframe>, EngineError> {
    let mut wanted: Vec<Timeframe> = std::iter::once(primary)
        .chain(configured.iter().copied())
        .chain(declared.iter().copied())
        .collect();
    wanted.sort_by_key(|tf| tf.seconds());
    wanted.dedup();
    if let Some(tf) = wanted.iter().find(|tf| tf.seconds() < base.seconds()) {
        return Err(EngineError::Config(format!(
            "timeframes: {} is finer than the data's base timeframe {}",
            tf.name(),
            base.name()
        )));
    }
    Ok(wanted)
}

impl<'a> Frames<'a> {
    /// Resamples every run timeframe from `base`, which must have columns of equal length
    /// but is otherwise unchecked: see `base_checked`.
    pub fn build(
        base: BarColumns<'a>,
        base_tf: Timeframe,
        primary: Timeframe,
        timeframes: Vec<Timeframe>,
    ) -> Self {
        let mut stores = Vec::with_capacity(timeframes.len());
        // Base ranges of each owned frame, parallel to `stores` (None for the base itself).
        let mut all_bounds: Vec<Option<Vec<usize>>> = Vec::with_capacity(timeframes.len());
        let mut base_checked = None;
        for (k, &tf) in timeframes.iter().enumerate() {
            if tf == base_tf {
                stores.push(FrameStore::Borrowed(base));
                all_bounds.push(None);
                continue;
            }
            // Timeframes come finest first: the coarsest finer frame that divides `tf` has
            // the fewest bars to read (H1 from M5 instead of from M1).
            let finer = (0..k)
                .rev()
                .find(|&f| tf.nanos() % timeframes[f].nanos() == 0 && all_bounds[f].is_some());
            let (bars, bounds) = match finer {
                Some(f) => resample_coarser(
                    &stores[f].columns(),
                    all_bounds[f].as_deref().expect("owned frames have bounds"),
                    base.volume,
                    tf,
                ),
                None => {
                    let (bars, bounds, ok) = resample_checking_parallel(&base, tf);
                    base_checked = Some(base_checked.unwrap_or(true) && ok);
                    (bars, bounds)
                }
            };
            stores.push(FrameStore::Owned(bars));
            all_bounds.push(Some(bounds));
        }
        let primary_bounds = timeframes
            .iter()
            .position(|&tf| tf == primary)
            .and_then(|k| all_bounds.swap_remove(k));
        all_bounds.into_iter().flatten().for_each(buffers::give);
        let primary_index = timeframes
            .iter()
            .position(|&tf| tf == primary)
            .expect("primary is a run timeframe");
        Frames {
            base,
            timeframes,
            stores,
            primary_bounds,
            primary: primary_index,
            base_checked,
        }
    }

    /// The primary frame's bar times, moved out when the frame was resampled (no copy); when
    /// it is the base, a copy of the base times, or nothing unless `copy_base`.
    pub fn into_primary_time(mut self, copy_base: bool) -> Vec<i64> {
        match &mut self.stores[self.primary] {
            FrameStore::Borrowed(c) if copy_base => c.time.to_vec(),
            FrameStore::Borrowed(_) => Vec::new(),
            FrameStore::Owned(o) => std::mem::take(&mut o.time),
        }
    }

    pub fn columns(&self, timeframe: Timeframe) -> Option<BarColumns<'_>> {
        let k = self.timeframes.iter().position(|&tf| tf == timeframe)?;
        Some(self.stores[k].columns())
    }
}

impl Drop for Frames<'_> {
    /// Resampled columns and bounds go to the next run (see `omega_indicators::buffers`).
    fn drop(&mut self) {
        for store in std::mem::take(&mut self.stores) {
            if let FrameStore::Owned(bars) = store {
                bars.recycle();
            }
        }
        if let Some(bounds) = self.primary_bounds.take() {
            buffers::give(bounds);
        }
    }
}

/// Computes every requested series into `cache` (one `mid` column set per timeframe if asked;
/// series are computed on up to two threads, see `IndicatorCache::ensure_all`).
pub fn compute_indicators(
    frames: &Frames<'_>,
    requests: &[IndicatorKey],
    cache: &mut IndicatorCache,
) -> Result<(), EngineError> {
    let columns_of = |key: &IndicatorKey| {
        frames.columns(key.timeframe).ok_or_else(|| {
            EngineError::Internal(format!(
                "indicator timeframe {} has no frame",
                key.timeframe.name()
            ))
        })
    };
    let mut mid: Vec<(Timeframe, [Vec<f64>; 4])> = Vec::new();
    for key in requests {
        let bars = columns_of(key)?;
        if key.side == PriceSide::Mid && !mid.iter().any(|(tf, _)| *tf == key.timeframe) {
            let avg = |b: &[f64], a: &[f64]| b.iter().zip(a).map(|(b, a)| (b + a) * 0.5).collect();
            mid.push((
                key.timeframe,
                [
                    avg(bars.bid_open, bars.ask_open),
                    avg(bars.bid_high, bars.ask_high),
                    avg(bars.bid_low, bars.ask_low),
                    avg(bars.bid_close, bars.ask_close),
                ],
            ));
        }
    }
    let mut jobs = Vec::with_capacity(requests.len());
    for key in requests {
        let bars = columns_of(key)?;
        let [open, high, low, close] = match bars.side(key.side) {
            Some(columns) => columns,
            None => {
                let (_, [open, high, low, close]) = mid
                    .iter()
                    .find(|(tf, _)| *tf == key.timeframe)
                    .expect("inserted above");
                [&open[..], &high[..], &low[..], &close[..]]
            }
        };
        jobs.push((
            *key,
            SideColumns {
                open,
                high,
                low,
                close,
            },
        ));
    }
    cache.ensure_all(&jobs).map_err(|e| {
        // The failing key, for the message: the first job whose series is still missing.
        let spec = jobs
            .iter()
            .find(|(key, _)| cache.get(key).is_none())
            .map(|(key, _)| key.spec);
        EngineError::Config(format!("indicator {spec:?}: {e}"))
    })
}

//! Parameter sweeps: many runs of strategies over one data set. The input is checked and
//! resampled once, each indicator series is computed once for every run that reads it, and
//! the runs' event loops share the cores. Each run gives the metrics of a single
//! [`run_backtest`](crate::run_backtest) of the same strategy, bit for bit.

use crate::bars::{check_input, has_shape};
use crate::error::{panic_message, EngineError};
use crate::market::{compute_indicators, Frames};
use crate::metrics::Metrics;
use crate::run::{build_checked_frames, execute, plan, run_keys, RunOptions};
use crate::settings::EngineSettings;
use omega_indicators::IndicatorCache;
use omega_strategy_api::{BarColumns, IndicatorKey, Strategy, Timeframe};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

/// What one run of a sweep gives: its metrics, or why it failed (its own error, as the same
/// strategy in a single run would report it).
pub type SweepResult = Result<Metrics, EngineError>;

/// One run's plan: its indicator requests and timeframes.
type Planned = Result<(Vec<IndicatorKey>, Vec<Timeframe>), EngineError>;

/// Runs every strategy of `strategies` over `base` with `settings` on up to `threads`
/// threads, results in the order of `strategies`. `progress(done)` is called on the calling
/// thread after each finished run; when it returns `false` the sweep stops early and the
/// runs not started are reported as cancelled.
///
/// Errors of the input data or the settings fail the whole sweep (every run would fail with
/// them); a strategy's own errors (its parameters, a bad signal) fail only its run.
pub fn run_sweep<S: Strategy + Send>(
    base: BarColumns<'_>,
    base_tf: Timeframe,
    settings: &EngineSettings,
    strategies: Vec<S>,
    threads: usize,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<SweepResult>, EngineError> {
    settings.validate()?;
    if !has_shape(&base) {
        check_input(&base)?;
    }
    let mut strategies = strategies;
    let plans: Vec<Planned> = strategies
        .iter_mut()
        .map(|s| plan(s, base_tf, settings))
        .collect();
    // Every run reads the base: bad input fails them all, whatever else they would report.
    if plans.iter().any(Result::is_err) {
        check_input(&base)?;
    }
    let mut timeframes: Vec<Timeframe> = plans
        .iter()
        .flatten()
        .flat_map(|(_, tfs)| tfs.iter().copied())
        .chain([settings.primary_timeframe])
        .collect();
    timeframes.sort_by_key(|tf| tf.seconds());
    timeframes.dedup();
    let frames = build_checked_frames(base, base_tf, settings.primary_timeframe, timeframes)?;

    // Series are computed per run (a key shared by runs only once), so an indicator error
    // is reported for the runs that asked for it.
    let mut cache = IndicatorCache::new();
    let plans: Vec<Planned> = plans
        .into_iter()
        .map(|planned| {
            let (requests, tfs) = planned?;
            compute_indicators(&frames, &run_keys(&requests, settings), &mut cache)?;
            Ok((requests, tfs))
        })
        .collect();

    let jobs: Vec<Mutex<(S, Planned)>> =
        strategies.into_iter().zip(plans).map(Mutex::new).collect();
    Ok(execute_all(
        &frames, &cache, settings, &jobs, threads, progress,
    ))
}

/// The event loops of `jobs` on `threads` workers pulling the next job from a counter.
fn execute_all<S: Strategy + Send>(
    frames: &Frames<'_>,
    cache: &IndicatorCache,
    settings: &EngineSettings,
    jobs: &[Mutex<(S, Planned)>],
    threads: usize,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Vec<SweepResult> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<SweepResult>> = (0..jobs.len()).map(|_| None).collect();
    let (sender, finished) = mpsc::channel::<(usize, SweepResult)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, jobs.len().max(1)) {
            let sender = sender.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= jobs.len() || stop.load(Ordering::Relaxed) {
                    break;
                }
                let mut job = jobs[k].lock().unwrap_or_else(|p| p.into_inner());
                let (strategy, planned) = &mut *job;
                let result = catch_unwind(AssertUnwindSafe(|| {
                    run_one(frames, cache, settings, strategy, planned)
                }))
                .unwrap_or_else(|panic| {
                    let message = panic_message(panic.as_ref());
                    Err(EngineError::Internal(format!("a run panicked: {message}")))
                });
                if sender.send((k, result)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        let mut done = 0;
        for (k, result) in finished {
            results[k] = Some(result);
            done += 1;
            if !progress(done) {
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(EngineError::Cancelled)))
        .collect()
}

fn run_one<S: Strategy>(
    frames: &Frames<'_>,
    cache: &IndicatorCache,
    settings: &EngineSettings,
    strategy: &mut S,
    planned: &Planned,
) -> SweepResult {
    let (requests, timeframes) = planned.as_ref().map_err(Clone::clone)?;
    let out = execute(
        frames,
        timeframes,
        requests,
        cache,
        settings,
        strategy,
        RunOptions::default(),
    )?;
    let equity_time = frames
        .columns(settings.primary_timeframe)
        .map(|bars| bars.time)
        .unwrap_or_default();
    Metrics::from_output(
        &out,
        equity_time,
        settings.initial_balance,
        settings.primary_timeframe.nanos(),
    )
    .map_err(|e| EngineError::Internal(format!("metrics: {e}")))
}

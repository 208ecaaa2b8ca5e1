//! Parameter sweeps: many runs of strategies over one data set. The input is checked and
//! resampled once, each indicator series is computed once for every run that reads it, and
//! the runs' event loops share the cores. Each run gives the metrics of a single
//! [`run_backtest`](crate::run_backtest) of the same strategy, bit for bit.

use crate::bars::{check_input, has_shape};
use crate::error::{panic_message, EngineError};
use crate::market::Frames;
use crate::metrics::{assemble, ratios_from_sums, ratios_undefined, Metrics, RunSummary};
use crate::run::{
    build_checked_frames, compute_declared, execute, init_strategy, plan, Plan, Prepared,
    RunOptions, StepInputs, Stepper, StreamedRun,
};
use crate::settings::EngineSettings;
use crate::streamed::SecondPass;
use omega_indicators::IndicatorCache;
use omega_strategy_api::{BarColumns, Strategy, Timeframe};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

/// What one run of a sweep gives: its metrics, or why it failed (its own error, as the same
/// strategy in a single run would report it).
pub type SweepResult = Result<Metrics, EngineError>;

/// One run's plan: its declarations and timeframes.
type Planned = Result<Plan, EngineError>;

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
        .flat_map(|plan| plan.timeframes.iter().copied())
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
            let plan = planned?;
            compute_declared(&frames, &plan.declared, settings, &mut cache)?;
            Ok(plan)
        })
        .collect();

    let jobs: Vec<Mutex<(S, Planned)>> =
        strategies.into_iter().zip(plans).map(Mutex::new).collect();
    Ok(execute_all(
        &frames, &cache, settings, &jobs, threads, progress,
    ))
}

/// Bars of a block: every set of a group steps them before the next block, so the block's
/// prices and indicator values are read from cache by all but the first set.
const BLOCK: usize = 1024;
/// Sets stepped together at most: their state (a few dozen bytes per fill for the second
/// pass) is held until the group ends, so a group is not larger than the cache sharing needs.
const GROUP: usize = 16;

/// The event loops of `jobs` on `threads` workers pulling the next group of jobs from a
/// counter. A group is stepped in blocks of bars (all its sets over one block, then the
/// next block); each run keeps no equity curve and no trade log, only what its metrics
/// need. Groups are small enough that each worker gets several (progress, cancellation).
fn execute_all<S: Strategy + Send>(
    frames: &Frames<'_>,
    cache: &IndicatorCache,
    settings: &EngineSettings,
    jobs: &[Mutex<(S, Planned)>],
    threads: usize,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Vec<SweepResult> {
    let workers = threads.clamp(1, jobs.len().max(1));
    // Groups of equal size (every set costs about the same), a multiple of the workers in
    // number so none waits for another at the end, four per worker or more.
    let count = (workers * 4)
        .max(jobs.len().div_ceil(GROUP))
        .next_multiple_of(workers);
    let count = count.min(jobs.len()).max(1);
    let groups: Vec<std::ops::Range<usize>> = (0..count)
        .map(|g| g * jobs.len() / count..(g + 1) * jobs.len() / count)
        .filter(|range| !range.is_empty())
        .collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<SweepResult>> = (0..jobs.len()).map(|_| None).collect();
    let (sender, finished) = mpsc::channel::<(usize, SweepResult)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, stop, groups) = (&next, &stop, &groups);
            scope.spawn(move || loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                if g >= groups.len() || stop.load(Ordering::Relaxed) {
                    break;
                }
                let range = groups[g].clone();
                let outcomes = run_group(frames, cache, settings, &jobs[range.clone()]);
                for (k, result) in range.zip(outcomes) {
                    if sender.send((k, result)).is_err() {
                        return;
                    }
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

/// A panic of a run's code, as that run's error.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> EngineError {
    let message = panic_message(panic.as_ref());
    EngineError::Internal(format!("a run panicked: {message}"))
}

/// The runs of `jobs`, stepped together block by block.
fn run_group<S: Strategy>(
    frames: &Frames<'_>,
    cache: &IndicatorCache,
    settings: &EngineSettings,
    jobs: &[Mutex<(S, Planned)>],
) -> Vec<SweepResult> {
    let mut guards: Vec<_> = jobs
        .iter()
        .map(|job| job.lock().unwrap_or_else(|p| p.into_inner()))
        .collect();
    let conversion = match settings.validate() {
        Ok(conversion) => conversion,
        Err(error) => return guards.iter().map(|_| Err(error.clone())).collect(),
    };
    let Some(primary) = frames.columns(settings.primary_timeframe) else {
        let error = EngineError::Internal("the primary frame was not prepared".into());
        return guards.iter().map(|_| Err(error.clone())).collect();
    };
    let n = primary.len();
    // Each run's prepared views, or its own error (its plan's, a missing series).
    let mut strategies: Vec<&mut S> = Vec::with_capacity(guards.len());
    let mut plans: Vec<&Planned> = Vec::with_capacity(guards.len());
    let mut prepared: Vec<Result<Prepared<'_>, EngineError>> = Vec::with_capacity(guards.len());
    for guard in guards.iter_mut() {
        let (strategy, planned) = &mut **guard;
        prepared.push(planned.as_ref().map_err(Clone::clone).and_then(|plan| {
            Prepared::new(frames, &plan.timeframes, &plan.declared, cache, settings)
        }));
        strategies.push(strategy);
        plans.push(planned);
    }
    let inputs: Vec<Option<StepInputs<'_, '_>>> = prepared
        .iter()
        .map(|p| p.as_ref().ok().map(Prepared::inputs))
        .collect();
    let mut failed: Vec<Option<EngineError>> =
        prepared.iter().map(|p| p.as_ref().err().cloned()).collect();
    let mut steppers: Vec<Option<Stepper>> = prepared
        .iter()
        .map(|p| {
            p.as_ref().ok().map(|p| {
                Stepper::streamed(settings, conversion, &p.timeframes(), RunOptions::default())
            })
        })
        .collect();

    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        for k in 0..steppers.len() {
            let (Some(stepper), Some(inputs)) = (steppers[k].as_mut(), inputs[k].as_ref()) else {
                continue;
            };
            let strategy = &mut *strategies[k];
            let stepped = catch_unwind(AssertUnwindSafe(|| {
                (start..end).try_for_each(|i| stepper.step(i, inputs, settings, strategy))?;
                // The block's equity while its closes are in cache (the last bar's waits
                // for the final balance).
                stepper.take_equity(end.min(n - 1), &primary);
                Ok(())
            }));
            let error = match stepped {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => error,
                Err(panic) => panicked(panic),
            };
            failed[k] = Some(error);
            steppers[k] = None;
        }
    }

    // The second pass over the returns (their squared deviations from the mean), in blocks too.
    let runs: Vec<Option<StreamedRun>> = steppers
        .into_iter()
        .map(|s| s.map(|s| s.finish_streamed(primary, frames.base.len())))
        .collect();
    let mut seconds: Vec<Option<SecondPass>> = runs
        .iter()
        .map(|r| r.as_ref().map(|r| r.first.second_pass()))
        .collect();
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        for (run, second) in runs.iter().zip(&mut seconds) {
            if let (Some(run), Some(second)) = (run, second.as_mut()) {
                run.first
                    .advance(second, end, primary.bid_close, primary.ask_close);
            }
        }
    }

    let mut outcomes = Vec::with_capacity(runs.len());
    for (k, (run, second)) in runs.into_iter().zip(seconds).enumerate() {
        let outcome = match (failed[k].take(), run, second) {
            (Some(error), _, _) => Err(error),
            (None, Some(run), Some(second))
                if !(run.first.exotic || second.exotic || run.tally.exotic()) =>
            {
                streamed_metrics(run, &second, primary.time, settings)
            }
            // A value an exact sum declined: the run again, the ordinary way.
            _ => {
                let strategy = &mut *strategies[k];
                catch_unwind(AssertUnwindSafe(|| {
                    // A new run of the strategy, as a single run starts one.
                    init_strategy(strategy, settings)?;
                    run_one(frames, cache, settings, strategy, plans[k])
                }))
                .unwrap_or_else(|panic| Err(panicked(panic)))
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}
/// The metrics of a streamed run, as [`Metrics::from_output`] gives them for its curve and
/// trades.
fn streamed_metrics(
    run: StreamedRun,
    second: &SecondPass,
    equity_time: &[i64],
    settings: &EngineSettings,
) -> SweepResult {
    let StreamedRun {
        first,
        tally,
        final_balance,
        bars_processed,
        base_bars,
        ignored_signals,
        dropped_orders,
        skipped_orders,
    } = run;
    let (n, sum, downsides) = (first.n, first.sum, first.downsides);
    let summary = RunSummary {
        equity_time,
        timeframe_ns: settings.primary_timeframe.nanos(),
        initial_balance: settings.initial_balance,
        final_balance,
        equity_len: n,
        bars_processed,
        base_bars,
        ignored_signals,
        dropped_orders,
        skipped_orders,
    };
    assemble(
        &summary,
        first.drawdown,
        |periods_per_year| {
            Ok(if ratios_undefined(n, periods_per_year) {
                (f64::NAN, f64::NAN)
            } else {
                ratios_from_sums(n, sum, second.squares(), downsides, periods_per_year)
            })
        },
        || Ok(tally.stats(bars_processed)),
    )
    .map_err(|e| EngineError::Internal(format!("metrics: {e}")))
}

/// One run the ordinary way: its curve and trades, then their metrics.
fn run_one<S: Strategy>(
    frames: &Frames<'_>,
    cache: &IndicatorCache,
    settings: &EngineSettings,
    strategy: &mut S,
    planned: &Planned,
) -> SweepResult {
    let plan = planned.as_ref().map_err(Clone::clone)?;
    let out = execute(
        frames,
        &plan.timeframes,
        &plan.declared,
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

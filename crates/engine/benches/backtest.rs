//! Engine throughput without Python on deterministic synthetic M1 bars (a random walk driven
//! by SplitMix64, spread 1 pip), in elements (input bars) per second: resampling, the event
//! loop alone (a strategy that never trades), and whole backtests of the built-in strategies
//! (the python-bench workloads: M5 primary with H1 for mean reversion, M1 for the others).
//! Short runs so `nox -s bench` stays fast; `-- --save-baseline NAME` / `--baseline NAME`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use omega_engine::resample::{resample, resample_checking_parallel, resample_coarser};
use omega_engine::{run_backtest, EngineSettings, OwnedBars, RunOptions};
use omega_strategy_api::{DataSlice, RunContext, Strategy, StrategyError, Timeframe, TradeSignal};
use std::time::Duration;

#[path = "common/workload.rs"]
mod workload;
use workload::workload_settings;

const N: usize = 1_000_000;

fn short(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
}

fn resampling(c: &mut Criterion) {
    let bars = OwnedBars::random_walk(N, 7);
    let (m5, m5_bounds) = resample(&bars.columns(), Timeframe::M5);
    let mut group = c.benchmark_group("resample_1m_m1");
    short(&mut group);
    group.bench_function("m1_to_m5", |b| {
        b.iter(|| resample(&bars.columns(), Timeframe::M5))
    });
    group.bench_function("m1_to_m5_checked_two_threads", |b| {
        b.iter(|| resample_checking_parallel(&bars.columns(), Timeframe::M5))
    });
    group.bench_function("m1_to_h1", |b| {
        b.iter(|| resample(&bars.columns(), Timeframe::H1))
    });
    group.bench_function("m5_to_h1", |b| {
        b.iter(|| resample_coarser(&m5.columns(), &m5_bounds, &bars.volume, Timeframe::H1))
    });
    group.finish();
}

/// Declares nothing, never trades: what is left is the loop's own cost per bar.
struct Idle;

impl Strategy for Idle {
    fn name(&self) -> &str {
        "idle"
    }
    fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        Ok(())
    }
    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Ok(None)
    }
}

fn event_loop(c: &mut Criterion) {
    let bars = OwnedBars::random_walk(N, 7);
    let mut group = c.benchmark_group("event_loop_1m_m1");
    short(&mut group);
    for primary in [Timeframe::M1, Timeframe::M5] {
        let settings = EngineSettings {
            primary_timeframe: primary,
            timeframes: vec![primary],
            ..EngineSettings::default()
        };
        group.bench_function(BenchmarkId::new("idle", primary.name()), |b| {
            b.iter(|| {
                run_backtest(
                    bars.columns(),
                    Timeframe::M1,
                    &settings,
                    &mut Idle,
                    RunOptions::default(),
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

fn backtests(c: &mut Criterion) {
    let bars = OwnedBars::random_walk(N, 7);
    let mut group = c.benchmark_group("backtest_1m_m1");
    short(&mut group);
    for name in omega_strategies::NAMES {
        let settings = workload_settings(name);
        group.bench_with_input(BenchmarkId::from_parameter(name), name, |bench, name| {
            bench.iter(|| {
                let mut strategy = omega_strategies::build(name, &[]).unwrap();
                run_backtest(
                    bars.columns(),
                    Timeframe::M1,
                    &settings,
                    &mut strategy,
                    RunOptions::default(),
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, resampling, event_loop, backtests);
criterion_main!(benches);

//! `run_sweep` throughput without Python: `sma_cross` over every fast < slow pair of 21
//! windows (5, 10, .., 105: 210 sets, the grid of `omega.bench.sweeps`) on a 200,000-bar M1
//! random walk, on two threads. Elements are bar-evaluations (sets x bars), so criterion's
//! throughput line reads directly against the target (bar-evaluations per second).
//! `cargo bench -p omega-engine --bench sweep`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use omega_engine::{run_sweep, OwnedBars};
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{ParamValue, Timeframe};
use std::time::Duration;

#[path = "common/workload.rs"]
mod workload;
use workload::workload_settings;

const BARS: usize = 200_000;

fn grid() -> Vec<BuiltinStrategy> {
    let windows: Vec<i64> = (5..110).step_by(5).collect();
    let mut sets = Vec::new();
    for (k, &fast) in windows.iter().enumerate() {
        for &slow in &windows[k + 1..] {
            let params = [
                ("fast".to_string(), ParamValue::Int(fast)),
                ("slow".to_string(), ParamValue::Int(slow)),
            ];
            sets.push(omega_strategies::build("sma_cross", &params).expect("valid parameters"));
        }
    }
    sets
}

fn sweep(c: &mut Criterion) {
    let bars = OwnedBars::random_walk(BARS, 7);
    let settings = workload_settings("sma_cross");
    let sets = grid().len();
    let mut group = c.benchmark_group("sweep_sma_cross_200k_m1");
    group.throughput(Throughput::Elements((sets * BARS) as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(20));
    group.bench_function(format!("{sets}_sets_2_threads"), |b| {
        b.iter_batched(
            grid,
            |strategies| {
                run_sweep(
                    bars.columns(),
                    Timeframe::M1,
                    &settings,
                    strategies,
                    2,
                    &mut |_| true,
                )
                .expect("the sweep runs")
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);

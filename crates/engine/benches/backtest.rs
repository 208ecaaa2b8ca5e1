//! Whole backtests of the built-in strategies on deterministic synthetic M1 bars (a random
//! walk driven by SplitMix64, spread 1 pip): rust-mode throughput without Python.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use omega_engine::{run_backtest, EngineSettings, OwnedBars, RunOptions, SplitMix64};
use omega_strategy_api::Timeframe;

fn random_walk(n: usize, seed: u64) -> OwnedBars {
    let mut rng = SplitMix64::new(seed);
    let mut b = OwnedBars::with_capacity(n);
    let mut price = 1.1;
    for i in 0..n {
        let open = price;
        let mut high = open;
        let mut low = open;
        for _ in 0..4 {
            price += (rng.next_f64() - 0.5) * 0.0004;
            high = high.max(price);
            low = low.min(price);
        }
        b.time.push(i as i64 * 60_000_000_000);
        for (col, v) in [
            (&mut b.bid_open, open),
            (&mut b.bid_high, high),
            (&mut b.bid_low, low),
            (&mut b.bid_close, price),
        ] {
            col.push(v);
        }
        for (col, v) in [
            (&mut b.ask_open, open),
            (&mut b.ask_high, high),
            (&mut b.ask_low, low),
            (&mut b.ask_close, price),
        ] {
            col.push(v + 0.0001);
        }
        b.volume.push(1.0);
    }
    b
}

fn backtests(c: &mut Criterion) {
    let n = 300_000;
    let bars = random_walk(n, 7);
    let settings = EngineSettings {
        timeframes: vec![Timeframe::M5, Timeframe::H1],
        ..EngineSettings::default()
    };
    let mut group = c.benchmark_group("backtest_300k_m1");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(20);
    for name in omega_strategies::NAMES {
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

criterion_group!(benches, backtests);
criterion_main!(benches);

//! Every indicator over 1M bars of a deterministic random walk, through `compute_into` (what
//! the engine calls), in elements (bars) per second. Short runs: `cargo bench -p
//! omega-indicators` stays fast; `-- --save-baseline NAME` / `--baseline NAME` compare.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use omega_indicators::{compute_into, SideColumns};
use omega_strategy_api::{IndicatorSpec, PriceField};
use std::time::Duration;

/// High, low, close of a random walk (an LCG: no dependency, same series every run).
fn walk(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let (mut open, mut high, mut low, mut close) = (vec![], vec![], vec![], vec![]);
    let mut price = 1.1;
    for _ in 0..n {
        let o = price;
        price += next() * 0.0004;
        let spread = next().abs() * 0.0002;
        open.push(o);
        high.push(o.max(price) + spread);
        low.push(o.min(price) - spread);
        close.push(price);
    }
    (open, high, low, close)
}

fn indicators(c: &mut Criterion) {
    let n = 1_000_000;
    let (open, high, low, close) = walk(n);
    let columns = SideColumns {
        open: &open,
        high: &high,
        low: &low,
        close: &close,
    };
    let field = PriceField::Close;
    let specs: [(&str, IndicatorSpec); 9] = [
        ("sma_30", IndicatorSpec::Sma { period: 30, field }),
        ("ema_50", IndicatorSpec::Ema { period: 50, field }),
        ("rsi_14", IndicatorSpec::Rsi { period: 14, field }),
        ("atr_14", IndicatorSpec::Atr { period: 14 }),
        (
            "rolling_std_50",
            IndicatorSpec::RollingStd { period: 50, field },
        ),
        (
            "bollinger_20_upper",
            IndicatorSpec::Bollinger {
                period: 20,
                k_up: 2.0,
                k_down: 2.0,
                band: 1,
                field,
            },
        ),
        ("zscore_50", IndicatorSpec::ZScore { period: 50, field }),
        (
            "kalman",
            IndicatorSpec::Kalman {
                q: 0.01,
                r: 1.0,
                x0: None,
                p0: 1.0,
                field,
            },
        ),
        (
            "kalman_zscore_200",
            IndicatorSpec::KalmanZScore {
                q: 0.01,
                r: 1.0,
                x0: None,
                p0: 1.0,
                lookback: 200,
                field,
            },
        ),
    ];
    let mut out = vec![0.0; n];
    let mut group = c.benchmark_group("indicators_1m");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, spec) in specs {
        group.bench_with_input(BenchmarkId::from_parameter(name), &spec, |b, spec| {
            b.iter(|| compute_into(spec, &columns, &mut out).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, indicators);
criterion_main!(benches);

//! Each built-in strategy's own cost per bar: `evaluate` (and `manage_position` at every
//! other bar, as if a position were open) over 1M prepared slices, without the engine's
//! execution. Frames and indicators are computed once outside the timing; elements are bars.
//! Short runs: `cargo bench -p omega-strategies`; `-- --save-baseline NAME` to compare.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use omega_indicators::{compute, SideColumns};
use omega_strategy_api::{
    BarColumns, DataSlice, Declared, FrameView, IndicatorKey, IndicatorView, Instrument,
    InstrumentId, Position, PriceSide, RunContext, Side, SliceParts, Strategy, Timeframe,
};
use std::time::Duration;

const N: usize = 1_000_000;

/// M1 bars of a random walk (an LCG: no dependency, the same series every run).
struct Walk {
    time: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

fn walk(n: usize) -> Walk {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut w = Walk {
        time: Vec::with_capacity(n),
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
    };
    let mut price = 1.1;
    for i in 0..n {
        let o = price;
        price += next() * 0.0004;
        let wick = next().abs() * 0.0002;
        w.time.push(i as i64 * 60_000_000_000);
        w.open.push(o);
        w.high.push(o.max(price) + wick);
        w.low.push(o.min(price) - wick);
        w.close.push(price);
    }
    w
}

fn columns(w: &Walk) -> BarColumns<'_> {
    BarColumns {
        time: &w.time,
        bid_open: &w.open,
        bid_high: &w.high,
        bid_low: &w.low,
        bid_close: &w.close,
        ask_open: &w.open,
        ask_high: &w.high,
        ask_low: &w.low,
        ask_close: &w.close,
        volume: &w.close,
    }
}

/// Buckets of `tf` over M1 bars (first open, max high, min low, last close).
fn coarser(w: &Walk, tf: Timeframe) -> Walk {
    let tf = tf.nanos();
    let mut out = walk(0);
    for i in 0..w.time.len() {
        let bucket = w.time[i].div_euclid(tf) * tf;
        if out.time.last() != Some(&bucket) {
            out.time.push(bucket);
            out.open.push(w.open[i]);
            out.high.push(w.high[i]);
            out.low.push(w.low[i]);
            out.close.push(w.close[i]);
        } else {
            let k = out.time.len() - 1;
            out.high[k] = out.high[k].max(w.high[i]);
            out.low[k] = out.low[k].min(w.low[i]);
            out.close[k] = w.close[i];
        }
    }
    out
}

fn strategies(c: &mut Criterion) {
    let m1 = walk(N);
    let mut group = c.benchmark_group("strategy_per_bar_1m");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for name in omega_strategies::NAMES {
        // The python-bench workloads: mean reversion on M5 with an H1 trend, others on M1.
        let (primary, frames_data): (Timeframe, Vec<(Timeframe, Walk)>) =
            if *name == "mean_reversion_z_score" {
                (
                    Timeframe::M5,
                    vec![
                        (Timeframe::M5, coarser(&m1, Timeframe::M5)),
                        (Timeframe::H1, coarser(&m1, Timeframe::H1)),
                    ],
                )
            } else {
                (
                    Timeframe::M1,
                    vec![(Timeframe::M1, coarser(&m1, Timeframe::M1))],
                )
            };
        let frames: Vec<FrameView<'_>> = frames_data
            .iter()
            .map(|(timeframe, w)| FrameView {
                timeframe: *timeframe,
                bars: columns(w),
            })
            .collect();
        let mut strategy = omega_strategies::build(name, &[]).unwrap();
        let instrument = Instrument::default();
        let timeframes: Vec<Timeframe> = frames.iter().map(|f| f.timeframe).collect();
        let params = strategy.params().cloned().unwrap_or_default();
        let start = |strategy: &mut omega_strategies::BuiltinStrategy| {
            let mut ctx = RunContext::new(&instrument, primary, &timeframes, &params);
            strategy.init(&mut ctx).unwrap();
            ctx.into_parts().0
        };
        let keys: Vec<IndicatorKey> = start(&mut strategy)
            .into_iter()
            .map(|d| match d {
                Declared::Builtin(key) => key,
                Declared::Custom(c) => panic!("a built-in strategy declared {c:?}"),
            })
            .collect();
        let series: Vec<Vec<f64>> = keys
            .iter()
            .map(|key| {
                let w = &frames_data
                    .iter()
                    .find(|(tf, _)| *tf == key.timeframe)
                    .unwrap()
                    .1;
                assert_eq!(key.side, PriceSide::Bid);
                let side = SideColumns {
                    open: &w.open,
                    high: &w.high,
                    low: &w.low,
                    close: &w.close,
                };
                compute(&key.spec, &side).unwrap()
            })
            .collect();
        let indicators: Vec<IndicatorView<'_>> = keys
            .iter()
            .zip(&series)
            .map(|(key, values)| IndicatorView {
                frame: timeframes
                    .iter()
                    .position(|&tf| tf == key.timeframe)
                    .unwrap(),
                values,
            })
            .collect();
        let n_primary = frames[0].bars.len();
        // Visible counts per primary close, computed once (the engine's cursors do this).
        let visible: Vec<Vec<usize>> = (0..n_primary)
            .map(|i| {
                let close = frames[0].bars.time[i] + primary.nanos();
                frames
                    .iter()
                    .map(|f| {
                        f.bars
                            .time
                            .partition_point(|&t| t + f.timeframe.nanos() <= close)
                    })
                    .collect()
            })
            .collect();
        let position = Position {
            side: Side::Long,
            size: 1.0,
            entry_price: 1.1,
            entry_time: 0,
            entry_index: 0,
            stop_loss: None,
            take_profit: None,
            bars_held: 1,
            mfe: 0.0,
            entry_fee: 0.0,
            max_bars: None,
            unrealized_pnl: 0.0,
            tag: String::new(),
            instrument: InstrumentId(0),
        };
        group.throughput(Throughput::Elements(n_primary as u64));
        group.bench_function(BenchmarkId::new(*name, primary.name()), |b| {
            b.iter(|| {
                let _ = start(&mut strategy); // a run starts
                let mut signals = 0usize;
                for (i, visible) in visible.iter().enumerate() {
                    let held = i % 2 == 1;
                    let slice = DataSlice::new(SliceParts {
                        index: i,
                        primary,
                        frames: &frames,
                        visible,
                        indicators: &indicators,
                        position: held.then_some(&position),
                        recorder: None,
                        instrument: InstrumentId(0),
                        in_session: true,
                    });
                    if held {
                        let actions = strategy.manage_position(&position, &slice).unwrap();
                        signals += actions.len();
                    }
                    signals += usize::from(strategy.evaluate(&slice).unwrap().is_some());
                }
                signals
            })
        });
    }
    group.finish();
}

criterion_group!(benches, strategies);
criterion_main!(benches);

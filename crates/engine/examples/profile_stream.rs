//! Streams the bench's 1M-bar random walk through a `StreamSession` a few times, for
//! profilers; prints the time per stream next to a backtest of the same bars.
//! `cargo run --release -p omega-engine --example profile_stream -- mean_reversion_z_score 5`

use omega_engine::{run_backtest, OwnedBars, RunOptions, StreamSession};
use omega_strategy_api::Timeframe;
use std::time::Instant;

#[path = "../benches/common/workload.rs"]
mod workload;
use workload::workload_settings;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("mean_reversion_z_score", String::as_str);
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let bars = OwnedBars::random_walk(1_000_000, 7);
    let settings = workload_settings(name);
    let build = || omega_strategies::build(name, &[]).expect("a built-in strategy");
    let columns = bars.columns();
    let started = Instant::now();
    for _ in 0..runs {
        let mut session = StreamSession::new(
            Timeframe::M1,
            settings.clone(),
            build(),
            RunOptions::default(),
        )
        .expect("a valid session");
        for i in 0..columns.len() {
            session.push(columns.bar(i)).expect("valid bars");
        }
        session.finish().expect("the stream finishes");
    }
    let stream = started.elapsed().as_secs_f64() / runs as f64;
    let started = Instant::now();
    for _ in 0..runs {
        run_backtest(
            columns,
            Timeframe::M1,
            &settings,
            &mut build(),
            RunOptions::default(),
        )
        .expect("the run succeeds");
    }
    let batch = started.elapsed().as_secs_f64() / runs as f64;
    println!(
        "{name}: stream {:.1} ms, backtest {:.1} ms per 1M bars",
        stream * 1e3,
        batch * 1e3
    );
}

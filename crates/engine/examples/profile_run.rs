//! Runs one built-in strategy's backtest a fixed number of times on the bench's 1M-bar random
//! walk, for profilers (`perf record`, `perf stat`): per-run costs are totals / runs.
//! `cargo run --release -p omega-engine --example profile_run -- sma_cross 50`

use omega_engine::{run_backtest, OwnedBars, RunOptions};
use omega_strategy_api::Timeframe;

#[path = "../benches/common/workload.rs"]
mod workload;
use workload::workload_settings;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("mean_reversion_z_score", String::as_str);
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(50);
    let bars = OwnedBars::random_walk(1_000_000, 7);
    let settings = workload_settings(name);
    let started = std::time::Instant::now();
    let mut trades = 0;
    for _ in 0..runs {
        let mut strategy = omega_strategies::build(name, &[]).expect("a built-in strategy");
        let out = run_backtest(
            bars.columns(),
            Timeframe::M1,
            &settings,
            &mut strategy,
            RunOptions::default(),
        )
        .expect("the run succeeds");
        trades = out.trades.len();
    }
    let per_run = started.elapsed().as_secs_f64() / runs as f64;
    println!(
        "{name}: {runs} runs, {trades} trades, {:.3} ms per run",
        per_run * 1e3
    );
}

//! Runs the bench's `sma_cross` sweep (every fast < slow pair of 21 windows 5..105: 210 sets)
//! over a 200,000-bar M1 random walk a few times, for profilers and quick before/after
//! figures: bar-evaluations per second = sets x bars / wall time.
//! `cargo run --release -p omega-engine --example profile_sweep -- [repeats] [threads] [bars]`

use omega_engine::{run_sweep, OwnedBars};
use omega_strategy_api::{ParamValue, Timeframe};

#[path = "../benches/common/workload.rs"]
mod workload;
use workload::workload_settings;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |k: usize, default: usize| args.get(k).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (repeats, threads, n) = (arg(1, 3), arg(2, 2), arg(3, 200_000));
    let bars = OwnedBars::random_walk(n, 7);
    let settings = workload_settings("sma_cross");
    let windows: Vec<i64> = (5..110).step_by(5).collect();
    let mut walls = Vec::new();
    let mut sets = 0;
    let mut trades = 0;
    for _ in 0..repeats {
        let strategies: Vec<_> = windows
            .iter()
            .enumerate()
            .flat_map(|(k, &fast)| windows[k + 1..].iter().map(move |&slow| (fast, slow)))
            .map(|(fast, slow)| {
                let params = [
                    ("fast".to_string(), ParamValue::Int(fast)),
                    ("slow".to_string(), ParamValue::Int(slow)),
                ];
                omega_strategies::build("sma_cross", &params).expect("valid parameters")
            })
            .collect();
        sets = strategies.len();
        let started = std::time::Instant::now();
        let results = run_sweep(
            bars.columns(),
            Timeframe::M1,
            &settings,
            strategies,
            threads,
            &mut |_| true,
        )
        .expect("the sweep runs");
        walls.push(started.elapsed().as_secs_f64());
        trades = results.iter().flatten().map(|m| m.n_trades).sum::<usize>();
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    println!(
        "sma_cross sweep: {sets} sets x {n} bars, {threads} threads, {trades} trades: median {:.3} s of {repeats}, {:.1}M bar-evaluations/s",
        median,
        (sets * n) as f64 / median / 1e6
    );
}

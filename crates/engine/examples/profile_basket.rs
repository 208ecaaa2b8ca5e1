//! A basket of `n` random walks (one built-in strategy each) against the same `n` single
//! runs, for profilers: `cargo run --release -p omega-engine --example profile_basket --
//! sma_cross 28 basket` (or `singles`).

use omega_engine::{run_backtest, run_basket, BasketMember, OwnedBars, RunOptions};
use omega_strategy_api::Timeframe;

#[path = "../benches/common/workload.rs"]
mod workload;
use workload::workload_settings;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("sma_cross", String::as_str);
    let n: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(28);
    let basket = args.get(3).map_or("basket", String::as_str) == "basket";
    let bars: Vec<OwnedBars> = (0..n)
        .map(|k| OwnedBars::random_walk(200_000, 7 + k as u64))
        .collect();
    let settings = workload_settings(name);
    let started = std::time::Instant::now();
    let trades: usize = if basket {
        let members: Vec<BasketMember<'_>> = bars
            .iter()
            .map(|b| BasketMember {
                bars: b.columns(),
                base_tf: Timeframe::M1,
                settings: settings.clone(),
            })
            .collect();
        let mut strategies: Vec<_> = (0..n)
            .map(|_| omega_strategies::build(name, &[]).expect("a built-in strategy"))
            .collect();
        let out = run_basket(&members, &mut strategies, RunOptions::default()).expect("runs");
        out.members.iter().map(|m| m.trades.len()).sum()
    } else {
        bars.iter()
            .map(|b| {
                let mut strategy = omega_strategies::build(name, &[]).expect("a strategy");
                let out = run_backtest(
                    b.columns(),
                    Timeframe::M1,
                    &settings,
                    &mut strategy,
                    RunOptions::default(),
                )
                .expect("runs");
                out.trades.len()
            })
            .sum()
    };
    println!(
        "{name} x {n} ({}): {trades} trades, {:.3} s",
        if basket { "basket" } else { "singles" },
        started.elapsed().as_secs_f64()
    );
}

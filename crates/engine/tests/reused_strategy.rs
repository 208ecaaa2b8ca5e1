//! A built-in strategy object run again (another primary timeframe, other indicators in the
//! slices) trades exactly like a fresh one: its per-run memos (indicator slots, the cross of
//! the last bar) start over at each run.

use omega_engine::{run_backtest, EngineSettings, OwnedBars, RunOptions, RunOutput};
use omega_strategy_api::Timeframe;

fn settings(primary: Timeframe) -> EngineSettings {
    EngineSettings {
        primary_timeframe: primary,
        timeframes: vec![primary, Timeframe::H4],
        ..EngineSettings::default()
    }
}

fn run(
    strategy: &mut omega_strategies::BuiltinStrategy,
    bars: &OwnedBars,
    primary: Timeframe,
) -> RunOutput {
    run_backtest(
        bars.columns(),
        Timeframe::M1,
        &settings(primary),
        strategy,
        RunOptions::default(),
    )
    .unwrap()
}

#[test]
fn a_reused_strategy_trades_like_a_fresh_one() {
    let bars = OwnedBars::random_walk(40_000, 3);
    let other = OwnedBars::random_walk(25_000, 4);
    for name in omega_strategies::NAMES {
        let fresh = |tf| run(&mut omega_strategies::build(name, &[]).unwrap(), &bars, tf);
        let mut reused = omega_strategies::build(name, &[]).unwrap();
        let _ = run(&mut reused, &other, Timeframe::M5);
        let mut trades = 0;
        for primary in [Timeframe::M1, Timeframe::M15, Timeframe::M5] {
            let again = run(&mut reused, &bars, primary);
            let expected = fresh(primary);
            trades += expected.trades.len();
            // Compared without printing whole trade logs on a failure.
            let (a, e) = (&again.trades, &expected.trades);
            assert_eq!(a.len(), e.len(), "{name} {primary:?}: trade count");
            let first = (0..e.len())
                .find(|&k| a.entry_time[k] != e.entry_time[k] || a.exit_time[k] != e.exit_time[k]);
            assert_eq!(first, None, "{name} {primary:?}: first differing trade");
            // Debug text: NaN stops (none set) compare equal, every other float exactly.
            let same = |x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug| {
                format!("{x:?}") == format!("{y:?}")
            };
            assert!(same(a, e), "{name} {primary:?}: trades differ");
            assert!(
                same(&again.equity, &expected.equity),
                "{name} {primary:?}: equity differs"
            );
        }
        assert!(
            trades > 0,
            "{name} never trades: the comparison would prove nothing"
        );
    }
}

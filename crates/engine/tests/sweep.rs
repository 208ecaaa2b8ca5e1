//! A sweep's runs report the metrics of single runs of the same strategies, bit for bit,
//! though they share frames and indicator series; a run's own error stays its own.

use omega_engine::metrics::Metrics;
use omega_engine::{run_backtest, run_sweep, EngineError, EngineSettings, OwnedBars, RunOptions};
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{
    DataSlice, IndicatorKey, ParamValue, Position, PositionAction, Strategy, Timeframe, TradeSignal,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn settings() -> EngineSettings {
    EngineSettings {
        primary_timeframe: Timeframe::M5,
        timeframes: vec![Timeframe::M5],
        ..EngineSettings::default()
    }
}

fn mean_reversion(lookback: i64, z_entry: f64, trend: Timeframe) -> BuiltinStrategy {
    let params = [
        ("lookback".to_string(), ParamValue::Int(lookback)),
        ("z_entry".to_string(), ParamValue::Float(z_entry)),
        ("trend_timeframe".to_string(), ParamValue::Timeframe(trend)),
    ];
    omega_strategies::build("mean_reversion_z_score", &params).unwrap()
}

fn single(bars: &OwnedBars, mut strategy: BuiltinStrategy) -> Result<Metrics, EngineError> {
    let s = settings();
    let out = run_backtest(
        bars.columns(),
        Timeframe::M1,
        &s,
        &mut strategy,
        RunOptions::default(),
    )?;
    Ok(Metrics::from_run(&out, s.initial_balance, s.primary_timeframe.nanos()).unwrap())
}

/// Debug text compares NaN metrics (no trades: no win rate) as equal, every other float exactly.
fn same(a: &Result<Metrics, EngineError>, b: &Result<Metrics, EngineError>) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

#[test]
fn sweep_runs_equal_single_runs_and_keep_their_own_errors() {
    let bars = OwnedBars::random_walk(60_000, 11);
    let grid = [
        (50, 2.0, Timeframe::H1),
        (50, 2.5, Timeframe::H4),
        (80, 2.0, Timeframe::M15),
        // Not coarser than the M5 primary: this run's own error.
        (50, 2.0, Timeframe::M5),
        (120, 1.5, Timeframe::H1),
    ];
    let build = || -> Vec<BuiltinStrategy> {
        grid.iter()
            .map(|&(lookback, z, tf)| mean_reversion(lookback, z, tf))
            .collect()
    };
    let expected: Vec<_> = build().into_iter().map(|s| single(&bars, s)).collect();
    assert!(matches!(expected[3], Err(EngineError::Strategy(_))));
    let traded = expected.iter().flatten().filter(|m| m.n_trades > 0).count();
    assert!(
        traded >= 3,
        "too few runs trade for the comparison to mean much"
    );

    for threads in [1, 2, 3] {
        let mut calls = Vec::new();
        let got = run_sweep(
            bars.columns(),
            Timeframe::M1,
            &settings(),
            build(),
            threads,
            &mut |done| {
                calls.push(done);
                true
            },
        )
        .unwrap();
        assert_eq!(got.len(), grid.len());
        for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(same(g, e), "threads {threads}, run {k}: {g:?} != {e:?}");
        }
        assert_eq!(calls, (1..=grid.len()).collect::<Vec<_>>());
    }
}

/// A built-in strategy whose first decision waits until `gate` opens (when set).
struct Gated {
    inner: BuiltinStrategy,
    gate: Option<Arc<AtomicBool>>,
}

impl Strategy for Gated {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn indicators(&self, primary: Timeframe) -> Vec<IndicatorKey> {
        self.inner.indicators(primary)
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        if let Some(gate) = self.gate.take() {
            while !gate.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        self.inner.evaluate(slice)
    }
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        self.inner.manage_position(position, slice)
    }
    fn take_error(&mut self) -> Option<String> {
        self.inner.take_error()
    }
}

#[test]
fn a_stopped_sweep_reports_the_runs_it_did_not_start_as_cancelled() {
    let bars = OwnedBars::random_walk(20_000, 5);
    // Runs after the first wait for the first progress report: the stop it answers always
    // comes before the worker could finish them all.
    let gate = Arc::new(AtomicBool::new(false));
    let strategies: Vec<Gated> = (0..6)
        .map(|k| Gated {
            inner: mean_reversion(30 + k, 2.0, Timeframe::H1),
            gate: (k > 0).then(|| gate.clone()),
        })
        .collect();
    let got = run_sweep(
        bars.columns(),
        Timeframe::M1,
        &settings(),
        strategies,
        1,
        &mut |_done| {
            gate.store(true, Ordering::SeqCst);
            false
        },
    )
    .unwrap();
    let cancelled = got
        .iter()
        .filter(|r| matches!(r, Err(EngineError::Cancelled)))
        .count();
    // Run 0 finished before the only progress report; the worker may have taken a run or
    // two more before it saw the stop (run 1 cannot finish before the report opens the
    // gate, and the stop is stored as the report returns). Runs never resume after it.
    assert!(got[0].is_ok(), "{got:?}");
    assert!(
        (3..=5).contains(&cancelled),
        "{cancelled} cancelled: {got:?}"
    );
    let first_cancelled = got.iter().position(Result::is_err).unwrap();
    assert!(got[first_cancelled..].iter().all(Result::is_err), "{got:?}");
}

#[test]
fn bad_input_fails_the_whole_sweep() {
    let mut bars = OwnedBars::random_walk(5_000, 3);
    bars.bid_close[1234] = f64::NAN;
    let strategies = vec![mean_reversion(50, 2.0, Timeframe::H1); 2];
    let error = run_sweep(
        bars.columns(),
        Timeframe::M1,
        &settings(),
        strategies,
        2,
        &mut |_| true,
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            EngineError::Data {
                row: Some(1234),
                ..
            }
        ),
        "{error:?}"
    );
}

//! A sweep's runs report the metrics of single runs of the same strategies, bit for bit,
//! though they share frames and indicator series; a run's own error stays its own.

use omega_engine::metrics::Metrics;
use omega_engine::{run_backtest, run_sweep, EngineError, EngineSettings, OwnedBars, RunOptions};
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{
    DataSlice, ParamValue, Position, PositionAction, RunContext, Strategy, StrategyError,
    Timeframe, TradeSignal,
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
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.inner.init(ctx)
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
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
    ) -> Result<Vec<PositionAction>, StrategyError> {
        self.inner.manage_position(position, slice)
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

/// A tiny deterministic generator for the random grids below.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn int(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }
    fn float(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() as f64 / (1u64 << 31) as f64) * (high - low)
    }
}

fn random_params(name: &str, rng: &mut Lcg) -> Vec<(String, ParamValue)> {
    let p = |n: &str, v: ParamValue| (n.to_string(), v);
    match name {
        "sma_cross" => {
            let fast = rng.int(1, 40);
            vec![
                p("fast", ParamValue::Int(fast)),
                p("slow", ParamValue::Int(fast + rng.int(1, 80))),
                p("size", ParamValue::Float(rng.float(0.1, 3.0))),
            ]
        }
        "zscore_threshold" => {
            let entry = rng.float(0.5, 3.0);
            vec![
                p("period", ParamValue::Int(rng.int(5, 120))),
                p("entry", ParamValue::Float(entry)),
                p("exit", ParamValue::Float(rng.float(0.0, entry * 0.9))),
                p("sl_mult", ParamValue::Float(rng.float(0.3, 4.0))),
                p("tp_mult", ParamValue::Float(rng.float(0.3, 4.0))),
            ]
        }
        _ => vec![
            p("lookback", ParamValue::Int(rng.int(10, 150))),
            p("z_entry", ParamValue::Float(rng.float(1.0, 3.0))),
            p("trend_timeframe", ParamValue::Timeframe(Timeframe::H1)),
        ],
    }
}

/// Settings variants that take other branches of the loop and the money: fees, risk sizing,
/// slippage models, break-even, trailing, bar limits, intrabar policies, a quote account.
fn settings_variant(k: usize, primary: Timeframe) -> EngineSettings {
    use omega_engine::{
        BreakEvenSettings, IntrabarPolicy, SizingMode, SlippageModel, StopUnit, TrailingSettings,
    };
    let mut s = EngineSettings {
        primary_timeframe: primary,
        timeframes: vec![primary],
        ..EngineSettings::default()
    };
    match k % 6 {
        0 => {}
        1 => {
            s.fees.commission_per_lot = 3.5;
            s.fees.percent_of_notional = 0.00002;
            s.sizing.mode = SizingMode::RiskPercent;
            s.sizing.risk_percent = 0.7;
        }
        2 => {
            s.slippage.model = SlippageModel::Random;
            s.slippage.pips = 0.4;
            s.slippage.seed = 99;
            s.break_even = Some(BreakEvenSettings {
                trigger: 3.0,
                offset: 0.5,
                unit: StopUnit::Pips,
            });
            s.intrabar_policy = IntrabarPolicy::Optimistic;
        }
        3 => {
            s.slippage.model = SlippageModel::Atr;
            s.slippage.atr_fraction = 0.1;
            // ATR multiples: the engine's stop ATR, shared by the sets of the sweep.
            s.trailing = Some(TrailingSettings {
                distance: 1.5,
                unit: StopUnit::Atr,
            });
            s.stop_atr_period = 10;
            s.max_bars_held = Some(40);
            s.intrabar_policy = IntrabarPolicy::Finer;
        }
        4 => {
            s.slippage.model = SlippageModel::Fixed;
            s.slippage.pips = 0.2;
            s.account_currency = "EUR".into();
            s.fees.commission_per_lot = 7.0;
        }
        _ => {
            // Lots large enough to lose most of the account: deep drawdowns, negative pnl.
            s.initial_balance = 5_000.0;
            s.sizing.lots = 20.0;
        }
    }
    s
}

fn single_with(
    bars: &OwnedBars,
    settings: &EngineSettings,
    mut strategy: BuiltinStrategy,
) -> Result<Metrics, EngineError> {
    let out = run_backtest(
        bars.columns(),
        Timeframe::M1,
        settings,
        &mut strategy,
        RunOptions::default(),
    )?;
    Ok(Metrics::from_run(
        &out,
        settings.initial_balance,
        settings.primary_timeframe.nanos(),
    )
    .unwrap())
}

/// Bit for bit: every float compared by its bits (NaN with NaN of the same bits, -0.0 apart
/// from 0.0), every count, the exit reasons.
fn bits(m: &Result<Metrics, EngineError>) -> String {
    match m {
        Ok(m) => {
            let floats = [
                m.initial_balance,
                m.final_balance,
                m.net_profit,
                m.return_pct,
                m.cagr,
                m.span_days,
                m.periods_per_year,
                m.max_drawdown,
                m.max_drawdown_pct,
                m.max_drawdown_duration_seconds,
                m.sharpe,
                m.sortino,
                m.win_rate,
                m.gross_profit,
                m.gross_loss,
                m.profit_factor,
                m.expectancy,
                m.avg_win,
                m.avg_loss,
                m.largest_win,
                m.largest_loss,
                m.total_fees,
                m.avg_bars_held,
                m.exposure,
            ];
            let floats: Vec<u64> = floats.iter().map(|f| f.to_bits()).collect();
            format!(
                "{floats:x?} {:?}",
                (
                    m.max_drawdown_duration_bars,
                    m.n_trades,
                    m.n_long,
                    m.n_short,
                    m.n_wins,
                    m.n_losses,
                    &m.exit_reasons,
                    m.bars_processed,
                    m.base_bars,
                    m.ignored_signals,
                    m.dropped_orders,
                    m.skipped_orders,
                )
            )
        }
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn random_grids_equal_single_runs_bit_for_bit() {
    let bars = OwnedBars::random_walk(12_000, 21);
    let mut rng = Lcg(2024);
    let mut compared = 0;
    let mut traded = 0;
    for (k, name) in ["sma_cross", "zscore_threshold", "mean_reversion_z_score"]
        .iter()
        .cycle()
        .take(12)
        .enumerate()
    {
        let primary = if *name == "mean_reversion_z_score" || k % 4 == 3 {
            Timeframe::M5
        } else {
            Timeframe::M1
        };
        let settings = settings_variant(k, primary);
        let sets: Vec<Vec<(String, ParamValue)>> =
            (0..9).map(|_| random_params(name, &mut rng)).collect();
        let build = || -> Vec<BuiltinStrategy> {
            sets.iter()
                .map(|p| omega_strategies::build(name, p).unwrap())
                .collect()
        };
        let expected: Vec<_> = build()
            .into_iter()
            .map(|s| single_with(&bars, &settings, s))
            .collect();
        let threads = 1 + k % 3;
        let got = run_sweep(
            bars.columns(),
            Timeframe::M1,
            &settings,
            build(),
            threads,
            &mut |_| true,
        )
        .unwrap();
        for (j, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(
                bits(g),
                bits(e),
                "{name}, settings {k}, set {j}: {:?}",
                sets[j]
            );
            compared += 1;
            traded += usize::from(e.as_ref().is_ok_and(|m| m.n_trades > 0));
        }
    }
    assert!(
        traded * 10 >= compared * 8,
        "{traded} of {compared} runs traded"
    );
}

/// Equity that ends exactly at zero gives an infinite or NaN return, which the exact sums
/// decline: such a run is computed again the ordinary way, with the same metrics.
#[test]
fn a_run_the_exact_sums_decline_falls_back_to_the_ordinary_metrics() {
    let bars = OwnedBars::random_walk(3_000, 4);
    let settings = EngineSettings {
        primary_timeframe: Timeframe::M1,
        timeframes: vec![Timeframe::M1],
        // Tiny and huge balances: returns of magnitudes the exact sums decline.
        initial_balance: 1e-300,
        ..EngineSettings::default()
    };
    let build = || {
        vec![
            omega_strategies::build(
                "sma_cross",
                &[
                    ("fast".to_string(), ParamValue::Int(3)),
                    ("slow".to_string(), ParamValue::Int(9)),
                ],
            )
            .unwrap();
            2
        ]
    };
    let expected: Vec<_> = build()
        .into_iter()
        .map(|s| single_with(&bars, &settings, s))
        .collect();
    let got = run_sweep(
        bars.columns(),
        Timeframe::M1,
        &settings,
        build(),
        2,
        &mut |_| true,
    )
    .unwrap();
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(bits(g), bits(e));
    }
}

/// Fresh instances of `Momentum`'s custom indicator made so far (one per computed series).
static MOMENTUM_INSTANCES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Close minus the close `lag` bars before (a custom indicator of the test strategy).
struct MomentumIndicator {
    lag: usize,
    closes: std::collections::VecDeque<f64>,
}

impl omega_strategy_api::Indicator for MomentumIndicator {
    type Input = f64;
    fn name(&self) -> &str {
        "momentum"
    }
    fn warmup_period(&self) -> usize {
        self.lag
    }
    fn update(&mut self, close: f64) -> f64 {
        self.closes.push_back(close);
        if self.closes.len() <= self.lag {
            return f64::NAN;
        }
        let before = self.closes.pop_front().expect("longer than lag");
        close - before
    }
    fn reset(&mut self) {
        self.closes.clear();
    }
}

/// Enters with the sign of a custom momentum indicator above `threshold`, exits on its flip.
struct Momentum {
    lag: usize,
    threshold: f64,
    handle: omega_strategy_api::IndicatorHandle,
}

impl Strategy for Momentum {
    fn name(&self) -> &str {
        "momentum"
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        let lag = self.lag;
        let custom = omega_strategy_api::CustomIndicator::on_field(
            "momentum",
            &[lag as f64],
            omega_strategy_api::PriceSide::Bid,
            omega_strategy_api::PriceField::Close,
            move || {
                MOMENTUM_INSTANCES.fetch_add(1, Ordering::SeqCst);
                MomentumIndicator {
                    lag,
                    closes: std::collections::VecDeque::new(),
                }
            },
        );
        self.handle = ctx.custom(custom);
        Ok(())
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        let m = slice.value(self.handle);
        if slice.position().is_some() || m.is_nan() {
            return Ok(None);
        }
        Ok(if m > self.threshold {
            Some(TradeSignal::long().with_max_bars(12))
        } else if m < -self.threshold {
            Some(TradeSignal::short().with_max_bars(12))
        } else {
            None
        })
    }
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let m = slice.value(self.handle);
        let flipped =
            (position.side.sign() > 0 && m < 0.0) || (position.side.sign() < 0 && m > 0.0);
        Ok(if flipped {
            vec![PositionAction::Close]
        } else {
            vec![]
        })
    }
}

#[test]
fn a_custom_indicator_is_computed_once_for_the_sets_that_share_it() {
    let bars = OwnedBars::random_walk(30_000, 3);
    let momentum = |lag, threshold| Momentum {
        lag,
        threshold,
        handle: omega_strategy_api::IndicatorHandle(0),
    };
    // Three sets with lag 6 share one series; the lag-9 set has its own.
    let grid = [(6, 0.0004), (6, 0.0008), (9, 0.0004), (6, 0.0012)];
    let s = settings();
    let expected: Vec<Result<Metrics, EngineError>> = grid
        .iter()
        .map(|&(lag, threshold)| {
            let out = run_backtest(
                bars.columns(),
                Timeframe::M1,
                &s,
                &mut momentum(lag, threshold),
                RunOptions::default(),
            )?;
            Ok(Metrics::from_run(&out, s.initial_balance, s.primary_timeframe.nanos()).unwrap())
        })
        .collect();
    assert!(expected.iter().flatten().all(|m| m.n_trades > 10));
    MOMENTUM_INSTANCES.store(0, Ordering::SeqCst);
    let got = run_sweep(
        bars.columns(),
        Timeframe::M1,
        &s,
        grid.iter().map(|&(lag, t)| momentum(lag, t)).collect(),
        2,
        &mut |_| true,
    )
    .unwrap();
    assert_eq!(MOMENTUM_INSTANCES.load(Ordering::SeqCst), 2);
    for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert!(same(g, e), "run {k}: {g:?} != {e:?}");
    }
}

//! A basket of strategies that see only their own member (`run_basket`) steps a member's
//! bars that leave the account alone ahead of the basket, and evaluates each member right
//! after its management; `run_basket_shared` keeps every phase across all members. Both
//! must give the same run bit for bit: trades, members' curves, the account's equity.

use omega_engine::{
    run_basket, run_basket_shared, BasketMember, BasketOutput, CrossSettings, EngineSettings,
    MarginSettings, OwnedBars, RunOptions, SizingMode,
};
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{ParamValue, Timeframe};

/// A random walk with runs of missing minutes: members' clocks differ.
fn bars_with_gaps(n: usize, seed: u64) -> OwnedBars {
    let all = OwnedBars::random_walk(n, seed);
    let mut out = OwnedBars::default();
    for i in 0..n {
        if (i as u64 + seed) % 211 < 9 || i % 13 == (seed as usize) % 13 {
            continue;
        }
        let b = all.columns().bar(i);
        out.push(b.time, b.bid, b.ask, b.volume);
    }
    out
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn member_settings(k: usize, variant: usize) -> EngineSettings {
    let primary = [Timeframe::M1, Timeframe::M5, Timeframe::M1, Timeframe::M15][k % 4];
    let mut settings = EngineSettings {
        primary_timeframe: primary,
        timeframes: vec![primary],
        ..EngineSettings::default()
    };
    if variant % 2 == 1 {
        // Sizing on the account's equity: the other members' open P&L at their marks.
        settings.sizing.mode = SizingMode::RiskPercent;
        settings.sizing.risk_percent = 1.0;
    }
    if variant == 2 {
        settings.margin = Some(MarginSettings {
            margin_rate: 0.02,
            margin_call_level: 100.0,
            stop_out_level: 50.0,
        });
    }
    if k == 2 {
        // A cross converting through member 0's bars (its rate changes bar by bar).
        settings.instrument.symbol = "EURGBP".into();
        settings.instrument.quote_currency = "GBP".into();
        settings.cross = Some(CrossSettings {
            symbol: "GBPUSD".into(),
            multiply: true,
            fixed_rate: None,
            times: Vec::new().into(),
            closes: Vec::new().into(),
            member: Some(0),
        });
    }
    settings
}

/// Always-in-the-market crossovers (members 0 and 2: mostly ahead of the basket, holding
/// positions) and mean reversion with stops (members 1 and 3: sized on the account's
/// equity, so they read the others' open P&L at their marks and conversion rates).
fn strategies(n: usize) -> Vec<BuiltinStrategy> {
    (0..n)
        .map(|k| {
            let (name, params): (&str, Vec<(String, ParamValue)>) = if k % 2 == 0 {
                (
                    "sma_cross",
                    vec![
                        ("fast".into(), ParamValue::Int(5 + k as i64)),
                        ("slow".into(), ParamValue::Int(20 + 3 * k as i64)),
                    ],
                )
            } else {
                (
                    "mean_reversion_z_score",
                    vec![
                        ("lookback".into(), ParamValue::Int(10)),
                        ("z_entry".into(), ParamValue::Float(1.0)),
                        ("z_exit".into(), ParamValue::Float(0.25)),
                        ("sl_atr".into(), ParamValue::Float(1.0)),
                        ("tp_atr".into(), ParamValue::Float(1.5)),
                        ("trend_filter".into(), ParamValue::Bool(false)),
                    ],
                )
            };
            omega_strategies::build(name, &params).expect("a built-in strategy")
        })
        .collect()
}

fn run(bars: &[OwnedBars], variant: usize, shared: bool) -> BasketOutput {
    let members: Vec<BasketMember<'_>> = bars
        .iter()
        .enumerate()
        .map(|(k, b)| BasketMember {
            bars: b.columns(),
            base_tf: Timeframe::M1,
            settings: member_settings(k, variant),
        })
        .collect();
    let mut strategies = strategies(bars.len());
    let options = RunOptions { trace: true };
    if shared {
        run_basket_shared(&members, &mut strategies, options).expect("the basket runs")
    } else {
        run_basket(&members, &mut strategies, options).expect("the basket runs")
    }
}

#[test]
fn stepping_members_ahead_gives_the_phase_by_phase_run() {
    for seed in 0..4u64 {
        let bars: Vec<OwnedBars> = (0..4)
            .map(|k| bars_with_gaps(6_000, 11 + 7 * seed + k))
            .collect();
        for variant in 0..3 {
            let (fast, reference) = (run(&bars, variant, false), run(&bars, variant, true));
            let trades: usize = fast.members.iter().map(|m| m.trades.len()).sum();
            assert!(
                trades > 100,
                "seed {seed} variant {variant}: {trades} trades"
            );
            for (k, (a, b)) in fast.members.iter().zip(&reference.members).enumerate() {
                let at = format!("seed {seed} variant {variant} member {k}");
                // (Debug prints each float exactly; NaN stops and targets compare equal)
                assert_eq!(format!("{:?}", a.trades), format!("{:?}", b.trades), "{at}");
                assert_eq!(bits(&a.equity), bits(&b.equity), "{at}: curve");
                assert_eq!(format!("{:?}", a.trace), format!("{:?}", b.trace), "{at}");
            }
            assert_eq!(fast.time, reference.time, "seed {seed} variant {variant}");
            let at = format!("seed {seed} variant {variant}");
            assert_eq!(bits(&fast.equity), bits(&reference.equity), "{at}");
            assert_eq!(
                fast.final_balance.to_bits(),
                reference.final_balance.to_bits()
            );
        }
    }
}

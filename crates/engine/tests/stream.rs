//! Fed a backtest's bars one at a time and finished, a stream session returns that backtest's
//! output bit for bit (trades, equity and its times, counters), whatever the strategy, the
//! timeframes, the intrabar policy or the slippage model; gaps close buckets late.

use omega_engine::{
    run_backtest, BreakEvenSettings, EngineError, EngineSettings, IntrabarPolicy, OwnedBars,
    RunOptions, RunOutput, SlippageModel, StopUnit, StreamSession, TrailingSettings,
};
use omega_strategy_api::{Bar, ParamValue, Timeframe};

/// A random walk with holes: runs of missing minutes (some longer than an hour) so buckets
/// close on a later bar, not only on their last possible one.
fn bars_with_gaps(n: usize, seed: u64) -> OwnedBars {
    let all = OwnedBars::random_walk(n, seed);
    let mut out = OwnedBars::default();
    for i in 0..n {
        let hole = (i % 1_009) < 17 || (i % 4_999) < 95 || i % 7 == 3;
        if hole {
            continue;
        }
        let b = all.columns().bar(i);
        out.push(b.time, b.bid, b.ask, b.volume + (i % 5) as f64);
    }
    out
}

fn bar(bars: &OwnedBars, i: usize) -> Bar {
    bars.columns().bar(i)
}

fn variants() -> Vec<(&'static str, EngineSettings)> {
    let with = |primary: Timeframe, extra: &[Timeframe]| EngineSettings {
        primary_timeframe: primary,
        timeframes: [&[primary][..], extra].concat(),
        ..EngineSettings::default()
    };
    let mut finer = with(Timeframe::M5, &[Timeframe::H1]);
    finer.intrabar_policy = IntrabarPolicy::Finer;
    let mut atr_slip = with(Timeframe::M15, &[Timeframe::H4]);
    atr_slip.slippage.model = SlippageModel::Atr;
    atr_slip.slippage.atr_fraction = 0.1;
    let mut random_slip = with(Timeframe::M1, &[Timeframe::H1]);
    random_slip.slippage.model = SlippageModel::Random;
    random_slip.slippage.pips = 0.5;
    random_slip.break_even = Some(BreakEvenSettings {
        trigger: 5.0,
        offset: 1.0,
        unit: StopUnit::Pips,
    });
    let mut trailing = with(Timeframe::M5, &[Timeframe::H1]);
    trailing.trailing = Some(TrailingSettings {
        distance: 8.0,
        unit: StopUnit::Pips,
    });
    trailing.max_bars_held = Some(40);
    // Both ATR-multiple rules (and their ATR, streamed bar by bar like any series).
    let mut atr_stops = with(Timeframe::M5, &[Timeframe::H1]);
    atr_stops.break_even = Some(BreakEvenSettings {
        trigger: 1.0,
        offset: 0.2,
        unit: StopUnit::Atr,
    });
    atr_stops.trailing = Some(TrailingSettings {
        distance: 2.5,
        unit: StopUnit::Atr,
    });
    vec![
        ("M1 primary", with(Timeframe::M1, &[])),
        ("M5 + H1", with(Timeframe::M5, &[Timeframe::H1])),
        ("finer", finer),
        ("ATR slippage", atr_slip),
        ("random slippage, break-even", random_slip),
        ("trailing, max bars", trailing),
        ("break-even and trailing in ATR multiples", atr_stops),
    ]
}

fn build(name: &str) -> omega_strategies::BuiltinStrategy {
    // Short lookbacks so every strategy trades on a few thousand primary bars.
    let params: Vec<(String, ParamValue)> = match name {
        "mean_reversion_z_score" => vec![
            ("lookback".into(), ParamValue::Int(40)),
            ("z_entry".into(), ParamValue::Float(1.8)),
        ],
        _ => vec![],
    };
    omega_strategies::build(name, &params).unwrap()
}

fn streamed(bars: &OwnedBars, name: &str, settings: &EngineSettings) -> RunOutput {
    let mut session = StreamSession::new(
        Timeframe::M1,
        settings.clone(),
        build(name),
        RunOptions::default(),
    )
    .unwrap();
    let mut stepped = 0;
    for i in 0..bars.time.len() {
        stepped += session.push(bar(bars, i)).unwrap();
        assert_eq!(session.bars_stepped(), stepped);
        assert_eq!(session.equity().len(), stepped);
    }
    session.finish().unwrap()
}

#[test]
fn a_stream_finishes_with_the_backtests_output() {
    let bars = bars_with_gaps(30_000, 17);
    let mut trades = 0;
    for (label, settings) in variants() {
        for name in omega_strategies::NAMES {
            let batch = run_backtest(
                bars.columns(),
                Timeframe::M1,
                &settings,
                &mut build(name),
                RunOptions::default(),
            )
            .unwrap();
            let stream = streamed(&bars, name, &settings);
            trades += batch.trades.len();
            // Debug text: NaN levels (no stop set) compare equal, every other float exactly.
            assert_eq!(
                format!("{stream:?}"),
                format!("{batch:?}"),
                "{name}, {label}: the stream differs from the backtest"
            );
        }
    }
    assert!(
        trades > 1_000,
        "only {trades} trades: the comparison would prove little"
    );
}

#[test]
fn decisions_are_made_when_a_bar_closes_not_later() {
    // M5 primary: the bar of 00:04 closes the first M5 bucket at once.
    let bars = OwnedBars::random_walk(10, 1);
    let settings = EngineSettings {
        primary_timeframe: Timeframe::M5,
        timeframes: vec![Timeframe::M5],
        ..EngineSettings::default()
    };
    let mut session = StreamSession::new(
        Timeframe::M1,
        settings,
        build("sma_cross"),
        RunOptions::default(),
    )
    .unwrap();
    let stepped: Vec<usize> = (0..10)
        .map(|i| session.push(bar(&bars, i)).unwrap())
        .collect();
    assert_eq!(stepped, [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
}

#[test]
fn bad_bars_are_named_errors_and_leave_the_session_usable() {
    let bars = OwnedBars::random_walk(20, 2);
    let m1 = EngineSettings {
        primary_timeframe: Timeframe::M1,
        timeframes: vec![Timeframe::M1],
        ..EngineSettings::default()
    };
    let mut session = StreamSession::new(
        Timeframe::M1,
        m1.clone(),
        build("sma_cross"),
        RunOptions::default(),
    )
    .unwrap();
    for i in 0..5 {
        session.push(bar(&bars, i)).unwrap();
    }
    let mut nan = bar(&bars, 5);
    nan.ask.low = f64::NAN;
    let error = session.push(nan).unwrap_err();
    assert!(
        matches!(
            error,
            EngineError::Data {
                row: Some(5),
                column: Some("ask_low"),
                ..
            }
        ),
        "{error:?}"
    );
    let stale = bar(&bars, 4);
    let error = session.push(stale).unwrap_err();
    assert!(
        matches!(
            error,
            EngineError::Data {
                row: Some(5),
                column: Some("time"),
                ..
            }
        ),
        "{error:?}"
    );
    session.push(bar(&bars, 5)).unwrap();
    assert_eq!(session.bars_stepped(), 6);
    let empty =
        StreamSession::new(Timeframe::M1, m1, build("sma_cross"), RunOptions::default()).unwrap();
    assert!(matches!(empty.finish(), Err(EngineError::Data { .. })));
}

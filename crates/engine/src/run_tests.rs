//! The event loop against hand-worked cases. Prices, fees and sizes are chosen so every
//! operation is exact in binary floating point, and each expectation is derived by hand in
//! the comment above it (not by running the engine).

use super::*;
use crate::bars::OwnedBars;
use crate::settings::{FeeSettings, Instrument, SizingSettings, SlippageSettings, StopUnit};
use omega_strategy_api::{
    Distance, Position, PositionAction, Side, Strategy, Timeframe, TradeSignal,
};

const MIN: i64 = 60_000_000_000;

/// Bars from bid (open, high, low, close); the ask is the bid plus a spread of 1.0.
fn bars(bid: &[(f64, f64, f64, f64)]) -> OwnedBars {
    let mut b = OwnedBars::default();
    for (i, &(o, h, l, c)) in bid.iter().enumerate() {
        b.time.push(i as i64 * MIN);
        b.bid_open.push(o);
        b.bid_high.push(h);
        b.bid_low.push(l);
        b.bid_close.push(c);
        b.ask_open.push(o + 1.0);
        b.ask_high.push(h + 1.0);
        b.ask_low.push(l + 1.0);
        b.ask_close.push(c + 1.0);
        b.volume.push(1.0);
    }
    b
}

/// M1 primary = base, pip 0.25, contract size 10, lot step and minimum 0.5, 2 lots fixed.
fn settings() -> EngineSettings {
    EngineSettings {
        primary_timeframe: Timeframe::M1,
        timeframes: vec![Timeframe::M1],
        sizing: SizingSettings {
            mode: SizingMode::Fixed,
            lots: 2.0,
            risk_percent: 1.0,
        },
        initial_balance: 1000.0,
        instrument: Instrument {
            symbol: "TEST".into(),
            pip_size: 0.25,
            point: 0.25,
            contract_size: 10.0,
            lot_step: 0.5,
            min_lot: 0.5,
            base_currency: "EUR".into(),
            quote_currency: "USD".into(),
        },
        ..EngineSettings::default()
    }
}

/// Returns prepared signals and actions at given bar indices.
#[derive(Debug, Default)]
struct Script {
    signals: Vec<(usize, TradeSignal)>,
    actions: Vec<(usize, PositionAction)>,
    managed_at: Vec<usize>,
    order_actions: Vec<(usize, omega_strategy_api::OrderAction)>,
    /// Declares [`BarRange`] (with this warm-up) as handle 0.
    range_warmup: Option<usize>,
}

/// A custom indicator: the bid high minus low of each bar, NaN for the first `warmup` bars.
struct BarRange {
    warmup: usize,
    seen: usize,
}

impl omega_strategy_api::Indicator for BarRange {
    type Input = omega_strategy_api::Bar;
    fn name(&self) -> &str {
        "bar_range"
    }
    fn warmup_period(&self) -> usize {
        self.warmup
    }
    fn update(&mut self, bar: omega_strategy_api::Bar) -> f64 {
        self.seen += 1;
        if self.seen <= self.warmup {
            f64::NAN
        } else {
            bar.bid.high - bar.bid.low
        }
    }
    fn reset(&mut self) {
        self.seen = 0;
    }
}

impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn init(
        &mut self,
        ctx: &mut omega_strategy_api::RunContext<'_>,
    ) -> Result<(), omega_strategy_api::StrategyError> {
        if let Some(warmup) = self.range_warmup {
            let custom = omega_strategy_api::CustomIndicator::on_bar(
                "bar_range",
                &[warmup as f64],
                move || BarRange { warmup, seen: 0 },
            );
            ctx.custom(custom);
        }
        Ok(())
    }
    fn evaluate(
        &mut self,
        slice: &DataSlice<'_>,
    ) -> Result<Option<TradeSignal>, omega_strategy_api::StrategyError> {
        let i = slice.index();
        Ok(self
            .signals
            .iter()
            .find(|(at, _)| *at == i)
            .map(|(_, s)| s.clone()))
    }
    fn manage_position(
        &mut self,
        _p: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, omega_strategy_api::StrategyError> {
        let i = slice.index();
        self.managed_at.push(i);
        Ok(self
            .actions
            .iter()
            .filter(|(at, _)| *at == i)
            .map(|(_, a)| *a)
            .collect())
    }
    fn manage_order(
        &mut self,
        _order: &omega_strategy_api::WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<omega_strategy_api::OrderAction>, omega_strategy_api::StrategyError> {
        let i = slice.index();
        Ok(self
            .order_actions
            .iter()
            .filter(|(at, _)| *at == i)
            .map(|(_, a)| *a)
            .collect())
    }
}

fn run(b: &OwnedBars, s: &EngineSettings, script: &mut Script) -> RunOutput {
    run_backtest(
        b.columns(),
        Timeframe::M1,
        s,
        script,
        RunOptions { trace: true },
    )
    .unwrap()
}

#[test]
fn long_fills_at_ask_open_plus_slip_and_takes_profit_at_the_level() {
    let b = bars(&[
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 102.0, 99.0, 101.0),
        (103.0, 105.0, 102.0, 104.0),
        (104.0, 104.0, 104.0, 104.0),
    ]);
    let mut s = settings();
    s.slippage = SlippageSettings {
        model: SlippageModel::Fixed,
        pips: 1.0,
        ..s.slippage
    };
    s.fees = FeeSettings {
        commission_per_lot: 1.5,
        percent_of_notional: 0.0,
    };
    let signal = TradeSignal::long()
        .with_stop_loss_distance(5.0)
        .with_take_profit_distance(3.0)
        .with_tag("x");
    let out = run(
        &b,
        &s,
        &mut Script {
            signals: vec![(0, signal)],
            ..Script::default()
        },
    );
    let t = &out.trades;
    assert_eq!(t.len(), 1);
    // fill = ask_open 101 + 1 pip (0.25); sl = 101.25 - 5, tp = 101.25 + 3.
    assert_eq!(
        (t.entry_price[0], t.sl[0], t.tp[0]),
        (101.25, 96.25, 104.25)
    );
    // bar 2: no gap (bid open 103 < 104.25), bid high 105 touches: exit at the level, no slip.
    assert_eq!(
        (
            t.exit_price[0],
            t.exit_reason[0],
            t.exit_time[0],
            t.exit_index[0]
        ),
        (104.25, ExitReason::TakeProfit, 2 * MIN, 2)
    );
    // gross = 3 * 2 lots * 10 = 60; fees 2 * 1.5 per side.
    assert_eq!((t.gross_pnl[0], t.fees[0], t.pnl[0]), (60.0, 6.0, 54.0));
    // held one close (bar 1); MFE at bar 1 = bid high 102 - 101.25.
    assert_eq!(
        (t.bars_held[0], t.mfe[0], t.tag.get(0).unwrap()),
        (1, 0.75, "x")
    );
    // equity: flat 1000; bar 1: 1000 - 3 + (101 - 101.25) * 20 = 992; then 1054.
    assert_eq!(out.equity, vec![1000.0, 992.0, 1054.0, 1054.0]);
    assert_eq!(out.final_balance, 1054.0);
    let events: Vec<&str> = out
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.event.as_str())
        .collect();
    assert_eq!(events, ["signal_long", "none", "none", "none"]);
}

#[test]
fn short_stop_gapped_at_the_open_fills_at_the_open_plus_slip_then_end_of_data() {
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 100.0, 99.0, 99.0),
        (104.0, 104.0, 103.0, 103.0),
        (103.0, 103.0, 103.0, 103.0),
        (103.0, 103.0, 102.0, 102.0),
    ]);
    let mut s = settings();
    s.slippage = SlippageSettings {
        model: SlippageModel::Fixed,
        pips: 2.0,
        ..s.slippage
    };
    let short = TradeSignal::short().with_stop_loss(103.0);
    let long = TradeSignal::long();
    let mut script = Script {
        signals: vec![(0, short), (2, long), (4, TradeSignal::long())],
        ..Script::default()
    };
    let out = run(&b, &s, &mut script);
    let t = &out.trades;
    assert_eq!(t.len(), 2);
    // short fill = bid_open 100 - 0.5; the stop 103 is below ask_open 105 at bar 2: gap exit
    // at ask_open + slip = 105.5; gross = (99.5 - 105.5) * 2 * 10 = -120.
    assert_eq!(
        (t.side[0], t.entry_price[0], t.exit_price[0]),
        (-1, 99.5, 105.5)
    );
    assert_eq!(
        (t.exit_reason[0], t.exit_time[0], t.gross_pnl[0]),
        (ExitReason::StopLoss, 2 * MIN, -120.0)
    );
    // the long from bar 2 fills at bar 3's ask open 104 + 0.5 and is still open after bar 4:
    // closed at bar 4's bid close 102, no slip, dated at the close of bar 4.
    assert_eq!(
        (t.entry_price[1], t.exit_price[1], t.exit_reason[1]),
        (104.5, 102.0, ExitReason::EndOfData)
    );
    assert_eq!(
        (t.exit_time[1], t.exit_index[1], t.bars_held[1]),
        (5 * MIN, 4, 2)
    );
    assert_eq!(out.final_balance, 1000.0 - 120.0 - 50.0);
    assert_eq!(*out.equity.last().unwrap(), out.final_balance);
    // the long signal at bar 4 arrived while a position stayed open: ignored, nothing pending.
    assert_eq!((out.ignored_signals, out.dropped_orders), (1, 0));
}

#[test]
fn partial_close_rounds_down_to_the_lot_step_and_skips_zero() {
    let flat = (100.0, 100.0, 100.0, 100.0);
    let b = bars(&[flat; 6]);
    let s = settings();
    let mut script = Script {
        signals: vec![(0, TradeSignal::long())],
        // floor(2 * 0.3 / 0.5) * 0.5 = 0.5 lots; then floor(1.5 * 0.1 / 0.5) = 0: skipped.
        actions: vec![
            (1, PositionAction::PartialClose(0.3)),
            (2, PositionAction::PartialClose(0.1)),
        ],
        ..Script::default()
    };
    let out = run(&b, &s, &mut script);
    let t = &out.trades;
    assert_eq!(t.size, vec![0.5, 1.5]);
    assert_eq!(
        t.exit_reason,
        vec![ExitReason::Partial, ExitReason::EndOfData]
    );
    // long at ask 101, exits at bid 100: -1 per lot unit; partial at bar 2's open.
    assert_eq!((t.exit_time[0], t.gross_pnl[0]), (2 * MIN, -5.0));
    assert_eq!(
        out.skipped_orders,
        vec![SkippedOrder {
            time: 3 * MIN,
            reason: "partial_below_lot_step",
            detail: String::new()
        }]
    );
    let events: Vec<&str> = out
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.event.as_str())
        .collect();
    assert_eq!(
        events,
        [
            "signal_long",
            "partial_queued",
            "partial_queued",
            "none",
            "none",
            "none"
        ]
    );
}

#[test]
fn max_bars_queues_an_exit_without_calling_manage_and_a_reversal_follows() {
    let flat = (100.0, 100.0, 100.0, 100.0);
    let b = bars(&[flat; 6]);
    let mut s = settings();
    s.max_bars_held = Some(2);
    let mut script = Script {
        signals: vec![
            (0, TradeSignal::long().with_tag("first")),
            (2, TradeSignal::short().with_tag("second")),
        ],
        ..Script::default()
    };
    let out = run(&b, &s, &mut script);
    let t = &out.trades;
    // filled at bar 1, held 2 closes at bar 2: exit queued, manage not called at bar 2; the
    // short signal of bar 2 is a reversal: exit then entry at bar 3's open. The short is
    // managed at bar 3 (held 1) and reaches the limit at bar 4 (held 2).
    assert_eq!(script.managed_at, vec![1, 3]);
    assert_eq!(
        (t.exit_reason[0], t.exit_time[0], t.bars_held[0]),
        (ExitReason::MaxBars, 3 * MIN, 2)
    );
    assert_eq!(
        (t.side[1], t.entry_time[1], t.tag.get(1).unwrap()),
        (-1, 3 * MIN, "second")
    );
    // its max-bars exit fills at bar 5's open.
    assert_eq!(
        (t.exit_reason[1], t.exit_time[1], t.bars_held[1]),
        (ExitReason::MaxBars, 5 * MIN, 2)
    );
    assert_eq!((t.len(), out.dropped_orders), (2, 0));
}

#[test]
fn risk_sizing_uses_the_fill_and_the_stop_and_skips_below_min_lot() {
    let flat = (100.0, 100.0, 100.0, 100.0);
    let b = bars(&[flat; 4]);
    let mut s = settings();
    s.sizing.mode = SizingMode::RiskPercent;
    let mut script = Script {
        signals: vec![
            // risk 1000 * 1% = 10; dist 2 * cs 10 = 20 per lot; floor(10 / 20 / 0.5) * 0.5 = 0.5.
            (0, TradeSignal::long().with_stop_loss_distance(2.0)),
            // no stop to size against: skipped with the tag as detail.
            (2, TradeSignal::long().with_tag("naked")),
        ],
        actions: vec![(1, PositionAction::Close)],
        ..Script::default()
    };
    let out = run(&b, &s, &mut script);
    assert_eq!(out.trades.size, vec![0.5]);
    assert_eq!(
        out.skipped_orders,
        vec![SkippedOrder {
            time: 3 * MIN,
            reason: "no_stop_loss",
            detail: "naked".into()
        }]
    );
    // half a percent: floor(5 / 20 / 0.5) = 0 lots < min_lot.
    let mut script = Script {
        signals: vec![(
            0,
            TradeSignal::long()
                .with_stop_loss_distance(2.0)
                .with_risk_percent(0.5),
        )],
        ..Script::default()
    };
    let out = run(&b, &settings(), &mut script);
    assert_eq!(out.skipped_orders[0].reason, "below_min_lot");
    assert!(out.trades.is_empty());
}

#[test]
fn random_slippage_draws_once_per_fill_in_fill_order_and_not_for_skipped_orders() {
    let flat = (100.0, 100.0, 100.0, 100.0);
    let b = bars(&[flat; 5]);
    let mut s = settings();
    s.slippage = SlippageSettings {
        model: SlippageModel::Random,
        pips: 4.0,
        seed: 99,
        ..s.slippage
    };
    let mut script = Script {
        signals: vec![
            (0, TradeSignal::long().with_size(0.25)),
            (1, TradeSignal::long()),
            (3, TradeSignal::short()),
        ],
        actions: vec![(2, PositionAction::Close)],
        ..Script::default()
    };
    let out = run(&b, &s, &mut script);
    // bar 1: 0.25 lots < min_lot: skipped, no draw. bar 2: long fill (draw 1); bar 3: exit
    // (draw 2); bar 4: short fill (draw 3). Each slip is u * 4 * 0.25.
    let mut rng = SplitMix64::new(99);
    let mut slip = || rng.next_f64() * 4.0 * 0.25;
    let (d1, d2, d3) = (slip(), slip(), slip());
    let t = &out.trades;
    assert_eq!(t.entry_price[0], 101.0 + d1);
    assert_eq!(t.exit_price[0], 100.0 - d2);
    assert_eq!(t.entry_price[1], 100.0 - d3);
    assert_eq!(out.skipped_orders[0].reason, "below_min_lot");
}

#[test]
fn finer_policy_walks_base_bars_and_dates_the_exit_at_the_deciding_one() {
    // Five M1 bars make one M5 bar; a second M5 bar holds the entry's range test.
    let mut rows = vec![(100.0, 100.0, 100.0, 100.0); 5];
    // M5 bar 1 (minutes 5..9): the long's TP 103 is touched at minute 7, SL 97 at minute 8.
    rows.extend([
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 103.0, 99.0, 100.0),
        (100.0, 101.0, 96.0, 100.0),
        (100.0, 100.0, 100.0, 100.0),
    ]);
    let b = bars(&rows);
    let mut s = settings();
    s.primary_timeframe = Timeframe::M5;
    s.timeframes = vec![Timeframe::M5];
    let signal = TradeSignal::long()
        .with_stop_loss(97.0)
        .with_take_profit(103.0);
    let run_with = |policy| {
        let mut s = s.clone();
        s.intrabar_policy = policy;
        let mut script = Script {
            signals: vec![(0, signal.clone())],
            ..Script::default()
        };
        run_backtest(
            b.columns(),
            Timeframe::M1,
            &s,
            &mut script,
            RunOptions::default(),
        )
        .unwrap()
    };
    let finer = run_with(IntrabarPolicy::Finer);
    assert_eq!(
        (finer.trades.exit_reason[0], finer.trades.exit_time[0]),
        (ExitReason::TakeProfit, 7 * MIN)
    );
    let pessimistic = run_with(IntrabarPolicy::Pessimistic);
    assert_eq!(
        (
            pessimistic.trades.exit_reason[0],
            pessimistic.trades.exit_time[0]
        ),
        (ExitReason::StopLoss, 5 * MIN)
    );
    let optimistic = run_with(IntrabarPolicy::Optimistic);
    assert_eq!(
        (
            optimistic.trades.exit_reason[0],
            optimistic.trades.exit_price[0]
        ),
        (ExitReason::TakeProfit, 103.0)
    );
    assert_eq!((finer.bars_processed, finer.base_bars), (2, 10));
}

#[test]
fn break_even_fires_once_and_trailing_only_tightens() {
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 104.0, 100.0, 104.0),
        (104.0, 104.0, 102.0, 102.0),
        (102.0, 106.0, 102.0, 106.0),
    ]);
    let mut s = settings();
    // trigger 2 pips = 0.5 of price; offset 1 pip = 0.25; trailing 8 pips = 2.0.
    s.break_even = Some(crate::settings::BreakEvenSettings {
        trigger: 2.0,
        offset: 1.0,
        unit: StopUnit::Pips,
    });
    s.trailing = Some(crate::settings::TrailingSettings {
        distance: 8.0,
        unit: StopUnit::Pips,
    });
    let out = run(
        &b,
        &s,
        &mut Script {
            signals: vec![(0, TradeSignal::long())],
            ..Script::default()
        },
    );
    let t = &out.trades;
    // entry 101. bar 1 close 104: BE -> 101.25; trailing 104 - 2 = 102 is higher -> 102.
    // bar 2: low 102 touches 102: stop exit at 102 (no slip model), with sl 102 on the row.
    assert_eq!(
        (t.exit_reason[0], t.exit_price[0], t.sl[0], t.exit_time[0]),
        (ExitReason::StopLoss, 102.0, 102.0, 2 * MIN)
    );
    let events: Vec<&str> = out
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.event.as_str())
        .collect();
    assert_eq!(events, ["signal_long", "break_even", "none", "none"]);
    assert_eq!(t.side[0], Side::Long.sign());
}

#[test]
fn invalid_settings_and_data_are_named_errors() {
    let b = bars(&[(100.0, 100.0, 100.0, 100.0); 3]);
    let mut s = settings();
    s.account_currency = "GBP".into();
    let err = run_backtest(
        b.columns(),
        Timeframe::M1,
        &s,
        &mut Script::default(),
        RunOptions::default(),
    );
    assert!(matches!(err, Err(EngineError::Config(m)) if m.contains("give account.conversion")));
    let mut unordered = bars(&[(100.0, 100.0, 100.0, 100.0); 3]);
    unordered.time[2] = unordered.time[1];
    let err = run_backtest(
        unordered.columns(),
        Timeframe::M1,
        &settings(),
        &mut Script::default(),
        RunOptions::default(),
    );
    assert!(matches!(
        err,
        Err(EngineError::Data {
            row: Some(2),
            column: Some("time"),
            ..
        })
    ));
    let mut bad = Script {
        signals: vec![(0, TradeSignal::long().with_size(-1.0))],
        ..Script::default()
    };
    let err = run_backtest(
        b.columns(),
        Timeframe::M1,
        &settings(),
        &mut bad,
        RunOptions::default(),
    );
    assert!(
        matches!(err, Err(EngineError::Strategy(m)) if m.contains("size must be finite and > 0"))
    );
}

fn events(out: &RunOutput) -> Vec<&str> {
    out.trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.event.as_str())
        .collect()
}

#[test]
fn several_actions_apply_in_order_and_a_full_exit_wins() {
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 104.0, 100.0, 104.0),
        (104.0, 104.0, 104.0, 104.0),
        (104.0, 104.0, 104.0, 104.0),
    ]);
    let at1 = |a| (1, a);
    let out = run(
        &b,
        &settings(),
        &mut Script {
            signals: vec![(0, TradeSignal::long())],
            actions: vec![
                at1(PositionAction::ModifyTakeProfit(Some(110.0))),
                // 4 pips = 1.0 behind the bid close 104: stop 103 (there was none).
                at1(PositionAction::TrailStop(Distance::Pips(4.0))),
                at1(PositionAction::PartialClose(0.5)),
                at1(PositionAction::Close),
                // After a full exit a partial one is ignored, without an event.
                at1(PositionAction::PartialClose(0.5)),
            ],
            ..Script::default()
        },
    );
    assert_eq!(
        events(&out)[1],
        "modify_tp|trail_stop|partial_queued|exit_queued"
    );
    let t = &out.trades;
    // Entry at the ask open of bar 1 (101); the full exit at the bid open of bar 2 (104).
    assert_eq!(t.len(), 1);
    assert_eq!(
        (
            t.exit_reason[0],
            t.exit_price[0],
            t.size[0],
            t.sl[0],
            t.tp[0]
        ),
        (ExitReason::Strategy, 104.0, 2.0, 103.0, 110.0)
    );
}

#[test]
fn distances_in_multiples_of_a_custom_indicator() {
    // Bid ranges: bar 1 4.0, bar 2 1.0; the indicator is NaN at bar 0 (warm-up 1).
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 104.0, 100.0, 104.0),
        (104.0, 104.0, 103.0, 103.5),
        (103.5, 104.0, 103.5, 104.0),
    ]);
    let h = omega_strategy_api::IndicatorHandle(0);
    let atr = |multiple| Distance::Atr {
        handle: h,
        multiple,
    };
    let out = run(
        &b,
        &settings(),
        &mut Script {
            signals: vec![(0, TradeSignal::long())],
            actions: vec![
                // bar 1: stop to 101 + 0.25 * 4 = 102; trail 104 - 4 = 100 does not tighten.
                (1, PositionAction::MoveToBreakEven(atr(0.25))),
                (1, PositionAction::TrailStop(atr(1.0))),
                // bar 2: stop to 101 + 0.25 * 1 = 101.25 (break-even moves either way),
                // then trail 103.5 - 1 = 102.5 tightens it.
                (2, PositionAction::MoveToBreakEven(atr(0.25))),
                (2, PositionAction::TrailStop(atr(1.0))),
            ],
            range_warmup: Some(1),
            ..Script::default()
        },
    );
    assert_eq!(
        events(&out),
        ["signal_long", "break_even", "break_even|trail_stop", "none"]
    );
    // Bar 3's low 103.5 stays above 102.5: closed at the end, at the last bid close.
    let t = &out.trades;
    assert_eq!(
        (t.exit_reason[0], t.exit_price[0], t.sl[0]),
        (ExitReason::EndOfData, 104.0, 102.5)
    );
}

#[test]
fn a_nan_distance_skips_the_action() {
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 104.0, 100.0, 104.0),
        (104.0, 104.0, 104.0, 104.0),
    ]);
    let h = omega_strategy_api::IndicatorHandle(0);
    let out = run(
        &b,
        &settings(),
        &mut Script {
            signals: vec![(0, TradeSignal::long())],
            actions: vec![(
                1,
                PositionAction::TrailStop(Distance::Atr {
                    handle: h,
                    multiple: 1.0,
                }),
            )],
            range_warmup: Some(2), // still NaN at bar 1
            ..Script::default()
        },
    );
    assert_eq!(events(&out), ["signal_long", "none", "none"]);
    assert!(out.trades.sl[0].is_nan());
}

#[test]
fn configured_break_even_and_trailing_in_atr_multiples() {
    // ATR(1) of the bid: bar 1 TR max(4, |100 - 104|, |100 - 100|) = 4; bar 2 TR
    // max(1, |104 - 104|, |104 - 103|) = 1. Entry 101 (ask open of bar 1).
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 104.0, 100.0, 104.0),
        (104.0, 104.0, 103.0, 103.5),
        (103.5, 104.0, 102.25, 103.0),
    ]);
    let mut s = settings();
    s.stop_atr_period = 1;
    s.break_even = Some(crate::settings::BreakEvenSettings {
        trigger: 0.5,
        offset: 0.25,
        unit: StopUnit::Atr,
    });
    s.trailing = Some(crate::settings::TrailingSettings {
        distance: 1.0,
        unit: StopUnit::Atr,
    });
    let out = run(
        &b,
        &s,
        &mut Script {
            signals: vec![(0, TradeSignal::long())],
            ..Script::default()
        },
    );
    // bar 1: gain 104 - 101 = 3 >= 0.5 * 4: stop 101 + 0.25 * 4 = 102; trail 104 - 4 = 100
    // does not tighten. bar 2: trail 103.5 - 1 = 102.5. bar 3: low 102.25 hits 102.5.
    assert_eq!(events(&out), ["signal_long", "break_even", "none", "none"]);
    let t = &out.trades;
    assert_eq!(
        (t.exit_reason[0], t.exit_price[0], t.exit_time[0]),
        (ExitReason::StopLoss, 102.5, 3 * MIN)
    );

    // ATR(3) is NaN until bar 3: neither rule acts before.
    s.stop_atr_period = 3;
    let out = run(
        &b,
        &s,
        &mut Script {
            signals: vec![(0, TradeSignal::long())],
            ..Script::default()
        },
    );
    assert_eq!(events(&out)[1..3], ["none", "none"]);
}

#[test]
fn a_stream_updates_a_custom_indicator_bar_by_bar_as_the_backtest_computes_it() {
    // Enough bars for signals, stops moved by the custom indicator and several trades.
    let bid: Vec<(f64, f64, f64, f64)> = (0..300)
        .map(|k| {
            let c = 100.0 + ((k * 37) % 23) as f64 * 0.5 - ((k * 11) % 7) as f64 * 0.75;
            (c - 0.25, c + 1.0 + (k % 5) as f64 * 0.25, c - 1.25, c)
        })
        .collect();
    let b = bars(&bid);
    let script = || Script {
        signals: (0..300)
            .step_by(17)
            .map(|i| (i, TradeSignal::long()))
            .collect(),
        actions: (0..300)
            .map(|i| {
                let h = omega_strategy_api::IndicatorHandle(0);
                (
                    i,
                    PositionAction::TrailStop(Distance::Atr {
                        handle: h,
                        multiple: 1.5,
                    }),
                )
            })
            .collect(),
        range_warmup: Some(3),
        ..Script::default()
    };
    let s = settings();
    let batch = run(&b, &s, &mut script());
    assert!(batch.trades.len() >= 5, "{}", batch.trades.len());
    assert!(events(&batch).iter().any(|e| e.contains("trail_stop")));
    let mut session = crate::StreamSession::new(
        Timeframe::M1,
        s.clone(),
        script(),
        RunOptions { trace: true },
    )
    .unwrap();
    let cols = b.columns();
    for i in 0..cols.len() {
        session.push(cols.bar(i)).unwrap();
    }
    let streamed = session.finish().unwrap();
    // Debug text: NaN (no stop) equals NaN, every other float exactly.
    let text = |out: &RunOutput| format!("{:?} {:?}", out.trades, out.trace);
    assert_eq!(text(&streamed), text(&batch));
}

// ----------------------------------------------------------------------------- pending entries

fn pending(signal: TradeSignal) -> Script {
    Script {
        signals: vec![(0, signal)],
        ..Script::default()
    }
}

#[test]
fn a_long_limit_fills_at_a_better_gap_open_or_at_its_price() {
    // ask = bid + 1. Bar 1 opens (ask) at 98 + 1 = 99, below the limit 100: filled at 99.
    let b = bars(&[
        (100.0, 101.0, 99.0, 100.0),
        (98.0, 99.0, 97.0, 98.0),
        (98.0, 98.0, 98.0, 98.0),
    ]);
    let out = run(
        &b,
        &settings(),
        &mut pending(TradeSignal::long().with_limit(100.0)),
    );
    assert_eq!(
        (out.trades.entry_price[0], out.trades.entry_index[0]),
        (99.0, 1)
    );
    // Bar 1 opens (ask) at 102, its ask low 98 + 1 = 99 reaches the limit 100: filled at 100.
    let b = bars(&[
        (100.0, 101.0, 99.0, 100.0),
        (101.0, 102.0, 98.0, 100.0),
        (100.0, 100.0, 100.0, 100.0),
    ]);
    let out = run(
        &b,
        &settings(),
        &mut pending(TradeSignal::long().with_limit(100.0)),
    );
    assert_eq!(out.trades.entry_price[0], 100.0);
}

#[test]
fn a_stop_entry_and_both_levels_in_its_bar_follow_the_intrabar_policy() {
    // Long stop 103: bar 1's ask high 104 + 1 = 105 reaches it (ask open 101 does not):
    // fill 103 + 1 pip slip (0.25) = 103.25; sl = 103.25 - 2 = 101.25, tp = 103.25 + 0.5 =
    // 103.75; bar 1's bid range 99..104 holds both, touched (no gap rows inside the bar).
    let b = bars(&[
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 104.0, 99.0, 102.0),
        (102.0, 102.0, 102.0, 102.0),
    ]);
    let mut s = settings();
    s.slippage = SlippageSettings {
        model: SlippageModel::Fixed,
        pips: 1.0,
        ..s.slippage
    };
    let signal = TradeSignal::long()
        .with_stop_entry(103.0)
        .with_stop_loss_distance(2.0)
        .with_take_profit_distance(0.5);
    let out = run(&b, &s, &mut pending(signal.clone()));
    let t = &out.trades;
    assert_eq!(
        (t.entry_price[0], t.sl[0], t.tp[0]),
        (103.25, 101.25, 103.75)
    );
    // pessimistic: the stop-loss, one more slip: 101.25 - 0.25.
    assert_eq!(
        (t.exit_reason[0], t.exit_price[0], t.exit_index[0]),
        (ExitReason::StopLoss, 101.0, 1)
    );
    s.intrabar_policy = IntrabarPolicy::Optimistic;
    let out = run(&b, &s, &mut pending(signal));
    assert_eq!(
        (out.trades.exit_reason[0], out.trades.exit_price[0]),
        (ExitReason::TakeProfit, 103.75)
    );
}

#[test]
fn a_pending_order_expires_is_cancelled_or_moved() {
    // The limit 98 is reached only by bar 3 (ask low 96 + 1 = 97).
    let flat = (100.0, 100.0, 100.0, 100.0);
    let b = bars(&[flat, flat, flat, (100.0, 100.0, 96.0, 98.0), flat]);
    let expiring = TradeSignal::long().with_limit(98.0).expiring_after(2);
    let out = run(&b, &settings(), &mut pending(expiring));
    assert_eq!(out.trades.len(), 0);
    assert_eq!(
        (out.skipped_orders[0].time, out.skipped_orders[0].reason),
        (2 * MIN, "expired")
    );
    let trace = out.trace.expect("traced");
    assert_eq!(trace[2].event, "order_expired");
    // expiring at bar 3's open time: dropped before bar 3 is checked.
    let at_time = TradeSignal::long().with_limit(98.0).expiring_at(3 * MIN);
    let out = run(&b, &settings(), &mut pending(at_time));
    assert_eq!((out.trades.len(), out.skipped_orders[0].time), (0, 3 * MIN));
    // cancelled at close 1.
    let mut script = pending(TradeSignal::long().with_limit(98.0).with_tag("dip"));
    script.order_actions = vec![(1, omega_strategy_api::OrderAction::Cancel)];
    let out = run(&b, &settings(), &mut script);
    assert_eq!(out.trades.len(), 0);
    assert_eq!(
        (
            out.skipped_orders[0].reason,
            out.skipped_orders[0].detail.as_str()
        ),
        ("cancelled", "dip")
    );
    // moved to 99 at close 1: still only bar 3 reaches it (ask low 97 <= 99), filled at 99.
    let mut script = pending(TradeSignal::long().with_limit(98.0));
    script.order_actions = vec![(1, omega_strategy_api::OrderAction::ModifyPrice(99.0))];
    let out = run(&b, &settings(), &mut script);
    assert_eq!(
        (out.trades.entry_price[0], out.trades.entry_index[0]),
        (99.0, 3)
    );
    // still working at the end: dropped.
    let out = run(
        &b,
        &settings(),
        &mut pending(TradeSignal::long().with_limit(50.0)),
    );
    assert_eq!((out.trades.len(), out.dropped_orders), (0, 1));
}

#[test]
fn invalid_pending_signals_and_order_actions_are_strategy_errors() {
    let flat = (100.0, 100.0, 100.0, 100.0);
    let b = bars(&[flat, flat, flat]);
    let run_err = |script: &mut Script| {
        run_backtest(
            b.columns(),
            Timeframe::M1,
            &settings(),
            script,
            RunOptions::default(),
        )
        .unwrap_err()
        .to_string()
    };
    let market_with_expiry = TradeSignal::long().expiring_after(2);
    assert!(run_err(&mut pending(market_with_expiry)).contains("limit and stop entries only"));
    let zero = TradeSignal::long().with_limit(99.0).expiring_after(0);
    assert!(run_err(&mut pending(zero)).contains("expiry_bars must be >= 1"));
    let negative = TradeSignal::long().with_stop_entry(-1.0);
    assert!(run_err(&mut pending(negative)).contains("entry price must be finite"));
    let mut script = pending(TradeSignal::long().with_limit(50.0));
    script.order_actions = vec![(1, omega_strategy_api::OrderAction::ModifyPrice(f64::NAN))];
    assert!(run_err(&mut script).contains("invalid OrderAction"));
}

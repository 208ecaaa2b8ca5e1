//! The loop allocates per trade, never per bar: the number of heap allocations of a run does
//! not grow with the number of bars when nothing trades, and grows by a fixed amount per trade.
//! (A counting global allocator needs `unsafe impl GlobalAlloc`; it lives only in this test.)
#![allow(unsafe_code)]

use omega_engine::{run_backtest, EngineSettings, OwnedBars, RunOptions};
use omega_strategy_api::{
    DataSlice, IndicatorHandle, IndicatorKey, IndicatorSpec, PriceField, PriceSide, RunContext,
    Strategy, StrategyError, Timeframe, TradeSignal,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Reads an indicator at every close; enters every `every` bars when flat (never if 0).
struct Reader {
    key: IndicatorKey,
    every: usize,
    handle: IndicatorHandle,
}

impl Strategy for Reader {
    fn name(&self) -> &str {
        "reader"
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.handle = ctx.indicator_on(self.key.timeframe, self.key.side, self.key.spec);
        Ok(())
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        let _ = slice.value(self.handle);
        let _ = slice.last_closed(Timeframe::H1);
        let go = self.every != 0 && slice.position().is_none() && slice.index() % self.every == 0;
        Ok(go.then(|| TradeSignal::long().with_max_bars(3)))
    }
}

fn bars(n: usize) -> OwnedBars {
    let mut b = OwnedBars::default();
    for i in 0..n {
        let p = 1.1 + 0.0001 * ((i % 17) as f64);
        b.time.push(i as i64 * 60_000_000_000);
        for (col, v) in [
            (&mut b.bid_open, p),
            (&mut b.bid_high, p + 0.0002),
            (&mut b.bid_low, p - 0.0002),
            (&mut b.bid_close, p),
            (&mut b.ask_open, p + 0.0001),
            (&mut b.ask_high, p + 0.0003),
            (&mut b.ask_low, p - 0.0001),
            (&mut b.ask_close, p + 0.0001),
            (&mut b.volume, 1.0),
        ] {
            col.push(v);
        }
    }
    b
}

fn allocations_of_run(n_bars: usize, every: usize) -> (usize, usize) {
    let data = bars(n_bars);
    let settings = EngineSettings {
        primary_timeframe: Timeframe::M1,
        timeframes: vec![Timeframe::M1, Timeframe::H1],
        ..EngineSettings::default()
    };
    let key = IndicatorKey {
        timeframe: Timeframe::M1,
        side: PriceSide::Bid,
        spec: IndicatorSpec::Sma {
            period: 5,
            field: PriceField::Close,
        },
    };
    let mut strategy = Reader {
        key,
        every,
        handle: IndicatorHandle(0),
    };
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = run_backtest(
        data.columns(),
        Timeframe::M1,
        &settings,
        &mut strategy,
        RunOptions::default(),
    )
    .unwrap();
    let count = ALLOCATIONS.load(Ordering::Relaxed) - before;
    (count, out.trades.len())
}

/// One test function: a counting allocator is process-wide, and parallel tests would mix counts.
#[test]
fn allocations_grow_with_trades_not_bars() {
    // No trades: 16x the bars, (almost) the same allocations. Resampling to H1 grows its
    // vectors geometrically, a few reallocations per doubling: a small slack.
    let (small, _) = allocations_of_run(6_000, 0);
    let (large, _) = allocations_of_run(96_000, 0);
    assert!(
        large <= small + 16,
        "{small} allocations for 6k bars, {large} for 96k"
    );

    let (few, few_trades) = allocations_of_run(20_000, 400);
    let (many, many_trades) = allocations_of_run(20_000, 40);
    assert!(many_trades > few_trades * 5);
    let per_trade = (many - few) as f64 / (many_trades - few_trades) as f64;
    // The trade log's columns grow geometrically; a signal's tag is empty (no allocation).
    assert!(per_trade < 4.0, "{per_trade} allocations per trade");
    println!("no trades: {small} (6k bars) vs {large} (96k bars); {per_trade:.2} per trade");
}

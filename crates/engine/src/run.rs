//! The event loop: one primary bar at a time, in the order of docs/engine/execution.md.

use crate::bars::{check_input, has_shape};
use crate::calendar::{self, Sessions};
use crate::error::EngineError;
use crate::market::{compute_indicators, run_timeframes, Frames};
use crate::metrics::TradeTally;
use crate::output::{ExitReason, RunOutput, SkippedOrder, TraceRow};
use crate::portfolio::Portfolio;
use crate::rng::SplitMix64;
use crate::settings::{
    Conversion, CrossSettings, EndOfData, EngineSettings, IntrabarPolicy, MarginSettings,
    SizingMode, SlippageModel, StopUnit, SwapSettings, SwapUnit,
};
use crate::streamed::{EquityStream, FirstPass};
use crate::text::push_utc_time;
use crate::visibility::VisibilityCursor;
use omega_indicators::IndicatorCache;
use omega_strategy_api::{
    BarColumns, DataSlice, Declared, Distance, FrameView, IndicatorKey, IndicatorSpec,
    IndicatorView, Instrument as ApiInstrument, InstrumentId, PositionAction, PriceSide,
    RunContext, Side, SliceParts, Strategy, Timeframe, TraceRecorder, TradeSignal,
};
use omega_strategy_api::{EntryOrder, OrderAction, WorkingOrder};

/// Options of one run that do not change its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Record the per-bar decision trace (off by default; costs nothing when off).
    pub trace: bool,
}

/// An exit decided at a close, filled at the next open.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PendingExit {
    Full(ExitReason),
    Partial(f64),
}

const SIGNAL_LONG: &str = "signal_long";
const SIGNAL_SHORT: &str = "signal_short";
const IGNORED_SIGNAL: &str = "ignored_signal";
const EXIT_QUEUED: &str = "exit_queued";
const PARTIAL_QUEUED: &str = "partial_queued";
const MODIFY_SL: &str = "modify_sl";
const MODIFY_TP: &str = "modify_tp";
const BREAK_EVEN: &str = "break_even";
const TRAIL_STOP: &str = "trail_stop";
const ORDER_EXPIRED: &str = "order_expired";
const ORDER_CANCELLED: &str = "order_cancelled";
const ORDER_MODIFIED: &str = "order_modified";
const ORDER_REPLACED: &str = "order_replaced";
const SWAP: &str = "swap";
const MARGIN_CALL: &str = "margin_call";

/// A pending (limit or stop) entry while it works: the signal, and the view
/// `manage_order` is shown (kept up to date, so it is built once per order).
#[derive(Debug, Clone)]
struct Working {
    signal: TradeSignal,
    view: WorkingOrder,
}

/// Slippage of fills at (or inside) primary bar `i`, against the trader.
#[derive(Debug)]
struct Slippage {
    model: SlippageModel,
    fixed: f64,
    pips: f64,
    pip: f64,
    fraction: f64,
    rng: SplitMix64,
}

impl Slippage {
    /// The slip of the next fill at bar `i` and the generator state after taking it; the
    /// caller commits the state only if the order really fills.
    fn peek(&self, i: usize, atr: &[f64]) -> (f64, SplitMix64) {
        let mut rng = self.rng;
        let slip = match self.model {
            SlippageModel::None => 0.0,
            SlippageModel::Fixed => self.fixed,
            SlippageModel::Random => rng.next_f64() * self.pips * self.pip,
            SlippageModel::Atr => {
                if i == 0 || atr[i - 1].is_nan() {
                    0.0
                } else {
                    self.fraction * atr[i - 1]
                }
            }
        };
        (slip, rng)
    }

    fn draw(&mut self, i: usize, atr: &[f64]) -> f64 {
        let (slip, rng) = self.peek(i, atr);
        self.rng = rng;
        slip
    }
}

/// The rollover schedule of a run with a swap model: the next rollover after the last bar
/// stepped, found lazily (a stream does not know its last bar).
#[derive(Debug)]
struct SwapClock {
    swap: SwapSettings,
    zone: chrono_tz::Tz,
    /// The next rollover not yet passed: (UTC ns, nights).
    next: Option<(i64, u32)>,
}

impl SwapClock {
    /// Nights of the rollovers after the previous bar's open and at or before `open` (the
    /// first call only finds the first rollover after `open`).
    fn nights_until(&mut self, open: i64) -> u32 {
        let Some(mut next) = self.next else {
            self.next = calendar::rollover_after(&self.swap, &self.zone, open);
            return 0;
        };
        let mut nights = 0;
        while next.0 <= open {
            nights += next.1;
            match calendar::rollover_after(&self.swap, &self.zone, next.0) {
                Some(following) => next = following,
                None => break,
            }
        }
        self.next = Some(next);
        nights
    }
}

/// The conversion rate of a cross, bar by bar (the fixed rate, or the conversion pair's
/// bid close at or before the bar's open).
#[derive(Debug)]
struct CrossRates {
    cross: CrossSettings,
    cursor: usize,
}

impl CrossRates {
    /// The rate at the bar opening at `open` and closing at `close`: the close of the
    /// conversion bar opening at or before it, from `member` (a basket member's base bars) or
    /// the settings' own series; the conversion's first bar when that opens within this bar
    /// (data starting inside a primary bar, whose resampled first bar opens earlier).
    fn rate_at(
        &mut self,
        open: i64,
        close: i64,
        member: Option<ConversionBars<'_>>,
    ) -> Result<f64, EngineError> {
        if let Some(rate) = self.cross.fixed_rate {
            return Ok(rate);
        }
        let (times, closes) = member.unwrap_or((&self.cross.times, &self.cross.closes));
        while self.cursor + 1 < times.len() && times[self.cursor + 1] <= open {
            self.cursor += 1;
        }
        if let (None, Some(k)) = (member, self.cross.member) {
            return Err(EngineError::Config(format!(
                "account.conversion: {} converts through basket member {k}, but this run is \
                 not a basket",
                self.cross.symbol
            )));
        }
        if let Some(first) = times.first().copied().filter(|&first| first >= close) {
            let (mut at, mut starts) = (String::new(), String::new());
            push_utc_time(&mut at, open);
            push_utc_time(&mut starts, first);
            return Err(EngineError::Config(format!(
                "account.conversion: no {symbol} rate at or before the bar opening at {at} \
                 ({open} UTC ns): the {symbol} bars start at {starts}",
                symbol = self.cross.symbol
            )));
        }
        if times.is_empty() {
            return Err(EngineError::Config(format!(
                "account.conversion: no {} bars to convert with",
                self.cross.symbol
            )));
        }
        Ok(closes[self.cursor])
    }
}

/// One primary bar's prices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prices {
    pub(crate) time: i64,
    pub(crate) bo: f64,
    pub(crate) bh: f64,
    pub(crate) bl: f64,
    pub(crate) bc: f64,
    pub(crate) ao: f64,
    pub(crate) ah: f64,
    pub(crate) al: f64,
    pub(crate) ac: f64,
}

#[inline(always)] // once per bar: keep the loads next to their uses
pub(crate) fn prices(p: &BarColumns<'_>, i: usize) -> Prices {
    Prices {
        time: p.time[i],
        bo: p.bid_open[i],
        bh: p.bid_high[i],
        bl: p.bid_low[i],
        bc: p.bid_close[i],
        ao: p.ask_open[i],
        ah: p.ask_high[i],
        al: p.ask_low[i],
        ac: p.ask_close[i],
    }
}

/// A level hit: reason, level or open price, and whether a stop slip applies.
type Hit = (ExitReason, f64, bool);

/// Step 2 for one bar of the position's side (`o`, `h`, `low`): gaps first (unless the
/// position was opened inside this bar, `gaps = false`), then touches.
/// Returns the hit and whether both levels were touched inside the range.
#[allow(clippy::too_many_arguments)] // one bar's three prices and the rule's switches
#[inline(always)] // every bar with a position: no call with eight arguments
fn range_hit(
    side: Side,
    sl: Option<f64>,
    tp: Option<f64>,
    o: f64,
    h: f64,
    low: f64,
    optimistic: bool,
    gaps: bool,
) -> (Option<Hit>, bool) {
    let (sl_touched, tp_touched) = match side {
        Side::Long => {
            if gaps && sl.is_some_and(|sl| o <= sl) {
                return (Some((ExitReason::StopLoss, o, true)), false);
            }
            if gaps && tp.is_some_and(|tp| o >= tp) {
                return (Some((ExitReason::TakeProfit, o, false)), false);
            }
            (sl.is_some_and(|sl| low <= sl), tp.is_some_and(|tp| h >= tp))
        }
        Side::Short => {
            if gaps && sl.is_some_and(|sl| o >= sl) {
                return (Some((ExitReason::StopLoss, o, true)), false);
            }
            if gaps && tp.is_some_and(|tp| o <= tp) {
                return (Some((ExitReason::TakeProfit, o, false)), false);
            }
            (sl.is_some_and(|sl| h >= sl), tp.is_some_and(|tp| low <= tp))
        }
    };
    let (sl, tp) = (sl.unwrap_or(f64::NAN), tp.unwrap_or(f64::NAN));
    match (sl_touched, tp_touched) {
        (true, true) if optimistic => (Some((ExitReason::TakeProfit, tp, false)), true),
        (true, true) => (Some((ExitReason::StopLoss, sl, true)), true),
        (true, false) => (Some((ExitReason::StopLoss, sl, true)), false),
        (false, true) => (Some((ExitReason::TakeProfit, tp, false)), false),
        (false, false) => (None, false),
    }
}

/// Whether a stop at `cand` is tighter than `sl` (or there is none): higher for a long,
/// lower for a short.
#[inline(always)]
fn tightens(long: bool, cand: f64, sl: Option<f64>) -> bool {
    match sl {
        None => true,
        Some(sl) => (long && cand > sl) || (!long && cand < sl),
    }
}

/// The stop-loss and take-profit of `signal` filled at `fill`: an absolute level wins,
/// else a distance from the fill.
#[inline(always)]
fn levels_from_fill(signal: &TradeSignal, fill: f64) -> (Option<f64>, Option<f64>) {
    let sl = signal.stop_loss.or_else(|| {
        signal.stop_loss_distance.map(|d| match signal.side {
            Side::Long => fill - d,
            Side::Short => fill + d,
        })
    });
    let tp = signal.take_profit.or_else(|| {
        signal.take_profit_distance.map(|d| match signal.side {
            Side::Long => fill + d,
            Side::Short => fill - d,
        })
    });
    (sl, tp)
}

/// A pending entry against one bar of the order's side (`o`, `h`, `low`: ask for a long,
/// bid for a short): the fill level and whether the bar opened beyond the price (a gap,
/// filled at the open), or `None` if the bar does not reach it.
#[inline(always)]
fn order_trigger(side: Side, entry: EntryOrder, o: f64, h: f64, low: f64) -> Option<(f64, bool)> {
    match (side, entry) {
        (Side::Long, EntryOrder::Limit(p)) | (Side::Short, EntryOrder::Stop(p)) => {
            if o <= p {
                Some((o, true))
            } else if low <= p {
                Some((p, false))
            } else {
                None
            }
        }
        (Side::Long, EntryOrder::Stop(p)) | (Side::Short, EntryOrder::Limit(p)) => {
            if o >= p {
                Some((o, true))
            } else if h >= p {
                Some((p, false))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Checks a signal the way the Python `TradeSignal` checks itself at construction.
fn check_signal(signal: &TradeSignal, index: usize) -> Result<(), EngineError> {
    let bad = |what: String| {
        Err(EngineError::Strategy(format!(
            "bar {index}: invalid TradeSignal: {what}"
        )))
    };
    if signal.stop_loss.is_some() && signal.stop_loss_distance.is_some() {
        return bad("give stop_loss or stop_loss_distance, not both".into());
    }
    if signal.take_profit.is_some() && signal.take_profit_distance.is_some() {
        return bad("give take_profit or take_profit_distance, not both".into());
    }
    if signal.size.is_some() && signal.risk_percent.is_some() {
        return bad("give size or risk_percent, not both".into());
    }
    let positive = [
        ("stop_loss", signal.stop_loss),
        ("take_profit", signal.take_profit),
        ("size", signal.size),
        ("risk_percent", signal.risk_percent),
    ];
    for (name, value) in positive {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v > 0.0)) {
            return bad(format!("{name} must be finite and > 0, got {v}"));
        }
    }
    for (name, value) in [
        ("stop_loss_distance", signal.stop_loss_distance),
        ("take_profit_distance", signal.take_profit_distance),
    ] {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            return bad(format!("{name} must be finite and >= 0, got {v}"));
        }
    }
    if signal.max_bars == Some(0) {
        return bad("max_bars must be >= 1".into());
    }
    match signal.entry {
        EntryOrder::Market => {
            if signal.expiry_bars.is_some() || signal.expires_at.is_some() {
                return bad("an expiry applies to limit and stop entries only".into());
            }
        }
        EntryOrder::Limit(p) | EntryOrder::Stop(p) => {
            if !(p.is_finite() && p > 0.0) {
                return bad(format!("an entry price must be finite and > 0, got {p}"));
            }
        }
        other => return bad(format!("{other:?} is not supported by this engine version")),
    }
    if signal.expiry_bars == Some(0) {
        return bad("expiry_bars must be >= 1".into());
    }
    Ok(())
}

fn check_action(action: &PositionAction, index: usize) -> Result<(), EngineError> {
    let bad = |what: String| {
        Err(EngineError::Strategy(format!(
            "bar {index}: invalid PositionAction: {what}"
        )))
    };
    match *action {
        PositionAction::PartialClose(f) if !(f > 0.0 && f <= 1.0) => {
            bad(format!("PartialClose fraction must be in (0, 1], got {f}"))
        }
        PositionAction::ModifyStopLoss(Some(p)) | PositionAction::ModifyTakeProfit(Some(p))
            if !(p.is_finite() && p > 0.0) =>
        {
            bad(format!("a level must be finite and > 0, got {p}"))
        }
        PositionAction::MoveToBreakEven(d) | PositionAction::TrailStop(d) => match d {
            Distance::Pips(x) | Distance::Price(x) if !x.is_finite() => {
                bad(format!("a distance must be finite, got {x}"))
            }
            Distance::Atr { multiple, .. } if !multiple.is_finite() => {
                bad(format!("an ATR multiple must be finite, got {multiple}"))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// What a run computes before its loop: the strategy's declarations (in handle order) and
/// the run's timeframes.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) declared: Vec<Declared>,
    pub(crate) timeframes: Vec<Timeframe>,
}

/// Starts a run of `strategy`: its `init` with the run's context, then the timeframes.
pub(crate) fn plan<S: Strategy>(
    strategy: &mut S,
    base_tf: Timeframe,
    settings: &EngineSettings,
) -> Result<Plan, EngineError> {
    let (declared, read) = init_strategy(strategy, settings)?;
    let wanted: Vec<Timeframe> = declared
        .iter()
        .map(Declared::timeframe)
        .chain(read)
        .collect();
    let timeframes = run_timeframes(
        base_tf,
        settings.primary_timeframe,
        &settings.timeframes,
        &wanted,
    )?;
    Ok(Plan {
        declared,
        timeframes,
    })
}

/// Calls `strategy.init` with the run's context: what it declared (in handle order) and the
/// timeframes it reads without an indicator.
pub(crate) fn init_strategy<S: Strategy>(
    strategy: &mut S,
    settings: &EngineSettings,
) -> Result<(Vec<Declared>, Vec<Timeframe>), EngineError> {
    let primary_tf = settings.primary_timeframe;
    let instrument = ApiInstrument {
        id: InstrumentId(settings.instrument_id),
        symbol: settings.instrument.symbol.clone(),
        pip_size: settings.instrument.pip_size,
    };
    let mut configured: Vec<Timeframe> = std::iter::once(primary_tf)
        .chain(settings.timeframes.iter().copied())
        .collect();
    configured.sort_by_key(|tf| tf.seconds());
    configured.dedup();
    let params = strategy.params().cloned().unwrap_or_default();
    let mut ctx = RunContext::new(&instrument, primary_tf, &configured, &params);
    strategy
        .init(&mut ctx)
        .map_err(|e| EngineError::Strategy(e.0))?;
    Ok(ctx.into_parts())
}

/// Runs a backtest of `strategy` over `base` bars of timeframe `base_tf`.
pub fn run_backtest<S: Strategy>(
    base: BarColumns<'_>,
    base_tf: Timeframe,
    settings: &EngineSettings,
    strategy: &mut S,
    options: RunOptions,
) -> Result<RunOutput, EngineError> {
    let mut cache = IndicatorCache::new();
    run_backtest_with_cache(base, base_tf, settings, strategy, options, &mut cache)
}

/// [`run_backtest`] with a caller-owned indicator cache, so repeated runs over the same data
/// (an optimizer) compute each (timeframe, side, spec) once. One cache per data set.
pub fn run_backtest_with_cache<S: Strategy>(
    base: BarColumns<'_>,
    base_tf: Timeframe,
    settings: &EngineSettings,
    strategy: &mut S,
    options: RunOptions,
    cache: &mut IndicatorCache,
) -> Result<RunOutput, EngineError> {
    run(base, base_tf, settings, strategy, options, cache, true)
}

/// [`run_backtest`], except that `equity_time` is left empty when the primary timeframe is
/// the base timeframe: it would be a copy of `base.time`, which a caller holding the input
/// (the Python binding) can hand out instead (8 bytes per bar less, and no copy).
pub fn run_backtest_sharing_base_time<S: Strategy>(
    base: BarColumns<'_>,
    base_tf: Timeframe,
    settings: &EngineSettings,
    strategy: &mut S,
    options: RunOptions,
) -> Result<RunOutput, EngineError> {
    let mut cache = IndicatorCache::new();
    run(
        base, base_tf, settings, strategy, options, &mut cache, false,
    )
}

fn run<S: Strategy>(
    base: BarColumns<'_>,
    base_tf: Timeframe,
    settings: &EngineSettings,
    strategy: &mut S,
    options: RunOptions,
    cache: &mut IndicatorCache,
    copy_base_time: bool,
) -> Result<RunOutput, EngineError> {
    let started = std::time::Instant::now();
    settings.validate()?;
    if !has_shape(&base) {
        check_input(&base)?;
    }
    let primary_tf = settings.primary_timeframe;
    // Errors in the order of the checks: input data before the strategy's requests. The
    // input's content is checked while resampling it when a frame is resampled from it.
    let planned = plan(strategy, base_tf, settings)
        .map_err(|error| check_input(&base).err().unwrap_or(error));
    let Plan {
        declared,
        timeframes,
    } = planned?;
    let frames = build_checked_frames(base, base_tf, primary_tf, timeframes)?;
    let resampled = started.elapsed();
    compute_declared(&frames, &declared, settings, cache)?;
    let computed = started.elapsed();
    let mut out = execute(
        &frames,
        &frames.timeframes,
        &declared,
        cache,
        settings,
        strategy,
        options,
    )?;
    let looped = started.elapsed();
    out.equity_time = frames.into_primary_time(copy_base_time);
    // Stage times (cumulative), to see where a run's time goes without a profiler.
    log::debug!(
        "stages (ms, cumulative): checked and resampled {:.2}, indicators {:.2}, loop {:.2}",
        resampled.as_secs_f64() * 1e3,
        computed.as_secs_f64() * 1e3,
        looped.as_secs_f64() * 1e3,
    );
    Ok(out)
}

/// Frames of `timeframes` resampled from `base`, with the input checked (in the resampling
/// pass when a frame is resampled from the base, else by `check_input`).
pub(crate) fn build_checked_frames<'a>(
    base: BarColumns<'a>,
    base_tf: Timeframe,
    primary_tf: Timeframe,
    timeframes: Vec<Timeframe>,
) -> Result<Frames<'a>, EngineError> {
    let frames = Frames::build(base, base_tf, primary_tf, timeframes);
    if frames.base_checked != Some(true) {
        check_input(&base)?;
        if frames.base_checked == Some(false) {
            return Err(EngineError::Internal(
                "resampling flagged input that check_input accepts".into(),
            ));
        }
    }
    Ok(frames)
}

/// The built-in series of `declared` (sorted, deduplicated) plus those the engine itself
/// reads ([`engine_keys`]).
pub(crate) fn run_keys(declared: &[Declared], settings: &EngineSettings) -> Vec<IndicatorKey> {
    let mut keys: Vec<IndicatorKey> = declared
        .iter()
        .filter_map(|d| match d {
            Declared::Builtin(key) => Some(*key),
            Declared::Custom(_) => None,
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.extend(engine_keys(settings).into_iter().flatten());
    keys
}

/// The engine's own series: the ATR of the slippage model and the ATR of stop distances in
/// ATR multiples, each when configured.
pub(crate) fn engine_keys(settings: &EngineSettings) -> [Option<IndicatorKey>; 2] {
    let primary_atr = |period: usize| IndicatorKey {
        timeframe: settings.primary_timeframe,
        side: PriceSide::Bid,
        spec: IndicatorSpec::Atr { period },
    };
    [
        (settings.slippage.model == SlippageModel::Atr)
            .then(|| primary_atr(settings.slippage.atr_period)),
        settings
            .uses_stop_atr()
            .then(|| primary_atr(settings.stop_atr_period)),
    ]
}

/// Computes every series a run of `declared` reads into `cache`.
pub(crate) fn compute_declared(
    frames: &Frames<'_>,
    declared: &[Declared],
    settings: &EngineSettings,
    cache: &mut IndicatorCache,
) -> Result<(), EngineError> {
    compute_indicators(frames, &run_keys(declared, settings), cache)?;
    for d in declared {
        if let Declared::Custom(custom) = d {
            let timeframe = d.timeframe();
            let bars = frames.columns(timeframe).ok_or_else(|| {
                EngineError::Internal(format!(
                    "indicator timeframe {} has no frame",
                    timeframe.name()
                ))
            })?;
            cache.ensure_custom(custom, &bars);
        }
    }
    Ok(())
}

/// The event loop of one run over prepared `frames`, seeing only the frames of `timeframes`
/// (the run's own, a subset when frames are shared by runs) and the series of `declared` in
/// `cache` (computed before, with `compute_declared`). `equity_time` is left empty: the caller owns
/// the primary frame's times.
pub(crate) fn execute<S: Strategy>(
    frames: &Frames<'_>,
    timeframes: &[Timeframe],
    declared: &[Declared],
    cache: &IndicatorCache,
    settings: &EngineSettings,
    strategy: &mut S,
    options: RunOptions,
) -> Result<RunOutput, EngineError> {
    let conversion = settings.validate()?;
    let prepared = Prepared::new(frames, timeframes, declared, cache, settings)?;
    let inputs = prepared.inputs();
    let primary = inputs.primary;
    let n = primary.len();
    let mut stepper = Stepper::new(settings, conversion, &prepared.timeframes(), n, options);
    for i in 0..n {
        stepper.step(i, &inputs, settings, strategy)?;
    }
    Ok(stepper.finish(primary, frames.base.len(), strategy))
}

/// What one run's loop reads of prepared frames and series (see [`execute`]).
pub(crate) struct Prepared<'a> {
    views: Vec<FrameView<'a>>,
    indicator_views: Vec<IndicatorView<'a>>,
    primary_view: usize,
    finer: Option<(&'a [usize], BarColumns<'a>)>,
    slip_atr: &'a [f64],
    stop_atr: &'a [f64],
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(
        frames: &'a Frames<'_>,
        timeframes: &[Timeframe],
        declared: &[Declared],
        cache: &'a IndicatorCache,
        settings: &EngineSettings,
    ) -> Result<Self, EngineError> {
        let primary_tf = settings.primary_timeframe;
        let views: Vec<FrameView<'a>> = frames
            .timeframes
            .iter()
            .zip(&frames.stores)
            .filter(|(tf, _)| timeframes.contains(tf))
            .map(|(&timeframe, store)| FrameView {
                timeframe,
                bars: store.columns(),
            })
            .collect();
        let missing = |what: String| EngineError::Internal(format!("{what} was not prepared"));
        let indicator_views = declared
            .iter()
            .map(|d| {
                let timeframe = d.timeframe();
                let frame = views
                    .iter()
                    .position(|view| view.timeframe == timeframe)
                    .ok_or_else(|| missing(format!("the frame {}", timeframe.name())))?;
                let values = match d {
                    Declared::Builtin(key) => cache.get(key),
                    Declared::Custom(custom) => cache.get_custom(&custom.key()),
                };
                let values = values.ok_or_else(|| missing(format!("{d:?}")))?;
                Ok(IndicatorView { frame, values })
            })
            .collect::<Result<Vec<IndicatorView<'a>>, EngineError>>()?;
        let primary_view = views
            .iter()
            .position(|view| view.timeframe == primary_tf)
            .ok_or_else(|| missing(format!("the primary frame {}", primary_tf.name())))?;
        let [slip_key, stop_key] = engine_keys(settings);
        let engine_series = |key: Option<IndicatorKey>| match key {
            Some(key) => cache.get(&key).ok_or_else(|| missing(format!("{key:?}"))),
            None => Ok(&[][..]),
        };
        let (slip_atr, stop_atr) = (engine_series(slip_key)?, engine_series(stop_key)?);
        // The finer policy walks base bars; with primary == base it is pessimistic.
        let finer = match (settings.intrabar_policy, &frames.primary_bounds) {
            (IntrabarPolicy::Finer, Some(bounds)) => Some((bounds.as_slice(), frames.base)),
            _ => None,
        };
        Ok(Prepared {
            views,
            indicator_views,
            primary_view,
            finer,
            slip_atr,
            stop_atr,
        })
    }

    pub(crate) fn inputs(&self) -> StepInputs<'_, 'a> {
        StepInputs {
            views: &self.views,
            indicators: &self.indicator_views,
            primary: self.views[self.primary_view].bars,
            finer: self.finer,
            slip_atr: self.slip_atr,
            stop_atr: self.stop_atr,
            conversion: None,
        }
    }

    /// The views' timeframes, in their order.
    pub(crate) fn timeframes(&self) -> Vec<Timeframe> {
        self.views.iter().map(|view| view.timeframe).collect()
    }
}

/// What a streamed run leaves: the first pass over its equity, its trades' tally, counts.
#[derive(Debug)]
pub(crate) struct StreamedRun {
    pub(crate) first: FirstPass,
    pub(crate) tally: TradeTally,
    pub(crate) final_balance: f64,
    pub(crate) bars_processed: usize,
    pub(crate) base_bars: usize,
    pub(crate) ignored_signals: usize,
    pub(crate) dropped_orders: usize,
    pub(crate) skipped_orders: usize,
}

/// A conversion pair's bar open times and bid closes, read in place.
pub(crate) type ConversionBars<'a> = (&'a [i64], &'a [f64]);

/// What the step of primary bar `i` reads: the frames and series as far as they are known
/// (a backtest: all of them, prepared before the loop; a stream: up to bar `i`).
pub(crate) struct StepInputs<'v, 'a> {
    pub(crate) views: &'v [FrameView<'a>],
    pub(crate) indicators: &'v [IndicatorView<'a>],
    /// The primary frame's bars (its view's, kept at hand).
    pub(crate) primary: BarColumns<'a>,
    /// Base ranges of the primary bars and the base bars (the `finer` policy), if it is on.
    pub(crate) finer: Option<(&'a [usize], BarColumns<'a>)>,
    /// The primary ATR of the slippage model (empty unless that model is on).
    pub(crate) slip_atr: &'a [f64],
    /// The primary ATR of stop distances in ATR multiples (empty unless configured).
    pub(crate) stop_atr: &'a [f64],
    /// A basket member's conversion pair: another member's base times and bid closes (a
    /// cross whose `CrossSettings::member` is set); `None` elsewhere.
    pub(crate) conversion: Option<ConversionBars<'a>>,
}

/// A run between two primary bars: the account, the queued orders, the equity so far and
/// the visibility cursors. A backtest steps every bar of prepared frames; a stream steps
/// each primary bar as it closes: the same code decides both.
#[derive(Debug)]
pub(crate) struct Stepper {
    options: RunOptions,
    primary_tf: Timeframe,
    primary_nanos: i64,
    pip: f64,
    cs: f64,
    lot_step: f64,
    optimistic: bool,
    slippage: Slippage,
    pub(crate) book: Portfolio,
    pending_exit: Option<PendingExit>,
    pending_entry: Option<TradeSignal>,
    working: Option<Working>,
    end_of_data: EndOfData,
    swap: Option<SwapClock>,
    margin: Option<MarginSettings>,
    cross: Option<CrossRates>,
    sessions: Option<Sessions>,
    /// Whether step 0 has work: a swap, a cross or sessions.
    account_clock: bool,
    /// Whether the current bar's open is inside the session (true without one).
    in_session: bool,
    point: f64,
    /// A basket member: the P&L and the margin of the account's other positions, at their
    /// marks (0.0 for a single-instrument run), for sizing and the free-margin check.
    pub(crate) others_unrealized: f64,
    pub(crate) others_margin: f64,
    /// The id slices, positions and working orders carry (its place in a basket; 0 alone).
    instrument: InstrumentId,
    ignored_signals: usize,
    skipped_orders: Vec<SkippedOrder>,
    /// The equity curve; empty when `stream` takes the equity instead (a sweep).
    equity: Vec<f64>,
    stream: Option<Box<EquityStream>>,
    stepped: usize,
    cursors: Vec<VisibilityCursor>,
    visible: Vec<usize>,
    recorder: TraceRecorder,
    trace_rows: Option<Vec<TraceRow>>,
    events: Vec<&'static str>,
}

impl Stepper {
    /// A run with nothing stepped yet; `timeframes` are the views' (in their order),
    /// `capacity` the expected primary bars.
    pub(crate) fn new(
        settings: &EngineSettings,
        conversion: Conversion,
        timeframes: &[Timeframe],
        capacity: usize,
        options: RunOptions,
    ) -> Self {
        let ins = &settings.instrument;
        let pip = ins.pip_size;
        Stepper {
            options,
            primary_tf: settings.primary_timeframe,
            primary_nanos: settings.primary_timeframe.nanos(),
            pip,
            cs: ins.contract_size,
            lot_step: ins.lot_step,
            optimistic: settings.intrabar_policy == IntrabarPolicy::Optimistic,
            slippage: Slippage {
                model: settings.slippage.model,
                fixed: settings.slippage.pips * pip,
                pips: settings.slippage.pips,
                pip,
                fraction: settings.slippage.atr_fraction,
                rng: SplitMix64::new(settings.slippage.seed),
            },
            book: Portfolio::new(
                settings.initial_balance,
                conversion,
                settings.fees,
                ins.contract_size,
            )
            .for_instrument(InstrumentId(settings.instrument_id)),
            pending_exit: None,
            pending_entry: None,
            working: None,
            end_of_data: settings.end_of_data,
            swap: settings.swap.clone().map(|swap| SwapClock {
                // validated before any run starts (EngineSettings::validate)
                zone: calendar::zone(&swap.timezone, "swap.timezone").unwrap_or(chrono_tz::UTC),
                swap,
                next: None,
            }),
            margin: settings.margin,
            cross: settings
                .cross
                .clone()
                .map(|cross| CrossRates { cross, cursor: 0 }),
            sessions: Sessions::new(settings),
            account_clock: settings.swap.is_some()
                || settings.cross.is_some()
                || settings.session.is_some()
                || !settings.blackouts.is_empty(),
            in_session: true,
            point: ins.point,
            others_unrealized: 0.0,
            others_margin: 0.0,
            instrument: InstrumentId(settings.instrument_id),
            ignored_signals: 0,
            skipped_orders: Vec::new(),
            equity: Vec::with_capacity(capacity),
            stream: None,
            stepped: 0,
            cursors: timeframes
                .iter()
                .map(|tf| VisibilityCursor::new(tf.nanos()))
                .collect(),
            visible: vec![0; timeframes.len()],
            recorder: TraceRecorder::new(),
            trace_rows: options.trace.then(|| Vec::with_capacity(capacity)),
            events: Vec::with_capacity(8),
        }
    }

    /// A run that keeps no equity curve and no trade log: the metrics' inputs are taken as
    /// it goes ([`Stepper::finish_streamed`]).
    pub(crate) fn streamed(
        settings: &EngineSettings,
        conversion: Conversion,
        timeframes: &[Timeframe],
        options: RunOptions,
    ) -> Self {
        let mut stepper = Stepper::new(settings, conversion, timeframes, 0, options);
        stepper.stream = Some(Box::new(EquityStream::new(
            settings.initial_balance,
            settings.primary_timeframe.nanos(),
        )));
        stepper.book.tally = Some(Box::default());
        stepper
    }

    /// The first pass of a streamed run's metrics over bars up to `end` (exclusive, stepped
    /// already, not the last of the run).
    pub(crate) fn take_equity(&mut self, end: usize, primary: &BarColumns<'_>) {
        if let Some(stream) = self.stream.as_deref_mut() {
            stream.advance(end, primary);
        }
    }

    /// Bars stepped so far.
    pub(crate) fn stepped(&self) -> usize {
        self.stepped
    }

    /// The equity at each stepped bar's close.
    pub(crate) fn equity(&self) -> &[f64] {
        &self.equity
    }

    /// The account as of the last step.
    pub(crate) fn book(&self) -> &Portfolio {
        &self.book
    }

    /// Whether stepping primary bar `i` leaves the account alone: nothing queued or working
    /// (no fill at its open or in its range), and a position only without a margin model or
    /// swap (whose stop-out and charges reach the account) and with
    /// neither its stop nor its target in the bar's range. Such a step reads and changes
    /// nothing outside its member (management and evaluation only queue orders for later
    /// bars), so a basket may take it before the other members reach its time.
    #[inline(always)]
    pub(crate) fn leaves_account_alone(&self, i: usize, primary: &BarColumns<'_>) -> bool {
        if self.pending_exit.is_some() || self.pending_entry.is_some() || self.working.is_some() {
            return false;
        }
        let Some(pos) = self.book.position.as_ref() else {
            return true;
        };
        if self.margin.is_some() || self.swap.is_some() {
            return false;
        }
        let px = prices(primary, i);
        let (o, h, low) = match pos.side {
            Side::Long => (px.bo, px.bh, px.bl),
            Side::Short => (px.ao, px.ah, px.al),
        };
        let (sl, tp) = (pos.stop_loss, pos.take_profit);
        range_hit(pos.side, sl, tp, o, h, low, self.optimistic, true)
            .0
            .is_none()
    }

    /// Steps primary bar `i` of a basket member when `leaves_account_alone(i)`: its clock,
    /// management, evaluation and the point of its curve (its position's P&L at the close).
    #[inline(always)]
    pub(crate) fn step_alone<S: Strategy>(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
        strategy: &mut S,
    ) -> Result<(), EngineError> {
        self.open_phase(i, inputs)?;
        let px = prices(&inputs.primary, i);
        let unrealized = self.manage_phase(i, &px, inputs, settings, strategy)?;
        self.evaluate_at_close(i, inputs, strategy)?;
        self.mark_close(i, px.time, unrealized);
        Ok(())
    }

    /// Its primary timeframe's length (ns).
    pub(crate) fn primary_nanos(&self) -> i64 {
        self.primary_nanos
    }

    /// Whether its P&L converts through a cross rate that changes bar by bar.
    pub(crate) fn converts_cross(&self) -> bool {
        self.cross.is_some()
    }

    /// Whether a pending (limit or stop) entry is working.
    pub(crate) fn has_working_order(&self) -> bool {
        self.working.is_some()
    }

    /// Whether an entry or an exit waits for the next open.
    pub(crate) fn pending(&self) -> (Option<&TradeSignal>, bool) {
        (self.pending_entry.as_ref(), self.pending_exit.is_some())
    }

    /// Primary bar `i` (the next one): one method per numbered step of
    /// docs/engine/execution.md, in its order (mirrored by `omega/engine/loop.py`). A basket
    /// member runs the same phases, with the account's margin steps between them
    /// (`crate::basket`).
    #[inline(always)] // the batch loop's body: one bar, every step inlined into the loop
    pub(crate) fn step<S: Strategy>(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
        strategy: &mut S,
    ) -> Result<(), EngineError> {
        let px = prices(&inputs.primary, i);
        // The steps a run may not use are behind one predictable branch each, their bodies
        // out of line: a strategy using none of them runs the loop it ran before them.
        let margin = self.margin.is_some();
        // 0. The bar's conversion rate and session; swap for the rollovers since the last bar.
        // 1. Fills at the open: exit first, a stop-out at the open, then entry.
        self.open_phase(i, inputs)?;
        if margin {
            self.stop_out_at_open(i, inputs);
        }
        self.entry_phase(i, inputs, settings);
        // 2. The position meets the bar's range; then a working pending entry does; then
        // the margin the position holds meets the bar's worst price.
        self.range_phase(i, &px, inputs, settings);
        if margin {
            self.stop_out_in_range(i, inputs);
        }
        // 3. Management at the close. 4. Evaluation at the close.
        let unrealized = self.manage_phase(i, &px, inputs, settings, strategy)?;
        self.evaluate_at_close(i, inputs, strategy)?;
        // 5. Equity at the close (steps 3 and 4 only queue orders: the position and balance
        // are those `unrealized` was computed for); the margin-call warning.
        if margin {
            self.warn_margin(unrealized);
        }
        self.mark_close(i, px.time, self.book.balance + unrealized);
        Ok(())
    }

    /// Steps 0 and 1 up to the stop-out: the bar's clock, then the exit queued at the last
    /// close fills at this open.
    #[inline(always)]
    pub(crate) fn open_phase(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
    ) -> Result<(), EngineError> {
        self.events.clear();
        if self.account_clock {
            self.begin_bar(i, inputs)?;
        }
        if self.pending_exit.is_some() {
            self.fill_exit_at_open(i, inputs);
        }
        Ok(())
    }

    /// Step 1 after the stop-out: the entry queued at the last close fills at this open.
    #[inline(always)]
    pub(crate) fn entry_phase(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
    ) {
        if self.pending_entry.is_some() {
            self.fill_entry_at_open(i, inputs, settings);
        }
    }

    /// Step 2 up to the stop-out: the position meets the bar's range, then a working
    /// pending entry does.
    #[inline(always)]
    pub(crate) fn range_phase(
        &mut self,
        i: usize,
        px: &Prices,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
    ) {
        self.meet_range(i, px, inputs);
        if self.working.is_some() {
            self.work_pending_order(i, inputs, settings);
        }
    }

    /// Step 3: management at the close (step 4, `evaluate_at_close`, follows). Returns the
    /// position's P&L marked at the close (0.0 when flat).
    #[inline(always)]
    pub(crate) fn manage_phase<S: Strategy>(
        &mut self,
        i: usize,
        px: &Prices,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
        strategy: &mut S,
    ) -> Result<f64, EngineError> {
        // The slice sees every timeframe up to this primary close.
        self.advance_visibility(inputs, px.time + self.primary_nanos);
        let unrealized = self.book.unrealized(px.bc, px.ac);
        self.manage_at_close(i, px, inputs, settings, strategy, unrealized)?;
        if self.working.is_some() {
            self.manage_order_at_close(i, inputs, strategy)?;
        }
        Ok(unrealized)
    }

    /// Step 0: the bar's conversion rate (a cross) and session flag, then the swap of the
    /// rollovers since the previous bar's open, charged to a position held over them.
    #[inline(never)] // off the hot path: only when this step has work
    fn begin_bar(&mut self, i: usize, inputs: &StepInputs<'_, '_>) -> Result<(), EngineError> {
        // (prices are read again here rather than passed: a reference to the hot loop's
        // prices would keep them in memory instead of registers)
        let px = &prices(&inputs.primary, i);
        if let Some(cross) = self.cross.as_mut() {
            self.book.cross_rate =
                cross.rate_at(px.time, px.time + self.primary_nanos, inputs.conversion)?;
        }
        if let Some(sessions) = &self.sessions {
            self.in_session = sessions.refusal(px.time).is_none();
        }
        if let Some(clock) = self.swap.as_mut() {
            let nights = clock.nights_until(px.time);
            if nights > 0 {
                self.charge_swap(nights, px);
            }
        }
        Ok(())
    }

    /// The swap of `nights` for the open position (if any), converted at this bar's open
    /// on the position's side.
    fn charge_swap(&mut self, nights: u32, px: &Prices) {
        let (Some(pos), Some(clock)) = (self.book.position.as_ref(), self.swap.as_ref()) else {
            return;
        };
        let swap = &clock.swap;
        let (rate, price) = match pos.side {
            Side::Long => (swap.long, px.bo),
            Side::Short => (swap.short, px.ao),
        };
        let per_night = match swap.unit {
            SwapUnit::Points => rate * self.point * self.cs * pos.size,
            SwapUnit::AnnualPercent => price * self.cs * pos.size * (rate / 100.0) / 365.0,
        };
        let amount = self.book.to_account(per_night * f64::from(nights), price);
        self.book.charge_swap(amount);
        self.events.push(SWAP);
    }

    /// The margin level (percent) of the open position with its P&L marked at `price`.
    #[inline(always)]
    fn margin_level(&self, price: f64) -> Option<f64> {
        let pos = self.book.position.as_ref()?;
        self.margin?;
        let gross = self.book.gross(pos.side, pos.entry_price, price, pos.size);
        Some((self.book.balance + gross) / self.book.margin * 100.0)
    }

    /// Step 1, stop-out at the open: a position whose margin level at this open (bid open
    /// for a long, ask open for a short) is below the stop-out level closes at the open.
    fn stop_out_at_open(&mut self, i: usize, inputs: &StepInputs<'_, '_>) {
        self.stop_out(i, inputs, |px, side| match side {
            Side::Long => px.bo,
            Side::Short => px.ao,
        });
    }

    /// Step 2, stop-out in the range: a position still open whose margin level at the
    /// bar's worst price (bid low for a long, ask high for a short) is below the stop-out
    /// level closes at that price (a pessimistic fill; see docs/engine/execution.md).
    fn stop_out_in_range(&mut self, i: usize, inputs: &StepInputs<'_, '_>) {
        self.stop_out(i, inputs, |px, side| match side {
            Side::Long => px.bl,
            Side::Short => px.ah,
        });
    }

    /// Closes the open position at `price_of` its side (exit reason `stop_out`, slipped as a
    /// stop) when its margin level there is below the stop-out level.
    #[inline(never)] // off the hot path: only with a margin model
    fn stop_out(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        price_of: impl Fn(&Prices, Side) -> f64,
    ) {
        let px = &prices(&inputs.primary, i);
        let (Some(margin), Some(pos)) = (self.margin, self.book.position.as_ref()) else {
            return;
        };
        let price = price_of(px, pos.side);
        if self
            .margin_level(price)
            .is_some_and(|level| level < margin.stop_out_level)
        {
            self.exit_on_hit(i, (ExitReason::StopOut, price, true), px.time, inputs);
        }
    }

    /// Records the margin-call warning on this bar's trace row (a basket's account-wide
    /// check).
    pub(crate) fn note_margin_call(&mut self) {
        self.events.push(MARGIN_CALL);
    }

    /// Sets the last recorded curve point to 0.0 (a basket member whose position closed at
    /// the end of the data: its open P&L is realized).
    pub(crate) fn zero_last_point(&mut self) {
        if let Some(last) = self.equity.last_mut() {
            *last = 0.0;
        }
    }

    /// Drops an exit queued for the next open (its position was closed by a stop-out
    /// elsewhere in the account).
    pub(crate) fn drop_pending_exit(&mut self) {
        self.pending_exit = None;
    }

    /// Step 5: the margin-call warning (trace event `margin_call`) while the margin level
    /// at the close is below the warning level.
    #[inline(never)] // off the hot path: only when this step has work
    pub(crate) fn warn_margin(&mut self, unrealized: f64) {
        let Some(margin) = self.margin else {
            return;
        };
        if self.book.position.is_some() {
            let level = (self.book.balance + unrealized) / self.book.margin * 100.0;
            if level < margin.margin_call_level {
                self.events.push(MARGIN_CALL);
            }
        }
    }

    /// Why an entry of `lots` filled at `fill` at a bar opening at `time` is refused by the
    /// session, the blackouts or the margin (`None`: it may open), and its margin.
    #[inline(always)]
    fn entry_refusal(&self, time: i64, lots: f64, fill: f64) -> Result<f64, &'static str> {
        if let Some(reason) = self.sessions.as_ref().and_then(|s| s.refusal(time)) {
            return Err(reason);
        }
        match self.margin {
            None => Ok(0.0),
            Some(margin) => {
                let required = self
                    .book
                    .to_account(lots * self.cs * fill * margin.margin_rate, fill);
                // Free margin: the balance alone in a single run (it holds no other position).
                let free = self.book.balance + self.others_unrealized - self.others_margin;
                if required > free {
                    Err("insufficient_margin")
                } else {
                    Ok(required)
                }
            }
        }
    }

    /// Step 1, the exit: an exit queued at the last close fills at this open.
    #[inline(never)] // off the hot path: only when this step has work
    fn fill_exit_at_open(&mut self, i: usize, inputs: &StepInputs<'_, '_>) {
        let px = &prices(&inputs.primary, i);
        let Some(exit) = self.pending_exit.take() else {
            return;
        };
        let Some(pos) = self.book.position.as_ref() else {
            return;
        };
        let (side, size) = (pos.side, pos.size);
        let lots_and_reason = match exit {
            PendingExit::Full(reason) => Some((size, reason)),
            PendingExit::Partial(fraction) => {
                let q = (size * fraction / self.lot_step).floor() * self.lot_step;
                if q >= size {
                    Some((size, ExitReason::Strategy))
                } else if q <= 0.0 {
                    self.skipped_orders.push(SkippedOrder {
                        time: px.time,
                        reason: "partial_below_lot_step",
                        detail: String::new(),
                    });
                    None
                } else {
                    Some((q, ExitReason::Partial))
                }
            }
        };
        if let Some((lots, reason)) = lots_and_reason {
            let slip = self.slippage.draw(i, inputs.slip_atr);
            let price = match side {
                Side::Long => px.bo - slip,
                Side::Short => px.ao + slip,
            };
            self.book.close(lots, price, reason, px.time, i);
        }
    }

    /// Step 1, the entry: a signal of the last close fills at this open, sized at the fill.
    #[inline(never)] // off the hot path: only when this step has work
    fn fill_entry_at_open(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
    ) {
        let px = &prices(&inputs.primary, i);
        let Some(signal) = self.pending_entry.take() else {
            return;
        };
        let (slip, rng_after) = self.slippage.peek(i, inputs.slip_atr);
        let fill = match signal.side {
            Side::Long => px.ao + slip,
            Side::Short => px.bo - slip,
        };
        if self.open_filled(signal, i, px.time, fill, settings) {
            self.slippage.rng = rng_after;
        }
    }

    /// Opens the position of `signal` filled at `fill` at `time` (levels from the fill,
    /// sized at the fill, then the session, blackouts and margin may refuse it), or records
    /// why the order is skipped; whether it opened. (The Python engine's `open_filled`.)
    fn open_filled(
        &mut self,
        signal: TradeSignal,
        i: usize,
        time: i64,
        fill: f64,
        settings: &EngineSettings,
    ) -> bool {
        let (sl, tp) = levels_from_fill(&signal, fill);
        let accepted = self
            .order_lots(&signal, fill, sl, settings)
            .and_then(|lots| Ok((lots, self.entry_refusal(time, lots, fill)?)));
        match accepted {
            Ok((lots, margin)) => {
                self.book.open(
                    signal.side,
                    time,
                    i,
                    fill,
                    lots,
                    sl,
                    tp,
                    signal.max_bars,
                    signal.tag,
                );
                self.book.margin = margin;
                true
            }
            // The detail is the signal's tag, as in the Python engine.
            Err(reason) => {
                self.skipped_orders.push(SkippedOrder {
                    time,
                    reason,
                    detail: signal.tag,
                });
                false
            }
        }
    }

    /// The lots of `signal` filled at `fill` with stop `sl` (see Sizing in
    /// docs/engine/execution.md), or why the order is skipped.
    #[inline(always)]
    fn order_lots(
        &self,
        signal: &TradeSignal,
        fill: f64,
        sl: Option<f64>,
        settings: &EngineSettings,
    ) -> Result<f64, &'static str> {
        let lots = if let Some(size) = signal.size {
            size
        } else if signal.risk_percent.is_some() || settings.sizing.mode == SizingMode::RiskPercent {
            let pct = signal.risk_percent.unwrap_or(settings.sizing.risk_percent);
            // The account's equity but this position's (the balance alone in a single run).
            let risk = (self.book.balance + self.others_unrealized) * (pct / 100.0);
            let Some(sl) = sl else {
                return Err("no_stop_loss");
            };
            let dist = match signal.side {
                Side::Long => fill - sl,
                Side::Short => sl - fill,
            };
            if dist <= 0.0 {
                return Err("no_stop_loss");
            }
            let per_lot = self.book.to_account(dist * self.cs, fill);
            (risk / per_lot / self.lot_step).floor() * self.lot_step
        } else {
            settings.sizing.lots
        };
        if lots < settings.instrument.min_lot {
            Err("below_min_lot")
        } else {
            Ok(lots)
        }
    }

    /// Step 2: the open position (including one opened at this open) meets the bar's range.
    #[inline(always)]
    fn meet_range(&mut self, i: usize, px: &Prices, inputs: &StepInputs<'_, '_>) {
        let Some(pos) = self.book.position.as_ref() else {
            return;
        };
        let (side, sl, tp) = (pos.side, pos.stop_loss, pos.take_profit);
        let (o, h, low) = match side {
            Side::Long => (px.bo, px.bh, px.bl),
            Side::Short => (px.ao, px.ah, px.al),
        };
        let (mut hit, both) = range_hit(side, sl, tp, o, h, low, self.optimistic, true);
        let mut exit_time = px.time;
        if both {
            if let Some((bounds, base)) = inputs.finer {
                let (opens, highs, lows) = match side {
                    Side::Long => (base.bid_open, base.bid_high, base.bid_low),
                    Side::Short => (base.ask_open, base.ask_high, base.ask_low),
                };
                // The first finer bar with any hit decides (a primary range is the union of
                // its finer ranges, so one always does; else the pessimistic hit stays).
                for k in bounds[i]..bounds[i + 1] {
                    let (finer_hit, _) =
                        range_hit(side, sl, tp, opens[k], highs[k], lows[k], false, true);
                    if finer_hit.is_some() {
                        hit = finer_hit;
                        exit_time = base.time[k];
                        break;
                    }
                }
            }
        }
        if let Some(hit) = hit {
            self.exit_on_hit(i, hit, exit_time, inputs);
        }
    }

    /// Closes the whole position on a range `hit` (a stop-loss slips, a take-profit does not).
    #[inline(never)] // off the hot path: only when this step has work
    pub(crate) fn exit_on_hit(
        &mut self,
        i: usize,
        hit: Hit,
        exit_time: i64,
        inputs: &StepInputs<'_, '_>,
    ) {
        let Some(pos) = self.book.position.as_ref() else {
            return;
        };
        let (side, size) = (pos.side, pos.size);
        let (reason, level, slipped) = hit;
        let price = if slipped {
            let slip = self.slippage.draw(i, inputs.slip_atr);
            match side {
                Side::Long => level - slip,
                Side::Short => level + slip,
            }
        } else {
            level
        };
        self.book.close(size, price, reason, exit_time, i);
    }

    /// Step 2, pending entries: a working limit or stop entry (there is one only while the
    /// account is flat) expires, or fills when this bar's range reaches its price; a filled
    /// order's position then meets the rest of the bar.
    #[inline(never)] // off the hot path: only when this step has work
    fn work_pending_order(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
    ) {
        let px = &prices(&inputs.primary, i);
        if self.book.position.is_some() {
            return;
        }
        let Some(order) = self.working.as_ref() else {
            return;
        };
        if order.signal.expires_at.is_some_and(|t| px.time >= t) {
            self.expire_order(px.time);
            return;
        }
        let (side, entry) = (order.signal.side, order.signal.entry);
        let trigger = match inputs.finer {
            // The first finer bar that reaches the price fills the order.
            Some((bounds, base)) => {
                let (opens, highs, lows) = match side {
                    Side::Long => (base.ask_open, base.ask_high, base.ask_low),
                    Side::Short => (base.bid_open, base.bid_high, base.bid_low),
                };
                let sessions = self.sessions.as_ref();
                (bounds[i]..bounds[i + 1]).find_map(|k| {
                    if sessions.is_some_and(|s| s.refusal(base.time[k]).is_some()) {
                        return None; // no fill outside the session: the order keeps working
                    }
                    order_trigger(side, entry, opens[k], highs[k], lows[k])
                        .map(|(level, gapped)| (level, gapped, Some(k)))
                })
            }
            None if !self.in_session => None,
            None => {
                let (o, h, low) = match side {
                    Side::Long => (px.ao, px.ah, px.al),
                    Side::Short => (px.bo, px.bh, px.bl),
                };
                order_trigger(side, entry, o, h, low).map(|(level, gapped)| (level, gapped, None))
            }
        };
        let Some((level, gapped, finer_bar)) = trigger else {
            let order = self.working.as_mut().expect("checked above");
            if let Some(left) = order.view.bars_left.as_mut() {
                *left -= 1;
                if *left == 0 {
                    self.expire_order(px.time);
                }
            }
            return;
        };
        let signal = self.working.take().expect("checked above").signal;
        let entry_time = match (finer_bar, inputs.finer) {
            (Some(k), Some((_, base))) => base.time[k],
            _ => px.time,
        };
        // A stop entry becomes a market order when triggered: it slips; a limit does not.
        let stop = matches!(entry, EntryOrder::Stop(_));
        let (slip, rng_after) = if stop {
            self.slippage.peek(i, inputs.slip_atr)
        } else {
            (0.0, self.slippage.rng)
        };
        let fill = match side {
            Side::Long => level + slip,
            Side::Short => level - slip,
        };
        // (the session allowed the trigger: only the margin may refuse it now)
        if self.open_filled(signal, i, entry_time, fill, settings) {
            self.slippage.rng = rng_after;
            self.meet_range_after_fill(i, px, inputs, finer_bar, gapped);
        }
    }

    /// The position a pending entry opened inside bar `i` meets the rest of the bar: the
    /// gap rows only if it filled at the open (`gapped`), then touches under the intrabar
    /// policy; with the finer policy, from the finer bar that filled it onward.
    #[inline(always)]
    fn meet_range_after_fill(
        &mut self,
        i: usize,
        px: &Prices,
        inputs: &StepInputs<'_, '_>,
        finer_bar: Option<usize>,
        gapped: bool,
    ) {
        let Some(pos) = self.book.position.as_ref() else {
            return;
        };
        let (side, sl, tp) = (pos.side, pos.stop_loss, pos.take_profit);
        let (hit, exit_time) = match (finer_bar, inputs.finer) {
            (Some(first), Some((bounds, base))) => {
                let (opens, highs, lows) = match side {
                    Side::Long => (base.bid_open, base.bid_high, base.bid_low),
                    Side::Short => (base.ask_open, base.ask_high, base.ask_low),
                };
                (first..bounds[i + 1])
                    .find_map(|k| {
                        let gaps = k != first || gapped;
                        range_hit(side, sl, tp, opens[k], highs[k], lows[k], false, gaps)
                            .0
                            .map(|hit| (hit, base.time[k]))
                    })
                    .map_or((None, px.time), |(hit, time)| (Some(hit), time))
            }
            _ => {
                let (o, h, low) = match side {
                    Side::Long => (px.bo, px.bh, px.bl),
                    Side::Short => (px.ao, px.ah, px.al),
                };
                let (hit, _) = range_hit(side, sl, tp, o, h, low, self.optimistic, gapped);
                (hit, px.time)
            }
        };
        if let Some(hit) = hit {
            self.exit_on_hit(i, hit, exit_time, inputs);
        }
    }

    /// Drops the working order as expired (recorded in `skipped_orders`).
    fn expire_order(&mut self, time: i64) {
        if let Some(order) = self.working.take() {
            self.skipped_orders.push(SkippedOrder {
                time,
                reason: "expired",
                detail: order.signal.tag,
            });
            self.events.push(ORDER_EXPIRED);
        }
    }

    /// Step 3.7: `manage_order` for the working pending entry, its actions in order.
    #[inline(never)] // off the hot path: only when this step has work
    fn manage_order_at_close<S: Strategy>(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        strategy: &mut S,
    ) -> Result<(), EngineError> {
        let Some(order) = self.working.as_ref() else {
            return Ok(());
        };
        let actions = {
            let slice = DataSlice::new(SliceParts {
                index: i,
                primary: self.primary_tf,
                frames: inputs.views,
                visible: &self.visible,
                indicators: inputs.indicators,
                position: None,
                recorder: self.options.trace.then_some(&self.recorder),
                instrument: self.instrument,
                in_session: self.in_session,
            });
            strategy
                .manage_order(&order.view, &slice)
                .map_err(|e| EngineError::Strategy(e.0))?
        };
        for action in actions {
            let Some(order) = self.working.as_mut() else {
                break; // cancelled by an earlier action
            };
            match action {
                OrderAction::Cancel => {
                    let order = self.working.take().expect("checked above");
                    self.skipped_orders.push(SkippedOrder {
                        time: inputs.primary.time[i],
                        reason: "cancelled",
                        detail: order.signal.tag,
                    });
                    self.events.push(ORDER_CANCELLED);
                }
                OrderAction::ModifyPrice(p) => {
                    if !(p.is_finite() && p > 0.0) {
                        return Err(EngineError::Strategy(format!(
                            "bar {i}: invalid OrderAction: a price must be finite and > 0, got {p}"
                        )));
                    }
                    order.signal.entry = match order.signal.entry {
                        EntryOrder::Stop(_) => EntryOrder::Stop(p),
                        _ => EntryOrder::Limit(p),
                    };
                    order.view.entry = order.signal.entry;
                    self.events.push(ORDER_MODIFIED);
                }
                other => {
                    return Err(EngineError::Strategy(format!(
                        "bar {i}: {other:?} is not supported by this engine version"
                    )))
                }
            }
        }
        Ok(())
    }

    /// Moves every timeframe's visible count up to the primary bar closing at `close_time`.
    #[inline(always)]
    fn advance_visibility(&mut self, inputs: &StepInputs<'_, '_>, close_time: i64) {
        for (k, view) in inputs.views.iter().enumerate() {
            self.visible[k] = self.cursors[k].advance(view.bars.time, close_time);
        }
    }

    /// Step 3: the position still open after step 2 is managed at the close: its counters,
    /// the configured break-even and trailing, the bar limit, then `manage_position` and
    /// its actions in order. `unrealized` is the position's P&L marked at this close.
    #[inline(always)]
    fn manage_at_close<S: Strategy>(
        &mut self,
        i: usize,
        px: &Prices,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
        strategy: &mut S,
        unrealized: f64,
    ) -> Result<(), EngineError> {
        if self.book.position.is_none() {
            return Ok(());
        }
        self.apply_configured_rules(i, px, inputs, settings, unrealized);
        let pos = self.book.position.as_ref().expect("open: checked above");
        // A configured limit of 0 means none (as in the Python settings).
        let limit = pos.max_bars.or(settings.max_bars_held.filter(|&m| m > 0));
        if limit.is_some_and(|limit| pos.bars_held >= limit) {
            self.pending_exit = Some(PendingExit::Full(ExitReason::MaxBars));
            self.events.push(EXIT_QUEUED);
            return Ok(());
        }
        let slice = DataSlice::new(SliceParts {
            index: i,
            primary: self.primary_tf,
            frames: inputs.views,
            visible: &self.visible,
            indicators: inputs.indicators,
            position: Some(pos),
            recorder: self.options.trace.then_some(&self.recorder),
            instrument: self.instrument,
            in_session: self.in_session,
        });
        let actions = strategy
            .manage_position(pos, &slice)
            .map_err(|e| EngineError::Strategy(e.0))?;
        for action in actions {
            check_action(&action, i)?;
            self.apply_action(action, i, inputs)?;
        }
        Ok(())
    }

    /// Steps 3.1 to 3.4: bars held, MFE, the configured break-even and trailing.
    #[inline(always)]
    fn apply_configured_rules(
        &mut self,
        i: usize,
        px: &Prices,
        inputs: &StepInputs<'_, '_>,
        settings: &EngineSettings,
        unrealized: f64,
    ) {
        let pip = self.pip;
        let Some(pos) = self.book.position.as_mut() else {
            return;
        };
        pos.bars_held += 1;
        let fav = match pos.side {
            Side::Long => px.bh - pos.entry_price,
            Side::Short => pos.entry_price - px.al,
        };
        if fav > pos.mfe {
            pos.mfe = fav;
        }
        pos.unrealized_pnl = unrealized;
        // The scale of configured distances: a pip, or the stop ATR at this close (NaN
        // during its warm-up: then neither rule acts).
        let scale = |unit: StopUnit| match unit {
            StopUnit::Pips => pip,
            StopUnit::Atr => inputs.stop_atr[i],
        };
        let long = pos.side == Side::Long;
        if let (Some(be), false) = (settings.break_even, self.book.break_even_done) {
            let gain = if long {
                px.bc - pos.entry_price
            } else {
                pos.entry_price - px.ac
            };
            let unit = scale(be.unit);
            if gain >= be.trigger * unit {
                let offset = be.offset * unit;
                let new = if long {
                    pos.entry_price + offset
                } else {
                    pos.entry_price - offset
                };
                if tightens(long, new, pos.stop_loss) {
                    pos.stop_loss = Some(new);
                }
                // Fired once per position, whether or not it moved the stop.
                self.book.break_even_done = true;
                self.events.push(BREAK_EVEN);
            }
        }
        if let Some(trail) = settings.trailing {
            let distance = trail.distance * scale(trail.unit);
            if !distance.is_nan() {
                let cand = if long {
                    px.bc - distance
                } else {
                    px.ac + distance
                };
                if tightens(long, cand, pos.stop_loss) {
                    pos.stop_loss = Some(cand);
                }
            }
        }
    }

    /// Step 4: `evaluate` at every close; its signal becomes the pending entry when the
    /// account is flat or a full exit is pending (a reversal), else it is ignored.
    #[inline(always)]
    pub(crate) fn evaluate_at_close<S: Strategy>(
        &mut self,
        i: usize,
        inputs: &StepInputs<'_, '_>,
        strategy: &mut S,
    ) -> Result<(), EngineError> {
        let flat = self.book.position.is_none();
        let signal = {
            let slice = DataSlice::new(SliceParts {
                index: i,
                primary: self.primary_tf,
                frames: inputs.views,
                visible: &self.visible,
                indicators: inputs.indicators,
                position: self.book.position.as_ref(),
                recorder: self.options.trace.then_some(&self.recorder),
                instrument: self.instrument,
                in_session: self.in_session,
            });
            strategy
                .evaluate(&slice)
                .map_err(|e| EngineError::Strategy(e.0))?
        };
        let Some(signal) = signal else {
            return Ok(());
        };
        check_signal(&signal, i)?;
        if let Some(other) = signal.instrument.filter(|&id| id != self.instrument) {
            return Err(EngineError::Strategy(format!(
                "signal at bar {i} is for instrument {}; this run trades instrument {} (a \
                 strategy trades its slice's instrument: leave the field unset)",
                other.0, self.instrument.0
            )));
        }
        if flat || matches!(self.pending_exit, Some(PendingExit::Full(_))) {
            // A new signal replaces a working order.
            if self.working.take().is_some() {
                self.events.push(ORDER_REPLACED);
            }
            self.events.push(if signal.side == Side::Long {
                SIGNAL_LONG
            } else {
                SIGNAL_SHORT
            });
            if signal.entry == EntryOrder::Market {
                self.pending_entry = Some(signal);
            } else {
                let view = WorkingOrder {
                    side: signal.side,
                    entry: signal.entry,
                    placed_index: i,
                    bars_left: signal.expiry_bars,
                    expires_at: signal.expires_at,
                    tag: signal.tag.clone(),
                    instrument: self.instrument,
                };
                self.working = Some(Working { signal, view });
            }
        } else {
            self.ignored_signals += 1;
            self.events.push(IGNORED_SIGNAL);
        }
        Ok(())
    }

    /// Step 5: the equity point of this close (a basket member records its position's P&L
    /// instead), and the bar's trace row.
    #[inline(always)]
    pub(crate) fn mark_close(&mut self, i: usize, time: i64, equity: f64) {
        match self.stream.as_deref_mut() {
            None => self.equity.push(equity),
            Some(stream) => stream.record(i, self.book.marked()),
        }
        self.stepped += 1;
        if let Some(rows) = self.trace_rows.as_mut() {
            rows.push(TraceRow {
                index: i,
                time,
                event: if self.events.is_empty() {
                    "none".to_string()
                } else {
                    self.events.join("|")
                },
                values: self.recorder.take(),
            });
        }
    }

    /// One action returned by `manage_position` at the close of bar `i` (step 3.6), in the
    /// order returned: stop and take-profit changes at once, exits queued for the next open
    /// (a later exit replaces an earlier partial one; nothing replaces a full exit).
    #[inline(never)] // once per action, off the per-bar path
    fn apply_action(
        &mut self,
        action: PositionAction,
        i: usize,
        inputs: &StepInputs<'_, '_>,
    ) -> Result<(), EngineError> {
        let px = &prices(&inputs.primary, i);
        let unsupported = |what: String| {
            EngineError::Strategy(format!(
                "bar {i}: {what} is not supported by this engine version"
            ))
        };
        let distance = |d: Distance| -> Result<f64, EngineError> {
            Ok(match d {
                Distance::Pips(x) => x * self.pip,
                Distance::Price(x) => x,
                Distance::Atr { handle, multiple } => {
                    let view = inputs.indicators.get(handle.index()).ok_or_else(|| {
                        EngineError::Strategy(format!(
                            "bar {i}: invalid PositionAction: indicator handle {} was not \
                             declared in init",
                            handle.0
                        ))
                    })?;
                    let n = self.visible[view.frame];
                    let value = if n == 0 { f64::NAN } else { view.values[n - 1] };
                    multiple * value
                }
                other => return Err(unsupported(format!("{other:?}"))),
            })
        };
        let pos = self
            .book
            .position
            .as_mut()
            .expect("managed only while open");
        match action {
            PositionAction::Close => {
                self.pending_exit = Some(PendingExit::Full(ExitReason::Strategy));
                self.events.push(EXIT_QUEUED);
            }
            PositionAction::PartialClose(fraction) => {
                if !matches!(self.pending_exit, Some(PendingExit::Full(_))) {
                    self.pending_exit = Some(PendingExit::Partial(fraction));
                    self.events.push(PARTIAL_QUEUED);
                }
            }
            PositionAction::ModifyStopLoss(level) => {
                pos.stop_loss = level;
                self.events.push(MODIFY_SL);
            }
            PositionAction::ModifyTakeProfit(level) => {
                pos.take_profit = level;
                self.events.push(MODIFY_TP);
            }
            PositionAction::MoveToBreakEven(d) => {
                let offset = distance(d)?;
                if !offset.is_nan() {
                    pos.stop_loss = Some(match pos.side {
                        Side::Long => pos.entry_price + offset,
                        Side::Short => pos.entry_price - offset,
                    });
                    self.events.push(BREAK_EVEN);
                }
            }
            PositionAction::TrailStop(d) => {
                let dist = distance(d)?;
                if !dist.is_nan() {
                    let long = pos.side == Side::Long;
                    let cand = if long { px.bc - dist } else { px.ac + dist };
                    if tightens(long, cand, pos.stop_loss) {
                        pos.stop_loss = Some(cand);
                        self.events.push(TRAIL_STOP);
                    }
                }
            }
            other => return Err(unsupported(format!("{other:?}"))),
        }
        Ok(())
    }

    /// Orders still queued or working (dropped when the run ends).
    fn queued_orders(&self) -> usize {
        usize::from(self.pending_entry.is_some())
            + usize::from(self.pending_exit.is_some())
            + usize::from(self.working.is_some())
    }

    /// Step 6, after the last bar: an open position closes at the last close (or the last
    /// open, or stays open marked at the last close: `end_of_data`). Returns the final
    /// equity: the balance, or with a position left open, the balance plus its P&L.
    pub(crate) fn close_at_end(&mut self, primary: BarColumns<'_>) -> f64 {
        let n = self.stepped;
        if n == 0 {
            return self.book.balance;
        }
        let last = prices(&primary, n - 1);
        let Some(pos) = self.book.position.as_ref() else {
            return self.book.balance;
        };
        let (side, size) = (pos.side, pos.size);
        let (price, time) = match (self.end_of_data, side) {
            (EndOfData::Mark, _) => {
                return self.book.balance + self.book.unrealized(last.bc, last.ac)
            }
            (EndOfData::LastClose, Side::Long) => (last.bc, last.time + self.primary_nanos),
            (EndOfData::LastClose, Side::Short) => (last.ac, last.time + self.primary_nanos),
            (EndOfData::LastOpen, Side::Long) => (last.bo, last.time),
            (EndOfData::LastOpen, Side::Short) => (last.ao, last.time),
        };
        self.book
            .close(size, price, ExitReason::EndOfData, time, n - 1);
        self.book.balance
    }

    /// [`Stepper::finish`] of a [`Stepper::streamed`] run: the metrics' inputs.
    pub(crate) fn finish_streamed(
        mut self,
        primary: BarColumns<'_>,
        base_bars: usize,
    ) -> StreamedRun {
        let final_equity = self.close_at_end(primary);
        let stream = self.stream.take().expect("a streamed run");
        let first = stream.finish(self.stepped, final_equity, &primary);
        StreamedRun {
            first,
            tally: *self.book.tally.take().expect("a streamed run"),
            final_balance: final_equity,
            bars_processed: self.stepped,
            base_bars,
            ignored_signals: self.ignored_signals,
            dropped_orders: self.queued_orders(),
            skipped_orders: self.skipped_orders.len(),
        }
    }

    /// The result after the last bar (`primary`, `n` of whose bars were stepped): an open
    /// position closes at the last close, orders still queued are dropped.
    pub(crate) fn finish<S: Strategy>(
        mut self,
        primary: BarColumns<'_>,
        base_bars: usize,
        strategy: &S,
    ) -> RunOutput {
        let n = self.stepped;
        let final_equity = self.close_at_end(primary);
        if n > 0 && self.stream.is_none() {
            self.equity[n - 1] = final_equity;
        }
        self.into_output(base_bars, final_equity, strategy)
    }

    /// The result as it stands (after [`Stepper::close_at_end`]): trades, the recorded
    /// curve, counts; orders still queued are dropped.
    pub(crate) fn into_output<S: Strategy>(
        self,
        base_bars: usize,
        final_equity: f64,
        strategy: &S,
    ) -> RunOutput {
        let n = self.stepped;
        let dropped_orders = self.queued_orders();
        log::debug!(
            "{}: {} primary bars ({} base), {} trade rows, final balance {}",
            strategy.name(),
            n,
            base_bars,
            self.book.trades.len(),
            self.book.balance
        );
        RunOutput {
            trades: self.book.trades,
            equity_time: Vec::new(),
            equity: self.equity,
            final_balance: final_equity,
            bars_processed: n,
            base_bars,
            ignored_signals: self.ignored_signals,
            dropped_orders,
            skipped_orders: self.skipped_orders,
            trace: self.trace_rows,
        }
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;

//! What a strategy returns: entry signals, position actions, and the position it is shown.

use crate::context::{IndicatorHandle, InstrumentId};

/// Direction of a position or signal. The discriminant is the sign used in outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i8)]
pub enum Side {
    Long = 1,
    Short = -1,
}

impl Side {
    /// `+1.0` for long, `-1.0` for short.
    pub const fn sign(self) -> i8 {
        self as i8
    }
}

/// An entry request decided at a bar's close. A market entry fills at the next open; a
/// limit or stop entry ([`EntryOrder`]) works from the next bar until it fills, expires
/// (`expiry_bars`, `expires_at`) or is cancelled (docs/engine/execution.md, step 2).
///
/// Levels: an absolute `stop_loss` / `take_profit` wins over a distance; a distance (price
/// units) is applied to the fill price. Sizing: `size` (lots) overrides the configured fixed
/// size, `risk_percent` the configured risk. `max_bars` overrides the configured maximum
/// holding time. Build one with [`TradeSignal::long`] / [`TradeSignal::short`] and the
/// `with_*` methods so new optional fields stay non-breaking.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TradeSignal {
    pub side: Side,
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    pub stop_loss_distance: Option<f64>,
    pub take_profit_distance: Option<f64>,
    pub size: Option<f64>,
    pub risk_percent: Option<f64>,
    pub max_bars: Option<u32>,
    pub tag: String,
    /// The instrument to trade; `None` is the slice's own (the only one in a
    /// single-instrument run). A strategy trades its own slice's instrument: the engine
    /// refuses a signal naming another (in a basket, each instrument runs its own strategy
    /// instance; docs/engine/portfolio.md).
    pub instrument: Option<InstrumentId>,
    /// Market (the default), or a limit or stop entry at a price.
    pub entry: EntryOrder,
    /// A pending entry works for at most this many bars after the close that placed it.
    pub expiry_bars: Option<u32>,
    /// A pending entry is dropped at the first bar opening at or after this time (UTC ns).
    pub expires_at: Option<i64>,
}

/// How an entry fills: at the next open, or as a pending order triggered by a later bar's
/// range (longs on the ask side, shorts on the bid side).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum EntryOrder {
    /// At the next open.
    Market,
    /// At the price or better: a long when the ask falls to it, a short when the bid rises
    /// to it; a bar opening beyond the price fills at that open.
    Limit(f64),
    /// At the price or worse, with slippage: a long when the ask rises to it, a short when
    /// the bid falls to it; a bar opening beyond the price fills at that open.
    Stop(f64),
}

impl EntryOrder {
    /// The order's price (`None` for a market order).
    pub fn price(self) -> Option<f64> {
        match self {
            EntryOrder::Market => None,
            EntryOrder::Limit(p) | EntryOrder::Stop(p) => Some(p),
        }
    }
}

/// A pending entry order while it works, as `manage_order` sees it (read only).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingOrder {
    pub side: Side,
    pub entry: EntryOrder,
    /// Primary bar index of the close that placed (or last replaced) the order.
    pub placed_index: usize,
    /// Bars it may still work (`None`: no bar limit).
    pub bars_left: Option<u32>,
    pub expires_at: Option<i64>,
    pub tag: String,
    pub instrument: InstrumentId,
}

/// What `manage_order` may ask for at a close; several apply in order.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum OrderAction {
    /// Cancel the working order now.
    Cancel,
    /// Move the working order to a new price (its kind stays).
    ModifyPrice(f64),
}

impl TradeSignal {
    /// A signal with no levels, default sizing and an empty tag.
    pub fn new(side: Side) -> Self {
        TradeSignal {
            side,
            stop_loss: None,
            take_profit: None,
            stop_loss_distance: None,
            take_profit_distance: None,
            size: None,
            risk_percent: None,
            max_bars: None,
            tag: String::new(),
            instrument: None,
            entry: EntryOrder::Market,
            expiry_bars: None,
            expires_at: None,
        }
    }
    pub fn long() -> Self {
        Self::new(Side::Long)
    }
    pub fn short() -> Self {
        Self::new(Side::Short)
    }
    pub fn with_stop_loss(mut self, price: f64) -> Self {
        self.stop_loss = Some(price);
        self
    }
    pub fn with_take_profit(mut self, price: f64) -> Self {
        self.take_profit = Some(price);
        self
    }
    pub fn with_stop_loss_distance(mut self, distance: f64) -> Self {
        self.stop_loss_distance = Some(distance);
        self
    }
    pub fn with_take_profit_distance(mut self, distance: f64) -> Self {
        self.take_profit_distance = Some(distance);
        self
    }
    pub fn with_size(mut self, lots: f64) -> Self {
        self.size = Some(lots);
        self
    }
    pub fn with_risk_percent(mut self, percent: f64) -> Self {
        self.risk_percent = Some(percent);
        self
    }
    pub fn with_max_bars(mut self, bars: u32) -> Self {
        self.max_bars = Some(bars);
        self
    }
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = tag.into();
        self
    }
    pub fn on_instrument(mut self, instrument: InstrumentId) -> Self {
        self.instrument = Some(instrument);
        self
    }
    /// A limit entry at `price` instead of a market entry.
    pub fn with_limit(mut self, price: f64) -> Self {
        self.entry = EntryOrder::Limit(price);
        self
    }
    /// A stop entry at `price` instead of a market entry.
    pub fn with_stop_entry(mut self, price: f64) -> Self {
        self.entry = EntryOrder::Stop(price);
        self
    }
    /// A pending entry works for at most `bars` bars (>= 1) after the placing close.
    pub fn expiring_after(mut self, bars: u32) -> Self {
        self.expiry_bars = Some(bars);
        self
    }
    /// A pending entry is dropped at the first bar opening at or after `time` (UTC ns).
    pub fn expiring_at(mut self, time: i64) -> Self {
        self.expires_at = Some(time);
        self
    }
}

/// A stop distance from a price: in pips of the instrument, in price units, or a multiple of
/// a declared indicator's value at the current close (normally an ATR).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Distance {
    Pips(f64),
    Price(f64),
    Atr {
        handle: IndicatorHandle,
        multiple: f64,
    },
}

/// What `manage_position` may ask for at a close (docs/engine/execution.md, step 3.6).
/// Several may be returned; they apply in order.
/// Non-exhaustive: order actions (pending orders) are planned as new variants, so a `match`
/// outside this crate keeps a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum PositionAction {
    /// Full exit at the next open (reason `strategy`).
    Close,
    /// Close `fraction` of the size at the next open, rounded down to the lot step (ignored
    /// when a full exit is already queued).
    PartialClose(f64),
    /// Replace the stop-loss now (`None` removes it).
    ModifyStopLoss(Option<f64>),
    /// Replace the take-profit now (`None` removes it).
    ModifyTakeProfit(Option<f64>),
    /// Stop-loss to entry +/- the distance now (skipped while the distance is NaN).
    MoveToBreakEven(Distance),
    /// Stop-loss to the close -/+ the distance now, only if that tightens it (skipped while
    /// the distance is NaN).
    TrailStop(Distance),
}

/// The open position as the strategy sees it (read only).
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub side: Side,
    /// Lots still open.
    pub size: f64,
    pub entry_price: f64,
    /// Open time (UTC ns) of the bar whose open filled the entry.
    pub entry_time: i64,
    /// Primary bar index of the entry fill.
    pub entry_index: usize,
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    /// Primary closes seen since the entry (1 at the close of the entry bar).
    pub bars_held: u32,
    /// Maximum favourable excursion in price units.
    pub mfe: f64,
    /// The whole entry fee, account currency.
    pub entry_fee: f64,
    /// Maximum holding time from the signal, if it set one.
    pub max_bars: Option<u32>,
    /// Open PnL in account currency, marked at the latest close the engine processed.
    pub unrealized_pnl: f64,
    pub tag: String,
    pub instrument: InstrumentId,
}

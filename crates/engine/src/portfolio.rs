//! Balance, the open position and the trade rows (docs/engine/execution.md, "Money").

use crate::metrics::TradeTally;
use crate::money::{fee, gross_pnl};
use crate::output::{ExitReason, TradeLog, TradeRow};
use crate::settings::{Conversion, FeeSettings};
use omega_strategy_api::{InstrumentId, Position, Side};

/// The account: balance, at most one position, the closed trade rows.
#[derive(Debug)]
pub struct Portfolio {
    pub balance: f64,
    pub position: Option<Position>,
    /// Whether the declarative break-even has fired for the open position.
    pub break_even_done: bool,
    /// Swap charged to the open position so far (account currency).
    pub swap: f64,
    /// Margin the open position holds (account currency; 0.0 without a margin model).
    pub margin: f64,
    pub trades: TradeLog,
    /// When set (a sweep), closed trades are counted here instead of logged in `trades`.
    pub tally: Option<Box<TradeTally>>,
    conversion: Conversion,
    fees: FeeSettings,
    contract_size: f64,
    /// The conversion rate of the current bar (a cross; 1.0 otherwise).
    pub cross_rate: f64,
    /// The id the open position carries.
    instrument: InstrumentId,
}

impl Portfolio {
    pub fn new(
        balance: f64,
        conversion: Conversion,
        fees: FeeSettings,
        contract_size: f64,
    ) -> Self {
        Portfolio {
            balance,
            position: None,
            break_even_done: false,
            swap: 0.0,
            margin: 0.0,
            trades: TradeLog::default(),
            tally: None,
            conversion,
            fees,
            contract_size,
            cross_rate: 1.0,
            instrument: InstrumentId(0),
        }
    }

    /// The same account, its positions carrying `instrument`.
    pub fn for_instrument(mut self, instrument: InstrumentId) -> Self {
        self.instrument = instrument;
        self
    }

    pub fn to_account(&self, amount_quote: f64, rate: f64) -> f64 {
        crate::money::to_account(self.conversion, amount_quote, rate, self.cross_rate)
    }

    pub fn fee(&self, lots: f64, price: f64) -> f64 {
        fee(
            self.conversion,
            &self.fees,
            self.contract_size,
            lots,
            price,
            self.cross_rate,
        )
    }

    pub fn gross(&self, side: Side, entry: f64, price: f64, lots: f64) -> f64 {
        gross_pnl(
            self.conversion,
            side == Side::Long,
            entry,
            price,
            lots,
            self.contract_size,
            self.cross_rate,
        )
    }

    /// Opens a position at `price`; the entry fee is charged at once.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)] // once per trade: kept out of the per-bar loop body
    pub fn open(
        &mut self,
        side: Side,
        time: i64,
        index: usize,
        price: f64,
        lots: f64,
        stop_loss: Option<f64>,
        take_profit: Option<f64>,
        max_bars: Option<u32>,
        tag: String,
    ) {
        let entry_fee = self.fee(lots, price);
        self.balance -= entry_fee;
        self.break_even_done = false;
        self.swap = 0.0;
        self.margin = 0.0;
        self.position = Some(Position {
            side,
            size: lots,
            entry_price: price,
            entry_time: time,
            entry_index: index,
            stop_loss,
            take_profit,
            bars_held: 0,
            mfe: 0.0,
            entry_fee,
            max_bars,
            unrealized_pnl: 0.0,
            tag,
            instrument: self.instrument,
        });
    }

    /// Closes `lots` at `price` (a full close unless `reason` is `Partial`) and appends the row.
    #[inline(never)] // once per trade: kept out of the per-bar loop body
    pub fn close(&mut self, lots: f64, price: f64, reason: ExitReason, time: i64, index: usize) {
        let Some(pos) = self.position.as_ref() else {
            debug_assert!(false, "close without a position");
            return;
        };
        let gross = self.gross(pos.side, pos.entry_price, price, lots);
        let exit_fee = self.fee(lots, price);
        self.balance += gross;
        self.balance -= exit_fee;
        let full = reason != ExitReason::Partial;
        let entry_fee_part = if full { pos.entry_fee } else { 0.0 };
        let fees = entry_fee_part + exit_fee;
        let swap = if full { self.swap } else { 0.0 };
        let pnl = gross - fees + swap;
        if !full {
            // The margin of the lots still open.
            let remaining = pos.size - lots;
            self.margin *= remaining / pos.size;
        }
        if let Some(tally) = self.tally.as_mut() {
            let bars_held = i64::from(pos.bars_held);
            tally.add(pnl, pos.side.sign(), fees, swap, bars_held, reason);
            if full {
                self.position = None;
            } else if let Some(pos) = self.position.as_mut() {
                pos.size -= lots;
            }
            return;
        }
        let row = TradeRow {
            entry_time: pos.entry_time,
            exit_time: time,
            entry_index: pos.entry_index as i64,
            exit_index: index as i64,
            side: pos.side.sign(),
            size: lots,
            entry_price: pos.entry_price,
            exit_price: price,
            sl: pos.stop_loss.unwrap_or(f64::NAN),
            tp: pos.take_profit.unwrap_or(f64::NAN),
            exit_reason: reason,
            gross_pnl: gross,
            fees,
            swap,
            pnl,
            bars_held: i64::from(pos.bars_held),
            mfe: pos.mfe,
            tag: if full { String::new() } else { pos.tag.clone() },
        };
        let mut row = row;
        if full {
            let pos = self.position.take().expect("checked above");
            row.tag = pos.tag;
        } else if let Some(pos) = self.position.as_mut() {
            pos.size -= lots;
        }
        self.trades.push(row);
    }

    /// A swap charge (positive: a credit) to the balance and the open position's swap.
    pub fn charge_swap(&mut self, amount: f64) {
        self.balance += amount;
        self.swap += amount;
    }

    /// Open PnL in account currency: longs at the bid close, shorts at the ask close.
    pub fn unrealized(&self, bid_close: f64, ask_close: f64) -> f64 {
        self.marked().unrealized(bid_close, ask_close)
    }

    /// What the equity at a close depends on: the balance and the open position.
    #[inline]
    pub fn marked(&self) -> Marked {
        let (long, entry, size) = match &self.position {
            None => (None, 0.0, 0.0),
            Some(p) => (Some(p.side == Side::Long), p.entry_price, p.size),
        };
        Marked {
            balance: self.balance,
            long,
            entry,
            size,
            conversion: self.conversion,
            contract_size: self.contract_size,
            cross_rate: self.cross_rate,
        }
    }
}

/// The account as far as its equity at a close goes (balance, side, entry, size), so the
/// equity of any bar it held over can be computed again from the bar's closes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marked {
    pub balance: f64,
    /// The open position's side (`Some(true)` long), `None` when flat.
    pub long: Option<bool>,
    pub entry: f64,
    pub size: f64,
    conversion: Conversion,
    contract_size: f64,
    /// The bar's conversion rate (a cross; a new segment whenever it changes).
    cross_rate: f64,
}

impl Marked {
    /// The same account with its P&L converted at `cross_rate` (a basket member ahead of
    /// the basket: the rate of an earlier bar).
    #[inline]
    pub fn at_rate(self, cross_rate: f64) -> Self {
        Marked { cross_rate, ..self }
    }

    /// [`Portfolio::unrealized`] of this account.
    #[inline(always)]
    pub fn unrealized(&self, bid_close: f64, ask_close: f64) -> f64 {
        match self.long {
            None => 0.0,
            Some(true) => gross_pnl(
                self.conversion,
                true,
                self.entry,
                bid_close,
                self.size,
                self.contract_size,
                self.cross_rate,
            ),
            Some(false) => gross_pnl(
                self.conversion,
                false,
                self.entry,
                ask_close,
                self.size,
                self.contract_size,
                self.cross_rate,
            ),
        }
    }

    /// The equity at a close: balance + unrealized, as the loop marks it.
    #[inline(always)]
    pub fn equity(&self, bid_close: f64, ask_close: f64) -> f64 {
        self.balance + self.unrealized(bid_close, ask_close)
    }

    /// Whether the equity of `self` and `other` is the same function of the closes.
    #[inline(always)]
    pub fn same_as(&self, other: &Marked) -> bool {
        self.balance.to_bits() == other.balance.to_bits()
            && self.long == other.long
            && self.entry.to_bits() == other.entry.to_bits()
            && self.size.to_bits() == other.size.to_bits()
            && self.cross_rate.to_bits() == other.cross_rate.to_bits()
    }
}

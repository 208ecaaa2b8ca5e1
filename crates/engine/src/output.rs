//! What a run produces, column for column `omega.engine.raw.RawRun`.

/// Why a trade row closed (the strings of `omega.engine.raw.EXIT_REASONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    StopLoss,
    TakeProfit,
    Strategy,
    Partial,
    MaxBars,
    EndOfData,
}

impl ExitReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::Strategy => "strategy",
            ExitReason::Partial => "partial",
            ExitReason::MaxBars => "max_bars",
            ExitReason::EndOfData => "end_of_data",
        }
    }
}

/// One closed trade row (a full close or a partial).
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    pub entry_time: i64,
    pub exit_time: i64,
    pub entry_index: i64,
    pub exit_index: i64,
    pub side: i8,
    pub size: f64,
    pub entry_price: f64,
    pub exit_price: f64,
    pub sl: f64,
    pub tp: f64,
    pub exit_reason: ExitReason,
    pub gross_pnl: f64,
    pub fees: f64,
    pub pnl: f64,
    pub bars_held: i64,
    pub mfe: f64,
    pub tag: String,
}

/// Trades in columns, in the order they closed (`TRADE_COLUMNS`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeLog {
    pub entry_time: Vec<i64>,
    pub exit_time: Vec<i64>,
    pub entry_index: Vec<i64>,
    pub exit_index: Vec<i64>,
    pub side: Vec<i8>,
    pub size: Vec<f64>,
    pub entry_price: Vec<f64>,
    pub exit_price: Vec<f64>,
    pub sl: Vec<f64>,
    pub tp: Vec<f64>,
    pub exit_reason: Vec<ExitReason>,
    pub gross_pnl: Vec<f64>,
    pub fees: Vec<f64>,
    pub pnl: Vec<f64>,
    pub bars_held: Vec<i64>,
    pub mfe: Vec<f64>,
    pub tag: Vec<String>,
}

impl TradeLog {
    pub fn len(&self) -> usize {
        self.entry_time.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entry_time.is_empty()
    }
    pub fn push(&mut self, row: TradeRow) {
        self.entry_time.push(row.entry_time);
        self.exit_time.push(row.exit_time);
        self.entry_index.push(row.entry_index);
        self.exit_index.push(row.exit_index);
        self.side.push(row.side);
        self.size.push(row.size);
        self.entry_price.push(row.entry_price);
        self.exit_price.push(row.exit_price);
        self.sl.push(row.sl);
        self.tp.push(row.tp);
        self.exit_reason.push(row.exit_reason);
        self.gross_pnl.push(row.gross_pnl);
        self.fees.push(row.fees);
        self.pnl.push(row.pnl);
        self.bars_held.push(row.bars_held);
        self.mfe.push(row.mfe);
        self.tag.push(row.tag);
    }
}

/// An order the engine did not fill (`omega.engine.raw.SkippedOrder`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedOrder {
    /// Open time of the bar where the order would have filled.
    pub time: i64,
    /// `below_min_lot`, `no_stop_loss` or `partial_below_lot_step`.
    pub reason: &'static str,
    pub detail: String,
}

/// One row of the decision trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    pub index: usize,
    pub time: i64,
    /// Events joined by `|` in the order they happened, `none` if there were none.
    pub event: String,
    pub values: Vec<(String, f64)>,
}

/// The result of one backtest run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    pub trades: TradeLog,
    pub equity_time: Vec<i64>,
    pub equity: Vec<f64>,
    pub final_balance: f64,
    pub bars_processed: usize,
    pub base_bars: usize,
    pub ignored_signals: usize,
    pub dropped_orders: usize,
    pub skipped_orders: Vec<SkippedOrder>,
    pub trace: Option<Vec<TraceRow>>,
}

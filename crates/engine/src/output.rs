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
    StopOut,
}

impl ExitReason {
    /// Every reason, in declaration order (`reason as usize` indexes it).
    pub const ALL: [ExitReason; 7] = [
        ExitReason::StopLoss,
        ExitReason::TakeProfit,
        ExitReason::Strategy,
        ExitReason::Partial,
        ExitReason::MaxBars,
        ExitReason::EndOfData,
        ExitReason::StopOut,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::Strategy => "strategy",
            ExitReason::Partial => "partial",
            ExitReason::MaxBars => "max_bars",
            ExitReason::EndOfData => "end_of_data",
            ExitReason::StopOut => "stop_out",
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
    /// Swap of the position (on its closing row; 0.0 on partial rows), account currency.
    pub swap: f64,
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
    pub swap: Vec<f64>,
    pub pnl: Vec<f64>,
    pub bars_held: Vec<i64>,
    pub mfe: Vec<f64>,
    pub tag: Tags,
}

/// The tag column: each of a strategy's few tags stored once, a 4-byte id per trade (a
/// string per trade would be most of a trade's memory).
#[derive(Clone, Default, PartialEq)]
pub struct Tags {
    /// Index into `names`, one per trade.
    pub ids: Vec<u32>,
    /// Tags in order of first use (distinct among the first few).
    pub names: Vec<String>,
}

/// The tags in trade order.
impl std::fmt::Debug for Tags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Tags {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    /// The tag of trade `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let id = *self.ids.get(i)?;
        Some(&self.names[id as usize])
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.ids.iter().map(|&id| self.names[id as usize].as_str())
    }
    pub fn push(&mut self, tag: String) {
        // A strategy uses a few tags: they are found by comparison among the first names.
        // Past those, a tag is stored again (its trades still read it right, only memory
        // is not saved), which keeps a log tagging every trade differently linear.
        const SCANNED: usize = 16;
        let limit = self.names.len().min(SCANNED);
        let found = self.names[..limit].iter().position(|name| *name == tag);
        let id = found.unwrap_or_else(|| {
            self.names.push(tag);
            self.names.len() - 1
        });
        self.ids
            .push(u32::try_from(id).expect("fewer than 2^32 trades"));
    }
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
        self.swap.push(row.swap);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_reasons_are_indexed_by_discriminant() {
        for reason in ExitReason::ALL {
            assert_eq!(ExitReason::ALL[reason as usize], reason);
        }
    }

    #[test]
    fn tags_store_each_distinct_tag_once() {
        let mut tags = Tags::default();
        for tag in ["long", "short", "long", "", "long"] {
            tags.push(tag.to_string());
        }
        assert_eq!(tags.names, ["long", "short", ""]);
        assert_eq!(tags.ids, [0, 1, 0, 2, 0]);
        assert_eq!(tags.get(3), Some(""));
        assert_eq!(tags.get(5), None);
        let all: Vec<&str> = tags.iter().collect();
        assert_eq!(all, ["long", "short", "long", "", "long"]);
        assert_eq!(
            format!("{tags:?}"),
            r#"["long", "short", "long", "", "long"]"#
        );
        assert_eq!(tags, tags.clone());
        // Past the scanned few, tags are stored again but still read right.
        let many: Vec<String> = (0..20).map(|k| format!("t{k}")).collect();
        for tag in many.iter().chain(many.iter().rev()) {
            tags.push(tag.clone());
        }
        assert_eq!(tags.names.len(), 16 + 2 * 7);
        let last: Vec<&str> = tags.iter().skip(25).collect();
        let expected: Vec<&str> = many.iter().rev().map(String::as_str).collect();
        assert_eq!(last, expected);
    }
}

//! Conversions between the API types and the boundary structs of `types`: indicator keys and
//! specs, positions, signals, actions, parameters and bar columns.
//!
//! Decoding never trusts the other side: an unknown tag, discriminant or flag, or a string
//! that is not UTF-8, is an `Err` message (never a panic). Floats are copied, so every value
//! survives the round trip bit for bit.
#![allow(unsafe_code)] // reading the borrowed strings and columns a pointer describes

use super::types::*;
use crate::context::InstrumentId;
use crate::indicator_spec::{IndicatorKey, IndicatorSpec};
use crate::params::ParamValue;
use crate::signal::{
    Distance, EntryOrder, OrderAction, Position, PositionAction, Side, TradeSignal, WorkingOrder,
};
use crate::slice::BarColumns;
use crate::types::{PriceSide, Timeframe};

impl ColumnsAbi {
    /// Pointers into `c` (borrowed: `c`'s storage must outlive every read).
    pub fn from_columns(c: &BarColumns<'_>) -> Self {
        ColumnsAbi {
            len: c.len(),
            time: c.time.as_ptr(),
            bid_open: c.bid_open.as_ptr(),
            bid_high: c.bid_high.as_ptr(),
            bid_low: c.bid_low.as_ptr(),
            bid_close: c.bid_close.as_ptr(),
            ask_open: c.ask_open.as_ptr(),
            ask_high: c.ask_high.as_ptr(),
            ask_low: c.ask_low.as_ptr(),
            ask_close: c.ask_close.as_ptr(),
            volume: c.volume.as_ptr(),
        }
    }

    /// # Safety
    /// Every pointer must address `len` initialised values that stay unchanged for `'a`.
    pub(super) unsafe fn to_columns<'a>(self) -> BarColumns<'a> {
        let n = self.len;
        // SAFETY: forwarded from the caller (`column` checks null for `n == 0`).
        unsafe {
            BarColumns {
                time: column(self.time, n),
                bid_open: column(self.bid_open, n),
                bid_high: column(self.bid_high, n),
                bid_low: column(self.bid_low, n),
                bid_close: column(self.bid_close, n),
                ask_open: column(self.ask_open, n),
                ask_high: column(self.ask_high, n),
                ask_low: column(self.ask_low, n),
                ask_close: column(self.ask_close, n),
                volume: column(self.volume, n),
            }
        }
    }
}

/// # Safety
/// `ptr` must address `n` initialised values unchanged for `'a` (any pointer when `n == 0`).
pub(super) unsafe fn column<'a, T>(ptr: *const T, n: usize) -> &'a [T] {
    if n == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `n` readable values at `ptr` for 'a.
    unsafe { std::slice::from_raw_parts(ptr, n) }
}

impl IndicatorKeyAbi {
    /// The spec as its registry code and words, so a key survives the round trip bit for bit.
    pub fn from_key(key: &IndicatorKey) -> Self {
        let (kind, words) = key.spec.encode();
        IndicatorKeyAbi {
            timeframe: key.timeframe as u32,
            side: key.side as u32,
            spec: IndicatorSpecAbi {
                kind,
                reserved: 0,
                words,
            },
        }
    }

    /// The key, or why these fields name none.
    pub fn to_key(&self) -> Result<IndicatorKey, String> {
        let spec = IndicatorSpec::decode(self.spec.kind, &self.spec.words).map_err(|e| e.0)?;
        Ok(IndicatorKey {
            timeframe: timeframe(self.timeframe)?,
            side: price_side(self.side)?,
            spec,
        })
    }
}

/// A `Timeframe` from its discriminant.
pub fn timeframe(value: u32) -> Result<Timeframe, String> {
    usize::try_from(value)
        .ok()
        .and_then(|k| Timeframe::ALL.get(k).copied())
        .ok_or_else(|| format!("unknown timeframe {value}"))
}

fn price_side(value: u32) -> Result<PriceSide, String> {
    match value {
        0 => Ok(PriceSide::Bid),
        1 => Ok(PriceSide::Ask),
        2 => Ok(PriceSide::Mid),
        _ => Err(format!("unknown price side {value}")),
    }
}

impl PositionAbi {
    /// Borrows `p.tag`: `p` must outlive every read of the result.
    pub fn from_position(p: &Position) -> Self {
        let mut flags = 0;
        if p.stop_loss.is_some() {
            flags |= HAS_STOP_LOSS;
        }
        if p.take_profit.is_some() {
            flags |= HAS_TAKE_PROFIT;
        }
        if p.max_bars.is_some() {
            flags |= HAS_MAX_BARS;
        }
        PositionAbi {
            side: i32::from(p.side.sign()),
            flags,
            size: p.size,
            entry_price: p.entry_price,
            entry_time: p.entry_time,
            entry_index: p.entry_index as u64,
            stop_loss: p.stop_loss.unwrap_or(0.0),
            take_profit: p.take_profit.unwrap_or(0.0),
            bars_held: p.bars_held,
            max_bars: p.max_bars.unwrap_or(0),
            mfe: p.mfe,
            entry_fee: p.entry_fee,
            unrealized_pnl: p.unrealized_pnl,
            tag: AbiStr::new(&p.tag),
            instrument: p.instrument.0,
        }
    }

    /// Overwrites `out` (reusing its tag's allocation: no allocation per bar).
    ///
    /// # Safety
    /// `self.tag` must be readable (see [`AbiStr::to_str`]).
    pub(super) unsafe fn write_to(&self, out: &mut Position) -> Result<(), String> {
        let flag = |bit: u32| self.flags & bit != 0;
        out.side = side(self.side)?;
        out.size = self.size;
        out.entry_price = self.entry_price;
        out.entry_time = self.entry_time;
        out.entry_index = usize::try_from(self.entry_index).map_err(|e| e.to_string())?;
        out.stop_loss = flag(HAS_STOP_LOSS).then_some(self.stop_loss);
        out.take_profit = flag(HAS_TAKE_PROFIT).then_some(self.take_profit);
        out.bars_held = self.bars_held;
        out.max_bars = flag(HAS_MAX_BARS).then_some(self.max_bars);
        out.mfe = self.mfe;
        out.entry_fee = self.entry_fee;
        out.unrealized_pnl = self.unrealized_pnl;
        out.instrument = InstrumentId(self.instrument);
        // SAFETY: forwarded from the caller.
        let tag = unsafe { text(self.tag, "position tag") }?;
        if out.tag != tag {
            out.tag.clear();
            out.tag.push_str(tag);
        }
        Ok(())
    }
}

fn side(value: i32) -> Result<Side, String> {
    match value {
        1 => Ok(Side::Long),
        -1 => Ok(Side::Short),
        _ => Err(format!("side must be 1 or -1, got {value}")),
    }
}

impl SignalAbi {
    /// Borrows `s.tag`: `s` must outlive every read of the result.
    pub fn from_signal(s: &TradeSignal) -> Self {
        let mut out = SignalAbi {
            side: i32::from(s.side.sign()),
            tag: AbiStr::new(&s.tag),
            ..SignalAbi::EMPTY
        };
        let mut set = |bit: u32, value: Option<f64>, field: &mut f64| {
            if let Some(v) = value {
                out.flags |= bit;
                *field = v;
            }
        };
        set(HAS_STOP_LOSS, s.stop_loss, &mut out.stop_loss);
        set(HAS_TAKE_PROFIT, s.take_profit, &mut out.take_profit);
        set(
            HAS_STOP_LOSS_DISTANCE,
            s.stop_loss_distance,
            &mut out.stop_loss_distance,
        );
        set(
            HAS_TAKE_PROFIT_DISTANCE,
            s.take_profit_distance,
            &mut out.take_profit_distance,
        );
        set(HAS_SIZE, s.size, &mut out.size);
        set(HAS_RISK_PERCENT, s.risk_percent, &mut out.risk_percent);
        if let Some(m) = s.max_bars {
            out.flags |= HAS_MAX_BARS;
            out.max_bars = m;
        }
        if let Some(id) = s.instrument {
            out.flags |= HAS_INSTRUMENT;
            out.instrument = id.0;
        }
        (out.entry_kind, out.entry_price) = entry_abi(s.entry);
        if let Some(bars) = s.expiry_bars {
            out.flags |= HAS_EXPIRY_BARS;
            out.expiry_bars = bars;
        }
        if let Some(at) = s.expires_at {
            out.flags |= HAS_EXPIRES_AT;
            out.expires_at = at;
        }
        out
    }

    /// The signal (the tag copied), or why the fields are invalid.
    ///
    /// # Safety
    /// `self.tag` must be readable (see [`AbiStr::to_str`]).
    pub unsafe fn to_signal(&self) -> Result<TradeSignal, String> {
        let flag = |bit: u32| self.flags & bit != 0;
        let opt = |bit: u32, v: f64| flag(bit).then_some(v);
        // SAFETY: forwarded from the caller.
        let tag = unsafe { text(self.tag, "signal tag") }?;
        let mut s = TradeSignal::new(side(self.side)?).with_tag(tag);
        s.stop_loss = opt(HAS_STOP_LOSS, self.stop_loss);
        s.take_profit = opt(HAS_TAKE_PROFIT, self.take_profit);
        s.stop_loss_distance = opt(HAS_STOP_LOSS_DISTANCE, self.stop_loss_distance);
        s.take_profit_distance = opt(HAS_TAKE_PROFIT_DISTANCE, self.take_profit_distance);
        s.size = opt(HAS_SIZE, self.size);
        s.risk_percent = opt(HAS_RISK_PERCENT, self.risk_percent);
        s.max_bars = flag(HAS_MAX_BARS).then_some(self.max_bars);
        s.instrument = flag(HAS_INSTRUMENT).then_some(InstrumentId(self.instrument));
        s.entry = entry_order(self.entry_kind, self.entry_price)?;
        s.expiry_bars = flag(HAS_EXPIRY_BARS).then_some(self.expiry_bars);
        s.expires_at = flag(HAS_EXPIRES_AT).then_some(self.expires_at);
        Ok(s)
    }
}

/// An [`EntryOrder`] as `(entry_kind, price)`.
fn entry_abi(entry: EntryOrder) -> (u32, f64) {
    match entry {
        EntryOrder::Limit(p) => (ENTRY_LIMIT, p),
        EntryOrder::Stop(p) => (ENTRY_STOP, p),
        _ => (ENTRY_MARKET, 0.0),
    }
}

fn entry_order(kind: u32, price: f64) -> Result<EntryOrder, String> {
    match kind {
        ENTRY_MARKET => Ok(EntryOrder::Market),
        ENTRY_LIMIT => Ok(EntryOrder::Limit(price)),
        ENTRY_STOP => Ok(EntryOrder::Stop(price)),
        other => Err(format!("unknown entry kind {other}")),
    }
}

impl OrderAbi {
    /// Borrows `o.tag`: `o` must outlive every read of the result.
    pub fn from_order(o: &WorkingOrder) -> Self {
        let (entry_kind, price) = entry_abi(o.entry);
        let mut flags = 0;
        if o.bars_left.is_some() {
            flags |= HAS_EXPIRY_BARS;
        }
        if o.expires_at.is_some() {
            flags |= HAS_EXPIRES_AT;
        }
        OrderAbi {
            side: i32::from(o.side.sign()),
            flags,
            entry_kind,
            bars_left: o.bars_left.unwrap_or(0),
            price,
            placed_index: o.placed_index as u64,
            expires_at: o.expires_at.unwrap_or(0),
            tag: AbiStr::new(&o.tag),
            instrument: o.instrument.0,
        }
    }

    /// The order (the tag copied).
    ///
    /// # Safety
    /// `self.tag` must be readable (see [`AbiStr::to_str`]).
    pub unsafe fn to_order(&self) -> Result<WorkingOrder, String> {
        let flag = |bit: u32| self.flags & bit != 0;
        // SAFETY: forwarded from the caller.
        let tag = unsafe { text(self.tag, "order tag") }?;
        Ok(WorkingOrder {
            side: side(self.side)?,
            entry: entry_order(self.entry_kind, self.price)?,
            placed_index: usize::try_from(self.placed_index).map_err(|e| e.to_string())?,
            bars_left: flag(HAS_EXPIRY_BARS).then_some(self.bars_left),
            expires_at: flag(HAS_EXPIRES_AT).then_some(self.expires_at),
            tag: tag.to_string(),
            instrument: InstrumentId(self.instrument),
        })
    }
}

impl ActionAbi {
    /// The action with a distance already in pips or price units (the plugin resolves
    /// multiples of an indicator, see [`DISTANCE_PRICE`]); `Err` for an unresolved one.
    pub fn from_action(a: &PositionAction) -> Result<Self, String> {
        let distance = |d: Distance| match d {
            Distance::Pips(x) => Ok((Some(x), DISTANCE_PIPS)),
            Distance::Price(x) => Ok((Some(x), DISTANCE_PRICE)),
            Distance::Atr { .. } => Err("a distance in indicator multiples must be resolved \
                                          before it crosses the plugin boundary"
                .to_string()),
        };
        let (kind, (value, unit)) = match *a {
            PositionAction::Close => (ACTION_CLOSE, (None, 0)),
            PositionAction::PartialClose(f) => (ACTION_PARTIAL_CLOSE, (Some(f), 0)),
            PositionAction::ModifyStopLoss(v) => (ACTION_MODIFY_STOP_LOSS, (v, 0)),
            PositionAction::ModifyTakeProfit(v) => (ACTION_MODIFY_TAKE_PROFIT, (v, 0)),
            PositionAction::MoveToBreakEven(d) => (ACTION_MOVE_TO_BREAK_EVEN, distance(d)?),
            PositionAction::TrailStop(d) => (ACTION_TRAIL_STOP, distance(d)?),
        };
        Ok(ActionAbi {
            kind,
            has_value: u32::from(value.is_some()),
            value: value.unwrap_or(0.0),
            unit,
        })
    }

    pub fn from_order_action(a: &OrderAction) -> Self {
        let (kind, value) = match *a {
            OrderAction::Cancel => (ACTION_CANCEL_ORDER, None),
            OrderAction::ModifyPrice(p) => (ACTION_MODIFY_ORDER, Some(p)),
        };
        ActionAbi {
            kind,
            has_value: u32::from(value.is_some()),
            value: value.unwrap_or(0.0),
            unit: 0,
        }
    }

    pub fn to_order_action(&self) -> Result<OrderAction, String> {
        match (self.kind, self.has_value != 0) {
            (ACTION_CANCEL_ORDER, _) => Ok(OrderAction::Cancel),
            (ACTION_MODIFY_ORDER, true) => Ok(OrderAction::ModifyPrice(self.value)),
            (ACTION_MODIFY_ORDER, false) => Err("ModifyPrice needs a value".into()),
            (other, _) => Err(format!("unknown order action {other}")),
        }
    }

    pub fn to_action(&self) -> Result<PositionAction, String> {
        let value = (self.has_value != 0).then_some(self.value);
        let required = || value.ok_or_else(|| format!("action {} needs a value", self.kind));
        let distance = || -> Result<Distance, String> {
            Ok(match self.unit {
                DISTANCE_PIPS => Distance::Pips(required()?),
                DISTANCE_PRICE => Distance::Price(required()?),
                other => return Err(format!("unknown distance unit {other}")),
            })
        };
        Ok(match self.kind {
            ACTION_CLOSE => PositionAction::Close,
            ACTION_PARTIAL_CLOSE => PositionAction::PartialClose(required()?),
            ACTION_MODIFY_STOP_LOSS => PositionAction::ModifyStopLoss(value),
            ACTION_MODIFY_TAKE_PROFIT => PositionAction::ModifyTakeProfit(value),
            ACTION_MOVE_TO_BREAK_EVEN => PositionAction::MoveToBreakEven(distance()?),
            ACTION_TRAIL_STOP => PositionAction::TrailStop(distance()?),
            other => return Err(format!("unknown position action {other}")),
        })
    }
}

impl ParamAbi {
    /// Borrows `name` and a text value: both must outlive every read of the result.
    pub fn new(name: &str, value: &ParamValue) -> Self {
        let mut p = ParamAbi {
            name: AbiStr::new(name),
            kind: PARAM_FLOAT,
            int_value: 0,
            float_value: 0.0,
            text: AbiStr::new(""),
        };
        match value {
            ParamValue::Float(v) => p.float_value = *v,
            ParamValue::Int(v) => {
                p.kind = PARAM_INT;
                p.int_value = *v;
            }
            ParamValue::Bool(v) => {
                p.kind = PARAM_BOOL;
                p.int_value = i64::from(*v);
            }
            ParamValue::Timeframe(tf) => {
                p.kind = PARAM_TIMEFRAME;
                p.int_value = *tf as i64;
            }
            ParamValue::Text(s) => {
                p.kind = PARAM_TEXT;
                p.text = AbiStr::new(s);
            }
        }
        p
    }

    /// # Safety
    /// `name` and `text` must be readable (see [`AbiStr::to_str`]).
    pub(super) unsafe fn to_param(self) -> Result<(String, ParamValue), String> {
        // SAFETY: forwarded from the caller.
        let name = unsafe { text(self.name, "parameter name") }?;
        let value = match self.kind {
            PARAM_FLOAT => ParamValue::Float(self.float_value),
            PARAM_INT => ParamValue::Int(self.int_value),
            PARAM_BOOL => ParamValue::Bool(self.int_value != 0),
            PARAM_TIMEFRAME => ParamValue::Timeframe(timeframe(
                u32::try_from(self.int_value).unwrap_or(u32::MAX),
            )?),
            PARAM_TEXT => ParamValue::Text(
                // SAFETY: forwarded from the caller.
                unsafe { text(self.text, &format!("parameter {name}")) }?.to_string(),
            ),
            other => return Err(format!("parameter {name}: unknown kind {other}")),
        };
        Ok((name.to_string(), value))
    }
}

/// The string `s` borrows, or why it is none: not UTF-8, or a null pointer with a length
/// (refused rather than read, whatever the other side sent).
///
/// # Safety
/// A non-null `s.ptr` must satisfy [`AbiStr::to_str`].
pub(super) unsafe fn text<'a>(s: AbiStr, what: &str) -> Result<&'a str, String> {
    if s.ptr.is_null() && s.len != 0 {
        return Err(format!("{what}: null pointer with length {}", s.len));
    }
    // SAFETY: forwarded from the caller; null only with length 0, which is not read.
    unsafe { s.to_str() }.map_err(|e| format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PriceField;

    #[test]
    fn keys_survive_the_round_trip_bit_for_bit() {
        let specs = [
            IndicatorSpec::Sma {
                period: 20,
                field: PriceField::High,
            },
            IndicatorSpec::Atr { period: 14 },
            IndicatorSpec::Bollinger {
                period: 20,
                k_up: 2.0,
                k_down: 1.5,
                band: -1,
                field: PriceField::Close,
            },
            IndicatorSpec::Kalman {
                q: 0.01,
                r: 1.0,
                x0: Some(-0.0),
                p0: 1.0,
                field: PriceField::Open,
            },
            IndicatorSpec::KalmanZScore {
                q: 0.1,
                r: 0.3,
                x0: None,
                p0: 2.0,
                lookback: 200,
                field: PriceField::Close,
            },
        ];
        for spec in specs {
            let key = IndicatorKey {
                timeframe: Timeframe::H4,
                side: PriceSide::Mid,
                spec,
            };
            let back = IndicatorKeyAbi::from_key(&key).to_key().unwrap();
            assert_eq!(back, key);
        }
        let mut bad = IndicatorKeyAbi::from_key(&IndicatorKey {
            timeframe: Timeframe::M5,
            side: PriceSide::Bid,
            spec: IndicatorSpec::Atr { period: 3 },
        });
        bad.spec.kind = 99;
        assert_eq!(bad.to_key().unwrap_err(), "unknown indicator kind code 99");
        bad.spec.kind = 3; // atr
        bad.timeframe = 7;
        assert_eq!(bad.to_key().unwrap_err(), "unknown timeframe 7");
    }

    #[test]
    fn a_null_string_with_a_length_is_an_error_not_a_read() {
        let null = AbiStr {
            ptr: std::ptr::null(),
            len: 5,
        };
        let signal = SignalAbi {
            side: 1,
            tag: null,
            ..SignalAbi::EMPTY
        };
        // SAFETY: the only pointer is null, which `text` refuses before reading.
        let e = unsafe { signal.to_signal() }.unwrap_err();
        assert_eq!(e, "signal tag: null pointer with length 5");
        let param = ParamAbi {
            name: null,
            ..ParamAbi::new("p", &ParamValue::Int(1))
        };
        // SAFETY: as above.
        let e = unsafe { param.to_param() }.unwrap_err();
        assert_eq!(e, "parameter name: null pointer with length 5");
        // Null with length 0 is the empty string, as before.
        let empty = SignalAbi {
            side: -1,
            ..SignalAbi::EMPTY
        };
        // SAFETY: a null pointer of length 0 is never read.
        assert_eq!(unsafe { empty.to_signal() }.unwrap().tag, "");
    }

    #[test]
    fn signals_actions_and_params_round_trip() {
        let signal = TradeSignal::short()
            .with_stop_loss(1.2)
            .with_take_profit_distance(0.003)
            .with_max_bars(0)
            .with_tag("t");
        // SAFETY: `signal` outlives the borrowed tag.
        let back = unsafe { SignalAbi::from_signal(&signal).to_signal() }.unwrap();
        assert_eq!(back, signal);
        for action in [
            PositionAction::Close,
            PositionAction::PartialClose(0.5),
            PositionAction::ModifyStopLoss(None),
            PositionAction::ModifyTakeProfit(Some(1.1)),
            PositionAction::MoveToBreakEven(Distance::Pips(-1.0)),
            PositionAction::TrailStop(Distance::Price(0.002)),
        ] {
            let abi = ActionAbi::from_action(&action).unwrap();
            assert_eq!(abi.to_action().unwrap(), action);
        }
        let unresolved = PositionAction::TrailStop(Distance::Atr {
            handle: crate::IndicatorHandle(0),
            multiple: 2.0,
        });
        assert!(ActionAbi::from_action(&unresolved).is_err());
        for value in [
            ParamValue::Float(0.25),
            ParamValue::Int(-3),
            ParamValue::Bool(true),
            ParamValue::Timeframe(Timeframe::D1),
            ParamValue::Text("H1".into()),
        ] {
            // SAFETY: `value` and the name outlive the borrowed strings.
            let back = unsafe { ParamAbi::new("p", &value).to_param() }.unwrap();
            assert_eq!(back, ("p".to_string(), value));
        }
    }
}

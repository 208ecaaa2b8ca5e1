//! The C ABI of run-time strategy plugins (`ABI_VERSION` 1).
//!
//! A plugin is a `cdylib` that depends on this crate alone and exports one symbol,
//! [`PLUGIN_SYMBOL`], with [`export_strategy!`](crate::export_strategy). The symbol returns a
//! `'static` [`PluginDescriptor`]: the ABI version, the sizes of every boundary type, the
//! strategy name and a table of `extern "C"` functions. A host (omega-plugin-host) checks the
//! version and the sizes before it calls anything else.
//!
//! Everything that crosses is plain `#[repr(C)]`: integers, floats, raw pointers to the
//! engine's bar columns and indicator series (never a copy per bar), and [`AbiStr`] borrowed
//! strings. No Rust enum, `String`, `Vec` or trait object crosses: the two sides may be built
//! by different compilers and different versions of this crate.
//!
//! Ownership: the host owns everything it passes in, for the duration of the call. The plugin
//! owns what it hands out (indicator keys, a signal's tag, the last error): valid until the
//! next call on the same instance. An instance is created by `create` and freed by `destroy`.
//!
//! Panics: every exported function runs the strategy inside `catch_unwind` and reports a panic
//! as [`STATUS_PANIC`] with the message readable through `last_error`, so no unwind crosses
//! the boundary (that would abort the process). A plugin built with `panic = "abort"` cannot
//! be protected this way.
//!
//! This is the only module of the crate allowed `unsafe`; every block says why it holds.
#![allow(unsafe_code)]

use crate::params::ParamValue;
use crate::signal::{Position, PositionAction, Side, TradeSignal};
use crate::slice::{BarColumns, DataSlice, FrameView, IndicatorView, SliceParts, TraceRecorder};
use crate::strategy::Strategy;
use crate::types::{IndicatorKey, IndicatorSpec, PriceField, PriceSide, Timeframe};
use crate::ABI_VERSION;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Name of the one symbol a plugin exports (a `extern "C" fn() -> *const PluginDescriptor`).
pub const PLUGIN_SYMBOL: &str = "omega_strategy_plugin_v1";

/// A call returned nothing (no signal, no action).
pub const STATUS_NONE: i32 = 0;
/// A call filled its out-parameter.
pub const STATUS_SOME: i32 = 1;
/// The strategy reported an error (bad parameters, `Strategy::take_error`, bad input from
/// the host); the message is in `last_error`.
pub const STATUS_ERROR: i32 = 2;
/// The strategy panicked; the panic message is in `last_error`.
pub const STATUS_PANIC: i32 = 3;

/// A borrowed UTF-8 string: pointer and length in bytes (`ptr` may be null when `len` is 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AbiStr {
    pub ptr: *const u8,
    pub len: usize,
}

impl AbiStr {
    /// Borrows `s`; the caller keeps `s` alive while the `AbiStr` is read.
    pub const fn new(s: &str) -> Self {
        AbiStr {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The string, or an error if it is not UTF-8.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes (or `len` must be 0) that stay unchanged for
    /// `'a`.
    pub unsafe fn to_str<'a>(self) -> Result<&'a str, std::str::Utf8Error> {
        if self.len == 0 {
            return Ok("");
        }
        // SAFETY: the caller guarantees `len` readable bytes at `ptr` for 'a.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes)
    }
}

/// One timeframe's closed bars: ten column pointers of `len` values each.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ColumnsAbi {
    pub len: usize,
    pub time: *const i64,
    pub bid_open: *const f64,
    pub bid_high: *const f64,
    pub bid_low: *const f64,
    pub bid_close: *const f64,
    pub ask_open: *const f64,
    pub ask_high: *const f64,
    pub ask_low: *const f64,
    pub ask_close: *const f64,
    pub volume: *const f64,
}

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
    unsafe fn to_columns<'a>(self) -> BarColumns<'a> {
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
unsafe fn column<'a, T>(ptr: *const T, n: usize) -> &'a [T] {
    if n == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `n` readable values at `ptr` for 'a.
    unsafe { std::slice::from_raw_parts(ptr, n) }
}

/// One configured timeframe: its bars (at least the closed ones) and how many have closed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FrameAbi {
    /// `Timeframe` discriminant (M1 = 0 ... D1 = 6).
    pub timeframe: u32,
    /// Closed bars at this close (`<= bars.len`); the slice shows no more, and reads the
    /// indicators of this timeframe at the same count.
    pub visible: usize,
    pub bars: ColumnsAbi,
}

/// `IndicatorSpec::*` as a tag.
pub const SPEC_SMA: u32 = 0;
pub const SPEC_EMA: u32 = 1;
pub const SPEC_RSI: u32 = 2;
pub const SPEC_ATR: u32 = 3;
pub const SPEC_ROLLING_STD: u32 = 4;
pub const SPEC_BOLLINGER: u32 = 5;
pub const SPEC_ZSCORE: u32 = 6;
pub const SPEC_KALMAN: u32 = 7;
pub const SPEC_KALMAN_ZSCORE: u32 = 8;

/// An `IndicatorSpec` flattened: `kind` says which fields are meaningful (the others are 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorSpecAbi {
    pub kind: u32,
    /// `PriceField` discriminant.
    pub field: u32,
    pub band: i32,
    /// 1 when `x0` holds a value (Kalman kinds).
    pub has_x0: u32,
    pub period: u64,
    pub lookback: u64,
    pub k_up: f64,
    pub k_down: f64,
    pub q: f64,
    pub r: f64,
    pub x0: f64,
    pub p0: f64,
}

/// An `IndicatorKey`: timeframe and side discriminants and the spec.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorKeyAbi {
    pub timeframe: u32,
    pub side: u32,
    pub spec: IndicatorSpecAbi,
}

impl IndicatorKeyAbi {
    /// Floats are copied, so a key survives the round trip bit for bit.
    pub fn from_key(key: &IndicatorKey) -> Self {
        use IndicatorSpec::*;
        let mut s = IndicatorSpecAbi {
            kind: 0,
            field: PriceField::Close as u32,
            band: 0,
            has_x0: 0,
            period: 0,
            lookback: 0,
            k_up: 0.0,
            k_down: 0.0,
            q: 0.0,
            r: 0.0,
            x0: 0.0,
            p0: 0.0,
        };
        let kalman = |s: &mut IndicatorSpecAbi, q, r, x0: Option<f64>, p0| {
            s.q = q;
            s.r = r;
            s.has_x0 = u32::from(x0.is_some());
            s.x0 = x0.unwrap_or(0.0);
            s.p0 = p0;
        };
        match key.spec {
            Sma { period, field }
            | Ema { period, field }
            | Rsi { period, field }
            | RollingStd { period, field }
            | ZScore { period, field } => {
                s.kind = match key.spec {
                    Sma { .. } => SPEC_SMA,
                    Ema { .. } => SPEC_EMA,
                    Rsi { .. } => SPEC_RSI,
                    RollingStd { .. } => SPEC_ROLLING_STD,
                    _ => SPEC_ZSCORE,
                };
                s.period = period as u64;
                s.field = field as u32;
            }
            Atr { period } => {
                s.kind = SPEC_ATR;
                s.period = period as u64;
            }
            Bollinger {
                period,
                k_up,
                k_down,
                band,
                field,
            } => {
                s.kind = SPEC_BOLLINGER;
                s.period = period as u64;
                s.k_up = k_up;
                s.k_down = k_down;
                s.band = i32::from(band);
                s.field = field as u32;
            }
            Kalman {
                q,
                r,
                x0,
                p0,
                field,
            } => {
                s.kind = SPEC_KALMAN;
                kalman(&mut s, q, r, x0, p0);
                s.field = field as u32;
            }
            KalmanZScore {
                q,
                r,
                x0,
                p0,
                lookback,
                field,
            } => {
                s.kind = SPEC_KALMAN_ZSCORE;
                kalman(&mut s, q, r, x0, p0);
                s.lookback = lookback as u64;
                s.field = field as u32;
            }
        }
        IndicatorKeyAbi {
            timeframe: key.timeframe as u32,
            side: key.side as u32,
            spec: s,
        }
    }

    /// The key, or why these fields name none.
    pub fn to_key(&self) -> Result<IndicatorKey, String> {
        use IndicatorSpec::*;
        let s = &self.spec;
        let field = price_field(s.field)?;
        let period = usize::try_from(s.period).map_err(|_| format!("period {}", s.period))?;
        let x0 = (s.has_x0 != 0).then_some(s.x0);
        let spec = match s.kind {
            SPEC_SMA => Sma { period, field },
            SPEC_EMA => Ema { period, field },
            SPEC_RSI => Rsi { period, field },
            SPEC_ATR => Atr { period },
            SPEC_ROLLING_STD => RollingStd { period, field },
            SPEC_BOLLINGER => Bollinger {
                period,
                k_up: s.k_up,
                k_down: s.k_down,
                band: i8::try_from(s.band).map_err(|_| format!("Bollinger band {}", s.band))?,
                field,
            },
            SPEC_ZSCORE => ZScore { period, field },
            SPEC_KALMAN => Kalman {
                q: s.q,
                r: s.r,
                x0,
                p0: s.p0,
                field,
            },
            SPEC_KALMAN_ZSCORE => KalmanZScore {
                q: s.q,
                r: s.r,
                x0,
                p0: s.p0,
                lookback: usize::try_from(s.lookback)
                    .map_err(|_| format!("lookback {}", s.lookback))?,
                field,
            },
            other => return Err(format!("unknown indicator kind {other}")),
        };
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

fn price_field(value: u32) -> Result<PriceField, String> {
    match value {
        0 => Ok(PriceField::Open),
        1 => Ok(PriceField::High),
        2 => Ok(PriceField::Low),
        3 => Ok(PriceField::Close),
        _ => Err(format!("unknown price field {value}")),
    }
}

/// One indicator series (`len` values, at least the frame's visible count; the slice reads it
/// at that count, never beyond).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IndicatorAbi {
    pub key: IndicatorKeyAbi,
    pub values: *const f64,
    pub len: usize,
}

/// Bits of [`PositionAbi::flags`] and [`SignalAbi::flags`] saying which optional fields hold
/// a value.
pub const HAS_STOP_LOSS: u32 = 1;
pub const HAS_TAKE_PROFIT: u32 = 1 << 1;
pub const HAS_MAX_BARS: u32 = 1 << 2;
pub const HAS_STOP_LOSS_DISTANCE: u32 = 1 << 3;
pub const HAS_TAKE_PROFIT_DISTANCE: u32 = 1 << 4;
pub const HAS_SIZE: u32 = 1 << 5;
pub const HAS_RISK_PERCENT: u32 = 1 << 6;

/// The open position (`Position` field for field; `side` is +1 long, -1 short).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PositionAbi {
    pub side: i32,
    pub flags: u32,
    pub size: f64,
    pub entry_price: f64,
    pub entry_time: i64,
    pub entry_index: u64,
    pub stop_loss: f64,
    pub take_profit: f64,
    pub bars_held: u32,
    pub max_bars: u32,
    pub mfe: f64,
    pub entry_fee: f64,
    pub unrealized_pnl: f64,
    pub tag: AbiStr,
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
        }
    }

    /// Overwrites `out` (reusing its tag's allocation: no allocation per bar).
    ///
    /// # Safety
    /// `self.tag` must be readable (see [`AbiStr::to_str`]).
    unsafe fn write_to(&self, out: &mut Position) -> Result<(), String> {
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
        // SAFETY: forwarded from the caller.
        let tag = unsafe { self.tag.to_str() }.map_err(|e| format!("position tag: {e}"))?;
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

/// Receives one value recorded for the decision trace: `(context, name, value)`.
pub type RecordFn = unsafe extern "C" fn(*mut c_void, AbiStr, f64);

/// The view of the market at one primary close (a `DataSlice`), as pointers.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SliceAbi {
    /// Current primary bar index.
    pub index: u64,
    /// Primary `Timeframe` discriminant.
    pub primary: u32,
    /// 1 when a decision trace is recorded: values go to `record(record_context, ..)`.
    pub tracing: u32,
    /// Every configured timeframe, the primary included, with its closed-bar count.
    pub frames: *const FrameAbi,
    pub n_frames: usize,
    /// The declared indicators sorted by key.
    pub indicators: *const IndicatorAbi,
    pub n_indicators: usize,
    /// The open position, or null when flat.
    pub position: *const PositionAbi,
    pub record_context: *mut c_void,
    pub record: Option<RecordFn>,
}

/// A `TradeSignal` (`side` +1 long, -1 short; `flags` say which options hold a value).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SignalAbi {
    pub side: i32,
    pub flags: u32,
    pub stop_loss: f64,
    pub take_profit: f64,
    pub stop_loss_distance: f64,
    pub take_profit_distance: f64,
    pub size: f64,
    pub risk_percent: f64,
    pub max_bars: u32,
    pub tag: AbiStr,
}

impl SignalAbi {
    /// An empty out-parameter for `evaluate`.
    pub const EMPTY: SignalAbi = SignalAbi {
        side: 0,
        flags: 0,
        stop_loss: 0.0,
        take_profit: 0.0,
        stop_loss_distance: 0.0,
        take_profit_distance: 0.0,
        size: 0.0,
        risk_percent: 0.0,
        max_bars: 0,
        tag: AbiStr {
            ptr: std::ptr::null(),
            len: 0,
        },
    };

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
        let tag = unsafe { self.tag.to_str() }.map_err(|e| format!("signal tag: {e}"))?;
        let mut s = TradeSignal::new(side(self.side)?).with_tag(tag);
        s.stop_loss = opt(HAS_STOP_LOSS, self.stop_loss);
        s.take_profit = opt(HAS_TAKE_PROFIT, self.take_profit);
        s.stop_loss_distance = opt(HAS_STOP_LOSS_DISTANCE, self.stop_loss_distance);
        s.take_profit_distance = opt(HAS_TAKE_PROFIT_DISTANCE, self.take_profit_distance);
        s.size = opt(HAS_SIZE, self.size);
        s.risk_percent = opt(HAS_RISK_PERCENT, self.risk_percent);
        s.max_bars = flag(HAS_MAX_BARS).then_some(self.max_bars);
        Ok(s)
    }
}

pub const ACTION_CLOSE: u32 = 0;
pub const ACTION_PARTIAL_CLOSE: u32 = 1;
pub const ACTION_MODIFY_STOP_LOSS: u32 = 2;
pub const ACTION_MODIFY_TAKE_PROFIT: u32 = 3;
pub const ACTION_MOVE_TO_BREAK_EVEN: u32 = 4;

/// A `PositionAction`: `kind` and, where it takes one, a value (`has_value` 0 is `None`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionAbi {
    pub kind: u32,
    pub has_value: u32,
    pub value: f64,
}

impl ActionAbi {
    pub const EMPTY: ActionAbi = ActionAbi {
        kind: 0,
        has_value: 0,
        value: 0.0,
    };

    pub fn from_action(a: &PositionAction) -> Self {
        let (kind, value) = match *a {
            PositionAction::Close => (ACTION_CLOSE, None),
            PositionAction::PartialClose(f) => (ACTION_PARTIAL_CLOSE, Some(f)),
            PositionAction::ModifyStopLoss(v) => (ACTION_MODIFY_STOP_LOSS, v),
            PositionAction::ModifyTakeProfit(v) => (ACTION_MODIFY_TAKE_PROFIT, v),
            PositionAction::MoveToBreakEven(o) => (ACTION_MOVE_TO_BREAK_EVEN, Some(o)),
        };
        ActionAbi {
            kind,
            has_value: u32::from(value.is_some()),
            value: value.unwrap_or(0.0),
        }
    }

    pub fn to_action(&self) -> Result<PositionAction, String> {
        let value = (self.has_value != 0).then_some(self.value);
        let required = || value.ok_or_else(|| format!("action {} needs a value", self.kind));
        Ok(match self.kind {
            ACTION_CLOSE => PositionAction::Close,
            ACTION_PARTIAL_CLOSE => PositionAction::PartialClose(required()?),
            ACTION_MODIFY_STOP_LOSS => PositionAction::ModifyStopLoss(value),
            ACTION_MODIFY_TAKE_PROFIT => PositionAction::ModifyTakeProfit(value),
            ACTION_MOVE_TO_BREAK_EVEN => PositionAction::MoveToBreakEven(required()?),
            other => return Err(format!("unknown position action {other}")),
        })
    }
}

pub const PARAM_FLOAT: u32 = 0;
pub const PARAM_INT: u32 = 1;
pub const PARAM_BOOL: u32 = 2;
pub const PARAM_TIMEFRAME: u32 = 3;
pub const PARAM_TEXT: u32 = 4;

/// One user parameter: `kind` says which value field is meaningful (`Bool` and `Timeframe`
/// travel in `int_value`: 0/1 and the discriminant).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ParamAbi {
    pub name: AbiStr,
    pub kind: u32,
    pub int_value: i64,
    pub float_value: f64,
    pub text: AbiStr,
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
    unsafe fn to_param(self) -> Result<(String, ParamValue), String> {
        // SAFETY: forwarded from the caller.
        let name = unsafe { self.name.to_str() }.map_err(|e| format!("parameter name: {e}"))?;
        let value = match self.kind {
            PARAM_FLOAT => ParamValue::Float(self.float_value),
            PARAM_INT => ParamValue::Int(self.int_value),
            PARAM_BOOL => ParamValue::Bool(self.int_value != 0),
            PARAM_TIMEFRAME => ParamValue::Timeframe(timeframe(
                u32::try_from(self.int_value).unwrap_or(u32::MAX),
            )?),
            PARAM_TEXT => ParamValue::Text(
                // SAFETY: forwarded from the caller.
                unsafe { self.text.to_str() }
                    .map_err(|e| format!("parameter {name}: {e}"))?
                    .to_string(),
            ),
            other => return Err(format!("parameter {name}: unknown kind {other}")),
        };
        Ok((name.to_string(), value))
    }
}

/// Indicator keys handed out by `indicators` (owned by the plugin instance).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct KeyListAbi {
    pub keys: *const IndicatorKeyAbi,
    pub len: usize,
}

/// `size_of` every boundary type, as the plugin was compiled; the host compares each with
/// its own before reading anything past this struct.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiSizes {
    pub descriptor: usize,
    pub str_: usize,
    pub columns: usize,
    pub frame: usize,
    pub indicator_key: usize,
    pub indicator: usize,
    pub position: usize,
    pub slice: usize,
    pub signal: usize,
    pub action: usize,
    pub param: usize,
    pub key_list: usize,
}

impl AbiSizes {
    /// The sizes of this build of the crate.
    pub const CURRENT: AbiSizes = AbiSizes {
        descriptor: size_of::<PluginDescriptor>(),
        str_: size_of::<AbiStr>(),
        columns: size_of::<ColumnsAbi>(),
        frame: size_of::<FrameAbi>(),
        indicator_key: size_of::<IndicatorKeyAbi>(),
        indicator: size_of::<IndicatorAbi>(),
        position: size_of::<PositionAbi>(),
        slice: size_of::<SliceAbi>(),
        signal: size_of::<SignalAbi>(),
        action: size_of::<ActionAbi>(),
        param: size_of::<ParamAbi>(),
        key_list: size_of::<KeyListAbi>(),
    };

    /// `(type name, size)` of every entry, in declaration order.
    pub fn entries(&self) -> [(&'static str, usize); 12] {
        [
            ("PluginDescriptor", self.descriptor),
            ("AbiStr", self.str_),
            ("ColumnsAbi", self.columns),
            ("FrameAbi", self.frame),
            ("IndicatorKeyAbi", self.indicator_key),
            ("IndicatorAbi", self.indicator),
            ("PositionAbi", self.position),
            ("SliceAbi", self.slice),
            ("SignalAbi", self.signal),
            ("ActionAbi", self.action),
            ("ParamAbi", self.param),
            ("KeyListAbi", self.key_list),
        ]
    }
}

/// `create(params, n_params, out_instance) -> status`: always writes an instance (also on
/// error, so `last_error` can be read); the host destroys it.
pub type CreateFn = unsafe extern "C" fn(*const ParamAbi, usize, *mut *mut c_void) -> i32;
/// `destroy(instance)`.
pub type DestroyFn = unsafe extern "C" fn(*mut c_void);
/// `indicators(instance, primary, out_keys) -> status`.
pub type IndicatorsFn = unsafe extern "C" fn(*mut c_void, u32, *mut KeyListAbi) -> i32;
/// `evaluate(instance, slice, out_signal) -> status` (`STATUS_SOME`: a signal was written).
pub type EvaluateFn = unsafe extern "C" fn(*mut c_void, *const SliceAbi, *mut SignalAbi) -> i32;
/// `manage(instance, slice, out_action) -> status`; the managed position is
/// `slice.position` (never null here).
pub type ManageFn = unsafe extern "C" fn(*mut c_void, *const SliceAbi, *mut ActionAbi) -> i32;
/// `last_error(instance)`: the message of the last `STATUS_ERROR` / `STATUS_PANIC`.
pub type LastErrorFn = unsafe extern "C" fn(*mut c_void) -> AbiStr;

/// What [`PLUGIN_SYMBOL`] returns. `abi_version` and `sizes` come first and keep their place
/// in every ABI version, so a host can refuse a plugin before trusting anything else.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginDescriptor {
    pub abi_version: u32,
    pub sizes: AbiSizes,
    /// The strategy's name (static).
    pub name: AbiStr,
    /// `API_VERSION` of the omega-strategy-api the plugin was built with (informative).
    pub api_version: AbiStr,
    pub create: CreateFn,
    pub destroy: DestroyFn,
    pub indicators: IndicatorsFn,
    pub evaluate: EvaluateFn,
    pub manage: ManageFn,
    pub last_error: LastErrorFn,
}

// SAFETY: a descriptor is immutable static data: pointers to static strings and function
// pointers, safe to read from any thread.
unsafe impl Sync for PluginDescriptor {}
// SAFETY: as above; nothing in it is owned or mutated.
unsafe impl Send for PluginDescriptor {}

/// A strategy a plugin exports: a [`Strategy`] that can be built from user parameters.
pub trait PluginStrategy: Strategy + Send + Sized + 'static {
    /// The name the host reports (usually the same as `Strategy::name`).
    const NAME: &'static str;
    /// Builds the strategy from user parameters (validate them with [`crate::validate`]); an
    /// `Err` message reaches the user as a strategy error.
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String>;
}

impl PluginDescriptor {
    /// The descriptor of `T` (used by [`export_strategy!`](crate::export_strategy)).
    pub const fn of<T: PluginStrategy>() -> PluginDescriptor {
        PluginDescriptor {
            abi_version: ABI_VERSION,
            sizes: AbiSizes::CURRENT,
            name: AbiStr::new(T::NAME),
            api_version: AbiStr::new(crate::API_VERSION),
            create: create::<T>,
            destroy: destroy::<T>,
            indicators: indicators::<T>,
            evaluate: evaluate::<T>,
            manage: manage::<T>,
            last_error: last_error::<T>,
        }
    }
}

/// Exports `$ty` (a [`PluginStrategy`]) as this library's plugin: defines the
/// [`PLUGIN_SYMBOL`] function returning its static [`PluginDescriptor`]. Use once per cdylib.
#[macro_export]
macro_rules! export_strategy {
    ($ty:ty) => {
        /// The Omega strategy plugin descriptor (C ABI, see `omega_strategy_api::abi`).
        #[allow(unsafe_code)] // `no_mangle` is flagged by the lint: the symbol must be exact
        #[no_mangle]
        pub extern "C" fn omega_strategy_plugin_v1() -> *const $crate::abi::PluginDescriptor {
            static DESCRIPTOR: $crate::abi::PluginDescriptor =
                $crate::abi::PluginDescriptor::of::<$ty>();
            &DESCRIPTOR
        }
    };
}

/// The plugin side of one strategy instance: the strategy and the buffers whose contents are
/// handed to the host (valid until the next call) or reused per bar (no allocation per bar).
struct Instance<T> {
    strategy: Option<T>,
    /// Set after a panic: the strategy may be half-updated, so it is never called again.
    poisoned: bool,
    error: String,
    keys: Vec<IndicatorKeyAbi>,
    tag: String,
    position: Position,
    recorder: TraceRecorder,
}

impl<T: PluginStrategy> Instance<T> {
    fn new(strategy: Option<T>, error: String) -> Self {
        Instance {
            strategy,
            poisoned: false,
            error,
            keys: Vec::new(),
            tag: String::new(),
            position: Position {
                side: Side::Long,
                size: 0.0,
                entry_price: 0.0,
                entry_time: 0,
                entry_index: 0,
                stop_loss: None,
                take_profit: None,
                bars_held: 0,
                mfe: 0.0,
                entry_fee: 0.0,
                max_bars: None,
                unrealized_pnl: 0.0,
                tag: String::new(),
            },
            recorder: TraceRecorder::new(),
        }
    }

    /// Runs `f` on the strategy with panics caught; sets `error` and returns the status for
    /// an error or a panic. `f` returns `Ok(true)` when it filled its out-parameter.
    fn call(&mut self, f: impl FnOnce(&mut Self) -> Result<bool, String>) -> i32 {
        if self.poisoned || self.strategy.is_none() {
            self.error = "the strategy instance is unusable after an earlier failure".into();
            return STATUS_ERROR;
        }
        match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(Ok(filled)) => match self.strategy.as_mut().and_then(|s| s.take_error()) {
                Some(message) => {
                    self.error = message;
                    STATUS_ERROR
                }
                None if filled => STATUS_SOME,
                None => STATUS_NONE,
            },
            Ok(Err(message)) => {
                self.error = message;
                STATUS_ERROR
            }
            Err(payload) => {
                self.poisoned = true;
                self.error = panic_message(payload.as_ref());
                STATUS_PANIC
            }
        }
    }

    /// Calls `f` with the strategy and the slice described by `abi`; forwards recorded trace
    /// values to the host afterwards.
    ///
    /// # Safety
    /// `abi` must satisfy the contract of [`SliceAbi`]: valid pointers and counts for the
    /// whole call.
    unsafe fn with_slice<R>(
        &mut self,
        abi: &SliceAbi,
        f: impl FnOnce(&mut T, &DataSlice<'_>) -> R,
    ) -> Result<R, String> {
        const EMPTY: BarColumns<'static> = BarColumns {
            time: &[],
            bid_open: &[],
            bid_high: &[],
            bid_low: &[],
            bid_close: &[],
            ask_open: &[],
            ask_high: &[],
            ask_low: &[],
            ask_close: &[],
            volume: &[],
        };
        const MAX_FRAMES: usize = Timeframe::ALL.len();
        // Most strategies declare a handful of indicators: those stay on the stack.
        const STACK_INDICATORS: usize = 16;
        let unused_key = IndicatorKey {
            timeframe: Timeframe::M1,
            side: PriceSide::Bid,
            spec: IndicatorSpec::Atr { period: 0 },
        };

        // SAFETY: the caller guarantees `n_frames` frames at `frames`.
        let frames_abi = unsafe { column(abi.frames, abi.n_frames) };
        if frames_abi.len() > MAX_FRAMES {
            return Err(format!(
                "{} frames (at most {MAX_FRAMES})",
                frames_abi.len()
            ));
        }
        let mut frames = [FrameView {
            timeframe: Timeframe::M1,
            bars: EMPTY,
        }; MAX_FRAMES];
        let mut visible = [0usize; MAX_FRAMES];
        for (k, f) in frames_abi.iter().enumerate() {
            frames[k] = FrameView {
                timeframe: timeframe(f.timeframe)?,
                // SAFETY: the caller guarantees the columns of every frame.
                bars: unsafe { f.bars.to_columns() },
            };
            if f.visible > f.bars.len {
                return Err(format!("visible {} > {} bars", f.visible, f.bars.len));
            }
            visible[k] = f.visible;
        }
        let n_frames = frames_abi.len();

        // SAFETY: the caller guarantees `n_indicators` entries at `indicators`.
        let indicators_abi = unsafe { column(abi.indicators, abi.n_indicators) };
        let mut on_stack = [IndicatorView {
            key: unused_key,
            values: &[],
        }; STACK_INDICATORS];
        let mut on_heap = Vec::new();
        let views: &mut [IndicatorView<'_>] = if indicators_abi.len() <= STACK_INDICATORS {
            &mut on_stack[..indicators_abi.len()]
        } else {
            on_heap.resize(indicators_abi.len(), on_stack[0]);
            &mut on_heap
        };
        for (view, ind) in views.iter_mut().zip(indicators_abi) {
            *view = IndicatorView {
                key: ind.key.to_key()?,
                // SAFETY: the caller guarantees `len` values at `values`.
                values: unsafe { column(ind.values, ind.len) },
            };
        }
        if !views.windows(2).all(|w| w[0].key < w[1].key) {
            return Err("indicators must be sorted by key without duplicates".into());
        }
        for view in views.iter() {
            let frame = frames[..n_frames]
                .iter()
                .position(|f| f.timeframe == view.key.timeframe);
            if frame.is_some_and(|k| view.values.len() < visible[k]) {
                return Err("an indicator series is shorter than its frame's closed bars".into());
            }
        }

        let position = if abi.position.is_null() {
            None
        } else {
            // SAFETY: a non-null position points to a valid `PositionAbi` for the call.
            unsafe { (*abi.position).write_to(&mut self.position)? };
            Some(&self.position)
        };
        let tracing = abi.tracing != 0 && abi.record.is_some();
        let slice = DataSlice::new(SliceParts {
            index: usize::try_from(abi.index).map_err(|e| e.to_string())?,
            primary: timeframe(abi.primary)?,
            frames: &frames[..n_frames],
            visible: &visible[..n_frames],
            indicators: views,
            position,
            recorder: tracing.then_some(&self.recorder),
        });
        let strategy = self.strategy.as_mut().expect("checked by `call`");
        let result = f(strategy, &slice);
        if let (true, Some(record)) = (tracing, abi.record) {
            for (name, value) in self.recorder.take() {
                // SAFETY: the host's callback, with the context it passed for this call.
                unsafe { record(abi.record_context, AbiStr::new(&name), value) };
            }
        }
        Ok(result)
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// # Safety
/// `instance` must come from `create::<T>` and not be destroyed; no other call on it runs.
unsafe fn instance<'a, T>(instance: *mut c_void) -> &'a mut Instance<T> {
    // SAFETY: forwarded from the caller: an exclusive pointer to a live `Instance<T>`.
    unsafe { &mut *instance.cast::<Instance<T>>() }
}

unsafe extern "C" fn create<T: PluginStrategy>(
    params: *const ParamAbi,
    n_params: usize,
    out: *mut *mut c_void,
) -> i32 {
    let built = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the host passes `n_params` valid entries whose strings live for the call.
        let given = unsafe { column(params, n_params) }
            .iter()
            .map(|p| unsafe { p.to_param() })
            .collect::<Result<Vec<_>, String>>()?;
        T::create(&given)
    }));
    let (status, instance) = match built {
        Ok(Ok(strategy)) => (STATUS_SOME, Instance::new(Some(strategy), String::new())),
        Ok(Err(message)) => (STATUS_ERROR, Instance::<T>::new(None, message)),
        Err(payload) => (
            STATUS_PANIC,
            Instance::new(None, panic_message(payload.as_ref())),
        ),
    };
    // SAFETY: `out` is a valid place for one pointer (the host's contract).
    unsafe { *out = Box::into_raw(Box::new(instance)).cast::<c_void>() };
    status
}

unsafe extern "C" fn destroy<T: PluginStrategy>(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `create::<T>` (Box::into_raw) and is destroyed once.
    let boxed = unsafe { Box::from_raw(ptr.cast::<Instance<T>>()) };
    // A strategy's `Drop` may panic too: it must not unwind into the host.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

unsafe extern "C" fn indicators<T: PluginStrategy>(
    ptr: *mut c_void,
    primary: u32,
    out: *mut KeyListAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<T>(ptr) };
    let status = inst.call(|inst| {
        let primary = timeframe(primary)?;
        let keys = inst.strategy.as_ref().expect("checked").indicators(primary);
        inst.keys.clear();
        inst.keys.extend(keys.iter().map(IndicatorKeyAbi::from_key));
        Ok(true)
    });
    // SAFETY: `out` is a valid place for a `KeyListAbi` (the host's contract).
    unsafe {
        *out = KeyListAbi {
            keys: inst.keys.as_ptr(),
            len: if status == STATUS_SOME {
                inst.keys.len()
            } else {
                0
            },
        }
    };
    status
}

unsafe extern "C" fn evaluate<T: PluginStrategy>(
    ptr: *mut c_void,
    slice: *const SliceAbi,
    out: *mut SignalAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<T>(ptr) };
    inst.call(|inst| {
        // SAFETY: the host passes a valid slice for the duration of the call.
        let signal = unsafe { inst.with_slice(&*slice, |s, slice| s.evaluate(slice))? };
        let Some(signal) = signal else {
            return Ok(false);
        };
        inst.tag.clone_from(&signal.tag);
        let abi = SignalAbi {
            tag: AbiStr::new(&inst.tag),
            ..SignalAbi::from_signal(&signal)
        };
        // SAFETY: `out` is a valid place for a `SignalAbi` (the host's contract).
        unsafe { *out = abi };
        Ok(true)
    })
}

unsafe extern "C" fn manage<T: PluginStrategy>(
    ptr: *mut c_void,
    slice: *const SliceAbi,
    out: *mut ActionAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<T>(ptr) };
    inst.call(|inst| {
        // SAFETY: the host passes a valid slice for the duration of the call.
        let slice_abi = unsafe { &*slice };
        if slice_abi.position.is_null() {
            return Err("manage called without a position".into());
        }
        // SAFETY: as above; the position was written into `inst.position` by `with_slice`,
        // which the closure reads through the slice (the same value the trait passes).
        let action = unsafe {
            inst.with_slice(slice_abi, |s, slice| {
                let position = slice.position().expect("non-null checked above");
                s.manage_position(position, slice)
            })?
        };
        let Some(action) = action else {
            return Ok(false);
        };
        // SAFETY: `out` is a valid place for an `ActionAbi` (the host's contract).
        unsafe { *out = ActionAbi::from_action(&action) };
        Ok(true)
    })
}

unsafe extern "C" fn last_error<T: PluginStrategy>(ptr: *mut c_void) -> AbiStr {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<T>(ptr) };
    AbiStr::new(&inst.error)
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
        assert_eq!(bad.to_key().unwrap_err(), "unknown indicator kind 99");
        bad.spec.kind = SPEC_ATR;
        bad.timeframe = 7;
        assert_eq!(bad.to_key().unwrap_err(), "unknown timeframe 7");
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
            PositionAction::MoveToBreakEven(-1.0),
        ] {
            assert_eq!(ActionAbi::from_action(&action).to_action().unwrap(), action);
        }
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

    #[test]
    fn descriptor_header_keeps_its_place() {
        // A host reads `abi_version` and `sizes` before trusting the rest: they must stay at
        // the start whatever is added after them.
        assert_eq!(std::mem::offset_of!(PluginDescriptor, abi_version), 0);
        assert_eq!(
            std::mem::offset_of!(PluginDescriptor, sizes),
            size_of::<usize>()
        );
        assert_eq!(std::mem::offset_of!(AbiSizes, descriptor), 0);
    }
}

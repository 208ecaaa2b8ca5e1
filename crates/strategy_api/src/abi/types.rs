//! The `#[repr(C)]` types and constants that cross the plugin boundary.
//!
//! Everything that crosses is plain `#[repr(C)]`: integers, floats, raw pointers to the
//! engine's bar columns and indicator series (never a copy per bar), and [`AbiStr`] borrowed
//! strings. No Rust enum, `String`, `Vec` or trait object crosses: the two sides may be built
//! by different compilers and different versions of this crate. Conversions to and from the
//! API types are in `codec`.
//!
//! Any change of layout, tag, flag bit or function signature here bumps
//! [`ABI_VERSION`](crate::ABI_VERSION) and [`PLUGIN_SYMBOL`].
#![allow(unsafe_code)] // `AbiStr::to_str` and the `Send`/`Sync` of the static descriptor

use crate::indicator_spec::SPEC_WORDS;
use std::ffi::c_void;

/// Name of the one symbol a plugin exports (a `extern "C" fn() -> *const PluginDescriptor`);
/// it ends in the ABI version it was built for.
pub const PLUGIN_SYMBOL: &str = "omega_strategy_plugin_v3";

/// The symbols of earlier ABI versions, newest first. A host looks them up only when
/// [`PLUGIN_SYMBOL`] is missing, to refuse an old plugin naming both versions instead of
/// calling it "not a plugin". Every version starts its descriptor with `abi_version: u32`.
pub const LEGACY_PLUGIN_SYMBOLS: &[&str] =
    &["omega_strategy_plugin_v1", "omega_strategy_plugin_v2"];

/// A call returned nothing (no signal, no action).
pub const STATUS_NONE: i32 = 0;
/// A call filled its out-parameter.
pub const STATUS_SOME: i32 = 1;
/// The strategy reported an error (bad parameters, a `StrategyError` from `init`,
/// `evaluate` or `manage_position`, bad input from the host); the message is in
/// `last_error`.
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

/// An `IndicatorSpec` as its registry code and parameter words (`IndicatorSpec::encode`:
/// floats by bit pattern, so a spec survives the trip bit for bit).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorSpecAbi {
    pub kind: u32,
    pub reserved: u32,
    pub words: [u64; SPEC_WORDS],
}

/// An `IndicatorKey`: timeframe and side discriminants and the spec.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorKeyAbi {
    pub timeframe: u32,
    pub side: u32,
    pub spec: IndicatorSpecAbi,
}

/// One indicator series the host computed, in the order of the keys `init` returned:
/// `frame` indexes the slice's frames (its timeframe), `len` values, at least that frame's
/// visible count (the slice reads it at that count, never beyond).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IndicatorAbi {
    pub frame: u32,
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
pub const HAS_INSTRUMENT: u32 = 1 << 7;
pub const HAS_EXPIRY_BARS: u32 = 1 << 8;
pub const HAS_EXPIRES_AT: u32 = 1 << 9;

/// `SignalAbi::entry_kind` / `OrderAbi::entry_kind`: how an entry fills.
pub const ENTRY_MARKET: u32 = 0;
pub const ENTRY_LIMIT: u32 = 1;
pub const ENTRY_STOP: u32 = 2;

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
    pub instrument: u32,
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
    /// The built-in series, in the order of the keys `init` returned.
    pub indicators: *const IndicatorAbi,
    pub n_indicators: usize,
    /// The open position, or null when flat.
    pub position: *const PositionAbi,
    pub record_context: *mut c_void,
    pub record: Option<RecordFn>,
    /// The slice's `InstrumentId`.
    pub instrument: u32,
    /// 1 when the current bar's open is inside the trading session and outside every
    /// blackout (`DataSlice::in_session`).
    pub in_session: u32,
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
    /// With [`HAS_INSTRUMENT`].
    pub instrument: u32,
    /// [`ENTRY_MARKET`], [`ENTRY_LIMIT`] or [`ENTRY_STOP`] (then `entry_price` is the price).
    pub entry_kind: u32,
    /// With [`HAS_EXPIRY_BARS`].
    pub expiry_bars: u32,
    pub entry_price: f64,
    /// With [`HAS_EXPIRES_AT`] (UTC ns).
    pub expires_at: i64,
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
        instrument: 0,
        entry_kind: ENTRY_MARKET,
        expiry_bars: 0,
        entry_price: 0.0,
        expires_at: 0,
    };
}

/// The working pending entry `manage_order` is shown (`side` +1 long, -1 short; `flags`:
/// [`HAS_EXPIRY_BARS`] for `bars_left`, [`HAS_EXPIRES_AT`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OrderAbi {
    pub side: i32,
    pub flags: u32,
    /// [`ENTRY_LIMIT`] or [`ENTRY_STOP`].
    pub entry_kind: u32,
    pub bars_left: u32,
    pub price: f64,
    pub placed_index: u64,
    pub expires_at: i64,
    pub tag: AbiStr,
    pub instrument: u32,
}

pub const ACTION_CLOSE: u32 = 0;
pub const ACTION_PARTIAL_CLOSE: u32 = 1;
pub const ACTION_MODIFY_STOP_LOSS: u32 = 2;
pub const ACTION_MODIFY_TAKE_PROFIT: u32 = 3;
pub const ACTION_MOVE_TO_BREAK_EVEN: u32 = 4;
pub const ACTION_TRAIL_STOP: u32 = 5;
/// `OrderAction::Cancel` (from `manage_order`).
pub const ACTION_CANCEL_ORDER: u32 = 6;
/// `OrderAction::ModifyPrice(value)` (from `manage_order`).
pub const ACTION_MODIFY_ORDER: u32 = 7;

/// [`ActionAbi::unit`] of a distance: pips, or price units. A distance in multiples of an
/// indicator is resolved by the plugin (`multiple * value`, the engine's operation) and
/// crosses in price units.
pub const DISTANCE_PIPS: u32 = 0;
pub const DISTANCE_PRICE: u32 = 1;

/// A `PositionAction`: `kind` and, where it takes one, a value (`has_value` 0 is `None`);
/// `unit` for the distances of break-even and trailing.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionAbi {
    pub kind: u32,
    pub has_value: u32,
    pub value: f64,
    pub unit: u32,
}

impl ActionAbi {
    pub const EMPTY: ActionAbi = ActionAbi {
        kind: 0,
        has_value: 0,
        value: 0.0,
        unit: 0,
    };
}

/// The actions `manage` returns, in order (owned by the plugin instance until its next call).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ActionListAbi {
    pub actions: *const ActionAbi,
    pub len: usize,
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

/// The start of a run as the host describes it to `init` (`RunContext` without the
/// parameters, which the plugin keeps from `create`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ContextAbi {
    pub primary: u32,
    pub instrument_id: u32,
    /// The configured timeframes (discriminants), the primary included.
    pub timeframes: *const u32,
    pub n_timeframes: usize,
    pub symbol: AbiStr,
    pub pip_size: f64,
}

/// What `init` hands out (owned by the plugin instance until its next call): the built-in
/// series the host must compute, in the order the slices will carry them, and the
/// timeframes the plugin reads besides (its own indicators' and those it reads bars of).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct InitAbi {
    pub keys: *const IndicatorKeyAbi,
    pub n_keys: usize,
    pub timeframes: *const u32,
    pub n_timeframes: usize,
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
    pub context: usize,
    pub init: usize,
    pub action_list: usize,
    pub order: usize,
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
        context: size_of::<ContextAbi>(),
        init: size_of::<InitAbi>(),
        action_list: size_of::<ActionListAbi>(),
        order: size_of::<OrderAbi>(),
    };

    /// `(type name, size)` of every entry, in declaration order.
    pub fn entries(&self) -> [(&'static str, usize); 15] {
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
            ("ContextAbi", self.context),
            ("InitAbi", self.init),
            ("ActionListAbi", self.action_list),
            ("OrderAbi", self.order),
        ]
    }
}

/// `create(params, n_params, out_instance) -> status`: always writes an instance (also on
/// error, so `last_error` can be read); the host destroys it.
pub type CreateFn = unsafe extern "C" fn(*const ParamAbi, usize, *mut *mut c_void) -> i32;
/// `destroy(instance)`.
pub type DestroyFn = unsafe extern "C" fn(*mut c_void);
/// `init(instance, context, out) -> status`: the start of every run (`Strategy::init`).
pub type InitFn = unsafe extern "C" fn(*mut c_void, *const ContextAbi, *mut InitAbi) -> i32;
/// `evaluate(instance, slice, out_signal) -> status` (`STATUS_SOME`: a signal was written).
pub type EvaluateFn = unsafe extern "C" fn(*mut c_void, *const SliceAbi, *mut SignalAbi) -> i32;
/// `manage(instance, slice, out_actions) -> status`; the managed position is
/// `slice.position` (never null here).
pub type ManageFn = unsafe extern "C" fn(*mut c_void, *const SliceAbi, *mut ActionListAbi) -> i32;
/// `manage_order(instance, slice, order, out_actions) -> status`: `manage_order` for the
/// working pending entry (the slice shows no position); the actions are
/// [`ACTION_CANCEL_ORDER`] / [`ACTION_MODIFY_ORDER`].
pub type ManageOrderFn =
    unsafe extern "C" fn(*mut c_void, *const SliceAbi, *const OrderAbi, *mut ActionListAbi) -> i32;
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
    pub init: InitFn,
    pub evaluate: EvaluateFn,
    pub manage: ManageFn,
    pub last_error: LastErrorFn,
    pub manage_order: ManageOrderFn,
}

// SAFETY: a descriptor is immutable static data: pointers to static strings and function
// pointers, safe to read from any thread.
unsafe impl Sync for PluginDescriptor {}
// SAFETY: as above; nothing in it is owned or mutated.
unsafe impl Send for PluginDescriptor {}

#[cfg(test)]
mod tests {
    use super::*;

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

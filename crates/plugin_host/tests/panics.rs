//! Panics around a plugin call, on either side of the boundary, and messages a plugin hands
//! out that cannot be trusted: each ends as a `PluginError` (or `STATUS_PANIC` with its
//! message at the C level) naming the function and the payload's text, never as an abort
//! and never as an unwind into the engine.
//!
//! The plugin here is an in-memory descriptor of this build (`PluginDescriptor::of`), called
//! through its C function table exactly as a loaded library's.
#![allow(unsafe_code)] // hand-made descriptors and direct calls through the function table

use omega_plugin_host::{Plugin, PluginError};
use omega_strategy_api::abi::{
    AbiStr, ParamAbi, PluginDescriptor, PluginStrategy, NON_STRING_PANIC, STATUS_ERROR,
    STATUS_PANIC,
};
use omega_strategy_api::{
    BarColumns, DataSlice, Declared, FrameView, IndicatorKey, IndicatorSpec, IndicatorView,
    Instrument, InstrumentId, ParamValue, Position, PositionAction, PriceField, PriceSide,
    RunContext, Side, SliceParts, Strategy, StrategyError, Timeframe, TradeSignal,
};
use std::ffi::c_void;

/// Panics in the function named by the `in` parameter, with the payload named by `payload`.
struct Panicky {
    panic_in: String,
    payload: String,
}

/// The payloads under test: a `&'static str`, a `String` and a non-string value.
const PAYLOADS: [&str; 3] = ["str", "string", "other"];

fn boom(payload: &str, function: &str) -> ! {
    match payload {
        "str" => std::panic::panic_any("a &str payload"),
        "string" => std::panic::panic_any(format!("a String payload in {function}")),
        _ => std::panic::panic_any(42_i32),
    }
}

/// The message the host must report for `payload` thrown in `function`.
fn expected_message(payload: &str, function: &str) -> String {
    match payload {
        "str" => "a &str payload".to_string(),
        "string" => format!("a String payload in {function}"),
        _ => NON_STRING_PANIC.to_string(),
    }
}

impl Panicky {
    fn maybe_panic(&self, function: &str) {
        if self.panic_in == function {
            boom(&self.payload, function);
        }
    }
}

fn sma() -> IndicatorKey {
    IndicatorKey {
        timeframe: Timeframe::M5,
        side: PriceSide::Bid,
        spec: IndicatorSpec::Sma {
            period: 2,
            field: PriceField::Close,
        },
    }
}

impl Strategy for Panicky {
    fn name(&self) -> &str {
        "panicky"
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        self.maybe_panic("init");
        let key = sma();
        ctx.indicator_on(key.timeframe, key.side, key.spec);
        Ok(())
    }
    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        self.maybe_panic("evaluate");
        Ok(None)
    }
    fn manage_position(
        &mut self,
        _position: &Position,
        _slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        self.maybe_panic("manage_position");
        Ok(Vec::new())
    }
}

impl PluginStrategy for Panicky {
    const NAME: &'static str = "panicky";
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        let text = |name: &str| {
            params.iter().find_map(|(n, v)| match v {
                ParamValue::Text(t) if n == name => Some(t.clone()),
                _ => None,
            })
        };
        let strategy = Panicky {
            panic_in: text("in").unwrap_or_default(),
            payload: text("payload").unwrap_or_default(),
        };
        strategy.maybe_panic("create");
        Ok(strategy)
    }
}

static PANICKY: PluginDescriptor = PluginDescriptor::of::<Panicky>();

fn plugin() -> Plugin {
    // SAFETY: a static descriptor of this build.
    unsafe { Plugin::from_descriptor("mem:panicky", &PANICKY) }.unwrap()
}

fn params(function: &str, payload: &str) -> Vec<(String, ParamValue)> {
    vec![
        ("in".to_string(), ParamValue::Text(function.to_string())),
        ("payload".to_string(), ParamValue::Text(payload.to_string())),
    ]
}

const TIME: [i64; 3] = [0, 300, 600];
const CLOSE: [f64; 3] = [1.10, 1.11, 1.12];

fn columns() -> BarColumns<'static> {
    BarColumns {
        time: &TIME,
        bid_open: &CLOSE,
        bid_high: &CLOSE,
        bid_low: &CLOSE,
        bid_close: &CLOSE,
        ask_open: &CLOSE,
        ask_high: &CLOSE,
        ask_low: &CLOSE,
        ask_close: &CLOSE,
        volume: &CLOSE,
    }
}

fn position() -> Position {
    Position {
        side: Side::Long,
        size: 1000.0,
        entry_price: 1.11,
        entry_time: 300,
        entry_index: 1,
        stop_loss: None,
        take_profit: None,
        bars_held: 1,
        mfe: 0.0,
        entry_fee: 0.0,
        max_bars: None,
        unrealized_pnl: 0.0,
        tag: String::new(),
        instrument: InstrumentId(0),
    }
}

/// The engine's start of a run on M5: the keys the strategy declared.
fn start(strategy: &mut impl Strategy) -> Result<Vec<IndicatorKey>, StrategyError> {
    let instrument = Instrument::default();
    let params = Default::default();
    let mut ctx = RunContext::new(&instrument, Timeframe::M5, &[Timeframe::M5], &params);
    strategy.init(&mut ctx)?;
    Ok(ctx
        .declared()
        .iter()
        .map(|d| match d {
            Declared::Builtin(key) => *key,
            Declared::Custom(c) => panic!("unexpected custom {c:?}"),
        })
        .collect())
}

/// Calls `f` with a three-bar M5 slice at its last bar, whose SMA series has `sma_len`
/// values (3 is a consistent slice) and which holds `position`.
fn with_slice<R>(
    sma_len: usize,
    position: Option<&Position>,
    f: impl FnOnce(&DataSlice<'_>) -> R,
) -> R {
    let values = [f64::NAN, 1.105, 1.115];
    let frames = [FrameView {
        timeframe: Timeframe::M5,
        bars: columns(),
    }];
    let indicators = [IndicatorView {
        frame: 0,
        values: &values[..sma_len],
    }];
    let slice = DataSlice::new(SliceParts {
        index: 2,
        primary: Timeframe::M5,
        frames: &frames,
        visible: &[3],
        indicators: &indicators,
        position,
        recorder: None,
        instrument: InstrumentId(0),
        in_session: true,
    });
    f(&slice)
}

#[test]
fn a_panic_in_create_is_a_plugin_error_with_the_payload_s_text() {
    for payload in PAYLOADS {
        let e = plugin().create(&params("create", payload)).unwrap_err();
        assert_eq!(
            e,
            PluginError::Panic {
                strategy: "panicky".into(),
                function: "create",
                message: expected_message(payload, "create"),
            },
            "payload {payload}"
        );
    }
}

#[test]
fn at_the_c_level_a_panic_is_status_panic_with_the_message_in_last_error() {
    for payload in PAYLOADS {
        let given = params("create", payload);
        let abi: Vec<ParamAbi> = given.iter().map(|(n, v)| ParamAbi::new(n, v)).collect();
        let mut instance: *mut c_void = std::ptr::null_mut();
        // SAFETY: `abi` and the strings it borrows live across the call; `instance` is a
        // valid out-parameter; the instance is read once, then destroyed once.
        let (status, message) = unsafe {
            let status = (PANICKY.create)(abi.as_ptr(), abi.len(), &mut instance);
            let message = (PANICKY.last_error)(instance).to_str().unwrap().to_string();
            (PANICKY.destroy)(instance);
            (status, message)
        };
        assert_eq!(status, STATUS_PANIC, "payload {payload}");
        assert_eq!(message, expected_message(payload, "create"));
    }
}

#[test]
fn a_panic_in_a_per_run_or_per_bar_call_stops_the_strategy_with_the_payload_s_text() {
    let held = position();
    for function in ["init", "evaluate", "manage_position"] {
        for payload in PAYLOADS {
            let mut strategy = plugin().create(&params(function, payload)).unwrap();
            // `init` must have run for the per-bar calls (it fixes the run's series).
            let started = start(&mut strategy);
            let call = |s: &mut omega_plugin_host::PluginStrategy| {
                with_slice(3, Some(&held), |slice| match function {
                    "evaluate" => s.evaluate(slice).map(|_| ()),
                    "manage_position" => s.manage_position(&held, slice).map(|_| ()),
                    _ => start(s).map(|_| ()),
                })
            };
            let message = expected_message(payload, function);
            let error = format!("plugin strategy panicky: panic in {function}: {message}");
            if function == "init" {
                assert_eq!(started, Err(StrategyError(error.clone())));
            } else {
                assert_eq!(started, Ok(vec![sma()]));
                assert_eq!(call(&mut strategy), Err(StrategyError(error.clone())));
            }
            // The process is alive, and the instance is not called again (its answer,
            // "unusable after an earlier failure", would replace the message below).
            assert_eq!(call(&mut strategy), Err(StrategyError(error)));
            assert_eq!(
                strategy.take_fault(),
                Some(PluginError::Panic {
                    strategy: "panicky".into(),
                    function,
                    message,
                })
            );
        }
    }
}

#[test]
fn a_series_shorter_than_its_frame_is_refused_by_the_plugin_not_read() {
    let mut strategy = plugin().create(&[]).unwrap();
    assert_eq!(start(&mut strategy), Ok(vec![sma()]));
    // A consistent slice runs.
    assert_eq!(with_slice(3, None, |s| strategy.evaluate(s)), Ok(None));
    // An SMA series shorter than the frame's closed bars (an engine bug): the plugin checks
    // what it is handed and answers with an error, not a read past the end.
    let e = with_slice(1, None, |s| strategy.evaluate(s)).unwrap_err();
    assert_eq!(
        e.0,
        "an indicator series is shorter than its frame's closed bars"
    );
    assert_eq!(strategy.take_fault(), None);
}

// A plugin whose `create` fails and whose error message cannot be trusted.

/// An instance address that is never dereferenced by the fake functions below.
static FAKE_INSTANCE: u8 = 0;

unsafe extern "C" fn failing_create(_: *const ParamAbi, _: usize, out: *mut *mut c_void) -> i32 {
    // SAFETY: `out` is the host's valid out-parameter.
    unsafe {
        *out = std::ptr::addr_of!(FAKE_INSTANCE)
            .cast_mut()
            .cast::<c_void>()
    };
    STATUS_ERROR
}

unsafe extern "C" fn no_destroy(_: *mut c_void) {}

static NOT_UTF8: [u8; 6] = [b'b', b'a', b'd', 0xff, 0xfe, b'!'];

unsafe extern "C" fn not_utf8_error(_: *mut c_void) -> AbiStr {
    AbiStr {
        ptr: NOT_UTF8.as_ptr(),
        len: NOT_UTF8.len(),
    }
}

unsafe extern "C" fn null_error(_: *mut c_void) -> AbiStr {
    AbiStr {
        ptr: std::ptr::null(),
        len: 12,
    }
}

fn failing_plugin(last_error: omega_strategy_api::abi::LastErrorFn) -> Plugin {
    let d = PluginDescriptor {
        create: failing_create,
        destroy: no_destroy,
        last_error,
        ..PluginDescriptor::of::<Panicky>()
    };
    let d: &'static PluginDescriptor = Box::leak(Box::new(d));
    // SAFETY: a whole descriptor of this build; the replaced functions follow the ABI.
    unsafe { Plugin::from_descriptor("mem:failing", d) }.unwrap()
}

#[test]
fn an_error_message_that_is_not_utf8_is_read_lossily() {
    let e = failing_plugin(not_utf8_error).create(&[]).unwrap_err();
    assert_eq!(
        e,
        PluginError::Strategy {
            message: "bad\u{fffd}\u{fffd}!".into()
        }
    );
}

#[test]
fn a_null_error_message_is_said_so_not_read() {
    let e = failing_plugin(null_error).create(&[]).unwrap_err();
    assert_eq!(
        e,
        PluginError::Strategy {
            message: "(the plugin's message is a null pointer with length 12)".into()
        }
    );
}

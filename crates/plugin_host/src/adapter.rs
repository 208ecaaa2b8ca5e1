//! [`PluginStrategy`]: a plugin instance behind the [`Strategy`] trait.
//!
//! Per call the adapter describes the engine's `DataSlice` as a `SliceAbi`: pointers to the
//! closed bars of each configured timeframe and to each declared indicator series (no copy),
//! the position, and a callback for trace values. The frames present and the declared keys
//! are found once per run (at `indicators`), so a call costs a few pointer stores per frame
//! and indicator.
#![allow(unsafe_code)] // calls through the plugin's function table and the trace callback

use crate::PluginError;
use omega_strategy_api::abi::{
    catch_panic, AbiStr, ActionAbi, ColumnsAbi, FrameAbi, IndicatorAbi, IndicatorKeyAbi,
    KeyListAbi, PluginDescriptor, PositionAbi, SignalAbi, SliceAbi, STATUS_ERROR, STATUS_NONE,
    STATUS_PANIC, STATUS_SOME,
};
use omega_strategy_api::{
    DataSlice, IndicatorKey, Position, PositionAction, Strategy, Timeframe, TradeSignal,
};
use std::cell::RefCell;
use std::ffi::c_void;

/// A strategy instance living in a plugin library, driven through its C function table.
#[derive(Debug)]
pub struct PluginStrategy {
    descriptor: &'static PluginDescriptor,
    instance: *mut c_void,
    name: String,
    /// Updated by `indicators`, which takes `&self`.
    run: RefCell<RunLayout>,
    /// Set when the plugin failed; the plugin is never called again.
    fault: RefCell<Option<PluginError>>,
    /// The message `take_error` hands the engine (a plugin error or a fault).
    error: RefCell<Option<String>>,
    frames: Vec<FrameAbi>,
    indicators: Vec<IndicatorAbi>,
}

/// What stays fixed during one run.
#[derive(Debug, Default)]
struct RunLayout {
    /// Declared indicators, sorted and without duplicates (the order of the engine's views).
    keys: Vec<IndicatorKey>,
    key_abis: Vec<IndicatorKeyAbi>,
    /// Configured timeframes, found at the first call of a run.
    timeframes: Option<Vec<Timeframe>>,
}

// SAFETY: the instance is owned by this value alone and only used through `&mut self` or,
// for `indicators`, through `&self` of a type that is not `Sync`; the plugin's strategy type
// is `Send` (required by `abi::PluginStrategy`). The buffers' pointers are only read during
// a call, on the calling thread.
unsafe impl Send for PluginStrategy {}

impl PluginStrategy {
    pub(crate) fn new(
        descriptor: &'static PluginDescriptor,
        instance: *mut c_void,
        name: String,
    ) -> Self {
        PluginStrategy {
            descriptor,
            instance,
            name,
            run: RefCell::default(),
            fault: RefCell::new(None),
            error: RefCell::new(None),
            frames: Vec::new(),
            indicators: Vec::new(),
        }
    }

    /// The failure of the plugin itself (panic, invalid answer) that stopped a run, if any.
    /// An error the strategy reported on purpose is not a fault: it reached the engine as a
    /// strategy error through `take_error`.
    pub fn take_fault(&mut self) -> Option<PluginError> {
        self.fault.get_mut().take()
    }

    fn faulted(&self) -> bool {
        self.fault.borrow().is_some()
    }

    fn fail(&self, fault: PluginError) {
        *self.error.borrow_mut() = Some(fault.to_string());
        *self.fault.borrow_mut() = Some(fault);
    }

    fn protocol(&self, function: &'static str, message: String) {
        self.fail(PluginError::Protocol {
            strategy: self.name.clone(),
            function,
            message,
        });
    }

    /// The plugin's message for its last error.
    fn last_error(&self) -> String {
        // SAFETY: the instance is live; the message stays valid until the next call on it,
        // and it is copied at once.
        unsafe { plugin_message((self.descriptor.last_error)(self.instance)) }
    }

    /// Records a panic on this side of a call (preparing it or reading its answer) as the
    /// fault: every call through the function table runs under `catch_panic`, so nothing
    /// unwinds into the engine, and the plugin is not called again.
    fn host_panic(&self, function: &'static str, message: String) {
        self.fail(PluginError::HostPanic {
            strategy: self.name.clone(),
            function,
            message,
        });
    }

    /// Whether the call filled its out-parameter; on an error or a panic the cause is
    /// recorded for `take_error` and `None` is returned.
    fn settle(&self, function: &'static str, status: i32) -> Option<bool> {
        match status {
            STATUS_NONE => Some(false),
            STATUS_SOME => Some(true),
            STATUS_ERROR => {
                *self.error.borrow_mut() = Some(self.last_error());
                None
            }
            STATUS_PANIC => {
                self.fail(PluginError::Panic {
                    strategy: self.name.clone(),
                    function,
                    message: self.last_error(),
                });
                None
            }
            other => {
                self.protocol(function, format!("unknown status {other}"));
                None
            }
        }
    }

    /// Describes `slice` in the reusable buffers and returns the `SliceAbi` pointing to them.
    fn slice_abi(&mut self, slice: &DataSlice<'_>, position: Option<&PositionAbi>) -> SliceAbi {
        let run = self.run.get_mut();
        let timeframes = run.timeframes.get_or_insert_with(|| {
            Timeframe::ALL
                .into_iter()
                .filter(|&tf| slice.bars(tf).is_some())
                .collect()
        });
        self.frames.clear();
        for &tf in timeframes.iter() {
            if let Some(bars) = slice.bars(tf) {
                // `DataSlice` shows only the closed bars: those are sent (the ABI also takes
                // full columns with a smaller `visible`).
                self.frames.push(FrameAbi {
                    timeframe: tf as u32,
                    visible: bars.len(),
                    bars: ColumnsAbi::from_columns(&bars),
                });
            }
        }
        self.indicators.clear();
        for (key, abi) in run.keys.iter().zip(&run.key_abis) {
            let values = slice.indicator_series(key).unwrap_or(&[]);
            self.indicators.push(IndicatorAbi {
                key: *abi,
                values: values.as_ptr(),
                len: values.len(),
            });
        }
        let tracing = slice.tracing();
        SliceAbi {
            index: slice.index() as u64,
            primary: slice.primary_timeframe() as u32,
            tracing: u32::from(tracing),
            frames: self.frames.as_ptr(),
            n_frames: self.frames.len(),
            indicators: self.indicators.as_ptr(),
            n_indicators: self.indicators.len(),
            position: position.map_or(std::ptr::null(), |p| p as *const PositionAbi),
            record_context: (slice as *const DataSlice<'_>).cast_mut().cast::<c_void>(),
            record: tracing.then_some(record_value as omega_strategy_api::abi::RecordFn),
        }
    }
}

/// A message the plugin hands out (`last_error`), copied without trusting it: bytes that are
/// not UTF-8 are replaced, and a null pointer with a length is said so instead of read.
///
/// # Safety
/// A non-null `s.ptr` must point to `s.len` readable bytes (the plugin's contract).
pub(crate) unsafe fn plugin_message(s: AbiStr) -> String {
    if s.len == 0 {
        return String::new();
    }
    if s.ptr.is_null() {
        return format!(
            "(the plugin's message is a null pointer with length {})",
            s.len
        );
    }
    if s.len > isize::MAX as usize {
        return format!("(the plugin's message has an impossible length {})", s.len);
    }
    // SAFETY: non-null, a possible length, and readable by the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// The trace callback: `context` is the `DataSlice` of the current call.
unsafe extern "C" fn record_value(context: *mut c_void, name: AbiStr, value: f64) {
    // Nothing may unwind into the plugin (a recorder that panics loses the value).
    let _ = catch_panic(|| {
        // SAFETY: `context` is the slice passed to this very call (see `slice_abi`), alive
        // until the plugin returns; the name is valid for the callback's duration.
        let (slice, name) = unsafe { (&*context.cast::<DataSlice<'_>>(), name.to_str()) };
        if let Ok(name) = name {
            slice.record(name, value);
        }
    });
}

impl Strategy for PluginStrategy {
    fn name(&self) -> &str {
        &self.name
    }

    fn indicators(&self, primary: Timeframe) -> Vec<IndicatorKey> {
        if self.faulted() {
            return Vec::new();
        }
        catch_panic(|| self.call_indicators(primary)).unwrap_or_else(|message| {
            self.host_panic("indicators", message);
            Vec::new()
        })
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        if self.faulted() {
            return None;
        }
        catch_panic(|| self.call_evaluate(slice)).unwrap_or_else(|message| {
            self.host_panic("evaluate", message);
            None
        })
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        if self.faulted() {
            return None;
        }
        catch_panic(|| self.call_manage(position, slice)).unwrap_or_else(|message| {
            self.host_panic("manage_position", message);
            None
        })
    }

    fn take_error(&mut self) -> Option<String> {
        self.error.get_mut().take()
    }
}

/// The calls through the function table and the handling of their answers, run under the
/// host's guard by the `Strategy` methods.
impl PluginStrategy {
    fn call_indicators(&self, primary: Timeframe) -> Vec<IndicatorKey> {
        let mut list = KeyListAbi {
            keys: std::ptr::null(),
            len: 0,
        };
        // SAFETY: the instance is live and not in another call (`Self: !Sync`); `list` is a
        // valid out-parameter.
        let status =
            unsafe { (self.descriptor.indicators)(self.instance, primary as u32, &mut list) };
        if self.settle("indicators", status) != Some(true) {
            return Vec::new();
        }
        let abis: &[IndicatorKeyAbi] = if list.len == 0 {
            &[]
        } else if list.keys.is_null() {
            self.protocol("indicators", format!("{} keys at a null pointer", list.len));
            return Vec::new();
        } else {
            // SAFETY: the plugin hands out `len` keys it owns until the next call.
            unsafe { std::slice::from_raw_parts(list.keys, list.len) }
        };
        let keys = match abis.iter().map(IndicatorKeyAbi::to_key).collect() {
            Ok(keys) => keys,
            Err(message) => {
                self.protocol("indicators", message);
                return Vec::new();
            }
        };
        let mut sorted: Vec<IndicatorKey> = keys;
        let declared = sorted.clone();
        sorted.sort();
        sorted.dedup();
        let mut run = self.run.borrow_mut();
        run.key_abis = sorted.iter().map(IndicatorKeyAbi::from_key).collect();
        run.keys = sorted;
        run.timeframes = None; // a new run may configure other timeframes
        declared
    }

    fn call_evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        let position = slice.position().map(PositionAbi::from_position);
        let abi = self.slice_abi(slice, position.as_ref());
        let mut out = SignalAbi::EMPTY;
        // SAFETY: `abi` points into buffers, `position` and `slice`, all alive and unchanged
        // during the call; `out` is a valid out-parameter.
        let status = unsafe { (self.descriptor.evaluate)(self.instance, &abi, &mut out) };
        if self.settle("evaluate", status)? {
            // SAFETY: the tag is owned by the instance until its next call.
            match unsafe { out.to_signal() } {
                Ok(signal) => return Some(signal),
                Err(message) => self.protocol("evaluate", message),
            }
        }
        None
    }

    fn call_manage(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        // The managed position is the slice's (the engine passes the same one).
        let position = PositionAbi::from_position(position);
        let abi = self.slice_abi(slice, Some(&position));
        let mut out = ActionAbi::EMPTY;
        // SAFETY: as in `evaluate`.
        let status = unsafe { (self.descriptor.manage)(self.instance, &abi, &mut out) };
        if self.settle("manage_position", status)? {
            match out.to_action() {
                Ok(action) => return Some(action),
                Err(message) => self.protocol("manage_position", message),
            }
        }
        None
    }
}

impl Drop for PluginStrategy {
    fn drop(&mut self) {
        // SAFETY: the instance came from `create` and is destroyed exactly once; `destroy`
        // catches a panic of the strategy's own `Drop`, and returns nothing to handle here.
        unsafe { (self.descriptor.destroy)(self.instance) };
    }
}

//! The guest side: the `extern "C"` functions a plugin exports, wrapping a [`Strategy`].
//!
//! [`PluginDescriptor::of`] fills the function table with these functions instantiated for
//! one [`PluginStrategy`]. Each decodes the host's arguments (`codec`), calls the strategy
//! under [`catch_panic`] and encodes the answer into the host's out-parameter.
//!
//! Ownership: the host owns everything it passes in, for the duration of the call. The plugin
//! owns what it hands out (indicator keys, a signal's tag, actions, the last error): valid
//! until the next call on the same instance.
//!
//! Indicators: the built-in ones a strategy declares in `init` are computed by the host and
//! cross in each slice; its custom ones ([`CustomIndicator`](crate::CustomIndicator)) live
//! here, each fed the bars of its timeframe as they become visible (once per bar, the same
//! fold as the engine's), so a handle reads either kind the same way. An instance is created by `create` and freed by `destroy`.
//! After a panic the instance is poisoned: the strategy may be half-updated, so it is never
//! called again.
#![allow(unsafe_code)] // the exported functions dereference the host's pointers

use super::codec::{column, text, timeframe};
use super::guest_instance::{create_boxed, destroy_boxed, instance, status_of, UNUSABLE};
use super::panic::catch_panic;
use super::types::*;
use crate::context::{BarFed, Declared, Instrument, InstrumentId, RunContext};
use crate::params::ParamValue;
use crate::signal::{Distance, Position, PositionAction, Side};
use crate::slice::{BarColumns, DataSlice, FrameView, IndicatorView, SliceParts, TraceRecorder};
use crate::strategy::Strategy;
use crate::types::Timeframe;
use crate::ABI_VERSION;
use std::ffi::c_void;

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
            init: init::<T>,
            evaluate: evaluate::<T>,
            manage: manage::<T>,
            last_error: last_error::<T>,
            manage_order: manage_order::<T>,
        }
    }
}

/// Where a handle's values come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The host's series `k` of the slice (the order of the keys `init` returned).
    Host(usize),
    /// This instance's custom series `k`.
    Custom(usize),
}

/// A custom indicator of the current run, fed bar by bar as its timeframe's bars close.
struct GuestCustom {
    timeframe: Timeframe,
    state: Box<dyn BarFed>,
    values: Vec<f64>,
}

/// The plugin side of one strategy instance: the strategy and the buffers whose contents are
/// handed to the host (valid until the next call) or reused per bar (no allocation per bar).
struct Instance<T> {
    strategy: Option<T>,
    /// Set after a panic: the strategy may be half-updated, so it is never called again.
    poisoned: bool,
    error: String,
    keys: Vec<IndicatorKeyAbi>,
    timeframes: Vec<u32>,
    sources: Vec<Source>,
    customs: Vec<GuestCustom>,
    tag: String,
    actions: Vec<ActionAbi>,
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
            timeframes: Vec::new(),
            sources: Vec::new(),
            customs: Vec::new(),
            tag: String::new(),
            actions: Vec::new(),
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
                instrument: InstrumentId(0),
            },
            recorder: TraceRecorder::new(),
        }
    }

    /// Runs `f` on the strategy with panics caught; sets `error` and returns the status for
    /// an error or a panic. `f` returns `Ok(true)` when it filled its out-parameter.
    fn call(&mut self, f: impl FnOnce(&mut Self) -> Result<bool, String>) -> i32 {
        if self.poisoned || self.strategy.is_none() {
            self.error = UNUSABLE.into();
            return STATUS_ERROR;
        }
        let outcome = catch_panic(|| f(self));
        status_of(outcome, &mut self.error, &mut self.poisoned)
    }

    /// `Strategy::init` with the host's context; keeps the declarations' layout.
    ///
    /// # Safety
    /// `ctx` must satisfy the contract of [`ContextAbi`] for the call.
    unsafe fn start_run(&mut self, ctx: &ContextAbi) -> Result<(), String> {
        let primary = timeframe(ctx.primary)?;
        // SAFETY: the host passes `n_timeframes` values and a readable symbol.
        let timeframes = unsafe { column(ctx.timeframes, ctx.n_timeframes) }
            .iter()
            .map(|&tf| timeframe(tf))
            .collect::<Result<Vec<_>, String>>()?;
        // SAFETY: as above.
        let symbol = unsafe { text(ctx.symbol, "instrument symbol") }?.to_string();
        let instrument = Instrument {
            id: InstrumentId(ctx.instrument_id),
            symbol,
            pip_size: ctx.pip_size,
        };
        let strategy = self.strategy.as_mut().expect("checked by `call`");
        let params = strategy.params().cloned().unwrap_or_default();
        let mut run = RunContext::new(&instrument, primary, &timeframes, &params);
        strategy.init(&mut run).map_err(|e| e.0)?;
        let (declared, read) = run.into_parts();
        self.keys.clear();
        self.timeframes.clear();
        self.sources.clear();
        self.customs.clear();
        for d in declared {
            match d {
                Declared::Builtin(key) => {
                    self.sources.push(Source::Host(self.keys.len()));
                    self.keys.push(IndicatorKeyAbi::from_key(&key));
                }
                Declared::Custom(custom) => {
                    let timeframe = custom.timeframe().unwrap_or(primary);
                    self.timeframes.push(timeframe as u32);
                    self.sources.push(Source::Custom(self.customs.len()));
                    self.customs.push(GuestCustom {
                        timeframe,
                        state: custom.instance(),
                        values: Vec::new(),
                    });
                }
            }
        }
        self.timeframes.extend(read.iter().map(|&tf| tf as u32));
        Ok(())
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
        let frame_of = |tf: Timeframe| frames[..n_frames].iter().position(|f| f.timeframe == tf);

        // Custom series catch up with their frames' closed bars (each bar fed once a run).
        for custom in &mut self.customs {
            let k = frame_of(custom.timeframe).ok_or_else(|| {
                format!(
                    "the slice has no {} frame for a custom indicator",
                    custom.timeframe.name()
                )
            })?;
            let bars = frames[k].bars;
            while custom.values.len() < visible[k] {
                let bar = bars.bar(custom.values.len());
                custom.values.push(custom.state.update_bar(&bar));
            }
        }

        // SAFETY: the caller guarantees `n_indicators` entries at `indicators`.
        let host = unsafe { column(abi.indicators, abi.n_indicators) };
        if host.len() != self.keys.len() {
            return Err(format!(
                "{} indicator series for {} declared",
                host.len(),
                self.keys.len()
            ));
        }
        let mut on_stack = [IndicatorView {
            frame: 0,
            values: &[],
        }; STACK_INDICATORS];
        let mut on_heap = Vec::new();
        let views: &mut [IndicatorView<'_>] = if self.sources.len() <= STACK_INDICATORS {
            &mut on_stack[..self.sources.len()]
        } else {
            on_heap.resize(self.sources.len(), on_stack[0]);
            &mut on_heap
        };
        for (view, source) in views.iter_mut().zip(&self.sources) {
            *view = match *source {
                Source::Host(k) => {
                    let ind = host[k];
                    let frame = ind.frame as usize;
                    if frame >= n_frames || ind.len < visible[frame] {
                        return Err(
                            "an indicator series is shorter than its frame's closed bars".into(),
                        );
                    }
                    IndicatorView {
                        frame,
                        // SAFETY: the caller guarantees `len` values at `values`.
                        values: unsafe { column(ind.values, ind.len) },
                    }
                }
                Source::Custom(k) => {
                    let custom = &self.customs[k];
                    IndicatorView {
                        frame: frame_of(custom.timeframe).expect("found above"),
                        values: &custom.values,
                    }
                }
            };
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
            instrument: InstrumentId(abi.instrument),
            in_session: abi.in_session != 0,
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

/// `action` with a distance in multiples of a declared indicator turned into price units
/// (`multiple * value`, as the engine computes it); `None` while that value is NaN (the
/// engine skips such an action, without an event).
pub(super) fn resolved(
    action: PositionAction,
    slice: &DataSlice<'_>,
) -> Result<Option<PositionAction>, String> {
    let resolve = |d: Distance| -> Result<Option<Distance>, String> {
        match d {
            Distance::Atr { handle, multiple } => {
                if handle.index() >= slice.parts().indicators.len() {
                    return Err(format!(
                        "invalid PositionAction: indicator handle {} was not declared in init",
                        handle.0
                    ));
                }
                let distance = multiple * slice.value(handle);
                Ok((!distance.is_nan()).then_some(Distance::Price(distance)))
            }
            other => Ok(Some(other)),
        }
    };
    Ok(match action {
        PositionAction::MoveToBreakEven(d) => resolve(d)?.map(PositionAction::MoveToBreakEven),
        PositionAction::TrailStop(d) => resolve(d)?.map(PositionAction::TrailStop),
        other => Some(other),
    })
}

unsafe extern "C" fn create<T: PluginStrategy>(
    params: *const ParamAbi,
    n_params: usize,
    out: *mut *mut c_void,
) -> i32 {
    // SAFETY: the host's contract for `create`.
    unsafe { create_boxed(params, n_params, out, T::create, Instance::<T>::new) }
}

unsafe extern "C" fn destroy<T: PluginStrategy>(ptr: *mut c_void) {
    // SAFETY: the host destroys an instance from `create::<T>` once.
    unsafe { destroy_boxed::<Instance<T>>(ptr) }
}

unsafe extern "C" fn init<T: PluginStrategy>(
    ptr: *mut c_void,
    ctx: *const ContextAbi,
    out: *mut InitAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    // SAFETY: the host passes a valid context for the duration of the call.
    let status = inst.call(|inst| unsafe { inst.start_run(&*ctx) }.map(|()| true));
    let ok = status == STATUS_SOME;
    // SAFETY: `out` is a valid place for an `InitAbi` (the host's contract).
    unsafe {
        *out = InitAbi {
            keys: inst.keys.as_ptr(),
            n_keys: if ok { inst.keys.len() } else { 0 },
            timeframes: inst.timeframes.as_ptr(),
            n_timeframes: if ok { inst.timeframes.len() } else { 0 },
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
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    inst.call(|inst| {
        // SAFETY: the host passes a valid slice for the duration of the call.
        let signal =
            unsafe { inst.with_slice(&*slice, |s, slice| s.evaluate(slice))? }.map_err(|e| e.0)?;
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
    out: *mut ActionListAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    let status = inst.call(|inst| {
        // SAFETY: the host passes a valid slice for the duration of the call.
        let slice_abi = unsafe { &*slice };
        if slice_abi.position.is_null() {
            return Err("manage called without a position".into());
        }
        // SAFETY: as above; the position was written into `inst.position` by `with_slice`,
        // which the closure reads through the slice (the same value the trait passes).
        let actions = unsafe {
            inst.with_slice(
                slice_abi,
                |s, slice| -> Result<Vec<PositionAction>, String> {
                    let position = slice.position().expect("non-null checked above");
                    let mut actions = Vec::new();
                    for action in s.manage_position(position, slice).map_err(|e| e.0)? {
                        actions.extend(resolved(action, slice)?);
                    }
                    Ok(actions)
                },
            )?
        }?;
        let mut encoded = std::mem::take(&mut inst.actions);
        encoded.clear();
        for action in &actions {
            encoded.push(ActionAbi::from_action(action)?);
        }
        inst.actions = encoded;
        Ok(!inst.actions.is_empty())
    });
    // SAFETY: `out` is a valid place for an `ActionListAbi` (the host's contract).
    unsafe { publish_actions(inst, status, out) }
}

unsafe extern "C" fn manage_order<T: PluginStrategy>(
    ptr: *mut c_void,
    slice: *const SliceAbi,
    order: *const OrderAbi,
    out: *mut ActionListAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    let status = inst.call(|inst| {
        // SAFETY: the host passes a valid order (and its tag) for the duration of the call.
        let order = unsafe { (*order).to_order()? };
        // SAFETY: the host passes a valid slice for the duration of the call.
        let actions = unsafe {
            inst.with_slice(&*slice, |s, slice| {
                s.manage_order(&order, slice).map_err(|e| e.0)
            })?
        }?;
        let mut encoded = std::mem::take(&mut inst.actions);
        encoded.clear();
        encoded.extend(actions.iter().map(ActionAbi::from_order_action));
        inst.actions = encoded;
        Ok(!inst.actions.is_empty())
    });
    // SAFETY: `out` is a valid place for an `ActionListAbi` (the host's contract).
    unsafe { publish_actions(inst, status, out) }
}

/// Hands the instance's encoded actions to the host: all of them when `status` says some,
/// none otherwise (the buffer stays the instance's until its next call).
///
/// # Safety
/// `out` must be a valid place for an `ActionListAbi`.
unsafe fn publish_actions<T>(inst: &Instance<T>, status: i32, out: *mut ActionListAbi) -> i32 {
    let filled = status == STATUS_SOME;
    // SAFETY: the caller's contract.
    unsafe {
        *out = ActionListAbi {
            actions: inst.actions.as_ptr(),
            len: if filled { inst.actions.len() } else { 0 },
        }
    };
    status
}

unsafe extern "C" fn last_error<T: PluginStrategy>(ptr: *mut c_void) -> AbiStr {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    AbiStr::new(&inst.error)
}

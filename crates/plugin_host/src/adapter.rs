//! [`PluginStrategy`]: a plugin instance behind the [`Strategy`] trait.
//!
//! At `init` the adapter hands the run's context to the plugin and declares, in the engine's
//! context, the built-in series the plugin asked for (in its order, so the engine's handles
//! are the plugin's list) and the timeframes its own indicators read. Per call it describes
//! the engine's `DataSlice` as a `SliceAbi`: pointers to every frame's bars with their
//! visible count and to each declared series (no copy), the position, and a callback for
//! trace values; a call costs a few pointer stores per frame and indicator.
#![allow(unsafe_code)] // calls through the plugin's function table and the trace callback

use crate::instance::{guarded, Adapter, PluginInstance};
use crate::PluginError;
use omega_strategy_api::abi::{
    catch_panic, AbiStr, ActionAbi, ActionListAbi, ColumnsAbi, ContextAbi, FrameAbi, IndicatorAbi,
    IndicatorKeyAbi, InitAbi, OrderAbi, PluginDescriptor, PositionAbi, SignalAbi, SliceAbi,
};
use omega_strategy_api::{
    abi::timeframe, DataSlice, OrderAction, Position, PositionAction, RunContext, Strategy,
    StrategyError, TradeSignal, WorkingOrder,
};
use std::ffi::c_void;

/// A strategy instance living in a plugin library, driven through its C function table.
#[derive(Debug)]
pub struct PluginStrategy {
    descriptor: &'static PluginDescriptor,
    instance: PluginInstance,
    frames: Vec<FrameAbi>,
    indicators: Vec<IndicatorAbi>,
}

// SAFETY: the instance is owned by this value alone and only used through `&mut self`; the
// plugin's strategy type is `Send` (required by `abi::PluginStrategy`). The buffers'
// pointers are only read during a call, on the calling thread.
unsafe impl Send for PluginStrategy {}

impl PluginStrategy {
    pub(crate) fn new(
        descriptor: &'static PluginDescriptor,
        instance: *mut c_void,
        name: String,
    ) -> Self {
        PluginStrategy {
            descriptor,
            instance: PluginInstance::new(
                instance,
                descriptor.last_error,
                descriptor.destroy,
                name,
            ),
            frames: Vec::new(),
            indicators: Vec::new(),
        }
    }

    /// The failure of the plugin itself (panic, invalid answer) that stopped a run, if any.
    /// An error the strategy reported on purpose is not a fault: it reached the engine as a
    /// strategy error.
    pub fn take_fault(&mut self) -> Option<PluginError> {
        self.instance.take_fault()
    }

    /// Describes `slice` in the reusable buffers and returns the `SliceAbi` pointing to them.
    fn slice_abi(&mut self, slice: &DataSlice<'_>, position: Option<&PositionAbi>) -> SliceAbi {
        let parts = slice.parts();
        self.frames.clear();
        for (frame, &visible) in parts.frames.iter().zip(parts.visible) {
            self.frames.push(FrameAbi {
                timeframe: frame.timeframe as u32,
                visible,
                bars: ColumnsAbi::from_columns(&frame.bars),
            });
        }
        self.indicators.clear();
        for view in parts.indicators {
            self.indicators.push(IndicatorAbi {
                frame: view.frame as u32,
                values: view.values.as_ptr(),
                len: view.values.len(),
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
            instrument: slice.instrument().0,
            in_session: u32::from(slice.in_session()),
        }
    }
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
        self.instance.name()
    }

    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        guarded(self, "init", |this| this.call_init(ctx))
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        guarded(self, "evaluate", |this| this.call_evaluate(slice))
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        guarded(self, "manage_position", |this| {
            this.call_manage(position, slice)
        })
    }

    fn manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<OrderAction>, StrategyError> {
        guarded(self, "manage_order", |this| {
            this.call_manage_order(order, slice)
        })
    }
}

/// The calls through the function table and the handling of their answers, run under the
/// host's guard by the `Strategy` methods.
impl PluginStrategy {
    fn call_init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        let timeframes: Vec<u32> = ctx.timeframes().iter().map(|&tf| tf as u32).collect();
        let instrument = ctx.instrument();
        let context = ContextAbi {
            primary: ctx.primary_timeframe() as u32,
            instrument_id: instrument.id.0,
            timeframes: timeframes.as_ptr(),
            n_timeframes: timeframes.len(),
            symbol: AbiStr::new(&instrument.symbol),
            pip_size: instrument.pip_size,
        };
        let mut out = InitAbi {
            keys: std::ptr::null(),
            n_keys: 0,
            timeframes: std::ptr::null(),
            n_timeframes: 0,
        };
        // SAFETY: the instance is live and not in another call (`&mut self`); `context`
        // points to buffers alive for the call; `out` is a valid out-parameter.
        let status = unsafe { (self.descriptor.init)(self.instance.ptr(), &context, &mut out) };
        self.instance.settle("init", status)?;
        // SAFETY: the plugin hands out what it owns until its next call (checked non-null).
        let keys: &[IndicatorKeyAbi] = unsafe { owned(out.keys, out.n_keys) }
            .map_err(|m| self.instance.protocol("init", format!("keys: {m}")))?;
        // SAFETY: as above.
        let read: &[u32] = unsafe { owned(out.timeframes, out.n_timeframes) }
            .map_err(|m| self.instance.protocol("init", format!("timeframes: {m}")))?;
        for abi in keys {
            let key = abi
                .to_key()
                .map_err(|m| self.instance.protocol("init", m))?;
            ctx.indicator_on(key.timeframe, key.side, key.spec);
        }
        for &tf in read {
            let tf = timeframe(tf).map_err(|m| self.instance.protocol("init", m))?;
            ctx.read_timeframe(tf);
        }
        Ok(())
    }

    fn call_evaluate(
        &mut self,
        slice: &DataSlice<'_>,
    ) -> Result<Option<TradeSignal>, StrategyError> {
        let position = slice.position().map(PositionAbi::from_position);
        let abi = self.slice_abi(slice, position.as_ref());
        let mut out = SignalAbi::EMPTY;
        // SAFETY: `abi` points into buffers, `position` and `slice`, all alive and unchanged
        // during the call; `out` is a valid out-parameter.
        let status = unsafe { (self.descriptor.evaluate)(self.instance.ptr(), &abi, &mut out) };
        if !self.instance.settle("evaluate", status)? {
            return Ok(None);
        }
        // SAFETY: the tag is owned by the instance until its next call.
        match unsafe { out.to_signal() } {
            Ok(signal) => Ok(Some(signal)),
            Err(message) => Err(self.instance.protocol("evaluate", message)),
        }
    }

    fn call_manage(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        // The managed position is the slice's (the engine passes the same one).
        let position = PositionAbi::from_position(position);
        let abi = self.slice_abi(slice, Some(&position));
        let mut out = ActionListAbi {
            actions: std::ptr::null(),
            len: 0,
        };
        // SAFETY: as in `evaluate`.
        let status = unsafe { (self.descriptor.manage)(self.instance.ptr(), &abi, &mut out) };
        if !self.instance.settle("manage_position", status)? {
            return Ok(Vec::new());
        }
        // SAFETY: the plugin hands out `len` actions it owns until its next call.
        let actions: &[ActionAbi] = unsafe { owned(out.actions, out.len) }
            .map_err(|m| self.instance.protocol("manage_position", m))?;
        actions
            .iter()
            .map(ActionAbi::to_action)
            .collect::<Result<Vec<_>, String>>()
            .map_err(|m| self.instance.protocol("manage_position", m))
    }
}

impl PluginStrategy {
    fn call_manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<OrderAction>, StrategyError> {
        let order = OrderAbi::from_order(order);
        let abi = self.slice_abi(slice, None);
        let mut out = ActionListAbi {
            actions: std::ptr::null(),
            len: 0,
        };
        // SAFETY: as in `evaluate`; `order` and its tag are alive during the call.
        let status =
            unsafe { (self.descriptor.manage_order)(self.instance.ptr(), &abi, &order, &mut out) };
        if !self.instance.settle("manage_order", status)? {
            return Ok(Vec::new());
        }
        // SAFETY: the plugin hands out `len` actions it owns until its next call.
        let actions: &[ActionAbi] = unsafe { owned(out.actions, out.len) }
            .map_err(|m| self.instance.protocol("manage_order", m))?;
        actions
            .iter()
            .map(ActionAbi::to_order_action)
            .collect::<Result<Vec<_>, String>>()
            .map_err(|m| self.instance.protocol("manage_order", m))
    }
}

/// `len` values the plugin hands out at `ptr`; an error for a null pointer with a length.
///
/// # Safety
/// A non-null `ptr` must address `len` values that stay unchanged while the result is used.
pub(crate) unsafe fn owned<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], String> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(format!("{len} values at a null pointer"));
    }
    // SAFETY: forwarded from the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

impl Adapter for PluginStrategy {
    fn instance(&mut self) -> &mut PluginInstance {
        &mut self.instance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omega_strategy_api::abi::PluginStrategy as Exported;
    use omega_strategy_api::abi::STATUS_SOME;
    use omega_strategy_api::ParamValue;

    struct Still;

    impl Strategy for Still {
        fn name(&self) -> &str {
            "still"
        }
        fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
            Ok(())
        }
        fn evaluate(
            &mut self,
            _slice: &DataSlice<'_>,
        ) -> Result<Option<TradeSignal>, StrategyError> {
            Ok(None)
        }
    }

    impl Exported for Still {
        const NAME: &'static str = "still";
        fn create(_params: &[(String, ParamValue)]) -> Result<Self, String> {
            Ok(Still)
        }
    }

    static STILL: PluginDescriptor = PluginDescriptor::of::<Still>();

    #[test]
    fn a_panic_on_the_host_side_is_a_host_panic_fault_and_the_plugin_is_not_called_again() {
        let mut instance: *mut c_void = std::ptr::null_mut();
        // SAFETY: no parameters; `instance` is a valid out-parameter, destroyed by `Drop`.
        let status = unsafe { (STILL.create)(std::ptr::null(), 0, &mut instance) };
        assert_eq!(status, STATUS_SOME);
        let mut strategy = PluginStrategy::new(&STILL, instance, "still".into());
        // A bug on this side of a call (describing a slice, reading an answer).
        let error = guarded(
            &mut strategy,
            "evaluate",
            |_| -> Result<(), StrategyError> { panic!("host bug") },
        )
        .unwrap_err();
        assert_eq!(
            error.0,
            "plugin strategy still: the host panicked around evaluate: host bug"
        );
        let mut called = false;
        let again = guarded(&mut strategy, "manage_position", |_| {
            called = true;
            Ok(())
        });
        assert!(!called, "a faulted plugin is not called again");
        assert_eq!(again.unwrap_err(), error);
        assert!(matches!(
            strategy.take_fault(),
            Some(PluginError::HostPanic {
                function: "evaluate",
                ..
            })
        ));
    }
}

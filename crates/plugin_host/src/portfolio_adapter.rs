//! [`PluginPortfolio`]: a portfolio plugin instance behind the [`PortfolioStrategy`] trait.
//!
//! At `init` the adapter hands the basket to the plugin and replays its declarations in the
//! engine's `BasketContext`, in its order (so the engine's basket handles are the plugin's).
//! Per call it describes the engine's `BasketSlice` as a `BasketSliceAbi`: each member's
//! slice as a `SliceAbi` (pointers to its frames' bars and its series, no copy), its
//! position and whether a bar closes now, and the handles. The guards are `instance`'s,
//! shared with `adapter`: a panic on either side, an error or an answer the ABI does not
//! allow stops the run with a [`PluginError`] kept for the caller
//! ([`PluginPortfolio::take_fault`]).
#![allow(unsafe_code)] // calls through the plugin's function table

use crate::adapter::owned;
use crate::instance::{guarded, Adapter, PluginInstance};
use crate::PluginError;
use omega_strategy_api::abi::{
    AbiStr, ActionAbi, ActionListAbi, BasketContextAbi, BasketHandleAbi, BasketInitAbi,
    BasketMemberAbi, BasketRequestAbi, BasketSliceAbi, ColumnsAbi, FrameAbi, IndicatorAbi,
    MemberSignalAbi, PortfolioPluginDescriptor, PositionAbi, SignalListAbi, SliceAbi,
};
use omega_strategy_api::{
    BasketContext, BasketSlice, PortfolioStrategy, Position, PositionAction, StrategyError,
    TradeSignal,
};
use std::ffi::c_void;

/// A portfolio strategy instance living in a plugin library.
#[derive(Debug)]
pub struct PluginPortfolio {
    descriptor: &'static PortfolioPluginDescriptor,
    instance: PluginInstance,
    /// The basket's size, set by `init`.
    n_members: usize,
    /// Every member's frames and series, one after the other (reused per call).
    frames: Vec<FrameAbi>,
    indicators: Vec<IndicatorAbi>,
    members: Vec<BasketMemberAbi>,
    handles: Vec<BasketHandleAbi>,
}

// SAFETY: the instance is owned by this value alone and only used through `&mut self`; the
// plugin's strategy type is `Send` (required by `abi::PluginPortfolioStrategy`). The
// buffers' pointers are only read during a call, on the calling thread.
unsafe impl Send for PluginPortfolio {}

/// A member without a slice: nothing in it is read.
const NO_SLICE: SliceAbi = SliceAbi {
    index: 0,
    primary: 0,
    tracing: 0,
    frames: std::ptr::null(),
    n_frames: 0,
    indicators: std::ptr::null(),
    n_indicators: 0,
    position: std::ptr::null(),
    record_context: std::ptr::null_mut(),
    record: None,
    instrument: 0,
    in_session: 0,
};

/// A member without a position: nothing in it is read.
const NO_POSITION: PositionAbi = PositionAbi {
    side: 0,
    flags: 0,
    size: 0.0,
    entry_price: 0.0,
    entry_time: 0,
    entry_index: 0,
    stop_loss: 0.0,
    take_profit: 0.0,
    bars_held: 0,
    max_bars: 0,
    mfe: 0.0,
    entry_fee: 0.0,
    unrealized_pnl: 0.0,
    tag: AbiStr {
        ptr: std::ptr::null(),
        len: 0,
    },
    instrument: 0,
};

impl PluginPortfolio {
    pub(crate) fn new(
        descriptor: &'static PortfolioPluginDescriptor,
        instance: *mut c_void,
        name: String,
    ) -> Self {
        PluginPortfolio {
            descriptor,
            instance: PluginInstance::new(
                instance,
                descriptor.last_error,
                descriptor.destroy,
                name,
            ),
            n_members: 0,
            frames: Vec::new(),
            indicators: Vec::new(),
            members: Vec::new(),
            handles: Vec::new(),
        }
    }

    /// The failure of the plugin itself (panic, invalid answer) that stopped a run, if any;
    /// an error the strategy reported on purpose is not a fault.
    pub fn take_fault(&mut self) -> Option<PluginError> {
        self.instance.take_fault()
    }

    /// Describes `basket` in the reusable buffers and returns the `BasketSliceAbi` pointing
    /// to them (and to the engine's columns, series and positions).
    fn basket_abi(&mut self, basket: &BasketSlice<'_>) -> BasketSliceAbi {
        // Every member's frames and series first: the buffers do not move afterwards.
        self.frames.clear();
        self.indicators.clear();
        let mut spans = Vec::with_capacity(basket.members.len());
        for member in basket.members {
            let Some(slice) = &member.slice else {
                spans.push(None);
                continue;
            };
            let parts = slice.parts();
            let (f0, i0) = (self.frames.len(), self.indicators.len());
            for (frame, &visible) in parts.frames.iter().zip(parts.visible) {
                self.frames.push(FrameAbi {
                    timeframe: frame.timeframe as u32,
                    visible,
                    bars: ColumnsAbi::from_columns(&frame.bars),
                });
            }
            for view in parts.indicators {
                self.indicators.push(IndicatorAbi {
                    frame: view.frame as u32,
                    values: view.values.as_ptr(),
                    len: view.values.len(),
                });
            }
            spans.push(Some((f0..self.frames.len(), i0..self.indicators.len())));
        }
        self.members.clear();
        for (member, span) in basket.members.iter().zip(spans) {
            let slice = match (&member.slice, span) {
                (Some(slice), Some((frames, indicators))) => SliceAbi {
                    index: slice.index() as u64,
                    primary: slice.primary_timeframe() as u32,
                    tracing: 0,
                    n_frames: frames.len(),
                    frames: self.frames[frames].as_ptr(),
                    n_indicators: indicators.len(),
                    indicators: self.indicators[indicators].as_ptr(),
                    position: std::ptr::null(),
                    record_context: std::ptr::null_mut(),
                    record: None,
                    instrument: slice.instrument().0,
                    in_session: u32::from(slice.in_session()),
                },
                _ => NO_SLICE,
            };
            self.members.push(BasketMemberAbi {
                has_slice: u32::from(member.slice.is_some()),
                has_bar: u32::from(member.has_bar),
                has_position: u32::from(member.position.is_some()),
                reserved: 0,
                slice,
                position: member
                    .position
                    .map_or(NO_POSITION, PositionAbi::from_position),
            });
        }
        self.handles.clear();
        self.handles.extend(
            basket
                .handles
                .iter()
                .map(|&(member, local)| BasketHandleAbi {
                    member: member as u32,
                    local: local.0,
                }),
        );
        BasketSliceAbi {
            time: basket.time,
            members: self.members.as_ptr(),
            n_members: self.members.len(),
            handles: self.handles.as_ptr(),
            n_handles: self.handles.len(),
        }
    }
}

impl PortfolioStrategy for PluginPortfolio {
    fn name(&self) -> &str {
        self.instance.name()
    }

    fn init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        guarded(self, "init", |this| this.call_init(ctx))
    }

    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        guarded(self, "evaluate", |this| this.call_evaluate(basket))
    }

    fn manage_position(
        &mut self,
        member: usize,
        position: &Position,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        guarded(self, "manage_position", |this| {
            this.call_manage(member, position, basket)
        })
    }
}

/// The calls through the function table and the handling of their answers.
impl PluginPortfolio {
    fn call_init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        let n = ctx.symbols.len();
        if ctx.pip_sizes.len() != n {
            return Err(StrategyError(format!(
                "portfolio {}: {} pip sizes for {n} symbols",
                self.instance.name(),
                ctx.pip_sizes.len()
            )));
        }
        let symbols: Vec<AbiStr> = ctx.symbols.iter().map(|s| AbiStr::new(s)).collect();
        let timeframes: Vec<u32> = ctx.timeframes.iter().map(|&tf| tf as u32).collect();
        let context = BasketContextAbi {
            n_members: n,
            symbols: symbols.as_ptr(),
            pip_sizes: ctx.pip_sizes.as_ptr(),
            primary: ctx.primary as u32,
            reserved: 0,
            timeframes: timeframes.as_ptr(),
            n_timeframes: timeframes.len(),
        };
        let mut out = BasketInitAbi {
            requests: std::ptr::null(),
            n_requests: 0,
        };
        // SAFETY: the instance is live and not in another call (`&mut self`); `context`
        // points to buffers alive for the call; `out` is a valid out-parameter.
        let status = unsafe { (self.descriptor.init)(self.instance.ptr(), &context, &mut out) };
        self.instance.settle("init", status)?;
        // SAFETY: the plugin hands out what it owns until its next call (checked non-null).
        let requests: &[BasketRequestAbi] = unsafe { owned(out.requests, out.n_requests) }
            .map_err(|m| self.instance.protocol("init", format!("requests: {m}")))?;
        for request in requests {
            let member = request.member as usize;
            if member >= n {
                let message = format!("an indicator declared on member {member} of {n}");
                return Err(self.instance.protocol("init", message));
            }
            let key = request
                .key
                .to_key()
                .map_err(|m| self.instance.protocol("init", m))?;
            ctx.indicator_on(member, key.timeframe, key.side, key.spec);
        }
        self.n_members = n;
        Ok(())
    }

    fn call_evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        let abi = self.basket_abi(basket);
        let mut out = SignalListAbi {
            signals: std::ptr::null(),
            len: 0,
        };
        // SAFETY: `abi` points into the buffers and the engine's basket, all alive and
        // unchanged during the call; `out` is a valid out-parameter.
        let status = unsafe { (self.descriptor.evaluate)(self.instance.ptr(), &abi, &mut out) };
        if !self.instance.settle("evaluate", status)? {
            return Ok(Vec::new());
        }
        // SAFETY: the plugin hands out `len` signals (and their tags) it owns until its
        // next call.
        let signals: &[MemberSignalAbi] = unsafe { owned(out.signals, out.len) }
            .map_err(|m| self.instance.protocol("evaluate", m))?;
        let mut decoded = Vec::with_capacity(signals.len());
        for s in signals {
            let member = s.member as usize;
            if member >= self.n_members {
                let message = format!(
                    "a signal for member {member} in a basket of {}",
                    self.n_members
                );
                return Err(self.instance.protocol("evaluate", message));
            }
            // SAFETY: as above, the tag is the plugin's until its next call.
            let signal = unsafe { s.signal.to_signal() }
                .map_err(|m| self.instance.protocol("evaluate", m))?;
            decoded.push((member, signal));
        }
        Ok(decoded)
    }

    fn call_manage(
        &mut self,
        member: usize,
        position: &Position,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let Ok(index) = u32::try_from(member) else {
            return Err(StrategyError(format!(
                "portfolio {}: member {member}",
                self.instance.name()
            )));
        };
        let position = PositionAbi::from_position(position);
        let abi = self.basket_abi(basket);
        let mut out = ActionListAbi {
            actions: std::ptr::null(),
            len: 0,
        };
        // SAFETY: as in `evaluate`; `position` and its tag are alive during the call.
        let status = unsafe {
            (self.descriptor.manage)(self.instance.ptr(), index, &position, &abi, &mut out)
        };
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

impl Adapter for PluginPortfolio {
    fn instance(&mut self) -> &mut PluginInstance {
        &mut self.instance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omega_strategy_api::abi::PluginPortfolioStrategy;
    use omega_strategy_api::abi::STATUS_SOME;
    use omega_strategy_api::ParamValue;

    struct Idle;

    impl PortfolioStrategy for Idle {
        fn name(&self) -> &str {
            "idle"
        }
        fn init(&mut self, _ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
            Ok(())
        }
        fn evaluate(
            &mut self,
            _basket: &BasketSlice<'_>,
        ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
            Ok(Vec::new())
        }
    }

    impl PluginPortfolioStrategy for Idle {
        const NAME: &'static str = "idle";
        fn create(_params: &[(String, ParamValue)]) -> Result<Self, String> {
            Ok(Idle)
        }
    }

    static IDLE: PortfolioPluginDescriptor = PortfolioPluginDescriptor::of::<Idle>();

    #[test]
    fn a_panic_on_the_host_side_is_a_host_panic_fault_and_the_plugin_is_not_called_again() {
        let mut instance: *mut c_void = std::ptr::null_mut();
        // SAFETY: no parameters; `instance` is a valid out-parameter, destroyed by `Drop`.
        let status = unsafe { (IDLE.create)(std::ptr::null(), 0, &mut instance) };
        assert_eq!(status, STATUS_SOME);
        let mut portfolio = PluginPortfolio::new(&IDLE, instance, "idle".into());
        let error = guarded(
            &mut portfolio,
            "evaluate",
            |_| -> Result<(), StrategyError> { panic!("host bug") },
        )
        .unwrap_err();
        assert_eq!(
            error.0,
            "plugin strategy idle: the host panicked around evaluate: host bug"
        );
        let mut called = false;
        let again = guarded(&mut portfolio, "manage_position", |_| {
            called = true;
            Ok(())
        });
        assert!(!called, "a faulted plugin is not called again");
        assert_eq!(again.unwrap_err(), error);
        assert!(matches!(
            portfolio.take_fault(),
            Some(PluginError::HostPanic {
                function: "evaluate",
                ..
            })
        ));
    }
}

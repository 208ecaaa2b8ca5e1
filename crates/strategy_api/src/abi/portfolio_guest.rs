//! The guest side of a portfolio plugin: the `extern "C"` functions it exports, wrapping a
//! [`PortfolioStrategy`].
//!
//! [`PortfolioPluginDescriptor::of`] fills the function table with these functions
//! instantiated for one [`PluginPortfolioStrategy`]. As in `guest`, each decodes the host's
//! arguments, calls the strategy under [`catch_panic`] and encodes the answer; ownership is
//! the same (the host's inputs for the call, the plugin's outputs until its next call on the
//! instance), and a panic poisons the instance.
//!
//! Each call rebuilds the [`BasketSlice`]: every member's `DataSlice` from its `SliceAbi`
//! (pointers to the host's columns and series, no copy of a bar) and the basket's
//! positions. A portfolio declares built-in indicators only, so every series comes from the
//! host.
#![allow(unsafe_code)] // the exported functions dereference the host's pointers

use super::codec::{column, text, timeframe};
use super::guest::resolved;
use super::guest_instance::{create_boxed, destroy_boxed, instance, status_of, UNUSABLE};
use super::panic::catch_panic;
use super::portfolio_types::*;
use super::types::*;
use crate::context::InstrumentId;
use crate::indicator_spec::IndicatorKey;
use crate::params::ParamValue;
use crate::portfolio::{BasketContext, BasketMemberView, BasketSlice, PortfolioStrategy};
use crate::signal::{Position, PositionAction, Side, TradeSignal};
use crate::slice::{DataSlice, FrameView, IndicatorView, SliceParts};
use crate::types::Timeframe;
use crate::{IndicatorHandle, ABI_VERSION};
use std::ffi::c_void;

/// A portfolio strategy a plugin exports: a [`PortfolioStrategy`] that can be built from
/// user parameters.
pub trait PluginPortfolioStrategy: PortfolioStrategy + Send + Sized + 'static {
    /// The name the host reports (usually the same as `PortfolioStrategy::name`).
    const NAME: &'static str;
    /// Builds the strategy from user parameters (validate them with [`crate::validate`]); an
    /// `Err` message reaches the user as a strategy error.
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String>;
}

impl PortfolioPluginDescriptor {
    /// The descriptor of `T` (used by
    /// [`export_portfolio_strategy!`](crate::export_portfolio_strategy)).
    pub const fn of<T: PluginPortfolioStrategy>() -> PortfolioPluginDescriptor {
        PortfolioPluginDescriptor {
            abi_version: ABI_VERSION,
            sizes: PortfolioAbiSizes::CURRENT,
            name: AbiStr::new(T::NAME),
            api_version: AbiStr::new(crate::API_VERSION),
            create: create::<T>,
            destroy: destroy::<T>,
            init: init::<T>,
            evaluate: evaluate::<T>,
            manage: manage::<T>,
            last_error: last_error::<T>,
        }
    }
}

/// The plugin side of one portfolio instance: the strategy and the buffers handed to the
/// host (valid until the next call).
struct Instance<T> {
    strategy: Option<T>,
    /// Set after a panic: the strategy may be half-updated, so it is never called again.
    poisoned: bool,
    error: String,
    /// The basket's size, set by `init`: every basket the host passes has it.
    n_members: usize,
    requests: Vec<BasketRequestAbi>,
    /// The last signals (their tags are borrowed by `encoded`).
    signals: Vec<(usize, TradeSignal)>,
    encoded: Vec<MemberSignalAbi>,
    actions: Vec<ActionAbi>,
}

impl<T: PluginPortfolioStrategy> Instance<T> {
    fn new(strategy: Option<T>, error: String) -> Self {
        Instance {
            strategy,
            poisoned: false,
            error,
            n_members: 0,
            requests: Vec::new(),
            signals: Vec::new(),
            encoded: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Runs `f` with panics caught, as `guest::Instance::call`.
    fn call(&mut self, f: impl FnOnce(&mut Self) -> Result<bool, String>) -> i32 {
        if self.poisoned || self.strategy.is_none() {
            self.error = UNUSABLE.into();
            return STATUS_ERROR;
        }
        let outcome = catch_panic(|| f(self));
        status_of(outcome, &mut self.error, &mut self.poisoned)
    }

    /// `PortfolioStrategy::init` with the host's basket; keeps the declarations.
    ///
    /// # Safety
    /// `ctx` must satisfy the contract of [`BasketContextAbi`] for the call.
    unsafe fn start_run(&mut self, ctx: &BasketContextAbi) -> Result<(), String> {
        let primary = timeframe(ctx.primary)?;
        // SAFETY: the host passes `n_timeframes` values, `n_members` symbols (readable
        // strings) and pip sizes.
        let (timeframes, symbols, pips) = unsafe {
            (
                column(ctx.timeframes, ctx.n_timeframes),
                column(ctx.symbols, ctx.n_members),
                column(ctx.pip_sizes, ctx.n_members),
            )
        };
        let timeframes = timeframes
            .iter()
            .map(|&tf| timeframe(tf))
            .collect::<Result<Vec<_>, String>>()?;
        let symbols = symbols
            .iter()
            // SAFETY: as above.
            .map(|&s| unsafe { text(s, "member symbol") }.map(str::to_string))
            .collect::<Result<Vec<_>, String>>()?;
        let mut basket = BasketContext::new(&symbols, pips, primary, &timeframes);
        let strategy = self.strategy.as_mut().expect("checked by `call`");
        strategy.init(&mut basket).map_err(|e| e.0)?;
        self.requests.clear();
        for &(member, timeframe, side, spec) in basket.requests() {
            self.requests.push(BasketRequestAbi {
                member: u32::try_from(member)
                    .map_err(|_| format!("an indicator declared on member {member}"))?,
                reserved: 0,
                key: IndicatorKeyAbi::from_key(&IndicatorKey {
                    timeframe,
                    side,
                    spec,
                }),
            });
        }
        self.n_members = symbols.len();
        Ok(())
    }
}

/// One member's slice, decoded: the storage its `DataSlice` borrows.
struct MemberParts<'a> {
    index: usize,
    primary: Timeframe,
    instrument: InstrumentId,
    in_session: bool,
    frames: Vec<FrameView<'a>>,
    visible: Vec<usize>,
    indicators: Vec<IndicatorView<'a>>,
}

impl MemberParts<'_> {
    fn slice(&self) -> DataSlice<'_> {
        DataSlice::new(SliceParts {
            index: self.index,
            primary: self.primary,
            frames: &self.frames,
            visible: &self.visible,
            indicators: &self.indicators,
            instrument: self.instrument,
            position: None,
            recorder: None,
            in_session: self.in_session,
        })
    }
}

/// The parts of the slice `abi` describes, checked as `guest` checks a single slice
/// (visible counts within their frames, series at least as long as their frame's count).
///
/// # Safety
/// `abi` must satisfy the contract of [`SliceAbi`] for `'a`.
unsafe fn member_parts<'a>(abi: &SliceAbi) -> Result<MemberParts<'a>, String> {
    // SAFETY: the caller guarantees `n_frames` frames at `frames`.
    let frames_abi = unsafe { column(abi.frames, abi.n_frames) };
    if frames_abi.len() > Timeframe::ALL.len() {
        return Err(format!("{} frames", frames_abi.len()));
    }
    let mut frames = Vec::with_capacity(frames_abi.len());
    let mut visible = Vec::with_capacity(frames_abi.len());
    for f in frames_abi {
        if f.visible > f.bars.len {
            return Err(format!("visible {} > {} bars", f.visible, f.bars.len));
        }
        frames.push(FrameView {
            timeframe: timeframe(f.timeframe)?,
            // SAFETY: the caller guarantees the columns of every frame.
            bars: unsafe { f.bars.to_columns() },
        });
        visible.push(f.visible);
    }
    // SAFETY: the caller guarantees `n_indicators` entries at `indicators`.
    let series = unsafe { column(abi.indicators, abi.n_indicators) };
    let mut indicators = Vec::with_capacity(series.len());
    for ind in series {
        let frame = ind.frame as usize;
        if frame >= frames.len() || ind.len < visible[frame] {
            return Err("an indicator series is shorter than its frame's closed bars".into());
        }
        indicators.push(IndicatorView {
            frame,
            // SAFETY: the caller guarantees `len` values at `values`.
            values: unsafe { column(ind.values, ind.len) },
        });
    }
    Ok(MemberParts {
        index: usize::try_from(abi.index).map_err(|e| e.to_string())?,
        primary: timeframe(abi.primary)?,
        instrument: InstrumentId(abi.instrument),
        in_session: abi.in_session != 0,
        frames,
        visible,
        indicators,
    })
}

/// A position to overwrite with [`PositionAbi::write_to`].
fn blank_position() -> Position {
    Position {
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
    }
}

/// Calls `f` with the basket `abi` describes, which must have `n_members` members (the
/// basket `init` saw).
///
/// # Safety
/// `abi` must satisfy the contract of [`BasketSliceAbi`]: valid pointers and counts (each
/// member's slice when `has_slice`, its position's tag when `has_position`) for the call.
unsafe fn with_basket<R>(
    abi: &BasketSliceAbi,
    n_members: usize,
    f: impl FnOnce(&BasketSlice<'_>) -> R,
) -> Result<R, String> {
    if abi.n_members != n_members {
        return Err(format!(
            "a basket of {} members for the {n_members} of init",
            abi.n_members
        ));
    }
    // SAFETY: the caller guarantees `n_members` members and `n_handles` handles.
    let (members_abi, handles_abi) = unsafe {
        (
            column(abi.members, abi.n_members),
            column(abi.handles, abi.n_handles),
        )
    };
    let mut parts = Vec::with_capacity(n_members);
    let mut positions = Vec::with_capacity(n_members);
    for (k, m) in members_abi.iter().enumerate() {
        let with_member = |e: String| format!("member {k}: {e}");
        parts.push(if m.has_slice != 0 {
            // SAFETY: the caller guarantees a valid slice with `has_slice`.
            Some(unsafe { member_parts(&m.slice) }.map_err(with_member)?)
        } else {
            None
        });
        positions.push(if m.has_position != 0 {
            let mut position = blank_position();
            // SAFETY: the caller guarantees a readable tag with `has_position`.
            unsafe { m.position.write_to(&mut position) }.map_err(with_member)?;
            Some(position)
        } else {
            None
        });
    }
    let mut handles = Vec::with_capacity(handles_abi.len());
    for (h, handle) in handles_abi.iter().enumerate() {
        let member = handle.member as usize;
        let declared = parts
            .get(member)
            .map(|p| p.as_ref().map_or(usize::MAX, |p| p.indicators.len()));
        match declared {
            Some(n) if (handle.local as usize) < n => {}
            _ => {
                return Err(format!(
                    "basket handle {h} reads series {} of member {member}, which has none such",
                    handle.local
                ))
            }
        }
        handles.push((member, IndicatorHandle(handle.local)));
    }
    let views: Vec<BasketMemberView<'_>> = members_abi
        .iter()
        .zip(&parts)
        .zip(&positions)
        .map(|((m, part), position)| BasketMemberView {
            slice: part.as_ref().map(MemberParts::slice),
            has_bar: m.has_bar != 0,
            position: position.as_ref(),
        })
        .collect();
    Ok(f(&BasketSlice {
        time: abi.time,
        members: &views,
        handles: &handles,
    }))
}

unsafe extern "C" fn create<T: PluginPortfolioStrategy>(
    params: *const ParamAbi,
    n_params: usize,
    out: *mut *mut c_void,
) -> i32 {
    // SAFETY: the host's contract for `create`.
    unsafe { create_boxed(params, n_params, out, T::create, Instance::<T>::new) }
}

unsafe extern "C" fn destroy<T: PluginPortfolioStrategy>(ptr: *mut c_void) {
    // SAFETY: the host destroys an instance from `create::<T>` once.
    unsafe { destroy_boxed::<Instance<T>>(ptr) }
}

unsafe extern "C" fn init<T: PluginPortfolioStrategy>(
    ptr: *mut c_void,
    ctx: *const BasketContextAbi,
    out: *mut BasketInitAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    // SAFETY: the host passes a valid context for the duration of the call.
    let status = inst.call(|inst| unsafe { inst.start_run(&*ctx) }.map(|()| true));
    let ok = status == STATUS_SOME;
    // SAFETY: `out` is a valid place for a `BasketInitAbi` (the host's contract).
    unsafe {
        *out = BasketInitAbi {
            requests: inst.requests.as_ptr(),
            n_requests: if ok { inst.requests.len() } else { 0 },
        }
    };
    status
}

unsafe extern "C" fn evaluate<T: PluginPortfolioStrategy>(
    ptr: *mut c_void,
    basket: *const BasketSliceAbi,
    out: *mut SignalListAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    let status = inst.call(|inst| {
        let strategy = inst.strategy.as_mut().expect("checked by `call`");
        // SAFETY: the host passes a valid basket for the duration of the call.
        inst.signals = unsafe { with_basket(&*basket, inst.n_members, |b| strategy.evaluate(b)) }?
            .map_err(|e| e.0)?;
        inst.encoded.clear();
        for (member, signal) in &inst.signals {
            inst.encoded.push(MemberSignalAbi {
                member: u32::try_from(*member)
                    .map_err(|_| format!("a signal for member {member}"))?,
                reserved: 0,
                // borrows the tag of `inst.signals`, kept until the next call
                signal: SignalAbi::from_signal(signal),
            });
        }
        Ok(!inst.encoded.is_empty())
    });
    let filled = status == STATUS_SOME;
    // SAFETY: `out` is a valid place for a `SignalListAbi` (the host's contract).
    unsafe {
        *out = SignalListAbi {
            signals: inst.encoded.as_ptr(),
            len: if filled { inst.encoded.len() } else { 0 },
        }
    };
    status
}

unsafe extern "C" fn manage<T: PluginPortfolioStrategy>(
    ptr: *mut c_void,
    member: u32,
    position: *const PositionAbi,
    basket: *const BasketSliceAbi,
    out: *mut ActionListAbi,
) -> i32 {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    let status = inst.call(|inst| {
        let member = member as usize;
        if member >= inst.n_members {
            return Err(format!(
                "manage_position of member {member} in a basket of {}",
                inst.n_members
            ));
        }
        let mut held = blank_position();
        // SAFETY: the host passes a valid position (and its tag) for the call.
        unsafe { (*position).write_to(&mut held) }?;
        let strategy = inst.strategy.as_mut().expect("checked by `call`");
        // SAFETY: the host passes a valid basket for the duration of the call.
        let actions = unsafe {
            with_basket(&*basket, inst.n_members, |b| -> Result<_, String> {
                let mut actions: Vec<PositionAction> = Vec::new();
                for action in strategy
                    .manage_position(member, &held, b)
                    .map_err(|e| e.0)?
                {
                    // A distance in multiples of an indicator reads the member's own
                    // handle, as the engine's management of that member does.
                    match b.slice(member) {
                        Some(slice) => actions.extend(resolved(action, slice)?),
                        None => actions.push(action),
                    }
                }
                Ok(actions)
            })
        }??;
        inst.actions.clear();
        for action in &actions {
            inst.actions.push(ActionAbi::from_action(action)?);
        }
        Ok(!inst.actions.is_empty())
    });
    let filled = status == STATUS_SOME;
    // SAFETY: `out` is a valid place for an `ActionListAbi` (the host's contract).
    unsafe {
        *out = ActionListAbi {
            actions: inst.actions.as_ptr(),
            len: if filled { inst.actions.len() } else { 0 },
        }
    };
    status
}

unsafe extern "C" fn last_error<T: PluginPortfolioStrategy>(ptr: *mut c_void) -> AbiStr {
    // SAFETY: the host's contract for every call on an instance.
    let inst = unsafe { instance::<Instance<T>>(ptr) };
    AbiStr::new(&inst.error)
}

//! The `#[repr(C)]` types of the portfolio plugin ABI: one [`PortfolioStrategy`] over a
//! whole basket, exported with [`export_portfolio_strategy!`](crate::export_portfolio_strategy).
//!
//! A portfolio plugin exports [`PORTFOLIO_PLUGIN_SYMBOL`] (never [`PLUGIN_SYMBOL`]: a library
//! is one kind or the other) returning a `'static` [`PortfolioPluginDescriptor`]. It reuses
//! the single-strategy boundary types where the API does: each member's view is a
//! [`SliceAbi`] (its bars and indicators, no position: the basket's positions cross
//! separately as [`PositionAbi`]s), the indicator declarations are [`IndicatorKeyAbi`]s with
//! their member, signals are [`SignalAbi`]s with their member, actions an [`ActionListAbi`].
//! Parameters, `create`, `destroy` and `last_error` are those of the single ABI.
//!
//! The version is [`ABI_VERSION`](crate::ABI_VERSION), shared with the single ABI: a change
//! of layout here bumps it and both symbols.
//!
//! [`PortfolioStrategy`]: crate::PortfolioStrategy
#![allow(unsafe_code)] // the `Send`/`Sync` of the static descriptor

use super::types::*;
use std::ffi::c_void;

/// Name of the one symbol a portfolio plugin exports (a `extern "C" fn() -> *const
/// PortfolioPluginDescriptor`); it ends in the ABI version it was built for.
pub const PORTFOLIO_PLUGIN_SYMBOL: &str = "omega_portfolio_plugin_v3";

/// The basket as the host describes it to `init` (`BasketContext`): member `k` is
/// instrument id `k`, with `symbols[k]` and `pip_sizes[k]`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BasketContextAbi {
    pub n_members: usize,
    pub symbols: *const AbiStr,
    pub pip_sizes: *const f64,
    pub primary: u32,
    pub reserved: u32,
    /// The configured timeframes (discriminants), the primary included.
    pub timeframes: *const u32,
    pub n_timeframes: usize,
}

/// One indicator declared on one member (`BasketContext::indicator_on`); its index in the
/// list `init` returns is its `BasketHandle`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BasketRequestAbi {
    pub member: u32,
    pub reserved: u32,
    pub key: IndicatorKeyAbi,
}

/// What `init` hands out (owned by the plugin instance until its next call): the
/// declarations in handle order.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BasketInitAbi {
    pub requests: *const BasketRequestAbi,
    pub n_requests: usize,
}

/// One member at a basket close (`BasketMemberView`): `slice` is meaningful with
/// `has_slice` (its `position` is null, its trace off), `position` with `has_position`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BasketMemberAbi {
    pub has_slice: u32,
    pub has_bar: u32,
    pub has_position: u32,
    pub reserved: u32,
    pub slice: SliceAbi,
    pub position: PositionAbi,
}

/// Where a `BasketHandle` reads: its member and that member's own indicator handle (an
/// index into the member slice's indicators).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasketHandleAbi {
    pub member: u32,
    pub local: u32,
}

/// The basket at one close (`BasketSlice`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BasketSliceAbi {
    /// Open time (UTC ns) of the bars closing now.
    pub time: i64,
    pub members: *const BasketMemberAbi,
    pub n_members: usize,
    pub handles: *const BasketHandleAbi,
    pub n_handles: usize,
}

/// One signal of `evaluate` and the member it is for.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MemberSignalAbi {
    pub member: u32,
    pub reserved: u32,
    pub signal: SignalAbi,
}

/// The signals `evaluate` returns, in order (owned by the plugin instance until its next
/// call).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SignalListAbi {
    pub signals: *const MemberSignalAbi,
    pub len: usize,
}

/// `size_of` every boundary type of a portfolio plugin, as it was compiled; the host
/// compares each with its own before reading anything past this struct.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortfolioAbiSizes {
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
    pub action_list: usize,
    pub basket_context: usize,
    pub basket_request: usize,
    pub basket_init: usize,
    pub basket_member: usize,
    pub basket_handle: usize,
    pub basket_slice: usize,
    pub member_signal: usize,
    pub signal_list: usize,
}

impl PortfolioAbiSizes {
    /// The sizes of this build of the crate.
    pub const CURRENT: PortfolioAbiSizes = PortfolioAbiSizes {
        descriptor: size_of::<PortfolioPluginDescriptor>(),
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
        action_list: size_of::<ActionListAbi>(),
        basket_context: size_of::<BasketContextAbi>(),
        basket_request: size_of::<BasketRequestAbi>(),
        basket_init: size_of::<BasketInitAbi>(),
        basket_member: size_of::<BasketMemberAbi>(),
        basket_handle: size_of::<BasketHandleAbi>(),
        basket_slice: size_of::<BasketSliceAbi>(),
        member_signal: size_of::<MemberSignalAbi>(),
        signal_list: size_of::<SignalListAbi>(),
    };

    /// `(type name, size)` of every entry, in declaration order.
    pub fn entries(&self) -> [(&'static str, usize); 20] {
        [
            ("PortfolioPluginDescriptor", self.descriptor),
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
            ("ActionListAbi", self.action_list),
            ("BasketContextAbi", self.basket_context),
            ("BasketRequestAbi", self.basket_request),
            ("BasketInitAbi", self.basket_init),
            ("BasketMemberAbi", self.basket_member),
            ("BasketHandleAbi", self.basket_handle),
            ("BasketSliceAbi", self.basket_slice),
            ("MemberSignalAbi", self.member_signal),
            ("SignalListAbi", self.signal_list),
        ]
    }
}

/// `init(instance, context, out) -> status`: the start of every run
/// (`PortfolioStrategy::init`).
pub type PortfolioInitFn =
    unsafe extern "C" fn(*mut c_void, *const BasketContextAbi, *mut BasketInitAbi) -> i32;
/// `evaluate(instance, basket, out_signals) -> status` (`STATUS_SOME`: at least one signal).
pub type PortfolioEvaluateFn =
    unsafe extern "C" fn(*mut c_void, *const BasketSliceAbi, *mut SignalListAbi) -> i32;
/// `manage(instance, member, position, basket, out_actions) -> status`: `manage_position`
/// of `member` holding `position`.
pub type PortfolioManageFn = unsafe extern "C" fn(
    *mut c_void,
    u32,
    *const PositionAbi,
    *const BasketSliceAbi,
    *mut ActionListAbi,
) -> i32;

/// What [`PORTFOLIO_PLUGIN_SYMBOL`] returns. `abi_version` and `sizes` come first, as in
/// [`PluginDescriptor`], so a host can refuse a plugin before trusting anything else.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PortfolioPluginDescriptor {
    pub abi_version: u32,
    pub sizes: PortfolioAbiSizes,
    /// The portfolio strategy's name (static).
    pub name: AbiStr,
    /// `API_VERSION` of the omega-strategy-api the plugin was built with (informative).
    pub api_version: AbiStr,
    pub create: CreateFn,
    pub destroy: DestroyFn,
    pub init: PortfolioInitFn,
    pub evaluate: PortfolioEvaluateFn,
    pub manage: PortfolioManageFn,
    pub last_error: LastErrorFn,
}

// SAFETY: a descriptor is immutable static data: pointers to static strings and function
// pointers, safe to read from any thread.
unsafe impl Sync for PortfolioPluginDescriptor {}
// SAFETY: as above; nothing in it is owned or mutated.
unsafe impl Send for PortfolioPluginDescriptor {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_header_keeps_its_place() {
        // As for the single descriptor: version then sizes, whatever follows.
        assert_eq!(
            std::mem::offset_of!(PortfolioPluginDescriptor, abi_version),
            0
        );
        assert_eq!(
            std::mem::offset_of!(PortfolioPluginDescriptor, sizes),
            size_of::<usize>()
        );
        assert_eq!(std::mem::offset_of!(PortfolioAbiSizes, descriptor), 0);
    }

    #[test]
    fn the_two_kinds_have_distinct_symbols_of_the_same_version() {
        assert_ne!(PORTFOLIO_PLUGIN_SYMBOL, PLUGIN_SYMBOL);
        assert!(PORTFOLIO_PLUGIN_SYMBOL.ends_with(&format!("_v{}", crate::ABI_VERSION)));
    }
}

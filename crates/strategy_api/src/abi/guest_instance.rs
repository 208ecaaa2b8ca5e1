//! What both guest sides (`guest` for a strategy, `portfolio_guest` for a portfolio) do the
//! same way with an instance: build it from the host's parameters, hand it out boxed, find
//! it again from the host's pointer, destroy it, and turn a guarded call's outcome into a
//! status.
#![allow(unsafe_code)] // the instance crosses the boundary as a raw pointer

use super::codec::column;
use super::panic::catch_panic;
use super::types::{ParamAbi, STATUS_ERROR, STATUS_NONE, STATUS_PANIC, STATUS_SOME};
use crate::params::ParamValue;
use std::ffi::c_void;

/// What a call on an instance that failed before answers.
pub(super) const UNUSABLE: &str = "the strategy instance is unusable after an earlier failure";

/// The `create` function of either export: `build` makes the strategy from the host's
/// parameters under the panic guard, `wrap` the instance around it (or around no strategy
/// and the message), which is boxed into `out` in every case so the host can read the
/// message and destroy it.
///
/// # Safety
/// `params` must address `n_params` valid entries whose strings live for the call, and
/// `out` must be a valid place for one pointer (the host's contract).
pub(super) unsafe fn create_boxed<S, I>(
    params: *const ParamAbi,
    n_params: usize,
    out: *mut *mut c_void,
    build: impl FnOnce(&[(String, ParamValue)]) -> Result<S, String>,
    wrap: impl FnOnce(Option<S>, String) -> I,
) -> i32 {
    let built = catch_panic(|| {
        // SAFETY: forwarded from the caller: `n_params` valid entries.
        let given = unsafe { column(params, n_params) }
            .iter()
            .map(|p| unsafe { p.to_param() })
            .collect::<Result<Vec<_>, String>>()?;
        build(&given)
    });
    let (status, instance) = match built {
        Ok(Ok(strategy)) => (STATUS_SOME, wrap(Some(strategy), String::new())),
        Ok(Err(message)) => (STATUS_ERROR, wrap(None, message)),
        Err(message) => (STATUS_PANIC, wrap(None, message)),
    };
    // SAFETY: forwarded from the caller: `out` is a valid place for one pointer.
    unsafe { *out = Box::into_raw(Box::new(instance)).cast::<c_void>() };
    status
}

/// The `destroy` function of either export (null is ignored).
///
/// # Safety
/// A non-null `ptr` must come from `create_boxed` with the same `I`, destroyed once.
pub(super) unsafe fn destroy_boxed<I>(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: forwarded from the caller: `ptr` came from Box::into_raw of an `I`.
    let boxed = unsafe { Box::from_raw(ptr.cast::<I>()) };
    // A strategy's `Drop` may panic too: it must not unwind into the host (nobody is left
    // to read the message).
    let _ = catch_panic(move || drop(boxed));
}

/// The instance behind the host's pointer.
///
/// # Safety
/// `ptr` must come from `create_boxed` with the same `I` and not be destroyed; no other call
/// on it runs.
pub(super) unsafe fn instance<'a, I>(ptr: *mut c_void) -> &'a mut I {
    // SAFETY: forwarded from the caller: an exclusive pointer to a live `I`.
    unsafe { &mut *ptr.cast::<I>() }
}

/// The status of a guarded call's `outcome` (`Ok(Ok(true))`: the out-parameter was
/// filled); an error's message goes to `error`, and a panic also sets `poisoned`: the
/// strategy may be half-updated, so it is never called again.
pub(super) fn status_of(
    outcome: Result<Result<bool, String>, String>,
    error: &mut String,
    poisoned: &mut bool,
) -> i32 {
    match outcome {
        Ok(Ok(true)) => STATUS_SOME,
        Ok(Ok(false)) => STATUS_NONE,
        Ok(Err(message)) => {
            *error = message;
            STATUS_ERROR
        }
        Err(message) => {
            *poisoned = true;
            *error = message;
            STATUS_PANIC
        }
    }
}

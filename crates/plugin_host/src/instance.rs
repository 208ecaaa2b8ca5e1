//! [`PluginInstance`]: what both adapters (`PluginStrategy`, `PluginPortfolio`) share about
//! one live instance in a plugin library: its pointer and destruction, the plugin's name, and
//! how a call's status, a plugin's message and a panic on the host side become errors (the
//! first failure of the plugin itself is kept as its fault and the plugin is not called
//! again).
#![allow(unsafe_code)] // reads the plugin's messages and destroys its instance

use crate::PluginError;
use omega_strategy_api::abi::{
    catch_panic, AbiStr, DestroyFn, LastErrorFn, STATUS_ERROR, STATUS_NONE, STATUS_PANIC,
    STATUS_SOME,
};
use omega_strategy_api::StrategyError;
use std::ffi::c_void;

/// One instance a plugin's `create` returned, destroyed when this value drops.
#[derive(Debug)]
pub(crate) struct PluginInstance {
    ptr: *mut c_void,
    last_error: LastErrorFn,
    destroy: DestroyFn,
    name: String,
    /// Set when the plugin failed; the plugin is never called again.
    fault: Option<PluginError>,
}

impl PluginInstance {
    /// `ptr` is a live instance from `create` of the same table as `last_error` and
    /// `destroy`; it is destroyed once, by `Drop`.
    pub(crate) fn new(
        ptr: *mut c_void,
        last_error: LastErrorFn,
        destroy: DestroyFn,
        name: String,
    ) -> Self {
        PluginInstance {
            ptr,
            last_error,
            destroy,
            name,
            fault: None,
        }
    }

    /// The pointer to pass to the plugin's functions.
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The failure of the plugin itself (panic, invalid answer) that stopped a run, if any.
    /// An error the strategy reported on purpose is not a fault: it reached the engine as a
    /// strategy error.
    pub(crate) fn take_fault(&mut self) -> Option<PluginError> {
        self.fault.take()
    }

    /// Records `fault` and returns the error the engine stops with.
    pub(crate) fn fail(&mut self, fault: PluginError) -> StrategyError {
        let error = StrategyError(fault.to_string());
        self.fault = Some(fault);
        error
    }

    /// An invalid answer of the plugin's `function`.
    pub(crate) fn protocol(&mut self, function: &'static str, message: String) -> StrategyError {
        self.fail(PluginError::Protocol {
            strategy: self.name.clone(),
            function,
            message,
        })
    }

    /// The plugin's message for its last error.
    fn last_error(&self) -> String {
        // SAFETY: the instance is live; the message stays valid until the next call on it,
        // and it is copied at once.
        unsafe { plugin_message((self.last_error)(self.ptr)) }
    }

    /// Whether the call filled its out-parameter; an error of the strategy, or a fault.
    pub(crate) fn settle(
        &mut self,
        function: &'static str,
        status: i32,
    ) -> Result<bool, StrategyError> {
        match status {
            STATUS_NONE => Ok(false),
            STATUS_SOME => Ok(true),
            STATUS_ERROR => Err(StrategyError(self.last_error())),
            STATUS_PANIC => {
                let message = self.last_error();
                Err(self.fail(PluginError::Panic {
                    strategy: self.name.clone(),
                    function,
                    message,
                }))
            }
            other => Err(self.protocol(function, format!("unknown status {other}"))),
        }
    }
}

impl Drop for PluginInstance {
    fn drop(&mut self) {
        // SAFETY: the instance came from `create` and is destroyed exactly once; `destroy`
        // catches a panic of the strategy's own `Drop`, and returns nothing to handle here.
        unsafe { (self.destroy)(self.ptr) };
    }
}

/// An adapter around one [`PluginInstance`].
pub(crate) trait Adapter {
    fn instance(&mut self) -> &mut PluginInstance;
}

/// Runs `f` (a call through the function table and the handling of its answer) unless the
/// plugin faulted before; a panic on this side becomes the fault, so nothing unwinds into
/// the engine and the plugin is not called again.
pub(crate) fn guarded<A: Adapter, R>(
    adapter: &mut A,
    function: &'static str,
    f: impl FnOnce(&mut A) -> Result<R, StrategyError>,
) -> Result<R, StrategyError> {
    if let Some(fault) = &adapter.instance().fault {
        return Err(StrategyError(fault.to_string()));
    }
    match catch_panic(|| f(adapter)) {
        Ok(result) => result,
        Err(message) => {
            let instance = adapter.instance();
            let strategy = instance.name.clone();
            Err(instance.fail(PluginError::HostPanic {
                strategy,
                function,
                message,
            }))
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

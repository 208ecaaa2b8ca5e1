//! Keeping panics on their side of the boundary.
//!
//! An unwind must never cross an `extern "C"` function (that aborts the process). Every
//! function a plugin exports runs the strategy inside [`catch_panic`] and reports a panic as
//! [`STATUS_PANIC`](super::STATUS_PANIC) with the message readable through `last_error`; the
//! host guards its side of every call the same way. A plugin built with `panic = "abort"`
//! cannot be protected this way.
//!
//! [`panic_message`] is the one rendering of a panic payload: the engine and the host use it
//! too.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What [`panic_message`] says for a payload that is neither `&str` nor `String` (for example
/// `std::panic::panic_any(42)`).
pub const NON_STRING_PANIC: &str = "<non-string panic payload>";

/// The text of a panic payload: the message of a `&str` or `String` payload, else
/// [`NON_STRING_PANIC`]. Never panics.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        NON_STRING_PANIC.to_string()
    }
}

/// Runs `f`, turning a panic into `Err(message)` (see [`panic_message`]).
///
/// The closure is treated as unwind safe: a caller whose state `f` may leave half-updated
/// must stop using that state after an `Err` (the guest glue poisons its instance). The
/// payload is dropped under a second guard, since a payload's own `Drop` may panic; such a
/// payload is leaked rather than let unwind.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(payload.as_ref());
        if let Err(nested) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(nested);
        }
        message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_payload_has_a_message() {
        let text: &str = "static text";
        assert_eq!(panic_message(&text), "static text");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42_i32), NON_STRING_PANIC);
        assert_eq!(panic_message(&()), NON_STRING_PANIC);
    }

    #[test]
    fn catch_panic_returns_the_value_or_the_panic_message() {
        assert_eq!(catch_panic(|| 7), Ok(7));
        assert_eq!(
            catch_panic(|| -> u8 { panic!("at bar {}", 3) }),
            Err("at bar 3".to_string())
        );
        assert_eq!(
            catch_panic(|| -> u8 { panic!("plain") }),
            Err("plain".to_string())
        );
        assert_eq!(
            catch_panic(|| -> u8 { std::panic::panic_any(42_u64) }),
            Err(NON_STRING_PANIC.to_string())
        );
    }

    #[test]
    fn a_payload_whose_drop_panics_does_not_escape() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("the payload's drop");
            }
        }
        let outcome = catch_panic(|| -> u8 { std::panic::panic_any(Bomb) });
        assert_eq!(outcome, Err(NON_STRING_PANIC.to_string()));
    }
}

//! Library-owned strings handed to the caller, and their one free function.
//!
//! Functions that return a string the caller owns (a JSON snapshot, say)
//! produce it with [`into_c_string`]; the caller releases it with
//! `macp_string_free`. The addresses are tracked, so freeing NULL, a string
//! twice, or a pointer libmacp never returned does nothing.

use std::ffi::{c_char, CString};
use std::sync::PoisonError;

use super::{c_string, guard_value, Allocations};

/// Live strings returned to callers.
static STRINGS: Allocations = Allocations::new();

/// Hand `s` to the caller as a NUL-terminated string it frees with
/// `macp_string_free`. Interior NULs become U+FFFD (see [`c_string`]).
pub(crate) fn into_c_string(s: String) -> *mut c_char {
    let p = c_string(&s).into_raw();
    // `Allocations::track` takes a `Box<T>`, but a C string's bytes are not
    // one; its address set is used directly (this module is a child of the
    // one that defines it).
    STRINGS
        .live
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(p as usize);
    p
}

/// Free a string libmacp returned to you (e.g. by
/// `macp_projection_state_json`). NULL, already-freed and foreign pointers
/// are ignored.
#[no_mangle]
pub extern "C" fn macp_string_free(s: *mut c_char) {
    guard_value((), || {
        // Only an address found in the live set is ever dereferenced, so any
        // pointer is safe to pass.
        let addr = s as usize;
        if addr == 0 {
            return;
        }
        let was_live = STRINGS
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&addr);
        if was_live {
            // SAFETY: `addr` came from `CString::into_raw` in `into_c_string`
            // and was live until the removal above, so it is freed once.
            drop(unsafe { CString::from_raw(addr as *mut c_char) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn strings_are_freed_once_and_foreign_pointers_ignored() {
        let p = into_c_string("a\0b".to_string());
        assert_eq!(unsafe { CStr::from_ptr(p) }.to_str().unwrap(), "a\u{FFFD}b");
        macp_string_free(p);
        macp_string_free(p);
        macp_string_free(std::ptr::null_mut());
        let mut local = *b"x\0";
        macp_string_free(local.as_mut_ptr() as *mut c_char);
    }
}

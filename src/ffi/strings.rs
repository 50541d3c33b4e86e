//! `macp_string`: text the library hands to the caller (a JSON answer, a
//! projection's state, a receipt), and its one free function.

use std::ffi::{c_char, CString};

use super::args::c_string;
use super::guard::guard_value;
use super::handle::{self, handle_type};

/// Text owned by the caller: a NUL-terminated UTF-8 string and its length,
/// read with `macp_string_ptr` and `macp_string_len`, released with
/// `macp_string_free`. Like every handle it is checked on each call, so
/// freeing it twice, or reading it after the free, is harmless.
pub struct macp_string {
    _private: [u8; 0],
}

handle_type!(macp_string => CString);

/// A new `macp_string` for `s`, written to `*out` (which callers have
/// checked). Interior NULs, which a C string cannot carry, become U+FFFD.
///
/// # Safety
/// `out` is writable.
pub(crate) unsafe fn write_string(out: *mut *mut macp_string, s: &str) {
    handle::write_new(out, c_string(s));
}

/// The text of `s`, NUL-terminated UTF-8.
///
/// Ownership: returns a string borrowed from `s`, valid until
/// `macp_string_free(s)`; `""` when `s` is not a live `macp_string`.
#[no_mangle]
pub extern "C" fn macp_string_ptr(s: *const macp_string) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle::get(s).map_or(c"".as_ptr(), |c| c.as_ptr())
    })
}

/// The length of `s` in bytes, without the terminating NUL; 0 when `s` is
/// not a live `macp_string`.
///
/// Ownership: borrows `s`.
#[no_mangle]
pub extern "C" fn macp_string_len(s: *const macp_string) -> usize {
    guard_value(0, || handle::get(s).map_or(0, |c| c.as_bytes().len()))
}

/// Free a string the library returned.
///
/// Ownership: takes `s` and frees it; strings borrowed from it become
/// invalid. NULL and already-freed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_string_free(s: *mut macp_string) {
    guard_value((), || drop(handle::free(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn strings_are_freed_once_and_foreign_handles_ignored() {
        let mut s: *mut macp_string = std::ptr::null_mut();
        unsafe { write_string(&mut s, "a\0b") };
        let text = unsafe { CStr::from_ptr(macp_string_ptr(s)) };
        assert_eq!(text.to_str().unwrap(), "a\u{FFFD}b");
        assert_eq!(macp_string_len(s), 5);
        macp_string_free(s);
        assert_eq!(macp_string_len(s), 0);
        macp_string_free(s);
        macp_string_free(std::ptr::null_mut());
        let mut local = *b"x\0";
        macp_string_free(local.as_mut_ptr() as *mut macp_string);
    }
}

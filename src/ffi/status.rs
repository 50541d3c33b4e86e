//! Statuses, the library version and id generation: functions of no handle.

use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::sync::LazyLock;

use super::args::{c_string, clear_text, write_text};
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use crate::error::Status;

/// Name of a status (`"SESSION_NOT_FOUND"`, `"TIMEOUT"`, ...): the MACP
/// registry code for registry statuses. Returns a static string (never NULL;
/// `"UNKNOWN"` for a value that is not a status).
///
/// Ownership: returns a static string.
#[no_mangle]
pub extern "C" fn macp_status_name(status: i32) -> *const c_char {
    guard_value(c"UNKNOWN".as_ptr(), || {
        for s in Status::all() {
            if s as i32 == status {
                return static_name(s);
            }
        }
        c"UNKNOWN".as_ptr()
    })
}

fn static_name(s: Status) -> *const c_char {
    static NAMES: LazyLock<HashMap<i32, CString>> = LazyLock::new(|| {
        Status::all()
            .map(|s| (s as i32, c_string(s.name())))
            .collect()
    });
    NAMES
        .get(&(s as i32))
        .map_or(c"UNKNOWN".as_ptr(), |c| c.as_ptr())
}

/// Whether `status` is worth retrying (transport, timeout, `RATE_LIMITED`,
/// `INTERNAL_ERROR`). `macp_session_send` and the mode helpers already retry
/// these per the client's retry policy.
///
/// Ownership: takes no pointer.
#[no_mangle]
pub extern "C" fn macp_status_is_transient(status: i32) -> bool {
    guard_value(false, || {
        Status::all().any(|s| s as i32 == status && s.is_transient())
    })
}

/// The libmacp version, e.g. `"0.1.0"`. Static string.
///
/// Ownership: returns a static string.
#[no_mangle]
pub extern "C" fn macp_version() -> *const c_char {
    static V: LazyLock<CString> = LazyLock::new(|| c_string(env!("CARGO_PKG_VERSION")));
    guard_value(c"".as_ptr(), || V.as_ptr())
}

/// Generate a new UUID v4 (a valid session or message id) into `buf` as a
/// NUL-terminated string of 36 characters; `buf_len` must be at least 37
/// (`MACP_ID_BUFFER_LEN` always fits).
///
/// Ownership: borrows `buf` for the call; on failure `buf` holds `""` when
/// `buf_len` is not 0.
///
/// # Safety
/// `buf` is NULL or points to `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_new_id(
    buf: *mut c_char,
    buf_len: usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        clear_text(buf, buf_len, "buf")?;
        write_text(buf, buf_len, &crate::client::new_id(), "buf")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn status_names_are_static_and_total() {
        let n = unsafe { CStr::from_ptr(macp_status_name(3)) };
        assert_eq!(n.to_str().unwrap(), "SESSION_NOT_FOUND");
        let n = unsafe { CStr::from_ptr(macp_status_name(-7)) };
        assert_eq!(n.to_str().unwrap(), "UNKNOWN");
        assert!(macp_status_is_transient(Status::RateLimited as i32));
        assert!(!macp_status_is_transient(Status::Forbidden as i32));
        assert!(!macp_status_is_transient(12345));
    }
}

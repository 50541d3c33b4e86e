//! `macp_session_state`: a session's state, as `macp.v1.SessionState`.

use std::ffi::c_char;

use super::guard::guard_value;

/// Session state, as `macp.v1.SessionState`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_session_state {
    MACP_SESSION_STATE_UNSPECIFIED = 0,
    MACP_SESSION_STATE_OPEN = 1,
    MACP_SESSION_STATE_RESOLVED = 2,
    MACP_SESSION_STATE_EXPIRED = 3,
    MACP_SESSION_STATE_SUSPENDED = 4,
    MACP_SESSION_STATE_CANCELLED = 5,
}

impl From<i32> for macp_session_state {
    fn from(v: i32) -> Self {
        use macp_session_state::*;
        match v {
            1 => MACP_SESSION_STATE_OPEN,
            2 => MACP_SESSION_STATE_RESOLVED,
            3 => MACP_SESSION_STATE_EXPIRED,
            4 => MACP_SESSION_STATE_SUSPENDED,
            5 => MACP_SESSION_STATE_CANCELLED,
            _ => MACP_SESSION_STATE_UNSPECIFIED,
        }
    }
}

/// Name of a session state (`"OPEN"`, `"RESOLVED"`, ...); `"UNSPECIFIED"`
/// for any other value.
///
/// Ownership: returns a static string.
#[no_mangle]
pub extern "C" fn macp_session_state_name(state: i32) -> *const c_char {
    guard_value(c"UNSPECIFIED".as_ptr(), || {
        match macp_session_state::from(state) {
            macp_session_state::MACP_SESSION_STATE_OPEN => c"OPEN".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_RESOLVED => c"RESOLVED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_EXPIRED => c"EXPIRED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_SUSPENDED => c"SUSPENDED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_CANCELLED => c"CANCELLED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_UNSPECIFIED => c"UNSPECIFIED".as_ptr(),
        }
    })
}

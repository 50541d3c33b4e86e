//! `ext.multi_round.v1` helper: Contribute. Resolve the session with
//! `macp_session_commit` (e.g. `"multi_round.converged"`).

use std::ffi::c_char;

use super::session::send_with;
use super::session::{macp_ack, macp_session};
use super::{arg_nonempty, macp_error};
use crate::error::Status;
use crate::rt::block_on;

/// Contribute `value` (required, non-empty; compared for equality only),
/// sent in its canonical protobuf encoding. A participant may contribute
/// again; its latest value counts. `ack` may be NULL.
///
/// # Safety
/// `value` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_multi_round_contribute(
    session: *const macp_session,
    value: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let v = arg_nonempty(value, "value")?;
        block_on(s.contribute(v))?
    })
}

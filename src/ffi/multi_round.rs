//! `ext.multi_round.v1` helper: Contribute. Resolve the session with
//! `macp_session_commit` (e.g. `"multi_round.converged"`).

use std::ffi::c_char;

use super::ack::macp_ack;
use super::args::arg_nonempty;
use super::call::{block, macp_call_options, Kind};
use super::error::macp_error;
use super::send::send_with;
use super::session::macp_session;
use crate::error::Status;

/// Contribute `value` (required, non-empty; compared for equality only),
/// sent in its canonical protobuf encoding. A participant may contribute
/// again; its latest value counts. `ack` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// `value` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_multi_round_contribute(
    session: *const macp_session,
    value: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let v = arg_nonempty(value, "value")?;
        block(call, Kind::Send, s.multi_round().contribute(v))
    })
}

//! `macp.mode.quorum.v1` helpers: ApprovalRequest (initiator), then one
//! ballot per participant: Approve, Reject or Abstain. Each sends one message
//! and blocks for its acknowledgement; `ack` may be NULL. Resolve the session
//! with `macp_session_commit` (e.g. `"quorum.approved"`).

use std::ffi::c_char;

use super::ack::macp_ack;
use super::args::{arg_bytes, arg_nonempty, arg_or_empty};
use super::call::{block, macp_call_options, Kind};
use super::error::macp_error;
use super::send::send_with;
use super::session::macp_session;
use crate::error::Status;

/// Open the session's one approval request: `request_id` (required), the
/// `action` and `summary` (may be NULL), `details` (NULL or `details_len`
/// bytes) and `required_approvals` (1 to the number of participants).
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `details` as described.
#[no_mangle]
pub unsafe extern "C" fn macp_quorum_request_approval(
    session: *const macp_session,
    request_id: *const c_char,
    action: *const c_char,
    summary: *const c_char,
    details: *const u8,
    details_len: usize,
    required_approvals: u32,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(request_id, "request_id")?;
        let action = arg_or_empty(action, "action")?;
        let summary = arg_or_empty(summary, "summary")?;
        let details = arg_bytes(details, details_len, "details")?;
        block(
            call,
            Kind::Send,
            s.quorum()
                .request_approval(id, action, summary, details, required_approvals),
        )
    })
}

/// Approve the request (this participant's one ballot). `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_quorum_approve(
    session: *const macp_session,
    request_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(request_id, "request_id")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.quorum().approve(id, why))
    })
}

/// Reject the request (this participant's one ballot). `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_quorum_reject(
    session: *const macp_session,
    request_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(request_id, "request_id")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.quorum().reject(id, why))
    })
}

/// Abstain (this participant's one ballot; neither approval nor rejection).
/// `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_quorum_abstain(
    session: *const macp_session,
    request_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(request_id, "request_id")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.quorum().abstain(id, why))
    })
}

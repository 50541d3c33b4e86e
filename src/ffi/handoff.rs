//! `macp.mode.handoff.v1` helpers: HandoffOffer and HandoffContext (the
//! owner), HandoffAccept and HandoffDecline (the offer's target). Each sends
//! one message and blocks for its acknowledgement; `ack` may be NULL. Resolve
//! the session with `macp_session_commit` (e.g. `"handoff.accepted"`).
//!
//! There is no way to send an implicit accept: that is the runtime's own
//! record of an offer that timed out.

use std::ffi::c_char;

use super::ack::macp_ack;
use super::args::{arg_bytes, arg_nonempty, arg_or_empty};
use super::call::{block, macp_call_options, Kind};
use super::error::macp_error;
use super::send::send_with;
use super::session::macp_session;
use crate::error::Status;

/// Offer responsibility for `scope` to `target_participant` under a new
/// `handoff_id` (both required). `scope` and `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_handoff_offer(
    session: *const macp_session,
    handoff_id: *const c_char,
    target_participant: *const c_char,
    scope: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(handoff_id, "handoff_id")?;
        let target = arg_nonempty(target_participant, "target_participant")?;
        let scope = arg_or_empty(scope, "scope")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.handoff().offer(id, target, scope, why))
    })
}

/// Attach `context` (NULL or `context_len` bytes) of media type
/// `content_type` (may be NULL) to an offer.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `context` as described.
#[no_mangle]
pub unsafe extern "C" fn macp_handoff_context(
    session: *const macp_session,
    handoff_id: *const c_char,
    content_type: *const c_char,
    context: *const u8,
    context_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(handoff_id, "handoff_id")?;
        let ct = arg_or_empty(content_type, "content_type")?;
        let bytes = arg_bytes(context, context_len, "context")?;
        block(call, Kind::Send, s.handoff().context(id, ct, bytes))
    })
}

/// Accept an offer made to this participant (an explicit accept).
/// `accepted_by` (NULL: the authenticated sender) and `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_handoff_accept(
    session: *const macp_session,
    handoff_id: *const c_char,
    accepted_by: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(handoff_id, "handoff_id")?;
        let by = arg_or_empty(accepted_by, "accepted_by")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.handoff().accept(id, by, why))
    })
}

/// Decline an offer made to this participant. `declined_by` (NULL: the
/// authenticated sender) and `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_handoff_decline(
    session: *const macp_session,
    handoff_id: *const c_char,
    declined_by: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(handoff_id, "handoff_id")?;
        let by = arg_or_empty(declined_by, "declined_by")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.handoff().decline(id, by, why))
    })
}

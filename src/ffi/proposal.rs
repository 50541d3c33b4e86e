//! `macp.mode.proposal.v1` helpers: Proposal, CounterProposal, Accept,
//! Reject and Withdraw. Each sends one message and blocks for its
//! acknowledgement; `ack` may be NULL. Resolve the session with
//! `macp_session_commit` (e.g. action `"proposal.accepted"`).

use std::ffi::c_char;

use super::ack::macp_ack;
use super::args::{arg_bytes, arg_nonempty, arg_or_empty, arg_str_array};
use super::call::{block, macp_call_options, Kind};
use super::error::macp_error;
use super::send::send_with;
use super::session::macp_session;
use crate::error::{Error, Status};

/// Submit an offer under `proposal_id` (required, unique in the session),
/// with `title` and `summary` (may be NULL), `details` (NULL or `details_len`
/// bytes) and `tags_len` tags (non-empty strings; `tags` NULL when 0).
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; buffers and arrays as described.
#[no_mangle]
pub unsafe extern "C" fn macp_proposal_propose(
    session: *const macp_session,
    proposal_id: *const c_char,
    title: *const c_char,
    summary: *const c_char,
    details: *const u8,
    details_len: usize,
    tags: *const *const c_char,
    tags_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let title = arg_or_empty(title, "title")?;
        let summary = arg_or_empty(summary, "summary")?;
        let details = arg_bytes(details, details_len, "details")?;
        let tags = arg_str_array(tags, tags_len, "tags")?;
        if tags.iter().any(|t| t.is_empty()) {
            return Err(Error::invalid_argument("a tag is empty"));
        }
        let tags: Vec<String> = tags.into_iter().map(str::to_string).collect();
        block(
            call,
            Kind::Send,
            s.proposal().propose(pid, title, summary, details, &tags),
        )
    })
}

/// Submit counteroffer `proposal_id` meant to replace
/// `supersedes_proposal_id` (both required; the original stays live).
/// `title` and `summary` may be NULL; `details` is NULL or `details_len`
/// bytes.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `details` as described.
#[no_mangle]
pub unsafe extern "C" fn macp_proposal_counter_propose(
    session: *const macp_session,
    proposal_id: *const c_char,
    supersedes_proposal_id: *const c_char,
    title: *const c_char,
    summary: *const c_char,
    details: *const u8,
    details_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let sup = arg_nonempty(supersedes_proposal_id, "supersedes_proposal_id")?;
        let title = arg_or_empty(title, "title")?;
        let summary = arg_or_empty(summary, "summary")?;
        let details = arg_bytes(details, details_len, "details")?;
        block(
            call,
            Kind::Send,
            s.proposal()
                .counter_propose(pid, sup, title, summary, details),
        )
    })
}

/// Accept a live proposal; a participant's later Accept replaces its
/// earlier one. `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_proposal_accept(
    session: *const macp_session,
    proposal_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.proposal().accept(pid, why))
    })
}

/// Reject a proposal. A `terminal` rejection makes the session eligible for
/// a negative Commitment. `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_proposal_reject(
    session: *const macp_session,
    proposal_id: *const c_char,
    terminal: bool,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.proposal().reject(pid, terminal, why))
    })
}

/// Withdraw a proposal this participant authored. `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_proposal_withdraw(
    session: *const macp_session,
    proposal_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.proposal().withdraw(pid, why))
    })
}

//! `macp.mode.decision.v1` helpers: Proposal, Evaluation, Objection, Vote and
//! the initiator's Commitment. Each sends one message and blocks for its
//! acknowledgement; `ack` may be NULL.

use std::ffi::c_char;

use super::ack::macp_ack;
use super::args::{arg_bytes, arg_nonempty, arg_or_empty};
use super::call::{block, macp_call_options, Kind};
use super::commitment::macp_commitment;
use super::error::macp_error;
use super::send::send_with;
use super::session::macp_session;
use crate::error::Status;

/// Propose option `option` under `proposal_id` (both required). `rationale`
/// may be NULL; `supporting_data` is NULL or `supporting_data_len` bytes.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; buffers as described.
#[no_mangle]
pub unsafe extern "C" fn macp_decision_propose(
    session: *const macp_session,
    proposal_id: *const c_char,
    option: *const c_char,
    rationale: *const c_char,
    supporting_data: *const u8,
    supporting_data_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let choice = arg_nonempty(option, "option")?;
        let why = arg_or_empty(rationale, "rationale")?;
        let data = arg_bytes(supporting_data, supporting_data_len, "supporting_data")?;
        block(
            call,
            Kind::Send,
            s.decision().propose(pid, choice, why, data),
        )
    })
}

/// Evaluate a proposal: an upper-case `recommendation` such as `"APPROVE"`,
/// `"REVIEW"`, `"BLOCK"` or `"REJECT"` (the runtime compares it exactly), with
/// `confidence` in [0, 1]; `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_decision_evaluate(
    session: *const macp_session,
    proposal_id: *const c_char,
    recommendation: *const c_char,
    confidence: f64,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let rec = arg_nonempty(recommendation, "recommendation")?;
        let why = arg_or_empty(reason, "reason")?;
        block(
            call,
            Kind::Send,
            s.decision().evaluate(pid, rec, confidence, why),
        )
    })
}

/// Object to a proposal with a lowercase `severity`: `"low"`, `"medium"`,
/// `"high"` or `"critical"` (required). `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_decision_object(
    session: *const macp_session,
    proposal_id: *const c_char,
    reason: *const c_char,
    severity: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let why = arg_or_empty(reason, "reason")?;
        let sev = arg_nonempty(severity, "severity")?;
        block(call, Kind::Send, s.decision().object(pid, why, sev))
    })
}

/// Vote on a proposal: an upper-case `vote` such as `"APPROVE"`, `"REJECT"`
/// or `"ABSTAIN"` (the runtime compares it exactly).
/// The first vote of each participant counts. `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_decision_vote(
    session: *const macp_session,
    proposal_id: *const c_char,
    vote: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let v = arg_nonempty(vote, "vote")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.decision().vote(pid, v, why))
    })
}

/// Resolve the decision (initiator only): a Commitment with `action` (e.g.
/// `"decision.selected"`), `authority_scope` and `reason`, all three
/// required in practice: the runtime refuses a Commitment whose scope or
/// reason is empty or whitespace (`MACP_STATUS_INVALID_ENVELOPE`), as it
/// does in every mode, and NULL sends them empty. Also whether the outcome
/// is positive. For a chosen commitment id or
/// supersession use `macp_session_commit`.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_decision_commit(
    session: *const macp_session,
    action: *const c_char,
    authority_scope: *const c_char,
    reason: *const c_char,
    outcome_positive: bool,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    let c = macp_commitment {
        commitment_id: std::ptr::null(),
        action,
        authority_scope,
        reason,
        outcome_positive,
        supersedes_session_id: std::ptr::null(),
        supersedes_commitment_hash: std::ptr::null(),
    };
    super::send::macp_session_commit(session, &c, ack, call, error)
}

//! `macp_policy_builder`: a governance policy document built from typed
//! settings, checked locally, and written as the JSON
//! `macp_client_register_policy` takes. The rules and their checks are the
//! core's (`crate::policy`); this file converts and forwards.

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};

use super::args::{arg_nonempty, arg_out, arg_str};
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::strings::{macp_string, write_string};
use crate::error::{Result, Status};
use crate::policy::PolicyBuilder;

/// A governance policy under construction for one mode. Created with
/// `macp_policy_builder_new`, freed with `macp_policy_builder_free`.
/// Thread-safe; a setter of another mode's rules fails with
/// `MACP_STATUS_INVALID_ARGUMENT` and changes nothing.
pub struct macp_policy_builder {
    _private: [u8; 0],
}

handle_type!(macp_policy_builder => Mutex<PolicyBuilder>);

fn with_builder(
    b: *mut macp_policy_builder,
    error: *mut *mut macp_error,
    f: impl FnOnce(&mut PolicyBuilder) -> Result<()>,
) -> Status {
    guard(error, || {
        let h = handle::get(b)?;
        let mut p = h.lock().unwrap_or_else(PoisonError::into_inner);
        // Change a copy, so a refused value leaves the builder as it was.
        let mut next = p.clone();
        f(&mut next)?;
        *p = next;
        Ok(())
    })
}

/// Start a policy `policy_id` for `mode` (`MACP_MODE_DECISION`,
/// `MACP_MODE_QUORUM`, `MACP_MODE_PROPOSAL`, `MACP_MODE_TASK` or
/// `MACP_MODE_HANDOFF`) with the rule schema's defaults: commitment by the
/// initiator only, and for decision no voting requirement and schema
/// version 3 (other modes: 1). Another mode is
/// `MACP_STATUS_INVALID_ARGUMENT`.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_policy_builder_free`); on failure `*out` is NULL.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_new(
    mode: *const c_char,
    policy_id: *const c_char,
    out: *mut *mut macp_policy_builder,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let b = PolicyBuilder::new(
            arg_nonempty(mode, "mode")?,
            arg_nonempty(policy_id, "policy_id")?,
        )?;
        handle::write_new(out, Mutex::new(b));
        Ok(())
    })
}

/// Free a policy builder. NULL and already-freed builders are ignored.
///
/// Ownership: takes `builder` and frees it. NULL and already-freed handles
/// are ignored.
#[no_mangle]
pub extern "C" fn macp_policy_builder_free(builder: *mut macp_policy_builder) {
    guard_value((), || drop(handle::free(builder)))
}

/// The policy's description (empty by default).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `description` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_description(
    builder: *mut macp_policy_builder,
    description: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let d = arg_str(description, "description");
    with_builder(builder, error, |b| {
        b.description(d?);
        Ok(())
    })
}

/// The RFC-MACP-0012 schema version the runtime evaluates the rules under:
/// 1 to 3 for decision (1 and 2 let an empty tally satisfy a vote), 1 for
/// the other modes.
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_policy_builder_set_schema_version(
    builder: *mut macp_policy_builder,
    version: u32,
    error: *mut *mut macp_error,
) -> Status {
    with_builder(builder, error, |b| b.schema_version(version).map(drop))
}

/// `commitment.authority` (every mode): `"initiator_only"` (default),
/// `"any_participant"` or `"designated_role"` (then add the roles with
/// `macp_policy_builder_add_designated_role`).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `authority` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_commitment_authority(
    builder: *mut macp_policy_builder,
    authority: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let a = arg_str(authority, "authority");
    with_builder(builder, error, |b| b.commitment_authority(a?).map(drop))
}

/// Add a sender to `commitment.designated_roles` (every mode).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `role` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_add_designated_role(
    builder: *mut macp_policy_builder,
    role: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let r = arg_str(role, "role");
    with_builder(builder, error, |b| b.designated_role(r?).map(drop))
}

/// Decision `voting`: `algorithm` (`"none"`, `"majority"`,
/// `"supermajority"`, `"unanimous"`, `"weighted"`, `"plurality"`) and its
/// approval `threshold`, greater than 0 and at most 1 (`majority` needs at
/// least 0.5 and `supermajority` more than 0.5, checked by
/// `macp_policy_builder_to_json`).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `algorithm` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_voting(
    builder: *mut macp_policy_builder,
    algorithm: *const c_char,
    threshold: f64,
    error: *mut *mut macp_error,
) -> Status {
    let a = arg_str(algorithm, "algorithm");
    with_builder(builder, error, |b| b.voting(a?, threshold).map(drop))
}

/// Decision `voting.quorum`: ballots that must be cast, as a count
/// (`"count"`, at least 0) or a share of the participants (`"percentage"`,
/// 0 to 100).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `kind` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_voting_quorum(
    builder: *mut macp_policy_builder,
    kind: *const c_char,
    value: f64,
    error: *mut *mut macp_error,
) -> Status {
    let k = arg_str(kind, "kind");
    with_builder(builder, error, |b| b.voting_quorum(k?, value).map(drop))
}

/// Decision `voting.weights`: the weight of `participant`'s vote, greater
/// than 0 (leave a participant out to give it none). Setting it again
/// replaces it.
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `participant` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_voting_weight(
    builder: *mut macp_policy_builder,
    participant: *const c_char,
    weight: f64,
    error: *mut *mut macp_error,
) -> Status {
    let p = arg_str(participant, "participant");
    with_builder(builder, error, |b| b.voting_weight(p?, weight).map(drop))
}

/// Decision `objection_handling`: whether a critical objection vetoes, how
/// many vetoes it takes (at least 1), and what a veto does (`"deny"`,
/// `"finalize_decline"`, `"hold"`).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `action` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_objection_handling(
    builder: *mut macp_policy_builder,
    critical_severity_vetoes: bool,
    veto_threshold: u32,
    action: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let a = arg_str(action, "action");
    with_builder(builder, error, |b| {
        b.objection_handling(critical_severity_vetoes, veto_threshold, a?)
            .map(drop)
    })
}

/// Decision `evaluation`: the lowest evaluation confidence that counts (0
/// to 1) and whether evaluations must come before votes.
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_policy_builder_set_evaluation(
    builder: *mut macp_policy_builder,
    minimum_confidence: f64,
    required_before_voting: bool,
    error: *mut *mut macp_error,
) -> Status {
    with_builder(builder, error, |b| {
        b.evaluation(minimum_confidence, required_before_voting)
            .map(drop)
    })
}

/// Decision `commitment.require_vote_quorum` and
/// `commitment.allow_decline_over_approval` (both false by default).
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_policy_builder_set_decision_commitment(
    builder: *mut macp_policy_builder,
    require_vote_quorum: bool,
    allow_decline_over_approval: bool,
    error: *mut *mut macp_error,
) -> Status {
    with_builder(builder, error, |b| {
        b.decision_commitment(require_vote_quorum, allow_decline_over_approval)
            .map(drop)
    })
}

/// Quorum `threshold`: approvals needed, as a count (`"n_of_m"`, at least
/// 1) or a whole percentage of the participants (`"percentage"`, 1 to 100).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `kind` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_quorum_threshold(
    builder: *mut macp_policy_builder,
    kind: *const c_char,
    value: u32,
    error: *mut *mut macp_error,
) -> Status {
    let k = arg_str(kind, "kind");
    with_builder(builder, error, |b| b.quorum_threshold(k?, value).map(drop))
}

/// Quorum `abstention`: whether an abstention counts toward the quorum and
/// how it is read (`"neutral"`, `"implicit_reject"`, `"ignored"`).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `interpretation` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_abstention(
    builder: *mut macp_policy_builder,
    counts_toward_quorum: bool,
    interpretation: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let i = arg_str(interpretation, "interpretation");
    with_builder(builder, error, |b| {
        b.abstention(counts_toward_quorum, i?).map(drop)
    })
}

/// Proposal rules: `acceptance.criterion` (`"all_parties"`,
/// `"counterparty"`, `"initiator"`), `counter_proposal.max_rounds` (0: no
/// limit) and `rejection.terminal_on_any_reject`.
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `criterion` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_set_proposal_rules(
    builder: *mut macp_policy_builder,
    criterion: *const c_char,
    max_counter_rounds: u32,
    terminal_on_any_reject: bool,
    error: *mut *mut macp_error,
) -> Status {
    let c = arg_str(criterion, "criterion");
    with_builder(builder, error, |b| {
        b.acceptance_criterion(c?)?
            .counter_proposal_max_rounds(max_counter_rounds)?
            .terminal_on_any_reject(terminal_on_any_reject)
            .map(drop)
    })
}

/// Task rules: `assignment.allow_reassignment_on_reject` and
/// `completion.require_output`.
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_policy_builder_set_task_rules(
    builder: *mut macp_policy_builder,
    allow_reassignment_on_reject: bool,
    require_output: bool,
    error: *mut *mut macp_error,
) -> Status {
    with_builder(builder, error, |b| {
        b.task_rules(allow_reassignment_on_reject, require_output)
            .map(drop)
    })
}

/// Handoff `acceptance.implicit_accept_timeout_ms` (0: no implicit
/// acceptance).
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_policy_builder_set_implicit_accept_timeout_ms(
    builder: *mut macp_policy_builder,
    timeout_ms: u64,
    error: *mut *mut macp_error,
) -> Status {
    with_builder(builder, error, |b| {
        b.implicit_accept_timeout_ms(timeout_ms).map(drop)
    })
}

/// Check the policy as a whole (a designated-role authority names a role,
/// `weighted` voting has weights, thresholds suit the algorithm) and write
/// it to `*out_json` as `macp_client_register_policy` and
/// `macp_client_what_if_replay` take it: `{"policy_id", "mode",
/// "description", "schema_version", "rules"}`. A failed check is
/// `MACP_STATUS_INVALID_ARGUMENT` naming the field. The builder stays usable.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_policy_builder_to_json(
    builder: *const macp_policy_builder,
    out_json: *mut *mut macp_string,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_json, "out_json")?;
        *out_json = std::ptr::null_mut();
        let h = handle::get(builder)?;
        let v = h
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .to_value()?;
        write_string(out_json, &v.to_string());
        Ok(())
    })
}

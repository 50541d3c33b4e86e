//! `macp.mode.task.v1` helpers: TaskRequest (initiator), TaskAccept and
//! TaskReject (an eligible assignee), TaskUpdate, TaskComplete and TaskFail
//! (the active assignee). Each sends one message and blocks for its
//! acknowledgement; `ack` may be NULL. Resolve the session with
//! `macp_session_commit` (e.g. `"task.completed"` or `"task.failed"`).
//!
//! An `assignee` argument names the sending participant; NULL or `""` lets
//! the runtime take the authenticated sender.

use std::ffi::c_char;

use super::ack::macp_ack;
use super::args::{arg_bytes, arg_nonempty, arg_or_empty};
use super::call::{block, macp_call_options, Kind};
use super::error::macp_error;
use super::send::send_with;
use super::session::macp_session;
use crate::error::Status;

/// Open the session's task: `task_id` (required), `title`, `instructions`,
/// `requested_assignee` (NULL: any eligible participant may accept), `input`
/// (NULL or `input_len` bytes) and a requested deadline in Unix ms (0 for
/// none; negative is refused).
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `input` as described.
#[no_mangle]
pub unsafe extern "C" fn macp_task_request(
    session: *const macp_session,
    task_id: *const c_char,
    title: *const c_char,
    instructions: *const c_char,
    requested_assignee: *const c_char,
    input: *const u8,
    input_len: usize,
    deadline_unix_ms: i64,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let title = arg_or_empty(title, "title")?;
        let instructions = arg_or_empty(instructions, "instructions")?;
        let assignee = arg_or_empty(requested_assignee, "requested_assignee")?;
        let input = arg_bytes(input, input_len, "input")?;
        block(
            call,
            Kind::Send,
            s.task()
                .request(id, title, instructions, assignee, input, deadline_unix_ms),
        )
    })
}

/// Take the task; the first accepted TaskAccept makes its sender the
/// session's one assignee. `assignee` and `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_task_accept(
    session: *const macp_session,
    task_id: *const c_char,
    assignee: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = arg_or_empty(assignee, "assignee")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.task().accept(id, who, why))
    })
}

/// Decline the task (or, under a reassignment policy, give it back).
/// `assignee` and `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_task_reject(
    session: *const macp_session,
    task_id: *const c_char,
    assignee: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = arg_or_empty(assignee, "assignee")?;
        let why = arg_or_empty(reason, "reason")?;
        block(call, Kind::Send, s.task().reject(id, who, why))
    })
}

/// Report progress: a free-form `status` and `message` (may be NULL),
/// `progress` as a fraction in [0, 1], and `partial_output` (NULL or
/// `partial_output_len` bytes).
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `partial_output` as described.
#[no_mangle]
pub unsafe extern "C" fn macp_task_update(
    session: *const macp_session,
    task_id: *const c_char,
    status: *const c_char,
    progress: f64,
    message: *const c_char,
    partial_output: *const u8,
    partial_output_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let st = arg_or_empty(status, "status")?;
        let msg = arg_or_empty(message, "message")?;
        let out = arg_bytes(partial_output, partial_output_len, "partial_output")?;
        block(
            call,
            Kind::Send,
            s.task().update(id, st, progress, msg, out),
        )
    })
}

/// Report success with `output` (NULL or `output_len` bytes) and a `summary`
/// (may be NULL). The session stays open until the initiator commits.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `output` as described.
#[no_mangle]
pub unsafe extern "C" fn macp_task_complete(
    session: *const macp_session,
    task_id: *const c_char,
    assignee: *const c_char,
    output: *const u8,
    output_len: usize,
    summary: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = arg_or_empty(assignee, "assignee")?;
        let out = arg_bytes(output, output_len, "output")?;
        let sum = arg_or_empty(summary, "summary")?;
        block(call, Kind::Send, s.task().complete(id, who, out, sum))
    })
}

/// Report a bounded failure: a machine-readable `error_code` and a `reason`
/// (both may be NULL), and whether a retry may succeed.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_task_fail(
    session: *const macp_session,
    task_id: *const c_char,
    assignee: *const c_char,
    error_code: *const c_char,
    reason: *const c_char,
    retryable: bool,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = arg_or_empty(assignee, "assignee")?;
        let code = arg_or_empty(error_code, "error_code")?;
        let why = arg_or_empty(reason, "reason")?;
        block(
            call,
            Kind::Send,
            s.task().fail(id, who, code, why, retryable),
        )
    })
}

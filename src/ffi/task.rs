//! `macp.mode.task.v1` helpers: TaskRequest (initiator), TaskAccept and
//! TaskReject (an eligible assignee), TaskUpdate, TaskComplete and TaskFail
//! (the active assignee). Each sends one message and blocks for its
//! acknowledgement; `ack` may be NULL. Resolve the session with
//! `macp_session_commit` (e.g. `"task.completed"` or `"task.failed"`).
//!
//! An `assignee` argument names the sending participant; NULL or `""` lets
//! the runtime take the authenticated sender.

use std::ffi::c_char;

use super::session::{macp_ack, macp_session};
use super::session::{opt, send_with};
use super::{arg_bytes, arg_nonempty, macp_error};
use crate::error::Status;
use crate::rt::block_on;

/// Open the session's task: `task_id` (required), `title`, `instructions`,
/// `requested_assignee` (NULL: any eligible participant may accept), `input`
/// (NULL or `input_len` bytes) and a requested deadline in Unix ms (0 for
/// none; negative is refused).
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
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let title = opt(title, "title")?;
        let instructions = opt(instructions, "instructions")?;
        let assignee = opt(requested_assignee, "requested_assignee")?;
        let input = arg_bytes(input, input_len, "input")?;
        block_on(s.request_task(id, title, instructions, assignee, input, deadline_unix_ms))?
    })
}

/// Take the task; the first accepted TaskAccept makes its sender the
/// session's one assignee. `assignee` and `reason` may be NULL.
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
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = opt(assignee, "assignee")?;
        let why = opt(reason, "reason")?;
        block_on(s.accept_task(id, who, why))?
    })
}

/// Decline the task (or, under a reassignment policy, give it back).
/// `assignee` and `reason` may be NULL.
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
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = opt(assignee, "assignee")?;
        let why = opt(reason, "reason")?;
        block_on(s.reject_task(id, who, why))?
    })
}

/// Report progress: a free-form `status` and `message` (may be NULL),
/// `progress` as a fraction in [0, 1], and `partial_output` (NULL or
/// `partial_output_len` bytes).
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
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let st = opt(status, "status")?;
        let msg = opt(message, "message")?;
        let out = arg_bytes(partial_output, partial_output_len, "partial_output")?;
        block_on(s.update_task(id, st, progress, msg, out))?
    })
}

/// Report success with `output` (NULL or `output_len` bytes) and a `summary`
/// (may be NULL). The session stays open until the initiator commits.
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
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = opt(assignee, "assignee")?;
        let out = arg_bytes(output, output_len, "output")?;
        let sum = opt(summary, "summary")?;
        block_on(s.complete_task(id, who, out, sum))?
    })
}

/// Report a bounded failure: a machine-readable `error_code` and a `reason`
/// (both may be NULL), and whether a retry may succeed.
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
    error: *mut *mut macp_error,
) -> Status {
    send_with(session, ack, error, |s| {
        let id = arg_nonempty(task_id, "task_id")?;
        let who = opt(assignee, "assignee")?;
        let code = opt(error_code, "error_code")?;
        let why = opt(reason, "reason")?;
        block_on(s.fail_task(id, who, code, why, retryable))?
    })
}

//! Sending on a `macp_session`: any message with an encoded payload (blocking
//! or with a completion callback), a payload given as JSON, the Commitment
//! that resolves the session, and Progress; and the one body every mode
//! helper shares.

use std::ffi::{c_char, c_void};

use super::ack::{fill_ack, macp_ack};
use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_or_empty, arg_str};
use super::call::{block, call_arg, macp_call_options, Kind};
use super::commitment::{commitment_from_c, macp_commitment};
use super::error::guard;
use super::error::{macp_error, macp_error_free, report};
use super::guard::UserData;
use super::handle;
use super::session::macp_session;
use crate::client::Ack;
use crate::error::{Error, Result, Status};
use crate::payload;
use crate::session::Session;

/// Send a message of any type with an already-encoded protobuf payload (for
/// extension modes, or types without a helper). Its `message_id` is
/// `call->message_id` when given (see `macp_call_options`), else a new UUID v4.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `payload` is NULL or `payload_len`
/// readable bytes; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_send(
    session: *const macp_session,
    message_type: *const c_char,
    payload: *const u8,
    payload_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mt = arg_nonempty(message_type, "message_type")?;
        let bytes = arg_bytes(payload, payload_len, "payload")?;
        let s = handle::get(session)?;
        let a = block(
            call,
            Kind::Send,
            s.session.send_raw(mt, bytes.to_vec(), None),
        )?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Completion callback of `macp_session_send_async`: `status` is the outcome;
/// on success `ack` is the acknowledgement and `error` NULL, on failure `ack`
/// is NULL and `error` describes it. Both are borrowed: valid only during the
/// call (do not free `error`).
pub type macp_send_callback = Option<
    unsafe extern "C" fn(
        status: Status,
        ack: *const macp_ack,
        error: *const macp_error,
        user_data: *mut c_void,
    ),
>;

/// Send like `macp_session_send`, without blocking: the message is queued
/// and `callback` is called exactly once with the outcome (after the same
/// retries), so one thread can keep many sends in flight. Returns at once:
/// `MACP_STATUS_OK` when queued (the callback will report the outcome), or a
/// failure for invalid arguments (the callback is then not called).
/// `call` works as for blocking calls: its token cancels the send in flight
/// (the callback then reports `MACP_STATUS_CANCELLED`), and its deadline
/// counts from this call.
///
/// The callback runs on a libmacp thread (its I/O thread, or a runtime
/// worker with `MACP_WORKER_THREADS`), never on one of the application's,
/// even one that is inside a blocking libmacp call: it must return quickly
/// and must not block; blocking libmacp calls made from it fail with
/// `MACP_STATUS_INVALID_STATE`. Completions of concurrent sends may arrive in
/// any order. `user_data` is passed back untouched.
///
/// Ownership: borrows its arguments (the payload and `call`'s contents are
/// copied before it returns; `call->cancel` may be freed at once), and
/// `user_data` until the callback has run; the callback's `ack` and `error`
/// are borrowed for the call. On failure the callback is never called.
///
/// # Safety
/// As `macp_session_send`; `user_data` must stay valid until the callback
/// has been called.
#[no_mangle]
pub unsafe extern "C" fn macp_session_send_async(
    session: *const macp_session,
    message_type: *const c_char,
    payload: *const u8,
    payload_len: usize,
    callback: macp_send_callback,
    user_data: *mut c_void,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let cb = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
        let mt = arg_nonempty(message_type, "message_type")?.to_string();
        let bytes = arg_bytes(payload, payload_len, "payload")?.to_vec();
        let opts = call_arg(call, Kind::Send)?;
        let session = handle::get(session)?.session.clone();
        let ud = UserData(user_data);
        crate::rt::spawn(async move {
            let ud = ud;
            let result = crate::call::run(&opts, session.send_raw(&mt, bytes, None)).await;
            // The task may run on a thread blocked in another call (see
            // `rt::defer`): the callback runs on a libmacp thread.
            crate::rt::defer(move || {
                let ud = ud;
                complete(cb, result, ud.0)
            });
        })?;
        Ok(())
    })
}

/// Report a send's outcome to its callback; the error object lives only for
/// the call.
fn complete(
    cb: unsafe extern "C" fn(Status, *const macp_ack, *const macp_error, *mut c_void),
    result: Result<Ack>,
    user_data: *mut c_void,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match result {
        Ok(a) => {
            let mut ack = std::mem::MaybeUninit::<macp_ack>::uninit();
            fill_ack(ack.as_mut_ptr(), &a);
            // SAFETY: `fill_ack` wrote the whole struct; the callback is the
            // caller's, with its own user_data.
            unsafe { cb(Status::Ok, ack.as_ptr(), std::ptr::null(), user_data) };
        }
        Err(e) => {
            let status = e.status;
            let mut handle: *mut macp_error = std::ptr::null_mut();
            report(&mut handle, e);
            // SAFETY: as above; `handle` is a live error until freed below.
            unsafe { cb(status, std::ptr::null(), handle, user_data) };
            macp_error_free(handle);
        }
    }));
}

/// Send a message whose payload is given as JSON: `payload_json` is encoded
/// as the protobuf message `payload_type` (see `macp_payload_from_json`),
/// or, with `payload_type` NULL, as the type the schema defines for
/// `message_type` in the session's mode (see `macp_payload_type`).
/// The message id and `ack` as in `macp_session_send`.
///
/// The payload is sent as given: nothing is filled in. A `Commitment` sent
/// this way carries only the fields in the JSON; `macp_session_commit`
/// fills in the session's mode, configuration and policy versions left empty.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_send_json(
    session: *const macp_session,
    message_type: *const c_char,
    payload_type: *const c_char,
    payload_json: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mt = arg_nonempty(message_type, "message_type")?;
        let pt = arg_opt_str(payload_type, "payload_type")?;
        let json = arg_str(payload_json, "payload_json")?;
        let s = handle::get(session)?;
        let pt = match pt {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => payload::type_for(s.session.mode(), mt)?,
        };
        let bytes = payload::encode_json(&pt, json)?;
        let a = block(call, Kind::Send, s.session.send_raw(mt, bytes, None))?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Send a Commitment resolving the session. Version fields are the session's
/// bound versions.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// `commitment` is NULL or valid; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_commit(
    session: *const macp_session,
    commitment: *const macp_commitment,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let c = commitment_from_c(commitment)?;
        let s = handle::get(session)?;
        let a = block(call, Kind::Send, s.session.commit(c))?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Report progress in the session (a `Progress` message; it changes no mode
/// state): `progress` out of `total` (0 when unknown; both finite and not
/// negative), an optional `progress_token` and `message`, and optionally the
/// id of the message the work answers (`target_message_id`).
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_progress(
    session: *const macp_session,
    progress_token: *const c_char,
    progress: f64,
    total: f64,
    message: *const c_char,
    target_message_id: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let token = arg_or_empty(progress_token, "progress_token")?;
        let msg = arg_or_empty(message, "message")?;
        let target = arg_or_empty(target_message_id, "target_message_id")?;
        let s = handle::get(session)?;
        let a = block(
            call,
            Kind::Send,
            s.session.progress(token, progress, total, msg, target),
        )?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Run a mode helper: check the session handle, send, fill `ack`.
pub(crate) fn send_with<F>(
    session: *const macp_session,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
    f: F,
) -> Status
where
    F: FnOnce(&Session) -> Result<Ack>,
{
    guard(error, || {
        let s = handle::get(session)?;
        let a = f(&s.session)?;
        fill_ack(ack, &a);
        Ok(())
    })
}

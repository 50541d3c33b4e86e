//! `macp_session`: one participant's handle on one session: start, open,
//! read, and the session's lifecycle (suspend, resume, cancel). Sending is in
//! `send.rs`, the mode helpers in their mode's file.

use std::ffi::{c_char, CString};
use std::sync::PoisonError;

use super::ack::{fill_ack, macp_ack};
use super::args::{arg_nonempty, arg_or_empty, arg_out, c_string};
use super::call::{block, macp_call_options, Kind};
use super::client::macp_client;
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::session_list::{macp_session_info, write_info};
use super::start_options::macp_start_options;
use crate::error::Status;
use crate::session::Session;

/// One participant's handle on one session. Created by `macp_session_start`
/// or `macp_session_open`, freed with `macp_session_free` (which ends nothing
/// on the runtime: use `macp_session_cancel` for that). Thread-safe.
pub struct macp_session {
    _private: [u8; 0],
}

pub(crate) struct SessionObject {
    pub(crate) session: Session,
    id: CString,
    mode: CString,
}

handle_type!(macp_session => SessionObject);

/// # Safety
/// `out` is writable.
pub(crate) unsafe fn write_session(out: *mut *mut macp_session, session: Session) {
    let obj = SessionObject {
        id: c_string(session.id()),
        mode: c_string(session.mode()),
        session,
    };
    handle::write_new(out, obj);
}

/// Start a session of `mode` (e.g. `MACP_MODE_DECISION`) with this client's
/// identity as initiator: sends `SessionStart`. On success `*out` is the
/// session (free it with `macp_session_free`) and `*ack` (may be NULL) the
/// acknowledgement. `opts` stays owned by the caller.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_session_free`) and `*ack` (when not NULL) holds the
/// acknowledgement; on failure `*out` is NULL and `*ack` is untouched.
///
/// # Safety
/// `mode` is NULL or NUL-terminated; `out` is NULL or writable; `ack` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_start(
    client: *const macp_client,
    mode: *const c_char,
    opts: *const macp_start_options,
    out: *mut *mut macp_session,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let mode = arg_nonempty(mode, "mode")?;
        let c = handle::get(client)?.client.clone();
        let o = handle::get(opts)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let (session, a) = block(call, Kind::Send, Session::start(c, mode, o))?;
        fill_ack(ack, &a);
        write_session(out, session);
        Ok(())
    })
}

/// Open a handle on an existing session (to take part as a participant, or
/// as its initiator from another client). Reads the session once
/// (`GetSession`) to learn its mode and bound versions, so an unknown session
/// fails here with `MACP_STATUS_SESSION_NOT_FOUND`, and one this identity may
/// not read with `MACP_STATUS_FORBIDDEN`. Free it with `macp_session_free`.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_session_free`); on failure `*out` is NULL.
///
/// # Safety
/// `session_id` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_open(
    client: *const macp_client,
    session_id: *const c_char,
    out: *mut *mut macp_session,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let id = arg_nonempty(session_id, "session_id")?;
        let c = handle::get(client)?.client.clone();
        let session = block(call, Kind::Other, Session::open(c, id))?;
        write_session(out, session);
        Ok(())
    })
}

/// Release a session handle. The session itself goes on. NULL and
/// already-closed handles are ignored.
///
/// Ownership: takes `session` and frees it. NULL and already-freed handles are
/// ignored.
#[no_mangle]
pub extern "C" fn macp_session_free(session: *mut macp_session) {
    guard_value((), || drop(handle::free(session)))
}

/// The session id.
///
/// Ownership: returns a string borrowed from `session`, valid until
/// `macp_session_free(session)`; `""` when `session` is not a live handle.
#[no_mangle]
pub extern "C" fn macp_session_id(session: *const macp_session) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle::get(session).map_or(c"".as_ptr(), |s| s.id.as_ptr())
    })
}

/// The session's mode.
///
/// Ownership: returns a string borrowed from `session`, valid until
/// `macp_session_free(session)`; `""` when `session` is not a live handle.
#[no_mangle]
pub extern "C" fn macp_session_mode(session: *const macp_session) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle::get(session).map_or(c"".as_ptr(), |s| s.mode.as_ptr())
    })
}

/// Current metadata and state of the session (`GetSession`). Free `*out`
/// with `macp_session_info_free`.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_session_info_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_get_info(
    session: *const macp_session,
    out: *mut *mut macp_session_info,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let s = handle::get(session)?;
        let meta = block(call, Kind::Other, s.session.metadata())?;
        write_info(out, &meta);
        Ok(())
    })
}

/// Cancel the session (initiator only); `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// `reason` is NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_cancel(
    session: *const macp_session,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let reason = arg_or_empty(reason, "reason")?;
        let s = handle::get(session)?;
        let a = block(call, Kind::Other, s.session.cancel(reason))?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Suspend the session (initiator or policy-delegated roles): mode messages
/// are refused while it is suspended and its remaining TTL is banked.
/// `reason` may be NULL; `ack` (may be NULL) reports the new state.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// `reason` is NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_suspend(
    session: *const macp_session,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let reason = arg_or_empty(reason, "reason")?;
        let s = handle::get(session)?;
        fill_ack(ack, &block(call, Kind::Other, s.session.suspend(reason))?);
        Ok(())
    })
}

/// Resume a suspended session; `reason` may be NULL.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// As `macp_session_suspend`.
#[no_mangle]
pub unsafe extern "C" fn macp_session_resume(
    session: *const macp_session,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let reason = arg_or_empty(reason, "reason")?;
        let s = handle::get(session)?;
        fill_ack(ack, &block(call, Kind::Other, s.session.resume(reason))?);
        Ok(())
    })
}

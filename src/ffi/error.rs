//! `macp_error`: the details of one failed call.

use std::ffi::{c_char, CString};

use super::{c_string, guard_value, Table};
use crate::error::{Error, Status};

/// The details of a failed call: status, registry code, message, details
/// bytes and the ids involved. Created by a failing `macp_*` call when its
/// `error` argument is not NULL; freed with `macp_error_free`. Every string and
/// buffer read from it is borrowed and stays valid until that free.
pub struct macp_error {
    _private: [u8; 0],
}

pub(crate) struct ErrorObject {
    pub(crate) error: Error,
    code: CString,
    message: CString,
    session_id: CString,
    message_id: CString,
}

pub(crate) static ERRORS: Table<ErrorObject> = Table::new("macp_error");

/// Store `e` as a new error object in `*out` (when `out` is not NULL).
pub(crate) fn report(out: *mut *mut macp_error, e: Error) {
    if out.is_null() {
        return;
    }
    let obj = ErrorObject {
        code: c_string(&e.code),
        message: c_string(&e.message),
        session_id: c_string(&e.session_id),
        message_id: c_string(&e.message_id),
        error: e,
    };
    let h = ERRORS.insert(obj);
    // SAFETY: `out` is a writable `macp_error *` (checked non-NULL above).
    unsafe { *out = h as *mut macp_error };
}

/// The status of the failure (`MACP_STATUS_INVALID_HANDLE` for a bad `err`).
#[no_mangle]
pub extern "C" fn macp_error_status(err: *const macp_error) -> Status {
    guard_value(Status::InvalidHandle, || {
        ERRORS
            .get(err)
            .map_or(Status::InvalidHandle, |o| o.error.status)
    })
}

/// The error code string: the MACP registry code exactly as the runtime sent
/// it (e.g. `"SESSION_NOT_FOUND"`, even one this library does not know), or the
/// SDK-local status name (e.g. `"TIMEOUT"`). Borrowed; never NULL.
#[no_mangle]
pub extern "C" fn macp_error_code(err: *const macp_error) -> *const c_char {
    field(err, |o| o.code.as_ptr())
}

/// A readable message (the runtime's, or the library's). Borrowed; never NULL.
#[no_mangle]
pub extern "C" fn macp_error_message(err: *const macp_error) -> *const c_char {
    field(err, |o| o.message.as_ptr())
}

/// The session id the failure concerns, or `""`. Borrowed; never NULL.
#[no_mangle]
pub extern "C" fn macp_error_session_id(err: *const macp_error) -> *const c_char {
    field(err, |o| o.session_id.as_ptr())
}

/// The message id the failure concerns, or `""`. A failed send always reports
/// the id it used, so the same message can be retried with the same id.
/// Borrowed; never NULL.
#[no_mangle]
pub extern "C" fn macp_error_message_id(err: *const macp_error) -> *const c_char {
    field(err, |o| o.message_id.as_ptr())
}

/// The runtime's details bytes (`MACPError.details` or the
/// `macp-error-details-bin` metadata; often UTF-8 JSON such as a policy
/// denial's reasons). Sets `*data`/`*len` to a borrowed buffer, or NULL/0 when
/// there are none or `err` is invalid. Either out-pointer may be NULL.
///
/// # Safety
/// `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_error_details(
    err: *const macp_error,
    data: *mut *const u8,
    len: *mut usize,
) {
    let (p, n) = guard_value((std::ptr::null(), 0), || match ERRORS.get(err) {
        Ok(o) if !o.error.details.is_empty() => (o.error.details.as_ptr(), o.error.details.len()),
        _ => (std::ptr::null(), 0),
    });
    if !data.is_null() {
        *data = p;
    }
    if !len.is_null() {
        *len = n;
    }
}

/// The gRPC status code when the failure was a gRPC status, else 0.
#[no_mangle]
pub extern "C" fn macp_error_grpc_code(err: *const macp_error) -> i32 {
    guard_value(0, || ERRORS.get(err).map_or(0, |o| o.error.grpc_code))
}

/// Free an error. NULL and already-freed errors are ignored.
///
/// # Safety
/// Strings borrowed from `err` must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn macp_error_free(err: *mut macp_error) {
    guard_value((), || {
        ERRORS.remove(err);
    })
}

/// A borrowed string field of an error; `""` for an invalid handle. The
/// pointer stays valid while the error object is alive because the table
/// holds it until `macp_error_free`.
fn field(err: *const macp_error, f: impl FnOnce(&ErrorObject) -> *const c_char) -> *const c_char {
    guard_value(c"".as_ptr(), || match ERRORS.get(err) {
        Ok(o) => f(&o),
        Err(_) => c"invalid macp_error handle".as_ptr(),
    })
}

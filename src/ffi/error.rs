//! `macp_error`: the details of one failed call.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::args::c_string;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use crate::error::{Error, Result, Status};

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

handle_type!(macp_error => ErrorObject);

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
    // SAFETY: `out` is a writable `macp_error *` (checked non-NULL above).
    unsafe { handle::write_new(out, obj) };
}

/// Run the body of an `extern "C"` function: catch panics, report the error.
pub(crate) fn guard<F>(error: *mut *mut macp_error, body: F) -> Status
where
    F: FnOnce() -> Result<()>,
{
    if !error.is_null() {
        // SAFETY: the caller passes either NULL or a writable `macp_error *`.
        unsafe { *error = std::ptr::null_mut() };
    }
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(Error::new(
            Status::Panic,
            format!("internal libmacp error: {what}"),
        ))
    });
    match result {
        Ok(()) => Status::Ok,
        Err(e) => {
            let status = e.status;
            report(error, e);
            status
        }
    }
}

/// The status of the failure (`MACP_STATUS_INVALID_HANDLE` for a bad `err`).
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_error_status(err: *const macp_error) -> Status {
    guard_value(Status::InvalidHandle, || {
        handle::get(err).map_or(Status::InvalidHandle, |o| o.error.status)
    })
}

/// The error code string: the MACP registry code exactly as the runtime sent
/// it (e.g. `"SESSION_NOT_FOUND"`, even one this library does not know), or the
/// SDK-local status name (e.g. `"TIMEOUT"`). Borrowed; never NULL.
///
/// Ownership: returns a string borrowed from `err`, valid until
/// `macp_error_free(err)`; `"invalid macp_error handle"` when `err` is not a
/// live handle.
#[no_mangle]
pub extern "C" fn macp_error_code(err: *const macp_error) -> *const c_char {
    field(err, |o| o.code.as_ptr())
}

/// A readable message (the runtime's, or the library's). Borrowed; never NULL.
///
/// Ownership: returns a string borrowed from `err`, valid until
/// `macp_error_free(err)`; `"invalid macp_error handle"` when `err` is not a
/// live handle.
#[no_mangle]
pub extern "C" fn macp_error_message(err: *const macp_error) -> *const c_char {
    field(err, |o| o.message.as_ptr())
}

/// The session id the failure concerns, or `""`. Borrowed; never NULL.
///
/// Ownership: returns a string borrowed from `err`, valid until
/// `macp_error_free(err)`; `"invalid macp_error handle"` when `err` is not a
/// live handle.
#[no_mangle]
pub extern "C" fn macp_error_session_id(err: *const macp_error) -> *const c_char {
    field(err, |o| o.session_id.as_ptr())
}

/// The message id the failure concerns, or `""`. A failed send always reports
/// the id it used, so the same message can be retried with the same id.
/// Borrowed; never NULL.
///
/// Ownership: returns a string borrowed from `err`, valid until
/// `macp_error_free(err)`; `"invalid macp_error handle"` when `err` is not a
/// live handle.
#[no_mangle]
pub extern "C" fn macp_error_message_id(err: *const macp_error) -> *const c_char {
    field(err, |o| o.message_id.as_ptr())
}

/// What `macp_error_delivery` reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_delivery {
    /// Nothing reached the runtime: refused locally, or the call failed
    /// before its request was handed to the transport.
    MACP_DELIVERY_NOT_SENT = 0,
    /// The runtime answered and refused it: it was not applied.
    MACP_DELIVERY_REFUSED = 1,
    /// The request went out and no answer decided it (timeout,
    /// cancellation, a broken connection): it may have been applied. Re-send
    /// a message with the same message id (`macp_error_message_id`; see
    /// `macp_call_options`): the runtime acknowledges an id it already
    /// accepted as a duplicate instead of applying it twice.
    MACP_DELIVERY_UNKNOWN = 2,
}

/// Whether the failed call's request may have taken effect (a
/// `macp_delivery`); `MACP_DELIVERY_UNKNOWN` for an invalid `err`.
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_error_delivery(err: *const macp_error) -> i32 {
    guard_value(macp_delivery::MACP_DELIVERY_UNKNOWN as i32, || {
        handle::get(err).map_or(macp_delivery::MACP_DELIVERY_UNKNOWN as i32, |o| {
            (match o.error.delivery {
                crate::error::Delivery::NotSent => macp_delivery::MACP_DELIVERY_NOT_SENT,
                crate::error::Delivery::Refused => macp_delivery::MACP_DELIVERY_REFUSED,
                crate::error::Delivery::Unknown => macp_delivery::MACP_DELIVERY_UNKNOWN,
            }) as i32
        })
    })
}

/// The runtime's details bytes (`MACPError.details` or the
/// `macp-error-details-bin` metadata; often UTF-8 JSON such as a policy
/// denial's reasons). Sets `*data`/`*len` to a borrowed buffer, or NULL/0 when
/// there are none or `err` is invalid. Either out-pointer may be NULL.
///
/// Ownership: `*data` is borrowed from `err`, valid until
/// `macp_error_free(err)`.
///
/// # Safety
/// `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_error_details(
    err: *const macp_error,
    data: *mut *const u8,
    len: *mut usize,
) {
    let (p, n) = guard_value((std::ptr::null(), 0), || match handle::get(err) {
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
///
/// Ownership: borrows `err`.
#[no_mangle]
pub extern "C" fn macp_error_grpc_code(err: *const macp_error) -> i32 {
    guard_value(0, || handle::get(err).map_or(0, |o| o.error.grpc_code))
}

/// Free an error.
///
/// Ownership: takes `err` and frees it; strings and details borrowed from it
/// become invalid. NULL and already-freed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_error_free(err: *mut macp_error) {
    guard_value((), || drop(handle::free(err)))
}

/// A borrowed string field of an error; `"invalid macp_error handle"` for
/// an invalid handle. The pointer stays valid while the error object is
/// alive because the table holds it until `macp_error_free`.
fn field(err: *const macp_error, f: impl FnOnce(&ErrorObject) -> *const c_char) -> *const c_char {
    guard_value(c"".as_ptr(), || match handle::get(err) {
        Ok(o) => f(&o),
        Err(_) => c"invalid macp_error handle".as_ptr(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn guard_turns_panics_into_status() {
        let mut err: *mut macp_error = std::ptr::null_mut();
        let st = guard(&mut err, || panic!("boom"));
        assert_eq!(st, Status::Panic);
        assert!(!err.is_null());
        let msg = unsafe { CStr::from_ptr(macp_error_message(err)) };
        assert!(msg.to_str().unwrap().contains("boom"));
        macp_error_free(err);
    }
}

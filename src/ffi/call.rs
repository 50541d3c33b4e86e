//! `macp_call_options` and `macp_cancel`: how one call runs.
//!
//! Every function that talks to the runtime takes a `const
//! macp_call_options *call` (NULL for the defaults) before its `error`: a
//! cancellation token, a deadline for the whole call, and for sends the
//! `message_id` to use. A cancelled or timed-out call returns promptly, makes
//! no further attempt, and its error says whether the request may have been
//! applied (`macp_error_delivery`) and, for a send, which message id it used.

use std::ffi::c_char;
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::args::{arg_opt_str, arg_out};
use super::error::{guard, macp_error};
use super::guard::guard_value;
use super::handle::{self, handle_type};
use crate::call::CallOptions;
use crate::error::{Error, Result, Status};

/// A cancellation token: `macp_cancel_trigger` ends every call made with it
/// (see `macp_call_options`), at once or as soon as they start. Thread-safe;
/// one token may serve many calls. Created with `macp_cancel_new`, freed
/// with `macp_cancel_free`.
pub struct macp_cancel {
    _private: [u8; 0],
}

pub(crate) struct CancelObject {
    token: CancellationToken,
}

handle_type!(macp_cancel => CancelObject);

/// How one call runs. Get the defaults from `macp_call_options_default`
/// and change what you need; pass NULL for the defaults.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_call_options {
    /// NULL, or a token whose trigger ends the call with
    /// `MACP_STATUS_CANCELLED` (default NULL).
    pub cancel: *const macp_cancel,
    /// A deadline for the whole call, retries included, in milliseconds;
    /// it ends the call with `MACP_STATUS_TIMEOUT`. 0: none beyond the
    /// client's per-attempt call timeout (default 0).
    pub timeout_ms: u64,
    /// For a function that sends an envelope: its `message_id` (at most 128
    /// bytes, not starting with `implicit-accept:`), so that it can be
    /// re-sent idempotently after a failure of unknown outcome. NULL
    /// generates a UUID v4 (default). Other functions refuse a non-NULL id
    /// with `MACP_STATUS_INVALID_ARGUMENT`.
    pub message_id: *const c_char,
    /// NULL, or the W3C `traceparent` of this call's requests (checked as
    /// `macp_client_set_trace_context` checks it), over the session's and
    /// the client's trace context (default NULL).
    pub traceparent: *const c_char,
    /// NULL, or the W3C `tracestate` sent with `traceparent` (default NULL;
    /// ignored without `traceparent`).
    pub tracestate: *const c_char,
}

/// The default call options: not cancellable, no deadline of its own, a
/// generated message id.
///
/// Ownership: returns a value (nothing to free).
#[no_mangle]
pub extern "C" fn macp_call_options_default() -> macp_call_options {
    macp_call_options {
        cancel: std::ptr::null(),
        timeout_ms: 0,
        message_id: std::ptr::null(),
        traceparent: std::ptr::null(),
        tracestate: std::ptr::null(),
    }
}

/// Make a cancellation token.
///
/// Ownership: on success `*out` is a new handle owned by the caller (free it
/// with `macp_cancel_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_cancel_new(
    out: *mut *mut macp_cancel,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        handle::write_new(
            out,
            CancelObject {
                token: CancellationToken::new(),
            },
        );
        Ok(())
    })
}

/// Trigger `cancel`: every call made with it ends with
/// `MACP_STATUS_CANCELLED`, those running now and those started later.
/// Safe from any thread, from callbacks and signal-free contexts alike;
/// triggering twice is harmless. NULL and freed handles are ignored.
///
/// Ownership: borrows `cancel`.
#[no_mangle]
pub extern "C" fn macp_cancel_trigger(cancel: *const macp_cancel) {
    guard_value((), || {
        if let Ok(c) = handle::get(cancel) {
            c.token.cancel();
        }
    })
}

/// Whether `cancel` has been triggered (false for NULL or freed handles).
///
/// Ownership: borrows `cancel`.
#[no_mangle]
pub extern "C" fn macp_cancel_is_triggered(cancel: *const macp_cancel) -> bool {
    guard_value(false, || {
        handle::get(cancel).is_ok_and(|c| c.token.is_cancelled())
    })
}

/// Free a cancellation token. Calls already running with it keep it until
/// they end (it can no longer be triggered through this handle).
///
/// Ownership: takes `cancel` and frees it. NULL and already-freed handles
/// are ignored.
#[no_mangle]
pub extern "C" fn macp_cancel_free(cancel: *mut macp_cancel) {
    guard_value((), || drop(handle::free(cancel)))
}

/// What a function does with `call->message_id`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// It builds and sends an envelope: the id is that envelope's.
    Send,
    /// It sends an envelope the caller encoded, whose id is its own.
    Encoded,
    /// It sends no envelope.
    Other,
}

/// Read the call options of a function of `kind`.
///
/// # Safety
/// `call` is NULL or points to a valid `macp_call_options`.
pub(crate) unsafe fn call_arg(call: *const macp_call_options, kind: Kind) -> Result<CallOptions> {
    let Some(c) = call.as_ref() else {
        return Ok(CallOptions::default());
    };
    let cancel = if c.cancel.is_null() {
        None
    } else {
        Some(handle::get(c.cancel)?.token.clone())
    };
    let message_id = arg_opt_str(c.message_id, "call->message_id")?.map(str::to_string);
    if message_id.is_some() {
        match kind {
            Kind::Send => {}
            Kind::Encoded => return Err(Error::invalid_argument(
                "call->message_id must be NULL: the encoded envelope carries its own message_id",
            )),
            Kind::Other => {
                return Err(Error::invalid_argument(
                    "call->message_id must be NULL: this function sends no envelope",
                ))
            }
        }
    }
    if let Some(id) = &message_id {
        crate::client::validate_message_id(id)?;
    }
    let timeout = match c.timeout_ms {
        0 => None,
        ms if ms > MAX_TIMEOUT_MS => {
            return Err(Error::invalid_argument(format!(
                "call->timeout_ms must be at most {MAX_TIMEOUT_MS} (one day)"
            )))
        }
        ms => Some(Duration::from_millis(ms)),
    };
    let trace = match arg_opt_str(c.traceparent, "call->traceparent")? {
        Some(tp) => Some(crate::trace::TraceContext::new(
            tp,
            arg_opt_str(c.tracestate, "call->tracestate")?,
        )?),
        None => None,
    };
    Ok(CallOptions {
        cancel,
        timeout,
        message_id,
        trace,
    })
}

const MAX_TIMEOUT_MS: u64 = 24 * 3600 * 1000;

/// Run `fut`, the work of a blocking C function of `kind`, under the
/// caller's `call` options.
///
/// # Safety
/// `call` is NULL or points to a valid `macp_call_options`.
pub(crate) unsafe fn block<T>(
    call: *const macp_call_options,
    kind: Kind,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    let opts = call_arg(call, kind)?;
    // Boxed here, once: the call's state machine is several KiB, and the
    // layers below (the call options, the runtime) would each move it.
    crate::rt::block_on(crate::call::run(&opts, Box::pin(fut)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let mut o = macp_call_options_default();
        assert!(unsafe { call_arg(&o, Kind::Other) }.is_ok());
        o.message_id = c"m-1".as_ptr();
        assert_eq!(
            unsafe { call_arg(&o, Kind::Other) }.unwrap_err().status,
            Status::InvalidArgument
        );
        assert_eq!(
            unsafe { call_arg(&o, Kind::Send) }
                .unwrap()
                .message_id
                .as_deref(),
            Some("m-1")
        );
        o.message_id = std::ptr::null();
        o.cancel = 0x10 as *const macp_cancel;
        assert_eq!(
            unsafe { call_arg(&o, Kind::Send) }.unwrap_err().status,
            Status::InvalidHandle
        );
        o.cancel = std::ptr::null();
        o.timeout_ms = u64::MAX;
        assert_eq!(
            unsafe { call_arg(&o, Kind::Send) }.unwrap_err().status,
            Status::InvalidArgument
        );
    }
}

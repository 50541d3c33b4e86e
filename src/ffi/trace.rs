//! W3C trace context on a client (the default of all its calls) or on a
//! session (its own calls).

use std::ffi::c_char;

use super::args::{arg_opt_str, arg_str};
use super::client::macp_client;
use super::error::{guard, macp_error};
use super::handle;
use super::session::macp_session;
use crate::error::{Result, Status};
use crate::trace::TraceContext;

/// The context `traceparent`/`tracestate` name: `None` when `traceparent`
/// is NULL.
///
/// # Safety
/// Both are NULL or NUL-terminated strings.
unsafe fn trace_arg(
    traceparent: *const c_char,
    tracestate: *const c_char,
) -> Result<Option<TraceContext>> {
    if traceparent.is_null() {
        return Ok(None);
    }
    let tp = arg_str(traceparent, "traceparent")?;
    let ts = arg_opt_str(tracestate, "tracestate")?;
    TraceContext::new(tp, ts).map(Some)
}

/// The W3C trace context every call of this client carries, as the gRPC
/// metadata `traceparent` (and `tracestate`), unless a session has its own
/// (`macp_session_set_trace_context`). `traceparent` is checked here:
/// version `00`, lowercase hex, non-zero ids, 55 characters
/// (`00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`); `tracestate`
/// may be NULL. A NULL `traceparent` removes the context. Applies to calls
/// that start afterwards, and to watchers when they next open their stream.
///
/// Ownership: borrows its arguments; the values are copied into `client`.
///
/// # Safety
/// `traceparent` and `tracestate` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn macp_client_set_trace_context(
    client: *const macp_client,
    traceparent: *const c_char,
    tracestate: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let t = trace_arg(traceparent, tracestate)?;
        handle::get(client)?.client.set_trace_context(t);
        Ok(())
    })
}

/// The W3C trace context of this session's own calls (sends, mode messages,
/// commitments, metadata, suspend, resume, cancel), overriding the client's
/// default; checked as in `macp_client_set_trace_context`. A NULL
/// `traceparent` removes it (the client's default applies again).
///
/// Ownership: borrows its arguments; the values are copied into `session`.
///
/// # Safety
/// `traceparent` and `tracestate` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn macp_session_set_trace_context(
    session: *const macp_session,
    traceparent: *const c_char,
    tracestate: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let t = trace_arg(traceparent, tracestate)?;
        handle::get(session)?.session.set_trace_context(t);
        Ok(())
    })
}

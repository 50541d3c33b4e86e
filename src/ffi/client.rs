//! `macp_client`: a connection to a runtime with one identity.

use std::ffi::{c_char, CString};
use std::sync::{Arc, PoisonError};

use macp_pb::pb;
use prost::Message;

use super::ack::{fill_ack, macp_ack};
use super::args::{arg_bytes, arg_nonempty, arg_or_empty, arg_out, c_string};
use super::call::{block, macp_call_options, Kind};
use super::client_options::macp_client_options;
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::session_list::{macp_session_info, macp_session_list, write_info, write_list};
use crate::client::Client;
use crate::error::{Error, Status};

/// A connected MACP client with one identity. Safe to share between threads:
/// every call may be made from any thread, concurrently. Created with
/// `macp_client_new`, freed with `macp_client_free`.
pub struct macp_client {
    _private: [u8; 0],
}

pub(crate) struct ClientObject {
    pub(crate) client: Arc<Client>,
    protocol_version: CString,
}

handle_type!(macp_client => ClientObject);

/// Connect to the runtime and negotiate the protocol version (`Initialize`).
/// Blocks up to the connect timeout. On success `*out` is a client to free
/// with `macp_client_free`; `opts` stays owned by the caller.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_client_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_new(
    opts: *const macp_client_options,
    out: *mut *mut macp_client,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let cfg = handle::get(opts)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let client = block(call, Kind::Other, Client::connect(cfg))?;
        let obj = ClientObject {
            protocol_version: c_string(client.protocol_version()),
            client: Arc::new(client),
        };
        handle::write_new(out, obj);
        Ok(())
    })
}

/// Free a client: calls still running on it (from other threads) end with
/// `MACP_STATUS_CANCELLED`, and sessions opened from it fail with
/// `MACP_STATUS_CANCELLED` from then on (they must still be closed). NULL and
/// already-freed clients are ignored.
///
/// Ownership: takes `client` and frees it. NULL and already-freed handles are
/// ignored.
#[no_mangle]
pub extern "C" fn macp_client_free(client: *mut macp_client) {
    guard_value((), || {
        if let Some(obj) = handle::free(client) {
            obj.client.shutdown();
        }
    })
}

/// The negotiated protocol version (e.g. `"1.0"`).
///
/// Ownership: returns a string borrowed from `client`, valid until
/// `macp_client_free(client)`; `""` when `client` is not a live handle.
#[no_mangle]
pub extern "C" fn macp_client_protocol_version(client: *const macp_client) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle::get(client).map_or(c"".as_ptr(), |o| o.protocol_version.as_ptr())
    })
}

/// Metadata and state of any session this identity may read (`GetSession`).
/// Free `*out` with `macp_session_info_free`.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_session_info_free`); on failure `*out` is NULL.
///
/// # Safety
/// `session_id` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_get_session(
    client: *const macp_client,
    session_id: *const c_char,
    out: *mut *mut macp_session_info,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let id = arg_nonempty(session_id, "session_id")?;
        let c = &handle::get(client)?.client;
        let meta = block(call, Kind::Other, c.get_session(id))?;
        write_info(out, &meta);
        Ok(())
    })
}

/// Cancel a session this identity started (`CancelSession`); `reason` may be
/// NULL. Cancelling an already-terminal session succeeds and reports its state
/// in `*ack` (which may be NULL).
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_cancel_session(
    client: *const macp_client,
    session_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let id = arg_nonempty(session_id, "session_id")?;
        let reason = arg_or_empty(reason, "reason")?;
        let c = &handle::get(client)?.client;
        let a = block(call, Kind::Other, c.cancel_session(id, reason))?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Send an envelope exactly as encoded (`envelope`, `envelope_len` bytes of
/// a protobuf `Envelope`, e.g. from `macp_envelope_encode`): no field is
/// filled in or checked beyond a non-empty `message_type` and a valid
/// `message_id`, so any session, mode, version or timestamp can be sent,
/// including ones the runtime will refuse. Transient failures are retried
/// with the same `message_id`, as for every send. For tools, tests and
/// gateways; agents use the session functions.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// `envelope` is NULL or `envelope_len` readable bytes; `ack` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_send_envelope(
    client: *const macp_client,
    envelope: *const u8,
    envelope_len: usize,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let bytes = arg_bytes(envelope, envelope_len, "envelope")?;
        let env = pb::Envelope::decode(bytes).map_err(|e| {
            Error::invalid_argument(format!("envelope is not a protobuf Envelope: {e}"))
        })?;
        let c = &handle::get(client)?.client;
        let a = block(call, Kind::Encoded, c.send(env))?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Send an ambient `Signal` (no session; it never enters any session's
/// history; watchers of `MACP_WATCH_SIGNALS` receive it):
/// `signal_type` (required), `data` (NULL with 0 for none), `confidence`
/// from 0.0 to 1.0, and an optional `correlation_session_id`.
///
/// Ownership: borrows its arguments; on success `*ack` (when not NULL) holds
/// the acknowledgement; on failure `*ack` is untouched.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `data` is NULL or `data_len`
/// readable bytes; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_send_signal(
    client: *const macp_client,
    signal_type: *const c_char,
    data: *const u8,
    data_len: usize,
    confidence: f64,
    correlation_session_id: *const c_char,
    ack: *mut macp_ack,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let st = arg_nonempty(signal_type, "signal_type")?;
        let d = arg_bytes(data, data_len, "data")?;
        let corr = arg_or_empty(correlation_session_id, "correlation_session_id")?;
        let c = &handle::get(client)?.client;
        let a = block(call, Kind::Send, c.send_signal(st, d, confidence, corr))?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// One page of the sessions the runtime holds (`ListSessions`): at most
/// `page_size` (0: the runtime's default; must not be negative) after
/// `page_token` (NULL or `""` for the first page). Fails with
/// `MACP_STATUS_UNSUPPORTED` when the runtime does not advertise listing, and
/// with the runtime's code for a token it does not accept.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the
/// caller (free with `macp_session_list_free`); on failure `*out` is NULL.
///
/// # Safety
/// `page_token` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_sessions(
    client: *const macp_client,
    page_size: i32,
    page_token: *const c_char,
    out: *mut *mut macp_session_list,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        if page_size < 0 {
            return Err(Error::invalid_argument("page_size must not be negative"));
        }
        let token = arg_or_empty(page_token, "page_token")?;
        let c = handle::get(client)?;
        let page = block(call, Kind::Other, c.client.list_sessions(page_size, token))?;
        write_list(out, &page.sessions, &page.next_page_token);
        Ok(())
    })
}

/// Every session the runtime holds, all pages.
///
/// Ownership: borrows `client`; on success `*out` is owned by the caller
/// (free with `macp_session_list_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_all_sessions(
    client: *const macp_client,
    out: *mut *mut macp_session_list,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let c = handle::get(client)?;
        let all = block(call, Kind::Other, c.client.list_all_sessions())?;
        write_list(out, &all, "");
        Ok(())
    })
}

/// Replace the bearer credential of this live client, without reconnecting:
/// calls that start afterwards authenticate with `token`, and so do its
/// watchers when they next (re)open their stream; calls in flight and open
/// streams keep the credential they started with and go on. `token` must be
/// non-empty visible ASCII; NULL is refused (`MACP_STATUS_INVALID_ARGUMENT`),
/// so an unset `getenv()` never removes a credential by accident: use
/// `macp_client_clear_bearer_token` for that.
///
/// Ownership: borrows its arguments; the value is copied into `client`.
///
/// # Safety
/// `token` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn macp_client_set_bearer_token(
    client: *const macp_client,
    token: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let t = super::args::arg_str(token, "token")?;
        handle::get(client)?.client.set_bearer_token(Some(t))
    })
}

/// Stop sending a bearer credential on this client's calls (as
/// `macp_client_set_bearer_token` describes, for calls that start afterwards).
///
/// Ownership: borrows `client`.
#[no_mangle]
pub extern "C" fn macp_client_clear_bearer_token(
    client: *const macp_client,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || handle::get(client)?.client.set_bearer_token(None))
}

//! `macp_client_options` and `macp_client`.

use std::ffi::{c_char, CString};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::session::{fill_ack, macp_ack, macp_session_info, SessionInfo, INFOS};
use super::{
    arg_bytes, arg_nonempty, arg_opt_str, arg_out, c_string, guard, guard_value, macp_error, Table,
};
use crate::client::Client;
use crate::config::{ClientConfig, RetryPolicy};
use crate::error::{Error, Result, Status};
use crate::rt::block_on;

/// Longest accepted timeout or retry delay, in milliseconds (one day).
pub const MACP_MAX_TIMEOUT_MS: u64 = 86_400_000;

/// Settings for `macp_client_new`: target, credentials, TLS, timeouts, retry
/// policy. Created with `macp_client_options_new`, freed with
/// `macp_client_options_free`; it may be freed as soon as the client exists.
pub struct macp_client_options {
    _private: [u8; 0],
}

/// A connected MACP client with one identity. Safe to share between threads:
/// every call may be made from any thread, concurrently. Created with
/// `macp_client_new`, freed with `macp_client_free`.
pub struct macp_client {
    _private: [u8; 0],
}

pub(crate) static OPTIONS: Table<Mutex<ClientConfig>> = Table::new("macp_client_options");

pub(crate) struct ClientObject {
    pub(crate) client: Arc<Client>,
    protocol_version: CString,
}

pub(crate) static CLIENTS: Table<ClientObject> = Table::new("macp_client");

pub(crate) fn client_of(h: *const macp_client) -> Result<Arc<Client>> {
    Ok(CLIENTS.get(h)?.client.clone())
}

fn with_options(
    opts: *mut macp_client_options,
    error: *mut *mut macp_error,
    f: impl FnOnce(&mut ClientConfig) -> Result<()>,
) -> Status {
    guard(error, || {
        let o = OPTIONS.get(opts)?;
        let mut cfg = o.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut cfg)
    })
}

fn millis(ms: u64, name: &str, min: u64) -> Result<Duration> {
    if ms < min || ms > MACP_MAX_TIMEOUT_MS {
        return Err(Error::invalid_argument(format!(
            "{name} must be between {min} and {MACP_MAX_TIMEOUT_MS} ms, got {ms}"
        )));
    }
    Ok(Duration::from_millis(ms))
}

/// Create client options with the defaults: TLS required, 10 s connect
/// timeout, 30 s call timeout, retry 3 times from 100 ms up to 2 s with jitter.
/// A target must be set before `macp_client_new`.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_new(
    out: *mut *mut macp_client_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = OPTIONS.insert(Mutex::new(ClientConfig::default())) as *mut macp_client_options;
        Ok(())
    })
}

/// Free client options. NULL and already-freed options are ignored.
#[no_mangle]
pub extern "C" fn macp_client_options_free(opts: *mut macp_client_options) {
    guard_value((), || {
        OPTIONS.remove(opts);
    })
}

/// The runtime to connect to: `host:port` (TLS, or plaintext when insecure
/// connections are allowed), `https://host:port`, or `http://host:port`
/// (requires `macp_client_options_set_allow_insecure`).
///
/// # Safety
/// `target` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_target(
    opts: *mut macp_client_options,
    target: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let t = arg_nonempty(target, "target").map(str::to_string);
    with_options(opts, error, |c| {
        c.target = t?;
        Ok(())
    })
}

/// The bearer credential (opaque token or JWT) sent on every call as
/// `authorization: Bearer <token>`. NULL removes the token, so
/// `getenv()` of an unset variable silently connects without one: check
/// the value first when a credential is required.
///
/// # Safety
/// `token` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_bearer_token(
    opts: *mut macp_client_options,
    token: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let t = arg_opt_str(token, "token").map(|o| o.map(str::to_string));
    with_options(opts, error, |c| {
        let t = t?;
        if let Some(v) = &t {
            if v.is_empty() || v.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
                return Err(Error::invalid_argument(
                    "token must be non-empty visible ASCII",
                ));
            }
        }
        c.bearer_token = t;
        Ok(())
    })
}

/// Allow plaintext (non-TLS) connections. Off by default; use only on a
/// trusted network or loopback.
#[no_mangle]
pub extern "C" fn macp_client_options_set_allow_insecure(
    opts: *mut macp_client_options,
    allow: bool,
    error: *mut *mut macp_error,
) -> Status {
    with_options(opts, error, |c| {
        c.allow_insecure = allow;
        Ok(())
    })
}

/// Trust the CA certificates in this PEM buffer instead of the system roots.
/// The bytes are copied. NULL/0 restores the system roots.
///
/// # Safety
/// `pem` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_ca_pem(
    opts: *mut macp_client_options,
    pem: *const u8,
    len: usize,
    error: *mut *mut macp_error,
) -> Status {
    let b = arg_bytes(pem, len, "pem").map(<[u8]>::to_vec);
    with_options(opts, error, |c| {
        let b = b?;
        c.ca_pem = if b.is_empty() { None } else { Some(b) };
        Ok(())
    })
}

/// The TLS server name to verify when it differs from the target host. NULL
/// uses the target host.
///
/// # Safety
/// `domain` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_tls_domain(
    opts: *mut macp_client_options,
    domain: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let d = arg_opt_str(domain, "domain").map(|o| o.map(str::to_string));
    with_options(opts, error, |c| {
        c.tls_domain = d?;
        Ok(())
    })
}

/// Time allowed to connect and negotiate (`Initialize`), 1 ms to one day.
#[no_mangle]
pub extern "C" fn macp_client_options_set_connect_timeout_ms(
    opts: *mut macp_client_options,
    timeout_ms: u64,
    error: *mut *mut macp_error,
) -> Status {
    with_options(opts, error, |c| {
        c.connect_timeout = millis(timeout_ms, "connect timeout", 1)?;
        Ok(())
    })
}

/// Deadline of each call attempt, up to one day; 0 means no deadline.
#[no_mangle]
pub extern "C" fn macp_client_options_set_call_timeout_ms(
    opts: *mut macp_client_options,
    timeout_ms: u64,
    error: *mut *mut macp_error,
) -> Status {
    with_options(opts, error, |c| {
        c.call_timeout = if timeout_ms == 0 {
            None
        } else {
            Some(millis(timeout_ms, "call timeout", 1)?)
        };
        Ok(())
    })
}

/// The identity this client expects to be authenticated as. Every envelope
/// then carries it as `sender`, so the runtime refuses (`UNAUTHENTICATED`) a
/// message the credential would attribute to someone else. NULL turns the
/// guard off (the runtime fills in the sender).
///
/// # Safety
/// `sender` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_expected_sender(
    opts: *mut macp_client_options,
    sender: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let s = arg_opt_str(sender, "sender").map(|o| o.map(str::to_string));
    with_options(opts, error, |c| {
        let s = s?;
        if s.as_deref() == Some("") {
            return Err(Error::invalid_argument("sender is empty"));
        }
        c.expected_sender = s;
        Ok(())
    })
}

/// Retry policy of every send: up to `max_retries` (0 to `MACP_MAX_RETRIES`) more attempts
/// after a transient failure, waiting `base_delay_ms` doubled per retry and
/// capped at `max_delay_ms` (both at most one day, base <= max); `jitter`
/// spreads each wait over [delay/2, delay]. A retry always reuses the
/// message id, so the runtime never applies a message twice.
#[no_mangle]
pub extern "C" fn macp_client_options_set_retry_policy(
    opts: *mut macp_client_options,
    max_retries: u32,
    base_delay_ms: u64,
    max_delay_ms: u64,
    jitter: bool,
    error: *mut *mut macp_error,
) -> Status {
    with_options(opts, error, |c| {
        let p = RetryPolicy {
            max_retries,
            base_delay: millis(base_delay_ms, "base delay", 0)?,
            max_delay: millis(max_delay_ms, "max delay", 0)?,
            jitter,
        };
        p.validate()?;
        c.retry = p;
        Ok(())
    })
}

/// The `ClientInfo` sent in `Initialize` (defaults: "libmacp" and the library
/// version). `version` may be NULL.
///
/// # Safety
/// `name` and `version` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_client_info(
    opts: *mut macp_client_options,
    name: *const c_char,
    version: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let n = arg_nonempty(name, "name").map(str::to_string);
    let v = arg_opt_str(version, "version").map(|o| o.unwrap_or("").to_string());
    with_options(opts, error, |c| {
        c.client_name = n?;
        c.client_version = v?;
        Ok(())
    })
}

/// The runtime's payload limit, in bytes (default 1048576, the runtime's
/// default `MACP_MAX_PAYLOAD_BYTES`; at most `MACP_MAX_PAYLOAD_LIMIT_BYTES`).
/// A send whose payload is larger, or whose encoded request exceeds it by
/// more than 65536 bytes (the runtime's allowance for the envelope), fails
/// with `MACP_STATUS_PAYLOAD_TOO_LARGE`, naming the limit, and nothing is
/// sent. Set it to match a runtime configured with another limit.
#[no_mangle]
pub extern "C" fn macp_client_options_set_max_payload_bytes(
    opts: *mut macp_client_options,
    max_payload_bytes: u64,
    error: *mut *mut macp_error,
) -> Status {
    with_options(opts, error, |c| {
        let limit = crate::config::MAX_PAYLOAD_LIMIT_BYTES;
        match usize::try_from(max_payload_bytes) {
            Ok(n) if (1..=limit).contains(&n) => {
                c.max_payload_bytes = n;
                Ok(())
            }
            _ => Err(Error::invalid_argument(format!(
                "max_payload_bytes must be 1 to {limit}, got {max_payload_bytes}"
            ))),
        }
    })
}

/// Largest value `macp_client_options_set_max_payload_bytes` accepts
/// (64 MiB, the client's transport limit, less the envelope allowance).
pub const MACP_MAX_PAYLOAD_LIMIT_BYTES: u64 = 67_043_328;
const _: () =
    assert!(MACP_MAX_PAYLOAD_LIMIT_BYTES == crate::config::MAX_PAYLOAD_LIMIT_BYTES as u64);

/// Largest `max_retries` of `macp_client_options_set_retry_policy`.
pub const MACP_MAX_RETRIES: u32 = 100;
const _: () = assert!(MACP_MAX_RETRIES == crate::config::MAX_RETRIES);

/// Connect to the runtime and negotiate the protocol version (`Initialize`).
/// Blocks up to the connect timeout. On success `*out` is a client to free
/// with `macp_client_free`; `opts` stays owned by the caller.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_new(
    opts: *const macp_client_options,
    out: *mut *mut macp_client,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let cfg = OPTIONS
            .get(opts)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let client = block_on(Client::connect(cfg))??;
        let obj = ClientObject {
            protocol_version: c_string(client.protocol_version()),
            client: Arc::new(client),
        };
        *out = CLIENTS.insert(obj) as *mut macp_client;
        Ok(())
    })
}

/// Free a client: calls still running on it (from other threads) end with
/// `MACP_STATUS_CANCELLED`, and sessions opened from it fail with
/// `MACP_STATUS_CANCELLED` from then on (they must still be closed). NULL and
/// already-freed clients are ignored.
#[no_mangle]
pub extern "C" fn macp_client_free(client: *mut macp_client) {
    guard_value((), || {
        if let Some(obj) = CLIENTS.remove(client) {
            obj.client.shutdown();
        }
    })
}

/// The negotiated protocol version (e.g. `"1.0"`). Borrowed, valid until the
/// client is freed; `""` for an invalid handle.
#[no_mangle]
pub extern "C" fn macp_client_protocol_version(client: *const macp_client) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        CLIENTS
            .get(client)
            .map_or(c"".as_ptr(), |o| o.protocol_version.as_ptr())
    })
}

/// Metadata and state of any session this identity may read (`GetSession`).
/// Free `*out` with `macp_session_info_free`.
///
/// # Safety
/// `session_id` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_get_session(
    client: *const macp_client,
    session_id: *const c_char,
    out: *mut *mut macp_session_info,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let id = arg_nonempty(session_id, "session_id")?;
        let c = client_of(client)?;
        let meta = block_on(c.get_session(id))??;
        *out = INFOS.track(SessionInfo::new(&meta)) as *mut macp_session_info;
        Ok(())
    })
}

/// Cancel a session this identity started (`CancelSession`); `reason` may be
/// NULL. Cancelling an already-terminal session succeeds and reports its state
/// in `*ack` (which may be NULL).
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_cancel_session(
    client: *const macp_client,
    session_id: *const c_char,
    reason: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let id = arg_nonempty(session_id, "session_id")?;
        let reason = arg_opt_str(reason, "reason")?.unwrap_or("");
        let c = client_of(client)?;
        let a = block_on(c.cancel_session(id, reason))??;
        fill_ack(ack, &a);
        Ok(())
    })
}

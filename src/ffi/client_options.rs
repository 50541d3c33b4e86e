//! `macp_client_options`: settings for `macp_client_new`.

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_out, arg_str};
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use crate::config::{validate_token, ClientConfig, ClientIdentity, RetryPolicy};
use crate::error::{Error, Result, Status};

/// Longest accepted timeout or retry delay, in milliseconds (one day).
pub const MACP_MAX_TIMEOUT_MS: u64 = 86_400_000;

/// Settings for `macp_client_new`: target, credentials, TLS, timeouts, retry
/// policy. Created with `macp_client_options_new`, freed with
/// `macp_client_options_free`; it may be freed as soon as the client exists.
pub struct macp_client_options {
    _private: [u8; 0],
}

handle_type!(macp_client_options => Mutex<ClientConfig>);

fn with_options(
    opts: *mut macp_client_options,
    error: *mut *mut macp_error,
    f: impl FnOnce(&mut ClientConfig) -> Result<()>,
) -> Status {
    guard(error, || {
        let o = handle::get(opts)?;
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
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_client_options_free`); on failure `*out` is NULL.
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
        handle::write_new(out, Mutex::new(ClientConfig::default()));
        Ok(())
    })
}

/// Free client options. NULL and already-freed options are ignored.
///
/// Ownership: takes `opts` and frees it. NULL and already-freed handles are
/// ignored.
#[no_mangle]
pub extern "C" fn macp_client_options_free(opts: *mut macp_client_options) {
    guard_value((), || drop(handle::free(opts)))
}

/// The runtime to connect to: `host:port` (TLS, or plaintext when insecure
/// connections are allowed), `https://host:port`, or `http://host:port`
/// (requires `macp_client_options_set_allow_insecure`).
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
/// `authorization: Bearer <token>`: non-empty visible ASCII. NULL is refused
/// (`MACP_STATUS_INVALID_ARGUMENT`), so `getenv()` of an unset variable
/// cannot silently connect without a credential; remove one with
/// `macp_client_options_clear_bearer_token`. A live client's token is
/// replaced with `macp_client_set_bearer_token`.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `token` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_bearer_token(
    opts: *mut macp_client_options,
    token: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let t = arg_str(token, "token").map(str::to_string);
    with_options(opts, error, |c| {
        let t = t?;
        validate_token(&t)?;
        c.bearer_token = Some(t);
        Ok(())
    })
}

/// Send no bearer credential (the default).
///
/// Ownership: borrows `opts`.
#[no_mangle]
pub extern "C" fn macp_client_options_clear_bearer_token(
    opts: *mut macp_client_options,
    error: *mut *mut macp_error,
) -> Status {
    with_options(opts, error, |c| {
        c.bearer_token = None;
        Ok(())
    })
}

/// The client certificate chain and its private key (both PEM, copied) to
/// present to a server that requires one (mutual TLS). Checked here to hold
/// a `CERTIFICATE` and a `PRIVATE KEY` PEM block; the handshake checks the
/// rest. A TLS target is then required. A server that refuses the
/// certificate (or needs one when none is set) fails `macp_client_new` with
/// `MACP_STATUS_TRANSPORT` and a message saying so. `cert_pem` and `key_pem`
/// both NULL with length 0 remove the identity.
///
/// Ownership: borrows its arguments; the bytes are copied into `opts`.
///
/// # Safety
/// `cert_pem` and `key_pem` are NULL or point to `cert_len` and `key_len`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_client_options_set_client_identity(
    opts: *mut macp_client_options,
    cert_pem: *const u8,
    cert_len: usize,
    key_pem: *const u8,
    key_len: usize,
    error: *mut *mut macp_error,
) -> Status {
    let cert = arg_bytes(cert_pem, cert_len, "cert_pem");
    let key = arg_bytes(key_pem, key_len, "key_pem");
    with_options(opts, error, |c| {
        let (cert, key) = (cert?, key?);
        c.client_identity = if cert.is_empty() && key.is_empty() {
            None
        } else {
            Some(ClientIdentity::new(cert, key)?)
        };
        Ok(())
    })
}

/// Allow plaintext (non-TLS) connections. Off by default; use only on a
/// trusted network or loopback.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
/// Ownership: borrows its arguments; the value is copied into `opts`.
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
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
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

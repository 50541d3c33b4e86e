//! `macp_start_options`: parameters of a new session, for `macp_session_start`.

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};

use macp_pb::pb;

use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_out};
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use crate::client::validate_session_id;
use crate::error::{Error, Result, Status};
use crate::session::StartOptions;

/// Parameters of a new session, for `macp_session_start`. Created with
/// `macp_start_options_new`, freed with `macp_start_options_free`.
pub struct macp_start_options {
    _private: [u8; 0],
}

handle_type!(macp_start_options => Mutex<StartOptions>);

fn with_start(
    opts: *mut macp_start_options,
    error: *mut *mut macp_error,
    f: impl FnOnce(&mut StartOptions) -> Result<()>,
) -> Status {
    guard(error, || {
        let o = handle::get(opts)?;
        let mut s = o.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut s)
    })
}

/// Create session start options: no participants, no TTL (one must be set),
/// mode version 1.0.0, configuration config.default, empty policy version (the
/// runtime's policy.default), a generated UUID v4 session id.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_start_options_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_new(
    out: *mut *mut macp_start_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        handle::write_new(out, Mutex::new(StartOptions::default()));
        Ok(())
    })
}

/// Free start options. NULL and already-freed options are ignored.
///
/// Ownership: takes `opts` and frees it. NULL and already-freed handles are
/// ignored.
#[no_mangle]
pub extern "C" fn macp_start_options_free(opts: *mut macp_start_options) {
    guard_value((), || drop(handle::free(opts)))
}

/// Shared body of the optional-string setters of `macp_start_options`.
///
/// # Safety
/// `value` is NULL or NUL-terminated.
unsafe fn set_start_string(
    opts: *mut macp_start_options,
    value: *const c_char,
    name: &str,
    error: *mut *mut macp_error,
    set: impl FnOnce(&mut StartOptions, Option<String>) -> Result<()>,
) -> Status {
    let v = arg_opt_str(value, name).map(|o| o.map(str::to_string));
    with_start(opts, error, |o| set(o, v?))
}

/// The session id (a lowercase UUID v4/v7, or 22 to 128 base64url
/// characters). NULL restores a generated UUID v4.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `session_id` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_session_id(
    opts: *mut macp_start_options,
    session_id: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    set_start_string(opts, session_id, "session_id", error, |o, v| {
        if let Some(id) = &v {
            validate_session_id(id)?;
        }
        o.session_id = v;
        Ok(())
    })
}

/// The session's intent, a description for participants. NULL clears it.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `intent` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_intent(
    opts: *mut macp_start_options,
    intent: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    set_start_string(opts, intent, "intent", error, |o, v| {
        o.intent = v.unwrap_or_default();
        Ok(())
    })
}

/// Mode version to bind (NULL: 1.0.0).
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `mode_version` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_mode_version(
    opts: *mut macp_start_options,
    mode_version: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    set_start_string(opts, mode_version, "mode_version", error, |o, v| {
        o.mode_version = v;
        Ok(())
    })
}

/// Configuration version to bind (NULL: config.default).
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `configuration_version` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_configuration_version(
    opts: *mut macp_start_options,
    configuration_version: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    set_start_string(
        opts,
        configuration_version,
        "configuration_version",
        error,
        |o, v| {
            o.configuration_version = v;
            Ok(())
        },
    )
}

/// Governance policy version to bind (NULL or empty: policy.default).
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `policy_version` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_policy_version(
    opts: *mut macp_start_options,
    policy_version: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    set_start_string(opts, policy_version, "policy_version", error, |o, v| {
        o.policy_version = v;
        Ok(())
    })
}

/// Opaque reference to the context the session works within. NULL clears it.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `context_id` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_context_id(
    opts: *mut macp_start_options,
    context_id: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    set_start_string(opts, context_id, "context_id", error, |o, v| {
        o.context_id = v.unwrap_or_default();
        Ok(())
    })
}

/// Add a participant identity (non-empty; duplicates are ignored).
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `participant` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_add_participant(
    opts: *mut macp_start_options,
    participant: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let p = arg_nonempty(participant, "participant").map(str::to_string);
    with_start(opts, error, |o| {
        // O(1): `Session::start` drops repeats, keeping the first.
        o.participants.push(p?);
        Ok(())
    })
}

/// Time to live, in milliseconds; must be greater than zero.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
#[no_mangle]
pub extern "C" fn macp_start_options_set_ttl_ms(
    opts: *mut macp_start_options,
    ttl_ms: i64,
    error: *mut *mut macp_error,
) -> Status {
    with_start(opts, error, |o| {
        if ttl_ms <= 0 {
            return Err(Error::invalid_argument("ttl_ms must be greater than zero"));
        }
        o.ttl_ms = ttl_ms;
        Ok(())
    })
}

/// Cap on the session's cumulative suspended time, in milliseconds; 0 lets
/// the runtime choose. Must not be negative.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
#[no_mangle]
pub extern "C" fn macp_start_options_set_max_suspend_ms(
    opts: *mut macp_start_options,
    max_suspend_ms: i64,
    error: *mut *mut macp_error,
) -> Status {
    with_start(opts, error, |o| {
        if max_suspend_ms < 0 {
            return Err(Error::invalid_argument(
                "max_suspend_ms must not be negative",
            ));
        }
        o.max_suspend_ms = max_suspend_ms;
        Ok(())
    })
}

/// Set an extension block: `key` (a protocol identifier) maps to `len` bytes
/// at `value` (copied). Setting a key again replaces it.
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `key` is NULL or NUL-terminated; `value` is NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_set_extension(
    opts: *mut macp_start_options,
    key: *const c_char,
    value: *const u8,
    len: usize,
    error: *mut *mut macp_error,
) -> Status {
    let k = arg_nonempty(key, "key").map(str::to_string);
    let v = arg_bytes(value, len, "value").map(<[u8]>::to_vec);
    with_start(opts, error, |o| {
        o.extensions.insert(k?, v?);
        Ok(())
    })
}

/// Add a root (a resource boundary: `uri`, and an optional `name`).
///
/// Ownership: borrows its arguments; the value is copied into `opts`.
///
/// # Safety
/// `uri` and `name` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_start_options_add_root(
    opts: *mut macp_start_options,
    uri: *const c_char,
    name: *const c_char,
    error: *mut *mut macp_error,
) -> Status {
    let u = arg_nonempty(uri, "uri").map(str::to_string);
    let n = arg_opt_str(name, "name").map(|o| o.unwrap_or("").to_string());
    with_start(opts, error, |o| {
        o.roots.push(pb::Root { uri: u?, name: n? });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding used to search the list for a repeat, so 100,000 participants
    /// took 37 s. An add is now a push: repeats stay in the options, in the
    /// order given, and `Session::start` keeps the first of each.
    #[test]
    fn adding_participants_never_searches() {
        let mut o = std::ptr::null_mut();
        assert_eq!(
            unsafe { macp_start_options_new(&mut o, std::ptr::null_mut()) },
            Status::Ok
        );
        let names: Vec<_> = (0..200_000)
            .map(|i| std::ffi::CString::new(format!("agent-{}", i % 100_000)).unwrap())
            .collect();
        for n in &names {
            let st =
                unsafe { macp_start_options_add_participant(o, n.as_ptr(), std::ptr::null_mut()) };
            assert_eq!(st, Status::Ok);
        }
        let held = handle::get(o).unwrap();
        let s = held.lock().unwrap();
        assert_eq!(
            s.participants.len(),
            200_000,
            "repeats are kept until start"
        );
        assert_eq!(s.participants[100_000], "agent-0");
        drop(s);
        macp_start_options_free(o);
    }
}

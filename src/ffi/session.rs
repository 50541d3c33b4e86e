//! `macp_start_options`, `macp_session`, `macp_ack`, `macp_session_info`.

use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Mutex, PoisonError};

use macp_pb::pb;

use super::client::client_of;
use super::client::macp_client;
use super::{
    arg_bytes, arg_nonempty, arg_opt_str, arg_out, c_string, guard, guard_value, macp_error,
    Allocations, Table, UserData,
};
use crate::client::{validate_session_id, Ack};
use crate::error::{Error, Result, Status};
use crate::rt::block_on;
use crate::session::{Session, StartOptions};

/// Size of the id buffers in `macp_ack`: the longest session or message id
/// libmacp accepts (128 bytes) plus the terminating NUL.
pub const MACP_ID_BUFFER_LEN: usize = 129;

/// Session state, as `macp.v1.SessionState`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_session_state {
    MACP_SESSION_STATE_UNSPECIFIED = 0,
    MACP_SESSION_STATE_OPEN = 1,
    MACP_SESSION_STATE_RESOLVED = 2,
    MACP_SESSION_STATE_EXPIRED = 3,
    MACP_SESSION_STATE_SUSPENDED = 4,
    MACP_SESSION_STATE_CANCELLED = 5,
}

impl From<i32> for macp_session_state {
    fn from(v: i32) -> Self {
        use macp_session_state::*;
        match v {
            1 => MACP_SESSION_STATE_OPEN,
            2 => MACP_SESSION_STATE_RESOLVED,
            3 => MACP_SESSION_STATE_EXPIRED,
            4 => MACP_SESSION_STATE_SUSPENDED,
            5 => MACP_SESSION_STATE_CANCELLED,
            _ => MACP_SESSION_STATE_UNSPECIFIED,
        }
    }
}

/// Name of a session state (`"OPEN"`, `"RESOLVED"`, ...). Static string;
/// `"UNSPECIFIED"` for any other value.
#[no_mangle]
pub extern "C" fn macp_session_state_name(state: i32) -> *const c_char {
    guard_value(c"UNSPECIFIED".as_ptr(), || {
        match macp_session_state::from(state) {
            macp_session_state::MACP_SESSION_STATE_OPEN => c"OPEN".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_RESOLVED => c"RESOLVED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_EXPIRED => c"EXPIRED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_SUSPENDED => c"SUSPENDED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_CANCELLED => c"CANCELLED".as_ptr(),
            macp_session_state::MACP_SESSION_STATE_UNSPECIFIED => c"UNSPECIFIED".as_ptr(),
        }
    })
}

/// The runtime's acknowledgement of an accepted message, written by the
/// library into caller-owned memory (nothing to free).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_ack {
    /// The runtime had already accepted this message id (e.g. a retry of a
    /// message whose first answer was lost); it was not applied twice.
    pub duplicate: bool,
    /// Session state after the message.
    pub session_state: macp_session_state,
    /// Send attempts made (1 unless transient failures were retried).
    pub attempts: u32,
    /// When the runtime accepted the message (Unix ms).
    pub accepted_at_unix_ms: i64,
    /// The message id used (NUL-terminated).
    pub message_id: [c_char; MACP_ID_BUFFER_LEN],
    /// The session id (NUL-terminated).
    pub session_id: [c_char; MACP_ID_BUFFER_LEN],
}

fn copy_id(dst: &mut [c_char; MACP_ID_BUFFER_LEN], s: &str) {
    let mut n = s.len().min(MACP_ID_BUFFER_LEN - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(s.as_bytes()[..n].iter()) {
        *d = *b as c_char;
    }
    dst[n] = 0;
}

/// Write `a` to `out` when `out` is not NULL.
pub(crate) fn fill_ack(out: *mut macp_ack, a: &Ack) {
    if out.is_null() {
        return;
    }
    let mut ack = macp_ack {
        duplicate: a.duplicate,
        session_state: a.session_state.into(),
        attempts: a.attempts,
        accepted_at_unix_ms: a.accepted_at_unix_ms,
        message_id: [0; MACP_ID_BUFFER_LEN],
        session_id: [0; MACP_ID_BUFFER_LEN],
    };
    copy_id(&mut ack.message_id, &a.message_id);
    copy_id(&mut ack.session_id, &a.session_id);
    // SAFETY: the caller passes NULL (checked) or a writable `macp_ack`.
    unsafe { out.write(ack) };
}

/// One participant's activity in a session.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_participant_activity {
    pub participant_id: *const c_char,
    pub last_message_at_unix_ms: i64,
    pub message_count: u32,
}

/// Metadata and state of a session. Allocated by the library; every pointer
/// in it is owned by the struct (or the list holding it) and valid until
/// `macp_session_info_free` (or `macp_session_list_free`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_session_info {
    pub session_id: *const c_char,
    pub mode: *const c_char,
    pub state: macp_session_state,
    pub started_at_unix_ms: i64,
    pub expires_at_unix_ms: i64,
    pub mode_version: *const c_char,
    pub configuration_version: *const c_char,
    pub policy_version: *const c_char,
    /// The identity that started the session.
    pub initiator: *const c_char,
    pub context_id: *const c_char,
    pub participants: *const *const c_char,
    pub participants_len: usize,
    /// Keys of the extensions set at session start.
    pub extension_keys: *const *const c_char,
    pub extension_keys_len: usize,
    pub activity: *const macp_participant_activity,
    pub activity_len: usize,
}

/// A `macp_session_info` and the storage its pointers borrow from. `info`
/// comes first so a pointer to the struct is a pointer to the info.
#[repr(C)]
pub(crate) struct SessionInfo {
    pub(crate) info: macp_session_info,
    strings: Vec<CString>,
    lists: [Vec<*const c_char>; 2],
    activity: Vec<macp_participant_activity>,
}

pub(crate) static INFOS: Allocations = Allocations::new();

impl SessionInfo {
    pub(crate) fn new(m: &pb::SessionMetadata) -> Box<SessionInfo> {
        // CStrings own heap buffers, so their pointers survive moving the Vec.
        let mut strings = Vec::new();
        let mut s = |v: &str| {
            let c = c_string(v);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let scalars = [
            s(&m.session_id),
            s(&m.mode),
            s(&m.mode_version),
            s(&m.configuration_version),
            s(&m.policy_version),
            s(&m.initiator),
            s(&m.context_id),
        ];
        let participants: Vec<_> = m.participants.iter().map(|p| s(p)).collect();
        let extension_keys: Vec<_> = m.extension_keys.iter().map(|k| s(k)).collect();
        let activity: Vec<_> = m
            .participant_activity
            .iter()
            .map(|a| macp_participant_activity {
                participant_id: s(&a.participant_id),
                last_message_at_unix_ms: a.last_message_at_unix_ms,
                message_count: a.message_count,
            })
            .collect();
        let info = macp_session_info {
            session_id: scalars[0],
            mode: scalars[1],
            state: m.state.into(),
            started_at_unix_ms: m.started_at_unix_ms,
            expires_at_unix_ms: m.expires_at_unix_ms,
            mode_version: scalars[2],
            configuration_version: scalars[3],
            policy_version: scalars[4],
            initiator: scalars[5],
            context_id: scalars[6],
            participants: participants.as_ptr(),
            participants_len: participants.len(),
            extension_keys: extension_keys.as_ptr(),
            extension_keys_len: extension_keys.len(),
            activity: activity.as_ptr(),
            activity_len: activity.len(),
        };
        Box::new(SessionInfo {
            info,
            strings,
            lists: [participants, extension_keys],
            activity,
        })
    }
}

/// Free a session info. NULL, already-freed and foreign pointers are ignored.
#[no_mangle]
pub extern "C" fn macp_session_info_free(info: *mut macp_session_info) {
    guard_value((), || {
        drop(INFOS.untrack(info as *mut SessionInfo));
    })
}

/// Parameters of a new session, for `macp_session_start`. Created with
/// `macp_start_options_new`, freed with `macp_start_options_free`.
pub struct macp_start_options {
    _private: [u8; 0],
}

pub(crate) static START_OPTIONS: Table<Mutex<StartOptions>> = Table::new("macp_start_options");

fn with_start(
    opts: *mut macp_start_options,
    error: *mut *mut macp_error,
    f: impl FnOnce(&mut StartOptions) -> Result<()>,
) -> Status {
    guard(error, || {
        let o = START_OPTIONS.get(opts)?;
        let mut s = o.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut s)
    })
}

/// Create session start options: no participants, no TTL (one must be set),
/// mode version 1.0.0, configuration config.default, empty policy version (the
/// runtime's policy.default), a generated UUID v4 session id.
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
        *out = START_OPTIONS.insert(Mutex::new(StartOptions::default())) as *mut macp_start_options;
        Ok(())
    })
}

/// Free start options. NULL and already-freed options are ignored.
#[no_mangle]
pub extern "C" fn macp_start_options_free(opts: *mut macp_start_options) {
    guard_value((), || {
        START_OPTIONS.remove(opts);
    })
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

/// One participant's handle on one session. Created by `macp_session_start`
/// or `macp_session_open`, freed with `macp_session_close` (which ends nothing
/// on the runtime: use `macp_session_cancel` for that). Thread-safe.
pub struct macp_session {
    _private: [u8; 0],
}

pub(crate) struct SessionObject {
    pub(crate) session: Session,
    id: CString,
    mode: CString,
}

pub(crate) static SESSIONS: Table<SessionObject> = Table::new("macp_session");

pub(crate) fn session_of(h: *const macp_session) -> Result<Arc<SessionObject>> {
    SESSIONS.get(h)
}

fn insert_session(session: Session) -> *mut macp_session {
    let obj = SessionObject {
        id: c_string(session.id()),
        mode: c_string(session.mode()),
        session,
    };
    SESSIONS.insert(obj) as *mut macp_session
}

/// Start a session of `mode` (e.g. `MACP_MODE_DECISION`) with this client's
/// identity as initiator: sends `SessionStart`. On success `*out` is the
/// session (close it with `macp_session_close`) and `*ack` (may be NULL) the
/// acknowledgement. `opts` stays owned by the caller.
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
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let mode = arg_nonempty(mode, "mode")?;
        let c = client_of(client)?;
        let o = START_OPTIONS
            .get(opts)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let (session, a) = block_on(Session::start(c, mode, o))??;
        fill_ack(ack, &a);
        *out = insert_session(session);
        Ok(())
    })
}

/// Open a handle on an existing session (to take part as a participant, or
/// as its initiator from another client). Reads the session once
/// (`GetSession`) to learn its mode and bound versions, so an unknown session
/// fails here with `MACP_STATUS_SESSION_NOT_FOUND`, and one this identity may
/// not read with `MACP_STATUS_FORBIDDEN`. Close with `macp_session_close`.
///
/// # Safety
/// `session_id` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_open(
    client: *const macp_client,
    session_id: *const c_char,
    out: *mut *mut macp_session,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let id = arg_nonempty(session_id, "session_id")?;
        let c = client_of(client)?;
        let session = block_on(Session::open(c, id))??;
        *out = insert_session(session);
        Ok(())
    })
}

/// Release a session handle. The session itself goes on. NULL and
/// already-closed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_session_close(session: *mut macp_session) {
    guard_value((), || {
        SESSIONS.remove(session);
    })
}

/// The session id. Borrowed, valid until `macp_session_close`; `""` for an
/// invalid handle.
#[no_mangle]
pub extern "C" fn macp_session_id(session: *const macp_session) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        session_of(session).map_or(c"".as_ptr(), |s| s.id.as_ptr())
    })
}

/// The session's mode. Borrowed, valid until `macp_session_close`; `""` for
/// an invalid handle.
#[no_mangle]
pub extern "C" fn macp_session_mode(session: *const macp_session) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        session_of(session).map_or(c"".as_ptr(), |s| s.mode.as_ptr())
    })
}

/// Send a message of any type with an already-encoded protobuf payload (for
/// extension modes, or types without a helper). `message_id` NULL generates a
/// UUID v4; a caller-chosen id (at most 128 bytes, not starting with
/// `implicit-accept:`) lets a message be re-sent idempotently later.
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
    message_id: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mt = arg_nonempty(message_type, "message_type")?;
        let bytes = arg_bytes(payload, payload_len, "payload")?;
        let id = arg_opt_str(message_id, "message_id")?.map(str::to_string);
        let s = session_of(session)?;
        let a = block_on(s.session.send_raw(mt, bytes.to_vec(), id))??;
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
///
/// The callback runs on a libmacp runtime thread: it must return quickly and
/// must not block; blocking libmacp calls made from it fail with
/// `MACP_STATUS_INVALID_STATE`. Completions of concurrent sends may arrive in
/// any order. `user_data` is passed back untouched.
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
    message_id: *const c_char,
    callback: macp_send_callback,
    user_data: *mut c_void,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let cb = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
        let mt = arg_nonempty(message_type, "message_type")?.to_string();
        let bytes = arg_bytes(payload, payload_len, "payload")?.to_vec();
        let id = arg_opt_str(message_id, "message_id")?.map(str::to_string);
        if let Some(id) = &id {
            crate::client::validate_message_id(id)?;
        }
        let session = session_of(session)?.session.clone();
        let ud = UserData(user_data);
        crate::rt::runtime()?.spawn(async move {
            let ud = ud;
            let result = session.send_raw(&mt, bytes, id).await;
            complete(cb, result, ud.0);
        });
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
            super::error::report(&mut handle, e);
            // SAFETY: as above; `handle` is a live error until freed below.
            unsafe { cb(status, std::ptr::null(), handle, user_data) };
            // SAFETY: `handle` came from `report` and is freed once.
            unsafe { super::error::macp_error_free(handle) };
        }
    }));
}

/// A Commitment, the message that resolves a session. String fields are
/// borrowed for the call; NULL means "not set".
#[repr(C)]
pub struct macp_commitment {
    /// Commitment id; NULL generates a UUID v4.
    pub commitment_id: *const c_char,
    /// The outcome, e.g. `"decision.selected"` (required).
    pub action: *const c_char,
    pub authority_scope: *const c_char,
    pub reason: *const c_char,
    /// Whether the outcome is positive (success) or a definitive negative one.
    pub outcome_positive: bool,
    /// Supersession: the session and `sha256:<hex>` commitment hash of an
    /// earlier commitment this one replaces. Both NULL for none.
    pub supersedes_session_id: *const c_char,
    pub supersedes_commitment_hash: *const c_char,
}

/// # Safety
/// `c` is NULL or points to a valid `macp_commitment`.
pub(crate) unsafe fn commitment_from_c(c: *const macp_commitment) -> Result<pb::CommitmentPayload> {
    let c = c
        .as_ref()
        .ok_or_else(|| Error::invalid_argument("commitment is NULL"))?;
    let opt = |p, n| arg_opt_str(p, n).map(|o| o.unwrap_or("").to_string());
    let sup_session = opt(c.supersedes_session_id, "supersedes_session_id")?;
    let sup_hash = opt(c.supersedes_commitment_hash, "supersedes_commitment_hash")?;
    let supersedes = match (sup_session.is_empty(), sup_hash.is_empty()) {
        (true, true) => None,
        _ => Some(pb::CommitmentRef {
            session_id: sup_session,
            commitment_hash: sup_hash,
        }),
    };
    Ok(pb::CommitmentPayload {
        commitment_id: opt(c.commitment_id, "commitment_id")?,
        action: arg_nonempty(c.action, "action")?.to_string(),
        authority_scope: opt(c.authority_scope, "authority_scope")?,
        reason: opt(c.reason, "reason")?,
        outcome_positive: c.outcome_positive,
        supersedes,
        ..Default::default()
    })
}

/// Send a Commitment resolving the session. Version fields are the session's
/// bound versions.
///
/// # Safety
/// `commitment` is NULL or valid; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_commit(
    session: *const macp_session,
    commitment: *const macp_commitment,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let c = commitment_from_c(commitment)?;
        let s = session_of(session)?;
        let a = block_on(s.session.commit(c))??;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Current metadata and state of the session (`GetSession`). Free `*out`
/// with `macp_session_info_free`.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_get_info(
    session: *const macp_session,
    out: *mut *mut macp_session_info,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let s = session_of(session)?;
        let meta = block_on(s.session.metadata())??;
        *out = INFOS.track(SessionInfo::new(&meta)) as *mut macp_session_info;
        Ok(())
    })
}

/// Cancel the session (initiator only); `reason` may be NULL.
///
/// # Safety
/// `reason` is NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_cancel(
    session: *const macp_session,
    reason: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let reason = arg_opt_str(reason, "reason")?.unwrap_or("");
        let s = session_of(session)?;
        let a = block_on(s.session.cancel(reason))??;
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
        let s = session_of(session)?;
        let a = f(&s.session)?;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// An optional string argument, `""` when NULL.
///
/// # Safety
/// `p` is NULL or NUL-terminated.
pub(crate) unsafe fn opt<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    Ok(arg_opt_str(p, name)?.unwrap_or(""))
}

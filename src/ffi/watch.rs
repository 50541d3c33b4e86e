//! `macp_watcher`: server streams delivered to a C callback.
//!
//! Each watcher has one library thread that runs its callback, so callbacks of
//! one watcher never overlap and arrive in order, and a callback may make
//! blocking libmacp calls. `macp_watcher_close` marks the watcher closed and,
//! unless it is called from that very callback, waits for a callback in
//! progress to return: after it returns no callback of that watcher runs again
//! and `user_data` is no longer touched.

use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use macp_pb::pb;
use prost::Message;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::client::{client_of, macp_client};
use super::session::{
    macp_session, macp_session_info, session_of, SessionInfo, MACP_ID_BUFFER_LEN,
};
use super::{
    arg_bytes, arg_nonempty, arg_opt_str, arg_out, c_string, guard, guard_value, macp_error, Table,
    UserData,
};
use crate::error::{Error, Result, Status};
use crate::watch::{Event, Watch, WatchKind, WatchOptions};

/// What a `macp_event` reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_event_kind {
    /// Session stream: an accepted envelope (`envelope`, `sequence`, `raw`).
    MACP_EVENT_ENVELOPE = 1,
    /// Session stream: the runtime refused an envelope sent on the stream;
    /// `status`, `code`, `message` and `message_id` say which and why.
    MACP_EVENT_STREAM_ERROR = 2,
    /// Session lifecycle (`session_event`, `session`, `reconciled`, `raw`).
    MACP_EVENT_SESSION = 3,
    /// Ambient signal (`envelope`, `sender_authenticated`, `raw`).
    MACP_EVENT_SIGNAL = 4,
    /// The policy registry changed (`raw`: a WatchPoliciesResponse).
    MACP_EVENT_POLICIES = 5,
    /// The mode registry changed (`registry`, `raw`: a RegistryChanged).
    MACP_EVENT_MODE_REGISTRY = 6,
    /// The roots changed (`raw`: a RootsChanged).
    MACP_EVENT_ROOTS = 7,
    /// The stream broke (`status`, `code`, `message`); reconnecting after
    /// `delay_ms`, attempt number `attempt`.
    MACP_EVENT_RECONNECTING = 8,
    /// The stream is open again; a session stream resumes after `sequence`.
    /// Other streams may have missed events while disconnected.
    MACP_EVENT_RESUMED = 9,
    /// Session stream: ordinals `sequence` to `gap_end` (inclusive) were
    /// compacted away by the runtime and are skipped (`status` is
    /// `MACP_STATUS_HISTORY_UNAVAILABLE`).
    MACP_EVENT_GAP = 10,
    /// The watcher has ended (`status`, `code`, `message` say why); nothing
    /// follows. The handle must still be closed.
    MACP_EVENT_CLOSED = 11,
}

/// Session lifecycle transition, as `macp.v1.SessionLifecycleEvent.EventType`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_session_event_type {
    MACP_SESSION_EVENT_UNSPECIFIED = 0,
    MACP_SESSION_EVENT_CREATED = 1,
    MACP_SESSION_EVENT_RESOLVED = 2,
    MACP_SESSION_EVENT_EXPIRED = 3,
    MACP_SESSION_EVENT_SUSPENDED = 4,
    MACP_SESSION_EVENT_RESUMED = 5,
    MACP_SESSION_EVENT_CANCELLED = 6,
}

impl From<i32> for macp_session_event_type {
    fn from(v: i32) -> Self {
        use macp_session_event_type::*;
        match v {
            1 => MACP_SESSION_EVENT_CREATED,
            2 => MACP_SESSION_EVENT_RESOLVED,
            3 => MACP_SESSION_EVENT_EXPIRED,
            4 => MACP_SESSION_EVENT_SUSPENDED,
            5 => MACP_SESSION_EVENT_RESUMED,
            6 => MACP_SESSION_EVENT_CANCELLED,
            _ => MACP_SESSION_EVENT_UNSPECIFIED,
        }
    }
}

/// An envelope as the runtime delivered it. Borrowed: valid only during the
/// callback that received it.
#[repr(C)]
pub struct macp_envelope {
    pub macp_version: *const c_char,
    pub mode: *const c_char,
    pub message_type: *const c_char,
    pub message_id: *const c_char,
    pub session_id: *const c_char,
    pub sender: *const c_char,
    pub timestamp_unix_ms: i64,
    /// The protobuf-encoded payload (NULL when empty).
    pub payload: *const u8,
    pub payload_len: usize,
}

/// One event of a watcher, passed to its callback. Everything it points to
/// is borrowed and valid only until the callback returns: copy what you keep.
/// Fields that do not apply to `kind` are zero, NULL or `""`.
#[repr(C)]
pub struct macp_event {
    pub kind: macp_event_kind,
    /// ENVELOPE: the envelope's 1-based ordinal in the session's accepted
    /// history. RESUMED: delivery resumes after this ordinal (0 for streams
    /// without positions). GAP: the first ordinal skipped.
    pub sequence: u64,
    /// GAP: the last ordinal skipped.
    pub gap_end: u64,
    /// ENVELOPE and SIGNAL: the envelope.
    pub envelope: macp_envelope,
    /// SIGNAL: whether the runtime verified the sender's credential. Do not
    /// let an unauthenticated signal influence operational decisions.
    pub sender_authenticated: bool,
    /// SESSION: the transition.
    pub session_event: macp_session_event_type,
    /// SESSION: the session's metadata after the transition (NULL when the
    /// runtime had already evicted it).
    pub session: *const macp_session_info,
    /// SESSION: derived from `ListSessions` after a reconnect, for a
    /// transition that happened while the watcher was disconnected.
    pub reconciled: bool,
    /// SESSION, POLICIES, MODE_REGISTRY, ROOTS: when the runtime observed it.
    pub observed_at_unix_ms: i64,
    /// MODE_REGISTRY: which registry changed.
    pub registry: *const c_char,
    /// STREAM_ERROR, RECONNECTING, GAP, CLOSED: the cause.
    pub status: Status,
    pub code: *const c_char,
    pub message: *const c_char,
    /// STREAM_ERROR: the refused envelope's message id.
    pub message_id: *const c_char,
    /// RECONNECTING: consecutive attempt number (from 1) and the wait before it.
    pub attempt: u32,
    pub delay_ms: u64,
    /// The event's protobuf message, for bindings and projections: ENVELOPE
    /// and SIGNAL an `Envelope`, SESSION a `SessionLifecycleEvent`, POLICIES a
    /// `WatchPoliciesResponse`, MODE_REGISTRY a `RegistryChanged`, ROOTS a
    /// `RootsChanged`; NULL otherwise.
    pub raw: *const u8,
    pub raw_len: usize,
}

/// A watcher's callback. Runs on the watcher's own library thread; `event` and
/// everything it points to are valid only during the call.
pub type macp_event_callback =
    Option<unsafe extern "C" fn(event: *const macp_event, user_data: *mut c_void)>;

/// Reconnect and buffering settings of a watcher. Get the defaults from
/// `macp_watch_options_default` and change what you need.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_watch_options {
    /// Reconnect after transient failures (default true).
    pub reconnect: bool,
    /// Consecutive failed reconnects before giving up; 0 = never (default).
    pub max_reconnect_attempts: u32,
    /// First reconnect delay, doubled per consecutive failure (default 100).
    pub backoff_base_ms: u64,
    /// Longest reconnect delay, at most one hour (default 5000).
    pub backoff_max_ms: u64,
    /// Events buffered between the stream and the callback, 1 to 1048576
    /// (default 256). A callback slower than the stream fills it; the runtime
    /// then reports lag and the watcher resumes.
    pub queue_capacity: u32,
}

/// The default watch options.
#[no_mangle]
pub extern "C" fn macp_watch_options_default() -> macp_watch_options {
    let d = WatchOptions::default();
    macp_watch_options {
        reconnect: d.reconnect,
        max_reconnect_attempts: d.max_reconnect_attempts,
        backoff_base_ms: d.backoff_base.as_millis() as u64,
        backoff_max_ms: d.backoff_max.as_millis() as u64,
        queue_capacity: d.queue_capacity as u32,
    }
}

/// # Safety
/// `o` is NULL or points to a valid `macp_watch_options`.
unsafe fn options_from_c(o: *const macp_watch_options) -> Result<WatchOptions> {
    let Some(o) = o.as_ref() else {
        return Ok(WatchOptions::default());
    };
    let opts = WatchOptions {
        reconnect: o.reconnect,
        max_reconnect_attempts: o.max_reconnect_attempts,
        backoff_base: Duration::from_millis(o.backoff_base_ms),
        backoff_max: Duration::from_millis(o.backoff_max_ms),
        queue_capacity: o.queue_capacity as usize,
    };
    opts.validate()?;
    Ok(opts)
}

/// A running watcher. Created by `macp_session_watch` or a
/// `macp_client_watch_*` function; closed with `macp_watcher_close`.
pub struct macp_watcher {
    _private: [u8; 0],
}

struct Shared {
    closed: AtomicBool,
    /// Held while the callback runs.
    in_callback: Mutex<()>,
}

struct WatcherObject {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    outbound: Option<mpsc::Sender<pb::Envelope>>,
    /// For building envelopes sent on a session stream.
    session: Option<crate::Session>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

static WATCHERS: Table<WatcherObject> = Table::new("macp_watcher");

/// Strings and buffers a `macp_event` borrows from.
#[derive(Default)]
struct Storage {
    strings: Vec<CString>,
    raw: Vec<u8>,
    payload: Vec<u8>,
    info: Option<Box<SessionInfo>>,
}

impl Storage {
    fn s(&mut self, v: &str) -> *const c_char {
        let c = c_string(v);
        let p = c.as_ptr();
        self.strings.push(c);
        p
    }
}

fn empty_envelope() -> macp_envelope {
    macp_envelope {
        macp_version: c"".as_ptr(),
        mode: c"".as_ptr(),
        message_type: c"".as_ptr(),
        message_id: c"".as_ptr(),
        session_id: c"".as_ptr(),
        sender: c"".as_ptr(),
        timestamp_unix_ms: 0,
        payload: std::ptr::null(),
        payload_len: 0,
    }
}

fn view(st: &mut Storage, e: &pb::Envelope) -> macp_envelope {
    st.payload = e.payload.clone();
    macp_envelope {
        macp_version: st.s(&e.macp_version),
        mode: st.s(&e.mode),
        message_type: st.s(&e.message_type),
        message_id: st.s(&e.message_id),
        session_id: st.s(&e.session_id),
        sender: st.s(&e.sender),
        timestamp_unix_ms: e.timestamp_unix_ms,
        payload: if st.payload.is_empty() {
            std::ptr::null()
        } else {
            st.payload.as_ptr()
        },
        payload_len: st.payload.len(),
    }
}

/// Build the C view of `ev`; it borrows from `st`.
fn to_c(ev: &Event, st: &mut Storage) -> macp_event {
    use macp_event_kind::*;
    let mut out = macp_event {
        kind: MACP_EVENT_CLOSED,
        sequence: 0,
        gap_end: 0,
        envelope: empty_envelope(),
        sender_authenticated: false,
        session_event: macp_session_event_type::MACP_SESSION_EVENT_UNSPECIFIED,
        session: std::ptr::null(),
        reconciled: false,
        observed_at_unix_ms: 0,
        registry: c"".as_ptr(),
        status: Status::Ok,
        code: c"".as_ptr(),
        message: c"".as_ptr(),
        message_id: c"".as_ptr(),
        attempt: 0,
        delay_ms: 0,
        raw: std::ptr::null(),
        raw_len: 0,
    };
    let cause = |out: &mut macp_event, st: &mut Storage, e: &Error| {
        out.status = e.status;
        out.code = st.s(&e.code);
        out.message = st.s(&e.message);
        out.message_id = st.s(&e.message_id);
    };
    match ev {
        Event::Envelope { sequence, envelope } => {
            out.kind = MACP_EVENT_ENVELOPE;
            out.sequence = *sequence;
            out.envelope = view(st, envelope);
            st.raw = envelope.encode_to_vec();
        }
        Event::StreamError(e) => {
            out.kind = MACP_EVENT_STREAM_ERROR;
            cause(&mut out, st, e);
        }
        Event::Session { event, reconciled } => {
            out.kind = MACP_EVENT_SESSION;
            out.session_event = event.event_type.into();
            out.reconciled = *reconciled;
            out.observed_at_unix_ms = event.observed_at_unix_ms;
            if let Some(meta) = &event.session {
                let info = SessionInfo::new(meta);
                out.session = &*info as *const SessionInfo as *const macp_session_info;
                st.info = Some(info);
            }
            st.raw = event.encode_to_vec();
        }
        Event::Signal {
            envelope,
            sender_authenticated,
        } => {
            out.kind = MACP_EVENT_SIGNAL;
            out.envelope = view(st, envelope);
            out.sender_authenticated = *sender_authenticated;
            st.raw = envelope.encode_to_vec();
        }
        Event::Policies(p) => {
            out.kind = MACP_EVENT_POLICIES;
            out.observed_at_unix_ms = p.observed_at_unix_ms;
            st.raw = p.encode_to_vec();
        }
        Event::ModeRegistry(r) => {
            out.kind = MACP_EVENT_MODE_REGISTRY;
            out.registry = st.s(&r.registry);
            out.observed_at_unix_ms = r.observed_at_unix_ms;
            st.raw = r.encode_to_vec();
        }
        Event::Roots(r) => {
            out.kind = MACP_EVENT_ROOTS;
            out.observed_at_unix_ms = r.observed_at_unix_ms;
            st.raw = r.encode_to_vec();
        }
        Event::Reconnecting {
            cause: e,
            attempt,
            delay,
        } => {
            out.kind = MACP_EVENT_RECONNECTING;
            cause(&mut out, st, e);
            out.attempt = *attempt;
            out.delay_ms = delay.as_millis() as u64;
        }
        Event::Resumed { after_sequence } => {
            out.kind = MACP_EVENT_RESUMED;
            out.sequence = *after_sequence;
        }
        Event::Gap { from, to, cause: e } => {
            out.kind = MACP_EVENT_GAP;
            out.sequence = *from;
            out.gap_end = *to;
            cause(&mut out, st, e);
        }
        Event::Closed(e) => {
            out.kind = MACP_EVENT_CLOSED;
            cause(&mut out, st, e);
        }
    }
    if !st.raw.is_empty() {
        out.raw = st.raw.as_ptr();
        out.raw_len = st.raw.len();
    }
    out
}

/// Start the callback thread of `watch` and register the watcher.
fn start(
    watch: Watch,
    session: Option<crate::Session>,
    callback: unsafe extern "C" fn(*const macp_event, *mut c_void),
    user_data: *mut c_void,
) -> Result<*mut macp_watcher> {
    let shared = Arc::new(Shared {
        closed: AtomicBool::new(false),
        in_callback: Mutex::new(()),
    });
    let Watch {
        mut events,
        cancel,
        outbound,
    } = watch;
    let ud = UserData(user_data);
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("macp-watcher".into())
        .spawn(move || {
            let ud = ud;
            while let Some(ev) = events.blocking_recv() {
                let _running = thread_shared
                    .in_callback
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if thread_shared.closed.load(Ordering::Acquire) {
                    break;
                }
                let mut storage = Storage::default();
                let c_event = to_c(&ev, &mut storage);
                // SAFETY: the caller guarantees the callback is callable with
                // a valid event pointer and its own user_data.
                unsafe { callback(&c_event, ud.0) };
                if ev.is_terminal() {
                    break;
                }
            }
        })
        .map_err(|e| {
            cancel.cancel();
            Error::new(
                Status::InternalError,
                format!("cannot start the watcher thread: {e}"),
            )
        })?;
    let obj = WatcherObject {
        shared,
        cancel,
        outbound,
        session,
        thread_id: thread.thread().id(),
        thread: Mutex::new(Some(thread)),
    };
    Ok(WATCHERS.insert(obj) as *mut macp_watcher)
}

fn callback_arg(
    cb: macp_event_callback,
) -> Result<unsafe extern "C" fn(*const macp_event, *mut c_void)> {
    cb.ok_or_else(|| Error::invalid_argument("callback is NULL"))
}

/// Subscribe to a session's accepted envelopes, replayed from after
/// `after_sequence` (0: from the first) and then live, each delivered to
/// `callback` as a `MACP_EVENT_ENVELOPE` with its ordinal. Across broken
/// streams, lag and runtime restarts the watcher reconnects (per `options`;
/// NULL for defaults), resumes after the last ordinal it delivered and skips
/// redelivered envelopes, reporting RECONNECTING and RESUMED (and GAP if the
/// runtime compacted history meanwhile). Envelopes can also be sent on the
/// stream with `macp_watcher_send`.
///
/// `callback` runs on the watcher's own thread with `user_data`; see
/// `macp_watcher_close` for when it stops. Close with `macp_watcher_close`.
///
/// # Safety
/// `options` is NULL or valid; `out` is NULL or writable; `user_data` must
/// stay valid for the callback until `macp_watcher_close` returns.
#[no_mangle]
pub unsafe extern "C" fn macp_session_watch(
    session: *const macp_session,
    after_sequence: u64,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let cb = callback_arg(callback)?;
        let opts = options_from_c(options)?;
        let s = session_of(session)?;
        let watch = s.session.watch(after_sequence, opts)?;
        *out = start(watch, Some(s.session.clone()), cb, user_data)?;
        Ok(())
    })
}

/// # Safety
/// As `macp_client_watch_sessions`.
unsafe fn watch_client(
    client: *const macp_client,
    kind: WatchKind,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let cb = callback_arg(callback)?;
        let opts = options_from_c(options)?;
        let c = client_of(client)?;
        let watch = c.watch(kind, opts)?;
        *out = start(watch, None, cb, user_data)?;
        Ok(())
    })
}

/// Watch session lifecycle across the runtime (`WatchSessions`): first one
/// CREATED event per registered session, then each transition as a
/// `MACP_EVENT_SESSION`. After a reconnect, transitions missed meanwhile are
/// reported with `reconciled` set (from `ListSessions`). Fails with
/// `MACP_STATUS_UNSUPPORTED` if the runtime does not advertise it.
///
/// # Safety
/// As `macp_session_watch`.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch_sessions(
    client: *const macp_client,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    watch_client(
        client,
        WatchKind::Sessions,
        options,
        callback,
        user_data,
        out,
        error,
    )
}

/// Watch ambient signals (`WatchSignals`) as `MACP_EVENT_SIGNAL`s.
///
/// # Safety
/// As `macp_session_watch`.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch_signals(
    client: *const macp_client,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    watch_client(
        client,
        WatchKind::Signals,
        options,
        callback,
        user_data,
        out,
        error,
    )
}

/// Watch policy registry changes (`WatchPolicies`) as `MACP_EVENT_POLICIES`.
///
/// # Safety
/// As `macp_session_watch`.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch_policies(
    client: *const macp_client,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    watch_client(
        client,
        WatchKind::Policies,
        options,
        callback,
        user_data,
        out,
        error,
    )
}

/// Watch mode registry changes (`WatchModeRegistry`) as
/// `MACP_EVENT_MODE_REGISTRY`.
///
/// # Safety
/// As `macp_session_watch`.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch_mode_registry(
    client: *const macp_client,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    watch_client(
        client,
        WatchKind::ModeRegistry,
        options,
        callback,
        user_data,
        out,
        error,
    )
}

/// Watch root changes (`WatchRoots`) as `MACP_EVENT_ROOTS`.
///
/// # Safety
/// As `macp_session_watch`.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch_roots(
    client: *const macp_client,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    error: *mut *mut macp_error,
) -> Status {
    watch_client(
        client,
        WatchKind::Roots,
        options,
        callback,
        user_data,
        out,
        error,
    )
}

/// Send an envelope on a session watcher's stream (`StreamSession`) without
/// waiting: its acceptance arrives as a `MACP_EVENT_ENVELOPE`, a refusal as a
/// `MACP_EVENT_STREAM_ERROR` carrying its message id. If the stream breaks
/// first, it is re-sent with the same message id after resuming. `payload` is
/// the protobuf-encoded payload (NULL with length 0 for none); `message_id`
/// NULL generates one. `message_id_out` (NULL, or `MACP_ID_BUFFER_LEN` bytes)
/// receives the id used. Fails with `MACP_STATUS_INVALID_STATE` for a
/// runtime-wide watcher, an ended watcher, or a full send queue.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `payload` is NULL or `payload_len`
/// bytes; `message_id_out` is NULL or `MACP_ID_BUFFER_LEN` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_watcher_send(
    watcher: *const macp_watcher,
    message_type: *const c_char,
    payload: *const u8,
    payload_len: usize,
    message_id: *const c_char,
    message_id_out: *mut c_char,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mt = arg_nonempty(message_type, "message_type")?;
        let bytes = arg_bytes(payload, payload_len, "payload")?;
        let id = arg_opt_str(message_id, "message_id")?.map(str::to_string);
        let w = WATCHERS.get(watcher)?;
        let (Some(session), Some(outbound)) = (&w.session, &w.outbound) else {
            return Err(Error::new(
                Status::InvalidState,
                "only a session watcher (macp_session_watch) can send envelopes",
            ));
        };
        let env = session
            .client()
            .envelope(session.mode(), mt, session.id(), bytes.to_vec(), id);
        let used = env.message_id.clone();
        crate::watch::queue_envelope(outbound, env)?;
        if !message_id_out.is_null() {
            let out = std::slice::from_raw_parts_mut(message_id_out as *mut u8, MACP_ID_BUFFER_LEN);
            let n = used.len().min(MACP_ID_BUFFER_LEN - 1);
            out[..n].copy_from_slice(&used.as_bytes()[..n]);
            out[n] = 0;
        }
        Ok(())
    })
}

/// Stop a watcher and free it. After this returns, its callback is not
/// running and will not run again, and `user_data` is not touched. It may be
/// called from inside the watcher's own callback (the callback then finishes
/// normally and is the last). NULL and already-closed watchers are ignored.
#[no_mangle]
pub extern "C" fn macp_watcher_close(watcher: *mut macp_watcher) {
    guard_value((), || {
        let Some(w) = WATCHERS.remove(watcher) else {
            return;
        };
        w.shared.closed.store(true, Ordering::Release);
        w.cancel.cancel();
        if std::thread::current().id() == w.thread_id {
            return; // inside the callback: the thread ends when it returns
        }
        // Wait out a callback in progress; later ones see `closed`.
        drop(
            w.shared
                .in_callback
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let handle = w
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    })
}

/// Name of an event kind (`"ENVELOPE"`, `"RECONNECTING"`, ...). Static
/// string; `"UNKNOWN"` for any other value.
#[no_mangle]
pub extern "C" fn macp_event_kind_name(kind: i32) -> *const c_char {
    guard_value(c"UNKNOWN".as_ptr(), || match kind {
        1 => c"ENVELOPE".as_ptr(),
        2 => c"STREAM_ERROR".as_ptr(),
        3 => c"SESSION".as_ptr(),
        4 => c"SIGNAL".as_ptr(),
        5 => c"POLICIES".as_ptr(),
        6 => c"MODE_REGISTRY".as_ptr(),
        7 => c"ROOTS".as_ptr(),
        8 => c"RECONNECTING".as_ptr(),
        9 => c"RESUMED".as_ptr(),
        10 => c"GAP".as_ptr(),
        11 => c"CLOSED".as_ptr(),
        _ => c"UNKNOWN".as_ptr(),
    })
}

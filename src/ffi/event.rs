//! `macp_event`: what a watcher delivers to its callback, and how the core's
//! events become that borrowed C view.

use std::ffi::{c_char, c_void, CString};

use macp_pb::pb;
use prost::Message;

use super::args::c_string;
use super::envelope::macp_envelope;
use super::guard::guard_value;
use super::metadata::{macp_session_metadata, Metadata};
use crate::error::{Error, Status};
use crate::watch::Event;

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
    /// SIGNAL: whether the runtime authenticated the signal's sender
    /// (RFC-MACP-0004). True only when the runtime runs with configured
    /// authentication (JWT or static bearer tokens); a runtime in dev mode
    /// (no tokens, `Bearer <name>` taken at its word) marks every signal
    /// false. Do not let an unauthenticated signal influence operational
    /// decisions.
    pub sender_authenticated: bool,
    /// SESSION: the transition.
    pub session_event: macp_session_event_type,
    /// SESSION: the session's metadata after the transition (NULL when the
    /// runtime had already evicted it).
    pub session: *const macp_session_metadata,
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

/// A watcher's callback. Runs on one of the library's callback threads
/// (callbacks of one watcher never overlap and come in order); `event` and
/// everything it points to are valid only during the call.
pub type macp_event_callback =
    Option<unsafe extern "C" fn(event: *const macp_event, user_data: *mut c_void)>;

/// Strings and buffers a `macp_event` borrows from.
#[derive(Default)]
pub(crate) struct Storage {
    strings: Vec<CString>,
    raw: Vec<u8>,
    payload: Vec<u8>,
    metadata: Option<Box<Metadata>>,
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
pub(crate) fn to_c(ev: &Event, st: &mut Storage) -> macp_event {
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
                let m = Box::new(Metadata::new(meta));
                out.session = &m.view;
                st.metadata = Some(m);
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

/// Name of an event kind (`"ENVELOPE"`, `"RECONNECTING"`, ...); `"UNKNOWN"`
/// for any other value.
///
/// Ownership: returns a static string.
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

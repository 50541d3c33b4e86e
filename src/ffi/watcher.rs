//! `macp_watcher`: a session stream or a runtime-wide stream delivered to a
//! C callback.
//!
//! Each watcher has one library thread that runs its callback, so callbacks of
//! one watcher never overlap and arrive in order, and a callback may make
//! blocking libmacp calls. `macp_watcher_close` marks the watcher closed and,
//! unless it is called from that very callback, waits for a callback in
//! progress to return: after it returns no callback of that watcher runs again
//! and `user_data` is no longer touched.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use macp_pb::pb;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_out, clear_text, write_text};
use super::call::{block, macp_call_options, Kind};
use super::client::macp_client;
use super::error::guard;
use super::error::macp_error;
use super::event::{macp_event, macp_event_callback, to_c, Storage};
use super::guard::{guard_value, UserData};
use super::handle::{self, handle_type};
use super::session::macp_session;
use crate::error::{Error, Result, Status};
use crate::watch::{Watch, WatchKind, WatchOptions};

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
///
/// Ownership: returns a value (nothing to free).
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

/// A running watcher. Created by `macp_session_watch` or
/// `macp_client_watch`; closed with `macp_watcher_close`.
pub struct macp_watcher {
    _private: [u8; 0],
}

pub(crate) struct Shared {
    closed: AtomicBool,
    /// Held while the callback runs.
    in_callback: Mutex<()>,
}

pub(crate) struct WatcherObject {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    outbound: Option<mpsc::Sender<pb::Envelope>>,
    /// For building envelopes sent on a session stream.
    session: Option<crate::Session>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

handle_type!(macp_watcher => WatcherObject);

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
    Ok(handle::new(obj))
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
/// Returns once the runtime has accepted the stream, so nothing accepted
/// after it returns is missed (and nothing before: history is replayed). A
/// refused subscription (`MACP_STATUS_FORBIDDEN`, an unknown session)
/// arrives as the stream's first answer and ends the watcher with a
/// `MACP_EVENT_CLOSED` carrying the cause; a stream that cannot be opened
/// at all fails the call. `call` bounds or cancels that wait.
///
/// `callback` runs on the watcher's own thread with `user_data`; see
/// `macp_watcher_close` for when it stops. Close with `macp_watcher_close`.
///
/// Ownership: borrows its arguments, and `user_data` until `macp_watcher_close`
/// returns; on success `*out` is owned by the caller (stop and free it with
/// `macp_watcher_close`); on failure `*out` is NULL and the callback is never
/// called.
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
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let cb = callback_arg(callback)?;
        let opts = options_from_c(options)?;
        let s = handle::get(session)?;
        let watch = block(call, Kind::Other, s.session.watch(after_sequence, opts))?;
        *out = start(watch, Some(s.session.clone()), cb, user_data)?;
        Ok(())
    })
}

/// Which runtime-wide stream `macp_client_watch` follows.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_watch_kind {
    /// Session lifecycle across the runtime (`WatchSessions`): first one
    /// CREATED event per registered session, then each transition as a
    /// `MACP_EVENT_SESSION`. After a reconnect, transitions missed meanwhile
    /// are reported with `reconciled` set (from `ListSessions`).
    MACP_WATCH_SESSIONS = 1,
    /// Ambient signals (`WatchSignals`) as `MACP_EVENT_SIGNAL`s.
    MACP_WATCH_SIGNALS = 2,
    /// Policy registry changes (`WatchPolicies`) as `MACP_EVENT_POLICIES`.
    MACP_WATCH_POLICIES = 3,
    /// Mode registry changes (`WatchModeRegistry`) as
    /// `MACP_EVENT_MODE_REGISTRY`.
    MACP_WATCH_MODE_REGISTRY = 4,
    /// Root changes (`WatchRoots`) as `MACP_EVENT_ROOTS`.
    MACP_WATCH_ROOTS = 5,
}

fn watch_kind(kind: i32) -> Result<WatchKind> {
    Ok(match kind {
        1 => WatchKind::Sessions,
        2 => WatchKind::Signals,
        3 => WatchKind::Policies,
        4 => WatchKind::ModeRegistry,
        5 => WatchKind::Roots,
        _ => {
            return Err(Error::invalid_argument(format!(
                "kind {kind} is not a macp_watch_kind"
            )))
        }
    })
}

/// Follow a runtime-wide stream (see `macp_watch_kind`), each event delivered
/// to `callback`. Across broken streams the watcher reconnects per `options`
/// (NULL for the defaults), reporting RECONNECTING and RESUMED; events
/// published while it was disconnected may be missed (except session
/// transitions, which are reconciled). Returns once the runtime has
/// accepted the subscription, so every event published after it returns
/// is delivered; a subscription that cannot be made fails the call with its
/// cause (reconnecting applies once the watcher was live), and `call`
/// bounds or cancels that wait. Fails with `MACP_STATUS_UNSUPPORTED`
/// when the runtime does not advertise the stream, and with
/// `MACP_STATUS_INVALID_ARGUMENT` for a `kind` that is not a
/// `macp_watch_kind`. `callback` runs as for `macp_session_watch`.
///
/// Ownership: borrows its arguments, and `user_data` until
/// `macp_watcher_close` returns; on success `*out` is owned by the caller
/// (stop and free it with `macp_watcher_close`); on failure `*out` is NULL
/// and the callback is never called.
///
/// # Safety
/// `options` is NULL or valid; `out` is NULL or writable; `user_data` must
/// stay valid for the callback until `macp_watcher_close` returns.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch(
    client: *const macp_client,
    kind: i32,
    options: *const macp_watch_options,
    callback: macp_event_callback,
    user_data: *mut c_void,
    out: *mut *mut macp_watcher,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let kind = watch_kind(kind)?;
        let cb = callback_arg(callback)?;
        let opts = options_from_c(options)?;
        let c = handle::get(client)?;
        let watch = block(call, Kind::Other, c.client.watch(kind, opts))?;
        *out = start(watch, None, cb, user_data)?;
        Ok(())
    })
}

/// Send an envelope on a session watcher's stream (`StreamSession`) without
/// waiting: its acceptance arrives as a `MACP_EVENT_ENVELOPE`, a refusal as a
/// `MACP_EVENT_STREAM_ERROR` carrying its message id. If the stream breaks
/// first, it is re-sent with the same message id after resuming. `payload` is
/// the protobuf-encoded payload (NULL with length 0 for none); `message_id`
/// NULL generates one. The id used is written to `message_id_out`
/// (`message_id_out_len` bytes; `MACP_ID_BUFFER_LEN` always fits) unless it
/// is NULL. Fails with `MACP_STATUS_INVALID_STATE` for a runtime-wide
/// watcher, an ended watcher, or a full send queue.
///
/// Ownership: borrows its arguments; on success `message_id_out` (when not
/// NULL) holds the id; on failure it holds `""` (when not NULL and its
/// length is not 0) and nothing was queued.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `payload` is NULL or `payload_len`
/// bytes; `message_id_out` is NULL or `message_id_out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_watcher_send(
    watcher: *const macp_watcher,
    message_type: *const c_char,
    payload: *const u8,
    payload_len: usize,
    message_id: *const c_char,
    message_id_out: *mut c_char,
    message_id_out_len: usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        if !message_id_out.is_null() {
            clear_text(message_id_out, message_id_out_len, "message_id_out")?;
        }
        let mt = arg_nonempty(message_type, "message_type")?;
        let bytes = arg_bytes(payload, payload_len, "payload")?;
        let id = arg_opt_str(message_id, "message_id")?.map(str::to_string);
        let w = handle::get(watcher)?;
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
        if !message_id_out.is_null() && message_id_out_len < used.len() + 1 {
            // Checked before queueing, so a refusal never leaves a message sent
            // whose id the caller could not learn.
            write_text(message_id_out, message_id_out_len, &used, "message_id_out")?;
        }
        crate::watch::queue_envelope(outbound, env)?;
        if !message_id_out.is_null() {
            write_text(message_id_out, message_id_out_len, &used, "message_id_out")?;
        }
        Ok(())
    })
}

/// Stop a watcher and free it. After this returns, its callback is not
/// running and will not run again, and `user_data` is not touched. It may be
/// called from inside the watcher's own callback (the callback then finishes
/// normally and is the last). NULL and already-closed watchers are ignored.
///
/// Ownership: takes `watcher` and frees it; `user_data` is released once this
/// returns. NULL and already-closed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_watcher_close(watcher: *mut macp_watcher) {
    guard_value((), || {
        let Some(w) = handle::free(watcher) else {
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

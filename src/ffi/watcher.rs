//! `macp_watcher`: a session stream or a runtime-wide stream delivered to a
//! C callback, or into a `macp_event_queue`.
//!
//! Callbacks run on the library's callback pool (see `super::dispatch`), not
//! on a thread per watcher: callbacks of one watcher never overlap and arrive
//! in order, each on one of the pool's threads, and a callback may make
//! blocking libmacp calls. `macp_watcher_close` marks the watcher closed and,
//! unless it is called from that very callback, waits for a callback in
//! progress to return: after it returns no callback of that watcher runs again
//! and `user_data` is no longer touched. Nothing is delivered before the
//! watch call has written the watcher's handle to `*out`, so a callback can
//! use its own handle from the first event on.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_out, clear_text, write_text};
use super::call::{block, macp_call_options, Kind};
use super::client::macp_client;
use super::dispatch::{Callback, Sink, Slot};
use super::error::guard;
use super::error::macp_error;
use super::event::{macp_event, macp_event_callback};
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::queue::macp_event_queue;
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

pub(crate) struct WatcherObject {
    slot: Arc<Slot>,
    cancel: CancellationToken,
    outbound: Option<crate::watch::Outbound>,
    /// For building envelopes sent on a session stream.
    session: Option<crate::Session>,
}

handle_type!(macp_watcher => WatcherObject);

/// Register `watch` as a watcher delivering to `sink`, write its handle to
/// `*out`, and only then start delivering: a callback may use the handle from
/// its first event on.
///
/// # Safety
/// `out` is writable.
unsafe fn start(
    watch: Watch,
    session: Option<crate::Session>,
    sink: Sink,
    out: *mut *mut macp_watcher,
) -> Result<()> {
    let Watch {
        events,
        cancel,
        outbound,
    } = watch;
    let slot = match Slot::new(events, sink) {
        Ok(s) => s,
        Err(e) => {
            cancel.cancel();
            return Err(e);
        }
    };
    let obj = WatcherObject {
        slot: slot.clone(),
        cancel,
        outbound,
        session,
    };
    *out = handle::new(obj);
    slot.arm();
    Ok(())
}

fn callback_sink(cb: macp_event_callback, user_data: *mut c_void) -> Result<Sink> {
    Ok(Sink::Callback(Callback {
        f: callback_arg(cb)?,
        user_data,
    }))
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
/// `callback` runs with `user_data` on one of the library's callback threads
/// (callbacks of one watcher never overlap and come in order; the pool is
/// shared by all watchers, see the README's "Watchers"); it may use the
/// watcher's handle from the first event on. See `macp_watcher_close` for
/// when it stops. Close with `macp_watcher_close`.
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
        watch_session(
            session,
            after_sequence,
            options,
            || callback_sink(callback, user_data),
            out,
            call,
        )
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
        watch_client(
            client,
            kind,
            options,
            || callback_sink(callback, user_data),
            out,
            call,
        )
    })
}

/// The body of `macp_session_watch` and `macp_session_watch_queued`, whose
/// events go to the `Sink` that `sink` makes.
///
/// # Safety
/// As for those functions.
unsafe fn watch_session(
    session: *const macp_session,
    after_sequence: u64,
    options: *const macp_watch_options,
    sink: impl FnOnce() -> Result<Sink>,
    out: *mut *mut macp_watcher,
    call: *const macp_call_options,
) -> Result<()> {
    arg_out(out, "out")?;
    *out = std::ptr::null_mut();
    let sink = sink()?;
    let opts = options_from_c(options)?;
    let s = handle::get(session)?;
    let watch = block(call, Kind::Other, s.session.watch(after_sequence, opts))?;
    start(watch, Some(s.session.clone()), sink, out)
}

/// The body of `macp_client_watch` and `macp_client_watch_queued`.
///
/// # Safety
/// As for those functions.
unsafe fn watch_client(
    client: *const macp_client,
    kind: i32,
    options: *const macp_watch_options,
    sink: impl FnOnce() -> Result<Sink>,
    out: *mut *mut macp_watcher,
    call: *const macp_call_options,
) -> Result<()> {
    arg_out(out, "out")?;
    *out = std::ptr::null_mut();
    let kind = watch_kind(kind)?;
    let sink = sink()?;
    let opts = options_from_c(options)?;
    let c = handle::get(client)?;
    let watch = block(call, Kind::Other, c.client.watch(kind, opts))?;
    start(watch, None, sink, out)
}

fn queue_sink(queue: *const macp_event_queue, tag: u64) -> Result<Sink> {
    Ok(Sink::Queue {
        queue: super::queue::get(queue)?,
        tag,
    })
}

/// `macp_session_watch` delivering into `queue` instead of a callback: each
/// event is taken with `macp_event_queue_next` and carries `tag` (any value
/// that tells the application which watcher it came from). Events wait in
/// the watcher's own bounded queue (`options.queue_capacity`) until taken.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the
/// caller (stop and free it with `macp_watcher_close`; the queue must stay
/// alive until then to receive its events); on failure `*out` is NULL and
/// nothing is ever delivered.
///
/// # Safety
/// `options` is NULL or valid; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_watch_queued(
    session: *const macp_session,
    after_sequence: u64,
    options: *const macp_watch_options,
    queue: *const macp_event_queue,
    tag: u64,
    out: *mut *mut macp_watcher,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        watch_session(
            session,
            after_sequence,
            options,
            || queue_sink(queue, tag),
            out,
            call,
        )
    })
}

/// `macp_client_watch` delivering into `queue` instead of a callback, each
/// event carrying `tag` (see `macp_session_watch_queued`).
///
/// Ownership: borrows its arguments; on success `*out` is owned by the
/// caller (stop and free it with `macp_watcher_close`); on failure `*out` is
/// NULL and nothing is ever delivered.
///
/// # Safety
/// `options` is NULL or valid; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_watch_queued(
    client: *const macp_client,
    kind: i32,
    options: *const macp_watch_options,
    queue: *const macp_event_queue,
    tag: u64,
    out: *mut *mut macp_watcher,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        watch_client(client, kind, options, || queue_sink(queue, tag), out, call)
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
        w.cancel.cancel();
        // Waits out a callback in progress, unless this is it.
        w.slot.close();
    })
}

//! `macp_participant`: the participant loop (`crate::participant`) with C
//! callbacks: sessions naming this identity are joined by themselves, and
//! each accepted envelope goes to the callback registered for its message
//! type (or the fallback).
//!
//! Like a watcher, a participant has one library thread that runs all its
//! callbacks, in order, never overlapping, so a callback may make blocking
//! libmacp calls (answer with `macp_decision_vote`, commit with
//! `macp_session_commit`, ...) on the session handle it is given.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{JoinHandle, ThreadId};

use tokio_util::sync::CancellationToken;

use super::args::{arg_nonempty, arg_opt_str, arg_out};
use super::call::{block, macp_call_options, Kind};
use super::client::macp_client;
use super::envelope::macp_envelope;
use super::error::{guard, macp_error, macp_error_free, report};
use super::event::{to_c, Storage};
use super::guard::{guard_value, UserData};
use super::handle::{self, handle_type};
use super::session::{macp_session, write_session};
use super::session_state::macp_session_state;
use super::watcher::macp_watch_options;
use crate::client::Client;
use crate::error::{Error, Result, Status};
use crate::participant::{Activity, Participant, ParticipantOptions, Routes};
use crate::watch::{Event, WatchOptions};

/// A participant's message callback: an accepted envelope of `session`
/// (borrowed, valid until the session's ended callback returns; do not free
/// it) whose message type it was registered for. `envelope` and what it
/// points to are valid only during the call. Runs on the participant's
/// thread.
pub type macp_participant_callback = Option<
    unsafe extern "C" fn(
        session: *const macp_session,
        envelope: *const macp_envelope,
        user_data: *mut c_void,
    ),
>;

/// A participant's session callback: `session` (borrowed, as for
/// `macp_participant_callback`) was joined, or has ended in `state`
/// (`MACP_SESSION_STATE_UNSPECIFIED` when its stream closed first, `cause`
/// then says why; otherwise `cause` is NULL). `cause` is borrowed for the
/// call. Runs on the participant's thread.
pub type macp_participant_session_callback = Option<
    unsafe extern "C" fn(
        session: *const macp_session,
        state: macp_session_state,
        cause: *const macp_error,
        user_data: *mut c_void,
    ),
>;

type MessageFn = unsafe extern "C" fn(*const macp_session, *const macp_envelope, *mut c_void);
type SessionFn =
    unsafe extern "C" fn(*const macp_session, macp_session_state, *const macp_error, *mut c_void);

#[derive(Default)]
struct Handlers {
    routes: Routes<(MessageFn, UserData)>,
    joined: Option<(SessionFn, UserData)>,
    ended: Option<(SessionFn, UserData)>,
}

/// Not yet started, running, or over.
enum Stage {
    Ready(Handlers),
    Running {
        stop: CancellationToken,
        thread: Option<JoinHandle<()>>,
        thread_id: ThreadId,
    },
    Over,
}

struct Shared {
    stopped: AtomicBool,
    /// Held while a callback runs.
    in_callback: Mutex<()>,
    /// How the loop ended, once it did.
    outcome: Mutex<Option<Result<()>>>,
    ended: Condvar,
}

/// A participant loop. Created with `macp_participant_new`, handlers added
/// with `macp_participant_on` (and `_on_other`, `_on_joined`, `_on_ended`),
/// run with `macp_participant_start`, ended with `macp_participant_stop`
/// and freed with `macp_participant_free`.
pub struct macp_participant {
    _private: [u8; 0],
}

pub(crate) struct ParticipantObject {
    client: Arc<Client>,
    identity: Option<String>,
    opts: ParticipantOptions,
    stage: Mutex<Stage>,
    shared: Arc<Shared>,
}

handle_type!(macp_participant => ParticipantObject);

/// A participant following the sessions of `client` that name `identity`
/// as a participant (NULL: the client's expected sender, else its bearer
/// token, which is the identity under the runtime's development
/// authentication). Sessions already open when it starts are joined too.
/// `options` (NULL for the defaults) applies to the lifecycle stream and to
/// each session stream. Add handlers, then `macp_participant_start`.
///
/// Ownership: borrows its arguments (the participant keeps its own
/// reference to the client's connection); on success `*out` is owned by the
/// caller (free with `macp_participant_free`); on failure `*out` is NULL.
///
/// # Safety
/// `identity` is NULL or NUL-terminated; `options` is NULL or valid; `out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_participant_new(
    client: *const macp_client,
    identity: *const c_char,
    options: *const macp_watch_options,
    out: *mut *mut macp_participant,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let identity = match arg_opt_str(identity, "identity")? {
            Some(i) if i.trim().is_empty() => {
                return Err(Error::invalid_argument("identity is empty"))
            }
            i => i.map(str::to_string),
        };
        let watch = match options.as_ref() {
            None => WatchOptions::default(),
            Some(o) => {
                let w = WatchOptions {
                    reconnect: o.reconnect,
                    max_reconnect_attempts: o.max_reconnect_attempts,
                    backoff_base: std::time::Duration::from_millis(o.backoff_base_ms),
                    backoff_max: std::time::Duration::from_millis(o.backoff_max_ms),
                    queue_capacity: o.queue_capacity as usize,
                };
                w.validate()?;
                w
            }
        };
        let c = handle::get(client)?.client.clone();
        if identity.is_none() {
            crate::participant::default_identity(&c)?;
        }
        let obj = ParticipantObject {
            client: c,
            identity,
            opts: ParticipantOptions {
                watch,
                include_own: false,
            },
            stage: Mutex::new(Stage::Ready(Handlers::default())),
            shared: Arc::new(Shared {
                stopped: AtomicBool::new(false),
                in_callback: Mutex::new(()),
                outcome: Mutex::new(None),
                ended: Condvar::new(),
            }),
        };
        handle::write_new(out, obj);
        Ok(())
    })
}

/// Register a callback (refused when NULL) before the participant starts.
fn register<F>(
    p: *const macp_participant,
    callback: Option<F>,
    error: *mut *mut macp_error,
    f: impl FnOnce(&mut Handlers, F) -> Result<()>,
) -> Status {
    guard(error, || {
        let cb = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
        with_handlers(p, |h| f(h, cb))
    })
}

fn with_handlers(
    p: *const macp_participant,
    f: impl FnOnce(&mut Handlers) -> Result<()>,
) -> Result<()> {
    let p = handle::get(p)?;
    let mut stage = p.stage.lock().unwrap_or_else(PoisonError::into_inner);
    match &mut *stage {
        Stage::Ready(h) => f(h),
        _ => Err(Error::new(
            Status::InvalidState,
            "handlers are added before macp_participant_start",
        )),
    }
}

/// Call `callback` with `user_data` for each accepted envelope of
/// `message_type` (e.g. `"Proposal"`) in a joined session, except those this
/// identity sent. A second callback for the same type replaces the first.
/// Fails with `MACP_STATUS_INVALID_STATE` once the participant started.
///
/// Ownership: borrows its arguments, and `user_data` until
/// `macp_participant_stop` or `macp_participant_free` returns.
///
/// # Safety
/// `message_type` is NULL or NUL-terminated; `user_data` stays valid for the
/// callback as said.
#[no_mangle]
pub unsafe extern "C" fn macp_participant_on(
    participant: *mut macp_participant,
    message_type: *const c_char,
    callback: macp_participant_callback,
    user_data: *mut c_void,
    error: *mut *mut macp_error,
) -> Status {
    let mt = arg_nonempty(message_type, "message_type");
    register(participant, callback, error, |h, cb| {
        h.routes.on(mt?, (cb, UserData(user_data)))
    })
}

/// Call `callback` for each accepted envelope whose message type has no
/// callback of its own (`macp_participant_on`); without one, such envelopes
/// are skipped. Fails with `MACP_STATUS_INVALID_STATE` once started.
///
/// Ownership: borrows its arguments, and `user_data` until
/// `macp_participant_stop` or `macp_participant_free` returns.
///
/// # Safety
/// `user_data` stays valid for the callback as said.
#[no_mangle]
pub unsafe extern "C" fn macp_participant_on_other(
    participant: *mut macp_participant,
    callback: macp_participant_callback,
    user_data: *mut c_void,
    error: *mut *mut macp_error,
) -> Status {
    register(participant, callback, error, |h, cb| {
        h.routes.otherwise((cb, UserData(user_data)));
        Ok(())
    })
}

/// Call `callback` when a session is joined, before any of its envelopes
/// (its `state` is `MACP_SESSION_STATE_OPEN`, `cause` NULL). Fails with
/// `MACP_STATUS_INVALID_STATE` once started.
///
/// Ownership: borrows its arguments, and `user_data` until
/// `macp_participant_stop` or `macp_participant_free` returns.
///
/// # Safety
/// `user_data` stays valid for the callback as said.
#[no_mangle]
pub unsafe extern "C" fn macp_participant_on_joined(
    participant: *mut macp_participant,
    callback: macp_participant_session_callback,
    user_data: *mut c_void,
    error: *mut *mut macp_error,
) -> Status {
    register(participant, callback, error, |h, cb| {
        h.joined = Some((cb, UserData(user_data)));
        Ok(())
    })
}

/// Call `callback` when a joined session has ended: its lifecycle reached
/// a terminal state (and, when it resolved, the Commitment that resolved it
/// was delivered first), or its stream closed for good. Its session handle
/// is freed when the callback returns. Fails with
/// `MACP_STATUS_INVALID_STATE` once started.
///
/// Ownership: borrows its arguments, and `user_data` until
/// `macp_participant_stop` or `macp_participant_free` returns.
///
/// # Safety
/// `user_data` stays valid for the callback as said.
#[no_mangle]
pub unsafe extern "C" fn macp_participant_on_ended(
    participant: *mut macp_participant,
    callback: macp_participant_session_callback,
    user_data: *mut c_void,
    error: *mut *mut macp_error,
) -> Status {
    register(participant, callback, error, |h, cb| {
        h.ended = Some((cb, UserData(user_data)));
        Ok(())
    })
}

/// Start following: opens the lifecycle stream (`MACP_STATUS_UNSUPPORTED`
/// when the runtime does not advertise it) and starts the participant's
/// thread, which runs every callback. A participant starts once: again is
/// `MACP_STATUS_INVALID_STATE`. Returns once the runtime has accepted the
/// lifecycle subscription; `call` bounds or cancels that wait.
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `call` is NULL or points to a valid `macp_call_options`.
#[no_mangle]
pub unsafe extern "C" fn macp_participant_start(
    participant: *mut macp_participant,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let p = handle::get(participant)?;
        let mut stage = p.stage.lock().unwrap_or_else(PoisonError::into_inner);
        if !matches!(*stage, Stage::Ready(_)) {
            return Err(Error::new(
                Status::InvalidState,
                "the participant was already started",
            ));
        }
        let core = block(
            call,
            Kind::Other,
            Participant::start(p.client.clone(), p.identity.as_deref(), p.opts.clone()),
        )?;
        let stop = core.stop_token();
        let Stage::Ready(handlers) = std::mem::replace(&mut *stage, Stage::Over) else {
            unreachable!("checked above");
        };
        let shared = p.shared.clone();
        let thread = std::thread::Builder::new()
            .name("macp-participant".into())
            .spawn(move || run(core, handlers, shared))
            .map_err(|e| {
                stop.cancel();
                Error::new(
                    Status::InternalError,
                    format!("cannot start the participant thread: {e}"),
                )
            })?;
        *stage = Stage::Running {
            stop,
            thread_id: thread.thread().id(),
            thread: Some(thread),
        };
        Ok(())
    })
}

/// The participant's thread: dispatch activity until it closes.
fn run(mut core: Participant, handlers: Handlers, shared: Arc<Shared>) {
    let mut sessions: HashMap<String, usize> = HashMap::new();
    let outcome = loop {
        let Some(activity) = core.activity.blocking_recv() else {
            break Err(Error::new(Status::Cancelled, "the participant ended"));
        };
        let _running = shared
            .in_callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if shared.stopped.load(Ordering::Acquire) {
            break Ok(());
        }
        match activity {
            Activity::Joined(session) => {
                let id = session.id().to_string();
                let mut h: *mut macp_session = std::ptr::null_mut();
                // SAFETY: `h` is a local, writable.
                unsafe { write_session(&mut h, session) };
                sessions.insert(id, h as usize);
                if let Some((cb, ud)) = &handlers.joined {
                    // SAFETY: the caller registered a callable callback with
                    // its own user_data; the pointers are live for the call.
                    unsafe {
                        cb(
                            h,
                            macp_session_state::MACP_SESSION_STATE_OPEN,
                            std::ptr::null(),
                            ud.0,
                        )
                    };
                }
            }
            Activity::Message {
                session,
                sequence,
                envelope,
            } => {
                let (Some(&h), Some((cb, ud))) = (
                    sessions.get(session.id()),
                    handlers.routes.route(&envelope.message_type),
                ) else {
                    continue;
                };
                let mut storage = Storage::default();
                let ev = to_c(&Event::Envelope { sequence, envelope }, &mut storage);
                // SAFETY: as above; `ev` borrows from `storage`, alive here.
                unsafe { cb(h as *const macp_session, &ev.envelope, ud.0) };
            }
            Activity::Ended {
                session,
                state,
                cause,
            } => {
                let Some(h) = sessions.remove(session.id()) else {
                    continue;
                };
                if let Some((cb, ud)) = &handlers.ended {
                    let mut err: *mut macp_error = std::ptr::null_mut();
                    if let Some(e) = cause {
                        report(&mut err, e);
                    }
                    // SAFETY: as above.
                    unsafe { cb(h as *const macp_session, (state as i32).into(), err, ud.0) };
                    macp_error_free(err);
                }
                drop(handle::free(h as *const macp_session));
            }
            Activity::Refused { .. } => {}
            Activity::Closed(e) => {
                break if shared.stopped.load(Ordering::Acquire) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    };
    drop(core);
    for h in sessions.into_values() {
        drop(handle::free(h as *const macp_session));
    }
    *shared
        .outcome
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(outcome);
    shared.ended.notify_all();
}

/// Block until the participant's loop ends: `MACP_STATUS_OK` after
/// `macp_participant_stop`, else the status of what ended it (its client
/// was closed: `MACP_STATUS_CANCELLED`; its lifecycle stream failed for
/// good). Not from one of its own callbacks, nor before
/// `macp_participant_start`: `MACP_STATUS_INVALID_STATE`.
///
/// Ownership: borrows its arguments.
#[no_mangle]
pub extern "C" fn macp_participant_wait(
    participant: *const macp_participant,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let p = handle::get(participant)?;
        match &*p.stage.lock().unwrap_or_else(PoisonError::into_inner) {
            Stage::Ready(_) => {
                return Err(Error::new(
                    Status::InvalidState,
                    "the participant was not started",
                ))
            }
            Stage::Running { thread_id, .. } if *thread_id == std::thread::current().id() => {
                return Err(Error::new(
                    Status::InvalidState,
                    "macp_participant_wait cannot wait from the participant's own callback",
                ))
            }
            _ => {}
        }
        let mut outcome = p
            .shared
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while outcome.is_none() {
            outcome = p
                .shared
                .ended
                .wait(outcome)
                .unwrap_or_else(PoisonError::into_inner);
        }
        outcome.clone().unwrap_or(Ok(()))
    })
}

/// Stop following (a participant never started just stops): after this
/// returns no callback is running or will run again, `user_data` is not
/// touched, and the session handles the callbacks were given are freed.
/// It may be called from inside one of its callbacks (that callback then
/// finishes normally and is the last). Stopping again does nothing.
///
/// Ownership: borrows its arguments; the callbacks' `user_data` is released
/// once this returns.
#[no_mangle]
pub extern "C" fn macp_participant_stop(
    participant: *mut macp_participant,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let p = handle::get(participant)?;
        stop(&p);
        Ok(())
    })
}

fn stop(p: &ParticipantObject) {
    p.shared.stopped.store(true, Ordering::Release);
    let mut stage = p.stage.lock().unwrap_or_else(PoisonError::into_inner);
    let thread = match &mut *stage {
        Stage::Running {
            stop,
            thread,
            thread_id,
        } => {
            stop.cancel();
            if *thread_id == std::thread::current().id() {
                return; // inside a callback: the thread ends after it
            }
            thread.take()
        }
        Stage::Ready(_) => {
            *stage = Stage::Over;
            let mut outcome = p
                .shared
                .outcome
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            outcome.get_or_insert(Ok(()));
            p.shared.ended.notify_all();
            None
        }
        Stage::Over => None,
    };
    drop(stage);
    // Wait out a callback in progress; later ones see `stopped`.
    drop(
        p.shared
            .in_callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    if let Some(t) = thread {
        let _ = t.join();
    }
}

/// Stop the participant (as `macp_participant_stop`) and free it. NULL and
/// already-freed participants are ignored.
///
/// Ownership: takes `participant` and frees it; the callbacks' `user_data`
/// is released once this returns. NULL and already-freed handles are
/// ignored.
#[no_mangle]
pub extern "C" fn macp_participant_free(participant: *mut macp_participant) {
    guard_value((), || {
        if let Some(p) = handle::free(participant) {
            stop(&p);
        }
    })
}

//! `macp_event_queue`: watchers' events taken by the application from its
//! own event loop instead of callbacks on library threads.
//!
//! Watchers started with `macp_session_watch_queued` or
//! `macp_client_watch_queued` deliver into a queue; `macp_event_queue_next`
//! takes one pending event without waiting. On Unix the queue has a file
//! descriptor (an eventfd on Linux, a pipe elsewhere) that is readable while
//! events may be pending, for `poll`/`epoll`/`kqueue`/libuv/GLib; everywhere
//! `macp_event_queue_wait` waits for one with a timeout.
//!
//! Sends made with `macp_session_send_queued` report their outcome into the
//! same queue (`macp_event_queue_next_send`), so one loop can keep sends in
//! flight and watch sessions without any callback.
//!
//! The queue holds watchers that have events, not the events: each watcher's
//! events stay in its own bounded queue until taken (see `super::dispatch`),
//! so a slow loop makes streams lag and resume instead of buffering without
//! bound.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use std::ffi::c_char;

use super::ack::{fill_ack, macp_ack};
use super::args::{arg_bytes, arg_nonempty, arg_out};
use super::call::{call_arg, macp_call_options, Kind};
use super::dispatch::{Sink, Slot, Step};
use super::error::report;
use super::error::{guard, macp_error};
use super::event::{macp_event, to_c, Storage};
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::session::macp_session;
use crate::client::Ack;
use crate::error::{Error, Result, Status};
use crate::watch::Event;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A queue several watchers deliver their events into, read by the
/// application (see `macp_event_queue_new`).
pub struct macp_event_queue {
    _private: [u8; 0],
}

pub(crate) struct Queue {
    state: Mutex<State>,
    cv: Condvar,
}

struct State {
    ready: VecDeque<Arc<Slot>>,
    /// Outcomes of sends made with `macp_session_send_queued`, with their
    /// tags, in completion order.
    sends: VecDeque<(u64, Result<Ack>)>,
    /// `macp_event_queue_free` was called: nothing is queued any more.
    freed: bool,
    notifier: Option<Notifier>,
}

handle_type!(macp_event_queue => Arc<Queue>);

impl Queue {
    fn new() -> Result<Queue> {
        Ok(Queue {
            state: Mutex::new(State {
                ready: VecDeque::new(),
                sends: VecDeque::new(),
                freed: false,
                notifier: Some(Notifier::new()?),
            }),
            cv: Condvar::new(),
        })
    }

    /// A watcher has events: readable from now on.
    pub(crate) fn push(&self, slot: Arc<Slot>) {
        let mut st = lock(&self.state);
        if st.freed {
            return;
        }
        st.ready.push_back(slot);
        st.signal_if_first();
        drop(st);
        self.cv.notify_all();
    }

    fn push_send(&self, tag: u64, result: Result<Ack>) {
        let mut st = lock(&self.state);
        if st.freed {
            return;
        }
        st.sends.push_back((tag, result));
        st.signal_if_first();
        drop(st);
        self.cv.notify_all();
    }

    fn pop(&self) -> Option<Arc<Slot>> {
        let mut st = lock(&self.state);
        let slot = st.ready.pop_front();
        st.drain_if_empty();
        slot
    }

    fn pop_send(&self) -> Option<(u64, Result<Ack>)> {
        let mut st = lock(&self.state);
        let done = st.sends.pop_front();
        st.drain_if_empty();
        done
    }

    /// The next pending event and its watcher's tag, if any.
    fn next(&self) -> Option<(Event, u64)> {
        while let Some(slot) = self.pop() {
            loop {
                match slot.step() {
                    Step::Took(Some(ev)) => {
                        if !ev.is_terminal() {
                            slot.requeue();
                        }
                        let Sink::Queue { tag, .. } = &slot.sink else {
                            return None;
                        };
                        return Some((ev, *tag));
                    }
                    Step::Took(None) | Step::Again => continue,
                    Step::Idle | Step::Ended => break,
                }
            }
        }
        None
    }

    /// Wait until a watcher may have events or `timeout` passes.
    fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.state);
        loop {
            if st.pending() > 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || st.freed {
                return false;
            }
            st = self
                .cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn free(&self) {
        let mut st = lock(&self.state);
        st.freed = true;
        st.ready.clear(); // the slots hold the queue: break the cycle
        st.sends.clear();
        st.notifier = None;
        drop(st);
        self.cv.notify_all();
    }
}

impl State {
    fn pending(&self) -> usize {
        self.ready.len() + self.sends.len()
    }

    /// Readable from the first pending item on.
    fn signal_if_first(&self) {
        if self.pending() == 1 {
            if let Some(n) = &self.notifier {
                n.signal();
            }
        }
    }

    /// Not readable once nothing is pending.
    fn drain_if_empty(&self) {
        if self.pending() == 0 {
            if let Some(n) = &self.notifier {
                n.drain();
            }
        }
    }
}

/// The readable side of a queue on Unix: an eventfd (Linux) or a pipe,
/// non-blocking and close-on-exec. It is signalled when the ready list
/// becomes non-empty and drained when it becomes empty, so it is readable
/// exactly while some watcher may have events.
#[cfg(unix)]
struct Notifier {
    read: libc::c_int,
    write: libc::c_int,
}

#[cfg(unix)]
impl Notifier {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn new() -> Result<Notifier> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(os_error("eventfd"));
        }
        Ok(Notifier {
            read: fd,
            write: fd,
        })
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn new() -> Result<Notifier> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(os_error("pipe"));
        }
        for fd in fds {
            // SAFETY: fcntl on descriptors this function owns.
            unsafe {
                let fl = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(Notifier {
            read: fds[0],
            write: fds[1],
        })
    }

    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes (an eventfd needs exactly that; a pipe takes
        // them as they come) from a local. A full pipe is readable already.
        unsafe { libc::write(self.write, (&one as *const u64).cast(), 8) };
    }

    fn drain(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a local buffer of the size given; the
        // descriptor is non-blocking.
        while unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {
            if self.read == self.write {
                break; // an eventfd is drained by one read
            }
        }
    }

    fn fd(&self) -> i32 {
        self.read
    }
}

#[cfg(unix)]
impl Drop for Notifier {
    fn drop(&mut self) {
        // SAFETY: the descriptors are this notifier's own.
        unsafe {
            libc::close(self.read);
            if self.write != self.read {
                libc::close(self.write);
            }
        }
    }
}

#[cfg(unix)]
fn os_error(what: &str) -> Error {
    Error::new(
        Status::InternalError,
        format!(
            "cannot make the event queue's {what}: {}",
            std::io::Error::last_os_error()
        ),
    )
}

/// Without Unix file descriptors, `macp_event_queue_wait` is the way to
/// wait.
#[cfg(not(unix))]
struct Notifier;

#[cfg(not(unix))]
impl Notifier {
    fn new() -> Result<Notifier> {
        Ok(Notifier)
    }
    fn signal(&self) {}
    fn drain(&self) {}
}

/// The queue behind a handle, for the watch functions.
pub(crate) fn get(q: *const macp_event_queue) -> Result<Arc<Queue>> {
    Ok((*handle::get(q)?).clone())
}

/// Make an event queue. Watchers started with `macp_session_watch_queued`
/// or `macp_client_watch_queued` deliver into it; take their events with
/// `macp_event_queue_next` from any thread (events of one watcher come out
/// in order). Wait for them with `poll` and friends on
/// `macp_event_queue_fd` (Unix) or with `macp_event_queue_wait`.
///
/// Ownership: on success `*out` is owned by the caller (free it with
/// `macp_event_queue_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_event_queue_new(
    out: *mut *mut macp_event_queue,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let q = Queue::new()?;
        handle::write_new(out, Arc::new(q));
        Ok(())
    })
}

/// The queue's file descriptor (Unix): readable while events or send
/// outcomes may be pending. When it polls readable, call
/// `macp_event_queue_next` (and `macp_event_queue_next_send`, if you send
/// with `macp_session_send_queued`) until they give NULL; the descriptor is
/// then no longer readable until more arrive. Never read
/// or write it yourself. Fails with `MACP_STATUS_UNSUPPORTED` where there
/// are no such descriptors (Windows: use `macp_event_queue_wait`).
///
/// Ownership: borrows `queue`; the descriptor belongs to the queue and is
/// closed by `macp_event_queue_free`; on failure `*fd_out` is -1.
///
/// # Safety
/// `fd_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_event_queue_fd(
    queue: *const macp_event_queue,
    fd_out: *mut i32,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(fd_out, "fd_out")?;
        *fd_out = -1;
        let q = get(queue)?;
        let st = lock(&q.state);
        #[cfg(unix)]
        if let Some(n) = &st.notifier {
            *fd_out = n.fd();
            return Ok(());
        }
        drop(st);
        Err(Error::new(
            Status::Unsupported,
            "this platform has no pollable descriptor for an event queue; use macp_event_queue_wait",
        ))
    })
}

/// Wait up to `timeout_ms` milliseconds (0: do not wait) until events or
/// send outcomes may be pending; `*ready_out` says whether they may. Then
/// take them with `macp_event_queue_next` and `macp_event_queue_next_send`,
/// which may still give NULL.
///
/// Ownership: borrows `queue`; on failure `*ready_out` is false.
///
/// # Safety
/// `ready_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_event_queue_wait(
    queue: *const macp_event_queue,
    timeout_ms: u32,
    ready_out: *mut bool,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(ready_out, "ready_out")?;
        *ready_out = false;
        let q = get(queue)?;
        *ready_out = q.wait(Duration::from_millis(timeout_ms.into()));
        Ok(())
    })
}

/// Take the next pending event of any of the queue's watchers, without
/// waiting: `*out` is NULL when none is pending. Events of one watcher come
/// out in order, each once, ending with `MACP_EVENT_CLOSED` when the watcher
/// ends by itself; a watcher closed with `macp_watcher_close` gives nothing
/// more once the close returned. Watchers with events take turns.
///
/// Ownership: borrows `queue`; on success `*out` is NULL or owned by the
/// caller (free it with `macp_queued_event_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_event_queue_next(
    queue: *const macp_event_queue,
    out: *mut *mut macp_queued_event,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let q = get(queue)?;
        if let Some((ev, tag)) = q.next() {
            let mut storage = Box::<Storage>::default();
            let view = to_c(&ev, &mut storage);
            handle::write_new(
                out,
                QueuedEvent {
                    view,
                    _storage: storage,
                    tag,
                },
            );
        }
        Ok(())
    })
}

/// Free an event queue; its descriptor is closed. Watchers still delivering
/// into it deliver nowhere from then on (close them too; closing them first
/// is the usual order). NULL and already-freed handles are ignored.
///
/// Ownership: takes `queue` and frees it. NULL and already-freed handles are
/// ignored.
#[no_mangle]
pub extern "C" fn macp_event_queue_free(queue: *mut macp_event_queue) {
    guard_value((), || {
        if let Some(q) = handle::free(queue) {
            q.free();
        }
    })
}

/// One event taken from a `macp_event_queue`, owned by the caller. Read it
/// with `macp_queued_event_get`; free it with `macp_queued_event_free`.
pub struct macp_queued_event {
    _private: [u8; 0],
}

pub(crate) struct QueuedEvent {
    view: macp_event,
    /// What `view` points into (heap data: moving it keeps them valid).
    _storage: Box<Storage>,
    tag: u64,
}
// SAFETY: `view` only points into `_storage`, which is never changed after
// the event is built; both are freed together.
unsafe impl Send for QueuedEvent {}
unsafe impl Sync for QueuedEvent {}

handle_type!(macp_queued_event => QueuedEvent);

/// The event (the same `macp_event` a callback receives) and the `tag` its
/// watcher was started with.
///
/// Ownership: borrows `event`; on success `*event_out` is borrowed from it,
/// valid until `macp_queued_event_free(event)`, and `*tag_out` (when not
/// NULL) holds the tag; on failure `*event_out` is NULL and `*tag_out` 0.
///
/// # Safety
/// `event_out` is NULL or writable; `tag_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_queued_event_get(
    event: *const macp_queued_event,
    event_out: *mut *const macp_event,
    tag_out: *mut u64,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        if !tag_out.is_null() {
            *tag_out = 0;
        }
        arg_out(event_out, "event_out")?;
        *event_out = std::ptr::null();
        let e = handle::get(event)?;
        // The view lives in the handle's target, which lives while the
        // handle does.
        *event_out = &e.view;
        if !tag_out.is_null() {
            *tag_out = e.tag;
        }
        Ok(())
    })
}

/// Free an event taken with `macp_event_queue_next`. NULL and already-freed
/// handles are ignored.
///
/// Ownership: takes `event` and frees it, with everything read from it.
/// NULL and already-freed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_queued_event_free(event: *mut macp_queued_event) {
    guard_value((), || {
        handle::free(event);
    })
}

/// Send like `macp_session_send_async`, reporting the outcome into `queue`
/// instead of a callback: take it with `macp_event_queue_next_send`, which
/// gives it with `tag`. The queue's descriptor becomes readable when an
/// outcome is there, as for events. Returns at once: `MACP_STATUS_OK` when
/// queued (exactly one outcome will follow), or a failure for invalid
/// arguments (then none will). Outcomes of concurrent sends may come in any
/// order. The message id and `call` work as for `macp_session_send_async`.
///
/// Ownership: borrows its arguments (the payload and `call`'s contents are
/// copied before it returns); on failure nothing was sent and no outcome
/// will be queued.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `payload` is NULL or `payload_len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_session_send_queued(
    session: *const macp_session,
    message_type: *const c_char,
    payload: *const u8,
    payload_len: usize,
    queue: *const macp_event_queue,
    tag: u64,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mt = arg_nonempty(message_type, "message_type")?.to_string();
        let bytes = arg_bytes(payload, payload_len, "payload")?.to_vec();
        let opts = call_arg(call, Kind::Send)?;
        let session = handle::get(session)?.session.clone();
        let q = get(queue)?;
        crate::rt::spawn(async move {
            let result = crate::call::run(&opts, session.send_raw(&mt, bytes, None)).await;
            q.push_send(tag, result);
        })?;
        Ok(())
    })
}

/// The outcome of one `macp_session_send_queued`, owned by the caller. Read
/// it with `macp_send_result_get`; free it with `macp_send_result_free`.
pub struct macp_send_result {
    _private: [u8; 0],
}

pub(crate) struct SendResult {
    tag: u64,
    result: Result<Ack>,
}

handle_type!(macp_send_result => SendResult);

/// Take the outcome of a send made with `macp_session_send_queued`, without
/// waiting: `*out` is NULL when none has completed since the last call.
///
/// Ownership: borrows `queue`; on success `*out` is NULL or owned by the
/// caller (free it with `macp_send_result_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_event_queue_next_send(
    queue: *const macp_event_queue,
    out: *mut *mut macp_send_result,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let q = get(queue)?;
        if let Some((tag, result)) = q.pop_send() {
            handle::write_new(out, SendResult { tag, result });
        }
        Ok(())
    })
}

/// What a queued send came to: `*status_out` is its status; when it is
/// `MACP_STATUS_OK`, `*ack_out` (when not NULL) holds the acknowledgement,
/// otherwise `*failure_out` (when not NULL) is a new error with the send's
/// code and message. `*tag_out` (when not NULL) is the send's tag.
///
/// Ownership: borrows `result`; on success `*failure_out` (when not NULL) is
/// NULL or owned by the caller (free it with `macp_error_free`), and
/// `*ack_out` is written only for a successful send; on failure
/// `*status_out` is `MACP_STATUS_INVALID_HANDLE` or
/// `MACP_STATUS_INVALID_ARGUMENT`, `*failure_out` NULL, `*tag_out` 0.
///
/// # Safety
/// Each output is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_send_result_get(
    result: *const macp_send_result,
    status_out: *mut Status,
    ack_out: *mut macp_ack,
    tag_out: *mut u64,
    failure_out: *mut *mut macp_error,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        if !failure_out.is_null() {
            *failure_out = std::ptr::null_mut();
        }
        if !tag_out.is_null() {
            *tag_out = 0;
        }
        arg_out(status_out, "status_out")?;
        *status_out = Status::InvalidArgument;
        let r = handle::get(result).inspect_err(|e| *status_out = e.status)?;
        if !tag_out.is_null() {
            *tag_out = r.tag;
        }
        match &r.result {
            Ok(a) => {
                *status_out = Status::Ok;
                if !ack_out.is_null() {
                    fill_ack(ack_out, a);
                }
            }
            Err(e) => {
                *status_out = e.status;
                if !failure_out.is_null() {
                    report(failure_out, e.clone());
                }
            }
        }
        Ok(())
    })
}

/// Free a send's outcome. NULL and already-freed handles are ignored.
///
/// Ownership: takes `result` and frees it. NULL and already-freed handles
/// are ignored.
#[no_mangle]
pub extern "C" fn macp_send_result_free(result: *mut macp_send_result) {
    guard_value((), || {
        handle::free(result);
    })
}

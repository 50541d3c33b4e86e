//! Where a watcher's events are consumed, without a thread per watcher.
//!
//! A watcher's events wait in its core queue (the bounded channel of
//! [`crate::watch::Watch`]). Nothing polls it until it has something: its
//! [`Slot`] is the channel's waker, and waking puts the slot on a ready list
//! once. Whoever takes the slot off that list delivers its events, in order,
//! then either finds the channel empty (the slot waits for the next wake) or
//! puts the slot back at the end of the list, so busy watchers take turns.
//! A slot is on a ready list, or being delivered, at most once at a time:
//! one watcher's events are never delivered concurrently or out of order.
//!
//! Two kinds of ready list:
//! - the **callback pool**, shared by every callback watcher of the process:
//!   library threads (never one that drives the async runtime, so a callback
//!   may make blocking libmacp calls) that run callbacks, up to [`BATCH`] events of a
//!   watcher per turn. The pool starts with one thread and adds one whenever a
//!   watcher becomes ready while every pool thread is inside a callback, up to
//!   `$MACP_WATCHER_THREADS` (1 to 256, default 16). A callback holds its
//!   thread while it runs: a watcher whose callback blocks stalls only
//!   itself while fewer than that many callbacks block at once; when all of
//!   the pool's threads are inside callbacks, other watchers' events wait in
//!   their queues (a full queue makes the stream lag, and the watcher
//!   resumes without loss) until one returns.
//! - an **event queue** (`macp_event_queue`, [`super::queue`]): the
//!   application takes events itself, one at a time, from its own loop.

use std::cell::Cell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use super::event::{macp_event, to_c, Storage};
use super::queue::Queue;
use crate::error::{Error, Result, Status};
use crate::watch::{Event, Events};

/// Events of one watcher delivered per turn before the next ready watcher's.
pub(crate) const BATCH: usize = 64;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A C callback and its `user_data`.
pub(crate) struct Callback {
    pub(crate) f: unsafe extern "C" fn(*const macp_event, *mut c_void),
    pub(crate) user_data: *mut c_void,
}
// SAFETY: libmacp never dereferences `user_data`; it only hands it back to
// the callback, on a library thread, as the header documents.
unsafe impl Send for Callback {}
unsafe impl Sync for Callback {}

/// Who takes a watcher's events.
pub(crate) enum Sink {
    /// The callback pool runs this callback.
    Callback(Callback),
    /// The application takes them from this event queue, each with `tag`.
    Queue { queue: Arc<Queue>, tag: u64 },
}

#[derive(Default)]
struct Sched {
    /// On a ready list or being delivered.
    scheduled: bool,
    /// Woken while scheduled: poll again before going idle.
    notified: bool,
}

/// One watcher as the dispatching sees it.
pub(crate) struct Slot {
    events: Mutex<Option<Events>>,
    /// An event taken by [`Slot::arm`]'s first poll, delivered first.
    first: Mutex<Option<Event>>,
    sched: Mutex<Sched>,
    /// Closed by its owner, or its last event delivered: nothing more is.
    ended: AtomicBool,
    /// Held while one of its events is being taken and delivered; closing
    /// waits for it.
    delivering: Mutex<()>,
    pub(crate) sink: Sink,
}

thread_local! {
    /// The slot whose callback this thread is running (0: none).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// What one step of delivery did. Returned once per event and never stored,
/// so the event is not boxed.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    /// An event was taken (and, for a callback watcher, delivered: then
    /// `None`).
    Took(Option<Event>),
    /// Woken meanwhile: step again.
    Again,
    /// The queue is empty: the slot waits for its next wake.
    Idle,
    /// The watcher is over.
    Ended,
}

impl Wake for Slot {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.schedule();
    }
}

impl Slot {
    /// A slot for `events`, not yet scheduled: nothing is delivered before
    /// [`Slot::arm`], so the caller can publish the watcher's handle first.
    pub(crate) fn new(events: Events, sink: Sink) -> Result<Arc<Slot>> {
        if matches!(sink, Sink::Callback(_)) {
            pool()?;
        }
        Ok(Arc::new(Slot {
            events: Mutex::new(Some(events)),
            first: Mutex::new(None),
            sched: Mutex::new(Sched::default()),
            ended: AtomicBool::new(false),
            delivering: Mutex::new(()),
            sink,
        }))
    }

    fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    /// Start delivering. The first poll registers the slot as its queue's
    /// waker, and the slot goes on its ready list only if it found an event
    /// (an event queue is not readable before there is one). Until this
    /// poll no waker is registered, so nothing else polls meanwhile.
    pub(crate) fn arm(self: &Arc<Self>) {
        let _delivering = lock(&self.delivering);
        let waker = Waker::from(self.clone());
        let polled = match lock(&self.events).as_mut() {
            None => return,
            Some(rx) => rx.poll_recv(&mut Context::from_waker(&waker)),
        };
        match polled {
            Poll::Pending => {}
            Poll::Ready(ev) => {
                *lock(&self.first) = ev;
                drop(_delivering);
                self.schedule();
            }
        }
    }

    fn schedule(self: &Arc<Self>) {
        if self.ended.load(Ordering::Acquire) {
            return;
        }
        {
            let mut s = lock(&self.sched);
            if s.scheduled {
                s.notified = true;
                return;
            }
            s.scheduled = true;
        }
        self.push();
    }

    /// Put this scheduled slot on its ready list.
    fn push(self: &Arc<Self>) {
        match &self.sink {
            Sink::Callback(_) => {
                if let Ok(p) = pool() {
                    p.push(self.clone());
                }
            }
            Sink::Queue { queue, .. } => queue.push(self.clone()),
        }
    }

    /// Back to the end of its ready list, still scheduled (a turn used up,
    /// or an event taken from an event queue).
    pub(crate) fn requeue(self: &Arc<Self>) {
        self.push();
    }

    /// Whether this thread is running this slot's callback.
    pub(crate) fn is_current(self: &Arc<Self>) -> bool {
        CURRENT.with(|c| c.get()) == self.id()
    }

    /// Take the next event: for a callback watcher, deliver it; for a queued
    /// one, return it. The slot must be scheduled and held by the caller.
    pub(crate) fn step(self: &Arc<Self>) -> Step {
        let _delivering = lock(&self.delivering);
        if self.ended.load(Ordering::Acquire) {
            self.end();
            return Step::Ended;
        }
        let first = lock(&self.first).take();
        let polled = match first {
            Some(ev) => Poll::Ready(Some(ev)),
            None => {
                let waker = Waker::from(self.clone());
                match lock(&self.events).as_mut() {
                    None => Poll::Ready(None),
                    Some(rx) => rx.poll_recv(&mut Context::from_waker(&waker)),
                }
            }
        };
        match polled {
            Poll::Ready(Some(ev)) => {
                let last = ev.is_terminal();
                let taken = match &self.sink {
                    Sink::Callback(cb) => {
                        let mut storage = Storage::default();
                        let c_event = to_c(&ev, &mut storage);
                        let previous = CURRENT.with(|c| c.replace(self.id()));
                        // SAFETY: the caller guarantees the callback is
                        // callable with a valid event and its user_data.
                        unsafe { (cb.f)(&c_event, cb.user_data) };
                        CURRENT.with(|c| c.set(previous));
                        None
                    }
                    Sink::Queue { .. } => Some(ev),
                };
                if last {
                    self.end();
                }
                Step::Took(taken)
            }
            Poll::Ready(None) => {
                self.end();
                Step::Ended
            }
            Poll::Pending => {
                let mut s = lock(&self.sched);
                if s.notified {
                    s.notified = false;
                    Step::Again
                } else {
                    s.scheduled = false;
                    Step::Idle
                }
            }
        }
    }

    /// Nothing more is delivered; the core queue is dropped.
    fn end(&self) {
        self.ended.store(true, Ordering::Release);
        lock(&self.events).take();
        lock(&self.first).take();
    }

    /// Stop delivering. Unless called from this slot's own callback, waits
    /// for a delivery in progress: afterwards none runs again.
    pub(crate) fn close(self: &Arc<Self>) {
        self.ended.store(true, Ordering::Release);
        if self.is_current() {
            return; // the callback returns into `step`, which sees `ended`
        }
        drop(lock(&self.delivering));
        self.end();
    }
}

/// The callback pool.
pub(crate) struct Pool {
    ready: Mutex<PoolState>,
    cv: Condvar,
    max: usize,
}

struct PoolState {
    queue: VecDeque<Arc<Slot>>,
    threads: usize,
    /// Threads waiting for a ready slot.
    idle: usize,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// `$MACP_WATCHER_THREADS` (1 to 256), else 16.
fn max_threads() -> usize {
    std::env::var("MACP_WATCHER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=256).contains(n))
        .unwrap_or(16)
}

fn pool() -> Result<&'static Pool> {
    let p = POOL.get_or_init(|| Pool {
        ready: Mutex::new(PoolState {
            queue: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        cv: Condvar::new(),
        max: max_threads(),
    });
    // The first thread is started by the first callback watcher; failing to
    // start it fails that watch.
    let mut st = lock(&p.ready);
    if st.threads == 0 {
        p.spawn(&mut st)
            .map_err(|e| Error::new(Status::InternalError, e))?;
    }
    Ok(p)
}

impl Pool {
    fn spawn(&'static self, st: &mut PoolState) -> std::result::Result<(), String> {
        std::thread::Builder::new()
            .name("macp-watcher".into())
            .spawn(move || self.run())
            .map_err(|e| format!("cannot start a watcher thread: {e}"))?;
        st.threads += 1;
        st.idle += 1; // counted idle until it takes its first slot
        Ok(())
    }

    fn push(&'static self, slot: Arc<Slot>) {
        let mut st = lock(&self.ready);
        st.queue.push_back(slot);
        if st.idle == 0 && st.threads < self.max {
            // Every thread is inside a callback: one more, so a blocked
            // callback does not hold up the others. Failing to start one is
            // not fatal: the slot waits for a busy thread.
            let _ = self.spawn(&mut st);
        }
        drop(st);
        self.cv.notify_one();
    }

    fn run(&'static self) {
        loop {
            let slot = {
                let mut st = lock(&self.ready);
                loop {
                    if let Some(s) = st.queue.pop_front() {
                        st.idle -= 1;
                        break s;
                    }
                    st = self.cv.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
            };
            // A panic in the library's own code must not take the thread
            // (and every watcher it serves) down.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| turn(&slot)));
            lock(&self.ready).idle += 1;
        }
    }
}

/// One turn of a callback watcher: up to [`BATCH`] events, then back to the
/// end of the list if it has more.
fn turn(slot: &Arc<Slot>) {
    for _ in 0..BATCH {
        match slot.step() {
            Step::Took(_) | Step::Again => {}
            Step::Idle | Step::Ended => return,
        }
    }
    slot.requeue();
}

//! The tokio runtime libmacp owns, and who drives it.
//!
//! One runtime is created on first use and shared by every client in the
//! process; it lives until the process exits. Blocking C calls run their
//! future to completion on it from the caller's thread, so any number of
//! threads can call in at once. Sharing one runtime keeps an idle client
//! cheap (no threads of its own) and lets many clients multiplex.
//!
//! # Who does the I/O
//!
//! By default the runtime has no worker threads. Its scheduler (the tasks of
//! every connection, and their sockets) is driven by whoever needs it:
//!
//! - a **blocking call** drives it itself while it waits, when no one else
//!   is: the request is written and the reply read on the caller's thread, so
//!   a sequential call costs one write and one wait, with no hop to another
//!   thread and back;
//! - the **I/O thread** (`macp-io`, started on first need) drives it while
//!   there is *background work*: a task that must make progress when no
//!   blocking call is running (an open watcher, an asynchronous or queued
//!   send, a participant). Tasks spawned with [`spawn`] count as background
//!   work until they end. A blocking call that starts while the I/O thread
//!   drives waits for its reply like any other task.
//!
//! Only one thread drives at a time; the others wait on their own future. So
//! a blocking call's thread may also run other tasks of the runtime while it
//! waits (the connection shared with a watcher, say). The only application
//! code those tasks run is the completion callback of an asynchronous send,
//! and that never runs on an application's thread: see [`defer`].
//!
//! `$MACP_WORKER_THREADS` (1 to 64), set before the first call, selects a
//! multi-threaded runtime with that many workers instead, which do all the
//! I/O (a blocking call then waits for a worker to do it): for a process
//! whose one I/O thread would be saturated.
//!
//! # SIGPIPE
//!
//! A write to a socket whose peer is gone fails with `EPIPE` and, unless the
//! signal is blocked or ignored, raises `SIGPIPE`, whose default action kills
//! the process. Rust programs ignore it; C hosts usually keep the default. So
//! libmacp never lets one of its writes raise it in the host:
//!
//! - on Linux its sockets are only ever written with `send` and
//!   `MSG_NOSIGNAL` ([`crate::transport`]), which cannot raise it, whichever
//!   thread writes;
//! - elsewhere a blocking call blocks `SIGPIPE` on the caller's thread while
//!   it runs (it does socket I/O from there) and, before restoring the
//!   caller's mask, discards a `SIGPIPE` that the call left pending on the
//!   thread (mio's sockets on macOS and the BSDs also carry `SO_NOSIGPIPE`);
//! - its own threads (the I/O thread or the workers, and the blocking pool)
//!   block `SIGPIPE` from the moment they start.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};

use tokio::sync::{mpsc, Notify};

use crate::error::{Error, Result, Status};

struct Shared {
    rt: tokio::runtime::Runtime,
    /// `Some` when blocking calls drive the runtime (no workers).
    driven: Option<Driven>,
}

/// The state of the I/O thread of a driven runtime.
struct Driven {
    /// Background work in progress: tasks of [`spawn`] and deferred callbacks.
    work: AtomicUsize,
    /// The I/O thread waits here while there is none.
    lock: Mutex<()>,
    cv: Condvar,
    /// Wakes the I/O thread's loop when the work drops to none.
    idle: Notify,
    /// Set when the I/O thread is started: where to send it the callbacks
    /// it runs for tasks that ran elsewhere, or why it could not start.
    io: OnceLock<std::result::Result<mpsc::UnboundedSender<Job>, String>>,
}

type Job = Box<dyn FnOnce() + Send>;

static RUNTIME: OnceLock<std::result::Result<Shared, String>> = OnceLock::new();

thread_local! {
    /// Set on libmacp's own runtime threads (the I/O thread, the workers).
    static LIBRARY_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// `$MACP_WORKER_THREADS` (1 to 64) when set: a multi-threaded runtime.
fn worker_threads() -> Option<usize> {
    std::env::var("MACP_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
}

fn library_thread_start() {
    LIBRARY_THREAD.with(|t| t.set(true));
    sigpipe::block_on_this_thread();
}

fn build() -> std::result::Result<Shared, String> {
    match worker_threads() {
        Some(n) => Ok(Shared {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n)
                .thread_name("macp-rt")
                .on_thread_start(library_thread_start)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?,
            driven: None,
        }),
        None => Ok(Shared {
            rt: tokio::runtime::Builder::new_current_thread()
                .thread_name("macp-blocking")
                .on_thread_start(sigpipe::block_on_this_thread)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?,
            driven: Some(Driven {
                work: AtomicUsize::new(0),
                lock: Mutex::new(()),
                cv: Condvar::new(),
                idle: Notify::new(),
                io: OnceLock::new(),
            }),
        }),
    }
}

fn shared() -> Result<&'static Shared> {
    RUNTIME.get_or_init(build).as_ref().map_err(|e| {
        Error::new(
            Status::InternalError,
            format!("cannot start the async runtime: {e}"),
        )
    })
}

/// The shared runtime, created on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    shared().map(|s| &s.rt)
}

/// Spawn background work on the shared runtime: `fut` makes progress
/// whether or not a blocking call is running, and counts as background work
/// (keeping the I/O thread driving) until it ends or is aborted.
pub fn spawn<F>(fut: F) -> Result<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let s = shared()?;
    let work = Work::begin(s)?;
    Ok(s.rt.spawn(async move {
        let _work = work;
        fut.await
    }))
}

/// Run `f`, a call into application code made by a task, on a libmacp
/// thread: at once when this is one, else on the I/O thread. A task of a
/// driven runtime may run on an application's thread that is inside a
/// blocking call; application code called there could deadlock on a lock
/// that thread holds, or make a re-entrant call it does not expect.
pub fn defer(f: impl FnOnce() + Send + 'static) {
    if LIBRARY_THREAD.with(Cell::get) {
        return f();
    }
    let Ok(s) = shared() else { return f() };
    let Some(d) = &s.driven else { return f() };
    // Starts the I/O thread if need be; without one, nowhere else to run it.
    let Ok(work) = Work::begin(s) else { return f() };
    let Some(Ok(io)) = d.io.get() else { return f() };
    let job: Job = Box::new(move || {
        let _work = work;
        f()
    });
    // The receiver lives as long as the I/O thread, which never ends.
    if let Err(mpsc::error::SendError(job)) = io.send(job) {
        job();
    }
}

/// Drop `value` as background work, then let the tasks that wakes run: for
/// a client's last channel, its worker ending and its connection closing,
/// which in a driven runtime would otherwise wait for the next call to drive
/// it. Dropped at once when the runtime is not driven (its workers run them)
/// or does not exist.
pub fn release<T: Send + 'static>(value: T) {
    let Some(Ok(s)) = RUNTIME.get() else { return };
    if s.driven.is_none() {
        return;
    }
    // A few turns of the scheduler: the channel's worker sees its queue
    // closed and ends, then the connection, with no requests left, closes.
    let _ = spawn(async move {
        drop(value);
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
    });
}

/// One unit of background work, counted while it lives.
struct Work(&'static Driven);

impl Work {
    /// `None` inside: a multi-threaded runtime needs no count.
    fn begin(s: &'static Shared) -> Result<Option<Work>> {
        let Some(d) = &s.driven else { return Ok(None) };
        d.io.get_or_init(|| start_io_thread(s, d))
            .as_ref()
            .map_err(|e| Error::new(Status::InternalError, e.clone()))?;
        if d.work.fetch_add(1, Ordering::SeqCst) == 0 {
            let _g = d.lock.lock().unwrap_or_else(PoisonError::into_inner);
            d.cv.notify_one();
        }
        Ok(Some(Work(d)))
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.0.work.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_one();
        }
    }
}

fn start_io_thread(
    s: &'static Shared,
    d: &'static Driven,
) -> std::result::Result<mpsc::UnboundedSender<Job>, String> {
    let (jobs, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("macp-io".into())
        .spawn(move || io_thread(s, d, rx))
        .map(|_| jobs)
        .map_err(|e| format!("cannot start the I/O thread: {e}"))
}

/// The I/O thread: drives the runtime while there is background work, and
/// runs deferred callbacks.
fn io_thread(s: &'static Shared, d: &'static Driven, mut jobs: mpsc::UnboundedReceiver<Job>) {
    library_thread_start();
    loop {
        let mut g = d.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while d.work.load(Ordering::SeqCst) == 0 {
            g = d.cv.wait(g).unwrap_or_else(PoisonError::into_inner);
        }
        drop(g);
        // While another thread (a blocking call) holds the scheduler, this
        // one waits for it, polling only the future below; it takes over as
        // soon as the scheduler is free.
        s.rt.block_on(async {
            loop {
                let idle = d.idle.notified();
                tokio::pin!(idle);
                idle.as_mut().enable();
                if d.work.load(Ordering::SeqCst) == 0 {
                    return;
                }
                tokio::select! {
                    biased;
                    Some(job) = jobs.recv() => {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                    _ = &mut idle => {}
                }
            }
        });
    }
}

/// Run `fut` to completion from a synchronous caller.
///
/// Refused with `InvalidState` on a thread that is already driving a tokio
/// runtime (a libmacp thread, or an application's own runtime), where
/// blocking would deadlock or panic.
pub fn block_on<F: Future>(fut: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            Status::InvalidState,
            "blocking libmacp call made from a thread that runs an async runtime",
        ));
    }
    let rt = runtime()?;
    let _guard = sigpipe::Guard::new();
    // Boxed: the runtime moves the future through several layers before it
    // is pinned, and an RPC's state machine is several KiB.
    Ok(rt.block_on(Box::pin(fut)))
}

#[cfg(unix)]
mod sigpipe {
    use std::mem::MaybeUninit;

    fn sigpipe_set() -> libc::sigset_t {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initializes the set; SIGPIPE is a valid signal.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
            set.assume_init()
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn pending() -> bool {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigpending fills the set it is given.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            libc::sigpending(set.as_mut_ptr()) == 0
                && libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
        }
    }

    /// Block SIGPIPE for the rest of this thread's life (a library thread).
    pub(super) fn block_on_this_thread() {
        let set = sigpipe_set();
        // SAFETY: changes only this thread's mask.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    }

    /// On Linux nothing to do: every socket write is a `send` with
    /// `MSG_NOSIGNAL` (`crate::transport`), which cannot raise SIGPIPE.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(super) struct Guard;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    impl Guard {
        pub(super) fn new() -> Guard {
            Guard
        }
    }

    /// SIGPIPE blocked on the caller's thread for the guard's life; a
    /// SIGPIPE raised meanwhile is discarded before the mask is restored.
    ///
    /// No SIGPIPE can be pending when the guard blocks it on a thread that
    /// did not block it (it would have been delivered), so one the guard
    /// finds pending at the end arose during its life.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(super) struct Guard {
        old: libc::sigset_t,
        was_blocked: bool,
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    impl Guard {
        pub(super) fn new() -> Guard {
            let set = sigpipe_set();
            let mut old = MaybeUninit::<libc::sigset_t>::uninit();
            // SAFETY: changes only this thread's mask; `old` receives the
            // previous one.
            let old = unsafe {
                libc::sigemptyset(old.as_mut_ptr());
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, old.as_mut_ptr());
                old.assume_init()
            };
            // SAFETY: `old` is an initialized set.
            let was_blocked = unsafe { libc::sigismember(&old, libc::SIGPIPE) } == 1;
            Guard { old, was_blocked }
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    impl Drop for Guard {
        fn drop(&mut self) {
            if self.was_blocked {
                // The caller blocks SIGPIPE itself: its mask is unchanged and
                // a pending signal is its own business.
                return;
            }
            if pending() {
                discard();
            }
            // SAFETY: restores the mask saved in `new`.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
        }
    }

    /// Take the pending SIGPIPE off this thread without waiting.
    #[cfg(not(any(target_os = "macos", target_os = "linux", target_os = "android")))]
    fn discard() {
        let set = sigpipe_set();
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: SIGPIPE is blocked on this thread; a zero timeout never waits.
        unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
    }

    /// Take the pending SIGPIPE off this thread (macOS has no sigtimedwait;
    /// sigwait returns at once since the signal is pending).
    #[cfg(target_os = "macos")]
    fn discard() {
        let set = sigpipe_set();
        let mut sig = 0;
        // SAFETY: SIGPIPE is blocked on this thread and pending.
        unsafe { libc::sigwait(&set, &mut sig) };
    }
}

#[cfg(not(unix))]
mod sigpipe {
    pub(super) fn block_on_this_thread() {}
    pub(super) struct Guard;
    impl Guard {
        pub(super) fn new() -> Guard {
            Guard
        }
    }
}

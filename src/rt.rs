//! The tokio runtime libmacp owns.
//!
//! One multi-threaded runtime is created on first use and shared by every
//! client in the process; it lives until the process exits. Blocking C calls
//! run their future to completion on it from the caller's thread, so any
//! number of threads can call in at once. Sharing one runtime keeps an idle
//! client cheap (no threads of its own) and lets many clients multiplex.
//!
//! # SIGPIPE
//!
//! A write to a socket whose peer is gone fails with `EPIPE` and, unless the
//! signal is blocked or ignored, raises `SIGPIPE`, whose default action kills
//! the process. Rust programs ignore it; C hosts usually keep the default. So
//! libmacp never lets one of its writes raise it in the host:
//!
//! - its runtime threads (workers and the blocking pool) block `SIGPIPE` from
//!   the moment they start; they do the socket I/O of every connection;
//! - a blocking call blocks `SIGPIPE` on the caller's thread while it runs
//!   (the first connection attempt, TCP and TLS handshakes and the HTTP/2
//!   preface, is written from there) and, before restoring the caller's
//!   mask, discards a `SIGPIPE` that the call left pending on the thread.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::{Error, Result, Status};

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Worker threads of the shared runtime: `$MACP_WORKER_THREADS` (1 to 64)
/// when set, else the machine's parallelism, at most 4.
fn worker_threads() -> usize {
    if let Some(n) = std::env::var("MACP_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
    {
        return n;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4)
}

/// The shared runtime, created on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(worker_threads())
                .thread_name("macp-rt")
                .on_thread_start(sigpipe::block_on_this_thread)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            Error::new(
                Status::InternalError,
                format!("cannot start the async runtime: {e}"),
            )
        })
}

/// Run `fut` to completion from a synchronous caller.
///
/// Refused with `InvalidState` on a thread that is already driving a tokio
/// runtime (a libmacp worker, or an application's own runtime), where blocking
/// would deadlock or panic.
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

    /// SIGPIPE blocked on the caller's thread for the guard's life; a
    /// SIGPIPE raised meanwhile is discarded before the mask is restored.
    pub(super) struct Guard {
        old: libc::sigset_t,
        was_blocked: bool,
        was_pending: bool,
    }

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
            Guard {
                old,
                was_blocked,
                was_pending: pending(),
            }
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if self.was_blocked {
                // The caller blocks SIGPIPE itself: its mask is unchanged and
                // a pending signal is its own business.
                return;
            }
            if !self.was_pending && pending() {
                discard();
            }
            // SAFETY: restores the mask saved in `new`.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
        }
    }

    /// Take the pending SIGPIPE off this thread without waiting.
    #[cfg(not(target_os = "macos"))]
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

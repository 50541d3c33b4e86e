//! The tokio runtime libmacp owns.
//!
//! One multi-threaded runtime is created on first use and shared by every
//! client in the process; it lives until the process exits. Blocking C calls
//! run their future to completion on it from the caller's thread, so any
//! number of threads can call in at once. Sharing one runtime keeps an idle
//! client cheap (no threads of its own) and lets many clients multiplex.

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
    // Boxed: the runtime moves the future through several layers before it
    // is pinned, and an RPC's state machine is several KiB.
    Ok(runtime()?.block_on(Box::pin(fut)))
}

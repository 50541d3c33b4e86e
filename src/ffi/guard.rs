//! The panic boundary of the `extern "C"` functions that report no error
//! (frees, getters), and the caller's `user_data` as the library carries it
//! to callbacks. Fallible functions use `error::guard`.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// A caller's `user_data` pointer: libmacp only hands it back to the
/// caller's callback, on a library thread, as the header documents.
pub(crate) struct UserData(pub(crate) *mut std::ffi::c_void);
// SAFETY: the pointer is never dereferenced by libmacp, only passed back.
unsafe impl Send for UserData {}

/// Like `error::guard` for functions that cannot report an error (frees, getters):
/// a panic is swallowed and `fallback` returned.
pub(crate) fn guard_value<T, F: FnOnce() -> T>(fallback: T, body: F) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

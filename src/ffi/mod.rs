//! The C ABI.
//!
//! Conventions every `macp_*` function follows:
//! - Fallible functions return a [`Status`] (`MACP_STATUS_OK` is 0) and take a
//!   trailing `macp_error **error`. On failure, when `error` is not NULL,
//!   `*error` receives a new error object the caller frees with
//!   `macp_error_free`; on success `*error` is set to NULL. Pass NULL to ignore
//!   the details.
//! - Handles (`macp_client`, `macp_session`, options, errors) are opaque
//!   tokens checked on every call: NULL, freed or wrong-type handles give
//!   `MACP_STATUS_INVALID_HANDLE`, never a crash. Freeing NULL or an already
//!   freed handle does nothing.
//! - Strings are NUL-terminated UTF-8, borrowed for the duration of the call;
//!   bytes are pointer + length (NULL is allowed with length 0).
//! - No panic crosses this boundary: it becomes `MACP_STATUS_PANIC`.
//!
//! This layer only checks, converts and forwards; the logic lives in the core.

use std::collections::{HashMap, HashSet};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};

use crate::error::{Error, Result, Status};

pub mod client;
pub mod commitment;
pub mod decision;
pub mod error;
pub mod handoff;
pub mod lifecycle;
pub mod multi_round;
pub mod payload;
pub mod projection;
pub mod proposal;
pub mod quorum;
pub mod receipts;
pub mod registry;
pub mod session;
pub mod strings;
pub mod task;
pub mod watch;

pub use error::macp_error;

/// Handles are never-reused numbers disguised as pointers, so a stale or
/// foreign handle is detected by lookup instead of being dereferenced.
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(0x10_0000);

/// A table of live handles of one type.
pub(crate) struct Table<T> {
    map: LazyLock<RwLock<HashMap<usize, Arc<T>>>>,
    what: &'static str,
}

impl<T> Table<T> {
    pub(crate) const fn new(what: &'static str) -> Self {
        Table {
            map: LazyLock::new(|| RwLock::new(HashMap::new())),
            what,
        }
    }

    pub(crate) fn insert(&self, value: T) -> usize {
        let h = NEXT_HANDLE.fetch_add(16, Ordering::Relaxed);
        self.map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(h, Arc::new(value));
        h
    }

    pub(crate) fn get<H>(&self, handle: *const H) -> Result<Arc<T>> {
        if handle.is_null() {
            return Err(Error::new(
                Status::InvalidHandle,
                format!("{} handle is NULL", self.what),
            ));
        }
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(handle as usize))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    Status::InvalidHandle,
                    format!(
                        "not a live {} handle (already freed, or another type)",
                        self.what
                    ),
                )
            })
    }

    pub(crate) fn remove<H>(&self, handle: *const H) -> Option<Arc<T>> {
        if handle.is_null() {
            return None;
        }
        self.map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(handle as usize))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Addresses of live library-allocated result structs and strings, so their
/// free functions ignore pointers the library does not own (or no longer owns).
pub(crate) struct Allocations {
    live: LazyLock<Mutex<HashSet<usize>>>,
}

impl Allocations {
    pub(crate) const fn new() -> Self {
        Allocations {
            live: LazyLock::new(|| Mutex::new(HashSet::new())),
        }
    }
    pub(crate) fn track<T>(&self, b: Box<T>) -> *mut T {
        let p = Box::into_raw(b);
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(p as usize);
        p
    }
    /// Take back ownership of `p` if it is live; `None` otherwise.
    pub(crate) fn untrack<T>(&self, p: *mut T) -> Option<Box<T>> {
        if p.is_null() {
            return None;
        }
        let was_live = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(p as usize));
        // SAFETY: `p` was produced by `Box::into_raw` in `track` with this `T`
        // (each table holds one type) and has not been reclaimed since.
        was_live.then(|| unsafe { Box::from_raw(p) })
    }
}

/// A caller's `user_data` pointer: libmacp only hands it back to the
/// caller's callback, on a library thread, as the header documents.
pub(crate) struct UserData(pub(crate) *mut std::ffi::c_void);
// SAFETY: the pointer is never dereferenced by libmacp, only passed back.
unsafe impl Send for UserData {}

/// Run the body of an `extern "C"` function: catch panics, report the error.
pub(crate) fn guard<F>(error: *mut *mut macp_error, body: F) -> Status
where
    F: FnOnce() -> Result<()>,
{
    if !error.is_null() {
        // SAFETY: the caller passes either NULL or a writable `macp_error *`.
        unsafe { *error = std::ptr::null_mut() };
    }
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(Error::new(
            Status::Panic,
            format!("internal libmacp error: {what}"),
        ))
    });
    match result {
        Ok(()) => Status::Ok,
        Err(e) => {
            let status = e.status;
            error::report(error, e);
            status
        }
    }
}

/// Like [`guard`] for functions that cannot report an error (frees, getters):
/// a panic is swallowed and `fallback` returned.
pub(crate) fn guard_value<T, F: FnOnce() -> T>(fallback: T, body: F) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// A required string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8")))
}

/// A required, non-empty string argument.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_nonempty<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    let s = arg_str(p, name)?;
    if s.is_empty() {
        return Err(Error::invalid_argument(format!("{name} is empty")));
    }
    Ok(s)
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, name).map(Some)
    }
}

/// A byte-buffer argument: NULL is allowed only with length 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes valid for the call.
pub(crate) unsafe fn arg_bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::invalid_argument(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid_argument(format!(
            "{name} length is out of range"
        )));
    }
    Ok(std::slice::from_raw_parts(p, len))
}

/// An array argument of `len` strings (NULL allowed with `len` 0); each must
/// be non-NULL UTF-8.
///
/// # Safety
/// `p` is NULL or points to `len` pointers, each NULL or NUL-terminated.
pub(crate) unsafe fn arg_str_array<'a>(
    p: *const *const c_char,
    len: usize,
    name: &str,
) -> Result<Vec<&'a str>> {
    if p.is_null() {
        if len == 0 {
            return Ok(Vec::new());
        }
        return Err(Error::invalid_argument(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize / std::mem::size_of::<*const c_char>() {
        return Err(Error::invalid_argument(format!(
            "{name} length is out of range"
        )));
    }
    std::slice::from_raw_parts(p, len)
        .iter()
        .enumerate()
        .map(|(i, s)| arg_str(*s, &format!("{name}[{i}]")))
        .collect()
}

/// A required out-pointer argument.
pub(crate) fn arg_out<T>(p: *mut T, name: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::invalid_argument(format!("{name} (output) is NULL")))
    } else {
        Ok(())
    }
}

/// Copy `bytes` out through the size-query convention: `*out_len` (required)
/// receives the size; with `buf` NULL and `buf_len` 0 nothing else is
/// written; otherwise `buf` must hold `buf_len >= size` bytes.
///
/// # Safety
/// `buf` is NULL or `buf_len` writable bytes; `out_len` is NULL or writable.
pub(crate) unsafe fn write_buf(
    bytes: &[u8],
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> Result<()> {
    arg_out(out_len, "out_len")?;
    *out_len = bytes.len();
    if buf.is_null() {
        return if buf_len == 0 {
            Ok(())
        } else {
            Err(Error::invalid_argument(format!(
                "buf is NULL but its length is {buf_len}"
            )))
        };
    }
    if buf_len < bytes.len() {
        return Err(Error::invalid_argument(format!(
            "buf is too small: {} bytes needed",
            bytes.len()
        )));
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
    Ok(())
}

/// A C string for a Rust string; interior NULs (which a C string cannot
/// carry) become U+FFFD.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default())
}

/// Name of a status (`"SESSION_NOT_FOUND"`, `"TIMEOUT"`, ...): the MACP
/// registry code for registry statuses. Returns a static string (never NULL;
/// `"UNKNOWN"` for a value that is not a status).
#[no_mangle]
pub extern "C" fn macp_status_name(status: i32) -> *const c_char {
    guard_value(c"UNKNOWN".as_ptr(), || {
        for s in Status::all() {
            if s as i32 == status {
                return static_name(s);
            }
        }
        c"UNKNOWN".as_ptr()
    })
}

fn static_name(s: Status) -> *const c_char {
    static NAMES: LazyLock<HashMap<i32, CString>> = LazyLock::new(|| {
        Status::all()
            .map(|s| (s as i32, c_string(s.name())))
            .collect()
    });
    NAMES
        .get(&(s as i32))
        .map_or(c"UNKNOWN".as_ptr(), |c| c.as_ptr())
}

/// Whether `status` is worth retrying (transport, timeout, `RATE_LIMITED`,
/// `INTERNAL_ERROR`). `macp_session_send` and the mode helpers already retry
/// these per the client's retry policy.
#[no_mangle]
pub extern "C" fn macp_status_is_transient(status: i32) -> bool {
    guard_value(false, || {
        Status::all().any(|s| s as i32 == status && s.is_transient())
    })
}

/// The libmacp version, e.g. `"0.1.0"`. Static string.
#[no_mangle]
pub extern "C" fn macp_version() -> *const c_char {
    static V: LazyLock<CString> = LazyLock::new(|| c_string(env!("CARGO_PKG_VERSION")));
    guard_value(c"".as_ptr(), || V.as_ptr())
}

/// Generate a new UUID v4 (a valid session or message id) into `buf` as a
/// NUL-terminated string; `buf_len` must be at least 37 (a buffer of
/// `MACP_ID_BUFFER_LEN` bytes always fits).
///
/// # Safety
/// `buf` is NULL or points to `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_new_id(
    buf: *mut c_char,
    buf_len: usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(buf, "buf")?;
        if buf_len < 37 {
            return Err(Error::invalid_argument("buf_len must be at least 37"));
        }
        let id = crate::client::new_id();
        let out = std::slice::from_raw_parts_mut(buf as *mut u8, buf_len);
        out[..id.len()].copy_from_slice(id.as_bytes());
        out[id.len()] = 0;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_panics_into_status() {
        let mut err: *mut macp_error = std::ptr::null_mut();
        let st = guard(&mut err, || panic!("boom"));
        assert_eq!(st, Status::Panic);
        assert!(!err.is_null());
        let msg = unsafe { CStr::from_ptr(error::macp_error_message(err)) };
        assert!(msg.to_str().unwrap().contains("boom"));
        unsafe { error::macp_error_free(err) };
    }

    #[test]
    fn status_names_are_static_and_total() {
        let n = unsafe { CStr::from_ptr(macp_status_name(3)) };
        assert_eq!(n.to_str().unwrap(), "SESSION_NOT_FOUND");
        let n = unsafe { CStr::from_ptr(macp_status_name(-7)) };
        assert_eq!(n.to_str().unwrap(), "UNKNOWN");
        assert!(macp_status_is_transient(Status::RateLimited as i32));
        assert!(!macp_status_is_transient(Status::Forbidden as i32));
        assert!(!macp_status_is_transient(12345));
    }

    #[test]
    fn handles_are_checked_not_dereferenced() {
        static T: Table<u32> = Table::new("test");
        let h = T.insert(7) as *const u8;
        assert_eq!(*T.get(h).unwrap(), 7);
        assert!(T.remove(h).is_some());
        assert_eq!(T.get(h).unwrap_err().status, Status::InvalidHandle);
        assert_eq!(
            T.get(0x1234 as *const u8).unwrap_err().status,
            Status::InvalidHandle
        );
        assert_eq!(
            T.get(std::ptr::null::<u8>()).unwrap_err().status,
            Status::InvalidHandle
        );
        assert!(T.remove(h).is_none());
        assert_eq!(T.len(), 0);
    }

    #[test]
    fn string_arguments_are_checked() {
        let bad = [0xffu8, 0xfe, 0];
        let r = unsafe { arg_str(bad.as_ptr() as *const c_char, "x") };
        assert_eq!(r.unwrap_err().status, Status::InvalidArgument);
        let r = unsafe { arg_nonempty(c"".as_ptr(), "x") };
        assert!(r.is_err());
        let r = unsafe { arg_opt_str(std::ptr::null(), "x") };
        assert_eq!(r.unwrap(), None);
        let r = unsafe { arg_bytes(std::ptr::null(), 3, "x") };
        assert!(r.is_err());
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\u{FFFD}b");
    }
}

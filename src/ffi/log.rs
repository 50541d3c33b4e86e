//! `macp_set_log_callback`: the library's diagnostics delivered to C.

use std::ffi::{c_char, c_void, CString};

use super::error::{guard, macp_error};
use super::guard::guard_value;
use crate::error::{Error, Status};
use crate::log::{Level, Record};

/// Severity of a log record. A callback set at a level receives that level
/// and every more severe one (a smaller number).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_log_level {
    /// No records (the default).
    MACP_LOG_LEVEL_OFF = 0,
    /// A failure the library cannot recover from by itself (a connect that failed).
    MACP_LOG_LEVEL_ERROR = 1,
    /// A failure it works around or reports: retries, stream breaks, refusals.
    MACP_LOG_LEVEL_WARN = 2,
    /// Connections made, streams resumed, watchers ended, credentials replaced.
    MACP_LOG_LEVEL_INFO = 3,
    /// Every call that failed.
    MACP_LOG_LEVEL_DEBUG = 4,
    /// Every accepted message (ids only).
    MACP_LOG_LEVEL_TRACE = 5,
}

/// One key/value pair of a log record; both borrowed for the callback.
#[repr(C)]
pub struct macp_log_field {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// A log record, borrowed for the duration of the callback: copy what you
/// keep. Strings are NUL-terminated UTF-8.
#[repr(C)]
pub struct macp_log_record {
    pub level: macp_log_level,
    /// The part of the library it comes from: `"macp::client"`, `"macp::watch"`.
    pub target: *const c_char,
    pub message: *const c_char,
    /// `field_count` key/value pairs (ids, statuses, attempts, delays).
    pub fields: *const macp_log_field,
    pub field_count: usize,
}

/// Receives log records. May be called from any thread, the library's own
/// included, and from several threads at once: it must be thread-safe and
/// should return quickly (the thread that logs waits for it). While it runs,
/// records from the same thread are dropped and `macp_set_log_callback`
/// called from it fails with `MACP_STATUS_INVALID_STATE`, so it may call
/// other libmacp functions without recursing. `record` and everything it
/// points to are valid until the callback returns.
pub type macp_log_callback =
    Option<unsafe extern "C" fn(record: *const macp_log_record, user_data: *mut c_void)>;

/// Deliver the library's diagnostics to `callback`, process-wide: records at
/// `level` (a `macp_log_level`) and more severe. Connects, reconnects,
/// retries (attempt, backoff), watcher breaks, gaps and resumes, and refused
/// calls are logged; bearer tokens, client keys and payload bytes never are.
/// `callback` NULL or `level` `MACP_LOG_LEVEL_OFF` turns logging off (the
/// default). Replaces the previous callback, and the stderr output that
/// the `MACP_LOG` environment variable (`error` ... `trace`) turns on. When
/// this returns, the previous callback is not running and is never called
/// again.
///
/// Ownership: borrows its arguments; `user_data` is handed to `callback`
/// until logging is turned off or another callback is set (the caller keeps
/// it alive until then).
#[no_mangle]
pub extern "C" fn macp_set_log_callback(
    level: i32,
    callback: macp_log_callback,
    user_data: *mut c_void,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let lvl = if level == 0 {
            None
        } else {
            Some(Level::from_i32(level).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "log level must be 0 (off) to 5 (trace), got {level}"
                ))
            })?)
        };
        let logger = callback.map(|cb| {
            let ud = SharedUserData(user_data);
            Box::new(move |r: &Record<'_>| deliver(cb, &ud, r)) as crate::log::Logger
        });
        crate::log::set_logger(lvl, logger)
    })
}

/// The caller's `user_data`, handed back to the log callback from whichever
/// thread logs (the header says the callback must be thread-safe).
struct SharedUserData(*mut c_void);
// SAFETY: libmacp never dereferences the pointer, only passes it back.
unsafe impl Send for SharedUserData {}
unsafe impl Sync for SharedUserData {}

fn deliver(
    cb: unsafe extern "C" fn(*const macp_log_record, *mut c_void),
    ud: &SharedUserData,
    r: &Record<'_>,
) {
    let text = |s: &str| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default();
    let target = text(r.target);
    let message = text(r.message);
    let strings: Vec<(CString, CString)> =
        r.fields.iter().map(|(k, v)| (text(k), text(v))).collect();
    let fields: Vec<macp_log_field> = strings
        .iter()
        .map(|(k, v)| macp_log_field {
            key: k.as_ptr(),
            value: v.as_ptr(),
        })
        .collect();
    let record = macp_log_record {
        level: match r.level {
            Level::Error => macp_log_level::MACP_LOG_LEVEL_ERROR,
            Level::Warn => macp_log_level::MACP_LOG_LEVEL_WARN,
            Level::Info => macp_log_level::MACP_LOG_LEVEL_INFO,
            Level::Debug => macp_log_level::MACP_LOG_LEVEL_DEBUG,
            Level::Trace => macp_log_level::MACP_LOG_LEVEL_TRACE,
        },
        target: target.as_ptr(),
        message: message.as_ptr(),
        fields: if fields.is_empty() {
            std::ptr::null()
        } else {
            fields.as_ptr()
        },
        field_count: fields.len(),
    };
    // SAFETY: the caller gave this function pointer for exactly this call;
    // the record and its strings outlive it.
    unsafe { cb(&record, ud.0) };
}

/// The lowercase name of a log level (`"warn"`), or `"unknown"`.
///
/// Ownership: returns a static string (never freed).
#[no_mangle]
pub extern "C" fn macp_log_level_name(level: i32) -> *const c_char {
    guard_value(c"unknown".as_ptr(), || match Level::from_i32(level) {
        Some(Level::Error) => c"error".as_ptr(),
        Some(Level::Warn) => c"warn".as_ptr(),
        Some(Level::Info) => c"info".as_ptr(),
        Some(Level::Debug) => c"debug".as_ptr(),
        Some(Level::Trace) => c"trace".as_ptr(),
        None if level == 0 => c"off".as_ptr(),
        None => c"unknown".as_ptr(),
    })
}

//! The library's own diagnostics: structured records (level, target,
//! message, key/value fields) for connects, retries, refused calls and
//! watcher breaks, gaps and resumes, handed to one process-wide sink.
//!
//! Off by default. While off, a log site costs one relaxed atomic load and
//! formats nothing: [`log!`] checks [`enabled`] before it evaluates its
//! message or fields. `MACP_LOG=<level>` (`error`, `warn`, `info`, `debug`,
//! `trace`) sends records to stderr until a logger is set explicitly; it is
//! read once, when the first client connects or a logger is set.
//!
//! What is never in a record: bearer tokens, client keys, payload bytes.
//! Fields carry ids, statuses, counts and delays; messages are the
//! library's own text or an error's message (which the library never builds
//! from a credential or a payload).
//!
//! The sink may be called from any thread, including the library's own, and
//! from several threads at once. While it runs on a thread, records that
//! thread produces are dropped and [`set_logger`] fails there, so a sink
//! that calls back into libmacp cannot recurse or deadlock. After
//! [`set_logger`] returns, the previous sink is not running and is never
//! called again.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Once, PoisonError, RwLock};

use crate::error::{Error, Result, Status};

/// How severe a record is; a logger set at a level receives that level and
/// every more severe one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl Level {
    /// The level of a number (1 = error ... 5 = trace).
    pub fn from_i32(n: i32) -> Option<Level> {
        Some(match n {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            5 => Level::Trace,
            _ => return None,
        })
    }

    /// Lowercase name: `error`, `warn`, `info`, `debug`, `trace`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// A level by name (case-insensitive); `Ok(None)` for `off`.
    pub fn parse(s: &str) -> Result<Option<Level>> {
        let s = s.trim().to_ascii_lowercase();
        if s == "off" || s == "none" || s.is_empty() {
            return Ok(None);
        }
        (1..=5)
            .filter_map(Level::from_i32)
            .find(|l| l.name() == s)
            .map(Some)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "log level '{s}' is not one of off, error, warn, info, debug, trace"
                ))
            })
    }
}

/// One diagnostic, borrowed for the duration of the sink's call.
#[derive(Debug)]
pub struct Record<'a> {
    pub level: Level,
    /// The part of the library it comes from: `macp::client`, `macp::watch`.
    pub target: &'static str,
    pub message: &'a str,
    pub fields: &'a [(&'static str, String)],
}

/// A sink for records.
pub type Logger = Box<dyn Fn(&Record<'_>) + Send + Sync>;

/// The most verbose level delivered; 0 = off. The only thing a disabled
/// log site reads.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
static SINK: RwLock<Option<Logger>> = RwLock::new(None);
static ENV: Once = Once::new();

thread_local! {
    /// The sink is running on this thread.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Whether records at `level` are delivered: one relaxed atomic load.
#[inline(always)]
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Emit a record when its level is enabled. Message and fields are only
/// evaluated then.
///
/// `log!(Level::Warn, "macp::client", "retrying send", "attempt" => n)`
#[macro_export]
#[doc(hidden)]
macro_rules! log {
    ($lvl:expr, $target:expr, $msg:expr $(, $k:literal => $v:expr)* $(,)?) => {
        if $crate::log::enabled($lvl) {
            $crate::log::emit(
                $lvl,
                $target,
                &$msg,
                &[$(($k, ::std::string::ToString::to_string(&$v))),*],
            );
        }
    };
}

/// Deliver a record to the sink (use [`log!`], which checks the level first).
pub fn emit(level: Level, target: &'static str, message: &str, fields: &[(&'static str, String)]) {
    if IN_SINK.with(Cell::get) {
        return;
    }
    let sink = SINK.read().unwrap_or_else(PoisonError::into_inner);
    let Some(sink) = sink.as_ref() else { return };
    if !enabled(level) {
        return; // the level was lowered meanwhile
    }
    IN_SINK.with(|f| f.set(true));
    let record = Record {
        level,
        target,
        message,
        fields,
    };
    // A panicking sink must not take the caller down (nor cross FFI).
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(&record)));
    IN_SINK.with(|f| f.set(false));
}

/// Set the process-wide sink: records at `level` and more severe go to
/// `logger`; `None` (either) turns logging off. Replaces the `MACP_LOG`
/// stderr sink. Fails with `InvalidState` when called from inside the sink.
pub fn set_logger(level: Option<Level>, logger: Option<Logger>) -> Result<()> {
    if IN_SINK.with(Cell::get) {
        return Err(Error::new(
            Status::InvalidState,
            "the log callback cannot be changed from inside the log callback",
        ));
    }
    init_from_env();
    install(level, logger);
    Ok(())
}

fn install(level: Option<Level>, logger: Option<Logger>) {
    let mut sink = SINK.write().unwrap_or_else(PoisonError::into_inner);
    let max = match (&logger, level) {
        (Some(_), Some(l)) => l as u8,
        _ => 0,
    };
    // Lower the level first, so a reader that sees the old level finds
    // the new sink (or none) under the lock.
    MAX_LEVEL.store(0, Ordering::Relaxed);
    *sink = if max == 0 { None } else { logger };
    MAX_LEVEL.store(max, Ordering::Relaxed);
}

/// Apply `MACP_LOG` once: a valid level sends records to stderr. Called
/// when a client connects and before a logger is set.
pub fn init_from_env() {
    ENV.call_once(|| {
        let Ok(v) = std::env::var("MACP_LOG") else {
            return;
        };
        match Level::parse(&v) {
            Ok(Some(level)) => install(Some(level), Some(Box::new(write_stderr))),
            Ok(None) => {}
            Err(e) => eprintln!("macp: ignoring MACP_LOG: {}", e.message),
        }
    });
}

/// The record as one line: `macp <level> <target>: <message> k=v ...`.
pub fn format_record(r: &Record<'_>) -> String {
    let mut line = format!("macp {} {}: {}", r.level.name(), r.target, r.message);
    for (k, v) in r.fields {
        if v.is_empty() || v.contains([' ', '"', '=']) {
            line.push_str(&format!(" {k}={v:?}"));
        } else {
            line.push_str(&format!(" {k}={v}"));
        }
    }
    line
}

fn write_stderr(r: &Record<'_>) {
    eprintln!("{}", format_record(r));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("DEBUG").unwrap(), Some(Level::Debug));
        assert_eq!(Level::parse("off").unwrap(), None);
        assert!(Level::parse("loud").is_err());
        assert!(Level::Error < Level::Trace);
        assert_eq!(Level::from_i32(0), None);
        assert_eq!(Level::from_i32(6), None);
    }

    #[test]
    fn records_format_as_one_line() {
        let fields = [("attempt", "2".to_string()), ("cause", "a b".to_string())];
        let r = Record {
            level: Level::Warn,
            target: "macp::client",
            message: "retrying send",
            fields: &fields,
        };
        assert_eq!(
            format_record(&r),
            "macp warn macp::client: retrying send attempt=2 cause=\"a b\""
        );
    }
}

//! W3C Trace Context (`traceparent`, `tracestate`) sent as gRPC metadata, so
//! a caller's spans and the runtime's (or another SDK's) join one trace.
//!
//! libmacp creates no spans and reads none: the caller hands it the context
//! of its current span, and every call it then makes carries it, under the
//! metadata keys `traceparent` and `tracestate` that OpenTelemetry's W3C
//! propagator reads on the server side. A context set on a session applies to
//! that session's calls; otherwise the client's default, if any, applies.

use std::sync::{PoisonError, RwLock};

use tonic::metadata::{Ascii, MetadataMap, MetadataValue};

use crate::error::{Error, Result};

/// Length of a version-00 `traceparent`: `00-<32 hex>-<16 hex>-<2 hex>`.
pub(crate) const TRACEPARENT_LEN: usize = 55;

/// Longest accepted `tracestate`, in bytes: W3C allows 32 list-members;
/// anything longer than this is refused locally rather than sent.
pub(crate) const MAX_TRACESTATE_LEN: usize = 8192;

/// A validated trace context, ready to go on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    traceparent: MetadataValue<Ascii>,
    tracestate: Option<MetadataValue<Ascii>>,
}

impl TraceContext {
    /// Check `traceparent` (version 00, lowercase hex, non-zero ids) and
    /// `tracestate` (visible ASCII, at most [`MAX_TRACESTATE_LEN`] bytes;
    /// `None` or "" for none).
    pub fn new(traceparent: &str, tracestate: Option<&str>) -> Result<TraceContext> {
        validate_traceparent(traceparent)?;
        let tracestate = match tracestate {
            None | Some("") => None,
            Some(s) => {
                if s.len() > MAX_TRACESTATE_LEN {
                    return Err(Error::invalid_argument(format!(
                        "tracestate is {} bytes, over {MAX_TRACESTATE_LEN}",
                        s.len()
                    )));
                }
                if s.bytes().any(|b| !(0x20..=0x7e).contains(&b)) {
                    return Err(Error::invalid_argument(
                        "tracestate must be printable ASCII (list-members separated by ',')",
                    ));
                }
                Some(s.parse().map_err(|_| {
                    Error::invalid_argument("tracestate is not a valid header value")
                })?)
            }
        };
        let traceparent = traceparent
            .parse()
            .map_err(|_| Error::invalid_argument("traceparent is not a valid header value"))?;
        Ok(TraceContext {
            traceparent,
            tracestate,
        })
    }

    pub fn traceparent(&self) -> &str {
        self.traceparent.to_str().unwrap_or_default()
    }

    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_ref().and_then(|v| v.to_str().ok())
    }

    /// Put the context into a request's metadata.
    pub(crate) fn apply(&self, md: &mut MetadataMap) {
        md.insert("traceparent", self.traceparent.clone());
        match &self.tracestate {
            Some(s) => {
                md.insert("tracestate", s.clone());
            }
            None => {
                md.remove("tracestate");
            }
        }
    }
}

/// Check a `traceparent` header value as W3C Trace Context level 1 defines
/// version 00: `00-<trace-id>-<parent-id>-<flags>`, 32, 16 and 2 lowercase
/// hex digits, neither id all zeros.
pub fn validate_traceparent(tp: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::invalid_argument(format!(
            "traceparent {}: {why} (expected 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>)",
            crate::client::shorten_id(tp)
        )))
    };
    if tp.len() != TRACEPARENT_LEN {
        return bad(&format!(
            "is {} characters, not {TRACEPARENT_LEN}",
            tp.len()
        ));
    }
    let parts: Vec<&str> = tp.split('-').collect();
    if parts.len() != 4 || parts.iter().map(|p| p.len()).ne([2, 32, 16, 2]) {
        return bad("its fields are not separated by '-' as 2-32-16-2 characters");
    }
    let lower_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !parts.iter().all(|p| lower_hex(p)) {
        return bad("it must be lowercase hexadecimal");
    }
    if parts[0] != "00" {
        return bad(&format!("version '{}' is not 00", parts[0]));
    }
    if parts[1].bytes().all(|b| b == b'0') {
        return bad("its trace-id is all zeros");
    }
    if parts[2].bytes().all(|b| b == b'0') {
        return bad("its parent-id is all zeros");
    }
    Ok(())
}

/// A trace context that can be replaced while calls read it.
#[derive(Debug, Default)]
pub(crate) struct TraceSlot(RwLock<Option<TraceContext>>);

impl TraceSlot {
    pub(crate) fn set(&self, t: Option<TraceContext>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = t;
    }

    pub(crate) fn get(&self) -> Option<TraceContext> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

tokio::task_local! {
    /// The trace context of the session call in progress on this task.
    static CURRENT: Option<TraceContext>;
}

/// Run `fut` with `trace` as the context of every call it makes (a
/// session's own context, overriding the client's default).
pub(crate) async fn scope<F: std::future::Future>(
    trace: Option<TraceContext>,
    fut: F,
) -> F::Output {
    if trace.is_none() {
        return fut.await;
    }
    CURRENT.scope(trace, fut).await
}

/// The context the call being built carries: the call's own (its
/// `CallOptions`), else the session's, else `default`.
pub(crate) fn apply(md: &mut MetadataMap, default: &TraceSlot) {
    let current =
        crate::call::current_trace().or_else(|| CURRENT.try_with(Clone::clone).ok().flatten());
    if let Some(t) = current.or_else(|| default.get()) {
        t.apply(md);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn valid_traceparent_is_accepted() {
        let t = TraceContext::new(TP, Some("congo=t61rcWkgMzE")).unwrap();
        assert_eq!(t.traceparent(), TP);
        assert_eq!(t.tracestate(), Some("congo=t61rcWkgMzE"));
        assert_eq!(TraceContext::new(TP, Some("")).unwrap().tracestate(), None);
    }

    #[test]
    fn malformed_traceparents_say_why() {
        let cases = [
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                "characters",
            ),
            (&TP.to_uppercase(), "lowercase"),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version",
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "trace-id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "parent-id",
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "separated",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
                "hexadecimal",
            ),
        ];
        for (tp, why) in cases {
            let e = validate_traceparent(tp).unwrap_err();
            assert_eq!(e.status, crate::Status::InvalidArgument);
            assert!(e.message.contains(why), "{tp}: {}", e.message);
        }
    }

    #[test]
    fn tracestate_must_be_printable() {
        assert!(TraceContext::new(TP, Some("a=b\n")).is_err());
        assert!(TraceContext::new(TP, Some(&"a".repeat(MAX_TRACESTATE_LEN + 1))).is_err());
    }
}

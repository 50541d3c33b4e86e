//! One error type for the whole SDK.
//!
//! The runtime reports a refusal in two ways: inside `Ack.error` (most `Send`
//! refusals) and as a gRPC status carrying `macp-error-code` and
//! `macp-error-details-bin` metadata (control-plane RPCs, streams). Both become
//! an [`Error`] whose [`Status`] names the MACP error-registry code, so callers
//! branch on one value whatever path the refusal took. Failures that never
//! reached the runtime (bad arguments, transport, timeouts) get SDK-local
//! statuses numbered from 100.

use std::fmt;

/// Status of a libmacp call: `Ok`, one code of the MACP error registry
/// (`registries/error-codes.md`), or an SDK-local failure (100 and up).
///
/// The numeric values are part of the C ABI and never change.
///
/// cbindgen:prefix-with-name
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// Registry `UNAUTHENTICATED`: missing or invalid credentials, or an envelope sender that is not the authenticated identity.
    Unauthenticated = 1,
    /// Registry `FORBIDDEN`: the authenticated sender may not do this.
    Forbidden = 2,
    /// Registry `SESSION_NOT_FOUND`.
    SessionNotFound = 3,
    /// Registry `SESSION_NOT_OPEN`: the session is resolved, expired, cancelled or suspended.
    SessionNotOpen = 4,
    /// Registry `DUPLICATE_MESSAGE`.
    DuplicateMessage = 5,
    /// Registry `SESSION_ALREADY_EXISTS`.
    SessionAlreadyExists = 6,
    /// Registry `INVALID_ENVELOPE`: malformed envelope or payload, or a message the mode refuses in its current state.
    InvalidEnvelope = 7,
    /// Registry `UNSUPPORTED_PROTOCOL_VERSION`.
    UnsupportedProtocolVersion = 8,
    /// Registry `MODE_NOT_SUPPORTED`.
    ModeNotSupported = 9,
    /// Registry `PAYLOAD_TOO_LARGE`.
    PayloadTooLarge = 10,
    /// Registry `RATE_LIMITED`.
    RateLimited = 11,
    /// Registry `INVALID_SESSION_ID`.
    InvalidSessionId = 12,
    /// Registry `INTERNAL_ERROR`.
    InternalError = 13,
    /// Registry `UNKNOWN_POLICY_VERSION`.
    UnknownPolicyVersion = 14,
    /// Registry `POLICY_DENIED`: a governance policy refused a commitment; details hold the reasons (JSON).
    PolicyDenied = 15,
    /// Registry `INVALID_POLICY_DEFINITION`.
    InvalidPolicyDefinition = 16,
    /// Registry `REGISTRY_READ_ONLY`.
    RegistryReadOnly = 17,
    /// Registry `INVALID_REQUEST`: a malformed control-plane request.
    InvalidRequest = 18,
    /// Registry `STREAM_LAGGED`: a stream subscriber fell behind.
    StreamLagged = 19,
    /// Registry `AGENT_NOT_FOUND`.
    AgentNotFound = 20,
    /// Registry `HISTORY_UNAVAILABLE`: details hold `{"lowest_available_sequence":N}`.
    HistoryUnavailable = 21,
    /// Registry `RECEIPT_UNAVAILABLE`.
    ReceiptUnavailable = 22,
    /// Registry `UNAUTHORIZED`: deprecated alias of `FORBIDDEN`, kept so a legacy peer's code still resolves.
    Unauthorized = 23,
    /// SDK: an argument was NULL, not UTF-8, empty where required, or out of range. Nothing was sent.
    InvalidArgument = 100,
    /// SDK: a handle is NULL, already closed/freed, or of the wrong type.
    InvalidHandle = 101,
    /// SDK: the connection failed or broke (unreachable runtime, TLS failure, reset stream, a call the transport cancelled). Transient: sends retry it.
    Transport = 102,
    /// SDK: the connect or call timeout elapsed.
    Timeout = 103,
    /// SDK: the call was cancelled, through its `macp_cancel` or because its client was freed (before or while it ran). Not retried.
    Cancelled = 104,
    /// SDK: the runtime did not advertise the capability this call needs.
    Unsupported = 105,
    /// SDK: the runtime answered with a gRPC error that carries no MACP registry code (or one this SDK does not know); see the error's gRPC code and code string.
    Rpc = 106,
    /// SDK: the call is not allowed here, e.g. a blocking call made from a libmacp runtime thread.
    InvalidState = 107,
    /// SDK: a bug in libmacp was caught at the C boundary (a panic). The library stays usable.
    Panic = 108,
}

/// Every MACP error-registry code and its status, in registry order.
const REGISTRY: &[(&str, Status)] = &[
    ("UNAUTHENTICATED", Status::Unauthenticated),
    ("FORBIDDEN", Status::Forbidden),
    ("SESSION_NOT_FOUND", Status::SessionNotFound),
    ("SESSION_NOT_OPEN", Status::SessionNotOpen),
    ("DUPLICATE_MESSAGE", Status::DuplicateMessage),
    ("SESSION_ALREADY_EXISTS", Status::SessionAlreadyExists),
    ("INVALID_ENVELOPE", Status::InvalidEnvelope),
    (
        "UNSUPPORTED_PROTOCOL_VERSION",
        Status::UnsupportedProtocolVersion,
    ),
    ("MODE_NOT_SUPPORTED", Status::ModeNotSupported),
    ("PAYLOAD_TOO_LARGE", Status::PayloadTooLarge),
    ("RATE_LIMITED", Status::RateLimited),
    ("INVALID_SESSION_ID", Status::InvalidSessionId),
    ("INTERNAL_ERROR", Status::InternalError),
    ("UNKNOWN_POLICY_VERSION", Status::UnknownPolicyVersion),
    ("POLICY_DENIED", Status::PolicyDenied),
    ("INVALID_POLICY_DEFINITION", Status::InvalidPolicyDefinition),
    ("REGISTRY_READ_ONLY", Status::RegistryReadOnly),
    ("INVALID_REQUEST", Status::InvalidRequest),
    ("STREAM_LAGGED", Status::StreamLagged),
    ("AGENT_NOT_FOUND", Status::AgentNotFound),
    ("HISTORY_UNAVAILABLE", Status::HistoryUnavailable),
    ("RECEIPT_UNAVAILABLE", Status::ReceiptUnavailable),
    ("UNAUTHORIZED", Status::Unauthorized),
];

/// The SDK-local statuses and their names.
const LOCAL: &[(&str, Status)] = &[
    ("OK", Status::Ok),
    ("INVALID_ARGUMENT", Status::InvalidArgument),
    ("INVALID_HANDLE", Status::InvalidHandle),
    ("TRANSPORT", Status::Transport),
    ("TIMEOUT", Status::Timeout),
    ("CANCELLED", Status::Cancelled),
    ("UNSUPPORTED", Status::Unsupported),
    ("RPC", Status::Rpc),
    ("INVALID_STATE", Status::InvalidState),
    ("PANIC", Status::Panic),
];

impl Status {
    /// The status for a registry code string, if the code is in the registry.
    pub fn from_registry_code(code: &str) -> Option<Status> {
        REGISTRY.iter().find(|(c, _)| *c == code).map(|(_, s)| *s)
    }

    /// The registry code (`"SESSION_NOT_FOUND"`) or SDK-local name (`"TIMEOUT"`).
    pub fn name(self) -> &'static str {
        REGISTRY
            .iter()
            .chain(LOCAL)
            .find(|(_, s)| *s == self)
            .map(|(c, _)| *c)
            .unwrap_or("UNKNOWN")
    }

    /// Whether this status is a code of the MACP error registry.
    pub fn is_registry_code(self) -> bool {
        REGISTRY.iter().any(|(_, s)| *s == self)
    }

    /// Whether a failed `Send` with this status is worth retrying with the same
    /// `message_id` (the runtime's SDK guide: rate limits, internal errors and
    /// network failures are transient).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Status::Transport | Status::Timeout | Status::RateLimited | Status::InternalError
        )
    }

    /// All statuses, for exhaustive tests and bindings.
    pub fn all() -> impl Iterator<Item = Status> {
        REGISTRY.iter().chain(LOCAL).map(|(_, s)| *s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed libmacp operation: status, the code string as received (a registry
/// code, or an SDK-local name), a readable message, and the runtime's details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, as one value to branch on.
    pub status: Status,
    /// The registry code exactly as the runtime sent it (kept even when it is
    /// not one this SDK knows), or the SDK-local status name.
    pub code: String,
    /// Human-readable message: the runtime's, or the SDK's own.
    pub message: String,
    /// The runtime's details bytes (`MACPError.details` or
    /// `macp-error-details-bin`), often UTF-8 JSON; empty when none.
    pub details: Vec<u8>,
    /// The session the failure concerns, when known.
    pub session_id: String,
    /// The message the failure concerns, when known. A failed `Send` always
    /// carries the id it used, so it can be retried with the same id.
    pub message_id: String,
    /// The gRPC status code, when the failure was a gRPC status; 0 otherwise.
    pub grpc_code: i32,
    /// Whether the request may have taken effect.
    pub delivery: Delivery,
}

/// Whether a failed call's request may have taken effect at the runtime.
/// Ordered: a call made of several attempts reports the most uncertain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Delivery {
    /// Nothing reached the runtime (refused locally, or failed before the
    /// request was handed to the transport).
    #[default]
    NotSent,
    /// The runtime answered and refused it: it was not applied.
    Refused,
    /// The request went out and no answer decided it (timeout, cancellation,
    /// a broken connection): it may have been applied. Re-send it with the
    /// same `message_id`; the runtime reports a duplicate if it was.
    Unknown,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An SDK-local failure.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            code: status.name().to_string(),
            message: message.into(),
            details: Vec::new(),
            session_id: String::new(),
            message_id: String::new(),
            grpc_code: 0,
            delivery: Delivery::NotSent,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }

    /// A failure from a runtime-supplied code string.
    pub fn from_code(code: &str, message: impl Into<String>) -> Error {
        let status = Status::from_registry_code(code).unwrap_or(Status::Rpc);
        Error {
            code: code.to_string(),
            ..Error::new(status, message)
        }
    }

    /// The error of a refused `Ack`.
    pub fn from_macp_error(e: &macp_pb::pb::MacpError) -> Error {
        let message = if e.message.is_empty() {
            e.code.clone()
        } else {
            e.message.clone()
        };
        Error {
            details: e.details.clone(),
            session_id: e.session_id.clone(),
            message_id: e.message_id.clone(),
            delivery: Delivery::Refused,
            ..Error::from_code(&e.code, message)
        }
    }

    /// The error of a gRPC status: the `macp-error-code` metadata decides the
    /// status when present; otherwise the gRPC code is mapped (transport-ish
    /// codes to `Transport`, deadlines to `Timeout`, the rest to `Rpc`).
    pub fn from_grpc(s: &tonic::Status) -> Error {
        let grpc_code = s.code() as i32;
        let details = s
            .metadata()
            .get_bin("macp-error-details-bin")
            .and_then(|v| v.to_bytes().ok())
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let message = if s.message().is_empty() {
            format!("gRPC status {:?}", s.code())
        } else if s.code() == tonic::Code::Cancelled {
            format!("the connection to the runtime broke ({})", s.message())
        } else {
            s.message().to_string()
        };
        if let Some(code) = s
            .metadata()
            .get("macp-error-code")
            .and_then(|v| v.to_str().ok())
        {
            return Error {
                details,
                grpc_code,
                delivery: Delivery::Refused,
                ..Error::from_code(code, message)
            };
        }
        use tonic::Code;
        let status = match s.code() {
            // A runtime's transport limit (its payload limit plus an
            // envelope allowance) refuses a request before MACP sees it.
            _ if s.message().contains("message length too large") => Status::PayloadTooLarge,
            Code::Unavailable => Status::Transport,
            // A reset or broken connection surfaces as Unknown/Internal with a
            // transport source; tonic marks client-side transport failures so.
            Code::Unknown | Code::Internal if is_transport_failure(s) => Status::Transport,
            Code::DeadlineExceeded => Status::Timeout,
            // libmacp's own cancellation (a freed client) never comes back
            // as a gRPC status: it is decided before or beside the call.
            // gRPC's CANCELLED is the transport giving up on the call: the
            // connection broke under it ("operation was canceled", a request
            // handed to a connection that had just died) or the runtime
            // cancelled it while shutting down. Both are transient.
            Code::Cancelled => Status::Transport,
            Code::Unauthenticated => Status::Unauthenticated,
            Code::Unimplemented => Status::Unsupported,
            _ => Status::Rpc,
        };
        // The runtime's own answers refuse; the transport's leave the
        // request's fate open.
        let delivery = match status {
            Status::Transport | Status::Timeout => Delivery::Unknown,
            _ => Delivery::Refused,
        };
        Error {
            code: status.name().to_string(),
            details,
            grpc_code,
            delivery,
            ..Error::new(status, message)
        }
    }

    pub(crate) fn with_ids(mut self, session_id: &str, message_id: &str) -> Error {
        if self.session_id.is_empty() {
            self.session_id = session_id.to_string();
        }
        if self.message_id.is_empty() {
            self.message_id = message_id.to_string();
        }
        self
    }
}

fn is_transport_failure(s: &tonic::Status) -> bool {
    let mut src = std::error::Error::source(s);
    while let Some(e) = src {
        if e.is::<tonic::transport::Error>() || e.is::<std::io::Error>() || e.is::<h2::Error>() {
            return true;
        }
        src = e.source();
    }
    false
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_code_of_macp_core_has_a_status() {
        for entry in macp_core::error::ERROR_CODE_REGISTRY {
            let status = Status::from_registry_code(entry.code)
                .unwrap_or_else(|| panic!("{} has no Status", entry.code));
            assert_eq!(status.name(), entry.code);
            assert!(status.is_registry_code());
        }
        assert_eq!(REGISTRY.len(), macp_core::error::ERROR_CODE_REGISTRY.len());
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<_> = Status::all().map(Status::name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(!Status::Timeout.is_registry_code());
        assert_eq!(Status::from_registry_code("TIMEOUT"), None);
    }

    #[test]
    fn grpc_status_with_code_metadata_maps_to_registry_status() {
        let mut s = tonic::Status::not_found("Session 'x' not found");
        s.metadata_mut()
            .insert("macp-error-code", "SESSION_NOT_FOUND".parse().unwrap());
        s.metadata_mut().insert_bin(
            "macp-error-details-bin",
            tonic::metadata::MetadataValue::from_bytes(b"{\"a\":1}"),
        );
        let e = Error::from_grpc(&s);
        assert_eq!(e.status, Status::SessionNotFound);
        assert_eq!(e.code, "SESSION_NOT_FOUND");
        assert_eq!(e.details, b"{\"a\":1}");
        assert_eq!(e.grpc_code, tonic::Code::NotFound as i32);
        assert_eq!(e.message, "Session 'x' not found");
    }

    #[test]
    fn unknown_runtime_code_is_kept_verbatim() {
        let e = Error::from_code("SOMETHING_NEW", "x");
        assert_eq!(e.status, Status::Rpc);
        assert_eq!(e.code, "SOMETHING_NEW");
    }

    #[test]
    fn grpc_status_without_code_falls_back_to_grpc_code() {
        assert_eq!(
            Error::from_grpc(&tonic::Status::unavailable("down")).status,
            Status::Transport
        );
        assert_eq!(
            Error::from_grpc(&tonic::Status::deadline_exceeded("slow")).status,
            Status::Timeout
        );
        assert_eq!(
            Error::from_grpc(&tonic::Status::invalid_argument("bad")).status,
            Status::Rpc
        );
    }

    #[test]
    fn transport_size_refusal_is_payload_too_large() {
        let s = tonic::Status::out_of_range(
            "Error, decoded message length too large: found 2097283 bytes, the limit is: 1114112 bytes",
        );
        assert_eq!(Error::from_grpc(&s).status, Status::PayloadTooLarge);
    }

    #[test]
    fn grpc_cancelled_is_a_transient_transport_failure() {
        // What hyper reports for a request on a connection that just broke.
        let e = Error::from_grpc(&tonic::Status::cancelled("operation was canceled"));
        assert_eq!(e.status, Status::Transport);
        assert!(e.status.is_transient());
        assert_eq!(e.grpc_code, tonic::Code::Cancelled as i32);
        assert!(e.message.contains("connection"), "{}", e.message);
    }

    #[test]
    fn transient_statuses_match_the_sdk_guide() {
        for s in Status::all() {
            let expected = matches!(
                s,
                Status::Transport | Status::Timeout | Status::RateLimited | Status::InternalError
            );
            assert_eq!(s.is_transient(), expected, "{s}");
        }
    }
}

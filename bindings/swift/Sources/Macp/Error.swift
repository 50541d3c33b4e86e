import CMacp
import Foundation

/// The status of a failed call: a code of the MACP error registry, or an
/// SDK-local failure. The raw values are those of the C `macp_status`.
public enum Status: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case unauthenticated = 1
    case forbidden = 2
    case sessionNotFound = 3
    case sessionNotOpen = 4
    case duplicateMessage = 5
    case sessionAlreadyExists = 6
    case invalidEnvelope = 7
    case unsupportedProtocolVersion = 8
    case modeNotSupported = 9
    case payloadTooLarge = 10
    case rateLimited = 11
    case invalidSessionId = 12
    case internalError = 13
    case unknownPolicyVersion = 14
    case policyDenied = 15
    case invalidPolicyDefinition = 16
    case registryReadOnly = 17
    case invalidRequest = 18
    case streamLagged = 19
    case agentNotFound = 20
    case historyUnavailable = 21
    case receiptUnavailable = 22
    case unauthorized = 23
    /// SDK: an argument was empty, not valid, out of range, or held a NUL
    /// character. Nothing was sent.
    case invalidArgument = 100
    case invalidHandle = 101
    case transport = 102
    case timeout = 103
    case cancelled = 104
    case unsupported = 105
    /// SDK: a gRPC error without a MACP registry code this SDK knows.
    case rpc = 106
    case invalidState = 107
    /// SDK: a bug in libmacp, caught at the C boundary.
    case panic = 108

    /// The registry code or SDK status name (`"SESSION_NOT_FOUND"`).
    public var name: String { String(cString: macp_status_name(rawValue)) }

    /// Whether a retry may succeed (transport, timeout, rate limited,
    /// internal error). Sends already retry these per the retry policy.
    public var isTransient: Bool { macp_status_is_transient(rawValue) }

    public var description: String { name }

    init(_ s: macp_status) {
        // A status this package does not know yet (a newer libmacp) is
        // reported as a library-side failure rather than dropped.
        self = Status(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: s.rawValue))) ?? .panic
    }
}

/// The one error type of this package: a failed libmacp call, with the
/// runtime's code string, message and details when it came from the runtime.
public struct MacpError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Status
    /// The code exactly as received (`"SESSION_NOT_FOUND"`), or the SDK status name.
    public let code: String
    public let message: String
    /// The runtime's details bytes (a policy denial's reasons as JSON, ...).
    public let details: Data
    public let sessionId: String
    /// The message id the failure concerns: a failed send reports the id it
    /// used, so it can be re-sent idempotently.
    public let messageId: String
    /// The gRPC status code when the failure was a gRPC status, else 0.
    public let grpcCode: Int32
    /// Whether the request may have taken effect: after `.unknown`, re-send
    /// with the same `messageId`.
    public let delivery: Delivery

    /// Whether a failed call's request may have taken effect (`macp_delivery`).
    public enum Delivery: Int32, Sendable {
        /// Nothing reached the runtime.
        case notSent = 0
        /// The runtime answered and did not apply it.
        case refused = 1
        /// It went out and no answer decided it (timeout, cancellation, a
        /// broken connection): it may have been applied.
        case unknown = 2
    }

    public init(status: Status, code: String? = nil, message: String,
                details: Data = Data(), sessionId: String = "", messageId: String = "",
                grpcCode: Int32 = 0, delivery: Delivery = .notSent) {
        self.status = status
        self.code = code ?? status.name
        self.message = message
        self.details = details
        self.sessionId = sessionId
        self.messageId = messageId
        self.grpcCode = grpcCode
        self.delivery = delivery
    }

    /// Reads and frees a C error object.
    init(status s: macp_status, taking err: OpaquePointer?) {
        defer { macp_error_free(err) }
        self.init(status: s, borrowing: err)
    }

    /// Copies a borrowed C error object (a send callback's).
    init(status s: macp_status, borrowing err: OpaquePointer?) {
        guard let err else {
            self.init(status: Status(s), message: Status(s).name)
            return
        }
        var data: UnsafePointer<UInt8>?
        var len = 0
        macp_error_details(err, &data, &len)
        self.init(
            status: Status(s),
            code: String(cString: macp_error_code(err)),
            message: String(cString: macp_error_message(err)),
            details: data.map { Data(bytes: $0, count: len) } ?? Data(),
            sessionId: String(cString: macp_error_session_id(err)),
            messageId: String(cString: macp_error_message_id(err)),
            grpcCode: macp_error_grpc_code(err),
            delivery: Delivery(rawValue: macp_error_delivery(err)) ?? .unknown
        )
    }

    public var description: String { "\(code): \(message)" }

    static func invalidArgument(_ message: String) -> MacpError {
        MacpError(status: .invalidArgument, message: message)
    }
}

/// Throws the error of a failed C call (freeing the C error object).
@inline(__always)
func check(_ s: macp_status, _ err: OpaquePointer?) throws {
    if s != MACP_STATUS_OK { throw MacpError(status: s, taking: err) }
    macp_error_free(err)
}

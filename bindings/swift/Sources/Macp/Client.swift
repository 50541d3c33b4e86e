import CMacp
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libmacp writes to sockets with plain writes: when a runtime goes away
/// mid-stream, such a write raises SIGPIPE, whose default action ends the
/// process. Rust and Go programs ignore SIGPIPE already; a Swift program
/// does not, so the first client sets it to ignored (then the write fails
/// with EPIPE and the watcher reconnects), unless the program installed a
/// handler of its own.
let ignoreSIGPIPE: Void = {
    var current = sigaction()
    if sigaction(SIGPIPE, nil, &current) == 0 {
        #if canImport(Glibc)
        let isDefault = current.__sigaction_handler.sa_handler == nil
        #else
        let isDefault = current.__sigaction_u.__sa_handler == nil
        #endif
        if isDefault { _ = signal(SIGPIPE, SIG_IGN) }
    }
}()

/// Retry policy of every send: up to `maxRetries` more attempts after a
/// transient failure, waiting `baseDelay` doubled per retry up to
/// `maxDelay`, spread over [delay/2, delay] with `jitter`. A retry reuses
/// the message id, so the runtime never applies a message twice.
public struct RetryPolicy: Sendable, Equatable {
    public var maxRetries: UInt32
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var jitter: Bool

    public init(maxRetries: UInt32 = 3, baseDelay: Duration = .milliseconds(100),
                maxDelay: Duration = .seconds(2), jitter: Bool = true) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }
}

/// How to reach and authenticate to a runtime. Unset values keep libmacp's
/// defaults (TLS with the system roots, 10 s connect timeout, 30 s call
/// timeout, 3 retries from 100 ms to 2 s with jitter).
public struct ClientOptions: Sendable {
    /// `host:port` (TLS, or plaintext when `allowInsecure`), `https://...` or `http://...`.
    public var target: String
    /// Sent on every call as `authorization: Bearer <token>`.
    public var bearerToken: String?
    /// Allow plaintext connections (loopback or a trusted network only).
    public var allowInsecure: Bool = false
    /// Trust these CA certificates (PEM) instead of the system roots.
    public var caPEM: Data?
    /// A client certificate chain and its key (both PEM) for mutual TLS.
    public var clientCertificatePEM: Data?
    public var clientKeyPEM: Data?
    /// The TLS server name, when it differs from the target host.
    public var tlsDomain: String?
    /// Time allowed to connect and negotiate (`Initialize`).
    public var connectTimeout: Duration?
    /// Deadline of each call attempt; `.zero` means none.
    public var callTimeout: Duration?
    /// When set, envelopes carry it as `sender` and the runtime refuses
    /// (`unauthenticated`) messages the credential would attribute to
    /// another identity.
    public var expectedSender: String?
    public var retry: RetryPolicy?
    /// The `ClientInfo` sent in `Initialize`.
    public var clientName: String?
    public var clientVersion: String?

    public init(target: String, bearerToken: String? = nil, allowInsecure: Bool = false) {
        self.target = target
        self.bearerToken = bearerToken
        self.allowInsecure = allowInsecure
    }

    func makeC() throws -> OpaquePointer {
        var h: OpaquePointer?
        try statusCall { macp_client_options_new(&h, $0) }
        guard let h else { throw MacpError(status: .internalError, message: "no client options") }
        do {
            let cs = CStrings()
            try statusCall { macp_client_options_set_target(h, try cs.s(target, "target"), $0) }
            if let bearerToken {
                try statusCall { macp_client_options_set_bearer_token(h, try cs.s(bearerToken, "bearer token"), $0) }
            }
            try statusCall { macp_client_options_set_allow_insecure(h, allowInsecure, $0) }
            if let caPEM {
                try statusCall { e in withBytes(caPEM) { macp_client_options_set_ca_pem(h, $0, $1, e) } }
            }
            if clientCertificatePEM != nil || clientKeyPEM != nil {
                let cert = clientCertificatePEM ?? Data(), key = clientKeyPEM ?? Data()
                try statusCall { e in
                    withBytes(cert) { cp, cn in
                        withBytes(key) { kp, kn in macp_client_options_set_client_identity(h, cp, cn, kp, kn, e) }
                    }
                }
            }
            if let tlsDomain {
                try statusCall { macp_client_options_set_tls_domain(h, try cs.s(tlsDomain, "TLS domain"), $0) }
            }
            if let connectTimeout {
                try statusCall { macp_client_options_set_connect_timeout_ms(h, try ms(connectTimeout), $0) }
            }
            if let callTimeout {
                try statusCall { macp_client_options_set_call_timeout_ms(h, try ms(callTimeout), $0) }
            }
            if let expectedSender {
                try statusCall { macp_client_options_set_expected_sender(h, try cs.s(expectedSender, "expected sender"), $0) }
            }
            if let retry {
                try statusCall {
                    macp_client_options_set_retry_policy(h, retry.maxRetries, try ms(retry.baseDelay),
                                                         try ms(retry.maxDelay), retry.jitter, $0)
                }
            }
            if let clientName {
                try statusCall {
                    macp_client_options_set_client_info(h, try cs.s(clientName, "client name"),
                                                        try cs.opt(clientVersion, "client version"), $0)
                }
            }
            return h
        } catch {
            macp_client_options_free(h)
            throw error
        }
    }
}

func ms(_ d: Duration) throws -> UInt64 {
    let (s, atto) = d.components
    guard s >= 0, atto >= 0 else { throw MacpError.invalidArgument("negative duration") }
    let (v, o) = UInt64(s).multipliedReportingOverflow(by: 1000)
    guard !o else { throw MacpError.invalidArgument("duration out of range") }
    return v + UInt64(atto / 1_000_000_000_000_000)
}

/// A connected MACP client with one identity. Share it freely between
/// tasks: every call may run concurrently. The connection is released when
/// the last reference goes (calls still running then end with
/// `Status.cancelled`).
public final class Client: @unchecked Sendable {
    // The handle is a thread-safe libmacp client, immutable after init.
    let handle: OpaquePointer

    /// Connects and negotiates the protocol version (`Initialize`).
    public init(_ options: ClientOptions) async throws {
        _ = ignoreSIGPIPE
        handle = try await blocking {
            let opts = try options.makeC()
            defer { macp_client_options_free(opts) }
            var h: OpaquePointer?
            var err: OpaquePointer?
            try check(macp_client_new(opts, &h, currentCall(), &err), err)
            guard let h else { throw MacpError(status: .internalError, message: "no client") }
            return UnsafeSendable(h)
        }.value
    }

    deinit { macp_client_free(handle) }

    /// The negotiated protocol version (`"1.0"`).
    public var protocolVersion: String { String(cString: macp_client_protocol_version(handle)) }

    /// The runtime's `Initialize` answer (no call is made).
    public func initialize() throws -> InitializeResult {
        let json = try stringCall { macp_client_initialize_json(handle, $0, $1) }
        return try decodeJSON(InitializeResult.self, json)
    }

    /// Metadata and state of a session this identity may read (`GetSession`).
    public func getSession(_ sessionId: String) async throws -> SessionInfo {
        try await blocking {
            let cs = CStrings()
            var info: OpaquePointer?
            var err: OpaquePointer?
            try check(macp_client_get_session(self.handle, try cs.s(sessionId, "session id"), &info, currentCall(), &err), err)
            return try SessionInfo.taking(info)
        }
    }

    /// Cancels a session this identity started (`CancelSession`).
    @discardableResult
    public func cancelSession(_ sessionId: String, reason: String? = nil) async throws -> Ack {
        try await blocking {
            let cs = CStrings()
            return try ackCall {
                macp_client_cancel_session(self.handle, try cs.s(sessionId, "session id"), try cs.opt(reason), $0, currentCall(), $1)
            }
        }
    }

    /// One page of the sessions the runtime holds (`ListSessions`).
    public func listSessions(pageSize: Int32 = 0, pageToken: String? = nil) async throws -> SessionPage {
        try await blocking {
            let cs = CStrings()
            var list: OpaquePointer?
            var err: OpaquePointer?
            try check(macp_client_list_sessions(self.handle, pageSize, try cs.opt(pageToken, "page token"), &list, currentCall(), &err), err)
            return SessionPage.taking(list)
        }
    }

    /// Every session the runtime holds, all pages.
    public func listAllSessions() async throws -> [SessionInfo] {
        try await blocking {
            var list: OpaquePointer?
            var err: OpaquePointer?
            try check(macp_client_list_all_sessions(self.handle, &list, currentCall(), &err), err)
            return SessionPage.taking(list).sessions
        }
    }

    /// Sends an encoded `Envelope` exactly as given (tools, tests, gateways).
    @discardableResult
    public func sendEnvelope(_ envelope: Data) async throws -> Ack {
        try await blocking {
            try ackCall { ack, e in
                withBytes(envelope) { macp_client_send_envelope(self.handle, $0, $1, ack, currentCall(), e) }
            }
        }
    }

    /// Sends an ambient `Signal` (no session); `confidence` from 0 to 1.
    @discardableResult
    public func sendSignal(_ signalType: String, data: Data? = nil, confidence: Double = 1,
                           correlationSessionId: String? = nil) async throws -> Ack {
        try await blocking {
            let cs = CStrings()
            let type = try cs.s(signalType, "signal type")
            let corr = try cs.opt(correlationSessionId, "correlation session id")
            return try ackCall { ack, e in
                withBytes(data) { macp_client_send_signal(self.handle, type, $0, $1, confidence, corr, ack, currentCall(), e) }
            }
        }
    }

    /// Runs a blocking C call returning a `macp_string` on the blocking queue.
    func text(_ body: @escaping @Sendable (CStrings, UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) async throws -> String {
        try await blocking {
            let cs = CStrings()
            return try stringCall { try body(cs, $0, $1) }
        }
    }

    /// Runs a blocking C call returning only a status on the blocking queue.
    func status(_ body: @escaping @Sendable (CStrings, UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) async throws {
        try await blocking {
            let cs = CStrings()
            try statusCall { try body(cs, $0) }
        }
    }
}

/// Carries a non-Sendable value (a C handle that is safe to move between
/// threads) out of a blocking call.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

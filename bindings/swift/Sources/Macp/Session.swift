import CMacp
import Foundation

/// Parameters of a new session (every `SessionStart` field).
public struct StartOptions: Sendable {
    /// nil generates a UUID v4.
    public var sessionId: String?
    public var intent: String?
    public var participants: [String]
    /// Time to live (required by the runtime, greater than zero).
    public var ttl: Duration
    public var modeVersion: String?
    public var configurationVersion: String?
    public var policyVersion: String?
    public var contextId: String?
    /// Cap on the cumulative suspended time; nil lets the runtime choose.
    public var maxSuspend: Duration?
    /// Extension blocks: protocol identifier to bytes.
    public var extensions: [String: Data]
    public var roots: [Root]

    public init(participants: [String], ttl: Duration = .seconds(60), sessionId: String? = nil,
                intent: String? = nil, modeVersion: String? = nil, configurationVersion: String? = nil,
                policyVersion: String? = nil, contextId: String? = nil, maxSuspend: Duration? = nil,
                extensions: [String: Data] = [:], roots: [Root] = []) {
        self.participants = participants
        self.ttl = ttl
        self.sessionId = sessionId
        self.intent = intent
        self.modeVersion = modeVersion
        self.configurationVersion = configurationVersion
        self.policyVersion = policyVersion
        self.contextId = contextId
        self.maxSuspend = maxSuspend
        self.extensions = extensions
        self.roots = roots
    }

    func makeC() throws -> OpaquePointer {
        var h: OpaquePointer?
        try statusCall { macp_start_options_new(&h, $0) }
        guard let h else { throw MacpError(status: .internalError, message: "no start options") }
        do {
            let cs = CStrings()
            if let sessionId { try statusCall { macp_start_options_set_session_id(h, try cs.s(sessionId, "session id"), $0) } }
            if let intent { try statusCall { macp_start_options_set_intent(h, try cs.s(intent, "intent"), $0) } }
            if let modeVersion { try statusCall { macp_start_options_set_mode_version(h, try cs.s(modeVersion, "mode version"), $0) } }
            if let configurationVersion {
                try statusCall { macp_start_options_set_configuration_version(h, try cs.s(configurationVersion, "configuration version"), $0) }
            }
            if let policyVersion { try statusCall { macp_start_options_set_policy_version(h, try cs.s(policyVersion, "policy version"), $0) } }
            if let contextId { try statusCall { macp_start_options_set_context_id(h, try cs.s(contextId, "context id"), $0) } }
            for p in participants { try statusCall { macp_start_options_add_participant(h, try cs.s(p, "participant"), $0) } }
            try statusCall { macp_start_options_set_ttl_ms(h, Int64(clamping: try ms(ttl)), $0) }
            if let maxSuspend { try statusCall { macp_start_options_set_max_suspend_ms(h, Int64(clamping: try ms(maxSuspend)), $0) } }
            for (k, v) in extensions.sorted(by: { $0.key < $1.key }) {
                let key = try cs.s(k, "extension key")
                try statusCall { e in withBytes(v) { macp_start_options_set_extension(h, key, $0, $1, e) } }
            }
            for r in roots { try statusCall { macp_start_options_add_root(h, try cs.s(r.uri, "root uri"), try cs.opt(r.name, "root name"), $0) } }
            return h
        } catch {
            macp_start_options_free(h)
            throw error
        }
    }
}

/// A Commitment, the message that resolves a session.
public struct Commitment: Sendable, Equatable {
    /// nil generates a UUID v4 when sent.
    public var commitmentId: String?
    /// The outcome, e.g. `"decision.selected"`.
    public var action: String
    public var authorityScope: String?
    public var reason: String?
    /// Whether the outcome is positive or a definitive negative one.
    public var outcomePositive: Bool
    /// Supersession: the session and commitment hash of an earlier commitment.
    public var supersedesSessionId: String?
    public var supersedesCommitmentHash: String?

    public init(action: String, outcomePositive: Bool = true, commitmentId: String? = nil,
                authorityScope: String? = nil, reason: String? = nil,
                supersedesSessionId: String? = nil, supersedesCommitmentHash: String? = nil) {
        self.action = action
        self.outcomePositive = outcomePositive
        self.commitmentId = commitmentId
        self.authorityScope = authorityScope
        self.reason = reason
        self.supersedesSessionId = supersedesSessionId
        self.supersedesCommitmentHash = supersedesCommitmentHash
    }

    func withC<R>(_ cs: CStrings, _ body: (UnsafePointer<macp_commitment>) throws -> R) throws -> R {
        var c = macp_commitment()
        c.commitment_id = try cs.opt(commitmentId, "commitment id")
        c.action = try cs.s(action, "action")
        c.authority_scope = try cs.opt(authorityScope, "authority scope")
        c.reason = try cs.opt(reason, "reason")
        c.outcome_positive = outcomePositive
        c.supersedes_session_id = try cs.opt(supersedesSessionId, "supersedes session id")
        c.supersedes_commitment_hash = try cs.opt(supersedesCommitmentHash, "supersedes commitment hash")
        return try body(&c)
    }
}

extension Client {
    /// Starts a session of `mode` (e.g. `Mode.decision`) with this client's
    /// identity as initiator (`SessionStart`).
    public func startSession(mode: String, _ options: StartOptions) async throws -> (Session, Ack) {
        let r = try await blocking {
            let cs = CStrings()
            let opts = try options.makeC()
            defer { macp_start_options_free(opts) }
            var h: OpaquePointer?
            var ack = macp_ack()
            var err: OpaquePointer?
            try check(macp_session_start(self.handle, try cs.s(mode, "mode"), opts, &h, &ack, currentCall(), &err), err)
            return UnsafeSendable((h, Ack(ack)))
        }.value
        guard let h = r.0 else { throw MacpError(status: .internalError, message: "no session") }
        return (Session(client: self, handle: h), r.1)
    }

    /// Opens a handle on an existing session (as a participant, or as its
    /// initiator from another client); reads it once (`GetSession`).
    public func openSession(_ sessionId: String) async throws -> Session {
        let h = try await blocking {
            let cs = CStrings()
            var h: OpaquePointer?
            var err: OpaquePointer?
            try check(macp_session_open(self.handle, try cs.s(sessionId, "session id"), &h, currentCall(), &err), err)
            return UnsafeSendable(h)
        }.value
        guard let h else { throw MacpError(status: .internalError, message: "no session") }
        return Session(client: self, handle: h)
    }
}

/// One participant's handle on one session; released in `deinit` (the
/// session itself goes on: `cancel` ends it). Safe to share between tasks.
public final class Session: @unchecked Sendable {
    // A thread-safe libmacp session handle, immutable after init; the client
    // is kept alive as long as its sessions.
    let handle: OpaquePointer
    public let client: Client
    public let id: String
    public let mode: String

    init(client: Client, handle: OpaquePointer) {
        self.client = client
        self.handle = handle
        id = String(cString: macp_session_id(handle))
        mode = String(cString: macp_session_mode(handle))
    }

    deinit { macp_session_free(handle) }

    /// Runs a blocking C call that fills an ack on the blocking queue.
    func ack(messageId: String? = nil,
             _ body: @escaping @Sendable (CStrings, UnsafeMutablePointer<macp_ack>, UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) async throws -> Ack {
        try await blocking(messageId: messageId) {
            let cs = CStrings()
            return try ackCall { try body(cs, $0, $1) }
        }
    }

    /// Sends a message with an already-encoded payload. `messageId` nil
    /// generates one; a chosen id lets a message be re-sent idempotently.
    @discardableResult
    public func send(_ messageType: String, payload: Data? = nil, messageId: String? = nil) async throws -> Ack {
        try await ack(messageId: messageId) { cs, a, e in
            let t = try cs.s(messageType, "message type")
            return withBytes(payload) { macp_session_send(self.handle, t, $0, $1, a, currentCall(), e) }
        }
    }

    /// Sends like `send` through libmacp's asynchronous entry point: no
    /// thread waits while the message is in flight.
    @discardableResult
    public func sendAsync(_ messageType: String, payload: Data? = nil, messageId: String? = nil) async throws -> Ack {
        try Task.checkCancellation()
        let cs = CStrings()
        let t = try cs.s(messageType, "message type")
        let call = try CallOptions(messageId: messageId)
        return try await withTaskCancellationHandler {
          try await withCheckedThrowingContinuation { (k: CheckedContinuation<Ack, Error>) in
            let box = Unmanaged.passRetained(SendBox(k))
            var err: OpaquePointer?
            let s = withBytes(payload) {
                macp_session_send_async(self.handle, t, $0, $1, { status, ack, error, ud in
                    let box = Unmanaged<SendBox>.fromOpaque(ud!).takeRetainedValue()
                    if status == MACP_STATUS_OK, let ack {
                        box.k.resume(returning: Ack(ack.pointee))
                    } else {
                        box.k.resume(throwing: MacpError(status: status, borrowing: error))
                    }
                }, box.toOpaque(), call.pointer, &err)
            }
            if s != MACP_STATUS_OK {
                // The callback is never called on failure.
                box.release()
                k.resume(throwing: MacpError(status: s, taking: err))
            }
          }
        } onCancel: {
            call.cancel()
        }
    }

    /// Sends a message whose payload is JSON, encoded as `payloadType` (nil:
    /// the type the schema defines for `messageType` in the session's mode).
    @discardableResult
    public func sendJSON(_ messageType: String, payloadJSON: String, payloadType: String? = nil,
                         messageId: String? = nil) async throws -> Ack {
        try await ack(messageId: messageId) { cs, a, e in
            macp_session_send_json(self.handle, try cs.s(messageType, "message type"), try cs.opt(payloadType, "payload type"),
                                   try cs.s(payloadJSON, "payload JSON"), a, currentCall(), e)
        }
    }

    /// Sends a Commitment resolving the session, with the session's bound versions.
    @discardableResult
    public func commit(_ commitment: Commitment, messageId: String? = nil) async throws -> Ack {
        try await ack(messageId: messageId) { cs, a, e in
            try commitment.withC(cs) { macp_session_commit(self.handle, $0, a, currentCall(), e) }
        }
    }

    /// Current metadata and state (`GetSession`).
    public func info() async throws -> SessionInfo {
        try await blocking {
            var info: OpaquePointer?
            var err: OpaquePointer?
            try check(macp_session_get_info(self.handle, &info, currentCall(), &err), err)
            return try SessionInfo.taking(info)
        }
    }

    /// Cancels the session (initiator only).
    @discardableResult
    public func cancel(reason: String? = nil) async throws -> Ack {
        try await ack { cs, a, e in macp_session_cancel(self.handle, try cs.opt(reason), a, currentCall(), e) }
    }

    /// Suspends the session: mode messages are refused until `resume`.
    @discardableResult
    public func suspend(reason: String? = nil) async throws -> Ack {
        try await ack { cs, a, e in macp_session_suspend(self.handle, try cs.opt(reason), a, currentCall(), e) }
    }

    @discardableResult
    public func resume(reason: String? = nil) async throws -> Ack {
        try await ack { cs, a, e in macp_session_resume(self.handle, try cs.opt(reason), a, currentCall(), e) }
    }

    /// Reports progress (`Progress`; it changes no mode state): `progress`
    /// out of `total` (0 when unknown).
    @discardableResult
    public func progress(_ progress: Double, total: Double = 0, token: String? = nil, message: String? = nil,
                         targetMessageId: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await ack(messageId: messageId) { cs, a, e in
            macp_session_progress(self.handle, try cs.opt(token, "progress token"), progress, total,
                                  try cs.opt(message, "message"), try cs.opt(targetMessageId, "target message id"), a, currentCall(), e)
        }
    }
}

/// The continuation of one `sendAsync`, handed to C as `user_data`.
final class SendBox: @unchecked Sendable {
    let k: CheckedContinuation<Ack, Error>
    init(_ k: CheckedContinuation<Ack, Error>) { self.k = k }
}

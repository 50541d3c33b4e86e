import CMacp
import Foundation

/// A session's state, as `macp.v1.SessionState`.
public enum SessionState: Int32, Sendable, Codable, CustomStringConvertible {
    case unspecified = 0, open, resolved, expired, suspended, cancelled

    init(_ s: macp_session_state) { self = SessionState(rawValue: Int32(s.rawValue)) ?? .unspecified }

    /// `"OPEN"`, `"RESOLVED"`, ...
    public var description: String { String(cString: macp_session_state_name(rawValue)) }
}

/// The standards-track modes and the built-in extension mode.
public enum Mode {
    public static let decision = "macp.mode.decision.v1"
    public static let proposal = "macp.mode.proposal.v1"
    public static let task = "macp.mode.task.v1"
    public static let handoff = "macp.mode.handoff.v1"
    public static let quorum = "macp.mode.quorum.v1"
    public static let multiRound = "ext.multi_round.v1"
}

/// The runtime's acknowledgement of an accepted message.
public struct Ack: Sendable, Equatable {
    public let messageId: String
    public let sessionId: String
    /// The runtime had already accepted this message id (a retry whose first
    /// answer was lost); it was not applied twice.
    public let duplicate: Bool
    /// The session's state after the message.
    public let state: SessionState
    /// Send attempts made (1 unless transient failures were retried).
    public let attempts: UInt32
    public let acceptedAt: Date

    init(_ a: macp_ack) {
        messageId = fixedString(a.message_id)
        sessionId = fixedString(a.session_id)
        duplicate = a.duplicate
        state = SessionState(a.session_state)
        attempts = a.attempts
        acceptedAt = date(unixMs: a.accepted_at_unix_ms)
    }
}

/// One participant's activity in a session.
public struct ParticipantActivity: Sendable, Equatable {
    public let participant: String
    public let lastMessageAt: Date
    public let messageCount: UInt32
}

/// A session's metadata and state.
public struct SessionInfo: Sendable, Equatable {
    public let sessionId: String
    public let mode: String
    public let state: SessionState
    public let startedAt: Date
    public let expiresAt: Date
    public let modeVersion: String
    public let configurationVersion: String
    public let policyVersion: String
    /// The identity that started the session.
    public let initiator: String
    public let contextId: String
    public let participants: [String]
    /// Keys of the extensions set at session start.
    public let extensionKeys: [String]
    public let activity: [ParticipantActivity]

    /// Copies a borrowed `macp_session_metadata`.
    init(_ m: UnsafePointer<macp_session_metadata>) {
        let i = m.pointee
        func strings(_ p: UnsafePointer<UnsafePointer<CChar>?>?, _ n: Int) -> [String] {
            guard let p, n > 0 else { return [] }
            return UnsafeBufferPointer(start: p, count: n).map(str)
        }
        sessionId = str(i.session_id)
        mode = str(i.mode)
        state = SessionState(i.state)
        startedAt = date(unixMs: i.started_at_unix_ms)
        expiresAt = date(unixMs: i.expires_at_unix_ms)
        modeVersion = str(i.mode_version)
        configurationVersion = str(i.configuration_version)
        policyVersion = str(i.policy_version)
        initiator = str(i.initiator)
        contextId = str(i.context_id)
        participants = strings(i.participants, i.participants_len)
        extensionKeys = strings(i.extension_keys, i.extension_keys_len)
        if let a = i.activity, i.activity_len > 0 {
            activity = UnsafeBufferPointer(start: a, count: i.activity_len).map {
                ParticipantActivity(participant: str($0.participant_id),
                                    lastMessageAt: date(unixMs: $0.last_message_at_unix_ms),
                                    messageCount: $0.message_count)
            }
        } else {
            activity = []
        }
    }

    /// Reads and frees a `macp_session_info` handle.
    static func taking(_ h: OpaquePointer?) throws -> SessionInfo {
        defer { macp_session_info_free(h) }
        guard let m = macp_session_info_metadata(h) else {
            throw MacpError(status: .invalidHandle, message: "no session metadata")
        }
        return SessionInfo(m)
    }
}

/// One page of sessions, and the token of the next (`""` when complete).
public struct SessionPage: Sendable {
    public let sessions: [SessionInfo]
    public let nextPageToken: String

    static func taking(_ h: OpaquePointer?) -> SessionPage {
        defer { macp_session_list_free(h) }
        let n = macp_session_list_len(h)
        let sessions = (0..<n).compactMap { macp_session_list_at(h, $0).map(SessionInfo.init) }
        return SessionPage(sessions: sessions,
                           nextPageToken: String(cString: macp_session_list_next_page_token(h)))
    }
}

/// The libmacp version (`"0.1.0"`).
public var libraryVersion: String { String(cString: macp_version()) }

/// A new UUID v4: a valid session or message id.
public func newId() throws -> String {
    var buf = [CChar](repeating: 0, count: Int(MACP_ID_BUFFER_LEN))
    var err: OpaquePointer?
    try check(macp_new_id(&buf, buf.count, &err), err)
    return String(cString: buf)
}

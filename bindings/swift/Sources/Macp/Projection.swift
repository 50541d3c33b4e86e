import CMacp
import Foundation

/// Rebuilds one session's mode state locally from its accepted envelopes
/// (typically the `raw` bytes of a session watcher's envelope events).
/// Safe to share between tasks; released in `deinit`.
public final class Projection: @unchecked Sendable {
    // A thread-safe libmacp projection handle, immutable after init.
    let handle: OpaquePointer
    public let mode: String

    public init(mode: String) throws {
        let cs = CStrings()
        var h: OpaquePointer?
        var err: OpaquePointer?
        try check(macp_projection_new(try cs.s(mode, "mode"), &h, &err), err)
        guard let h else { throw MacpError(status: .internalError, message: "no projection") }
        handle = h
        self.mode = mode
    }

    deinit { macp_projection_free(handle) }

    /// Applies one accepted envelope (protobuf bytes). A redelivered
    /// envelope (same message id) is ignored.
    public func apply(_ envelope: Data) throws {
        try statusCall { e in withBytes(envelope) { macp_projection_apply(handle, $0, $1, e) } }
    }

    /// The whole state as JSON text.
    public func stateJSON() throws -> String {
        try stringCall { macp_projection_state_json(handle, $0, $1) }
    }

    /// The state decoded as `T` (`DecisionState`, `TaskState`, ...).
    public func state<T: Decodable>(as type: T.Type) throws -> T {
        try decodeJSON(T.self, try stateJSON())
    }

    /// The counted votes on a Decision proposal.
    public func decisionTally(proposalId: String) throws -> Tally {
        let cs = CStrings()
        var a: UInt32 = 0, r: UInt32 = 0, ab: UInt32 = 0
        try statusCall { macp_decision_tally(handle, try cs.s(proposalId, "proposal id"), &a, &r, &ab, $0) }
        return Tally(approve: a, reject: r, abstain: ab)
    }

    /// The ballots on a Quorum request (nil: the session's one request).
    public func quorumTally(requestId: String? = nil) throws -> QuorumTally {
        let cs = CStrings()
        var a: UInt32 = 0, r: UInt32 = 0, ab: UInt32 = 0, req: UInt32 = 0
        var reached = false
        try statusCall { macp_quorum_tally(handle, try cs.opt(requestId, "request id"), &a, &r, &ab, &req, &reached, $0) }
        return QuorumTally(approve: a, reject: r, abstain: ab, required: req, reached: reached, unreachable: nil)
    }
}

/// Approve, reject and abstain counts.
public struct Tally: Sendable, Codable, Equatable {
    public let approve: UInt32
    public let reject: UInt32
    public let abstain: UInt32
}

/// A Quorum request's ballots against its required approvals.
public struct QuorumTally: Sendable, Codable, Equatable {
    public let approve: UInt32
    public let reject: UInt32
    public let abstain: UInt32
    public let required: UInt32
    /// The approvals reach `required`.
    public let reached: Bool
    /// The approvals can no longer reach `required` (nil when the roster is unknown).
    public let unreachable: Bool?
}

/// The fields every mode's projection has.
public struct ProjectionBase: Sendable, Decodable, Equatable {
    public let mode: String
    public let sessionId: String
    public let initiator: String
    public let participants: [String]
    public let phase: String
    /// Envelopes applied.
    public let applied: UInt64
    /// nil until a Commitment is applied.
    public let commitment: CommittedOutcome?
    public let anomalies: [Anomaly]

    enum CodingKeys: String, CodingKey {
        case mode, initiator, participants, phase, applied, commitment, anomalies
        case sessionId = "session_id"
    }
}

/// The Commitment a projection applied, and who sent it.
public struct CommittedOutcome: Sendable, Decodable, Equatable {
    public let commitmentId: String
    public let action: String
    public let authorityScope: String
    public let reason: String
    public let outcomePositive: Bool
    public let modeVersion: String
    public let configurationVersion: String
    public let policyVersion: String
    public let sender: String

    enum CodingKeys: String, CodingKey {
        case action, reason, sender
        case commitmentId = "commitment_id"
        case authorityScope = "authority_scope"
        case outcomePositive = "outcome_positive"
        case modeVersion = "mode_version"
        case configurationVersion = "configuration_version"
        case policyVersion = "policy_version"
    }
}

/// A message the projection accepted from the runtime but found odd.
public struct Anomaly: Sendable, Decodable, Equatable {
    public let kind: String
    public let mode: String
    public let messageType: String
    public let messageId: String
    public let sender: String
    public let subjectId: String
    public let detail: String

    enum CodingKeys: String, CodingKey {
        case kind, mode, sender, detail
        case messageType = "message_type"
        case messageId = "message_id"
        case subjectId = "subject_id"
    }
}

/// A participant's vote or ballot and its reason.
public struct Ballot: Sendable, Decodable, Equatable {
    public let vote: String
    public let reason: String
}

/// A Decision projection.
public struct DecisionState: Sendable, Decodable, Equatable {
    public struct Proposal: Sendable, Decodable, Equatable {
        public let proposalId: String, option: String, rationale: String, sender: String
        enum CodingKeys: String, CodingKey { case option, rationale, sender; case proposalId = "proposal_id" }
    }
    public struct Evaluation: Sendable, Decodable, Equatable {
        public let proposalId: String, recommendation: String, confidence: Double, reason: String, sender: String
        enum CodingKeys: String, CodingKey { case recommendation, confidence, reason, sender; case proposalId = "proposal_id" }
    }
    public struct Objection: Sendable, Decodable, Equatable {
        public let proposalId: String, reason: String, severity: String, sender: String
        enum CodingKeys: String, CodingKey { case reason, severity, sender; case proposalId = "proposal_id" }
    }
    public let base: ProjectionBase
    public let proposals: [String: Proposal]
    public let evaluations: [Evaluation]
    public let objections: [Objection]
    /// Proposal id, then sender.
    public let votes: [String: [String: Ballot]]
    public let tallies: [String: Tally]

    enum CodingKeys: String, CodingKey { case proposals, evaluations, objections, votes, tallies }
    public init(from decoder: Decoder) throws {
        base = try ProjectionBase(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        proposals = try c.decode([String: Proposal].self, forKey: .proposals)
        evaluations = try c.decode([Evaluation].self, forKey: .evaluations)
        objections = try c.decode([Objection].self, forKey: .objections)
        votes = try c.decode([String: [String: Ballot]].self, forKey: .votes)
        tallies = try c.decode([String: Tally].self, forKey: .tallies)
    }
}

/// A Proposal projection.
public struct ProposalState: Sendable, Decodable, Equatable {
    public struct Entry: Sendable, Decodable, Equatable {
        public let proposalId: String, title: String, summary: String, tags: [String], proposer: String
        public let supersedesProposalId: String?
        /// `Live` or `Withdrawn`.
        public let disposition: String
        /// `open`, `rejected` or `withdrawn`.
        public let status: String
        enum CodingKeys: String, CodingKey {
            case title, summary, tags, proposer, disposition, status
            case proposalId = "proposal_id"
            case supersedesProposalId = "supersedes_proposal_id"
        }
    }
    public struct Rejection: Sendable, Decodable, Equatable {
        public let proposalId: String, terminal: Bool, reason: String, sender: String
        enum CodingKeys: String, CodingKey { case terminal, reason, sender; case proposalId = "proposal_id" }
    }
    public let base: ProjectionBase
    public let proposals: [String: Entry]
    /// Sender to the proposal id it accepts.
    public let accepts: [String: String]
    public let rejections: [Rejection]
    public let agreedProposal: String?

    enum CodingKeys: String, CodingKey { case proposals, accepts, rejections; case agreedProposal = "agreed_proposal" }
    public init(from decoder: Decoder) throws {
        base = try ProjectionBase(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        proposals = try c.decode([String: Entry].self, forKey: .proposals)
        accepts = try c.decode([String: String].self, forKey: .accepts)
        rejections = try c.decode([Rejection].self, forKey: .rejections)
        agreedProposal = try c.decodeIfPresent(String.self, forKey: .agreedProposal)
    }
}

/// A Task projection.
public struct TaskState: Sendable, Decodable, Equatable {
    public struct Entry: Sendable, Decodable, Equatable {
        public let taskId: String, title: String, instructions: String, requestedAssignee: String, requester: String
        public let deadlineUnixMs: Int64
        public let status: String
        public let progress: Double
        public let assignee: String?
        enum CodingKeys: String, CodingKey {
            case title, instructions, requester, status, progress, assignee
            case taskId = "task_id"
            case requestedAssignee = "requested_assignee"
            case deadlineUnixMs = "deadline_unix_ms"
        }
    }
    public struct Update: Sendable, Decodable, Equatable {
        public let taskId: String, status: String, progress: Double, message: String, sender: String
        enum CodingKeys: String, CodingKey { case status, progress, message, sender; case taskId = "task_id" }
    }
    public struct Rejection: Sendable, Decodable, Equatable {
        public let taskId: String, assignee: String, reason: String, sender: String, whileAssigned: Bool
        enum CodingKeys: String, CodingKey {
            case assignee, reason, sender
            case taskId = "task_id"
            case whileAssigned = "while_assigned"
        }
    }
    public struct Report: Sendable, Decodable, Equatable {
        public let taskId: String, assignee: String
        /// `completed` or `failed`.
        public let outcome: String
        public let summary: String, errorCode: String, reason: String, retryable: Bool, sender: String
        enum CodingKeys: String, CodingKey {
            case assignee, outcome, summary, reason, retryable, sender
            case taskId = "task_id"
            case errorCode = "error_code"
        }
    }
    public let base: ProjectionBase
    public let tasks: [String: Entry]
    public let activeAssignee: String?
    public let updates: [Update]
    public let rejections: [Rejection]
    public let reports: [Report]

    enum CodingKeys: String, CodingKey { case tasks, updates, rejections, reports; case activeAssignee = "active_assignee" }
    public init(from decoder: Decoder) throws {
        base = try ProjectionBase(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tasks = try c.decode([String: Entry].self, forKey: .tasks)
        activeAssignee = try c.decodeIfPresent(String.self, forKey: .activeAssignee)
        updates = try c.decode([Update].self, forKey: .updates)
        rejections = try c.decode([Rejection].self, forKey: .rejections)
        reports = try c.decode([Report].self, forKey: .reports)
    }
}

/// A Handoff projection.
public struct HandoffState: Sendable, Decodable, Equatable {
    public struct Context: Sendable, Decodable, Equatable {
        public let contentType: String, size: Int, sender: String
        enum CodingKeys: String, CodingKey { case size, sender; case contentType = "content_type" }
    }
    public struct Offer: Sendable, Decodable, Equatable {
        public let handoffId: String, targetParticipant: String, scope: String, reason: String, offeredBy: String
        /// `Offered`, `Accepted` or `Declined`.
        public let disposition: String
        public let settledBy: String?
        /// Accepted implicitly (by the target's first mode message).
        public let implicit: Bool
        public let contexts: [Context]
        enum CodingKeys: String, CodingKey {
            case scope, reason, disposition, implicit, contexts
            case handoffId = "handoff_id"
            case targetParticipant = "target_participant"
            case offeredBy = "offered_by"
            case settledBy = "settled_by"
        }
    }
    public let base: ProjectionBase
    public let offers: [String: Offer]

    enum CodingKeys: String, CodingKey { case offers }
    public init(from decoder: Decoder) throws {
        base = try ProjectionBase(from: decoder)
        offers = try decoder.container(keyedBy: CodingKeys.self).decode([String: Offer].self, forKey: .offers)
    }
}

/// A Quorum projection.
public struct QuorumState: Sendable, Decodable, Equatable {
    public struct Request: Sendable, Decodable, Equatable {
        public let requestId: String, action: String, summary: String, requiredApprovals: UInt32, requestedBy: String
        enum CodingKeys: String, CodingKey {
            case action, summary
            case requestId = "request_id"
            case requiredApprovals = "required_approvals"
            case requestedBy = "requested_by"
        }
    }
    public let base: ProjectionBase
    public let requests: [String: Request]
    /// Request id, then sender; votes are `approve`, `reject` or `abstain`.
    public let ballots: [String: [String: Ballot]]
    public let tallies: [String: QuorumTally]

    enum CodingKeys: String, CodingKey { case requests, ballots, tallies }
    public init(from decoder: Decoder) throws {
        base = try ProjectionBase(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requests = try c.decode([String: Request].self, forKey: .requests)
        ballots = try c.decode([String: [String: Ballot]].self, forKey: .ballots)
        tallies = try c.decode([String: QuorumTally].self, forKey: .tallies)
    }
}

/// A multi-round projection.
public struct MultiRoundState: Sendable, Decodable, Equatable {
    public let base: ProjectionBase
    /// Sender to its latest value.
    public let contributions: [String: String]
    public let rounds: UInt32
    public let converged: Bool

    enum CodingKeys: String, CodingKey { case contributions, rounds, converged }
    public init(from decoder: Decoder) throws {
        base = try ProjectionBase(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        contributions = try c.decode([String: String].self, forKey: .contributions)
        rounds = try c.decode(UInt32.self, forKey: .rounds)
        converged = try c.decode(Bool.self, forKey: .converged)
    }
}

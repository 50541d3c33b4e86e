import CMacp
import Foundation

// Each mode's helpers, as views on a session: `session.decision.vote(...)`.
// A helper sends one message of the mode and returns the runtime's Ack;
// optional arguments default to "not set". `messageId` (nil: generated)
// lets a message whose fate is unknown (`MacpError.delivery == .unknown`) be
// re-sent idempotently.

extension Session {
    public var decision: DecisionMode { DecisionMode(session: self) }
    public var proposal: ProposalMode { ProposalMode(session: self) }
    public var task: TaskMode { TaskMode(session: self) }
    public var handoff: HandoffMode { HandoffMode(session: self) }
    public var quorum: QuorumMode { QuorumMode(session: self) }
    public var multiRound: MultiRoundMode { MultiRoundMode(session: self) }
}

/// Decision mode (`macp.mode.decision.v1`).
public struct DecisionMode: Sendable {
    public let session: Session

    /// Proposes `option` under `proposalId`.
    @discardableResult
    public func propose(proposalId: String, option: String, rationale: String? = nil,
                        supportingData: Data? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(proposalId, "proposal id"), o = try cs.s(option, "option"), r = try cs.opt(rationale, "rationale")
            return withBytes(supportingData) { macp_decision_propose(session.handle, id, o, r, $0, $1, a, currentCall(), e) }
        }
    }

    /// Evaluates a proposal: an upper-case recommendation (`"APPROVE"`,
    /// `"REVIEW"`, `"BLOCK"`, `"REJECT"`) with a confidence in [0, 1].
    @discardableResult
    public func evaluate(proposalId: String, recommendation: String, confidence: Double,
                         reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_decision_evaluate(session.handle, try cs.s(proposalId, "proposal id"), try cs.s(recommendation, "recommendation"),
                                   confidence, try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    /// Objects to a proposal with a lowercase severity (`"low"` ... `"critical"`).
    @discardableResult
    public func object(proposalId: String, severity: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_decision_object(session.handle, try cs.s(proposalId, "proposal id"), try cs.opt(reason, "reason"),
                                 try cs.s(severity, "severity"), a, currentCall(), e)
        }
    }

    /// Votes (`"APPROVE"`, `"REJECT"`, `"ABSTAIN"`); the first vote counts.
    @discardableResult
    public func vote(proposalId: String, vote: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_decision_vote(session.handle, try cs.s(proposalId, "proposal id"), try cs.s(vote, "vote"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    /// Resolves the decision (initiator only). For a chosen commitment id or
    /// supersession use `Session.commit`.
    @discardableResult
    public func commit(action: String, authorityScope: String? = nil, reason: String? = nil,
                       outcomePositive: Bool = true, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_decision_commit(session.handle, try cs.s(action, "action"), try cs.opt(authorityScope, "authority scope"),
                                 try cs.opt(reason, "reason"), outcomePositive, a, currentCall(), e)
        }
    }
}

/// Proposal mode (`macp.mode.proposal.v1`).
public struct ProposalMode: Sendable {
    public let session: Session

    @discardableResult
    public func propose(proposalId: String, title: String? = nil, summary: String? = nil, details: Data? = nil,
                        tags: [String] = [], messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(proposalId, "proposal id"), t = try cs.opt(title, "title"), s = try cs.opt(summary, "summary")
            let ts = try cs.array(tags, "tag")
            return ts.withUnsafeBufferPointer { tp in
                withBytes(details) {
                    macp_proposal_propose(session.handle, id, t, s, $0, $1, ts.isEmpty ? nil : tp.baseAddress, ts.count, a, currentCall(), e)
                }
            }
        }
    }

    /// A counteroffer meant to replace `supersedes` (which stays live).
    @discardableResult
    public func counterPropose(proposalId: String, supersedes: String, title: String? = nil, summary: String? = nil,
                               details: Data? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(proposalId, "proposal id"), sup = try cs.s(supersedes, "supersedes proposal id")
            let t = try cs.opt(title, "title"), s = try cs.opt(summary, "summary")
            return withBytes(details) { macp_proposal_counter_propose(session.handle, id, sup, t, s, $0, $1, a, currentCall(), e) }
        }
    }

    @discardableResult
    public func accept(proposalId: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_proposal_accept(session.handle, try cs.s(proposalId, "proposal id"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    /// A `terminal` rejection makes the session eligible for a negative Commitment.
    @discardableResult
    public func reject(proposalId: String, terminal: Bool = false, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_proposal_reject(session.handle, try cs.s(proposalId, "proposal id"), terminal, try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    @discardableResult
    public func withdraw(proposalId: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_proposal_withdraw(session.handle, try cs.s(proposalId, "proposal id"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }
}

/// Task mode (`macp.mode.task.v1`).
public struct TaskMode: Sendable {
    public let session: Session

    /// Opens the session's task; `requestedAssignee` nil lets any eligible
    /// participant accept; `deadline` nil for none.
    @discardableResult
    public func request(taskId: String, title: String? = nil, instructions: String? = nil,
                        requestedAssignee: String? = nil, input: Data? = nil, deadline: Date? = nil) async throws -> Ack {
        let deadlineMs = deadline.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? 0
        return try await session.ack { cs, a, e in
            let id = try cs.s(taskId, "task id"), t = try cs.opt(title, "title"), i = try cs.opt(instructions, "instructions")
            let r = try cs.opt(requestedAssignee, "requested assignee")
            return withBytes(input) { macp_task_request(session.handle, id, t, i, r, $0, $1, deadlineMs, a, currentCall(), e) }
        }
    }

    @discardableResult
    public func accept(taskId: String, assignee: String? = nil, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_task_accept(session.handle, try cs.s(taskId, "task id"), try cs.opt(assignee, "assignee"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    @discardableResult
    public func reject(taskId: String, assignee: String? = nil, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_task_reject(session.handle, try cs.s(taskId, "task id"), try cs.opt(assignee, "assignee"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    /// Reports progress as a fraction in [0, 1].
    @discardableResult
    public func update(taskId: String, status: String? = nil, progress: Double, message: String? = nil,
                       partialOutput: Data? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(taskId, "task id"), s = try cs.opt(status, "status"), m = try cs.opt(message, "message")
            return withBytes(partialOutput) { macp_task_update(session.handle, id, s, progress, m, $0, $1, a, currentCall(), e) }
        }
    }

    @discardableResult
    public func complete(taskId: String, assignee: String? = nil, output: Data? = nil, summary: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(taskId, "task id"), who = try cs.opt(assignee, "assignee"), s = try cs.opt(summary, "summary")
            return withBytes(output) { macp_task_complete(session.handle, id, who, $0, $1, s, a, currentCall(), e) }
        }
    }

    @discardableResult
    public func fail(taskId: String, assignee: String? = nil, errorCode: String? = nil, reason: String? = nil,
                     retryable: Bool = false, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_task_fail(session.handle, try cs.s(taskId, "task id"), try cs.opt(assignee, "assignee"),
                           try cs.opt(errorCode, "error code"), try cs.opt(reason, "reason"), retryable, a, currentCall(), e)
        }
    }
}

/// Handoff mode (`macp.mode.handoff.v1`).
public struct HandoffMode: Sendable {
    public let session: Session

    @discardableResult
    public func offer(handoffId: String, to target: String, scope: String? = nil, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_handoff_offer(session.handle, try cs.s(handoffId, "handoff id"), try cs.s(target, "target participant"),
                               try cs.opt(scope, "scope"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    /// Attaches context of media type `contentType` to an offer.
    @discardableResult
    public func context(handoffId: String, contentType: String? = nil, data: Data? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(handoffId, "handoff id"), t = try cs.opt(contentType, "content type")
            return withBytes(data) { macp_handoff_context(session.handle, id, t, $0, $1, a, currentCall(), e) }
        }
    }

    @discardableResult
    public func accept(handoffId: String, acceptedBy: String? = nil, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_handoff_accept(session.handle, try cs.s(handoffId, "handoff id"), try cs.opt(acceptedBy, "accepted by"),
                                try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    @discardableResult
    public func decline(handoffId: String, declinedBy: String? = nil, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_handoff_decline(session.handle, try cs.s(handoffId, "handoff id"), try cs.opt(declinedBy, "declined by"),
                                 try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }
}

/// Quorum mode (`macp.mode.quorum.v1`).
public struct QuorumMode: Sendable {
    public let session: Session

    /// Opens the session's one approval request.
    @discardableResult
    public func requestApproval(requestId: String, action: String? = nil, summary: String? = nil, details: Data? = nil,
                                requiredApprovals: UInt32, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            let id = try cs.s(requestId, "request id"), act = try cs.opt(action, "action"), s = try cs.opt(summary, "summary")
            return withBytes(details) { macp_quorum_request_approval(session.handle, id, act, s, $0, $1, requiredApprovals, a, currentCall(), e) }
        }
    }

    @discardableResult
    public func approve(requestId: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_quorum_approve(session.handle, try cs.s(requestId, "request id"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    @discardableResult
    public func reject(requestId: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_quorum_reject(session.handle, try cs.s(requestId, "request id"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }

    @discardableResult
    public func abstain(requestId: String, reason: String? = nil, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in
            macp_quorum_abstain(session.handle, try cs.s(requestId, "request id"), try cs.opt(reason, "reason"), a, currentCall(), e)
        }
    }
}

/// The multi-round extension mode (`ext.multi_round.v1`).
public struct MultiRoundMode: Sendable {
    public let session: Session

    /// Contributes `value`; a participant's latest value counts.
    @discardableResult
    public func contribute(_ value: String, messageId: String? = nil) async throws -> Ack {
        try await session.ack(messageId: messageId) { cs, a, e in macp_multi_round_contribute(session.handle, try cs.s(value, "value"), a, currentCall(), e) }
    }
}

import Foundation
@testable import Macp
import XCTest

/// One accepted message as the session's history must show it: its type,
/// sender, and payload fields (protobuf JSON, `.proto` names, bytes base64)
/// each helper argument must have landed in.
struct Step {
    let messageType: String
    let sender: String
    let fields: [String: JSONValue]
    init(_ t: String, _ s: String, _ f: [String: JSONValue]) { messageType = t; sender = s; fields = f }
}

/// Every mode's helpers, from start to Commitment, each helper's fields
/// checked in the accepted history and in the typed projection.
final class ModesTests: XCTestCase {
    var runtime: TestRuntime!

    override func setUp() async throws { runtime = try TestRuntime() }
    override func tearDown() async throws { runtime = nil }

    /// Starts a session of `mode` as the first identity with all of them as
    /// participants, and opens it as each of the others.
    func start(_ mode: String, _ ids: [String]) async throws -> [Session] {
        let lead = try await runtime.client(ids[0])
        let (s, ack) = try await lead.startSession(mode: mode, StartOptions(participants: ids, ttl: .seconds(60),
                                                                            intent: "swift test"))
        XCTAssertEqual(ack.state, .open)
        XCTAssertEqual(ack.sessionId, s.id)
        var out = [s]
        for id in ids.dropFirst() { out.append(try await runtime.client(id).openSession(s.id)) }
        return out
    }

    /// Checks the history is SessionStart then exactly `steps`, and returns its projection.
    func checkHistory(_ s: Session, _ steps: [Step], file: StaticString = #filePath, line: UInt = #line) async throws -> Projection {
        let envs = try await history(s, count: steps.count + 1)
        XCTAssertEqual(envs.first?.messageType, "SessionStart", file: file, line: line)
        for (i, want) in steps.enumerated() {
            let e = envs[i + 1]
            XCTAssertEqual(e.messageType, want.messageType, "history[\(i + 1)]", file: file, line: line)
            XCTAssertEqual(e.sender, want.sender, "history[\(i + 1)] \(e.messageType)", file: file, line: line)
            XCTAssertEqual(e.sessionId, s.id, file: file, line: line)
            let payload = try e.payloadJSON()
            for (k, v) in want.fields {
                XCTAssertEqual(payload[k], v, "history[\(i + 1)] \(e.messageType).\(k) in \(payload)", file: file, line: line)
            }
        }
        return try project(s.mode, envs)
    }

    func commit(_ s: Session, _ action: String, positive: Bool = true) async throws {
        let ack = try await s.commit(Commitment(action: action, outcomePositive: positive, authorityScope: "test", reason: "done"))
        XCTAssertEqual(ack.state, .resolved)
        let info = try await s.info()
        XCTAssertEqual(info.state, .resolved)
    }

    func checkCommitment(_ base: ProjectionBase, _ action: String, by sender: String, positive: Bool = true,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(base.phase, "Committed", file: file, line: line)
        XCTAssertEqual(base.commitment?.action, action, file: file, line: line)
        XCTAssertEqual(base.commitment?.sender, sender, file: file, line: line)
        XCTAssertEqual(base.commitment?.outcomePositive, positive, file: file, line: line)
        XCTAssertEqual(base.commitment?.authorityScope, "test", file: file, line: line)
        XCTAssertEqual(base.anomalies, [], file: file, line: line)
    }

    func testDecision() async throws {
        let ss = try await start(Mode.decision, ["sw-d-lead", "sw-d-alice", "sw-d-bob"])
        let (lead, alice, bob) = (ss[0].decision, ss[1].decision, ss[2].decision)
        try await lead.propose(proposalId: "p1", option: "deploy", rationale: "tests pass", supportingData: Data("ci".utf8))
        try await alice.evaluate(proposalId: "p1", recommendation: "APPROVE", confidence: 0.75, reason: "fine")
        try await bob.object(proposalId: "p1", severity: "low", reason: "friday")
        try await alice.vote(proposalId: "p1", vote: "APPROVE", reason: "ship it")
        try await bob.vote(proposalId: "p1", vote: "REJECT")
        try await lead.vote(proposalId: "p1", vote: "APPROVE")
        try await lead.commit(action: "decision.selected", authorityScope: "test", reason: "majority", outcomePositive: true)
        let seen = try await ss[1].info()
        XCTAssertEqual(seen.state, .resolved)

        let p = try await checkHistory(ss[1], [
            Step("Proposal", "sw-d-lead", ["proposal_id": "p1", "option": "deploy", "rationale": "tests pass", "supporting_data": "Y2k="]),
            Step("Evaluation", "sw-d-alice", ["proposal_id": "p1", "recommendation": "APPROVE", "confidence": 0.75, "reason": "fine"]),
            Step("Objection", "sw-d-bob", ["proposal_id": "p1", "reason": "friday", "severity": "low"]),
            Step("Vote", "sw-d-alice", ["proposal_id": "p1", "vote": "APPROVE", "reason": "ship it"]),
            Step("Vote", "sw-d-bob", ["proposal_id": "p1", "vote": "REJECT", "reason": ""]),
            Step("Vote", "sw-d-lead", ["proposal_id": "p1", "vote": "APPROVE"]),
            Step("Commitment", "sw-d-lead", ["action": "decision.selected", "authority_scope": "test", "reason": "majority",
                                             "outcome_positive": true, "mode_version": "1.0.0"]),
        ])
        let state = try p.state(as: DecisionState.self)
        checkCommitment(state.base, "decision.selected", by: "sw-d-lead")
        XCTAssertEqual(state.base.participants, ["sw-d-lead", "sw-d-alice", "sw-d-bob"])
        XCTAssertEqual(state.base.applied, 8)
        XCTAssertEqual(state.proposals["p1"], .init(proposalId: "p1", option: "deploy", rationale: "tests pass", sender: "sw-d-lead"))
        XCTAssertEqual(state.evaluations.map(\.confidence), [0.75])
        XCTAssertEqual(state.objections.map(\.severity), ["low"])
        XCTAssertEqual(state.votes["p1"]?["sw-d-alice"], Ballot(vote: "APPROVE", reason: "ship it"))
        XCTAssertEqual(state.tallies["p1"], Tally(approve: 2, reject: 1, abstain: 0))
        XCTAssertEqual(try p.decisionTally(proposalId: "p1"), Tally(approve: 2, reject: 1, abstain: 0))
    }

    func testProposal() async throws {
        let ss = try await start(Mode.proposal, ["sw-p-buyer", "sw-p-seller", "sw-p-carol"])
        let (buyer, seller, carol) = (ss[0].proposal, ss[1].proposal, ss[2].proposal)
        try await seller.propose(proposalId: "p1", title: "offer", summary: "100 units", details: Data("d".utf8), tags: ["bulk", "q4"])
        try await buyer.counterPropose(proposalId: "p2", supersedes: "p1", title: "counter", summary: "90 units", details: Data("e".utf8))
        try await seller.reject(proposalId: "p2", terminal: false, reason: "too low")
        try await seller.propose(proposalId: "p3", title: "alt")
        await assertThrows(.forbidden) { try await buyer.withdraw(proposalId: "p3") }
        try await seller.withdraw(proposalId: "p3", reason: "never mind")
        try await seller.accept(proposalId: "p1", reason: "mine")
        try await carol.accept(proposalId: "p1", reason: "ok")
        try await buyer.accept(proposalId: "p1", reason: "fine")
        try await commit(ss[0], "proposal.accepted")

        let p = try await checkHistory(ss[0], [
            Step("Proposal", "sw-p-seller", ["proposal_id": "p1", "title": "offer", "summary": "100 units", "details": "ZA==", "tags": ["bulk", "q4"]]),
            Step("CounterProposal", "sw-p-buyer", ["proposal_id": "p2", "supersedes_proposal_id": "p1", "title": "counter", "details": "ZQ=="]),
            Step("Reject", "sw-p-seller", ["proposal_id": "p2", "terminal": false, "reason": "too low"]),
            Step("Proposal", "sw-p-seller", ["proposal_id": "p3", "title": "alt", "summary": "", "tags": []]),
            Step("Withdraw", "sw-p-seller", ["proposal_id": "p3", "reason": "never mind"]),
            Step("Accept", "sw-p-seller", ["proposal_id": "p1", "reason": "mine"]),
            Step("Accept", "sw-p-carol", ["proposal_id": "p1", "reason": "ok"]),
            Step("Accept", "sw-p-buyer", ["proposal_id": "p1", "reason": "fine"]),
            Step("Commitment", "sw-p-buyer", ["action": "proposal.accepted", "outcome_positive": true]),
        ])
        let state = try p.state(as: ProposalState.self)
        checkCommitment(state.base, "proposal.accepted", by: "sw-p-buyer")
        XCTAssertEqual(state.agreedProposal, "p1")
        XCTAssertEqual(state.proposals["p1"]?.proposer, "sw-p-seller")
        XCTAssertEqual(state.proposals["p1"]?.tags, ["bulk", "q4"])
        XCTAssertEqual(state.proposals["p1"]?.disposition, "Live")
        XCTAssertEqual(state.proposals["p2"]?.supersedesProposalId, "p1")
        XCTAssertEqual(state.proposals["p3"]?.disposition, "Withdrawn")
        XCTAssertEqual(state.accepts, ["sw-p-seller": "p1", "sw-p-carol": "p1", "sw-p-buyer": "p1"])
        XCTAssertEqual(state.rejections.map(\.sender), ["sw-p-seller"])
    }

    func testTask() async throws {
        let ss = try await start(Mode.task, ["sw-t-planner", "sw-t-worker", "sw-t-carol"])
        let (planner, worker, carol) = (ss[0].task, ss[1].task, ss[2].task)
        let deadline = Date(timeIntervalSince1970: 4_102_444_800)
        try await planner.request(taskId: "t1", title: "build", instructions: "compile it", input: Data("src".utf8), deadline: deadline)
        try await carol.reject(taskId: "t1", assignee: "sw-t-carol", reason: "busy")
        try await worker.accept(taskId: "t1", assignee: "sw-t-worker", reason: "on it")
        await assertThrows(.invalidArgument) { try await worker.update(taskId: "t1", status: "working", progress: 1.5) }
        try await worker.update(taskId: "t1", status: "compiling", progress: 0.5, message: "half", partialOutput: Data("log".utf8))
        try await worker.complete(taskId: "t1", assignee: "sw-t-worker", output: Data("bin".utf8), summary: "built")
        try await commit(ss[0], "task.completed")

        let p = try await checkHistory(ss[1], [
            Step("TaskRequest", "sw-t-planner", ["task_id": "t1", "title": "build", "instructions": "compile it", "requested_assignee": "",
                                                 "input": "c3Jj", "deadline_unix_ms": 4_102_444_800_000]),
            Step("TaskReject", "sw-t-carol", ["task_id": "t1", "assignee": "sw-t-carol", "reason": "busy"]),
            Step("TaskAccept", "sw-t-worker", ["task_id": "t1", "assignee": "sw-t-worker", "reason": "on it"]),
            Step("TaskUpdate", "sw-t-worker", ["task_id": "t1", "status": "compiling", "progress": 0.5, "message": "half", "partial_output": "bG9n"]),
            Step("TaskComplete", "sw-t-worker", ["task_id": "t1", "assignee": "sw-t-worker", "output": "Ymlu", "summary": "built"]),
            Step("Commitment", "sw-t-planner", ["action": "task.completed", "outcome_positive": true]),
        ])
        let state = try p.state(as: TaskState.self)
        checkCommitment(state.base, "task.completed", by: "sw-t-planner")
        XCTAssertEqual(state.activeAssignee, "sw-t-worker")
        XCTAssertEqual(state.tasks["t1"]?.status, "completed")
        XCTAssertEqual(state.tasks["t1"]?.requester, "sw-t-planner")
        XCTAssertEqual(state.tasks["t1"]?.deadlineUnixMs, 4_102_444_800_000)
        XCTAssertEqual(state.updates.map(\.progress), [0.5])
        XCTAssertEqual(state.rejections.map(\.assignee), ["sw-t-carol"])
        XCTAssertEqual(state.reports.map(\.outcome), ["completed"])
        XCTAssertEqual(state.reports.map(\.summary), ["built"])
    }

    func testTaskFailure() async throws {
        let ss = try await start(Mode.task, ["sw-tf-planner", "sw-tf-worker"])
        try await ss[0].task.request(taskId: "t1", title: "build", requestedAssignee: "sw-tf-worker")
        try await ss[1].task.accept(taskId: "t1", assignee: "sw-tf-worker")
        try await ss[1].task.fail(taskId: "t1", assignee: "sw-tf-worker", errorCode: "BUILD_FAILED", reason: "compile error", retryable: true)
        try await commit(ss[0], "task.failed", positive: false)
        let p = try await checkHistory(ss[0], [
            Step("TaskRequest", "sw-tf-planner", ["task_id": "t1", "requested_assignee": "sw-tf-worker"]),
            Step("TaskAccept", "sw-tf-worker", ["task_id": "t1", "assignee": "sw-tf-worker"]),
            Step("TaskFail", "sw-tf-worker", ["task_id": "t1", "error_code": "BUILD_FAILED", "reason": "compile error", "retryable": true]),
            Step("Commitment", "sw-tf-planner", ["action": "task.failed", "outcome_positive": false]),
        ])
        let state = try p.state(as: TaskState.self)
        checkCommitment(state.base, "task.failed", by: "sw-tf-planner", positive: false)
        XCTAssertEqual(state.tasks["t1"]?.status, "failed")
        XCTAssertEqual(state.reports.map(\.errorCode), ["BUILD_FAILED"])
        XCTAssertEqual(state.reports.map(\.retryable), [true])
    }

    func testHandoff() async throws {
        let ss = try await start(Mode.handoff, ["sw-h-owner", "sw-h-t1", "sw-h-t2"])
        let (owner, t1, t2) = (ss[0].handoff, ss[1].handoff, ss[2].handoff)
        try await owner.offer(handoffId: "h1", to: "sw-h-t1", scope: "support", reason: "escalate")
        try await owner.context(handoffId: "h1", contentType: "text/plain", data: Data("ticket 42".utf8))
        try await t1.decline(handoffId: "h1", declinedBy: "sw-h-t1", reason: "at capacity")
        try await owner.offer(handoffId: "h2", to: "sw-h-t2", scope: "support")
        do {
            try await t1.accept(handoffId: "h2")
            XCTFail("a participant accepted an offer made to another")
        } catch is MacpError {}
        try await t2.accept(handoffId: "h2", acceptedBy: "sw-h-t2", reason: "ready")
        try await commit(ss[0], "handoff.accepted")
        let p = try await checkHistory(ss[2], [
            Step("HandoffOffer", "sw-h-owner", ["handoff_id": "h1", "target_participant": "sw-h-t1", "scope": "support", "reason": "escalate"]),
            Step("HandoffContext", "sw-h-owner", ["handoff_id": "h1", "content_type": "text/plain", "context": "dGlja2V0IDQy"]),
            Step("HandoffDecline", "sw-h-t1", ["handoff_id": "h1", "declined_by": "sw-h-t1", "reason": "at capacity"]),
            Step("HandoffOffer", "sw-h-owner", ["handoff_id": "h2", "target_participant": "sw-h-t2", "reason": ""]),
            Step("HandoffAccept", "sw-h-t2", ["handoff_id": "h2", "accepted_by": "sw-h-t2", "reason": "ready"]),
            Step("Commitment", "sw-h-owner", ["action": "handoff.accepted"]),
        ])
        let state = try p.state(as: HandoffState.self)
        checkCommitment(state.base, "handoff.accepted", by: "sw-h-owner")
        XCTAssertEqual(state.offers["h1"]?.disposition, "Declined")
        XCTAssertEqual(state.offers["h1"]?.settledBy, "sw-h-t1")
        XCTAssertEqual(state.offers["h1"]?.contexts, [.init(contentType: "text/plain", size: 9, sender: "sw-h-owner")])
        XCTAssertEqual(state.offers["h2"]?.disposition, "Accepted")
        XCTAssertEqual(state.offers["h2"]?.implicit, false)
    }

    func testQuorum() async throws {
        let ss = try await start(Mode.quorum, ["sw-q-lead", "sw-q-a", "sw-q-b", "sw-q-c"])
        try await ss[0].quorum.requestApproval(requestId: "r1", action: "release", summary: "v2", details: Data("x".utf8), requiredApprovals: 2)
        try await ss[1].quorum.approve(requestId: "r1", reason: "yes")
        try await ss[2].quorum.abstain(requestId: "r1", reason: "no opinion")
        try await ss[3].quorum.reject(requestId: "r1", reason: "no")
        try await ss[0].quorum.approve(requestId: "r1")
        try await commit(ss[0], "quorum.approved")
        let p = try await checkHistory(ss[3], [
            Step("ApprovalRequest", "sw-q-lead", ["request_id": "r1", "action": "release", "summary": "v2", "details": "eA==", "required_approvals": 2]),
            Step("Approve", "sw-q-a", ["request_id": "r1", "reason": "yes"]),
            Step("Abstain", "sw-q-b", ["request_id": "r1", "reason": "no opinion"]),
            Step("Reject", "sw-q-c", ["request_id": "r1", "reason": "no"]),
            Step("Approve", "sw-q-lead", ["request_id": "r1"]),
            Step("Commitment", "sw-q-lead", ["action": "quorum.approved"]),
        ])
        let state = try p.state(as: QuorumState.self)
        checkCommitment(state.base, "quorum.approved", by: "sw-q-lead")
        XCTAssertEqual(state.requests["r1"]?.requiredApprovals, 2)
        XCTAssertEqual(state.requests["r1"]?.requestedBy, "sw-q-lead")
        XCTAssertEqual(state.ballots["r1"]?["sw-q-b"]?.vote, "abstain")
        XCTAssertEqual(state.tallies["r1"]?.approve, 2)
        XCTAssertEqual(state.tallies["r1"]?.reached, true)
        let t = try p.quorumTally(requestId: "r1")
        XCTAssertEqual([t.approve, t.reject, t.abstain, t.required], [2, 1, 1, 2])
        XCTAssertTrue(t.reached)
    }

    func testMultiRound() async throws {
        let ss = try await start(Mode.multiRound, ["sw-m-coord", "sw-m-alice", "sw-m-bob"])
        let (coord, alice, bob) = (ss[0].multiRound, ss[1].multiRound, ss[2].multiRound)
        await assertThrows(.invalidArgument) { try await alice.contribute("") }
        try await alice.contribute("option_a")
        try await bob.contribute("option_b")
        try await bob.contribute("option_a")
        try await coord.contribute("option_a")
        try await commit(ss[0], "multi_round.converged")
        let p = try await checkHistory(ss[0], [
            Step("Contribute", "sw-m-alice", ["value": "option_a"]),
            Step("Contribute", "sw-m-bob", ["value": "option_b"]),
            Step("Contribute", "sw-m-bob", ["value": "option_a"]),
            Step("Contribute", "sw-m-coord", ["value": "option_a"]),
            Step("Commitment", "sw-m-coord", ["action": "multi_round.converged"]),
        ])
        let state = try p.state(as: MultiRoundState.self)
        checkCommitment(state.base, "multi_round.converged", by: "sw-m-coord")
        XCTAssertTrue(state.converged)
        XCTAssertEqual(state.rounds, 4)
        XCTAssertEqual(state.contributions, ["sw-m-coord": "option_a", "sw-m-alice": "option_a", "sw-m-bob": "option_a"])
    }
}

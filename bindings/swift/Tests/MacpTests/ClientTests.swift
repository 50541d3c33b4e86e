import Foundation
@testable import Macp
import XCTest

final class ClientTests: XCTestCase {
    var runtime: TestRuntime!
    override func setUp() async throws { runtime = try TestRuntime() }
    override func tearDown() async throws { runtime = nil }

    func testDiscoveryAndRegistries() async throws {
        let c = try await runtime.client("sw-c-admin")
        XCTAssertEqual(c.protocolVersion, "1.0")
        let initialize = try c.initialize()
        XCTAssertEqual(initialize.selectedProtocolVersion, "1.0")
        XCTAssertTrue(initialize.supportedModes.contains(Mode.decision))
        let modes = try await c.listModes()
        XCTAssertTrue(modes.contains { $0.mode == Mode.decision && $0.messageTypes?.contains("Vote") == true })
        let ext = try await c.listExtModes()
        XCTAssertTrue(ext.contains { $0.mode == Mode.multiRound })
        _ = try await c.listRoots()
        let manifest = try await c.getManifest()
        XCTAssertNotNil(manifest.objectValue)

        let policy = Policy(policyId: "policy.swift.test", mode: Mode.decision, description: "from swift", schemaVersion: 1,
                            rules: ["voting": ["algorithm": "majority"]])
        try await c.registerPolicy(policy)
        let back = try await c.getPolicy("policy.swift.test")
        XCTAssertEqual(back.mode, Mode.decision)
        XCTAssertEqual(back.description, "from swift")
        XCTAssertNotNil(back.registeredAtUnixMs)
        let listed = try await c.listPolicies(mode: Mode.decision)
        XCTAssertTrue(listed.contains { $0.policyId == "policy.swift.test" })
        try await c.unregisterPolicy("policy.swift.test")
        await assertThrows(.unknownPolicyVersion) { try await c.getPolicy("policy.swift.test") }
    }

    func testSessionsListSuspendResumeCancel() async throws {
        let c = try await runtime.client("sw-c-lead")
        let opts = StartOptions(participants: ["sw-c-lead", "sw-c-other"], ttl: .seconds(120), intent: "listing",
                                contextId: "ctx-1", extensions: ["ext.swift.test": Data("v".utf8)])
        let (s, _) = try await c.startSession(mode: Mode.decision, opts)
        let info = try await s.info()
        XCTAssertEqual(info.initiator, "sw-c-lead")
        XCTAssertEqual(info.participants, ["sw-c-lead", "sw-c-other"])
        XCTAssertEqual(info.contextId, "ctx-1")
        XCTAssertEqual(info.extensionKeys, ["ext.swift.test"])
        XCTAssertEqual(info.modeVersion, "1.0.0")
        XCTAssertGreaterThan(info.expiresAt, info.startedAt)
        let all = try await c.listAllSessions()
        XCTAssertTrue(all.contains { $0.sessionId == s.id })
        let page = try await c.listSessions(pageSize: 10)
        XCTAssertTrue(page.sessions.contains { $0.sessionId == s.id })
        let suspended = try await s.suspend(reason: "pause")
        XCTAssertEqual(suspended.state, .suspended)
        let resumed = try await s.resume(reason: "go")
        XCTAssertEqual(resumed.state, .open)
        let cancelled = try await c.cancelSession(s.id, reason: "done")
        XCTAssertEqual(cancelled.state, .cancelled)
        let after = try await c.getSession(s.id)
        XCTAssertEqual(after.state, .cancelled)
    }

    /// Commitment hash and verification, receipt and its verification, and
    /// what-if replay of the resolved session.
    func testCommitmentReceiptAndWhatIf() async throws {
        let c = try await runtime.client("sw-c-commit")
        let (s, _) = try await c.startSession(mode: Mode.decision, StartOptions(participants: ["sw-c-commit"]))
        try await s.decision.propose(proposalId: "p1", option: "ship")
        try await s.decision.vote(proposalId: "p1", vote: "APPROVE")
        let commitment = Commitment(action: "decision.selected", outcomePositive: true, commitmentId: "c-1",
                                    authorityScope: "team", reason: "agreed")
        try await s.commit(commitment)
        let info = try await s.info()
        let hash = try commitment.hash(modeVersion: info.modeVersion, policyVersion: info.policyVersion,
                                       configurationVersion: info.configurationVersion)
        XCTAssertTrue(Commitment.isCanonicalHash(hash))
        // The committed envelope's payload hashes the same, and verifies.
        let envs = try await history(s, count: 4)
        let wire = envs[3].payload
        XCTAssertEqual(envs[3].messageType, "Commitment")
        XCTAssertEqual(try Commitment.hash(wire: wire), hash)
        XCTAssertEqual(try Commitment.verify(wire: wire, claimedHash: hash).outcome, .match)
        XCTAssertEqual(try Commitment.verify(wire: wire, claimedHash: hash.uppercased()).outcome, .mismatch)

        let receipt = try await c.getDecisionReceipt(sessionId: s.id)
        let keys = try await c.getReceiptKeys()
        let v = try verifyReceipt(receipt, trustedKeys: [keys])
        XCTAssertEqual(v.integrity, .match)
        XCTAssertNotEqual(v.verdict, .unverified)
        XCTAssertEqual(try verifyReceipt(receipt).verdict == .attested, false)

        let replay = try await c.whatIfReplay(sessionId: s.id, candidate: Policy(
            policyId: "policy.swift.whatif", mode: Mode.decision, schemaVersion: 1, rules: ["voting": ["algorithm": "unanimous"]]))
        XCTAssertNotEqual(replay.recorded, .null)
    }

    func testPayloadJSONRoundTrip() throws {
        let type = try Payload.type(mode: Mode.decision, messageType: "Vote")
        XCTAssertEqual(type, "macp.modes.decision.v1.VotePayload")
        let bytes = try Payload.encode(typeName: type, json: #"{"proposal_id":"p1","vote":"APPROVE","reason":"r"}"#)
        let back = try Payload.json(typeName: type, data: bytes)
        XCTAssertEqual(back["proposal_id"], "p1")
        XCTAssertEqual(back["vote"], "APPROVE")
        XCTAssertFalse(libraryVersion.isEmpty)
        XCTAssertEqual(Status.sessionNotFound.name, "SESSION_NOT_FOUND")
        XCTAssertTrue(Status.timeout.isTransient)
    }
}

import Foundation
@testable import Macp
import XCTest

/// Registry codes the runtime produces map to the matching `MacpError`;
/// bad input is refused locally, without a crash.
final class ErrorTests: XCTestCase {
    var runtime: TestRuntime!
    override func setUp() async throws { runtime = try TestRuntime() }
    override func tearDown() async throws { runtime = nil }

    func testRegistryCodes() async throws {
        let lead = try await runtime.client("sw-e-lead")
        let other = try await runtime.client("sw-e-other")
        let sid = try newId()

        await assertThrows(.sessionNotFound) { try await lead.openSession(sid) }
        await assertThrows(.sessionNotFound) { try await lead.getSession(sid) }

        let (s, _) = try await lead.startSession(mode: Mode.decision,
                                                 StartOptions(participants: ["sw-e-lead", "sw-e-other"], sessionId: sid))
        await assertThrows(.sessionAlreadyExists) {
            try await lead.startSession(mode: Mode.decision, StartOptions(participants: ["sw-e-lead"], sessionId: sid))
        }
        await assertThrows(.modeNotSupported) {
            try await lead.startSession(mode: "macp.mode.nonexistent.v1", StartOptions(participants: ["sw-e-lead"]))
        }
        await assertThrows(.unknownPolicyVersion) {
            try await lead.startSession(mode: Mode.decision, StartOptions(participants: ["sw-e-lead"], policyVersion: "policy.nonexistent"))
        }
        // Only the initiator may cancel.
        let theirs = try await other.openSession(sid)
        await assertThrows(.forbidden) { try await theirs.cancel(reason: "not mine") }
        // A receipt exists only once the session is resolved.
        await assertThrows(.receiptUnavailable) { try await lead.getDecisionReceipt(sessionId: sid) }
        // The credential says sw-e-lead; the client expects to be someone else.
        var opts = ClientOptions(target: runtime.target, bearerToken: "sw-e-lead", allowInsecure: true)
        opts.expectedSender = "sw-e-impostor"
        let impostor = try await Client(opts)
        let mine = try await impostor.openSession(sid)
        await assertThrows(.unauthenticated) { try await mine.decision.propose(proposalId: "p1", option: "x") }
        // A malformed session id is refused before anything is sent.
        await assertThrows(.invalidSessionId) {
            try await lead.startSession(mode: Mode.decision, StartOptions(participants: ["sw-e-lead"], sessionId: "not a session id"))
        }
        // Resolved sessions take no more messages.
        try await s.decision.propose(proposalId: "p1", option: "x")
        try await s.decision.vote(proposalId: "p1", vote: "APPROVE")
        try await s.decision.commit(action: "decision.selected", authorityScope: "test", reason: "done")
        await assertThrows(.sessionNotOpen) { try await s.decision.propose(proposalId: "p2", option: "late") }
        await assertThrows(.invalidPolicyDefinition) {
            try await lead.registerPolicy(Policy(policyId: "policy.swift.bad", mode: Mode.decision, rules: ["voting": ["algorithm": 42]]))
        }
        // The error carries the message id a failed send used.
        do {
            try await s.sendJSON("Proposal", payloadJSON: #"{"proposal_id":"p3","option":"y"}"#, messageId: "sw-e-fixed-id")
            XCTFail("sent to a resolved session")
        } catch let e as MacpError {
            XCTAssertEqual(e.status, .sessionNotOpen)
            XCTAssertEqual(e.messageId, "sw-e-fixed-id")
            XCTAssertEqual(e.sessionId, sid)
            XCTAssertFalse(e.message.isEmpty)
        }
    }

    func testTransportFailure() async throws {
        let port = try TestRuntime.freePort()
        var o = ClientOptions(target: "127.0.0.1:\(port)", allowInsecure: true)
        o.connectTimeout = .seconds(2)
        await assertThrows(.transport) { try await Client(o) }
        // Plaintext is refused unless allowed.
        await assertThrows(.invalidArgument) { try await Client(ClientOptions(target: "http://127.0.0.1:\(port)")) }
    }

    /// Cancelling the task cancels the C call itself: a connect to a server
    /// that accepts and never answers ends at once with `.cancelled` (it
    /// used to run on to the connect timeout).
    func testCancellingTheTaskCancelsTheCall() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = TestRuntime.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 && listen(fd, 4) == 0
            }
        }
        XCTAssertTrue(listening)
        let port = UInt16(bigEndian: addr.sin_port)
        let accepted = AsyncStream<Int32> { cont in
            Thread {
                cont.yield(accept(fd, nil, nil))
                cont.finish()
            }.start()
        }
        var o = ClientOptions(target: "127.0.0.1:\(port)", allowInsecure: true)
        o.connectTimeout = .seconds(600)
        let connecting = Task { try await Client(o) }
        var it = accepted.makeAsyncIterator()
        let conn = await it.next() ?? -1
        defer { if conn >= 0 { close(conn) } }
        connecting.cancel()
        try await within(60) {
            await assertThrows(.cancelled) { try await connecting.value }
        }
    }

    func testBadInputIsRefusedWithoutACrash() async throws {
        let c = try await runtime.client("sw-e-input")
        let (s, _) = try await c.startSession(mode: Mode.decision, StartOptions(participants: ["sw-e-input"]))
        await assertThrows(.invalidArgument) { try await c.openSession("") }
        await assertThrows(.invalidArgument) { try await c.getSession("") }
        await assertThrows(.invalidArgument) { try await c.openSession("abc\0def") }
        await assertThrows(.invalidArgument) { try await s.decision.propose(proposalId: "", option: "x") }
        await assertThrows(.invalidArgument) { try await s.decision.propose(proposalId: "p\0", option: "x") }
        await assertThrows(.invalidArgument) { try await s.decision.vote(proposalId: "p1", vote: "APPROVE", reason: "a\0b") }
        await assertThrows(.invalidArgument) { try await s.decision.evaluate(proposalId: "p1", recommendation: "APPROVE", confidence: .nan) }
        await assertThrows(.invalidArgument) { try await s.send("") }
        await assertThrows(.invalidArgument) { try await s.sendAsync("") }
        await assertThrows(.invalidArgument) { try await s.sendAsync("Progress", messageId: "x\0") }
        await assertThrows(.invalidArgument) { try await s.sendJSON("Vote", payloadJSON: "{not json") }
        await assertThrows(.invalidArgument) { try await s.progress(-1) }
        await assertThrows(.invalidArgument) {
            try await c.startSession(mode: Mode.decision, StartOptions(participants: ["sw-e-input"], ttl: .zero))
        }
        await assertThrows(.invalidArgument) { try await Client(ClientOptions(target: "")) }
        await assertThrows(.invalidArgument) { try Projection(mode: "") }
        await assertThrows(.invalidArgument) { try Projection(mode: Mode.decision).apply(Data([0xff, 0xff, 0xff])) }
        await assertThrows(.invalidArgument) { try Payload.type(mode: Mode.decision, messageType: "NoSuchMessage") }
        await assertThrows(.invalidArgument) { try Commitment.hash(wire: Data([0xff])) }
        await assertThrows(.invalidArgument) { try verifyReceipt("not json") }
        XCTAssertFalse(Commitment.isCanonicalHash("sha256:\0"))
        // The session is untouched by all of that.
        let info = try await s.info()
        XCTAssertEqual(info.state, .open)
    }
}

import Foundation
@testable import Macp
import XCTest

final class OperationsTests: XCTestCase {
    var runtime: TestRuntime!
    override func setUp() async throws { runtime = try TestRuntime() }
    override func tearDown() async throws { runtime = nil }

    func testReplacedTokenIsTheIdentityOfLaterCalls() async throws {
        let coord = try await runtime.client("sw-op-coordinator")
        let (s, _) = try await coord.startSession(mode: Mode.decision,
                                                  StartOptions(participants: ["sw-op-alice", "sw-op-bob"], ttl: .seconds(120)))
        let c = try await runtime.client("sw-op-alice")
        let mine = try await c.openSession(s.id)
        _ = try await mine.decision.propose(proposalId: "p1", option: "x")
        try c.setBearerToken("sw-op-mallory")
        await assertThrows(.forbidden) { try await mine.decision.propose(proposalId: "p2", option: "x") }
        try c.setBearerToken("sw-op-bob")
        _ = try await mine.decision.propose(proposalId: "p3", option: "x")
        try c.clearBearerToken()
        await assertThrows(.unauthenticated) { try await mine.decision.propose(proposalId: "p4", option: "x") }
        XCTAssertThrowsError(try c.setBearerToken("two words"))
    }

    func testTraceContextIsChecked() async throws {
        let c = try await runtime.client("sw-op-tracer")
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        try c.setTraceContext(traceparent: tp, tracestate: "vendor=1")
        let (s, _) = try await c.startSession(mode: Mode.decision, StartOptions(participants: ["sw-op-bob"], ttl: .seconds(60)))
        try s.setTraceContext(traceparent: tp)
        _ = try await s.info()
        XCTAssertThrowsError(try c.setTraceContext(traceparent: tp.uppercased()))
        XCTAssertThrowsError(try s.setTraceContext(traceparent: "00-0-0-01"))
        try s.setTraceContext(traceparent: nil)
        try c.setTraceContext(traceparent: nil)
    }

    func testLogHandlerReceivesRecordsWithoutSecrets() async throws {
        final class Lines: @unchecked Sendable {
            let lock = NSLock()
            var lines: [String] = []
            func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
            func all() -> [String] { lock.lock(); defer { lock.unlock() }; return lines }
        }
        let lines = Lines()
        try MacpLog.setHandler(level: .trace) { r in
            lines.add("\(r.level) \(r.target) \(r.message) " + r.fields.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        let c = try await runtime.client("sw-op-log")
        let (s, _) = try await c.startSession(mode: Mode.decision,
                                              StartOptions(participants: ["sw-op-log", "sw-op-bob"], ttl: .seconds(60)))
        _ = try await s.decision.propose(proposalId: "p1", option: "x", supportingData: Data("SW-PAYLOAD-MARK".utf8))
        try c.setBearerToken("tok-sw-secret")
        try MacpLog.setHandler(level: .trace, nil)
        let got = lines.all()
        XCTAssertTrue(got.contains { $0.hasPrefix("info macp::client connected") }, "\(got)")
        XCTAssertTrue(got.contains { $0.contains("message accepted") }, "\(got)")
        XCTAssertFalse(got.contains { $0.contains("SW-PAYLOAD-MARK") || $0.contains("tok-sw-secret") }, "\(got)")
        let before = lines.all().count
        _ = try await runtime.client("sw-op-quiet")
        XCTAssertEqual(lines.all().count, before)
    }

    func testClientCertificateNeedsPEMAndTLS() async throws {
        let cert = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)
        let key = Data("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n".utf8)
        var o = ClientOptions(target: runtime.target, bearerToken: "sw-op-tls", allowInsecure: true)
        o.clientCertificatePEM = key
        o.clientKeyPEM = key
        await assertThrows(.invalidArgument) { try await Client(o) }
        o.clientCertificatePEM = cert
        await assertThrows(.invalidArgument) { try await Client(o) } // plaintext target
    }
}

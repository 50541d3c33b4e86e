import Foundation
@testable import Macp
import XCTest

/// Many tasks sharing one client and one session.
final class ConcurrencyTests: XCTestCase {
    func testManyTasksShareOneClient() async throws {
        let rt = try TestRuntime()
        let c = try await rt.client("sw-k-lead")
        let (s, _) = try await c.startSession(mode: Mode.decision, StartOptions(participants: ["sw-k-lead"]))
        let n = 64
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<n {
                group.addTask {
                    // Half through the blocking queue, half through libmacp's async send.
                    if i % 2 == 0 { return try await s.decision.propose(proposalId: "p\(i)", option: "o\(i)").messageId }
                    let payload = try Payload.encode(typeName: "macp.modes.decision.v1.ProposalPayload",
                                                     json: #"{"proposal_id":"p\#(i)","option":"o\#(i)"}"#)
                    return try await s.sendAsync("Proposal", payload: payload).messageId
                }
            }
            var out: Set<String> = []
            for try await id in group { out.insert(id) }
            return out
        }
        XCTAssertEqual(ids.count, n)
        let envs = try await within(30) { try await history(s, count: n + 1) }
        XCTAssertEqual(Set(envs.dropFirst().map(\.messageId)), ids)
        let state = try project(Mode.decision, envs).state(as: DecisionState.self)
        XCTAssertEqual(state.proposals.count, n)
        XCTAssertEqual(state.proposals["p7"]?.option, "o7")

        // Sessions started concurrently on the same client, and read back.
        let started = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let (s, _) = try await c.startSession(mode: Mode.task, StartOptions(participants: ["sw-k-lead", "sw-k-worker"]))
                    let info = try await c.getSession(s.id)
                    XCTAssertEqual(info.mode, Mode.task)
                    return s.id
                }
            }
            var out: Set<String> = []
            for try await id in group { out.insert(id) }
            return out
        }
        XCTAssertEqual(started.count, 16)
    }

    /// Blocking calls do not hold Swift's cooperative pool (one thread per
    /// core): with more connects hanging on a silent listener than the pool
    /// has threads, an unrelated task still runs at once.
    func testBlockingCallsLeaveThePoolFree() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = TestRuntime.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        XCTAssertTrue(bound)
        XCTAssertEqual(listen(fd, 64), 0) // accepts into the backlog, never answers
        let port = UInt16(bigEndian: addr.sin_port)
        let hanging = ProcessInfo.processInfo.activeProcessorCount * 4
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Duration?.self) { group in
            for _ in 0..<hanging {
                group.addTask {
                    var o = ClientOptions(target: "127.0.0.1:\(port)", allowInsecure: true)
                    o.connectTimeout = .seconds(3)
                    await assertThrows(.timeout) { try await Client(o) }
                    return nil
                }
            }
            group.addTask {
                await Task.yield()
                return ContinuousClock.now - started
            }
            var unrelated: Duration?
            for try await d in group { if let d { unrelated = d } }
            let d = try XCTUnwrap(unrelated)
            XCTAssertLessThan(d, .seconds(1), "an unrelated task waited for blocking calls")
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(3))
    }
}

import Foundation
@testable import Macp
import XCTest

final class WatchTests: XCTestCase {
    func startDecision(_ rt: TestRuntime, _ lead: String) async throws -> Session {
        let c = try await rt.client(lead)
        return try await c.startSession(mode: Mode.decision, StartOptions(participants: [lead, "sw-w-other"])).0
    }

    /// Live envelopes arrive once each, in the order the runtime accepted
    /// them, with consecutive ordinals.
    func testOrderedDelivery() async throws {
        let rt = try TestRuntime()
        let s = try await startDecision(rt, "sw-w-order")
        let events = try await s.watch()
        var ids: [String] = []
        for i in 0..<20 { ids.append(try await s.decision.propose(proposalId: "p\(i)", option: "step \(i)").messageId) }
        let got = try await within(30) {
            var out: [(UInt64, Envelope)] = []
            for try await ev in events {
                if case .envelope(let e, let seq) = ev { out.append((seq, e)); if out.count == 21 { break } }
            }
            return out.map { UnsafeSendable($0) }
        }.map(\.value)
        XCTAssertEqual(got.map(\.0), Array(1...21))
        XCTAssertEqual(got.first?.1.messageType, "SessionStart")
        XCTAssertEqual(got.dropFirst().map(\.1.messageId), ids)
        XCTAssertEqual(try got[5].1.payloadJSON()["option"], "step 4")
    }

    /// Cancelling the task that consumes a watcher's events ends the stream
    /// and closes the watcher.
    func testTaskCancellationClosesTheWatcher() async throws {
        let rt = try TestRuntime()
        let s = try await startDecision(rt, "sw-w-cancel")
        let before = WatcherCore.live
        let w = try await s.watcher()
        XCTAssertEqual(WatcherCore.live, before + 1)
        let (firstSeen, seen) = AsyncStream<Void>.makeStream()
        let consumer = Task {
            var n = 0
            for try await ev in w.events {
                if case .envelope = ev { n += 1; seen.yield() }
            }
            return n
        }
        // Wait until the consumer has the SessionStart, then cancel it.
        var it = firstSeen.makeAsyncIterator()
        _ = await it.next()
        consumer.cancel()
        let n = try await within(30) { try await consumer.value }
        XCTAssertEqual(n, 1)
        XCTAssertEqual(WatcherCore.live, before, "the watcher outlived the cancelled task")
        // The watcher is closed: it refuses to send.
        XCTAssertThrowsError(try w.send("Progress")) { e in
            XCTAssertEqual((e as? MacpError)?.status, .invalidState)
        }
        // The session goes on.
        try await s.progress(1, total: 1)
    }

    /// Leaving the loop over a stream-only watcher closes it too; a new
    /// watcher replays from any ordinal.
    func testReplayAfterSequence() async throws {
        let rt = try TestRuntime()
        let s = try await startDecision(rt, "sw-w-replay")
        let before = WatcherCore.live
        for i in 0..<3 { try await s.decision.propose(proposalId: "p\(i)", option: "o") }
        let seqs = try await within(30) {
            var out: [UInt64] = []
            for try await ev in try await s.watch(after: 2) {
                if case .envelope(_, let seq) = ev { out.append(seq); if out.count == 2 { break } }
            }
            return out
        }
        XCTAssertEqual(seqs, [3, 4])
        XCTAssertEqual(WatcherCore.live, before, "the watcher outlived its stream")
    }

    /// A file-backed runtime killed and restarted on the same port: the
    /// watcher reconnects and resumes after the last ordinal it delivered,
    /// without gap or repeat.
    func testRestartResumesWithoutGapOrRepeat() async throws {
        let dir = try TempDir()
        let rt = try TestRuntime(dataDir: dir.url)
        let s = try await startDecision(rt, "sw-w-restart")
        try await s.decision.propose(proposalId: "p1", option: "before")
        var opts = WatchOptions()
        opts.backoffBase = .milliseconds(50)
        opts.backoffMax = .milliseconds(500)
        let w = try await s.watcher(options: opts)
        try await within(120) {
            var it = w.events.makeAsyncIterator()
            var seqs: [UInt64] = []
            var ids = Set<String>()
            var reconnecting = 0, resumed = 0
            // The two envelopes the runtime holds so far.
            while seqs.count < 2, let ev = try await it.next() {
                if case .envelope(let e, let seq) = ev { seqs.append(seq); ids.insert(e.messageId) }
            }
            try rt.restart()
            try await s.decision.propose(proposalId: "p2", option: "after")
            try await s.decision.propose(proposalId: "p3", option: "after")
            while seqs.count < 4, let ev = try await it.next() {
                switch ev {
                case .envelope(let e, let seq): seqs.append(seq); ids.insert(e.messageId)
                case .reconnecting: reconnecting += 1
                case .resumed(let after): resumed += 1; XCTAssertEqual(after, 2)
                case .gap: XCTFail("unexpected gap")
                default: break
                }
            }
            XCTAssertEqual(seqs, [1, 2, 3, 4])
            XCTAssertEqual(ids.count, 4)
            XCTAssertGreaterThan(reconnecting, 0)
            XCTAssertEqual(resumed, 1)
        }
        w.close()
    }

    /// Runtime-wide streams: session lifecycle and signals.
    func testSessionAndSignalWatchers() async throws {
        let rt = try TestRuntime()
        let c = try await rt.client("sw-w-global")
        let sessions = try await c.watch(.sessions)
        let signals = try await c.watch(.signals)
        let (s, _) = try await c.startSession(mode: Mode.decision, StartOptions(participants: ["sw-w-global", "x"]))
        let created = try await within(30) {
            for try await ev in sessions {
                if case .session(.created, let info, _, _, _) = ev, info?.sessionId == s.id { return info }
            }
            return nil
        }
        XCTAssertEqual(created?.initiator, "sw-w-global")
        XCTAssertEqual(created?.mode, Mode.decision)
        // A signal sent after the watcher is running reaches it.
        try await c.sendSignal("swift.test", data: Data("hi".utf8), confidence: 0.5, correlationSessionId: s.id)
        let signal = try await within(30) {
            for try await ev in signals {
                if case .signal(let e, _) = ev { return Optional(e) }
            }
            return nil
        }
        XCTAssertEqual(signal?.messageType, "Signal")
        XCTAssertEqual(try signal?.payloadJSON()["signal_type"], "swift.test")
        XCTAssertEqual(try signal?.payloadJSON()["correlation_session_id"], JSONValue.string(s.id))
    }
}

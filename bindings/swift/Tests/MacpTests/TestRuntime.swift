import Foundation
@testable import Macp
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func sysKill(_ pid: Int32, _ sig: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, sig)
    #else
    _ = Darwin.kill(pid, sig)
    #endif
}

/// A `macp-runtime` child process on a free 127.0.0.1 port, in memory (or
/// persisting to a directory), insecure, with development authentication
/// (`Bearer <name>` is identity <name>) and raised rate limits. The binary
/// is `$MACP_RUNTIME_BIN`, else `macp-runtime` on PATH.
final class TestRuntime: @unchecked Sendable {
    let port: UInt16
    private var process: Process
    private let env: [String: String]

    var target: String { "127.0.0.1:\(port)" }

    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["MACP_RUNTIME_BIN"], !b.isEmpty { return b }
        return "macp-runtime"
    }

    /// Starts a runtime; `dataDir` makes it file-backed, so sessions survive `restart`.
    init(dataDir: URL? = nil) throws {
        var env: [String: String] = [
            "MACP_ALLOW_INSECURE": "1",
            "MACP_MEMORY_ONLY": "1",
            "MACP_MESSAGE_LIMIT_PER_MINUTE": "1000000",
            "MACP_SESSION_START_LIMIT_PER_MINUTE": "1000000",
            "RUST_LOG": "error",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        if let dataDir {
            env["MACP_MEMORY_ONLY"] = "0"
            env["MACP_DATA_DIR"] = dataDir.path
        }
        self.env = env
        for _ in 0..<5 {
            let port = try TestRuntime.freePort()
            if let p = try TestRuntime.spawn(port: port, env: env) {
                self.port = port
                process = p
                return
            }
        }
        throw RuntimeError("macp-runtime did not start listening")
    }

    /// Kills the process, as a crash would.
    func kill() {
        if process.isRunning {
            process.terminate()   // SIGTERM
            sysKill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// Starts the runtime again on the same port with the same settings.
    func restart() throws {
        kill()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let p = try TestRuntime.spawn(port: port, env: env) {
                process = p
                return
            }
        }
        throw RuntimeError("macp-runtime did not restart on \(port)")
    }

    deinit { kill() }

    /// A client of this runtime authenticated as `identity`.
    func client(_ identity: String) async throws -> Client {
        var o = ClientOptions(target: target, bearerToken: identity, allowInsecure: true)
        o.connectTimeout = .seconds(10)
        return try await Client(o)
    }

    /// A loopback port nothing listens on now (the kernel's choice for port 0).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("socket failed") }
        defer { close(fd) }
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw RuntimeError("bind failed") }
        return UInt16(bigEndian: addr.sin_port)
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    /// Starts the binary on `port`: nil if it exits (the port was taken) or
    /// does not serve HTTP/2 within 30 s. Ready means: still running and a
    /// connection preface gets the server's own SETTINGS frame, which a
    /// port that merely accepts connections does not send.
    static func spawn(port: UInt16, env: [String: String]) throws -> Process? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        var e = env
        e["MACP_BIND_ADDR"] = "127.0.0.1:\(port)"
        p.environment = e
        p.currentDirectoryURL = URL(fileURLWithPath: e["MACP_DATA_DIR"] ?? NSTemporaryDirectory())
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { throw RuntimeError("cannot start \(binary): \(error) (set MACP_RUNTIME_BIN)") }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !p.isRunning { return nil }
            if servesHTTP2(port: port) && p.isRunning { return p }
            usleep(20_000) // poll interval of the readiness probe, not a wait for readiness
        }
        p.terminate()
        p.waitUntilExit()
        return nil
    }

    static func servesHTTP2(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopback(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return false }
        var hello = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        hello += [0, 0, 0, 0x4, 0, 0, 0, 0, 0] // an empty SETTINGS frame
        guard send(fd, hello, hello.count, Int32(MSG_NOSIGNAL)) == hello.count else { return false }
        var frame = [UInt8](repeating: 0, count: 9)
        var got = 0
        while got < 9 {
            let n = frame.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, 9 - got, 0) }
            if n <= 0 { return false }
            got += n
        }
        return frame[3] == 0x4 && frame[4] & 0x1 == 0
    }
}

struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A fresh temporary directory, removed when dropped.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("libmacp-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Reads a session's accepted history (`count` envelopes) through a
/// watcher: the runtime's record of what was accepted.
func history(_ session: Session, count: Int) async throws -> [Envelope] {
    var out: [Envelope] = []
    for try await event in try await session.watch() {
        if case .envelope(let e, _) = event {
            out.append(e)
            if out.count == count { break }
        }
    }
    return out
}

/// The projection of those envelopes.
func project(_ mode: String, _ envelopes: [Envelope]) throws -> Projection {
    let p = try Projection(mode: mode)
    for e in envelopes { try p.apply(e.raw) }
    return p
}

/// Asserts that `body` throws a `MacpError` with `status`.
func assertThrows<T>(_ status: Status, _ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async {
    do {
        _ = try await body()
        XCTFail("expected \(status), got success", file: file, line: line)
    } catch let e as MacpError {
        XCTAssertEqual(e.status, status, "\(e)", file: file, line: line)
        XCTAssertEqual(e.code, status.name, file: file, line: line)
    } catch {
        XCTFail("expected MacpError \(status), got \(error)", file: file, line: line)
    }
}

/// Runs `body`, failing with a timeout error when it takes longer than
/// `seconds` (a hung stream fails the test instead of hanging the run).
func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw RuntimeError("timed out after \(seconds) s")
        }
        group.cancelAll()
        return value
    }
}

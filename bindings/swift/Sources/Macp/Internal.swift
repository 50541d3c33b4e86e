import CMacp
import Foundation

/// C copies of Swift strings for the duration of one C call. A Swift string
/// may hold a NUL character, which C would silently cut at: such a string is
/// refused with `Status.invalidArgument` before anything is sent.
final class CStrings {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    func s(_ value: String, _ what: String = "string") throws -> UnsafePointer<CChar> {
        if value.utf8.contains(0) {
            throw MacpError.invalidArgument("\(what) contains a NUL character")
        }
        guard let p = strdup(value) else {
            throw MacpError(status: .internalError, message: "out of memory")
        }
        owned.append(p)
        return UnsafePointer(p)
    }

    /// nil stays NULL (the C API's "not set").
    func opt(_ value: String?, _ what: String = "string") throws -> UnsafePointer<CChar>? {
        guard let value else { return nil }
        return try s(value, what)
    }

    /// An array of C strings (for `const char *const *` parameters).
    func array(_ values: [String], _ what: String = "string") throws -> [UnsafePointer<CChar>?] {
        try values.map { try s($0, what) }
    }

    deinit { owned.forEach { free($0) } }
}

/// The threads blocking libmacp calls run on: never Swift's cooperative
/// pool, so an `await` on a slow runtime never starves other tasks. (Not
/// Dispatch either: on Linux, Swift's global executor shares Dispatch's
/// worker threads, so blocking work queued there starves tasks too.)
///
/// Threads are started on demand, kept while idle for a few seconds, and
/// number at most `maxThreads`; calls beyond that wait in order.
final class BlockingExecutor: @unchecked Sendable {
    static let shared = BlockingExecutor(maxThreads: 64)

    private let cond = NSCondition()
    private var work: [() -> Void] = []
    private var threads = 0
    private var idle = 0
    /// Idle threads already woken for a job they have not taken yet.
    private var woken = 0
    private let maxThreads: Int

    init(maxThreads: Int) { self.maxThreads = maxThreads }

    func run(_ job: @escaping () -> Void) {
        cond.lock()
        work.append(job)
        if idle - woken == 0 && threads < maxThreads {
            threads += 1
            let t = Thread { [self] in loop() }
            t.name = "macp-blocking"
            t.start()
        } else if idle - woken > 0 {
            woken += 1
            cond.signal()
        }
        cond.unlock()
    }

    private func loop() {
        cond.lock()
        while true {
            while work.isEmpty {
                idle += 1
                let signalled = cond.wait(until: Date().addingTimeInterval(5))
                idle -= 1
                if woken > 0 { woken -= 1 }
                if !signalled && work.isEmpty {
                    threads -= 1
                    cond.unlock()
                    return
                }
            }
            let job = work.removeFirst()
            cond.unlock()
            job()
            cond.lock()
        }
    }
}

/// Runs `body` on a blocking thread and resumes with its result. A task
/// cancelled before the call starts gets `CancellationError`; a call that
/// has started runs to its end (its own timeouts bound it).
func blocking<T: Sendable>(messageId: String? = nil,
                           _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try Task.checkCancellation()
    let call = try CallOptions(messageId: messageId)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, Error>) in
            BlockingExecutor.shared.run {
                Thread.current.threadDictionary[callKey] = call
                defer { Thread.current.threadDictionary.removeObject(forKey: callKey) }
                do { k.resume(returning: try body()) } catch { k.resume(throwing: error) }
            }
        }
    } onCancel: {
        call.cancel()
    }
}

private let callKey = "org.libmacp.call"

/// The `macp_call_options` of one call: a cancellation token that the
/// calling task's cancellation triggers (the C call then ends at once with
/// `Status.cancelled`), and the message id of the envelope it sends (nil:
/// generated).
final class CallOptions: @unchecked Sendable {
    private let options: UnsafeMutablePointer<macp_call_options>
    private let token: OpaquePointer?
    private let cs = CStrings()

    init(messageId: String?) throws {
        var tok: OpaquePointer?
        var err: OpaquePointer?
        let st = macp_cancel_new(&tok, &err)
        guard st == MACP_STATUS_OK else { throw MacpError(status: st, taking: err) }
        token = tok
        options = .allocate(capacity: 1)
        options.initialize(to: macp_call_options_default())
        options.pointee.cancel = tok
        if let messageId {
            options.pointee.message_id = try cs.s(messageId, "message id")
        }
    }

    var pointer: UnsafePointer<macp_call_options> { UnsafePointer(options) }

    /// Ends the call (thread-safe; harmless after it ended).
    func cancel() { macp_cancel_trigger(token) }

    deinit {
        macp_cancel_free(token)
        options.deallocate()
    }
}

/// The options of the call `blocking` runs on this thread; NULL (the
/// defaults) elsewhere.
func currentCall() -> UnsafePointer<macp_call_options>? {
    (Thread.current.threadDictionary[callKey] as? CallOptions)?.pointer
}

/// Copies bytes to C for the duration of `body` (NULL with length 0 for
/// nil or empty data).
func withBytes<R>(_ data: Data?, _ body: (UnsafePointer<UInt8>?, Int) throws -> R) rethrows -> R {
    guard let data, !data.isEmpty else { return try body(nil, 0) }
    return try data.withUnsafeBytes { raw in
        try body(raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
    }
}

/// A C string that may be NULL.
func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

/// A fixed-size C char array (a struct field) as a String.
func fixedString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// Takes a `macp_string` the library returned: its text, then frees it.
func take(_ s: OpaquePointer?) -> String {
    defer { macp_string_free(s) }
    return String(cString: macp_string_ptr(s))
}

func date(unixMs ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

/// Runs a C call that returns a status and fills a `macp_string`.
func stringCall(_ body: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) throws -> String {
    var out: OpaquePointer?
    var err: OpaquePointer?
    let s = try body(&out, &err)
    if s != MACP_STATUS_OK {
        macp_string_free(out)
        throw MacpError(status: s, taking: err)
    }
    return take(out)
}

/// Runs a C call that returns only a status.
func statusCall(_ body: (UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) throws {
    var err: OpaquePointer?
    let s = try body(&err)
    try check(s, err)
}

/// Runs a C call that fills a `macp_ack`.
func ackCall(_ body: (UnsafeMutablePointer<macp_ack>, UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) throws -> Ack {
    var ack = macp_ack()
    var err: OpaquePointer?
    let s = try body(&ack, &err)
    try check(s, err)
    return Ack(ack)
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    } catch {
        throw MacpError(status: .internalError,
                        message: "cannot decode \(T.self) from libmacp's JSON: \(error)")
    }
}

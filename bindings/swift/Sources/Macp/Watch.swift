import CMacp
import Foundation

/// An envelope as the runtime delivered it.
public struct Envelope: Sendable, Equatable {
    public let macpVersion: String
    public let mode: String
    public let messageType: String
    public let messageId: String
    public let sessionId: String
    public let sender: String
    public let timestamp: Date
    /// The protobuf-encoded payload.
    public let payload: Data
    /// The whole envelope, protobuf-encoded (what `Projection.apply` takes).
    public let raw: Data

    init(_ e: macp_envelope, raw: Data) {
        macpVersion = str(e.macp_version)
        mode = str(e.mode)
        messageType = str(e.message_type)
        messageId = str(e.message_id)
        sessionId = str(e.session_id)
        sender = str(e.sender)
        timestamp = date(unixMs: e.timestamp_unix_ms)
        payload = e.payload.map { Data(bytes: $0, count: e.payload_len) } ?? Data()
        self.raw = raw
    }

    /// The payload decoded to JSON, as the schema types it for this mode and message type.
    public func payloadJSON() throws -> JSONValue {
        try Payload.json(typeName: try Payload.type(mode: mode, messageType: messageType), data: payload)
    }
}

/// A session lifecycle transition, as `macp.v1.SessionLifecycleEvent.EventType`.
public enum SessionTransition: Int32, Sendable {
    case unspecified = 0, created, resolved, expired, suspended, resumed, cancelled
}

/// One event of a watcher.
public enum WatchEvent: Sendable {
    /// Session stream: an accepted envelope and its 1-based ordinal in the history.
    case envelope(Envelope, sequence: UInt64)
    /// Session stream: the runtime refused an envelope sent with `Watcher.send`.
    case streamError(MacpError)
    /// A session's lifecycle transition; `session` is nil when the runtime
    /// had already evicted it; `reconciled` when derived after a reconnect.
    case session(SessionTransition, session: SessionInfo?, reconciled: Bool, observedAt: Date, raw: Data)
    /// An ambient signal. Do not let an unauthenticated one drive decisions.
    case signal(Envelope, senderAuthenticated: Bool)
    /// The policy registry changed (`raw`: a `WatchPoliciesResponse`).
    case policies(raw: Data, observedAt: Date)
    /// A mode registry changed (`raw`: a `RegistryChanged`).
    case modeRegistry(registry: String, raw: Data, observedAt: Date)
    /// The roots changed (`raw`: a `RootsChanged`).
    case roots(raw: Data, observedAt: Date)
    /// The stream broke; reconnecting after `delay`.
    case reconnecting(attempt: UInt32, delay: Duration, cause: MacpError)
    /// The stream is open again; a session stream resumes after `afterSequence`.
    case resumed(afterSequence: UInt64)
    /// Ordinals `from` through `through` were compacted away and are skipped.
    case gap(from: UInt64, through: UInt64)
}

/// Reconnect and buffering settings of a watcher.
public struct WatchOptions: Sendable {
    public var reconnect: Bool
    /// Consecutive failed reconnects before giving up; 0 = never.
    public var maxReconnectAttempts: UInt32
    public var backoffBase: Duration
    public var backoffMax: Duration
    /// Events buffered between the stream and the callback.
    public var queueCapacity: UInt32

    public init() {
        let d = macp_watch_options_default()
        reconnect = d.reconnect
        maxReconnectAttempts = d.max_reconnect_attempts
        backoffBase = .milliseconds(Int64(d.backoff_base_ms))
        backoffMax = .milliseconds(Int64(d.backoff_max_ms))
        queueCapacity = d.queue_capacity
    }

    func toC() throws -> macp_watch_options {
        var o = macp_watch_options_default()
        o.reconnect = reconnect
        o.max_reconnect_attempts = maxReconnectAttempts
        o.backoff_base_ms = try ms(backoffBase)
        o.backoff_max_ms = try ms(backoffMax)
        o.queue_capacity = queueCapacity
        return o
    }
}

/// Which runtime-wide stream `Client.watch` follows.
public enum WatchKind: Int32, Sendable {
    case sessions = 1, signals, policies, modeRegistry, roots
}

typealias EventContinuation = AsyncThrowingStream<WatchEvent, Error>.Continuation

/// The `user_data` of a C watcher: where its callback delivers events.
/// Retained for C until `macp_watcher_close` has returned.
final class EventSink: @unchecked Sendable {
    let continuation: EventContinuation
    init(_ c: EventContinuation) { continuation = c }
}

/// Owns a C watcher. `close` stops it and returns once its callback has
/// returned for the last time; then the sink is released and the stream finished.
final class WatcherCore: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var sink: Unmanaged<EventSink>?

    /// C watchers open in this process (for tests).
    private static let liveLock = NSLock()
    nonisolated(unsafe) private static var liveCount = 0
    static var live: Int { liveLock.lock(); defer { liveLock.unlock() }; return liveCount }

    init(sink: Unmanaged<EventSink>) { self.sink = sink }

    func attach(_ h: OpaquePointer) {
        lock.lock(); handle = h; lock.unlock()
        WatcherCore.liveLock.lock(); WatcherCore.liveCount += 1; WatcherCore.liveLock.unlock()
    }

    func withHandle<R>(_ body: (OpaquePointer?) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(handle)
    }

    func close() {
        lock.lock()
        let h = handle, s = sink
        handle = nil
        sink = nil
        lock.unlock()
        guard let s else { return }
        if h != nil { WatcherCore.liveLock.lock(); WatcherCore.liveCount -= 1; WatcherCore.liveLock.unlock() }
        // After this returns the callback is not running and never runs again
        // (also when called from inside it: it is then the last call).
        macp_watcher_close(h)
        s.takeUnretainedValue().continuation.finish()
        s.release()
    }

    deinit { close() }
}

/// The C callback of every watcher: copies the borrowed event into Swift
/// values and yields it to the stream.
private let deliver: macp_event_callback = { ev, ud in
    guard let ev, let ud else { return }
    let sink = Unmanaged<EventSink>.fromOpaque(ud).takeUnretainedValue()
    let e = ev.pointee
    let raw = e.raw.map { Data(bytes: $0, count: e.raw_len) } ?? Data()
    func cause() -> MacpError {
        MacpError(status: Status(e.status), code: str(e.code), message: str(e.message), messageId: str(e.message_id))
    }
    let event: WatchEvent
    switch e.kind {
    case MACP_EVENT_ENVELOPE:
        event = .envelope(Envelope(e.envelope, raw: raw), sequence: e.sequence)
    case MACP_EVENT_STREAM_ERROR:
        event = .streamError(cause())
    case MACP_EVENT_SESSION:
        event = .session(SessionTransition(rawValue: Int32(e.session_event.rawValue)) ?? .unspecified,
                         session: e.session.map(SessionInfo.init), reconciled: e.reconciled,
                         observedAt: date(unixMs: e.observed_at_unix_ms), raw: raw)
    case MACP_EVENT_SIGNAL:
        event = .signal(Envelope(e.envelope, raw: raw), senderAuthenticated: e.sender_authenticated)
    case MACP_EVENT_POLICIES:
        event = .policies(raw: raw, observedAt: date(unixMs: e.observed_at_unix_ms))
    case MACP_EVENT_MODE_REGISTRY:
        event = .modeRegistry(registry: str(e.registry), raw: raw, observedAt: date(unixMs: e.observed_at_unix_ms))
    case MACP_EVENT_ROOTS:
        event = .roots(raw: raw, observedAt: date(unixMs: e.observed_at_unix_ms))
    case MACP_EVENT_RECONNECTING:
        event = .reconnecting(attempt: e.attempt, delay: .milliseconds(Int64(clamping: e.delay_ms)), cause: cause())
    case MACP_EVENT_RESUMED:
        event = .resumed(afterSequence: e.sequence)
    case MACP_EVENT_GAP:
        event = .gap(from: e.sequence, through: e.gap_end)
    case MACP_EVENT_CLOSED:
        // The watcher ended on its own; nothing follows. Finishing runs the
        // stream's termination handler, which closes the watcher from
        // inside its callback (allowed: this call is then the last).
        if e.status == MACP_STATUS_OK {
            sink.continuation.finish()
        } else {
            sink.continuation.finish(throwing: cause())
        }
        return
    default:
        return
    }
    sink.continuation.yield(event)
}

/// A running watcher: its `events`, and for a session watcher, `send` on
/// the same stream. Its events end when it is closed (`close`, or when the
/// last reference to it goes) or when the consuming task stops iterating
/// or is cancelled, which also closes it.
public final class Watcher: @unchecked Sendable {
    let core: WatcherCore
    public let events: AsyncThrowingStream<WatchEvent, Error>
    private let closesOnDeinit: Bool

    init(closesOnDeinit: Bool = true, start: @escaping @Sendable (UnsafeMutableRawPointer, UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<OpaquePointer?>) throws -> macp_status) async throws {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, Error>.makeStream(bufferingPolicy: .unbounded)
        let sink = Unmanaged.passRetained(EventSink(continuation))
        let core = WatcherCore(sink: sink)
        let ud = UnsafeSendable(sink.toOpaque())
        let h = try await blocking {
            var h: OpaquePointer?
            var err: OpaquePointer?
            let s = try start(ud.value, &h, &err)
            if s != MACP_STATUS_OK { throw MacpError(status: s, taking: err) }
            return UnsafeSendable(h)
        }.value
        if let h { core.attach(h) }
        continuation.onTermination = { _ in core.close() }
        self.core = core
        self.closesOnDeinit = closesOnDeinit
        events = stream
    }

    /// Stops the watcher; its events end. Safe to call twice.
    public func close() { core.close() }

    deinit { if closesOnDeinit { core.close() } }

    /// Sends an envelope on a session watcher's stream without waiting: its
    /// acceptance arrives as an `.envelope` event, a refusal as a
    /// `.streamError` carrying the returned message id.
    @discardableResult
    public func send(_ messageType: String, payload: Data? = nil, messageId: String? = nil) throws -> String {
        let cs = CStrings()
        let t = try cs.s(messageType, "message type")
        let id = try cs.opt(messageId, "message id")
        var out = [CChar](repeating: 0, count: Int(MACP_ID_BUFFER_LEN))
        try core.withHandle { h in
            guard let h else { throw MacpError(status: .invalidState, message: "the watcher is closed") }
            try statusCall { e in withBytes(payload) { macp_watcher_send(h, t, $0, $1, id, &out, out.count, e) } }
        }
        return String(cString: out)
    }
}

extension Session {
    /// A watcher of the session's accepted envelopes after `afterSequence`
    /// (0: from the first), replayed and then live, resumed without gap or
    /// repeat across reconnects and runtime restarts.
    public func watcher(after afterSequence: UInt64 = 0, options: WatchOptions? = nil) async throws -> Watcher {
        try await watcher(after: afterSequence, options: options, closesOnDeinit: true)
    }

    func watcher(after afterSequence: UInt64, options: WatchOptions?, closesOnDeinit: Bool) async throws -> Watcher {
        let opts = try options?.toC()
        return try await Watcher(closesOnDeinit: closesOnDeinit) { ud, out, err in
            withOptional(opts) { macp_session_watch(self.handle, afterSequence, $0, deliver, ud, out, currentCall(), err) }
        }
    }

    /// The session's envelopes as a stream; cancelling the consuming task
    /// (or leaving its loop) closes the watcher.
    public func watch(after afterSequence: UInt64 = 0, options: WatchOptions? = nil) async throws -> AsyncThrowingStream<WatchEvent, Error> {
        // The stream alone keeps the watcher: it is closed when the stream ends.
        try await watcher(after: afterSequence, options: options, closesOnDeinit: false).events
    }
}

extension Client {
    /// A watcher of a runtime-wide stream.
    public func watcher(_ kind: WatchKind, options: WatchOptions? = nil) async throws -> Watcher {
        try await watcher(kind, options: options, closesOnDeinit: true)
    }

    func watcher(_ kind: WatchKind, options: WatchOptions?, closesOnDeinit: Bool) async throws -> Watcher {
        let opts = try options?.toC()
        return try await Watcher(closesOnDeinit: closesOnDeinit) { ud, out, err in
            withOptional(opts) { macp_client_watch(self.handle, kind.rawValue, $0, deliver, ud, out, currentCall(), err) }
        }
    }

    /// A runtime-wide stream's events; cancelling the consuming task (or
    /// leaving its loop) closes the watcher.
    public func watch(_ kind: WatchKind, options: WatchOptions? = nil) async throws -> AsyncThrowingStream<WatchEvent, Error> {
        try await watcher(kind, options: options, closesOnDeinit: false).events
    }
}

func withOptional<T, R>(_ v: T?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard var v else { return body(nil) }
    return withUnsafePointer(to: &v) { body($0) }
}

import CMacp
import Foundation

// Operating a client: credentials replaced on a live client, W3C trace
// context, and the library's own log records.

extension Client {
    /// Replaces the bearer token without reconnecting: calls that start
    /// afterwards authenticate with it, and so do watchers when they next
    /// reopen their stream; open streams go on.
    public func setBearerToken(_ token: String) throws {
        let cs = CStrings()
        try statusCall { macp_client_set_bearer_token(handle, try cs.s(token, "token"), $0) }
    }

    /// Sends no bearer token on calls that start afterwards.
    public func clearBearerToken() throws {
        try statusCall { macp_client_clear_bearer_token(handle, $0) }
    }

    /// The W3C trace context (`traceparent`, `tracestate` gRPC metadata) of
    /// every call, unless a session has its own; `nil` removes it. The
    /// traceparent is checked: version 00, lowercase hex, non-zero ids.
    public func setTraceContext(traceparent: String?, tracestate: String? = nil) throws {
        let cs = CStrings()
        try statusCall {
            macp_client_set_trace_context(handle, try cs.opt(traceparent, "traceparent"),
                                          try cs.opt(tracestate, "tracestate"), $0)
        }
    }
}

extension Session {
    /// The W3C trace context of this session's own calls, over the
    /// client's; `nil` removes it.
    public func setTraceContext(traceparent: String?, tracestate: String? = nil) throws {
        let cs = CStrings()
        try statusCall {
            macp_session_set_trace_context(handle, try cs.opt(traceparent, "traceparent"),
                                           try cs.opt(tracestate, "tracestate"), $0)
        }
    }
}

/// Severity of a log record; a handler set at a level receives that level
/// and every more severe one.
public enum LogLevel: Int32, Sendable, Comparable {
    case error = 1, warn, info, debug, trace

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One of libmacp's diagnostics: never a bearer token, a client key or
/// payload bytes.
public struct LogRecord: Sendable {
    public let level: LogLevel
    /// `macp::client` or `macp::watch`.
    public let target: String
    public let message: String
    /// Ids, statuses, attempts, delays, in the library's order.
    public let fields: [(key: String, value: String)]
}

/// The process-wide handler of libmacp's log records.
public enum MacpLog {
    /// Sends records at `level` and more severe to `handler`; `nil` turns
    /// logging off (the default). The handler runs on library threads,
    /// concurrently: keep it quick. While it runs, records of its thread
    /// are dropped and `setHandler` from inside it throws `invalidState`.
    public static func setHandler(level: LogLevel, _ handler: (@Sendable (LogRecord) -> Void)?) throws {
        guard let handler else {
            try statusCall { macp_set_log_callback(0, nil, nil, $0) }
            logSink.set(nil)
            return
        }
        logSink.set(handler)
        try statusCall { macp_set_log_callback(level.rawValue, deliverLog, nil, $0) }
    }
}

final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var handler: (@Sendable (LogRecord) -> Void)?

    func set(_ h: (@Sendable (LogRecord) -> Void)?) {
        lock.lock()
        handler = h
        lock.unlock()
    }

    func get() -> (@Sendable (LogRecord) -> Void)? {
        lock.lock()
        defer { lock.unlock() }
        return handler
    }
}

let logSink = LogSink()

private let deliverLog: macp_log_callback = { record, _ in
    guard let r = record?.pointee, let handler = logSink.get() else { return }
    var fields: [(key: String, value: String)] = []
    if let f = r.fields {
        for i in 0..<r.field_count {
            fields.append((String(cString: f[i].key), String(cString: f[i].value)))
        }
    }
    handler(LogRecord(level: LogLevel(rawValue: Int32(r.level.rawValue)) ?? .trace,
                      target: String(cString: r.target), message: String(cString: r.message), fields: fields))
}

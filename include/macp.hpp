/*
 * libmacp for C++: a header-only layer over macp.h (C++17; unchanged in C++20).
 *
 * It adds nothing to the C ABI and uses nothing but it: every call below is
 * one macp_* call, with its arguments converted and its handles owned.
 *
 * Handles. Every C handle has a move-only owner that frees it in its
 * destructor: Client, ClientOptions, StartOptions, Session, Watcher,
 * Projection, String (macp_string), SessionInfo, SessionList,
 * ReceiptVerification; an error handle is copied into a macp::Error and
 * freed at once. A moved-from owner is empty (`!owner`, `owner.get() ==
 * nullptr`) and safe to destroy, move-assign or call: a call on an empty
 * owner fails with Status::invalid_handle, as the C library answers for a
 * NULL handle. `get()` lends the C handle, `release()` gives it up.
 *
 * Errors, two forms of every fallible call:
 *   - `x.try_op(...)` never throws and returns a macp::Result<T>: a T, or a
 *     macp::Error (`ok()`, `value()`, `error()`). This is the only form when
 *     the code is built without exceptions (-fno-exceptions, or
 *     MACP_HPP_NO_EXCEPTIONS defined); Result::value() on an error then
 *     prints the error and aborts, so test `ok()` first.
 *   - `x.op(...)`, only when exceptions are enabled, returns the T or throws
 *     the macp::Error (a std::runtime_error carrying the status, the registry
 *     code string as received, the message, the details bytes, the session
 *     and message ids and the gRPC code).
 *   Option builders (ClientOptions, StartOptions) never throw: a setter that
 *   fails keeps its first error, and the call that uses the options
 *   (Client::connect, Client::start) fails with it.
 *
 * Text in is std::string_view (copied to add the NUL the C ABI needs; a view
 * holding a NUL byte fails with Status::invalid_argument and sends nothing);
 * an optional argument is a macp::OptText (std::nullopt passes NULL). Text
 * out is std::string, bytes out std::vector<std::uint8_t>; borrowed views
 * (Event, SessionMetadataView, ...) say until when they are valid.
 *
 * Callbacks. A watcher takes any callable `void(const macp::Event&)`
 * (move-only ones too) and owns it: the callable is destroyed only after its
 * last call has returned. Closing the watcher (close(), its destructor)
 * from inside its own callback is allowed; that call is then the last. An
 * exception that escapes the callable never reaches the C library: the
 * watcher catches it, keeps the first one (Watcher::failed(), exception(),
 * rethrow_if_failed(), close_and_rethrow()) and calls the callable no more;
 * the stream runs on until the watcher is closed. The callback may run
 * before watch() returns: a callable that closes its own Watcher must wait
 * until that object is assigned. An async send's completion is a
 * callable `void(macp::Result<macp::Ack>)` called exactly once on a library
 * thread; an exception escaping it is caught and discarded (nothing waits
 * for it), so keep what matters inside the callable.
 *
 * Cancellation is the C ABI's: destroying a Client ends its calls in flight
 * with Status::cancelled, and closing a Watcher stops its stream.
 *
 * JSON answers are std::string; pass them to the JSON library of your choice
 * (Projection::state(parse) takes the parser as a hook).
 */
#ifndef MACP_HPP
#define MACP_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "macp.h"

#if defined(MACP_HPP_NO_EXCEPTIONS)
#define MACP_HPP_EXCEPTIONS 0
#elif defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define MACP_HPP_EXCEPTIONS 1
#else
#define MACP_HPP_EXCEPTIONS 0
#endif

namespace macp {

// ---------------------------------------------------------------- enums

// The status of a call, as macp_status (same values).
enum class Status : std::int32_t {
    ok = MACP_STATUS_OK,
    unauthenticated = MACP_STATUS_UNAUTHENTICATED,
    forbidden = MACP_STATUS_FORBIDDEN,
    session_not_found = MACP_STATUS_SESSION_NOT_FOUND,
    session_not_open = MACP_STATUS_SESSION_NOT_OPEN,
    duplicate_message = MACP_STATUS_DUPLICATE_MESSAGE,
    session_already_exists = MACP_STATUS_SESSION_ALREADY_EXISTS,
    invalid_envelope = MACP_STATUS_INVALID_ENVELOPE,
    unsupported_protocol_version = MACP_STATUS_UNSUPPORTED_PROTOCOL_VERSION,
    mode_not_supported = MACP_STATUS_MODE_NOT_SUPPORTED,
    payload_too_large = MACP_STATUS_PAYLOAD_TOO_LARGE,
    rate_limited = MACP_STATUS_RATE_LIMITED,
    invalid_session_id = MACP_STATUS_INVALID_SESSION_ID,
    internal_error = MACP_STATUS_INTERNAL_ERROR,
    unknown_policy_version = MACP_STATUS_UNKNOWN_POLICY_VERSION,
    policy_denied = MACP_STATUS_POLICY_DENIED,
    invalid_policy_definition = MACP_STATUS_INVALID_POLICY_DEFINITION,
    registry_read_only = MACP_STATUS_REGISTRY_READ_ONLY,
    invalid_request = MACP_STATUS_INVALID_REQUEST,
    stream_lagged = MACP_STATUS_STREAM_LAGGED,
    agent_not_found = MACP_STATUS_AGENT_NOT_FOUND,
    history_unavailable = MACP_STATUS_HISTORY_UNAVAILABLE,
    receipt_unavailable = MACP_STATUS_RECEIPT_UNAVAILABLE,
    unauthorized = MACP_STATUS_UNAUTHORIZED,
    invalid_argument = MACP_STATUS_INVALID_ARGUMENT,
    invalid_handle = MACP_STATUS_INVALID_HANDLE,
    transport = MACP_STATUS_TRANSPORT,
    timeout = MACP_STATUS_TIMEOUT,
    cancelled = MACP_STATUS_CANCELLED,
    unsupported = MACP_STATUS_UNSUPPORTED,
    rpc = MACP_STATUS_RPC,
    invalid_state = MACP_STATUS_INVALID_STATE,
    panic = MACP_STATUS_PANIC,
};

// The status's name: the registry code for registry statuses ("UNKNOWN" for
// a value that is not a status).
inline std::string_view status_name(Status s) noexcept { return macp_status_name(static_cast<std::int32_t>(s)); }
// Whether the status is worth retrying (sends already retry these).
inline bool is_transient(Status s) noexcept { return macp_status_is_transient(static_cast<std::int32_t>(s)); }

enum class SessionState : std::int32_t {
    unspecified = MACP_SESSION_STATE_UNSPECIFIED,
    open = MACP_SESSION_STATE_OPEN,
    resolved = MACP_SESSION_STATE_RESOLVED,
    expired = MACP_SESSION_STATE_EXPIRED,
    suspended = MACP_SESSION_STATE_SUSPENDED,
    cancelled = MACP_SESSION_STATE_CANCELLED,
};
inline std::string_view state_name(SessionState s) noexcept {
    return macp_session_state_name(static_cast<std::int32_t>(s));
}

enum class EventKind : std::int32_t {
    envelope = MACP_EVENT_ENVELOPE,
    stream_error = MACP_EVENT_STREAM_ERROR,
    session = MACP_EVENT_SESSION,
    signal = MACP_EVENT_SIGNAL,
    policies = MACP_EVENT_POLICIES,
    mode_registry = MACP_EVENT_MODE_REGISTRY,
    roots = MACP_EVENT_ROOTS,
    reconnecting = MACP_EVENT_RECONNECTING,
    resumed = MACP_EVENT_RESUMED,
    gap = MACP_EVENT_GAP,
    closed = MACP_EVENT_CLOSED,
};
inline std::string_view kind_name(EventKind k) noexcept { return macp_event_kind_name(static_cast<std::int32_t>(k)); }

enum class SessionEvent : std::int32_t {
    unspecified = MACP_SESSION_EVENT_UNSPECIFIED,
    created = MACP_SESSION_EVENT_CREATED,
    resolved = MACP_SESSION_EVENT_RESOLVED,
    expired = MACP_SESSION_EVENT_EXPIRED,
    suspended = MACP_SESSION_EVENT_SUSPENDED,
    resumed = MACP_SESSION_EVENT_RESUMED,
    cancelled = MACP_SESSION_EVENT_CANCELLED,
};

// Which runtime-wide stream Client::watch follows.
enum class WatchKind : std::int32_t {
    sessions = MACP_WATCH_SESSIONS,
    signals = MACP_WATCH_SIGNALS,
    policies = MACP_WATCH_POLICIES,
    mode_registry = MACP_WATCH_MODE_REGISTRY,
    roots = MACP_WATCH_ROOTS,
};

enum class CommitmentOutcome : std::int32_t {
    match = MACP_COMMITMENT_VERIFY_MATCH,
    mismatch = MACP_COMMITMENT_VERIFY_MISMATCH,
    cannot_verify = MACP_COMMITMENT_VERIFY_CANNOT_VERIFY,
};
enum class CannotVerifyReason : std::int32_t {
    none = MACP_CANNOT_VERIFY_NONE,
    unknown_field = MACP_CANNOT_VERIFY_UNKNOWN_FIELD,
    malformed = MACP_CANNOT_VERIFY_MALFORMED,
    other = MACP_CANNOT_VERIFY_OTHER,
};
enum class ReceiptIntegrity : std::int32_t {
    not_checked = MACP_RECEIPT_INTEGRITY_NOT_CHECKED,
    match = MACP_RECEIPT_INTEGRITY_MATCH,
    mismatch = MACP_RECEIPT_INTEGRITY_MISMATCH,
    cannot_verify = MACP_RECEIPT_INTEGRITY_CANNOT_VERIFY,
};
enum class ReceiptVerdict : std::int32_t {
    attested = MACP_RECEIPT_VERDICT_ATTESTED,
    integrity_only = MACP_RECEIPT_VERDICT_INTEGRITY_ONLY,
    unverified = MACP_RECEIPT_VERDICT_UNVERIFIED,
    refused = MACP_RECEIPT_VERDICT_REFUSED,
};
enum class AttestationOutcome : std::int32_t {
    valid = MACP_ATTESTATION_VALID,
    invalid = MACP_ATTESTATION_INVALID,
    unknown_key = MACP_ATTESTATION_UNKNOWN_KEY,
    unsupported = MACP_ATTESTATION_UNSUPPORTED,
};

// Mode identifiers (MACP_MODE_*).
namespace mode {
inline constexpr std::string_view decision = MACP_MODE_DECISION;
inline constexpr std::string_view proposal = MACP_MODE_PROPOSAL;
inline constexpr std::string_view task = MACP_MODE_TASK;
inline constexpr std::string_view handoff = MACP_MODE_HANDOFF;
inline constexpr std::string_view quorum = MACP_MODE_QUORUM;
inline constexpr std::string_view multi_round = MACP_MODE_MULTI_ROUND;
}  // namespace mode

// The libmacp version, e.g. "0.1.0".
inline std::string_view version() noexcept { return macp_version(); }

// ---------------------------------------------------------------- values

// An optional text argument: std::nullopt passes NULL ("not set").
using OptText = std::optional<std::string_view>;

// Borrowed bytes: pointer and size. Made from a vector, a string_view (its
// chars) or a pointer and a size; empty passes NULL with 0.
class BytesView {
public:
    constexpr BytesView() noexcept = default;
    constexpr BytesView(const std::uint8_t *data, std::size_t size) noexcept : data_(data), size_(size) {}
    BytesView(const std::vector<std::uint8_t> &v) noexcept : data_(v.data()), size_(v.size()) {}
    BytesView(std::string_view s) noexcept
        : data_(reinterpret_cast<const std::uint8_t *>(s.data())), size_(s.size()) {}
    BytesView(const std::string &s) noexcept : BytesView(std::string_view(s)) {}
    // A string literal's characters, without its terminating NUL.
    template <std::size_t N>
    BytesView(const char (&s)[N]) noexcept : BytesView(std::string_view(s, N - 1)) {}
    constexpr const std::uint8_t *data() const noexcept { return size_ ? data_ : nullptr; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr const std::uint8_t *begin() const noexcept { return data_; }
    constexpr const std::uint8_t *end() const noexcept { return data_ + size_; }
    std::vector<std::uint8_t> to_vector() const { return std::vector<std::uint8_t>(begin(), end()); }
    std::string_view as_text() const noexcept {
        return std::string_view(reinterpret_cast<const char *>(data_), size_);
    }

private:
    const std::uint8_t *data_ = nullptr;
    std::size_t size_ = 0;
};

namespace detail {
inline std::string_view sv(const char *s) noexcept { return s ? std::string_view(s) : std::string_view(); }
}  // namespace detail

// A failed call: what the C library's macp_error held.
class Error : public std::runtime_error {
public:
    Error(Status status, std::string code, std::string message, std::string session_id = {},
          std::string message_id = {}, std::vector<std::uint8_t> details = {}, std::int32_t grpc_code = 0,
          std::int32_t delivery = MACP_DELIVERY_NOT_SENT)
        : std::runtime_error(code + ": " + message), status_(status), code_(std::move(code)),
          message_(std::move(message)), session_id_(std::move(session_id)), message_id_(std::move(message_id)),
          details_(std::move(details)), grpc_code_(grpc_code), delivery_(delivery) {}

    // Copy a borrowed C error (as a send completion receives it); `fallback`
    // is the status when `err` is NULL.
    static Error copy(const macp_error *err, Status fallback) {
        if (err == nullptr) {
            return Error(fallback, std::string(status_name(fallback)), "no error details");
        }
        const std::uint8_t *d = nullptr;
        std::size_t n = 0;
        macp_error_details(err, &d, &n);
        return Error(static_cast<Status>(macp_error_status(err)), macp_error_code(err), macp_error_message(err),
                     macp_error_session_id(err), macp_error_message_id(err),
                     d ? std::vector<std::uint8_t>(d, d + n) : std::vector<std::uint8_t>(),
                     macp_error_grpc_code(err), macp_error_delivery(err));
    }
    // Take an owned C error: copy it, then free it.
    static Error take(macp_error *err, Status fallback) {
        Error e = copy(err, fallback);
        macp_error_free(err);
        return e;
    }
    // An error of this layer (not from the C library).
    static Error local(Status status, std::string message) {
        return Error(status, std::string(status_name(status)), std::move(message));
    }

    Status status() const noexcept { return status_; }
    // The registry code exactly as received, or the SDK-local status name.
    const std::string &code() const noexcept { return code_; }
    const std::string &message() const noexcept { return message_; }
    const std::string &session_id() const noexcept { return session_id_; }
    // The message id of a failed send (retry with the same id).
    const std::string &message_id() const noexcept { return message_id_; }
    // The runtime's details bytes (e.g. a policy denial's reasons as JSON).
    const std::vector<std::uint8_t> &details() const noexcept { return details_; }
    std::string_view details_text() const noexcept {
        return std::string_view(reinterpret_cast<const char *>(details_.data()), details_.size());
    }
    std::int32_t grpc_code() const noexcept { return grpc_code_; }
    bool is_transient() const noexcept { return macp::is_transient(status_); }
    // Whether the request may have taken effect (a macp_delivery): after
    // MACP_DELIVERY_UNKNOWN, re-send with the same message_id().
    std::int32_t delivery() const noexcept { return delivery_; }

private:
    Status status_;
    std::string code_, message_, session_id_, message_id_;
    std::vector<std::uint8_t> details_;
    std::int32_t grpc_code_;
    std::int32_t delivery_;
};

namespace detail {
// Call options that send with message id `id` (NULL: a generated one).
inline macp_call_options with_id(const char *id) noexcept {
    macp_call_options o = macp_call_options_default();
    o.message_id = id;
    return o;
}

[[noreturn]] inline void fail(const Error &e) {
#if MACP_HPP_EXCEPTIONS
    throw e;
#else
    std::fprintf(stderr, "macp: value() of a failed Result: %s\n", e.what());
    std::abort();
#endif
}
}  // namespace detail

// A T or an Error. [[nodiscard]]: an unread result is a warning.
template <class T>
class [[nodiscard]] Result {
    static_assert(!std::is_same<T, Error>::value, "Result<Error> is not meaningful");

public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    // The value; on an error, throws it (or aborts without exceptions).
    T &value() & {
        if (!ok()) detail::fail(*std::get_if<1>(&v_));
        return *std::get_if<0>(&v_);
    }
    const T &value() const & {
        if (!ok()) detail::fail(*std::get_if<1>(&v_));
        return *std::get_if<0>(&v_);
    }
    T value() && {
        if (!ok()) detail::fail(*std::get_if<1>(&v_));
        return std::move(*std::get_if<0>(&v_));
    }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    // The error; only when !ok() (else an invalid_state error).
    const Error &error() const noexcept {
        static const Error none = Error::local(Status::invalid_state, "the result holds a value, not an error");
        const Error *e = std::get_if<1>(&v_);
        return e ? *e : none;
    }
    Status status() const noexcept { return ok() ? Status::ok : error().status(); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : e_(std::move(error)) {}
    bool ok() const noexcept { return !e_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    void value() const {
        if (e_) detail::fail(*e_);
    }
    const Error &error() const noexcept {
        static const Error none = Error::local(Status::invalid_state, "the result holds a value, not an error");
        return e_ ? *e_ : none;
    }
    Status status() const noexcept { return ok() ? Status::ok : e_->status(); }

private:
    std::optional<Error> e_;
};

// The runtime's acknowledgement of an accepted message.
struct Ack {
    bool duplicate = false;
    SessionState session_state = SessionState::unspecified;
    std::uint32_t attempts = 0;
    std::int64_t accepted_at_unix_ms = 0;
    std::string message_id;
    std::string session_id;

    static Ack from(const macp_ack &a) {
        Ack r;
        r.duplicate = a.duplicate;
        r.session_state = static_cast<SessionState>(a.session_state);
        r.attempts = a.attempts;
        r.accepted_at_unix_ms = a.accepted_at_unix_ms;
        r.message_id = a.message_id;
        r.session_id = a.session_id;
        return r;
    }
};

// A Commitment, the message that resolves a session.
struct Commitment {
    std::string action;                      // e.g. "decision.selected" (required)
    std::optional<std::string> commitment_id;  // nullopt: a new UUID v4 (Session::commit)
    std::optional<std::string> authority_scope;
    std::optional<std::string> reason;
    bool outcome_positive = true;
    std::optional<std::string> supersedes_session_id;
    std::optional<std::string> supersedes_commitment_hash;
};

// What commitment_verify found.
struct CommitmentVerification {
    CommitmentOutcome outcome = CommitmentOutcome::cannot_verify;
    CannotVerifyReason reason = CannotVerifyReason::none;
    std::uint32_t unknown_field_tag = 0;
    bool unknown_field_in_supersedes = false;
    std::string computed_hash;   // "" for cannot-verify
    std::string reason_message;  // "" unless cannot-verify
};

struct DecisionTally {
    std::uint32_t approve = 0, reject = 0, abstain = 0;
};
struct QuorumTally {
    std::uint32_t approve = 0, reject = 0, abstain = 0, required = 0;
    bool reached = false;
};

// ---------------------------------------------------------------- detail

namespace detail {

// A text argument made NUL-terminated for the C ABI.
class Text {
public:
    Text(std::string_view v) : s_(v), bad_(v.find('\0') != std::string_view::npos) {}
    Text(const std::string &v) : Text(std::string_view(v)) {}
    Text(const OptText &v) : null_(!v.has_value()) {
        if (v) {
            s_.assign(v->data(), v->size());
            bad_ = v->find('\0') != std::string_view::npos;
        }
    }
    const char *c() const noexcept { return null_ ? nullptr : s_.c_str(); }
    bool bad() const noexcept { return bad_; }

private:
    std::string s_;
    bool null_ = false;
    bool bad_ = false;
};

inline std::optional<Error> bad_text(std::initializer_list<const Text *> texts) {
    for (const Text *t : texts) {
        if (t->bad()) return Error::local(Status::invalid_argument, "a text argument contains a NUL byte");
    }
    return std::nullopt;
}

// Run one C call `f(macp_error **)` and map its status.
template <class F>
Result<void> call(F &&f) {
    macp_error *err = nullptr;
    macp_status st = f(&err);
    if (st == MACP_STATUS_OK) {
        macp_error_free(err);
        return {};
    }
    return Error::take(err, static_cast<Status>(st));
}

// A C call that writes a macp_ack.
template <class F>
Result<Ack> ack_call(std::initializer_list<const Text *> texts, F &&f) {
    if (auto bad = bad_text(texts)) return *bad;
    macp_ack ack{};
    Result<void> r = call([&](macp_error **e) { return f(&ack, e); });
    if (!r) return r.error();
    return Ack::from(ack);
}

// Owner of one C handle.
template <class T, void (*Free)(T *)>
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(T *h) noexcept : h_(h) {}
    Handle(Handle &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Handle &operator=(Handle &&o) noexcept {
        if (this != &o) reset(std::exchange(o.h_, nullptr));
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    ~Handle() { reset(); }

    // The C handle, still owned here (NULL when empty).
    T *get() const noexcept { return h_; }
    // Give up ownership: the caller frees the returned handle.
    T *release() noexcept { return std::exchange(h_, nullptr); }
    void reset(T *h = nullptr) noexcept {
        T *old = std::exchange(h_, h);
        if (old) Free(old);
    }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    T *h_ = nullptr;
};

// Run `f(T **out, macp_error **)` and own what it wrote.
template <class Owner, class T, class F>
Result<Owner> make(F &&f) {
    T *out = nullptr;
    Result<void> r = call([&](macp_error **e) { return f(&out, e); });
    if (!r) return r.error();
    return Owner(out);
}

}  // namespace detail

// Declares the throwing form `name(params)` of `try_name(args)`.
#if MACP_HPP_EXCEPTIONS
#define MACP_HPP_THROWING(name, params, args) \
    auto name params const { return try_##name args.value(); }
#else
#define MACP_HPP_THROWING(name, params, args)
#endif

// ---------------------------------------------------------------- strings

// A string the library made (macp_string).
class String : public detail::Handle<macp_string, macp_string_free> {
public:
    using Handle::Handle;
    // Borrowed, valid until this owner frees it; "" when empty.
    std::string_view view() const noexcept {
        return std::string_view(macp_string_ptr(get()), macp_string_len(get()));
    }
    const char *c_str() const noexcept { return macp_string_ptr(get()); }
    std::size_t size() const noexcept { return macp_string_len(get()); }
    std::string str() const { return std::string(view()); }
};

namespace detail {
// Run `f(macp_string **out, macp_error **)` and return the text.
template <class F>
Result<std::string> text_call(std::initializer_list<const Text *> texts, F &&f) {
    if (auto bad = bad_text(texts)) return *bad;
    Result<String> s = make<String, macp_string>(std::forward<F>(f));
    if (!s) return s.error();
    return s->str();
}
}  // namespace detail

// ---------------------------------------------------------------- views

struct ParticipantActivity {
    std::string_view participant_id;
    std::int64_t last_message_at_unix_ms = 0;
    std::uint32_t message_count = 0;
};

// A session's metadata, borrowed from the SessionInfo, SessionList or Event
// it came from, and valid as long as that is.
class SessionMetadataView {
public:
    explicit SessionMetadataView(const macp_session_metadata *m) noexcept : m_(m ? m : &empty()) {}
    std::string_view session_id() const noexcept { return detail::sv(m_->session_id); }
    std::string_view mode() const noexcept { return detail::sv(m_->mode); }
    SessionState state() const noexcept { return static_cast<SessionState>(m_->state); }
    std::int64_t started_at_unix_ms() const noexcept { return m_->started_at_unix_ms; }
    std::int64_t expires_at_unix_ms() const noexcept { return m_->expires_at_unix_ms; }
    std::string_view mode_version() const noexcept { return detail::sv(m_->mode_version); }
    std::string_view configuration_version() const noexcept { return detail::sv(m_->configuration_version); }
    std::string_view policy_version() const noexcept { return detail::sv(m_->policy_version); }
    std::string_view initiator() const noexcept { return detail::sv(m_->initiator); }
    std::string_view context_id() const noexcept { return detail::sv(m_->context_id); }
    std::vector<std::string_view> participants() const {
        return list(m_->participants, m_->participants_len);
    }
    std::vector<std::string_view> extension_keys() const {
        return list(m_->extension_keys, m_->extension_keys_len);
    }
    std::vector<ParticipantActivity> activity() const {
        std::vector<ParticipantActivity> out;
        for (std::size_t i = 0; m_->activity && i < m_->activity_len; ++i) {
            const macp_participant_activity &a = m_->activity[i];
            out.push_back({detail::sv(a.participant_id), a.last_message_at_unix_ms, a.message_count});
        }
        return out;
    }
    const macp_session_metadata *c() const noexcept { return m_; }

private:
    static const macp_session_metadata &empty() noexcept {
        static const macp_session_metadata e{};
        return e;
    }
    static std::vector<std::string_view> list(const char *const *p, std::size_t n) {
        std::vector<std::string_view> out;
        for (std::size_t i = 0; p && i < n; ++i) out.push_back(detail::sv(p[i]));
        return out;
    }
    const macp_session_metadata *m_;
};

// One session's metadata, owned (macp_session_info).
class SessionInfo : public detail::Handle<macp_session_info, macp_session_info_free> {
public:
    using Handle::Handle;
    // Borrowed from this owner (empty fields when it is empty).
    SessionMetadataView metadata() const noexcept { return SessionMetadataView(macp_session_info_metadata(get())); }
};

// A list of sessions, owned (macp_session_list).
class SessionList : public detail::Handle<macp_session_list, macp_session_list_free> {
public:
    using Handle::Handle;
    std::size_t size() const noexcept { return macp_session_list_len(get()); }
    bool empty() const noexcept { return size() == 0; }
    // Borrowed from this owner; empty fields out of range.
    SessionMetadataView operator[](std::size_t i) const noexcept {
        return SessionMetadataView(macp_session_list_at(get(), i));
    }
    // Pass to Client::list_sessions for the next page; "" when complete.
    std::string_view next_page_token() const noexcept { return detail::sv(macp_session_list_next_page_token(get())); }
};

struct Attestation {
    std::string_view kind;  // "jws", "vendor", ...
    std::string_view kid;
    AttestationOutcome outcome;
};

// What receipt_verify found, owned (macp_receipt_verification).
class ReceiptVerification : public detail::Handle<macp_receipt_verification, macp_receipt_verification_free> {
public:
    using Handle::Handle;
    ReceiptIntegrity integrity() const noexcept {
        const macp_receipt_verify_result *r = macp_receipt_verification_result(get());
        return r ? static_cast<ReceiptIntegrity>(r->integrity) : ReceiptIntegrity::not_checked;
    }
    ReceiptVerdict verdict() const noexcept {
        const macp_receipt_verify_result *r = macp_receipt_verification_result(get());
        return r ? static_cast<ReceiptVerdict>(r->verdict) : ReceiptVerdict::refused;
    }
    // Borrowed from this owner.
    std::vector<Attestation> attestations() const {
        std::vector<Attestation> out;
        const macp_receipt_verify_result *r = macp_receipt_verification_result(get());
        for (std::size_t i = 0; r && r->attestations && i < r->attestations_len; ++i) {
            const macp_receipt_attestation &a = r->attestations[i];
            out.push_back({detail::sv(a.kind), detail::sv(a.kid), static_cast<AttestationOutcome>(a.outcome)});
        }
        return out;
    }
};

// An envelope as delivered, borrowed for the callback that received it.
class Envelope {
public:
    explicit Envelope(const macp_envelope *e) noexcept : e_(e) {}
    std::string_view macp_version() const noexcept { return detail::sv(e_->macp_version); }
    std::string_view mode() const noexcept { return detail::sv(e_->mode); }
    std::string_view message_type() const noexcept { return detail::sv(e_->message_type); }
    std::string_view message_id() const noexcept { return detail::sv(e_->message_id); }
    std::string_view session_id() const noexcept { return detail::sv(e_->session_id); }
    std::string_view sender() const noexcept { return detail::sv(e_->sender); }
    std::int64_t timestamp_unix_ms() const noexcept { return e_->timestamp_unix_ms; }
    BytesView payload() const noexcept { return BytesView(e_->payload, e_->payload_len); }
    // The payload decoded to JSON (macp_envelope_payload_json).
    Result<std::string> try_payload_json() const {
        return detail::text_call({}, [&](macp_string **o, macp_error **e) {
            return macp_envelope_payload_json(e_, o, e);
        });
    }
    MACP_HPP_THROWING(payload_json, (), ())
    const macp_envelope *c() const noexcept { return e_; }

private:
    const macp_envelope *e_;
};

// One watcher event, borrowed for the callback: copy what you keep.
class Event {
public:
    explicit Event(const macp_event *e) noexcept : e_(e) {}
    EventKind kind() const noexcept { return static_cast<EventKind>(e_->kind); }
    std::uint64_t sequence() const noexcept { return e_->sequence; }
    std::uint64_t gap_end() const noexcept { return e_->gap_end; }
    Envelope envelope() const noexcept { return Envelope(&e_->envelope); }
    bool sender_authenticated() const noexcept { return e_->sender_authenticated; }
    SessionEvent session_event() const noexcept { return static_cast<SessionEvent>(e_->session_event); }
    std::optional<SessionMetadataView> session() const noexcept {
        if (!e_->session) return std::nullopt;
        return SessionMetadataView(e_->session);
    }
    bool reconciled() const noexcept { return e_->reconciled; }
    std::int64_t observed_at_unix_ms() const noexcept { return e_->observed_at_unix_ms; }
    std::string_view registry() const noexcept { return detail::sv(e_->registry); }
    Status status() const noexcept { return static_cast<Status>(e_->status); }
    std::string_view code() const noexcept { return detail::sv(e_->code); }
    std::string_view message() const noexcept { return detail::sv(e_->message); }
    std::string_view message_id() const noexcept { return detail::sv(e_->message_id); }
    std::uint32_t attempt() const noexcept { return e_->attempt; }
    std::chrono::milliseconds delay() const noexcept {
        return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(e_->delay_ms));
    }
    // The event's protobuf message (Projection::apply takes an envelope's).
    BytesView raw() const noexcept { return BytesView(e_->raw, e_->raw_len); }
    const macp_event *c() const noexcept { return e_; }

private:
    const macp_event *e_;
};

// ---------------------------------------------------------------- offline calls

// The commitment hash ("sha256:<64 hex>") of `c` under the three versions.
inline Result<std::string> try_commitment_hash(const Commitment &c, OptText mode_version = {},
                                               OptText policy_version = {},
                                               OptText configuration_version = {}) {
    detail::Text id(c.commitment_id), action(std::string_view(c.action)), scope(c.authority_scope),
        reason(c.reason), ss(c.supersedes_session_id), sh(c.supersedes_commitment_hash), mv(mode_version),
        pv(policy_version), cv(configuration_version);
    if (auto bad = detail::bad_text({&id, &action, &scope, &reason, &ss, &sh, &mv, &pv, &cv})) return *bad;
    macp_commitment cc{id.c(), action.c(), scope.c(), reason.c(), c.outcome_positive, ss.c(), sh.c()};
    char out[MACP_COMMITMENT_HASH_BUFFER_LEN];
    Result<void> r = detail::call([&](macp_error **e) {
        return macp_commitment_hash(&cc, mv.c(), pv.c(), cv.c(), out, sizeof out, e);
    });
    if (!r) return r.error();
    return std::string(out);
}
// The commitment hash of a CommitmentPayload's wire bytes.
inline Result<std::string> try_commitment_hash_of_wire(BytesView wire) {
    char out[MACP_COMMITMENT_HASH_BUFFER_LEN];
    Result<void> r = detail::call([&](macp_error **e) {
        return macp_commitment_hash_of_wire(wire.data(), wire.size(), out, sizeof out, e);
    });
    if (!r) return r.error();
    return std::string(out);
}
// Check a claimed hash against wire bytes (match, mismatch, cannot verify).
inline Result<CommitmentVerification> try_commitment_verify(BytesView wire, std::string_view claimed) {
    detail::Text cl(claimed);
    if (auto bad = detail::bad_text({&cl})) return *bad;
    macp_commitment_verify_result v{};
    Result<void> r = detail::call([&](macp_error **e) {
        return macp_commitment_verify(wire.data(), wire.size(), cl.c(), &v, e);
    });
    if (!r) return r.error();
    CommitmentVerification out;
    out.outcome = static_cast<CommitmentOutcome>(v.outcome);
    out.reason = static_cast<CannotVerifyReason>(v.reason);
    out.unknown_field_tag = v.unknown_field_tag;
    out.unknown_field_in_supersedes = v.unknown_field_in_supersedes;
    out.computed_hash = v.computed_hash;
    out.reason_message = v.reason_message;
    return out;
}
// Whether `hash` is "sha256:" and exactly 64 lowercase hex digits.
inline bool is_canonical_commitment_hash(std::string_view hash) {
    detail::Text h(hash);
    return !h.bad() && macp_commitment_hash_is_canonical(h.c());
}

// Verify a decision receipt offline, trusting exactly the keys in `jwks`.
inline Result<ReceiptVerification> try_receipt_verify(std::string_view receipt_json,
                                                      const std::vector<std::string> &jwks = {}) {
    detail::Text r(receipt_json);
    std::vector<detail::Text> keys(jwks.begin(), jwks.end());
    std::vector<const char *> ptrs;
    for (const detail::Text &k : keys) {
        if (k.bad()) return Error::local(Status::invalid_argument, "a key document contains a NUL byte");
        ptrs.push_back(k.c());
    }
    if (auto bad = detail::bad_text({&r})) return *bad;
    return detail::make<ReceiptVerification, macp_receipt_verification>(
        [&](macp_receipt_verification **o, macp_error **e) {
            return macp_receipt_verify(r.c(), ptrs.empty() ? nullptr : ptrs.data(), ptrs.size(), o, e);
        });
}

namespace detail {
// The size-query convention: ask for the size, then write.
template <class F>
Result<std::vector<std::uint8_t>> sized(F &&f) {
    std::size_t need = 0;
    Result<void> r = call([&](macp_error **e) { return f(nullptr, 0, &need, e); });
    if (!r) return r.error();
    std::vector<std::uint8_t> out(need);
    std::size_t written = 0;
    r = call([&](macp_error **e) { return f(out.data(), out.size(), &written, e); });
    if (!r) return r.error();
    out.resize(written);
    return Result<std::vector<std::uint8_t>>(std::move(out));
}
}  // namespace detail

// Encode a JSON object as the protobuf message `type_name`
// (e.g. "macp.modes.decision.v1.VotePayload").
inline Result<std::vector<std::uint8_t>> try_payload_from_json(std::string_view type_name, std::string_view json) {
    detail::Text t(type_name), j(json);
    if (auto bad = detail::bad_text({&t, &j})) return *bad;
    return detail::sized([&](std::uint8_t *buf, std::size_t len, std::size_t *out, macp_error **e) {
        return macp_payload_from_json(t.c(), j.c(), buf, len, out, e);
    });
}
// Decode protobuf bytes of `type_name` to JSON.
inline Result<std::string> try_payload_to_json(std::string_view type_name, BytesView data) {
    detail::Text t(type_name);
    return detail::text_call({&t}, [&](macp_string **o, macp_error **e) {
        return macp_payload_to_json(t.c(), data.data(), data.size(), o, e);
    });
}
// The payload type the schema names for `message_type` in `mode`.
inline Result<std::string> try_payload_type(std::string_view mode, std::string_view message_type) {
    detail::Text m(mode), t(message_type);
    return detail::text_call({&m, &t}, [&](macp_string **o, macp_error **e) {
        return macp_payload_type(m.c(), t.c(), o, e);
    });
}
// Encode an envelope (e.g. to feed a projection envelopes from elsewhere).
inline Result<std::vector<std::uint8_t>> try_envelope_encode(std::string_view mode, std::string_view message_type,
                                                             std::string_view session_id, BytesView payload = {},
                                                             OptText sender = {}, OptText message_id = {}) {
    detail::Text m(mode), t(message_type), s(session_id), snd(sender), id(message_id);
    if (auto bad = detail::bad_text({&m, &t, &s, &snd, &id})) return *bad;
    return detail::sized([&](std::uint8_t *buf, std::size_t len, std::size_t *out, macp_error **e) {
        return macp_envelope_encode(m.c(), t.c(), s.c(), snd.c(), id.c(), payload.data(), payload.size(), buf, len,
                                    out, e);
    });
}
// A new UUID v4 (a valid session or message id).
inline Result<std::string> try_new_id() {
    char buf[MACP_ID_BUFFER_LEN];
    Result<void> r = detail::call([&](macp_error **e) { return macp_new_id(buf, sizeof buf, e); });
    if (!r) return r.error();
    return std::string(buf);
}

#if MACP_HPP_EXCEPTIONS
inline std::string commitment_hash(const Commitment &c, OptText mode_version = {}, OptText policy_version = {},
                                   OptText configuration_version = {}) {
    return try_commitment_hash(c, mode_version, policy_version, configuration_version).value();
}
inline std::string commitment_hash_of_wire(BytesView wire) { return try_commitment_hash_of_wire(wire).value(); }
inline CommitmentVerification commitment_verify(BytesView wire, std::string_view claimed) {
    return try_commitment_verify(wire, claimed).value();
}
inline ReceiptVerification receipt_verify(std::string_view receipt_json, const std::vector<std::string> &jwks = {}) {
    return try_receipt_verify(receipt_json, jwks).value();
}
inline std::vector<std::uint8_t> payload_from_json(std::string_view type_name, std::string_view json) {
    return try_payload_from_json(type_name, json).value();
}
inline std::string payload_to_json(std::string_view type_name, BytesView data) {
    return try_payload_to_json(type_name, data).value();
}
inline std::string payload_type(std::string_view mode, std::string_view message_type) {
    return try_payload_type(mode, message_type).value();
}
inline std::vector<std::uint8_t> envelope_encode(std::string_view mode, std::string_view message_type,
                                                 std::string_view session_id, BytesView payload = {},
                                                 OptText sender = {}, OptText message_id = {}) {
    return try_envelope_encode(mode, message_type, session_id, payload, sender, message_id).value();
}
inline std::string new_id() { return try_new_id().value(); }
#endif

// ---------------------------------------------------------------- options

namespace detail {
// A builder over a C options handle that keeps its first failure.
template <class T, macp_status (*New)(T **, macp_error **), void (*Free)(T *)>
class Builder : public Handle<T, Free> {
public:
    Builder() {
        T *h = nullptr;
        Result<void> r = call([&](macp_error **e) { return New(&h, e); });
        if (r) {
            this->reset(h);
        } else {
            error_ = r.error();
        }
    }
    // The first failed setter's error (or the creation's), if any.
    const std::optional<Error> &error() const noexcept { return error_; }

protected:
    template <class F>
    void apply(std::initializer_list<const Text *> texts, F &&f) {
        if (error_) return;
        if (auto bad = bad_text(texts)) {
            error_ = std::move(bad);
            return;
        }
        Result<void> r = call([&](macp_error **e) { return f(this->get(), e); });
        if (!r) error_ = r.error();
    }

private:
    std::optional<Error> error_;
};

inline std::uint64_t ms(std::chrono::milliseconds d) noexcept {
    return d.count() < 0 ? UINT64_MAX : static_cast<std::uint64_t>(d.count());
}
}  // namespace detail

// Settings of Client::connect (macp_client_options). Setters never throw:
// the first failure is kept in error() and fails the connect.
class ClientOptions : public detail::Builder<macp_client_options, macp_client_options_new, macp_client_options_free> {
public:
    // `host:port` (TLS), `https://host:port`, or `http://host:port` (needs allow_insecure).
    ClientOptions &target(std::string_view t) {
        detail::Text x(t);
        apply({&x}, [&](macp_client_options *o, macp_error **e) { return macp_client_options_set_target(o, x.c(), e); });
        return *this;
    }
    // nullopt: send none (macp_client_options_clear_bearer_token).
    ClientOptions &bearer_token(OptText token) {
        detail::Text x(token);
        apply({&x}, [&](macp_client_options *o, macp_error **e) {
            return token ? macp_client_options_set_bearer_token(o, x.c(), e)
                         : macp_client_options_clear_bearer_token(o, e);
        });
        return *this;
    }
    // A PEM client certificate and key for mutual TLS (both empty: none).
    ClientOptions &client_identity(BytesView cert_pem, BytesView key_pem) {
        apply({}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_client_identity(o, cert_pem.data(), cert_pem.size(), key_pem.data(),
                                                           key_pem.size(), e);
        });
        return *this;
    }
    ClientOptions &allow_insecure(bool allow = true) {
        apply({}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_allow_insecure(o, allow, e);
        });
        return *this;
    }
    ClientOptions &ca_pem(BytesView pem) {
        apply({}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_ca_pem(o, pem.data(), pem.size(), e);
        });
        return *this;
    }
    ClientOptions &tls_domain(OptText domain) {
        detail::Text x(domain);
        apply({&x}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_tls_domain(o, x.c(), e);
        });
        return *this;
    }
    ClientOptions &connect_timeout(std::chrono::milliseconds d) {
        apply({}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_connect_timeout_ms(o, detail::ms(d), e);
        });
        return *this;
    }
    // Zero: no deadline.
    ClientOptions &call_timeout(std::chrono::milliseconds d) {
        apply({}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_call_timeout_ms(o, detail::ms(d), e);
        });
        return *this;
    }
    ClientOptions &expected_sender(OptText sender) {
        detail::Text x(sender);
        apply({&x}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_expected_sender(o, x.c(), e);
        });
        return *this;
    }
    ClientOptions &retry_policy(std::uint32_t max_retries, std::chrono::milliseconds base_delay,
                                std::chrono::milliseconds max_delay, bool jitter = true) {
        apply({}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_retry_policy(o, max_retries, detail::ms(base_delay), detail::ms(max_delay),
                                                        jitter, e);
        });
        return *this;
    }
    ClientOptions &client_info(std::string_view name, OptText version = {}) {
        detail::Text n(name), v(version);
        apply({&n, &v}, [&](macp_client_options *o, macp_error **e) {
            return macp_client_options_set_client_info(o, n.c(), v.c(), e);
        });
        return *this;
    }
};

// A governance policy document for one mode (macp_policy_builder), checked
// locally as each rule is set. Setters never throw: the first failure (or
// the creation's) is kept in error() and returned by try_json(), whose text
// Client::register_policy takes.
class PolicyBuilder : public detail::Handle<macp_policy_builder, macp_policy_builder_free> {
public:
    // `mode` one of mode::decision, quorum, proposal, task, handoff.
    PolicyBuilder(std::string_view mode, std::string_view policy_id) {
        detail::Text m(mode), id(policy_id);
        if (auto bad = detail::bad_text({&m, &id})) {
            error_ = std::move(bad);
            return;
        }
        macp_policy_builder *h = nullptr;
        Result<void> r = detail::call([&](macp_error **e) { return macp_policy_builder_new(m.c(), id.c(), &h, e); });
        if (r) {
            reset(h);
        } else {
            error_ = r.error();
        }
    }
    const std::optional<Error> &error() const noexcept { return error_; }

    PolicyBuilder &description(std::string_view d) { return text(d, macp_policy_builder_set_description); }
    PolicyBuilder &schema_version(std::uint32_t v) {
        return apply({}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_schema_version(b, v, e);
        });
    }
    PolicyBuilder &commitment_authority(std::string_view a) {
        return text(a, macp_policy_builder_set_commitment_authority);
    }
    PolicyBuilder &designated_role(std::string_view r) { return text(r, macp_policy_builder_add_designated_role); }
    PolicyBuilder &voting(std::string_view algorithm, double threshold) {
        detail::Text x(algorithm);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_voting(b, x.c(), threshold, e);
        });
    }
    PolicyBuilder &voting_quorum(std::string_view kind, double value) {
        detail::Text x(kind);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_voting_quorum(b, x.c(), value, e);
        });
    }
    PolicyBuilder &voting_weight(std::string_view participant, double weight) {
        detail::Text x(participant);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_voting_weight(b, x.c(), weight, e);
        });
    }
    PolicyBuilder &objection_handling(bool critical_severity_vetoes, std::uint32_t veto_threshold,
                                      std::string_view action) {
        detail::Text x(action);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_objection_handling(b, critical_severity_vetoes, veto_threshold, x.c(), e);
        });
    }
    PolicyBuilder &evaluation(double minimum_confidence, bool required_before_voting) {
        return apply({}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_evaluation(b, minimum_confidence, required_before_voting, e);
        });
    }
    PolicyBuilder &decision_commitment(bool require_vote_quorum, bool allow_decline_over_approval) {
        return apply({}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_decision_commitment(b, require_vote_quorum, allow_decline_over_approval, e);
        });
    }
    PolicyBuilder &quorum_threshold(std::string_view kind, std::uint32_t value) {
        detail::Text x(kind);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_quorum_threshold(b, x.c(), value, e);
        });
    }
    PolicyBuilder &abstention(bool counts_toward_quorum, std::string_view interpretation) {
        detail::Text x(interpretation);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_abstention(b, counts_toward_quorum, x.c(), e);
        });
    }
    PolicyBuilder &proposal_rules(std::string_view criterion, std::uint32_t max_counter_rounds,
                                  bool terminal_on_any_reject) {
        detail::Text x(criterion);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_proposal_rules(b, x.c(), max_counter_rounds, terminal_on_any_reject, e);
        });
    }
    PolicyBuilder &task_rules(bool allow_reassignment_on_reject, bool require_output) {
        return apply({}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_task_rules(b, allow_reassignment_on_reject, require_output, e);
        });
    }
    PolicyBuilder &implicit_accept_timeout(std::chrono::milliseconds d) {
        return apply({}, [&](macp_policy_builder *b, macp_error **e) {
            return macp_policy_builder_set_implicit_accept_timeout_ms(b, detail::ms(d), e);
        });
    }

    // The policy as JSON, after the checks that involve more than one rule.
    Result<std::string> try_json() const {
        if (error_) return *error_;
        return detail::text_call({}, [&](macp_string **o, macp_error **e) {
            return macp_policy_builder_to_json(get(), o, e);
        });
    }
    MACP_HPP_THROWING(json, (), ())

private:
    template <class F>
    PolicyBuilder &apply(std::initializer_list<const detail::Text *> texts, F &&f) {
        if (error_) return *this;
        if (auto bad = detail::bad_text(texts)) {
            error_ = std::move(bad);
            return *this;
        }
        Result<void> r = detail::call([&](macp_error **e) { return f(get(), e); });
        if (!r) error_ = r.error();
        return *this;
    }
    PolicyBuilder &text(std::string_view v, macp_status (*set)(macp_policy_builder *, const char *, macp_error **)) {
        detail::Text x(v);
        return apply({&x}, [&](macp_policy_builder *b, macp_error **e) { return set(b, x.c(), e); });
    }

    std::optional<Error> error_;
};

// Parameters of Client::start (macp_start_options); setters as ClientOptions'.
class StartOptions : public detail::Builder<macp_start_options, macp_start_options_new, macp_start_options_free> {
public:
    StartOptions &session_id(OptText id) { return text(id, macp_start_options_set_session_id); }
    StartOptions &intent(OptText intent) { return text(intent, macp_start_options_set_intent); }
    StartOptions &mode_version(OptText v) { return text(v, macp_start_options_set_mode_version); }
    StartOptions &configuration_version(OptText v) { return text(v, macp_start_options_set_configuration_version); }
    StartOptions &policy_version(OptText v) { return text(v, macp_start_options_set_policy_version); }
    StartOptions &context_id(OptText v) { return text(v, macp_start_options_set_context_id); }
    StartOptions &participant(std::string_view p) { return text(p, macp_start_options_add_participant); }
    StartOptions &participants(std::initializer_list<std::string_view> ps) {
        for (std::string_view p : ps) participant(p);
        return *this;
    }
    StartOptions &ttl(std::chrono::milliseconds ttl) {
        apply({}, [&](macp_start_options *o, macp_error **e) {
            return macp_start_options_set_ttl_ms(o, static_cast<std::int64_t>(ttl.count()), e);
        });
        return *this;
    }
    StartOptions &max_suspend(std::chrono::milliseconds d) {
        apply({}, [&](macp_start_options *o, macp_error **e) {
            return macp_start_options_set_max_suspend_ms(o, static_cast<std::int64_t>(d.count()), e);
        });
        return *this;
    }
    StartOptions &extension(std::string_view key, BytesView value) {
        detail::Text k(key);
        apply({&k}, [&](macp_start_options *o, macp_error **e) {
            return macp_start_options_set_extension(o, k.c(), value.data(), value.size(), e);
        });
        return *this;
    }
    StartOptions &root(std::string_view uri, OptText name = {}) {
        detail::Text u(uri), n(name);
        apply({&u, &n}, [&](macp_start_options *o, macp_error **e) {
            return macp_start_options_add_root(o, u.c(), n.c(), e);
        });
        return *this;
    }

private:
    StartOptions &text(OptText v, macp_status (*set)(macp_start_options *, const char *, macp_error **)) {
        detail::Text x(v);
        apply({&x}, [&](macp_start_options *o, macp_error **e) { return set(o, x.c(), e); });
        return *this;
    }
};

// Reconnect and buffering settings of a watcher (macp_watch_options).
class WatchOptions {
public:
    WatchOptions() noexcept : o_(macp_watch_options_default()) {}
    WatchOptions &reconnect(bool on) noexcept { o_.reconnect = on; return *this; }
    WatchOptions &max_reconnect_attempts(std::uint32_t n) noexcept { o_.max_reconnect_attempts = n; return *this; }
    WatchOptions &backoff(std::chrono::milliseconds base, std::chrono::milliseconds max) noexcept {
        o_.backoff_base_ms = detail::ms(base);
        o_.backoff_max_ms = detail::ms(max);
        return *this;
    }
    WatchOptions &queue_capacity(std::uint32_t n) noexcept { o_.queue_capacity = n; return *this; }
    const macp_watch_options *c() const noexcept { return &o_; }

private:
    macp_watch_options o_;
};

// ---------------------------------------------------------------- watcher

namespace detail {

// What a watcher's callback needs: the user's callable, owned here.
struct WatchState {
    virtual ~WatchState() = default;
    virtual void invoke(const Event &e) = 0;
    // The owner closed from inside the callback: the trampoline deletes this.
    std::atomic<bool> orphaned{false};
    std::atomic<bool> failed{false};
#if MACP_HPP_EXCEPTIONS
    std::exception_ptr exception;  // written before `failed`, read after it
#endif
};

template <class F>
struct WatchStateOf final : WatchState {
    template <class G>
    explicit WatchStateOf(G &&g) : f(std::forward<G>(g)) {}
    void invoke(const Event &e) override { f(e); }
    F f;
};

// The watch state whose callback runs on this thread, if any.
inline WatchState *&current_watch() noexcept {
    thread_local WatchState *current = nullptr;
    return current;
}

inline void watch_trampoline(const macp_event *ev, void *user_data) {
    WatchState *st = static_cast<WatchState *>(user_data);
    WatchState *outer = std::exchange(current_watch(), st);
    if (!st->failed.load(std::memory_order_acquire)) {
#if MACP_HPP_EXCEPTIONS
        try {
            st->invoke(Event(ev));
        } catch (...) {
            st->exception = std::current_exception();
            st->failed.store(true, std::memory_order_release);
        }
#else
        st->invoke(Event(ev));
#endif
    }
    current_watch() = outer;
    if (st->orphaned.load(std::memory_order_acquire)) delete st;
}

template <class F>
using EventCallable = std::enable_if_t<std::is_invocable<std::decay_t<F> &, const Event &>::value>;

}  // namespace detail

// A running watcher (macp_watcher) and the callable it owns. Closing it
// (close() or the destructor) stops the stream and waits until the callback
// has returned; from inside its own callback it returns at once and the
// callable is destroyed when that callback returns.
class Watcher {
public:
    Watcher() noexcept = default;
    Watcher(Watcher &&o) noexcept : h_(std::exchange(o.h_, nullptr)), st_(std::exchange(o.st_, nullptr)) {}
    Watcher &operator=(Watcher &&o) noexcept {
        if (this != &o) {
            close();
            h_ = std::exchange(o.h_, nullptr);
            st_ = std::exchange(o.st_, nullptr);
        }
        return *this;
    }
    Watcher(const Watcher &) = delete;
    Watcher &operator=(const Watcher &) = delete;
    ~Watcher() { close(); }

    void close() noexcept {
        macp_watcher *h = std::exchange(h_, nullptr);
        detail::WatchState *st = std::exchange(st_, nullptr);
        if (st == nullptr) return;
        if (detail::current_watch() == st) {
            st->orphaned.store(true, std::memory_order_release);
            macp_watcher_close(h);  // returns at once; the trampoline deletes `st`
        } else {
            macp_watcher_close(h);  // the callback has returned and never runs again
            delete st;
        }
    }

    explicit operator bool() const noexcept { return h_ != nullptr; }
    macp_watcher *get() const noexcept { return h_; }

    // Whether the callable threw (it is then called no more).
    bool failed() const noexcept { return st_ && st_->failed.load(std::memory_order_acquire); }
#if MACP_HPP_EXCEPTIONS
    // The first exception the callable threw, or null.
    std::exception_ptr exception() const noexcept { return failed() ? st_->exception : nullptr; }
    void rethrow_if_failed() const {
        if (failed()) std::rethrow_exception(st_->exception);
    }
    // Close (as close()), then rethrow the first exception the callable
    // threw, if it threw one.
    void close_and_rethrow() {
        std::exception_ptr e = exception();
        if (!e && st_ != nullptr && detail::current_watch() != st_) {
            macp_watcher_close(std::exchange(h_, nullptr));  // the callback has returned for good
            e = exception();
        }
        close();
        if (e) std::rethrow_exception(e);
    }
#endif

    // Send on a session watcher's stream without waiting (its acceptance
    // arrives as an envelope event); returns the message id used.
    Result<std::string> try_send(std::string_view message_type, BytesView payload = {},
                                 OptText message_id = {}) const {
        detail::Text t(message_type), id(message_id);
        if (auto bad = detail::bad_text({&t, &id})) return *bad;
        char out[MACP_ID_BUFFER_LEN] = {0};
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_watcher_send(h_, t.c(), payload.data(), payload.size(), id.c(), out, sizeof out, e);
        });
        if (!r) return r.error();
        return std::string(out);
    }
    MACP_HPP_THROWING(send, (std::string_view message_type, BytesView payload = {}, OptText message_id = {}),
                      (message_type, payload, message_id))

private:
    friend class Session;
    friend class Client;

    template <class F, class Begin>
    static Result<Watcher> start(F &&f, Begin &&begin) {
        auto *st = new detail::WatchStateOf<std::decay_t<F>>(std::forward<F>(f));
        macp_watcher *h = nullptr;
        Result<void> r = detail::call([&](macp_error **e) { return begin(&detail::watch_trampoline, st, &h, e); });
        if (!r) {
            delete st;  // on failure the callback is never called
            return r.error();
        }
        Watcher w;
        w.h_ = h;
        w.st_ = st;
        return Result<Watcher>(std::move(w));
    }

    macp_watcher *h_ = nullptr;
    detail::WatchState *st_ = nullptr;
};

// ---------------------------------------------------------------- projection

// A projection of one session of one mode (macp_projection); thread-safe.
class Projection : public detail::Handle<macp_projection, macp_projection_free> {
public:
    using Handle::Handle;

    static Result<Projection> try_create(std::string_view mode) {
        detail::Text m(mode);
        if (auto bad = detail::bad_text({&m})) return *bad;
        return detail::make<Projection, macp_projection>(
            [&](macp_projection **o, macp_error **e) { return macp_projection_new(m.c(), o, e); });
    }
#if MACP_HPP_EXCEPTIONS
    static Projection create(std::string_view mode) { return try_create(mode).value(); }
#endif

    // Apply one accepted envelope (its protobuf encoding).
    Result<void> try_apply(BytesView envelope) const {
        return detail::call([&](macp_error **e) {
            return macp_projection_apply(get(), envelope.data(), envelope.size(), e);
        });
    }
    // Apply a watcher's envelope event.
    Result<void> try_apply(const Event &ev) const { return try_apply(ev.raw()); }
    MACP_HPP_THROWING(apply, (BytesView envelope), (envelope))
    MACP_HPP_THROWING(apply, (const Event &ev), (ev))

    // The state as JSON text.
    Result<std::string> try_state_json() const {
        return detail::text_call({}, [&](macp_string **o, macp_error **e) {
            return macp_projection_state_json(get(), o, e);
        });
    }
    MACP_HPP_THROWING(state_json, (), ())

#if MACP_HPP_EXCEPTIONS
    // The state parsed by your JSON library: `parse(std::string_view)`, e.g.
    // `p.state([](std::string_view j) { return nlohmann::json::parse(j); })`.
    template <class Parse>
    auto state(Parse &&parse) const -> decltype(parse(std::string_view())) {
        std::string json = state_json();
        return parse(std::string_view(json));
    }
#endif

    Result<DecisionTally> try_decision_tally(std::string_view proposal_id) const {
        detail::Text p(proposal_id);
        if (auto bad = detail::bad_text({&p})) return *bad;
        DecisionTally t;
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_decision_tally(get(), p.c(), &t.approve, &t.reject, &t.abstain, e);
        });
        if (!r) return r.error();
        return t;
    }
    MACP_HPP_THROWING(decision_tally, (std::string_view proposal_id), (proposal_id))

    // `request_id` nullopt: the session's one request.
    Result<QuorumTally> try_quorum_tally(OptText request_id = {}) const {
        detail::Text id(request_id);
        if (auto bad = detail::bad_text({&id})) return *bad;
        QuorumTally t;
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_quorum_tally(get(), id.c(), &t.approve, &t.reject, &t.abstain, &t.required, &t.reached, e);
        });
        if (!r) return r.error();
        return t;
    }
    MACP_HPP_THROWING(quorum_tally, (OptText request_id = {}), (request_id))
};

// ---------------------------------------------------------------- modes

// The helpers of one mode on a session, borrowed from that Session
// (session.decision(), ...). Each sends one message and waits for its ack.
class DecisionHelpers {
public:
    explicit DecisionHelpers(const macp_session *s) noexcept : s_(s) {}
    Result<Ack> try_propose(std::string_view proposal_id, std::string_view option, OptText rationale = {},
                            BytesView supporting_data = {}) const {
        detail::Text p(proposal_id), o(option), r(rationale);
        return detail::ack_call({&p, &o, &r}, [&](macp_ack *a, macp_error **e) {
            return macp_decision_propose(s_, p.c(), o.c(), r.c(), supporting_data.data(), supporting_data.size(), a,
                                         nullptr,
                                         e);
        });
    }
    MACP_HPP_THROWING(propose,
                      (std::string_view proposal_id, std::string_view option, OptText rationale = {},
                       BytesView supporting_data = {}),
                      (proposal_id, option, rationale, supporting_data))
    // `recommendation`: "APPROVE", "REVIEW", "BLOCK" or "REJECT".
    Result<Ack> try_evaluate(std::string_view proposal_id, std::string_view recommendation, double confidence,
                             OptText reason = {}) const {
        detail::Text p(proposal_id), r(recommendation), why(reason);
        return detail::ack_call({&p, &r, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_decision_evaluate(s_, p.c(), r.c(), confidence, why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(evaluate,
                      (std::string_view proposal_id, std::string_view recommendation, double confidence,
                       OptText reason = {}),
                      (proposal_id, recommendation, confidence, reason))
    // `severity` ("low", "medium", "high", "critical") comes before the
    // optional reason, unlike macp_decision_object.
    Result<Ack> try_object(std::string_view proposal_id, std::string_view severity, OptText reason = {}) const {
        detail::Text p(proposal_id), sev(severity), why(reason);
        return detail::ack_call({&p, &sev, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_decision_object(s_, p.c(), why.c(), sev.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(object, (std::string_view proposal_id, std::string_view severity, OptText reason = {}),
                      (proposal_id, severity, reason))
    // `vote`: "APPROVE", "REJECT" or "ABSTAIN".
    Result<Ack> try_vote(std::string_view proposal_id, std::string_view vote, OptText reason = {}) const {
        detail::Text p(proposal_id), v(vote), why(reason);
        return detail::ack_call({&p, &v, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_decision_vote(s_, p.c(), v.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(vote, (std::string_view proposal_id, std::string_view vote, OptText reason = {}),
                      (proposal_id, vote, reason))
    Result<Ack> try_commit(std::string_view action, OptText authority_scope = {}, OptText reason = {},
                           bool outcome_positive = true) const {
        detail::Text act(action), sc(authority_scope), why(reason);
        return detail::ack_call({&act, &sc, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_decision_commit(s_, act.c(), sc.c(), why.c(), outcome_positive, a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(commit,
                      (std::string_view action, OptText authority_scope = {}, OptText reason = {},
                       bool outcome_positive = true),
                      (action, authority_scope, reason, outcome_positive))

private:
    const macp_session *s_;
};

class ProposalHelpers {
public:
    explicit ProposalHelpers(const macp_session *s) noexcept : s_(s) {}
    Result<Ack> try_propose(std::string_view proposal_id, OptText title = {}, OptText summary = {},
                            BytesView details = {}, const std::vector<std::string_view> &tags = {}) const {
        detail::Text p(proposal_id), t(title), s(summary);
        std::vector<detail::Text> tag_texts(tags.begin(), tags.end());
        std::vector<const char *> tag_ptrs;
        for (const detail::Text &x : tag_texts) {
            if (x.bad()) return Error::local(Status::invalid_argument, "a tag contains a NUL byte");
            tag_ptrs.push_back(x.c());
        }
        return detail::ack_call({&p, &t, &s}, [&](macp_ack *a, macp_error **e) {
            return macp_proposal_propose(s_, p.c(), t.c(), s.c(), details.data(), details.size(),
                                         tag_ptrs.empty() ? nullptr : tag_ptrs.data(), tag_ptrs.size(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(propose,
                      (std::string_view proposal_id, OptText title = {}, OptText summary = {}, BytesView details = {},
                       const std::vector<std::string_view> &tags = {}),
                      (proposal_id, title, summary, details, tags))
    Result<Ack> try_counter_propose(std::string_view proposal_id, std::string_view supersedes_proposal_id,
                                    OptText title = {}, OptText summary = {}, BytesView details = {}) const {
        detail::Text p(proposal_id), sup(supersedes_proposal_id), t(title), s(summary);
        return detail::ack_call({&p, &sup, &t, &s}, [&](macp_ack *a, macp_error **e) {
            return macp_proposal_counter_propose(s_, p.c(), sup.c(), t.c(), s.c(), details.data(), details.size(), a,
                                                 nullptr,
                                                 e);
        });
    }
    MACP_HPP_THROWING(counter_propose,
                      (std::string_view proposal_id, std::string_view supersedes_proposal_id, OptText title = {},
                       OptText summary = {}, BytesView details = {}),
                      (proposal_id, supersedes_proposal_id, title, summary, details))
    Result<Ack> try_accept(std::string_view proposal_id, OptText reason = {}) const {
        detail::Text p(proposal_id), why(reason);
        return detail::ack_call({&p, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_proposal_accept(s_, p.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(accept, (std::string_view proposal_id, OptText reason = {}), (proposal_id, reason))
    Result<Ack> try_reject(std::string_view proposal_id, bool terminal, OptText reason = {}) const {
        detail::Text p(proposal_id), why(reason);
        return detail::ack_call({&p, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_proposal_reject(s_, p.c(), terminal, why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(reject, (std::string_view proposal_id, bool terminal, OptText reason = {}),
                      (proposal_id, terminal, reason))
    Result<Ack> try_withdraw(std::string_view proposal_id, OptText reason = {}) const {
        detail::Text p(proposal_id), why(reason);
        return detail::ack_call({&p, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_proposal_withdraw(s_, p.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(withdraw, (std::string_view proposal_id, OptText reason = {}), (proposal_id, reason))

private:
    const macp_session *s_;
};

class TaskHelpers {
public:
    explicit TaskHelpers(const macp_session *s) noexcept : s_(s) {}
    Result<Ack> try_request(std::string_view task_id, OptText title = {}, OptText instructions = {},
                            OptText requested_assignee = {}, BytesView input = {},
                            std::int64_t deadline_unix_ms = 0) const {
        detail::Text id(task_id), t(title), i(instructions), who(requested_assignee);
        return detail::ack_call({&id, &t, &i, &who}, [&](macp_ack *a, macp_error **e) {
            return macp_task_request(s_, id.c(), t.c(), i.c(), who.c(), input.data(), input.size(), deadline_unix_ms,
                                     a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(request,
                      (std::string_view task_id, OptText title = {}, OptText instructions = {},
                       OptText requested_assignee = {}, BytesView input = {}, std::int64_t deadline_unix_ms = 0),
                      (task_id, title, instructions, requested_assignee, input, deadline_unix_ms))
    Result<Ack> try_accept(std::string_view task_id, OptText assignee = {}, OptText reason = {}) const {
        detail::Text id(task_id), who(assignee), why(reason);
        return detail::ack_call({&id, &who, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_task_accept(s_, id.c(), who.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(accept, (std::string_view task_id, OptText assignee = {}, OptText reason = {}),
                      (task_id, assignee, reason))
    Result<Ack> try_reject(std::string_view task_id, OptText assignee = {}, OptText reason = {}) const {
        detail::Text id(task_id), who(assignee), why(reason);
        return detail::ack_call({&id, &who, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_task_reject(s_, id.c(), who.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(reject, (std::string_view task_id, OptText assignee = {}, OptText reason = {}),
                      (task_id, assignee, reason))
    Result<Ack> try_update(std::string_view task_id, double progress, OptText status = {}, OptText message = {},
                           BytesView partial_output = {}) const {
        detail::Text id(task_id), st(status), m(message);
        return detail::ack_call({&id, &st, &m}, [&](macp_ack *a, macp_error **e) {
            return macp_task_update(s_, id.c(), st.c(), progress, m.c(), partial_output.data(), partial_output.size(),
                                    a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(update,
                      (std::string_view task_id, double progress, OptText status = {}, OptText message = {},
                       BytesView partial_output = {}),
                      (task_id, progress, status, message, partial_output))
    Result<Ack> try_complete(std::string_view task_id, BytesView output = {}, OptText summary = {},
                             OptText assignee = {}) const {
        detail::Text id(task_id), who(assignee), sum(summary);
        return detail::ack_call({&id, &who, &sum}, [&](macp_ack *a, macp_error **e) {
            return macp_task_complete(s_, id.c(), who.c(), output.data(), output.size(), sum.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(complete,
                      (std::string_view task_id, BytesView output = {}, OptText summary = {}, OptText assignee = {}),
                      (task_id, output, summary, assignee))
    Result<Ack> try_fail(std::string_view task_id, OptText error_code = {}, OptText reason = {},
                         bool retryable = false, OptText assignee = {}) const {
        detail::Text id(task_id), who(assignee), code(error_code), why(reason);
        return detail::ack_call({&id, &who, &code, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_task_fail(s_, id.c(), who.c(), code.c(), why.c(), retryable, a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(fail,
                      (std::string_view task_id, OptText error_code = {}, OptText reason = {}, bool retryable = false,
                       OptText assignee = {}),
                      (task_id, error_code, reason, retryable, assignee))

private:
    const macp_session *s_;
};

class HandoffHelpers {
public:
    explicit HandoffHelpers(const macp_session *s) noexcept : s_(s) {}
    Result<Ack> try_offer(std::string_view handoff_id, std::string_view target_participant, OptText scope = {},
                          OptText reason = {}) const {
        detail::Text id(handoff_id), to(target_participant), sc(scope), why(reason);
        return detail::ack_call({&id, &to, &sc, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_handoff_offer(s_, id.c(), to.c(), sc.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(offer,
                      (std::string_view handoff_id, std::string_view target_participant, OptText scope = {},
                       OptText reason = {}),
                      (handoff_id, target_participant, scope, reason))
    Result<Ack> try_context(std::string_view handoff_id, BytesView context, OptText content_type = {}) const {
        detail::Text id(handoff_id), ct(content_type);
        return detail::ack_call({&id, &ct}, [&](macp_ack *a, macp_error **e) {
            return macp_handoff_context(s_, id.c(), ct.c(), context.data(), context.size(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(context, (std::string_view handoff_id, BytesView context, OptText content_type = {}),
                      (handoff_id, context, content_type))
    Result<Ack> try_accept(std::string_view handoff_id, OptText reason = {}, OptText accepted_by = {}) const {
        detail::Text id(handoff_id), by(accepted_by), why(reason);
        return detail::ack_call({&id, &by, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_handoff_accept(s_, id.c(), by.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(accept, (std::string_view handoff_id, OptText reason = {}, OptText accepted_by = {}),
                      (handoff_id, reason, accepted_by))
    Result<Ack> try_decline(std::string_view handoff_id, OptText reason = {}, OptText declined_by = {}) const {
        detail::Text id(handoff_id), by(declined_by), why(reason);
        return detail::ack_call({&id, &by, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_handoff_decline(s_, id.c(), by.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(decline, (std::string_view handoff_id, OptText reason = {}, OptText declined_by = {}),
                      (handoff_id, reason, declined_by))

private:
    const macp_session *s_;
};

class QuorumHelpers {
public:
    explicit QuorumHelpers(const macp_session *s) noexcept : s_(s) {}
    Result<Ack> try_request_approval(std::string_view request_id, std::uint32_t required_approvals,
                                     OptText action = {}, OptText summary = {}, BytesView details = {}) const {
        detail::Text id(request_id), act(action), sum(summary);
        return detail::ack_call({&id, &act, &sum}, [&](macp_ack *a, macp_error **e) {
            return macp_quorum_request_approval(s_, id.c(), act.c(), sum.c(), details.data(), details.size(),
                                                required_approvals, a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(request_approval,
                      (std::string_view request_id, std::uint32_t required_approvals, OptText action = {},
                       OptText summary = {}, BytesView details = {}),
                      (request_id, required_approvals, action, summary, details))
    Result<Ack> try_approve(std::string_view request_id, OptText reason = {}) const {
        return ballot(macp_quorum_approve, request_id, reason);
    }
    MACP_HPP_THROWING(approve, (std::string_view request_id, OptText reason = {}), (request_id, reason))
    Result<Ack> try_reject(std::string_view request_id, OptText reason = {}) const {
        return ballot(macp_quorum_reject, request_id, reason);
    }
    MACP_HPP_THROWING(reject, (std::string_view request_id, OptText reason = {}), (request_id, reason))
    Result<Ack> try_abstain(std::string_view request_id, OptText reason = {}) const {
        return ballot(macp_quorum_abstain, request_id, reason);
    }
    MACP_HPP_THROWING(abstain, (std::string_view request_id, OptText reason = {}), (request_id, reason))

private:
    using BallotFn = macp_status (*)(const macp_session *, const char *, const char *, macp_ack *,
                                     const macp_call_options *, macp_error **);
    Result<Ack> ballot(BallotFn fn, std::string_view request_id, OptText reason) const {
        detail::Text id(request_id), why(reason);
        return detail::ack_call({&id, &why}, [&](macp_ack *a, macp_error **e) { return fn(s_, id.c(), why.c(), a, nullptr, e); });
    }
    const macp_session *s_;
};

class MultiRoundHelpers {
public:
    explicit MultiRoundHelpers(const macp_session *s) noexcept : s_(s) {}
    Result<Ack> try_contribute(std::string_view value) const {
        detail::Text v(value);
        return detail::ack_call({&v}, [&](macp_ack *a, macp_error **e) {
            return macp_multi_round_contribute(s_, v.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(contribute, (std::string_view value), (value))

private:
    const macp_session *s_;
};

// ---------------------------------------------------------------- session

namespace detail {
struct SendState {
    virtual ~SendState() = default;
    virtual void invoke(Result<Ack> r) = 0;
};
template <class F>
struct SendStateOf final : SendState {
    template <class G>
    explicit SendStateOf(G &&g) : f(std::forward<G>(g)) {}
    void invoke(Result<Ack> r) override { f(std::move(r)); }
    F f;
};
inline void send_trampoline(macp_status status, const macp_ack *ack, const macp_error *err, void *user_data) {
    std::unique_ptr<SendState> st(static_cast<SendState *>(user_data));
#if MACP_HPP_EXCEPTIONS
    try {
#endif
        if (status == MACP_STATUS_OK && ack != nullptr) {
            st->invoke(Ack::from(*ack));
        } else {
            Status s = status == MACP_STATUS_OK ? Status::panic : static_cast<Status>(status);
            st->invoke(Error::copy(err, s));
        }
#if MACP_HPP_EXCEPTIONS
    } catch (...) {
        // Nothing waits for a completion: its exception is discarded here so
        // that it never unwinds into the library.
    }
#endif
}
}  // namespace detail

// One participant's handle on one session (macp_session); thread-safe.
// Destroying it releases the handle only: the session goes on.
class Session : public detail::Handle<macp_session, macp_session_free> {
public:
    using Handle::Handle;

    // Borrowed from this owner.
    std::string_view id() const noexcept { return macp_session_id(get()); }
    std::string_view mode() const noexcept { return macp_session_mode(get()); }

    DecisionHelpers decision() const noexcept { return DecisionHelpers(get()); }
    ProposalHelpers proposal() const noexcept { return ProposalHelpers(get()); }
    TaskHelpers task() const noexcept { return TaskHelpers(get()); }
    HandoffHelpers handoff() const noexcept { return HandoffHelpers(get()); }
    QuorumHelpers quorum() const noexcept { return QuorumHelpers(get()); }
    MultiRoundHelpers multi_round() const noexcept { return MultiRoundHelpers(get()); }

    Result<SessionInfo> try_info() const {
        return detail::make<SessionInfo, macp_session_info>(
            [&](macp_session_info **o, macp_error **e) { return macp_session_get_info(get(), o, nullptr, e); });
    }
    MACP_HPP_THROWING(info, (), ())

    // The W3C trace context of this session's calls, over the client's
    // (nullopt traceparent: the client's again).
    Result<void> try_set_trace_context(OptText traceparent, OptText tracestate = {}) const {
        detail::Text p(traceparent), st(tracestate);
        if (auto bad = detail::bad_text({&p, &st})) return *bad;
        return detail::call([&](macp_error **e) { return macp_session_set_trace_context(get(), p.c(), st.c(), e); });
    }
    MACP_HPP_THROWING(set_trace_context, (OptText traceparent, OptText tracestate = {}), (traceparent, tracestate))

    Result<Ack> try_cancel(OptText reason = {}) const { return control(macp_session_cancel, reason); }
    MACP_HPP_THROWING(cancel, (OptText reason = {}), (reason))
    Result<Ack> try_suspend(OptText reason = {}) const { return control(macp_session_suspend, reason); }
    MACP_HPP_THROWING(suspend, (OptText reason = {}), (reason))
    Result<Ack> try_resume(OptText reason = {}) const { return control(macp_session_resume, reason); }
    MACP_HPP_THROWING(resume, (OptText reason = {}), (reason))

    // Send any message with an encoded payload; `message_id` nullopt: a new one.
    Result<Ack> try_send(std::string_view message_type, BytesView payload = {}, OptText message_id = {}) const {
        detail::Text t(message_type), id(message_id);
        return detail::ack_call({&t, &id}, [&](macp_ack *a, macp_error **e) {
            const macp_call_options o = detail::with_id(id.c());
            return macp_session_send(get(), t.c(), payload.data(), payload.size(), a, &o, e);
        });
    }
    MACP_HPP_THROWING(send, (std::string_view message_type, BytesView payload = {}, OptText message_id = {}),
                      (message_type, payload, message_id))

    // Send a message whose payload is JSON (`payload_type` nullopt: the
    // mode's type for `message_type`).
    Result<Ack> try_send_json(std::string_view message_type, std::string_view payload_json,
                              OptText payload_type = {}, OptText message_id = {}) const {
        detail::Text t(message_type), j(payload_json), pt(payload_type), id(message_id);
        return detail::ack_call({&t, &j, &pt, &id}, [&](macp_ack *a, macp_error **e) {
            const macp_call_options o = detail::with_id(id.c());
            return macp_session_send_json(get(), t.c(), pt.c(), j.c(), a, &o, e);
        });
    }
    MACP_HPP_THROWING(send_json,
                      (std::string_view message_type, std::string_view payload_json, OptText payload_type = {},
                       OptText message_id = {}),
                      (message_type, payload_json, payload_type, message_id))

    // Send without blocking: `on_done(macp::Result<macp::Ack>)` is called
    // exactly once on a library thread when the send completed (it must not
    // block nor make blocking libmacp calls). On failure here, it is never
    // called (and is destroyed before this returns).
    template <class F, class = std::enable_if_t<std::is_invocable<std::decay_t<F> &, Result<Ack>>::value>>
    Result<void> try_send_async(std::string_view message_type, BytesView payload, F &&on_done,
                                OptText message_id = {}) const {
        detail::Text t(message_type), id(message_id);
        if (auto bad = detail::bad_text({&t, &id})) return *bad;
        auto *st = new detail::SendStateOf<std::decay_t<F>>(std::forward<F>(on_done));
        const macp_call_options o = detail::with_id(id.c());
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_session_send_async(get(), t.c(), payload.data(), payload.size(),
                                           &detail::send_trampoline, st, &o, e);
        });
        if (!r) delete st;
        return r;
    }
#if MACP_HPP_EXCEPTIONS
    template <class F, class = std::enable_if_t<std::is_invocable<std::decay_t<F> &, Result<Ack>>::value>>
    void send_async(std::string_view message_type, BytesView payload, F &&on_done, OptText message_id = {}) const {
        try_send_async(message_type, payload, std::forward<F>(on_done), message_id).value();
    }
#endif

    // Resolve the session; versions are the session's bound ones.
    Result<Ack> try_commit(const Commitment &c) const {
        detail::Text id(c.commitment_id), action(std::string_view(c.action)), scope(c.authority_scope),
            reason(c.reason), ss(c.supersedes_session_id), sh(c.supersedes_commitment_hash);
        return detail::ack_call({&id, &action, &scope, &reason, &ss, &sh}, [&](macp_ack *a, macp_error **e) {
            macp_commitment cc{id.c(), action.c(), scope.c(), reason.c(), c.outcome_positive, ss.c(), sh.c()};
            return macp_session_commit(get(), &cc, a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(commit, (const Commitment &c), (c))

    // Report progress (`total` 0 when unknown).
    Result<Ack> try_progress(double progress, double total, OptText message = {}, OptText progress_token = {},
                             OptText target_message_id = {}) const {
        detail::Text m(message), tok(progress_token), target(target_message_id);
        return detail::ack_call({&m, &tok, &target}, [&](macp_ack *a, macp_error **e) {
            return macp_session_progress(get(), tok.c(), progress, total, m.c(), target.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(progress,
                      (double progress, double total, OptText message = {}, OptText progress_token = {},
                       OptText target_message_id = {}),
                      (progress, total, message, progress_token, target_message_id))

    // Follow the session's accepted envelopes after `after_sequence` (0: all),
    // each passed to `f(const macp::Event&)` on a library thread, in order.
    template <class F, class = detail::EventCallable<F>>
    Result<Watcher> try_watch(F &&f, std::uint64_t after_sequence = 0, const WatchOptions &options = {}) const {
        return Watcher::start(std::forward<F>(f), [&](macp_event_callback cb, void *ud, macp_watcher **o,
                                                      macp_error **e) {
            return macp_session_watch(get(), after_sequence, options.c(), cb, ud, o, nullptr, e);
        });
    }
#if MACP_HPP_EXCEPTIONS
    template <class F, class = detail::EventCallable<F>>
    Watcher watch(F &&f, std::uint64_t after_sequence = 0, const WatchOptions &options = {}) const {
        return try_watch(std::forward<F>(f), after_sequence, options).value();
    }
#endif

private:
    using ControlFn = macp_status (*)(const macp_session *, const char *, macp_ack *, const macp_call_options *,
                                      macp_error **);
    Result<Ack> control(ControlFn fn, OptText reason) const {
        detail::Text why(reason);
        return detail::ack_call({&why}, [&](macp_ack *a, macp_error **e) { return fn(get(), why.c(), a, nullptr, e); });
    }
};

// ---------------------------------------------------------------- client

// A connected client with one identity (macp_client); thread-safe.
// Destroying it ends its calls in flight with Status::cancelled; sessions
// and watchers made from it then fail or end, and must still be destroyed.
class Client : public detail::Handle<macp_client, macp_client_free> {
public:
    using Handle::Handle;

    // Connect and negotiate (blocks up to the connect timeout). A failed
    // setter of `opts` fails here with its error.
    static Result<Client> try_connect(const ClientOptions &opts) {
        if (opts.error()) return *opts.error();
        return detail::make<Client, macp_client>(
            [&](macp_client **o, macp_error **e) { return macp_client_new(opts.get(), o, nullptr, e); });
    }
#if MACP_HPP_EXCEPTIONS
    static Client connect(const ClientOptions &opts) { return try_connect(opts).value(); }
#endif

    // The negotiated protocol version, borrowed from this owner.
    std::string_view protocol_version() const noexcept { return macp_client_protocol_version(get()); }

    // ---- operations
    // Replace the bearer token of this live client (later calls and
    // reconnecting watchers use it); nullopt: send none.
    Result<void> try_set_bearer_token(OptText token) const {
        detail::Text t(token);
        if (auto bad = detail::bad_text({&t})) return *bad;
        return detail::call([&](macp_error **e) {
            return token ? macp_client_set_bearer_token(get(), t.c(), e) : macp_client_clear_bearer_token(get(), e);
        });
    }
    MACP_HPP_THROWING(set_bearer_token, (OptText token), (token))
    // The W3C trace context of every call (nullopt traceparent: none).
    Result<void> try_set_trace_context(OptText traceparent, OptText tracestate = {}) const {
        detail::Text p(traceparent), st(tracestate);
        if (auto bad = detail::bad_text({&p, &st})) return *bad;
        return detail::call([&](macp_error **e) { return macp_client_set_trace_context(get(), p.c(), st.c(), e); });
    }
    MACP_HPP_THROWING(set_trace_context, (OptText traceparent, OptText tracestate = {}), (traceparent, tracestate))

    // ---- sessions
    // Start a session of `mode` as its initiator; `ack` (may be null)
    // receives the SessionStart's acknowledgement.
    Result<Session> try_start(std::string_view mode, const StartOptions &opts, Ack *ack = nullptr) const {
        if (opts.error()) return *opts.error();
        detail::Text m(mode);
        if (auto bad = detail::bad_text({&m})) return *bad;
        macp_ack a{};
        Result<Session> s = detail::make<Session, macp_session>(
            [&](macp_session **o, macp_error **e) { return macp_session_start(get(), m.c(), opts.get(), o, &a, nullptr, e); });
        if (s && ack) *ack = Ack::from(a);
        return s;
    }
    MACP_HPP_THROWING(start, (std::string_view mode, const StartOptions &opts, Ack *ack = nullptr),
                      (mode, opts, ack))
    // Open a handle on an existing session.
    Result<Session> try_open(std::string_view session_id) const {
        detail::Text id(session_id);
        if (auto bad = detail::bad_text({&id})) return *bad;
        return detail::make<Session, macp_session>(
            [&](macp_session **o, macp_error **e) { return macp_session_open(get(), id.c(), o, nullptr, e); });
    }
    MACP_HPP_THROWING(open, (std::string_view session_id), (session_id))
    Result<SessionInfo> try_get_session(std::string_view session_id) const {
        detail::Text id(session_id);
        if (auto bad = detail::bad_text({&id})) return *bad;
        return detail::make<SessionInfo, macp_session_info>(
            [&](macp_session_info **o, macp_error **e) { return macp_client_get_session(get(), id.c(), o, nullptr, e); });
    }
    MACP_HPP_THROWING(get_session, (std::string_view session_id), (session_id))
    Result<Ack> try_cancel_session(std::string_view session_id, OptText reason = {}) const {
        detail::Text id(session_id), why(reason);
        return detail::ack_call({&id, &why}, [&](macp_ack *a, macp_error **e) {
            return macp_client_cancel_session(get(), id.c(), why.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(cancel_session, (std::string_view session_id, OptText reason = {}), (session_id, reason))
    // One page (`page_size` 0: the runtime's default).
    Result<SessionList> try_list_sessions(std::int32_t page_size = 0, OptText page_token = {}) const {
        detail::Text tok(page_token);
        if (auto bad = detail::bad_text({&tok})) return *bad;
        return detail::make<SessionList, macp_session_list>([&](macp_session_list **o, macp_error **e) {
            return macp_client_list_sessions(get(), page_size, tok.c(), o, nullptr, e);
        });
    }
    MACP_HPP_THROWING(list_sessions, (std::int32_t page_size = 0, OptText page_token = {}), (page_size, page_token))
    Result<SessionList> try_list_all_sessions() const {
        return detail::make<SessionList, macp_session_list>(
            [&](macp_session_list **o, macp_error **e) { return macp_client_list_all_sessions(get(), o, nullptr, e); });
    }
    MACP_HPP_THROWING(list_all_sessions, (), ())

    // ---- sends
    Result<Ack> try_send_envelope(BytesView envelope) const {
        return detail::ack_call({}, [&](macp_ack *a, macp_error **e) {
            return macp_client_send_envelope(get(), envelope.data(), envelope.size(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(send_envelope, (BytesView envelope), (envelope))
    // An ambient Signal, `confidence` from 0 to 1.
    Result<Ack> try_send_signal(std::string_view signal_type, BytesView data = {}, double confidence = 0.0,
                                OptText correlation_session_id = {}) const {
        detail::Text t(signal_type), corr(correlation_session_id);
        return detail::ack_call({&t, &corr}, [&](macp_ack *a, macp_error **e) {
            return macp_client_send_signal(get(), t.c(), data.data(), data.size(), confidence, corr.c(), a, nullptr, e);
        });
    }
    MACP_HPP_THROWING(send_signal,
                      (std::string_view signal_type, BytesView data = {}, double confidence = 0.0,
                       OptText correlation_session_id = {}),
                      (signal_type, data, confidence, correlation_session_id))

    // ---- discovery and registries (JSON text)
    Result<std::string> try_initialize_json() const {
        return detail::text_call({}, [&](macp_string **o, macp_error **e) { return macp_client_initialize_json(get(), o, e); });
    }
    MACP_HPP_THROWING(initialize_json, (), ())
    Result<std::string> try_manifest(OptText agent_id = {}) const {
        detail::Text id(agent_id);
        return detail::text_call({&id}, [&](macp_string **o, macp_error **e) {
            return macp_client_get_manifest(get(), id.c(), o, nullptr, e);
        });
    }
    MACP_HPP_THROWING(manifest, (OptText agent_id = {}), (agent_id))
    Result<std::string> try_list_modes() const { return json0(macp_client_list_modes); }
    MACP_HPP_THROWING(list_modes, (), ())
    Result<std::string> try_list_ext_modes() const { return json0(macp_client_list_ext_modes); }
    MACP_HPP_THROWING(list_ext_modes, (), ())
    Result<void> try_register_ext_mode(std::string_view descriptor_json) const {
        return status1(macp_client_register_ext_mode, descriptor_json);
    }
    MACP_HPP_THROWING(register_ext_mode, (std::string_view descriptor_json), (descriptor_json))
    Result<void> try_unregister_ext_mode(std::string_view mode) const {
        return status1(macp_client_unregister_ext_mode, mode);
    }
    MACP_HPP_THROWING(unregister_ext_mode, (std::string_view mode), (mode))
    // Returns the mode's identifier after promotion.
    Result<std::string> try_promote_mode(std::string_view mode, OptText promoted_mode_name = {}) const {
        detail::Text m(mode), n(promoted_mode_name);
        return detail::text_call({&m, &n}, [&](macp_string **o, macp_error **e) {
            return macp_client_promote_mode(get(), m.c(), n.c(), o, nullptr, e);
        });
    }
    MACP_HPP_THROWING(promote_mode, (std::string_view mode, OptText promoted_mode_name = {}),
                      (mode, promoted_mode_name))
    Result<std::string> try_list_roots() const { return json0(macp_client_list_roots); }
    MACP_HPP_THROWING(list_roots, (), ())
    Result<void> try_register_policy(std::string_view policy_json) const {
        return status1(macp_client_register_policy, policy_json);
    }
    MACP_HPP_THROWING(register_policy, (std::string_view policy_json), (policy_json))
    Result<void> try_unregister_policy(std::string_view policy_id) const {
        return status1(macp_client_unregister_policy, policy_id);
    }
    MACP_HPP_THROWING(unregister_policy, (std::string_view policy_id), (policy_id))
    Result<std::string> try_get_policy(std::string_view policy_id) const {
        return json1(macp_client_get_policy, policy_id);
    }
    MACP_HPP_THROWING(get_policy, (std::string_view policy_id), (policy_id))
    // Every policy (`mode` nullopt) or those targeting `mode`.
    Result<std::string> try_list_policies(OptText mode = {}) const {
        detail::Text m(mode);
        return detail::text_call({&m}, [&](macp_string **o, macp_error **e) {
            return macp_client_list_policies(get(), m.c(), o, nullptr, e);
        });
    }
    MACP_HPP_THROWING(list_policies, (OptText mode = {}), (mode))
    Result<std::string> try_what_if_replay(std::string_view session_id, std::string_view candidate_json) const {
        detail::Text id(session_id), c(candidate_json);
        return detail::text_call({&id, &c}, [&](macp_string **o, macp_error **e) {
            return macp_client_what_if_replay(get(), id.c(), c.c(), o, nullptr, e);
        });
    }
    MACP_HPP_THROWING(what_if_replay, (std::string_view session_id, std::string_view candidate_json),
                      (session_id, candidate_json))

    // ---- receipts
    Result<std::string> try_decision_receipt(std::string_view session_id) const {
        return json1(macp_client_get_decision_receipt, session_id);
    }
    MACP_HPP_THROWING(decision_receipt, (std::string_view session_id), (session_id))
    Result<std::string> try_receipt_keys() const { return json0(macp_client_get_receipt_keys); }
    MACP_HPP_THROWING(receipt_keys, (), ())

    // ---- runtime-wide streams
    template <class F, class = detail::EventCallable<F>>
    Result<Watcher> try_watch(WatchKind kind, F &&f, const WatchOptions &options = {}) const {
        return Watcher::start(std::forward<F>(f), [&](macp_event_callback cb, void *ud, macp_watcher **o,
                                                      macp_error **e) {
            return macp_client_watch(get(), static_cast<std::int32_t>(kind), options.c(), cb, ud, o, nullptr, e);
        });
    }
#if MACP_HPP_EXCEPTIONS
    template <class F, class = detail::EventCallable<F>>
    Watcher watch(WatchKind kind, F &&f, const WatchOptions &options = {}) const {
        return try_watch(kind, std::forward<F>(f), options).value();
    }
#endif

private:
    using Json0 = macp_status (*)(const macp_client *, macp_string **, const macp_call_options *, macp_error **);
    using Json1 =
        macp_status (*)(const macp_client *, const char *, macp_string **, const macp_call_options *, macp_error **);
    using Status1 = macp_status (*)(const macp_client *, const char *, const macp_call_options *, macp_error **);
    Result<std::string> json0(Json0 fn) const {
        return detail::text_call({}, [&](macp_string **o, macp_error **e) { return fn(get(), o, nullptr, e); });
    }
    Result<std::string> json1(Json1 fn, std::string_view arg) const {
        detail::Text a(arg);
        return detail::text_call({&a}, [&](macp_string **o, macp_error **e) { return fn(get(), a.c(), o, nullptr, e); });
    }
    Result<void> status1(Status1 fn, std::string_view arg) const {
        detail::Text a(arg);
        if (auto bad = detail::bad_text({&a})) return *bad;
        return detail::call([&](macp_error **e) { return fn(get(), a.c(), nullptr, e); });
    }
};

// ---------------------------------------------------------------- participant

namespace detail {
// A participant's handlers, owned by its Participant; the callbacks reach
// them through user_data.
struct ParticipantState {
    std::map<std::string, std::function<void(const Session &, const Envelope &)>, std::less<>> on;
    std::function<void(const Session &, const Envelope &)> other;
    std::function<void(const Session &)> joined;
    std::function<void(const Session &, SessionState, const Error *)> ended;
    std::atomic<bool> failed{false};
#if MACP_HPP_EXCEPTIONS
    std::exception_ptr exception;  // written before `failed`, read after it
#endif

    // Run `f` with the borrowed session handle as a Session, never letting
    // an exception reach the library: the first one is kept and later
    // callbacks are skipped.
    template <class F>
    void guarded(const macp_session *h, F &&f) noexcept {
        if (failed.load(std::memory_order_acquire)) return;
        Session s(const_cast<macp_session *>(h));
        struct Lend {
            Session &s;
            ~Lend() { s.release(); }  // borrowed: the participant frees it
        } lend{s};
#if MACP_HPP_EXCEPTIONS
        try {
            f(static_cast<const Session &>(s));
        } catch (...) {
            exception = std::current_exception();
            failed.store(true, std::memory_order_release);
        }
#else
        f(static_cast<const Session &>(s));
#endif
    }

    static void message(const macp_session *h, const macp_envelope *env, void *ud) {
        auto *st = static_cast<ParticipantState *>(ud);
        Envelope e(env);
        auto it = st->on.find(e.message_type());
        auto &f = it != st->on.end() ? it->second : st->other;
        if (f) st->guarded(h, [&](const Session &s) { f(s, e); });
    }
    static void on_joined(const macp_session *h, macp_session_state, const macp_error *, void *ud) {
        auto *st = static_cast<ParticipantState *>(ud);
        if (st->joined) st->guarded(h, [&](const Session &s) { st->joined(s); });
    }
    static void on_ended(const macp_session *h, macp_session_state state, const macp_error *cause, void *ud) {
        auto *st = static_cast<ParticipantState *>(ud);
        if (!st->ended) return;
        std::optional<Error> err;
        if (cause) err = Error::copy(cause, static_cast<Status>(macp_error_status(cause)));
        st->guarded(h, [&](const Session &s) {
            st->ended(s, static_cast<SessionState>(state), err ? &*err : nullptr);
        });
    }
};
}  // namespace detail

// The participant loop (macp_participant): joins every session naming the
// client's identity and calls the handler of each accepted envelope's
// message type (or on_other's), with the session borrowed as a `const
// Session &` to answer on. Handlers run on the participant's own thread,
// one at a time; register them before start(). Destroying it (or stop())
// waits until no handler runs. A handler that throws is called no more
// (nor any other); failed() and rethrow_if_failed() report it.
class Participant {
public:
    // `identity` nullopt: the client's expected sender, else its bearer token.
    static Result<Participant> try_create(const Client &client, OptText identity = {},
                                          const WatchOptions &options = {}) {
        detail::Text id(identity);
        if (auto bad = detail::bad_text({&id})) return *bad;
        Participant p;
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_participant_new(client.get(), id.c(), options.c(), &p.h_, e);
        });
        if (!r) return r.error();
        p.st_ = std::make_unique<detail::ParticipantState>();
        return p;
    }
#if MACP_HPP_EXCEPTIONS
    static Participant create(const Client &client, OptText identity = {}, const WatchOptions &options = {}) {
        return try_create(client, identity, options).value();
    }
#endif
    Participant(Participant &&o) noexcept : h_(std::exchange(o.h_, nullptr)), st_(std::move(o.st_)) {}
    Participant &operator=(Participant &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
            st_ = std::move(o.st_);
        }
        return *this;
    }
    Participant(const Participant &) = delete;
    Participant &operator=(const Participant &) = delete;
    ~Participant() { reset(); }

    // `f(const Session &, const Envelope &)` for envelopes of `message_type`.
    template <class F>
    Result<void> try_on(std::string_view message_type, F &&f) {
        detail::Text t(message_type);
        if (auto bad = detail::bad_text({&t})) return *bad;
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_participant_on(h_, t.c(), &detail::ParticipantState::message, st_.get(), e);
        });
        if (r) st_->on[std::string(message_type)] = std::forward<F>(f);
        return r;
    }
    // `f(const Session &, const Envelope &)` for the types without a handler.
    template <class F>
    Result<void> try_on_other(F &&f) {
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_participant_on_other(h_, &detail::ParticipantState::message, st_.get(), e);
        });
        if (r) st_->other = std::forward<F>(f);
        return r;
    }
    // `f(const Session &)` when a session is joined.
    template <class F>
    Result<void> try_on_joined(F &&f) {
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_participant_on_joined(h_, &detail::ParticipantState::on_joined, st_.get(), e);
        });
        if (r) st_->joined = std::forward<F>(f);
        return r;
    }
    // `f(const Session &, SessionState, const Error *cause)` when a session ended.
    template <class F>
    Result<void> try_on_ended(F &&f) {
        Result<void> r = detail::call([&](macp_error **e) {
            return macp_participant_on_ended(h_, &detail::ParticipantState::on_ended, st_.get(), e);
        });
        if (r) st_->ended = std::forward<F>(f);
        return r;
    }
    Result<void> try_start() {
        return detail::call([&](macp_error **e) { return macp_participant_start(h_, nullptr, e); });
    }
    // Block until the loop ends: ok after stop(), Status::cancelled when the
    // client was destroyed.
    Result<void> try_wait() const {
        return detail::call([&](macp_error **e) { return macp_participant_wait(h_, e); });
    }
    // Stop; from a handler too (that handler is then the last).
    void stop() noexcept { macp_participant_stop(h_, nullptr); }
#if MACP_HPP_EXCEPTIONS
    template <class F>
    Participant &on(std::string_view message_type, F &&f) {
        try_on(message_type, std::forward<F>(f)).value();
        return *this;
    }
    template <class F>
    Participant &on_other(F &&f) {
        try_on_other(std::forward<F>(f)).value();
        return *this;
    }
    template <class F>
    Participant &on_joined(F &&f) {
        try_on_joined(std::forward<F>(f)).value();
        return *this;
    }
    template <class F>
    Participant &on_ended(F &&f) {
        try_on_ended(std::forward<F>(f)).value();
        return *this;
    }
    void start() { try_start().value(); }
    void wait() const { try_wait().value(); }
    void rethrow_if_failed() const {
        if (failed()) std::rethrow_exception(st_->exception);
    }
#endif
    bool failed() const noexcept { return st_ && st_->failed.load(std::memory_order_acquire); }
    macp_participant *get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    Participant() noexcept = default;
    void reset() noexcept {
        // Stops it: no handler runs after this, so the state may go.
        macp_participant_free(std::exchange(h_, nullptr));
        st_.reset();
    }

    macp_participant *h_ = nullptr;
    std::unique_ptr<detail::ParticipantState> st_;
};
// ---------------------------------------------------------------- logs

enum class LogLevel : std::int32_t {
    off = MACP_LOG_LEVEL_OFF,
    error = MACP_LOG_LEVEL_ERROR,
    warn = MACP_LOG_LEVEL_WARN,
    info = MACP_LOG_LEVEL_INFO,
    debug = MACP_LOG_LEVEL_DEBUG,
    trace = MACP_LOG_LEVEL_TRACE,
};
inline std::string_view log_level_name(LogLevel l) noexcept {
    return macp_log_level_name(static_cast<std::int32_t>(l));
}

// The process-wide log callback (macp_set_log_callback, whose thread and
// reentrancy rules apply); a null callback or LogLevel::off turns it off.
inline Result<void> set_log_callback(LogLevel level, macp_log_callback callback, void *user_data = nullptr) {
    return detail::call([&](macp_error **e) {
        return macp_set_log_callback(static_cast<std::int32_t>(level), callback, user_data, e);
    });
}

}  // namespace macp

#undef MACP_HPP_THROWING

#endif  // MACP_HPP

// What every C++ test program needs: checks that count failures, and a
// client per identity against the runtime at $MACP_TARGET
// (scripts/with-runtime.sh starts one). The last line printed is
// "N passed, N failed"; the exit status is 1 when a check failed.
#ifndef MACP_TEST_CHECK_HPP
#define MACP_TEST_CHECK_HPP

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <string_view>

#include "macp.hpp"

namespace t {

inline int passed = 0;
inline int failed = 0;

inline void check(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
}

// A check on a Result: prints the error when it failed.
template <class R>
bool ok(const R &r, const char *what, const char *file, int line) {
    check(r.ok(), what, file, line);
    if (!r.ok()) std::fprintf(stderr, "  %s: %s\n", r.error().code().c_str(), r.error().message().c_str());
    return r.ok();
}

inline int finish() {
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

inline std::string target() {
    const char *t = std::getenv("MACP_TARGET");
    if (!t) {
        std::fprintf(stderr, "MACP_TARGET is not set (run under scripts/with-runtime.sh)\n");
        std::exit(2);
    }
    return t;
}

// Options for a plaintext client authenticated as `identity`.
inline macp::ClientOptions options_for(std::string_view identity) {
    macp::ClientOptions o;
    o.target(target())
        .allow_insecure()
        .bearer_token(identity)
        .expected_sender(identity)
        .call_timeout(std::chrono::seconds(20));
    return o;
}

inline macp::Client connect_as(std::string_view identity) {
    macp::Result<macp::Client> c = macp::Client::try_connect(options_for(identity));
    if (!c) {
        std::fprintf(stderr, "connect as %.*s: %s\n", static_cast<int>(identity.size()), identity.data(),
                     c.error().what());
        std::exit(2);
    }
    return std::move(c).value();
}

// Wait (at most `limit`) until `pred()` holds, woken by `cv`.
template <class Pred>
bool wait_for(std::mutex &mu, std::condition_variable &cv, Pred pred,
              std::chrono::seconds limit = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, pred);
}

}  // namespace t

#define CHECK(cond) ::t::check((cond), #cond, __FILE__, __LINE__)
#define CHECK_OK(r) ::t::ok((r), #r, __FILE__, __LINE__)

#endif

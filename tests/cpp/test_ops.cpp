// Operating a client from C++: the log callback, a bearer token replaced on
// a live client, trace context on client and session, and the client
// identity option, against a real runtime.
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "check.hpp"

namespace {

struct Lines {
    std::mutex mu;
    std::vector<std::string> lines;
};

void on_log(const macp_log_record *r, void *user_data) {
    auto *l = static_cast<Lines *>(user_data);
    std::string line = std::string(macp::log_level_name(static_cast<macp::LogLevel>(r->level))) + " " + r->message;
    std::lock_guard<std::mutex> lock(l->mu);
    l->lines.push_back(line);
}

macp::Client plain_client(std::string_view token) {
    macp::ClientOptions o;
    o.target(t::target()).allow_insecure().bearer_token(token).call_timeout(std::chrono::seconds(20));
    macp::Result<macp::Client> c = macp::Client::try_connect(o);
    CHECK_OK(c);
    return std::move(c).value();
}

void logs_and_tokens() {
    Lines lines;
    CHECK_OK(macp::set_log_callback(macp::LogLevel::info, on_log, &lines));
    macp::Client coord = plain_client("cpp-coordinator");
    macp::StartOptions so;
    so.participant("cpp-alice").participant("cpp-bob").ttl(std::chrono::minutes(1));
    macp::Result<macp::Session> s = coord.try_start(macp::mode::decision, so);
    CHECK_OK(s);
    macp::Client c = plain_client("cpp-alice");
    macp::Result<macp::Session> as = c.try_open(s.value().id());
    CHECK_OK(as);
    CHECK_OK(as.value().decision().try_propose("p1", "x"));
    CHECK_OK(c.try_set_bearer_token("cpp-mallory"));
    CHECK(as.value().decision().try_propose("p2", "x").status() == macp::Status::forbidden);
    CHECK_OK(c.try_set_bearer_token("cpp-bob"));
    CHECK_OK(as.value().decision().try_propose("p3", "x"));
    CHECK_OK(c.try_set_bearer_token(std::nullopt));
    CHECK(as.value().decision().try_propose("p4", "x").status() == macp::Status::unauthenticated);
    CHECK(c.try_set_bearer_token("two words").status() == macp::Status::invalid_argument);
    CHECK_OK(macp::set_log_callback(macp::LogLevel::off, nullptr));
    std::lock_guard<std::mutex> lock(lines.mu);
    bool connected = false;
    for (const std::string &l : lines.lines) {
        connected = connected || l == "info connected";
        CHECK(l.find("cpp-mallory") == std::string::npos);
    }
    CHECK(connected);
}

void trace_and_identity() {
    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    macp::Client c = plain_client("cpp-coordinator");
    CHECK_OK(c.try_set_trace_context(tp, "vendor=1"));
    CHECK(c.try_set_trace_context("00-0-0-01").status() == macp::Status::invalid_argument);
    macp::StartOptions so;
    so.participant("cpp-bob").ttl(std::chrono::minutes(1));
    macp::Result<macp::Session> s = c.try_start(macp::mode::decision, so);
    CHECK_OK(s);
    CHECK_OK(s.value().try_set_trace_context(tp));
    CHECK_OK(s.value().try_info());
    CHECK_OK(s.value().try_set_trace_context(std::nullopt));
    CHECK_OK(c.try_set_trace_context(std::nullopt));

    const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    macp::ClientOptions bad;
    bad.client_identity(macp::BytesView(cert), macp::BytesView(cert));
    CHECK(bad.error() && bad.error()->status() == macp::Status::invalid_argument);
}

void run(const char *name, void (*test)()) {
    try {
        test();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: unexpected exception %s\n", name, e.what());
        ++t::failed;
    }
}

}  // namespace

int main() {
    run("logs_and_tokens", logs_and_tokens);
    run("trace_and_identity", trace_and_identity);
    return t::finish();
}

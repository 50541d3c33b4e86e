// The C++ agent of the interop test (interop.sh): written only against
// macp.hpp, it takes its steps of one Decision shared with a C agent
// (interop_participant.c) and a macp-sdk-python agent.
//
//   interop_agent TARGET start PARTICIPANT...   start the Decision, print its id
//   interop_agent TARGET propose SESSION_ID      propose p1
//   interop_agent TARGET finish SESSION_ID N     vote, commit, then check the
//                                                session's N accepted envelopes
//
// The identity is "cpp-agent". Exit status 0 on success, 1 on any failure.
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "macp.hpp"

namespace {

using namespace std::chrono_literals;

macp::Client connect(const char *target) {
    macp::ClientOptions o;
    o.target(target).allow_insecure().bearer_token("cpp-agent").expected_sender("cpp-agent");
    return macp::Client::connect(o);
}

int fail(const char *what) {
    std::fprintf(stderr, "interop_agent: %s\n", what);
    return 1;
}

int finish(const macp::Client &c, const std::string &id, std::size_t count) {
    macp::Session s = c.open(id);
    s.decision().vote("p1", "APPROVE", "from C++");
    macp::Ack a = s.decision().commit("decision.selected", "interop", "approved by all three", true);
    if (a.session_state != macp::SessionState::resolved) return fail("the commitment did not resolve the session");

    // Replay the session into a projection: what every agent did.
    macp::Projection p = macp::Projection::create(macp::mode::decision);
    std::mutex mu;
    std::condition_variable cv;
    std::size_t applied = 0;
    macp::Watcher w = s.watch([&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        p.apply(ev);
        std::lock_guard<std::mutex> lock(mu);
        ++applied;
        cv.notify_all();
    });
    {
        std::unique_lock<std::mutex> lock(mu);
        if (!cv.wait_for(lock, 30s, [&] { return applied >= count; })) return fail("the history did not arrive");
    }
    w.close_and_rethrow();
    macp::DecisionTally t = p.decision_tally("p1");
    std::string state = p.state_json();
    std::printf("%s\n", state.c_str());
    if (applied != count) return fail("unexpected number of envelopes");
    if (t.approve != 3 || t.reject != 0) return fail("p1 does not have three approvals");
    for (const char *who : {"\"cpp-agent\":{", "\"c-agent\":{", "\"py-agent\":{"}) {
        if (state.find(who) == std::string::npos) return fail("a participant's vote is missing");
    }
    if (state.find("\"phase\":\"Committed\"") == std::string::npos) return fail("not committed");
    if (c.get_session(id).metadata().state() != macp::SessionState::resolved) return fail("not resolved");
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 4) return fail("usage: interop_agent TARGET start|propose|finish ...");
    const char *step = argv[2];
    try {
        macp::Client c = connect(argv[1]);
        if (std::strcmp(step, "start") == 0) {
            macp::StartOptions so;
            so.intent("interop: C++, C and Python").ttl(60s);
            for (int i = 3; i < argc; ++i) so.participant(argv[i]);
            macp::Session s = c.start(macp::mode::decision, so);
            std::printf("%.*s\n", static_cast<int>(s.id().size()), s.id().data());
            return 0;
        }
        if (std::strcmp(step, "propose") == 0) {
            c.open(argv[3]).decision().propose("p1", "postgres", "from C++");
            return 0;
        }
        if (std::strcmp(step, "finish") == 0 && argc == 5) {
            return finish(c, argv[3], static_cast<std::size_t>(std::stoul(argv[4])));
        }
        return fail("unknown step");
    } catch (const macp::Error &e) {
        std::fprintf(stderr, "interop_agent %s: %s (%s)\n", step, e.what(), std::string(macp::status_name(e.status())).c_str());
        return 1;
    }
}

// The Decision of examples/decision.c in C++, with include/macp.hpp: a
// coordinator and two agents, each a client with its own identity, propose,
// evaluate, object, vote and commit against a MACP runtime; a watcher
// follows the session and a projection tallies the votes.
//
//   decision_cpp [host:port]      (default: $MACP_TARGET, else 127.0.0.1:50051)
//
// The runtime must accept plaintext connections (MACP_ALLOW_INSECURE=1) and
// authenticate `Authorization: Bearer <name>` as <name> (its development
// mode, when no tokens are configured).
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

#include "macp.hpp"

using namespace std::chrono_literals;

namespace {

macp::Client connect_as(const std::string &target, std::string_view identity) {
    macp::ClientOptions opts;
    opts.target(target).allow_insecure().bearer_token(identity).expected_sender(identity);
    macp::Client client = macp::Client::connect(opts);
    std::cout << "[" << identity << "] connected, protocol " << client.protocol_version() << "\n";
    return client;
}

void step(std::string_view who, std::string_view what, const macp::Ack &ack) {
    std::printf("%-13s %-30s accepted: message %s, session %s\n", ("[" + std::string(who) + "]").c_str(),
                std::string(what).c_str(), ack.message_id.c_str(),
                std::string(macp::state_name(ack.session_state)).c_str());
}

}  // namespace

int main(int argc, char **argv) {
    const char *env = std::getenv("MACP_TARGET");
    std::string target = argc > 1 ? argv[1] : env ? env : "127.0.0.1:50051";
    std::cout << "libmacp " << macp::version() << ", runtime at " << target << "\n";

    try {
        macp::Client coordinator = connect_as(target, "coordinator");
        macp::Client alice = connect_as(target, "alice");
        macp::Client bob = connect_as(target, "bob");

        // The coordinator starts a Decision with alice and bob.
        macp::StartOptions start;
        start.intent("choose the primary database").participants({"alice", "bob"}).ttl(60s);
        macp::Session s_coord = coordinator.start(macp::mode::decision, start);
        std::cout << "[coordinator] started " << macp::mode::decision << " session " << s_coord.id() << "\n";

        // It follows the session: every accepted envelope, in order, into a projection.
        macp::Projection projection = macp::Projection::create(macp::mode::decision);
        std::mutex mu;
        std::condition_variable cv;
        std::uint64_t seen = 0;
        macp::Watcher watcher = s_coord.watch([&](const macp::Event &ev) {
            if (ev.kind() != macp::EventKind::envelope) return;
            projection.apply(ev);
            std::lock_guard<std::mutex> lock(mu);
            seen = ev.sequence();
            cv.notify_all();
        });

        // Each agent opens its own handle on the session.
        macp::Session s_alice = alice.open(s_coord.id());
        macp::Session s_bob = bob.open(s_coord.id());

        step("alice", "Proposal p1: postgres", s_alice.decision().propose("p1", "postgres", "mature, we know it"));
        step("bob", "Proposal p2: sqlite", s_bob.decision().propose("p2", "sqlite", "no server to run"));
        step("bob", "Evaluation p1: APPROVE 0.8", s_bob.decision().evaluate("p1", "APPROVE", 0.8, "scales with us"));
        step("alice", "Objection p2: medium", s_alice.decision().object("p2", "medium", "no concurrent writers"));
        step("alice", "Vote p1: APPROVE", s_alice.decision().vote("p1", "APPROVE", "best fit"));
        step("bob", "Vote p1: APPROVE", s_bob.decision().vote("p1", "APPROVE", "agreed"));

        macp::DecisionTally tally;
        {
            // SessionStart, two proposals, an evaluation, an objection, two votes.
            std::unique_lock<std::mutex> lock(mu);
            if (!cv.wait_for(lock, 30s, [&] { return seen >= 7; })) {
                std::cerr << "the watcher did not see every message\n";
                return 1;
            }
        }
        tally = projection.decision_tally("p1");
        std::cout << "[coordinator] p1 tally: " << tally.approve << " approve, " << tally.reject << " reject\n";
        watcher.close();

        step("coordinator", "Commitment: decision.selected",
             s_coord.decision().commit("decision.selected", "storage", "p1 approved by all voters", true));

        // Every participant reads the same final state.
        macp::SessionInfo info = s_bob.info();
        macp::SessionMetadataView m = info.metadata();
        std::cout << "session " << m.session_id() << ": " << macp::state_name(m.state()) << ", initiator "
                  << m.initiator() << ", " << m.participants().size() << " participants\n";
        for (const macp::ParticipantActivity &a : m.activity())
            std::printf("  %-12.*s %u messages\n", static_cast<int>(a.participant_id.size()),
                        a.participant_id.data(), a.message_count);
        return m.state() == macp::SessionState::resolved && tally.approve == 2 ? 0 : 1;
    } catch (const macp::Error &e) {
        std::cerr << "failed: " << e.code() << " (" << e.message() << ")\n";
        return 1;
    }
}

// Every mode run to a commitment through macp.hpp, against a real runtime;
// a session watcher replays each session into a Projection whose tallies and
// JSON state are checked. Also: session control, listing, discovery, the
// policy registry, signals, commitment hashes and decision receipts.
#include <atomic>
#include <string>
#include <vector>

#include "check.hpp"

namespace {

using namespace std::chrono_literals;

macp::Session start(const macp::Client &initiator, std::string_view mode,
                    std::initializer_list<std::string_view> participants) {
    macp::StartOptions so;
    so.participants(participants).ttl(60s).intent("test");
    return initiator.start(mode, so);
}

macp::Commitment commitment(std::string action, bool positive) {
    macp::Commitment c;
    c.action = std::move(action);
    c.authority_scope = "test";
    c.reason = "done";
    c.outcome_positive = positive;
    return c;
}

// A projection of `s`'s mode holding its first `count` accepted envelopes.
macp::Projection project(const macp::Session &s, std::size_t count) {
    macp::Projection p = macp::Projection::create(s.mode());
    std::mutex mu;
    std::condition_variable cv;
    std::size_t applied = 0, failures = 0;
    macp::Watcher w = s.watch([&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        macp::Result<void> r = p.try_apply(ev);
        std::lock_guard<std::mutex> lock(mu);
        ++applied;
        if (!r) ++failures;
        cv.notify_all();
    });
    CHECK(t::wait_for(mu, cv, [&] { return applied >= count; }, std::chrono::seconds(5)));
    if (applied != count) std::fprintf(stderr, "  %s: %zu of %zu envelopes\n", std::string(s.mode()).c_str(), applied, count);
    w.close();
    CHECK(applied == count);
    CHECK(failures == 0);
    return p;
}

bool has_all(const std::string &json, std::initializer_list<const char *> fragments) {
    bool ok = true;
    for (const char *f : fragments) {
        if (json.find(f) == std::string::npos) {
            std::fprintf(stderr, "  state lacks %s:\n  %s\n", f, json.c_str());
            ok = false;
        }
    }
    return ok;
}

void decision() {
    macp::Client coord = t::connect_as("coord"), alice = t::connect_as("alice"), bob = t::connect_as("bob");
    macp::Ack started;
    macp::StartOptions so;
    so.participants({"alice", "bob"}).ttl(60s);
    macp::Session sc = coord.start(macp::mode::decision, so, &started);
    CHECK(started.session_state == macp::SessionState::open);
    CHECK(started.session_id == sc.id());
    CHECK(sc.mode() == macp::mode::decision);
    macp::Session sa = alice.open(sc.id()), sb = bob.open(sc.id());

    macp::Ack a = sa.decision().propose("p1", "postgres", "mature");
    CHECK(a.message_id.size() == 36 && a.attempts == 1 && !a.duplicate);
    sb.decision().propose("p2", "sqlite");
    sb.decision().evaluate("p1", "APPROVE", 0.75, "fine");
    sb.decision().object("p1", "low", "cost");
    sa.decision().vote("p1", "APPROVE");
    sb.decision().vote("p1", "REJECT", std::string("no"));
    a = sc.decision().commit("decision.selected", "test", "done", true);
    CHECK(a.session_state == macp::SessionState::resolved);

    macp::Projection p = project(sb, 8);
    macp::DecisionTally tally = p.decision_tally("p1");
    CHECK(tally.approve == 1 && tally.reject == 1 && tally.abstain == 0);
    CHECK(p.decision_tally("p2").approve == 0);
    CHECK(has_all(p.state_json(), {"\"phase\":\"Committed\"", "\"severity\":\"low\"", "\"confidence\":0.75",
                                   "\"initiator\":\"coord\"", "\"action\":\"decision.selected\"",
                                   "\"applied\":8"}));
    // The hook for a JSON library: any callable taking the text.
    std::size_t length = p.state([](std::string_view json) { return json.size(); });
    CHECK(length == p.state_json().size());
    // A projection of another mode refuses a Decision tally.
    CHECK(macp::Projection::create(macp::mode::quorum).try_decision_tally("p1").status() ==
          macp::Status::invalid_argument);

    macp::SessionInfo info = sa.info();
    macp::SessionMetadataView m = info.metadata();
    CHECK(m.state() == macp::SessionState::resolved);
    CHECK(m.initiator() == "coord");
    CHECK(m.session_id() == sc.id());
    CHECK(m.mode_version() == "1.0.0");
    std::vector<std::string_view> parts = m.participants();
    CHECK(parts.size() == 2 && parts[0] == "alice" && parts[1] == "bob");
    std::uint32_t messages = 0;
    for (const macp::ParticipantActivity &act : m.activity()) messages += act.message_count;
    CHECK(messages >= 6);

    // The same metadata through the client, and in the session list.
    CHECK(coord.get_session(sc.id()).metadata().state() == macp::SessionState::resolved);
    macp::SessionList all = coord.list_all_sessions();
    bool listed = false;
    for (std::size_t i = 0; i < all.size(); ++i) listed = listed || all[i].session_id() == sc.id();
    CHECK(listed);
    CHECK(all[all.size()].session_id().empty());  // out of range: empty, not a crash
    CHECK(all.next_page_token().empty());
    macp::SessionList page = coord.list_sessions(1);
    CHECK(page.size() == 1);

    // Commitment hashes: the session's commitment, recomputed offline.
    macp::Commitment c = commitment("decision.selected", true);
    c.commitment_id = "c-1";
    std::string h = macp::commitment_hash(c, "1.0.0", "", "config.default");
    CHECK(h.rfind("sha256:", 0) == 0 && h.size() == 71);
    CHECK(macp::is_canonical_commitment_hash(h));
    CHECK(!macp::is_canonical_commitment_hash("SHA256:00"));
    std::vector<std::uint8_t> wire = macp::payload_from_json(
        "macp.v1.CommitmentPayload",
        R"({"commitment_id":"c-1","action":"decision.selected","authority_scope":"test","reason":"done",)"
        R"("outcome_positive":true,"mode_version":"1.0.0","configuration_version":"config.default"})");
    CHECK(macp::commitment_hash_of_wire(wire) == h);
    macp::CommitmentVerification v = macp::commitment_verify(wire, h);
    CHECK(v.outcome == macp::CommitmentOutcome::match && v.computed_hash == h);
    std::string wrong = h;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    CHECK(macp::commitment_verify(wire, wrong).outcome == macp::CommitmentOutcome::mismatch);
    CHECK(macp::payload_to_json("macp.v1.CommitmentPayload", wire).find("\"action\":\"decision.selected\"") !=
          std::string::npos);

    // The decision receipt, verified offline against the runtime's keys.
    macp::Result<std::string> receipt = coord.try_decision_receipt(sc.id());
    if (receipt) {
        std::string keys = coord.receipt_keys();
        macp::ReceiptVerification rv = macp::receipt_verify(*receipt, {keys});
        CHECK(rv.integrity() == macp::ReceiptIntegrity::match);
        CHECK(rv.verdict() == macp::ReceiptVerdict::attested || rv.verdict() == macp::ReceiptVerdict::integrity_only);
        macp::ReceiptVerification none = macp::receipt_verify(*receipt);
        CHECK(none.verdict() != macp::ReceiptVerdict::attested);
        std::string forged = *receipt;
        std::size_t at = forged.find("decision.selected");
        CHECK(at != std::string::npos);
        if (at != std::string::npos) forged[at] = 'D';
        CHECK(macp::receipt_verify(forged, {keys}).verdict() == macp::ReceiptVerdict::unverified);
    } else {
        // Only a runtime that does not serve receipts may refuse.
        CHECK(receipt.status() == macp::Status::unsupported);
        std::printf("decision receipts: not served by this runtime (%s)\n", receipt.error().message().c_str());
    }
    CHECK(macp::try_receipt_verify("not json").status() == macp::Status::invalid_argument);
}

void proposal() {
    macp::Client buyer = t::connect_as("buyer"), seller = t::connect_as("seller");
    macp::Session sb = start(buyer, macp::mode::proposal, {"buyer", "seller"}), ss = seller.open(sb.id());
    ss.proposal().propose("p1", "offer", "100 units", std::string_view("{}"), {"bulk", "q3"});
    sb.proposal().counter_propose("p2", "p1", "counter");
    ss.proposal().propose("p3");
    CHECK(sb.proposal().try_withdraw("p3").status() == macp::Status::forbidden);
    ss.proposal().withdraw("p3", "never mind");
    CHECK(sb.proposal().try_accept("p3").status() == macp::Status::invalid_envelope);
    ss.proposal().reject("p2", false, "too low");
    ss.proposal().accept("p1");
    sb.proposal().accept("p1", "fine");
    CHECK(sb.commit(commitment("proposal.accepted", true)).session_state == macp::SessionState::resolved);
    CHECK(has_all(project(ss, 9).state_json(),
                  {"\"accepts\":{\"buyer\":\"p1\",\"seller\":\"p1\"}", "\"agreed_proposal\":\"p1\"",
                   "\"disposition\":\"Withdrawn\"", "\"tags\":[\"bulk\",\"q3\"]", "\"phase\":\"Committed\""}));
}

void task() {
    macp::Client planner = t::connect_as("planner"), worker = t::connect_as("worker"), carol = t::connect_as("carol");
    macp::Session sp = start(planner, macp::mode::task, {"planner", "worker", "carol"});
    macp::Session sw = worker.open(sp.id()), sc = carol.open(sp.id());
    sp.task().request("t1", "build", "compile it", std::nullopt, "src");
    sc.task().reject("t1", std::nullopt, "busy");
    sw.task().accept("t1", "worker", "on it");
    CHECK(sp.task().try_accept("t1").status() == macp::Status::invalid_envelope);
    sw.task().update("t1", 0.5, "compiling", "half", std::string_view("log"));
    sw.task().complete("t1", std::string("bin"), "built");
    sp.progress(1, 1, "all done");
    sp.commit(commitment("task.completed", true));
    CHECK(sw.info().metadata().state() == macp::SessionState::resolved);
    CHECK(has_all(project(sp, 7).state_json(),
                  {"\"active_assignee\":\"worker\"", "\"status\":\"completed\"", "\"outcome\":\"completed\""}));

    macp::Session sp2 = start(planner, macp::mode::task, {"planner", "worker"}), sw2 = worker.open(sp2.id());
    sp2.task().request("t1", std::nullopt, std::nullopt, "worker", {}, 4102444800000);
    sw2.task().accept("t1");
    sw2.task().fail("t1", "BUILD_FAILED", "compile error", true);
    sp2.commit(commitment("task.failed", false));
    CHECK(has_all(project(sw2, 5).state_json(),
                  {"\"status\":\"failed\"", "\"error_code\":\"BUILD_FAILED\"", "\"retryable\":true",
                   "\"outcome_positive\":false"}));
}

void handoff() {
    macp::Client owner = t::connect_as("owner"), t1 = t::connect_as("t1"), t2 = t::connect_as("t2");
    macp::Session so = start(owner, macp::mode::handoff, {"owner", "t1", "t2"});
    macp::Session s1 = t1.open(so.id()), s2 = t2.open(so.id());
    so.handoff().offer("h1", "t1", "support", "escalate");
    so.handoff().context("h1", std::string_view("ticket 42"), "text/plain");
    s1.handoff().decline("h1", "at capacity");
    CHECK(so.handoff().try_offer("h2", "t1").status() == macp::Status::invalid_envelope);
    so.handoff().offer("h3", "t2");
    CHECK(s1.handoff().try_accept("h3").status() == macp::Status::forbidden);
    s2.handoff().accept("h3", "ready", "t2");
    so.commit(commitment("handoff.accepted", true));
    CHECK(has_all(project(s2, 7).state_json(),
                  {"\"disposition\":\"Declined\"", "\"disposition\":\"Accepted\"", "\"implicit\":false",
                   "\"size\":9", "\"content_type\":\"text/plain\""}));
}

void quorum() {
    macp::Client coord = t::connect_as("coord"), alice = t::connect_as("alice"), bob = t::connect_as("bob"),
                 carol = t::connect_as("carol");
    macp::Session sc = start(coord, macp::mode::quorum, {"alice", "bob", "carol"});
    macp::Session sa = alice.open(sc.id()), sb = bob.open(sc.id()), sk = carol.open(sc.id());
    sc.quorum().request_approval("r1", 2, "deploy", "v2", std::string_view("{}"));
    sa.quorum().approve("r1", "lgtm");
    CHECK(sa.quorum().try_reject("r1").status() == macp::Status::invalid_envelope);
    sk.quorum().abstain("r1");
    sb.quorum().approve("r1");
    sc.commit(commitment("quorum.approved", true));
    macp::Projection p = project(sb, 6);
    macp::QuorumTally q = p.quorum_tally("r1");
    CHECK(q.approve == 2 && q.reject == 0 && q.abstain == 1 && q.required == 2 && q.reached);
    CHECK(p.quorum_tally().approve == 2);
    CHECK(has_all(p.state_json(), {"\"vote\":\"abstain\"", "\"reached\":true", "\"requested_by\":\"coord\""}));
}

void multi_round() {
    macp::Client coord = t::connect_as("coord"), alice = t::connect_as("alice"), bob = t::connect_as("bob");
    macp::Session sc = start(coord, macp::mode::multi_round, {"alice", "bob"});
    macp::Session sa = alice.open(sc.id()), sb = bob.open(sc.id());
    sa.multi_round().contribute("option_a");
    sb.multi_round().contribute("option_b");
    sb.multi_round().contribute("option_a");
    sc.commit(commitment("multi_round.converged", true));
    CHECK(has_all(project(sa, 5).state_json(),
                  {"\"contributions\":{\"alice\":\"option_a\",\"bob\":\"option_a\"}", "\"converged\":true",
                   "\"rounds\":3"}));
}

void control_and_json_sends() {
    macp::Client coord = t::connect_as("coord"), alice = t::connect_as("alice");
    macp::Session sc = start(coord, macp::mode::decision, {"alice"}), sa = alice.open(sc.id());
    CHECK(sc.suspend("pause").session_state == macp::SessionState::suspended);
    CHECK(sa.decision().try_propose("p1", "x").status() == macp::Status::session_not_open);
    CHECK(sc.resume().session_state == macp::SessionState::open);
    // An envelope encoded here and sent as it is.
    std::vector<std::uint8_t> env = macp::envelope_encode(
        macp::mode::decision, "Proposal", sc.id(),
        macp::payload_from_json("macp.modes.decision.v1.ProposalPayload", R"({"proposal_id":"p1","option":"x"})"),
        "alice");
    CHECK(!alice.send_envelope(env).duplicate);
    // A payload written as JSON, its type inferred from the mode, and a
    // caller-chosen message id sent twice: the second is a duplicate.
    std::string id = macp::new_id();
    macp::Ack a = sa.send_json("Proposal", R"({"proposal_id":"p2","option":"y"})", std::nullopt, id);
    CHECK(a.message_id == id && !a.duplicate);
    macp::Ack again = sa.send_json("Proposal", R"({"proposal_id":"p2","option":"y"})", std::nullopt, id);
    CHECK(again.duplicate && again.message_id == id);
    CHECK(macp::payload_type(macp::mode::decision, "Vote") == "macp.modes.decision.v1.VotePayload");
    std::vector<std::uint8_t> vote =
        macp::payload_from_json(macp::payload_type(macp::mode::decision, "Vote"),
                                R"({"proposal_id":"p1","vote":"APPROVE"})");
    CHECK(sa.send("Vote", vote).session_state == macp::SessionState::open);
    CHECK(coord.cancel_session(sc.id(), "enough").session_state == macp::SessionState::cancelled);
    CHECK(sa.info().metadata().state() == macp::SessionState::cancelled);
}

void discovery_and_registries() {
    macp::Client c = t::connect_as("admin");
    CHECK(c.protocol_version() == "1.0");
    CHECK(c.initialize_json().find("\"capabilities\"") != std::string::npos);
    CHECK(c.list_modes().find(MACP_MODE_DECISION) != std::string::npos);
    CHECK(c.list_ext_modes().find("ext.multi_round.v1") != std::string::npos);
    macp::Result<std::string> manifest = c.try_manifest();
    CHECK(manifest.ok() || manifest.status() == macp::Status::unsupported);
    macp::Result<std::string> roots = c.try_list_roots();
    CHECK(roots.ok() || roots.status() == macp::Status::unsupported);

    c.register_policy(R"({"policy_id":"policy.cpp.unanimous","mode":"macp.mode.decision.v1",)"
                      R"("description":"cpp test","schema_version":3,)"
                      R"("rules":{"voting":{"algorithm":"unanimous"}}})");
    CHECK(c.get_policy("policy.cpp.unanimous").find("\"unanimous\"") != std::string::npos);
    CHECK(c.list_policies(macp::mode::decision).find("policy.cpp.unanimous") != std::string::npos);
    c.unregister_policy("policy.cpp.unanimous");
    CHECK(c.try_get_policy("policy.cpp.unanimous").status() != macp::Status::ok);
    CHECK(c.try_register_policy(R"({"policy_id":"x","nonsense":1})").status() == macp::Status::invalid_argument);

    // A signal reaches a signal watcher.
    std::mutex mu;
    std::condition_variable cv;
    std::string got;
    macp::Watcher w = c.watch(macp::WatchKind::signals, [&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::signal) return;
        std::lock_guard<std::mutex> lock(mu);
        got = std::string(ev.envelope().sender());
        cv.notify_all();
    });
    // The watcher may subscribe after the first signal: send until one arrives.
    bool arrived = false;
    for (int i = 0; i < 50 && !arrived; ++i) {
        c.send_signal("cpp.ping", std::string_view("hi"), 0.5);
        std::unique_lock<std::mutex> lock(mu);
        arrived = cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !got.empty(); });
    }
    CHECK(arrived && got == "admin");
}

// Run one test; an unexpected macp::Error fails it.
// A built policy registers, and a session under it follows its rules: one
// REJECT denies a commitment under unanimity. Bad values are kept in
// error() and returned by try_json().
void policy_builder() {
    macp::Client lead = t::connect_as("cpp-policy-lead"), peer = t::connect_as("cpp-policy-peer");
    macp::PolicyBuilder b(macp::mode::decision, "policy.cpp.built.unanimous");
    b.description("built in C++").voting("unanimous", 1.0).objection_handling(true, 1, "deny");
    CHECK(!b.error());
    std::string doc = b.json();
    CHECK(doc.find("\"unanimous\"") != std::string::npos);
    lead.register_policy(doc);
    for (const char *peer_vote : {"REJECT", "APPROVE"}) {
        macp::StartOptions so;
        so.participants({"cpp-policy-lead", "cpp-policy-peer"}).ttl(60s).intent("test");
        so.policy_version("policy.cpp.built.unanimous");
        macp::Session s = lead.start(macp::mode::decision, so);
        s.decision().propose("p1", "ship");
        s.decision().vote("p1", "APPROVE");
        peer.open(s.id()).decision().vote("p1", peer_vote);
        macp::Result<macp::Ack> done = s.decision().try_commit("decision.selected", "test", "lead");
        if (std::string_view(peer_vote) == "REJECT") {
            CHECK(done.status() == macp::Status::policy_denied);
        } else {
            CHECK(done.ok());
        }
    }

    macp::PolicyBuilder bad(macp::mode::quorum, "policy.cpp.bad");
    bad.quorum_threshold("percentage", 101).quorum_threshold("n_of_m", 2);
    CHECK(bad.error() && bad.error()->status() == macp::Status::invalid_argument);
    CHECK(bad.try_json().status() == macp::Status::invalid_argument);
    CHECK(macp::PolicyBuilder("macp.mode.nope.v1", "p").try_json().status() == macp::Status::invalid_argument);
    CHECK(macp::PolicyBuilder(macp::mode::decision, std::string("p\0q", 3)).try_json().status() ==
          macp::Status::invalid_argument);
    CHECK(macp::PolicyBuilder(macp::mode::decision, "p").voting("supermajority", 0.5).try_json().status() ==
          macp::Status::invalid_argument);
}

// A voter on the participant loop answers a Proposal on the session it is
// lent and hears the session resolve; a handler that throws stops the
// handlers and is reported.
void participant_loop() {
    macp::Client lead = t::connect_as("cpp-part-lead"), voter = t::connect_as("cpp-part-voter");
    std::mutex mu;
    std::condition_variable cv;
    int votes = 0;
    std::vector<std::string> others;
    macp::SessionState ended = macp::SessionState::unspecified;
    macp::Participant p = macp::Participant::create(voter);
    p.on("Proposal", [&](const macp::Session &s, const macp::Envelope &) {
         s.decision().vote("p1", "APPROVE", "fine");
         std::lock_guard<std::mutex> lock(mu);
         ++votes;
         cv.notify_all();
     })
        .on_other([&](const macp::Session &, const macp::Envelope &e) {
            std::lock_guard<std::mutex> lock(mu);
            others.emplace_back(e.message_type());
        })
        .on_ended([&](const macp::Session &, macp::SessionState st, const macp::Error *cause) {
            CHECK(cause == nullptr);
            std::lock_guard<std::mutex> lock(mu);
            ended = st;
            cv.notify_all();
        });
    p.start();
    macp::Session s = start(lead, macp::mode::decision, {"cpp-part-lead", "cpp-part-voter"});
    s.decision().propose("p1", "ship");
    CHECK(t::wait_for(mu, cv, [&] { return votes == 1; }, std::chrono::seconds(30)));
    s.decision().commit("decision.selected", "test", "voted");
    CHECK(t::wait_for(mu, cv, [&] { return ended != macp::SessionState::unspecified; }, std::chrono::seconds(30)));
    p.stop();
    CHECK(p.try_wait().ok());
    CHECK(!p.failed());
    CHECK(ended == macp::SessionState::resolved);
    CHECK((others == std::vector<std::string>{"SessionStart", "Commitment"}));
    CHECK(p.try_on("Vote", [](const macp::Session &, const macp::Envelope &) {}).status() ==
          macp::Status::invalid_state);

    macp::Participant thrower = macp::Participant::create(voter, std::string("cpp-part-voter"));
    int calls = 0;
    thrower.on_other([&](const macp::Session &, const macp::Envelope &) {
        {
            std::lock_guard<std::mutex> lock(mu);
            ++calls;
            cv.notify_all();
        }
        throw std::runtime_error("handler failed");
    });
    thrower.start();
    macp::Session s2 = start(lead, macp::mode::decision, {"cpp-part-lead", "cpp-part-voter"});
    s2.decision().propose("p1", "ship");
    CHECK(t::wait_for(mu, cv, [&] { return calls >= 1; }, std::chrono::seconds(30)));
    thrower.stop();  // returns once the throwing handler has returned
    CHECK(thrower.failed());
    CHECK(calls == 1);
    bool rethrown = false;
    try {
        thrower.rethrow_if_failed();
    } catch (const std::runtime_error &e) {
        rethrown = std::string(e.what()) == "handler failed";
    }
    CHECK(rethrown);
    CHECK(macp::Participant::try_create(voter, std::string("a\0b", 3)).status() == macp::Status::invalid_argument);
}

void run(const char *name, void (*test)()) {
    try {
        test();
    } catch (const macp::Error &e) {
        std::fprintf(stderr, "%s: unexpected macp::Error %s\n", name, e.what());
        ++t::failed;
    }
}

}  // namespace

int main() {
    run("decision", decision);
    run("proposal", proposal);
    run("task", task);
    run("handoff", handoff);
    run("quorum", quorum);
    run("multi_round", multi_round);
    run("control_and_json_sends", control_and_json_sends);
    run("discovery_and_registries", discovery_and_registries);
    run("policy_builder", policy_builder);
    run("participant_loop", participant_loop);
    return t::finish();
}

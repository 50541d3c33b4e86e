// Error mapping through macp.hpp, against a real runtime: macp::Error
// carries the status, the registry code as received, the message, details
// and ids; the same failures come back from the try_ forms as a Result;
// option builders keep their first failure; bad text never reaches the wire.
#include <string>
#include <vector>

#include "check.hpp"

namespace {

using namespace std::chrono_literals;

// The error a throwing call raises (Status::ok when it raised none).
template <class F>
macp::Error thrown(F &&f) {
    try {
        f();
    } catch (const macp::Error &e) {
        return e;
    }
    return macp::Error(macp::Status::ok, "OK", "nothing was thrown");
}

void status_names() {
    // Every status named as the C library names it, registry codes included.
    const std::vector<std::pair<macp::Status, const char *>> all = {
        {macp::Status::session_not_found, "SESSION_NOT_FOUND"},
        {macp::Status::policy_denied, "POLICY_DENIED"},
        {macp::Status::unauthenticated, "UNAUTHENTICATED"},
        {macp::Status::forbidden, "FORBIDDEN"},
        {macp::Status::invalid_envelope, "INVALID_ENVELOPE"},
        {macp::Status::invalid_argument, "INVALID_ARGUMENT"},
        {macp::Status::timeout, "TIMEOUT"},
        {macp::Status::cancelled, "CANCELLED"},
    };
    for (const auto &[status, name] : all) CHECK(macp::status_name(status) == name);
    CHECK(macp::is_transient(macp::Status::timeout) && macp::is_transient(macp::Status::rate_limited));
    CHECK(!macp::is_transient(macp::Status::forbidden));
    CHECK(macp::state_name(macp::SessionState::resolved) == "RESOLVED");
    CHECK(macp::kind_name(macp::EventKind::closed) == "CLOSED");
}

void result_semantics() {
    macp::Result<int> good(7);
    CHECK(good.ok() && *good == 7 && good.status() == macp::Status::ok);
    CHECK(good.error().status() == macp::Status::invalid_state);  // no error to read
    macp::Result<int> bad(macp::Error::local(macp::Status::timeout, "slow"));
    CHECK(!bad && bad.status() == macp::Status::timeout && bad.error().message() == "slow");
    macp::Error e = thrown([&] { (void)bad.value(); });
    CHECK(e.status() == macp::Status::timeout && e.code() == "TIMEOUT");
    CHECK(std::string(e.what()) == "TIMEOUT: slow");
    macp::Result<void> v;
    CHECK(v.ok());
    v.value();
    // macp::Error is a std::runtime_error.
    bool as_runtime_error = false;
    try {
        throw macp::Error::local(macp::Status::rpc, "x");
    } catch (const std::runtime_error &re) {
        as_runtime_error = std::string(re.what()) == "RPC: x";
    }
    CHECK(as_runtime_error);
}

void builders_keep_their_first_failure() {
    macp::ClientOptions o;
    o.connect_timeout(0ms).target(t::target()).allow_insecure();
    CHECK(o.error().has_value() && o.error()->status() == macp::Status::invalid_argument);
    macp::Result<macp::Client> c = macp::Client::try_connect(o);
    CHECK(!c && c.status() == macp::Status::invalid_argument);
    CHECK(thrown([&] { macp::Client::connect(o); }).status() == macp::Status::invalid_argument);

    macp::ClientOptions nul;
    nul.target(std::string_view("127.0.0.1\0:1", 12));
    CHECK(nul.error() && nul.error()->status() == macp::Status::invalid_argument);

    macp::ClientOptions no_target;
    CHECK(macp::Client::try_connect(no_target).status() == macp::Status::invalid_argument);

    macp::StartOptions so;
    so.ttl(-5ms).participant("alice");
    CHECK(so.error() && so.error()->status() == macp::Status::invalid_argument);
    macp::Client coord = t::connect_as("coord");
    CHECK(coord.try_start(macp::mode::decision, so).status() == macp::Status::invalid_argument);
    macp::StartOptions bad_id;
    bad_id.session_id("not a session id").ttl(1s);
    macp::Status st = coord.try_start(macp::mode::decision, bad_id).status();
    CHECK(st == macp::Status::invalid_argument || st == macp::Status::invalid_session_id);
}

void transport_failures() {
    // Nothing listens on port 1 of the loopback.
    macp::ClientOptions o;
    o.target("127.0.0.1:1").allow_insecure().connect_timeout(3s).retry_policy(0, 1ms, 1ms);
    macp::Error e = thrown([&] { macp::Client::connect(o); });
    CHECK(e.status() == macp::Status::transport || e.status() == macp::Status::timeout);
    CHECK(!e.message().empty());
}

void runtime_refusals() {
    macp::Client coord = t::connect_as("coord"), alice = t::connect_as("alice"), bob = t::connect_as("bob");

    // An unknown session: the registry code, in both forms.
    std::string missing = macp::new_id();
    macp::Result<macp::Session> r = alice.try_open(missing);
    CHECK(!r && r.status() == macp::Status::session_not_found);
    CHECK(r.error().code() == "SESSION_NOT_FOUND");
    macp::Error e = thrown([&] { alice.open(missing); });
    CHECK(e.status() == macp::Status::session_not_found && e.code() == "SESSION_NOT_FOUND");
    CHECK(e.grpc_code() != 0 || !e.message().empty());

    macp::StartOptions so;
    so.participants({"alice"}).ttl(60s);
    macp::Session sc = coord.start(macp::mode::decision, so);
    macp::Session sa = alice.open(sc.id());
    // A non-participant may read the session but not send in it.
    macp::Result<macp::Session> sb = bob.try_open(sc.id());
    if (sb) {
        macp::Result<macp::Ack> a = sb->decision().try_propose("p1", "x");
        CHECK(!a && (a.status() == macp::Status::forbidden || a.status() == macp::Status::unauthorized));
        CHECK(a.error().message_id().size() == 36);  // the id it used, for a retry
        CHECK(a.error().session_id() == sc.id());
    } else {
        CHECK(sb.status() == macp::Status::forbidden);
    }
    // A message the mode refuses in its state: a vote on no proposal.
    CHECK(sa.decision().try_vote("nope", "APPROVE").status() == macp::Status::invalid_envelope);
    // The initiator alone resolves.
    sa.decision().propose("p1", "x");
    e = thrown([&] { sa.decision().commit("decision.selected"); });
    CHECK(e.status() == macp::Status::forbidden || e.status() == macp::Status::unauthorized ||
          e.status() == macp::Status::invalid_envelope);
    CHECK(e.status() != macp::Status::ok);
    sc.decision().commit("decision.selected", "test", "done");
    CHECK(sa.decision().try_vote("p1", "APPROVE").status() == macp::Status::session_not_open);

    // A credential that does not match the expected sender.
    macp::ClientOptions o = t::options_for("alice");
    o.expected_sender("mallory");
    macp::Result<macp::Client> mallory = macp::Client::try_connect(o);
    if (mallory) {
        macp::Result<macp::Session> ms = mallory->try_open(sc.id());
        macp::Status st = ms ? ms->decision().try_propose("p9", "x").status() : ms.status();
        CHECK(st == macp::Status::unauthenticated);
    } else {
        CHECK(mallory.status() == macp::Status::unauthenticated);
    }

    // A policy that denies the commitment: POLICY_DENIED with its reasons.
    coord.register_policy(R"({"policy_id":"policy.cpp.errors","mode":"macp.mode.decision.v1",)"
                          R"("description":"unanimous","schema_version":3,)"
                          R"("rules":{"voting":{"algorithm":"unanimous"}}})");
    macp::StartOptions gov;
    gov.participants({"alice", "bob"}).ttl(60s).policy_version("policy.cpp.errors");
    macp::Session g = coord.start(macp::mode::decision, gov);
    macp::Session ga = alice.open(g.id()), gb = bob.open(g.id());
    ga.decision().propose("p1", "x");
    ga.decision().vote("p1", "APPROVE");
    gb.decision().vote("p1", "REJECT");
    e = thrown([&] { g.decision().commit("decision.selected", "test", "done", true); });
    CHECK(e.status() == macp::Status::policy_denied && e.code() == "POLICY_DENIED");
    CHECK(!e.details().empty());
    if (e.status() != macp::Status::policy_denied) std::fprintf(stderr, "  got %s\n", e.what());
}

void bad_text_is_refused_before_sending() {
    macp::Client coord = t::connect_as("coord");
    macp::StartOptions so;
    so.participant("coord").ttl(60s);
    macp::Session s = coord.start(macp::mode::decision, so);
    const std::string_view with_nul("p\0q", 3);
    CHECK(s.decision().try_propose(with_nul, "x").status() == macp::Status::invalid_argument);
    CHECK(s.decision().try_propose("p", "x", with_nul).status() == macp::Status::invalid_argument);
    CHECK(s.decision().try_propose("", "x").status() == macp::Status::invalid_argument);
    CHECK(s.decision().try_propose("p", "\xff\xfe").status() == macp::Status::invalid_argument);
    CHECK(s.try_send_json("Proposal", "{not json").status() == macp::Status::invalid_argument);
    CHECK(macp::try_payload_from_json("macp.v1.NoSuchPayload", "{}").status() == macp::Status::invalid_argument);
    CHECK(macp::try_payload_type(macp::mode::decision, "NoSuchMessage").status() ==
          macp::Status::invalid_argument);
    CHECK(macp::try_commitment_hash_of_wire(std::string_view("\xff\xff\xff")).status() ==
          macp::Status::invalid_argument);
    CHECK(macp::try_commitment_verify({}, with_nul).status() == macp::Status::invalid_argument);
    CHECK(!macp::is_canonical_commitment_hash(with_nul));
    CHECK(coord.try_get_session(with_nul).status() == macp::Status::invalid_argument);
    CHECK(coord.try_register_policy("[]").status() == macp::Status::invalid_argument);
    CHECK(macp::Projection::try_create("macp.mode.nope.v1").status() != macp::Status::ok);
    // Nothing of the above was sent: the session holds only its start.
    macp::SessionInfo info = s.info();
    std::uint32_t messages = 0;
    for (const macp::ParticipantActivity &a : info.metadata().activity()) messages += a.message_count;
    CHECK(messages <= 1);
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
    run("status_names", status_names);
    run("result_semantics", result_semantics);
    run("builders_keep_their_first_failure", builders_keep_their_first_failure);
    run("transport_failures", transport_failures);
    run("runtime_refusals", runtime_refusals);
    run("bad_text_is_refused_before_sending", bad_text_is_refused_before_sending);
    return t::finish();
}

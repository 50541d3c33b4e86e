// macp.hpp built without exceptions (-fno-exceptions): only the try_ forms
// exist, each returning a macp::Result. A Decision runs to its commitment,
// a watcher feeds a projection and an async send completes, against a real
// runtime.
#include <string>
#include <type_traits>
#include <utility>

#include "check.hpp"

#if MACP_HPP_EXCEPTIONS
#error "test_nothrow.cpp must be built with -fno-exceptions"
#endif

namespace {

using namespace std::chrono_literals;

// The throwing forms are absent.
template <class T, class = void>
struct has_connect : std::false_type {};
template <class T>
struct has_connect<T, std::void_t<decltype(T::connect(std::declval<const macp::ClientOptions &>()))>>
    : std::true_type {};
template <class T, class = void>
struct has_list_modes : std::false_type {};
template <class T>
struct has_list_modes<T, std::void_t<decltype(std::declval<const T &>().list_modes())>> : std::true_type {};
static_assert(!has_connect<macp::Client>::value, "no throwing connect without exceptions");
static_assert(!has_list_modes<macp::Client>::value, "no throwing list_modes without exceptions");
static_assert(std::is_same<decltype(std::declval<macp::Client &>().try_list_modes()),
                                                                             macp::Result<std::string>>::value,
              "try_ forms return a Result");

}  // namespace

int main() {
    macp::Client coord = t::connect_as("coord"), alice = t::connect_as("alice");
    macp::StartOptions so;
    so.participants({"alice"}).ttl(60s);
    macp::Ack started;
    macp::Result<macp::Session> sc = coord.try_start(macp::mode::decision, so, &started);
    if (!CHECK_OK(sc)) return t::finish();
    CHECK(started.session_state == macp::SessionState::open);
    macp::Result<macp::Session> sa = alice.try_open(sc->id());
    if (!CHECK_OK(sa)) return t::finish();

    macp::Result<macp::Projection> p = macp::Projection::try_create(macp::mode::decision);
    if (!CHECK_OK(p)) return t::finish();
    std::mutex mu;
    std::condition_variable cv;
    int applied = 0;
    macp::Result<macp::Watcher> w = sa->try_watch([&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        macp::Result<void> r = p->try_apply(ev);
        std::lock_guard<std::mutex> lock(mu);
        if (r) ++applied;
        cv.notify_all();
    });
    CHECK_OK(w);

    CHECK_OK(sa->decision().try_propose("p1", "postgres", "mature"));
    macp::Result<macp::Ack> denied = sa->decision().try_vote("nope", "APPROVE");
    CHECK(!denied && denied.status() == macp::Status::invalid_envelope);
    CHECK(denied.error().code() == "INVALID_ENVELOPE");

    std::promise<macp::Status> sent;
    macp::Result<std::vector<std::uint8_t>> ev =
        macp::try_payload_from_json("macp.modes.decision.v1.EvaluationPayload",
                                    R"({"proposal_id":"p1","recommendation":"APPROVE","confidence":0.9})");
    CHECK_OK(ev);
    CHECK_OK(sa->try_send_async("Evaluation", *ev, [&sent](macp::Result<macp::Ack> r) { sent.set_value(r.status()); }));
    CHECK(sent.get_future().get() == macp::Status::ok);
    CHECK_OK(sa->decision().try_vote("p1", "APPROVE"));

    macp::Result<macp::Ack> done = sc->decision().try_commit("decision.selected", "test", "done");
    CHECK(CHECK_OK(done) && done->session_state == macp::SessionState::resolved);
    CHECK(t::wait_for(mu, cv, [&] { return applied >= 5; }));
    w->close();
    macp::Result<macp::DecisionTally> tally = p->try_decision_tally("p1");
    CHECK(CHECK_OK(tally) && tally->approve == 1);
    macp::Result<std::string> state = p->try_state_json();
    CHECK(CHECK_OK(state) && state->find("\"phase\":\"Committed\"") != std::string::npos);

    macp::Result<std::string> h = macp::try_commitment_hash_of_wire({});
    CHECK(CHECK_OK(h) && macp::is_canonical_commitment_hash(*h));
    return t::finish();
}

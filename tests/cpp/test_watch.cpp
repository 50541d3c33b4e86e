// Watchers and asynchronous sends through macp.hpp, against a real runtime:
// ordered delivery, the callable's lifetime, closing from inside the
// callback, destroying the client with watchers open, exceptions thrown by
// callables, move-only callables, sends on the stream, async completions.
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"

namespace {

using namespace std::chrono_literals;

struct Fixture {
    macp::Client coord = t::connect_as("coord");
    macp::Client alice = t::connect_as("alice");
    macp::Session sc;
    macp::Session sa;
    Fixture() {
        macp::StartOptions so;
        so.participants({"alice"}).ttl(60s);
        sc = coord.start(macp::mode::decision, so);
        sa = alice.open(sc.id());
    }
};

// Counts how many copies of a callable are alive; signals when none is.
struct Lifetime {
    std::mutex mu;
    std::condition_variable cv;
    int alive = 0;
    int calls = 0;
};
struct Tracked {
    std::shared_ptr<Lifetime> life;
    explicit Tracked(std::shared_ptr<Lifetime> l) : life(std::move(l)) {
        std::lock_guard<std::mutex> lock(life->mu);
        ++life->alive;
    }
    Tracked(Tracked &&o) noexcept : life(o.life) {
        std::lock_guard<std::mutex> lock(life->mu);
        ++life->alive;
    }
    Tracked(const Tracked &) = delete;
    ~Tracked() {
        std::lock_guard<std::mutex> lock(life->mu);
        --life->alive;
        life->cv.notify_all();
    }
};

void ordered_delivery() {
    Fixture f;
    for (int i = 0; i < 5; ++i) f.sa.decision().propose("p" + std::to_string(i), "option");
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::uint64_t> seqs;
    std::vector<std::string> types, ids;
    macp::Watcher w = f.sa.watch([&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        std::lock_guard<std::mutex> lock(mu);
        seqs.push_back(ev.sequence());
        types.emplace_back(ev.envelope().message_type());
        ids.emplace_back(ev.envelope().message_id());
        cv.notify_all();
    });
    // History first, then live messages, including one sent on the stream.
    for (int i = 5; i < 10; ++i) f.sa.decision().propose("p" + std::to_string(i), "option");
    std::string sent = w.send("Proposal", macp::payload_from_json("macp.modes.decision.v1.ProposalPayload",
                                                                  R"({"proposal_id":"p10","option":"o"})"));
    CHECK(sent.size() == 36);
    CHECK(t::wait_for(mu, cv, [&] { return seqs.size() >= 12; }));
    w.close();
    CHECK(seqs.size() == 12);
    bool in_order = true;
    for (std::size_t i = 0; i < seqs.size(); ++i) in_order = in_order && seqs[i] == i + 1;
    CHECK(in_order);
    CHECK(!types.empty() && types[0] == "SessionStart");
    CHECK(types.size() == 12 && types[11] == "Proposal" && ids[11] == sent);
    // A session watcher sends; a closed watcher refuses.
    CHECK(w.try_send("Proposal").status() == macp::Status::invalid_handle);
}

void callable_lifetime_and_close_outside() {
    Fixture f;
    auto life = std::make_shared<Lifetime>();
    {
        macp::Watcher w = f.sa.watch([tr = Tracked(life)](const macp::Event &) {
            std::lock_guard<std::mutex> lock(tr.life->mu);
            ++tr.life->calls;
            tr.life->cv.notify_all();
        });
        CHECK(t::wait_for(life->mu, life->cv, [&] { return life->calls >= 1; }));
        CHECK(life->alive == 1);  // owned by the watcher, not copied
        // Moving the watcher moves ownership, not the callable.
        macp::Watcher moved = std::move(w);
        CHECK(!w && moved);
        CHECK(life->alive == 1);
        w.close();  // a moved-from watcher closes as a no-op
        CHECK(life->alive == 1);
        moved.close();
        // Closed from outside: the callback has returned and its callable is gone.
        CHECK(life->alive == 0);
        int calls = life->calls;
        f.sa.decision().propose("late", "option");
        CHECK(life->calls == calls);
    }
    CHECK(life->alive == 0);
}

void close_from_inside() {
    Fixture f;
    for (int i = 0; i < 3; ++i) f.sa.decision().propose("p" + std::to_string(i), "option");
    auto life = std::make_shared<Lifetime>();
    std::promise<void> assigned;
    std::shared_future<void> ready = assigned.get_future().share();
    std::optional<macp::Watcher> w;
    w = f.sa.watch([&w, ready, tr = Tracked(life)](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        ready.wait();  // `w` is assigned
        {
            std::lock_guard<std::mutex> lock(tr.life->mu);
            ++tr.life->calls;
        }
        w->close();  // returns at once; this call is the last
        CHECK(!*w);
        // The callable (and `tr`) is still alive until this call returns.
        CHECK(tr.life->alive == 1);
    });
    assigned.set_value();
    CHECK(t::wait_for(life->mu, life->cv, [&] { return life->alive == 0; }));
    CHECK(life->calls == 1);
    f.sa.decision().propose("more", "option");
    CHECK(life->calls == 1);
    w.reset();  // destroying the closed watcher is harmless
}

void destroy_client_with_watchers_open() {
    macp::Client coord = t::connect_as("coord");
    macp::Client alice = t::connect_as("alice");
    macp::StartOptions so;
    so.participants({"alice"}).ttl(60s);
    macp::Session sc = coord.start(macp::mode::decision, so);
    macp::Session sa = alice.open(sc.id());
    std::mutex mu;
    std::condition_variable cv;
    int opened = 0;
    std::vector<macp::Status> closed;
    auto on_event = [&](const macp::Event &ev) {
        std::lock_guard<std::mutex> lock(mu);
        if (ev.kind() == macp::EventKind::envelope || ev.kind() == macp::EventKind::session) ++opened;
        if (ev.kind() == macp::EventKind::closed) closed.push_back(ev.status());
        cv.notify_all();
    };
    macp::Watcher ws = sa.watch(on_event);
    macp::Watcher wl = alice.watch(macp::WatchKind::sessions, on_event);
    CHECK(t::wait_for(mu, cv, [&] { return opened >= 2; }));
    alice = macp::Client();  // frees the client under its open watchers
    CHECK(!alice);
    CHECK(t::wait_for(mu, cv, [&] { return closed.size() >= 2; }));
    CHECK(closed.size() == 2 && closed[0] == macp::Status::cancelled && closed[1] == macp::Status::cancelled);
    CHECK(sa.decision().try_propose("p", "o").status() == macp::Status::cancelled);
    // A watcher made afterwards either fails or ends at once, cancelled.
    macp::Result<macp::Watcher> late = sa.try_watch(on_event);
    if (late) {
        CHECK(t::wait_for(mu, cv, [&] { return closed.size() >= 3; }));
        CHECK(closed.size() == 3 && closed[2] == macp::Status::cancelled);
    } else {
        CHECK(late.status() == macp::Status::cancelled);
    }
    // The watchers and the session are still destroyed normally (end of scope).
}

void exceptions_from_callables() {
    Fixture f;
    f.sa.decision().propose("p1", "option");
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    macp::Watcher w = f.sa.watch([&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        {
            std::lock_guard<std::mutex> lock(mu);
            ++calls;
            cv.notify_all();
        }
        throw std::runtime_error("boom");
    });
    CHECK(t::wait_for(mu, cv, [&] { return calls >= 1; }));
    f.sa.decision().propose("p2", "option");
    bool caught = false;
    try {
        w.close_and_rethrow();
    } catch (const std::runtime_error &e) {
        caught = std::string(e.what()) == "boom";
    }
    CHECK(caught);
    CHECK(calls == 1);  // after it threw, the callable was called no more
    CHECK(!w);

    // The process and the library go on: a new watcher works.
    macp::Watcher again = f.sa.watch([&](const macp::Event &ev) {
        if (ev.kind() != macp::EventKind::envelope) return;
        std::lock_guard<std::mutex> lock(mu);
        ++calls;
        cv.notify_all();
    });
    CHECK(t::wait_for(mu, cv, [&] { return calls >= 4; }));
    CHECK(!again.failed());
    again.close_and_rethrow();  // nothing to rethrow

    // An exception from an async completion is dropped at the boundary.
    std::promise<void> thrown;
    f.sa.send_async("Proposal",
                    macp::payload_from_json("macp.modes.decision.v1.ProposalPayload",
                                            R"({"proposal_id":"p3","option":"o"})"),
                    [&thrown](macp::Result<macp::Ack>) {
                        thrown.set_value();
                        throw std::logic_error("ignored");
                    });
    CHECK(thrown.get_future().wait_for(30s) == std::future_status::ready);
    CHECK(f.sa.decision().propose("p4", "option").session_state == macp::SessionState::open);
}

void async_sends() {
    Fixture f;
    std::mutex mu;
    std::condition_variable cv;
    std::set<std::string> ids;
    int failures = 0;
    const int n = 20;
    for (int i = 0; i < n; ++i) {
        std::vector<std::uint8_t> payload = macp::payload_from_json(
            "macp.modes.decision.v1.ProposalPayload",
            R"({"proposal_id":"a)" + std::to_string(i) + R"(","option":"o"})");
        // A move-only callable.
        auto token = std::make_unique<int>(i);
        f.sa.send_async("Proposal", payload, [&, token = std::move(token)](macp::Result<macp::Ack> r) {
            std::lock_guard<std::mutex> lock(mu);
            if (r && *token >= 0) {
                ids.insert(r->message_id);
            } else {
                ++failures;
            }
            cv.notify_all();
        });
    }
    CHECK(t::wait_for(mu, cv, [&] { return static_cast<int>(ids.size()) + failures >= n; }));
    CHECK(static_cast<int>(ids.size()) == n && failures == 0);

    // A refused message completes with its error.
    std::promise<macp::Result<macp::Ack>> done;
    f.sa.send_async("Proposal",
                    macp::payload_from_json("macp.modes.decision.v1.ProposalPayload",
                                            R"({"proposal_id":"a0","option":"o"})"),
                    [&done](macp::Result<macp::Ack> r) { done.set_value(std::move(r)); });
    std::future<macp::Result<macp::Ack>> fut = done.get_future();
    CHECK(fut.wait_for(30s) == std::future_status::ready);
    macp::Result<macp::Ack> refused = fut.get();
    CHECK(!refused && refused.status() == macp::Status::invalid_envelope && refused.error().message_id().size() == 36);

    // Bad arguments fail at once; the callable is never called and is destroyed.
    auto life = std::make_shared<Lifetime>();
    macp::Result<void> r = f.sa.try_send_async(std::string_view("Pro\0posal", 9), {},
                                               [tr = Tracked(life)](macp::Result<macp::Ack>) { ++tr.life->calls; });
    CHECK(r.status() == macp::Status::invalid_argument);
    r = f.sa.try_send_async("", {}, [tr = Tracked(life)](macp::Result<macp::Ack>) { ++tr.life->calls; });
    CHECK(r.status() == macp::Status::invalid_argument);
    CHECK(life->alive == 0 && life->calls == 0);
    // On an empty session: invalid handle, nothing queued.
    macp::Session empty;
    CHECK(empty.try_send_async("Proposal", {}, [](macp::Result<macp::Ack>) {}).status() ==
          macp::Status::invalid_handle);
}

void watch_errors() {
    Fixture f;
    CHECK(f.alice.try_watch(static_cast<macp::WatchKind>(99), [](const macp::Event &) {}).status() ==
          macp::Status::invalid_argument);
    macp::Client none;
    CHECK(none.try_watch(macp::WatchKind::sessions, [](const macp::Event &) {}).status() ==
          macp::Status::invalid_handle);
    // A runtime-wide watcher cannot send.
    macp::Watcher w = f.alice.watch(macp::WatchKind::sessions, [](const macp::Event &) {});
    CHECK(w.try_send("Proposal").status() == macp::Status::invalid_state);
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
    run("ordered_delivery", ordered_delivery);
    run("callable_lifetime_and_close_outside", callable_lifetime_and_close_outside);
    run("close_from_inside", close_from_inside);
    run("destroy_client_with_watchers_open", destroy_client_with_watchers_open);
    run("exceptions_from_callables", exceptions_from_callables);
    run("async_sends", async_sends);
    run("watch_errors", watch_errors);
    return t::finish();
}

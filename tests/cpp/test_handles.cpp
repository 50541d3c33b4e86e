// Move semantics of every owner in macp.hpp: move-only, moved-from objects
// empty and safe to use and destroy, move-assignment frees what it replaces,
// release() hands the C handle over. Against a real runtime (for client,
// session, info and list handles).
#include <string>
#include <type_traits>
#include <vector>

#include "check.hpp"

namespace {

using namespace std::chrono_literals;

template <class T>
constexpr bool move_only =
    !std::is_copy_constructible<T>::value && !std::is_copy_assignable<T>::value &&
    std::is_nothrow_move_constructible<T>::value && std::is_nothrow_move_assignable<T>::value;

static_assert(move_only<macp::Client>, "Client is move-only");
static_assert(move_only<macp::Session>, "Session is move-only");
static_assert(move_only<macp::Watcher>, "Watcher is move-only");
static_assert(move_only<macp::Projection>, "Projection is move-only");
static_assert(move_only<macp::String>, "String is move-only");
static_assert(move_only<macp::SessionInfo>, "SessionInfo is move-only");
static_assert(move_only<macp::SessionList>, "SessionList is move-only");
static_assert(move_only<macp::ReceiptVerification>, "ReceiptVerification is move-only");
static_assert(!std::is_copy_constructible<macp::ClientOptions>::value, "ClientOptions is move-only");
static_assert(!std::is_copy_constructible<macp::StartOptions>::value, "StartOptions is move-only");
static_assert(std::is_move_constructible<macp::ClientOptions>::value, "ClientOptions moves");

void projection_moves() {
    macp::Projection p = macp::Projection::create(macp::mode::decision);
    macp_projection *raw = p.get();
    CHECK(raw != nullptr);
    macp::Projection q = std::move(p);
    CHECK(!p && p.get() == nullptr && q.get() == raw);
    // The moved-from owner answers like a NULL handle, without crashing.
    CHECK(p.try_state_json().status() == macp::Status::invalid_handle);
    CHECK(p.try_apply(macp::BytesView()).status() == macp::Status::invalid_handle);
    CHECK(q.try_state_json().ok());
    // Move-assigning over a live owner frees the old handle.
    macp::Projection r = macp::Projection::create(macp::mode::quorum);
    macp_projection *old = r.get();
    r = std::move(q);
    CHECK(r.get() == raw && !q);
    macp_string *out = nullptr;
    CHECK(macp_projection_state_json(old, &out, nullptr) == MACP_STATUS_INVALID_HANDLE);  // freed
    // Self-move leaves it intact.
    macp::Projection &alias = r;
    r = std::move(alias);
    CHECK(r.get() == raw && r.try_state_json().ok());
    // release() gives the handle to the caller.
    macp_projection *mine = r.release();
    CHECK(!r && mine == raw);
    CHECK(macp_projection_state_json(mine, &out, nullptr) == MACP_STATUS_OK);
    macp_string_free(out);
    macp_projection_free(mine);
    // reset() adopts and frees.
    macp::Projection adopted;
    macp_projection *fresh = nullptr;
    CHECK(macp_projection_new(MACP_MODE_TASK, &fresh, nullptr) == MACP_STATUS_OK);
    adopted.reset(fresh);
    CHECK(adopted.get() == fresh);
    adopted.reset();
    CHECK(!adopted);
}

void string_moves() {
    macp_string *raw = nullptr;
    CHECK(macp_payload_type(MACP_MODE_DECISION, "Vote", &raw, nullptr) == MACP_STATUS_OK);
    macp::String s(raw);
    CHECK(s.view() == "macp.modes.decision.v1.VotePayload" && s.size() == s.view().size());
    macp::String t2 = std::move(s);
    CHECK(!s && s.view().empty() && s.str().empty() && s.size() == 0);
    CHECK(t2.str() == "macp.modes.decision.v1.VotePayload");
    CHECK(std::string(t2.c_str()) == t2.str());
}

void option_moves() {
    macp::ClientOptions o;
    o.target(t::target()).allow_insecure().bearer_token("alice");
    macp::ClientOptions moved = std::move(o);
    CHECK(!o && moved);
    // Setters on the moved-from builder record an invalid handle; the moved
    // builder still connects.
    o.target("x:1");
    CHECK(o.error() && o.error()->status() == macp::Status::invalid_handle);
    CHECK(macp::Client::try_connect(o).status() == macp::Status::invalid_handle);
    CHECK(!moved.error());
    macp::Client c = macp::Client::connect(moved);
    CHECK(c && !c.protocol_version().empty());

    macp::StartOptions so;
    so.participant("alice").ttl(60s);
    macp::StartOptions so2 = std::move(so);
    CHECK(!so && so2);
    CHECK(c.try_start(macp::mode::decision, so).status() == macp::Status::invalid_handle);
}

void client_and_session_moves() {
    macp::Client a = t::connect_as("alice");
    macp::Client b = std::move(a);
    CHECK(!a && b);
    CHECK(a.protocol_version().empty());
    CHECK(a.try_list_modes().status() == macp::Status::invalid_handle);
    CHECK(a.try_open(macp::new_id()).status() == macp::Status::invalid_handle);

    macp::StartOptions so;
    so.participant("alice").ttl(60s);
    macp::Session s = b.start(macp::mode::decision, so);
    std::string id(s.id());
    macp::Session s2 = std::move(s);
    CHECK(!s && s.id().empty() && s.mode().empty() && s2.id() == id);
    CHECK(s.decision().try_propose("p", "x").status() == macp::Status::invalid_handle);
    CHECK(s.try_info().status() == macp::Status::invalid_handle);
    CHECK(s2.decision().try_propose("p", "x").ok());
    // Mode helpers are views of a session: the session owns the handle.
    macp::DecisionHelpers d = s2.decision();
    s2 = macp::Session();  // frees the handle the view borrowed
    CHECK(d.try_vote("p", "APPROVE").status() == macp::Status::invalid_handle);

    macp::SessionInfo info = b.get_session(id);
    macp::SessionInfo info2 = std::move(info);
    CHECK(!info && info.metadata().session_id().empty() && info.metadata().participants().empty());
    CHECK(info2.metadata().session_id() == id);

    macp::SessionList list = b.list_all_sessions();
    std::size_t n = list.size();
    CHECK(n >= 1);
    macp::SessionList list2 = std::move(list);
    CHECK(!list && list.size() == 0 && list[0].session_id().empty() && list2.size() == n);

    macp::ReceiptVerification rv = macp::receipt_verify(R"({"receipt_format":"other/1"})");
    CHECK(rv.verdict() == macp::ReceiptVerdict::refused);
    macp::ReceiptVerification rv2 = std::move(rv);
    CHECK(!rv && rv.attestations().empty() && rv2.verdict() == macp::ReceiptVerdict::refused);
}

void bytes_views() {
    // Bytes from a literal (without its NUL), a string, a view, a vector.
    std::string owned("abcd");
    std::vector<std::uint8_t> bytes = {1, 2, 3};
    macp::BytesView lit = "bin", str = owned, view = std::string_view("xy"), vec = bytes, none;
    CHECK(lit.size() == 3 && lit.as_text() == "bin");
    CHECK(str.size() == 4 && str.data() == reinterpret_cast<const std::uint8_t *>(owned.data()));
    CHECK(view.size() == 2 && vec.size() == 3 && vec.to_vector() == bytes);
    CHECK(none.empty() && none.data() == nullptr);
    CHECK(macp::BytesView(bytes.data(), 0).data() == nullptr);  // empty passes NULL
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
    run("bytes_views", bytes_views);
    run("projection_moves", projection_moves);
    run("string_moves", string_moves);
    run("option_moves", option_moves);
    run("client_and_session_moves", client_and_session_moves);
    return t::finish();
}

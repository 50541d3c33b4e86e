// include/macp.h from C++: it compiles cleanly as C++11 (-Wall -Wextra
// -Wpedantic -Werror, run by scripts/test.sh), its handles fit RAII owners,
// and the offline calls work. No runtime needed.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "macp.h"

namespace {

int failures = 0;

void check(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}

struct error_deleter {
    void operator()(macp_error *e) const { macp_error_free(e); }
};
struct string_deleter {
    void operator()(macp_string *s) const { macp_string_free(s); }
};
struct projection_deleter {
    void operator()(macp_projection *p) const { macp_projection_free(p); }
};
struct verification_deleter {
    void operator()(macp_receipt_verification *v) const { macp_receipt_verification_free(v); }
};
using error_ptr = std::unique_ptr<macp_error, error_deleter>;
using string_ptr = std::unique_ptr<macp_string, string_deleter>;
using projection_ptr = std::unique_ptr<macp_projection, projection_deleter>;
using verification_ptr = std::unique_ptr<macp_receipt_verification, verification_deleter>;

// The encoding of a JSON payload, by the size-query convention.
std::vector<uint8_t> encode(const char *type, const char *json) {
    size_t need = 0;
    macp_error *err = nullptr;
    if (macp_payload_from_json(type, json, nullptr, 0, &need, &err) != MACP_STATUS_OK) {
        error_ptr owned(err);
        std::fprintf(stderr, "%s\n", macp_error_message(owned.get()));
        return {};
    }
    std::vector<uint8_t> out(need);
    size_t written = 0;
    check(macp_payload_from_json(type, json, out.data(), out.size(), &written, nullptr) == MACP_STATUS_OK,
          "encode into the queried size");
    check(written == need, "written == queried size");
    return out;
}

}  // namespace

int main() {
    check(std::string(macp_status_name(MACP_STATUS_SESSION_NOT_FOUND)) == "SESSION_NOT_FOUND", "status name");

    const char *type = "macp.v1.CommitmentPayload";
    std::vector<uint8_t> wire = encode(type,
                                       "{\"commitment_id\":\"c1\",\"action\":\"decision.selected\","
                                       "\"authority_scope\":\"s\",\"reason\":\"r\",\"outcome_positive\":true}");
    check(!wire.empty(), "a commitment encodes");

    macp_string *json = nullptr;
    check(macp_payload_to_json(type, wire.data(), wire.size(), &json, nullptr) == MACP_STATUS_OK, "decode");
    string_ptr owned_json(json);
    check(json != nullptr && std::strstr(macp_string_ptr(json), "\"action\":\"decision.selected\"") != nullptr,
          "decoded field");
    check(macp_string_len(json) == std::strlen(macp_string_ptr(json)), "string length");

    char hash[MACP_COMMITMENT_HASH_BUFFER_LEN];
    check(macp_commitment_hash_of_wire(wire.data(), wire.size(), hash, sizeof hash, nullptr) == MACP_STATUS_OK,
          "hash of wire");
    check(macp_commitment_hash_is_canonical(hash), "canonical hash");
    macp_commitment_verify_result v;
    check(macp_commitment_verify(wire.data(), wire.size(), hash, &v, nullptr) == MACP_STATUS_OK, "verify");
    check(v.outcome == MACP_COMMITMENT_VERIFY_MATCH, "verify matches");

    // A JSON value that is not a receipt: a verdict held by a handle.
    macp_receipt_verification *raw_verification = nullptr;
    check(macp_receipt_verify("[]", nullptr, 0, &raw_verification, nullptr) == MACP_STATUS_OK, "verify a non-receipt");
    verification_ptr verification(raw_verification);
    const macp_receipt_verify_result *verdict = macp_receipt_verification_result(verification.get());
    check(verdict != nullptr && verdict->verdict == MACP_RECEIPT_VERDICT_REFUSED, "a non-receipt is refused");

    // A failure: the status and a message in an error the owner frees.
    macp_projection *raw = nullptr;
    macp_error *err = nullptr;
    check(macp_projection_new("macp.mode.nope.v1", &raw, &err) != MACP_STATUS_OK, "unknown mode refused");
    error_ptr owned_err(err);
    check(raw == nullptr && err != nullptr && std::strlen(macp_error_message(err)) > 0, "error message");

    check(macp_projection_new("macp.mode.decision.v1", &raw, nullptr) == MACP_STATUS_OK, "projection");
    projection_ptr projection(raw);
    macp_string *state = nullptr;
    check(macp_projection_state_json(projection.get(), &state, nullptr) == MACP_STATUS_OK, "snapshot");
    string_ptr owned_state(state);
    check(state != nullptr && std::strstr(macp_string_ptr(state), "\"applied\":0") != nullptr, "empty projection");

    std::printf("c++ header: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}

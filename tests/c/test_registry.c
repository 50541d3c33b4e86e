/*
 * C ABI tests of JSON payloads, whole envelopes, signals, progress,
 * discovery, the extension-mode and policy registries and what-if replay:
 * bad input for every function (NULL, invalid UTF-8, NULL/freed/foreign/
 * wrong-type handles, out-of-range numbers, unknown types and fields,
 * malformed JSON; out-pointers left NULL on failure), then the calls against
 * a real runtime at $MACP_TARGET. Run under valgrind by scripts/test.sh.
 *
 * Each test prints its name and result; the last line is "N passed, N failed".
 */
#include <math.h>

#include "harness.h"

#define UNKNOWN_SESSION "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60"

static const char *const COMMITMENT_JSON =
    "{\"commitment_id\":\"c1\",\"action\":\"decision.selected\",\"authority_scope\":\"s\","
    "\"reason\":\"r\",\"outcome_positive\":true}";
static const char *const CANDIDATE_JSON =
    "{\"policy_id\":\"policy.candidate\",\"mode\":\"macp.mode.decision.v1\",\"schema_version\":3,"
    "\"rules\":{\"voting\":{\"algorithm\":\"unanimous\"}}}";

/* A unique suffix per run, so names registered here never collide. */
static char suffix[40];

/* `json` is a library string (or NULL): check it contains `fragment`; free it. */
static void expect_json_with(macp_string *json, const char *fragment) {
    CHECK(json != NULL);
    if (json) {
        if (!strstr(macp_string_ptr(json), fragment))
            fprintf(stderr, "  %s does not contain %s\n", macp_string_ptr(json), fragment);
        CHECK(strstr(macp_string_ptr(json), fragment) != NULL);
        macp_string_free(json);
    }
}

/* Whether `json`, a library string (or NULL), contains `fragment`. */
static int contains(const macp_string *json, const char *fragment) {
    return json != NULL && strstr(macp_string_ptr(json), fragment) != NULL;
}

/* The first and last characters of `json`, a library string (or NULL),
 * are `open` and `close`: a JSON array, say. */
static int enclosed_in(const macp_string *json, char open, char close) {
    size_t n = macp_string_len(json);
    const char *t = macp_string_ptr(json);
    return json != NULL && n >= 2 && t[0] == open && t[n - 1] == close;
}

/* A Decision session started by agent://c-lead with agent://c-peer,
 * under `policy_version` when it is not NULL. */
static macp_session *start_lead_decision(macp_client *lead, const char *policy_version) {
    static const char *const lead_and_peer[] = {"agent://c-lead", "agent://c-peer", NULL};
    return start_session(lead, MACP_MODE_DECISION, lead_and_peer, policy_version);
}

/* Messages the session's participants have sent so far. */
static size_t messages_in(const macp_session *s) {
    macp_session_info *info = NULL;
    size_t total = 0;
    OK(macp_session_get_info(s, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    for (size_t i = 0; m && i < m->activity_len; i++)
        total += m->activity[i].message_count;
    macp_session_info_free(info);
    return total;
}

/* ------------------------------------------------------------- bad input */

/* agent://c-lead connected with a Decision session it started, and the four
 * kinds of bad client handle: NULL, freed, never issued, a session's. */
static void bad_client_fixture(macp_client **c, macp_session **s, const macp_client *bad[BAD_HANDLE_KINDS]) {
    *c = connect_as("agent://c-lead");
    *s = start_lead_decision(*c, NULL);
    bad_clients(bad, *s);
}

static void test_payload_from_json_bad_input(void) {
    const char *T = "macp.v1.CommitmentPayload";
    size_t len = 7;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(NULL, "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(bad_utf8, "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("", "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, NULL, NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, bad_utf8, NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{\"reason\":\"\xff\"}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{}", NULL, 0, NULL, &err));
    /* Unknown types: no such message, an enum, a package. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.NoSuchPayload", "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.SessionState", "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1", "{}", NULL, 0, &len, &err));
    /* Unknown fields, wrong value types, malformed JSON, not an object. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{\"nope\":1}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{\"outcome_positive\":\"yes\"}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{\"action\":7}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "{\"action\":\"a\"} trailing", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "[]", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, "7", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_payload_from_json("macp.v1.SessionMetadata", "{\"state\":\"SESSION_STATE_NOPE\"}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_payload_from_json("macp.v1.SessionStartPayload", "{\"ttl_ms\":1.5}", NULL, 0, &len, &err));

    /* A NULL buffer with a length; a buffer too small: the size is still
     * reported and nothing is written. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, COMMITMENT_JSON, NULL, 5, &len, &err));
    uint8_t small[2] = {0xAA, 0xAA};
    len = 0;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, COMMITMENT_JSON, small, sizeof small, &len, &err));
    CHECK(len > sizeof small);
    CHECK(small[0] == 0xAA && small[1] == 0xAA);
    size_t needed = 0;
    OK(macp_payload_from_json(T, COMMITMENT_JSON, NULL, 0, &needed, &err));
    CHECK(needed == len);
    uint8_t *one_short = malloc(needed);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(T, COMMITMENT_JSON, one_short, needed - 1, &len, &err));
    free(one_short);
}

static void test_payload_to_json_bad_input(void) {
    const char *T = "macp.v1.CommitmentPayload";
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    const uint8_t truncated[] = {0x12, 0x05, 'a'}; /* field 2, 5 bytes announced, 1 given */
    macp_string *json = NULL;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json(T, garbage, sizeof garbage, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json(T, truncated, sizeof truncated, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json(NULL, garbage, 0, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json(bad_utf8, garbage, 0, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json("", garbage, 0, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json("macp.v1.Nope", garbage, 0, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json("macp.v1.SessionState", garbage, 0, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_payload_to_json(T, NULL, 3, &json, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_to_json(T, garbage, 0, NULL, &err));
}

static void test_payload_type_bad_input(void) {
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    macp_string *out = NULL;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type(NULL, "Vote", &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type(bad_utf8, "Vote", &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("macp.mode.decision.v1", NULL, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("macp.mode.decision.v1", bad_utf8, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("macp.mode.decision.v1", "", &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_type("macp.mode.decision.v1", "Vote", NULL, &err));
    /* No such message in the mode, no such mode family, not a mode. */
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("macp.mode.decision.v1", "Dance", &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("macp.mode.nope.v1", "Vote", &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("decision", "Vote", &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_payload_type("ext.", "Vote", &out, &err));

    macp_envelope e;
    memset(&e, 0, sizeof e);
    e.mode = "macp.mode.decision.v1";
    e.message_type = "Vote";
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(NULL, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_payload_json(&e, NULL, &err));
    e.payload_len = 3; /* NULL payload with a length */
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(&e, &out, &err));
    e.payload = garbage;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(&e, &out, &err));
    e.payload_len = 0;
    e.message_type = NULL;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(&e, &out, &err));
    e.message_type = bad_utf8;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(&e, &out, &err));
    e.message_type = "Dance";
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(&e, &out, &err));
    e.message_type = "Vote";
    e.mode = bad_utf8;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_envelope_payload_json(&e, &out, &err));
}

/* The schema's payload type per mode and message type, and envelopes
 * decoded with it. */
static void test_payload_types(void) {
    static const char *const cases[][3] = {
        {"macp.mode.decision.v1", "Vote", "macp.modes.decision.v1.VotePayload"},
        {"macp.mode.proposal.v1", "CounterProposal", "macp.modes.proposal.v1.CounterProposalPayload"},
        {"macp.mode.proposal.v1", "Reject", "macp.modes.proposal.v1.RejectPayload"},
        {"macp.mode.quorum.v1", "Reject", "macp.modes.quorum.v1.RejectPayload"},
        {"macp.mode.task.v1", "TaskFail", "macp.modes.task.v1.TaskFailPayload"},
        {"macp.mode.handoff.v1", "HandoffOffer", "macp.modes.handoff.v1.HandoffOfferPayload"},
        {"ext.multi_round.v1", "Contribute", "macp.modes.multi_round.v1.ContributePayload"},
        {"macp.mode.task.v1", "Commitment", "macp.v1.CommitmentPayload"},
        {"macp.mode.decision.v1", "SessionStart", "macp.v1.SessionStartPayload"},
        {"", "Signal", "macp.v1.SignalPayload"},
        {"anything", "Progress", "macp.v1.ProgressPayload"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        macp_string *t = NULL;
        OK(macp_payload_type(cases[i][0], cases[i][1], &t, &err));
        CHECK(string_is(t, cases[i][2]));
        if (t && !string_is(t, cases[i][2]))
            fprintf(stderr, "  %s %s: %s\n", cases[i][0], cases[i][1], macp_string_ptr(t));
        macp_string_free(t);
    }

    /* An envelope's payload, decoded by its mode and message type. */
    uint8_t vote[64];
    size_t len = 0;
    OK(macp_payload_from_json("macp.modes.decision.v1.VotePayload",
                              "{\"proposal_id\":\"p1\",\"vote\":\"APPROVE\",\"reason\":\"ok\"}", vote, sizeof vote, &len, &err));
    macp_envelope e;
    memset(&e, 0, sizeof e);
    e.mode = "macp.mode.decision.v1";
    e.message_type = "Vote";
    e.payload = vote;
    e.payload_len = len;
    macp_string *json = NULL;
    OK(macp_envelope_payload_json(&e, &json, &err));
    CHECK(contains(json, "\"proposal_id\":\"p1\""));
    CHECK(contains(json, "\"vote\":\"APPROVE\""));
    macp_string_free(json);
    /* An empty payload is the type's defaults; a Signal needs no mode. */
    e.mode = NULL;
    e.message_type = "Signal";
    e.payload = NULL;
    e.payload_len = 0;
    OK(macp_envelope_payload_json(&e, &json, &err));
    expect_json_with(json, "\"signal_type\":\"\"");
}

/* Every call that answers JSON: NULL out, bad strings, and each kind of bad
 * client handle (NULL, freed, never issued, a session handle cast). */
static void test_json_reads_bad_input(void) {
    macp_client *c;
    macp_session *s;
    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_client_fixture(&c, &s, bad);
    macp_string *out = NULL;

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_initialize_json(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_manifest(c, NULL, NULL, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_get_manifest(c, bad_utf8, &out, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_modes(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_ext_modes(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_roots(c, NULL, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_get_policy(c, NULL, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_get_policy(c, "", &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_get_policy(c, bad_utf8, &out, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_policy(c, "policy.default", NULL, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_list_policies(c, bad_utf8, &out, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_policies(c, NULL, NULL, NULL, &err));

    const char *sid = macp_session_id(s);
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_what_if_replay(c, NULL, CANDIDATE_JSON, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_what_if_replay(c, bad_utf8, CANDIDATE_JSON, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_SESSION_ID, out, macp_client_what_if_replay(c, "s1", CANDIDATE_JSON, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_SESSION_ID, out, macp_client_what_if_replay(c, "", CANDIDATE_JSON, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_what_if_replay(c, sid, NULL, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_what_if_replay(c, sid, bad_utf8, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_what_if_replay(c, sid, "{", &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_what_if_replay(c, sid, "[]", &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out,
               macp_client_what_if_replay(c, sid, "{\"mode\":\"macp.mode.decision.v1\"}", &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out,
               macp_client_what_if_replay(c, sid, "{\"policy_id\":\"p\",\"rulez\":{}}", &out, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_what_if_replay(c, sid, CANDIDATE_JSON, NULL, NULL, &err));

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const macp_client *b = bad[i];
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_initialize_json(b, &out, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_get_manifest(b, NULL, &out, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_list_modes(b, &out, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_list_ext_modes(b, &out, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_list_roots(b, &out, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_get_policy(b, "policy.default", &out, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_list_policies(b, NULL, &out, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_what_if_replay(b, sid, CANDIDATE_JSON, &out, NULL, &err));
    }
    macp_session_free(s);
    macp_client_free(c);
}

static void test_registry_writes_bad_input(void) {
    macp_client *c;
    macp_session *s;
    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_client_fixture(&c, &s, bad);
    macp_string *out = NULL;

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, bad_utf8, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "{", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "[]", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "{\"mode\":\"ext.x.v1\",\"bogus\":1}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "{\"mode\":\"ext.x.v1\",\"message_types\":\"Ping\"}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "{\"title\":\"no mode\"}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_ext_mode(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_ext_mode(c, "", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_ext_mode(c, bad_utf8, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_promote_mode(c, NULL, NULL, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_promote_mode(c, "", NULL, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_promote_mode(c, bad_utf8, NULL, &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_client_promote_mode(c, "ext.x.v1", bad_utf8, &out, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_promote_mode(c, "ext.x.v1", bad_utf8, NULL, NULL, &err));

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, bad_utf8, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "[]", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"mode\":\"macp.mode.decision.v1\"}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":\"\"}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":7}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":\"p\",\"schema_version\":-3}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_client_register_policy(c, "{\"policy_id\":\"p\",\"schema_version\":4294967296}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":\"p\",\"rules\":7}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":\"p\",\"rule\":{}}", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_policy(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_policy(c, "", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_policy(c, bad_utf8, NULL, &err));

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const macp_client *b = bad[i];
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_register_ext_mode(b, "{\"mode\":\"ext.x.v1\"}", NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_unregister_ext_mode(b, "ext.x.v1", NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, out, macp_client_promote_mode(b, "ext.x.v1", NULL, &out, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_register_policy(b, "{\"policy_id\":\"p\"}", NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_unregister_policy(b, "p", NULL, &err));
    }
    macp_session_free(s);
    macp_client_free(c);
}

/* Signals and whole envelopes. */
static void test_client_sends_bad_input(void) {
    macp_client *c;
    macp_session *s;
    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_client_fixture(&c, &s, bad);
    macp_ack ack;

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, NULL, NULL, 0, 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "", NULL, 0, 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, bad_utf8, NULL, 0, 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 4, 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, 1.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, -0.1, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, NAN, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, INFINITY, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, -INFINITY, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, 0.5, bad_utf8, &ack, NULL, &err));

    /* Envelopes: not protobuf, NULL with a length, no message type, invalid
     * message ids (empty, reserved prefix, too long). */
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, garbage, sizeof garbage, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, NULL, 5, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, NULL, 0, &ack, NULL, &err));
    char long_id[160];
    memset(long_id, 'x', 129);
    long_id[129] = 0;
    const char *bad_ids[] = {"", "implicit-accept:h1", long_id};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char json[512];
        uint8_t env[512];
        size_t elen = 0;
        snprintf(json, sizeof json,
                 "{\"macp_version\":\"1.0\",\"mode\":\"macp.mode.decision.v1\",\"message_type\":\"Proposal\","
                 "\"message_id\":\"%s\",\"session_id\":\"%s\"}",
                 bad_ids[i], macp_session_id(s));
        OK(macp_payload_from_json("macp.v1.Envelope", json, env, sizeof env, &elen, &err));
        EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, env, elen, &ack, NULL, &err));
    }
    CHECK(messages_in(s) == 0); /* nothing above reached the session */

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const macp_client *b = bad[i];
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_send_signal(b, "load", NULL, 0, 0.5, NULL, &ack, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_send_envelope(b, NULL, 0, &ack, NULL, &err));
    }
    macp_session_free(s);
    macp_client_free(c);
}

static void test_session_sends_bad_input(void) {
    macp_client *lead = connect_as("agent://c-lead");
    macp_session *s = start_lead_decision(lead, NULL);
    const macp_session *bad[BAD_HANDLE_KINDS];
    bad_sessions(bad, lead, lead);
    macp_ack ack;
    const char *vote = "{\"proposal_id\":\"p1\",\"vote\":\"APPROVE\"}";

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, NULL, NULL, vote, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "", NULL, vote, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, bad_utf8, NULL, vote, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", bad_utf8, vote, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", "macp.v1.Nope", vote, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Dance", NULL, "{}", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, "{", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, "[]", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, "{\"proposal\":\"p1\"}", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, "{\"vote\":1}", &ack, NULL, &err));
    /* An explicit type decides the fields: a vote's fields are not a proposal's. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_session_send_json(s, "Vote", "macp.modes.decision.v1.ProposalPayload", vote, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, vote, &ack, CALL_ID(bad_utf8), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, vote, &ack, CALL_ID(""), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, vote, &ack, CALL_ID("implicit-accept:h1"), &err));

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, bad_utf8, 1, 2, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, 1, 2, bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, 1, 2, NULL, bad_utf8, &ack, NULL, &err));
    const double bad_numbers[] = {NAN, INFINITY, -INFINITY, -1, -0.001};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++) {
        EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, bad_numbers[i], 2, NULL, NULL, &ack, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, 1, bad_numbers[i], NULL, NULL, &ack, NULL, &err));
    }
    CHECK(messages_in(s) == 0); /* no message above reached the session */

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const macp_session *b = bad[i];
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send_json(b, "Vote", NULL, vote, &ack, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_progress(b, NULL, 1, 2, NULL, NULL, &ack, NULL, &err));
    }
    macp_session_free(s);
    macp_client_free(lead);
}

/* The error argument may be NULL: the status alone comes back, nothing
 * leaks (valgrind), for local refusals and the runtime's alike. */
static void test_errors_may_be_ignored(void) {
    macp_client *c = connect_as("agent://c-lead");
    size_t len = 0;
    macp_string *out = NOT_A_HANDLE;
    macp_ack ack;
    CHECK(macp_payload_from_json("macp.v1.Nope", "{}", NULL, 0, &len, NULL) == MACP_STATUS_INVALID_ARGUMENT);
    CHECK(macp_payload_to_json("macp.v1.Nope", NULL, 0, &out, NULL) == MACP_STATUS_INVALID_ARGUMENT);
    CHECK(out == NULL);
    CHECK(macp_client_list_modes(NULL, &out, NULL, NULL) == MACP_STATUS_INVALID_HANDLE);
    CHECK(macp_client_send_signal(c, "load", NULL, 0, NAN, NULL, &ack, NULL, NULL) == MACP_STATUS_INVALID_ARGUMENT);
    out = NOT_A_HANDLE;
    CHECK(macp_client_get_policy(c, "policy.ctest.never-registered", &out, NULL, NULL) != MACP_STATUS_OK);
    CHECK(out == NULL);
    out = NOT_A_HANDLE;
    CHECK(macp_client_what_if_replay(c, UNKNOWN_SESSION, CANDIDATE_JSON, &out, NULL, NULL) != MACP_STATUS_OK);
    CHECK(out == NULL);
    CHECK(macp_client_unregister_ext_mode(c, "ext.ctest_never_registered.v1", NULL, NULL) != MACP_STATUS_OK);
    /* Success with a NULL error argument. */
    out = NULL;
    CHECK(macp_client_list_modes(c, &out, NULL, NULL) == MACP_STATUS_OK);
    CHECK(out != NULL && macp_string_ptr(out)[0] == '[');
    macp_string_free(out);
    macp_client_free(c);
}

/* ------------------------------------------------------- against the runtime */

static void test_payload_round_trip(void) {
    const char *T = "macp.v1.CommitmentPayload";
    size_t len = 0;
    OK(macp_payload_from_json(T, COMMITMENT_JSON, NULL, 0, &len, &err));
    CHECK(len > 0);
    uint8_t *buf = malloc(len + 8);
    size_t written = 0;
    OK(macp_payload_from_json(T, COMMITMENT_JSON, buf, len + 8, &written, &err)); /* a larger buffer is fine */
    CHECK(written == len);
    macp_string *json = NULL;
    OK(macp_payload_to_json(T, buf, written, &json, &err));
    CHECK(contains(json, "\"commitment_id\":\"c1\""));
    CHECK(contains(json, "\"action\":\"decision.selected\""));
    CHECK(contains(json, "\"outcome_positive\":true"));
    CHECK(contains(json, "\"mode_version\":\"\"")); /* every field present */

    /* The decoded JSON encodes back to the same bytes; lowerCamelCase names
     * and a leading dot on the type name are the same message. */
    uint8_t again[256], camel[256];
    size_t la = 0, lc = 0;
    OK(macp_payload_from_json(T, macp_string_ptr(json), again, sizeof again, &la, &err));
    CHECK(la == written && memcmp(again, buf, la) == 0);
    macp_string_free(json);
    OK(macp_payload_from_json(".macp.v1.CommitmentPayload",
                              "{\"commitmentId\":\"c1\",\"action\":\"decision.selected\",\"authorityScope\":\"s\","
                              "\"reason\":\"r\",\"outcomePositive\":true}",
                              camel, sizeof camel, &lc, &err));
    CHECK(lc == written && memcmp(camel, buf, lc) == 0);
    free(buf);

    /* An empty object may encode to nothing; nothing decodes to defaults. */
    uint8_t none[4];
    len = 99;
    OK(macp_payload_from_json(T, "{}", none, sizeof none, &len, &err));
    CHECK(len == 0);
    OK(macp_payload_to_json(T, NULL, 0, &json, &err));
    expect_json_with(json, "\"outcome_positive\":false");

    /* 64-bit integers as numbers or strings; enums by name. */
    uint8_t a[64], b[64];
    la = lc = 0;
    OK(macp_payload_from_json("macp.v1.SessionStartPayload", "{\"ttl_ms\":60000}", a, sizeof a, &la, &err));
    OK(macp_payload_from_json("macp.v1.SessionStartPayload", "{\"ttl_ms\":\"60000\"}", b, sizeof b, &lc, &err));
    CHECK(la > 0 && la == lc && memcmp(a, b, la) == 0);
    OK(macp_payload_to_json("macp.v1.SessionStartPayload", a, la, &json, &err));
    expect_json_with(json, "\"ttl_ms\":60000");
    OK(macp_payload_from_json("macp.v1.SessionMetadata", "{\"state\":\"SESSION_STATE_RESOLVED\"}", a, sizeof a, &la, &err));
    OK(macp_payload_to_json("macp.v1.SessionMetadata", a, la, &json, &err));
    expect_json_with(json, "\"state\":\"SESSION_STATE_RESOLVED\"");

    /* Bytes fields take base64, byte arrays or plain text; decode as base64. */
    OK(macp_payload_from_json("macp.modes.handoff.v1.HandoffContextPayload", "{\"context\":\"aGk=\"}", a, sizeof a, &la, &err));
    OK(macp_payload_from_json("macp.modes.handoff.v1.HandoffContextPayload", "{\"context\":[104,105]}", b, sizeof b, &lc, &err));
    CHECK(la == lc && memcmp(a, b, la) == 0);
    OK(macp_payload_to_json("macp.modes.handoff.v1.HandoffContextPayload", a, la, &json, &err));
    expect_json_with(json, "\"context\":\"aGk=\"");
}

static void test_discovery(void) {
    macp_client *c = connect_as("agent://c-discover");
    macp_string *out = NULL;
    OK(macp_client_initialize_json(c, &out, &err));
    CHECK(contains(out, "\"selected_protocol_version\":\"1.0\""));
    CHECK(contains(out, "\"policy_registry\""));
    expect_json_with(out, "\"capabilities\"");

    macp_string *manifest = NULL, *manifest_empty = NULL;
    OK(macp_client_get_manifest(c, NULL, &manifest, NULL, &err));
    CHECK(contains(manifest, "\"agent_id\""));
    CHECK(contains(manifest, "\"supported_modes\""));
    OK(macp_client_get_manifest(c, "", &manifest_empty, NULL, &err)); /* "" is the runtime too */
    EXPECT_OUT(MACP_STATUS_AGENT_NOT_FOUND, out, macp_client_get_manifest(c, "agent://c-nobody", &out, NULL, &err));
    CHECK(manifest && manifest_empty && string_is(manifest_empty, macp_string_ptr(manifest)));
    macp_string_free(manifest);
    macp_string_free(manifest_empty);

    /* Standards-track and extension modes are listed apart. */
    OK(macp_client_list_modes(c, &out, NULL, &err));
    CHECK(out && macp_string_ptr(out)[0] == '[');
    CHECK(!contains(out, "\"ext.multi_round.v1\""));
    expect_json_with(out, "\"macp.mode.decision.v1\"");
    OK(macp_client_list_ext_modes(c, &out, NULL, &err));
    CHECK(out && macp_string_ptr(out)[0] == '[');
    CHECK(!contains(out, "\"macp.mode.decision.v1\""));
    expect_json_with(out, "\"ext.multi_round.v1\"");
    OK(macp_client_list_roots(c, &out, NULL, &err));
    CHECK(enclosed_in(out, '[', ']'));
    macp_string_free(out);
    macp_client_free(c);
}

static void test_ext_modes(void) {
    macp_client *c = connect_as("agent://c-registrar");
    char mode[96], other[96], renamed[96], third[96], desc[512];
    snprintf(mode, sizeof mode, "ext.ctest_%s.v1", suffix);
    snprintf(other, sizeof other, "ext.ctest_b%s.v1", suffix);
    snprintf(third, sizeof third, "ext.ctest_c%s.v1", suffix);
    snprintf(renamed, sizeof renamed, "ext.ctest_r%s.v1", suffix);
    const char *shape = "{\"mode\":\"%s\",\"mode_version\":\"1.0.0\",\"title\":\"c test\","
                        "\"message_types\":[\"Ping\",\"Commitment\"],\"terminal_message_types\":[\"Commitment\"]}";

    macp_string *out = NULL;
    OK(macp_client_list_ext_modes(c, &out, NULL, &err));
    CHECK(out && !contains(out, mode));
    macp_string_free(out);
    snprintf(desc, sizeof desc, shape, mode);
    OK(macp_client_register_ext_mode(c, desc, NULL, &err));
    EXPECT(MACP_STATUS_RPC, macp_client_register_ext_mode(c, desc, NULL, &err)); /* already registered */
    OK(macp_client_list_ext_modes(c, &out, NULL, &err));
    CHECK(contains(out, "\"title\":\"c test\""));
    expect_json_with(out, mode);

    macp_string *promoted = NOT_A_HANDLE;
    OK(macp_client_promote_mode(c, mode, NULL, &promoted, NULL, &err));
    CHECK(promoted != NULL && promoted != NOT_A_HANDLE && string_is(promoted, mode));
    if (promoted != NOT_A_HANDLE)
        macp_string_free(promoted);
    OK(macp_client_list_modes(c, &out, NULL, &err));
    expect_json_with(out, mode);

    /* Promotion under a new name reports the new name; into macp.mode.* it
     * is refused. */
    snprintf(desc, sizeof desc, shape, third);
    OK(macp_client_register_ext_mode(c, desc, NULL, &err));
    promoted = NULL;
    char reserved[96];
    snprintf(reserved, sizeof reserved, "macp.mode.ctest_%s.v1", suffix);
    EXPECT_OUT(MACP_STATUS_RPC, promoted, macp_client_promote_mode(c, third, reserved, &promoted, NULL, &err));
    OK(macp_client_promote_mode(c, third, renamed, &promoted, NULL, &err));
    CHECK(string_is(promoted, renamed));
    macp_string_free(promoted);
    /* Already standards-track: refused, whether or not out_mode is asked for. */
    EXPECT(MACP_STATUS_RPC, macp_client_promote_mode(c, renamed, "", NULL, NULL, &err));
    EXPECT_OUT(MACP_STATUS_RPC, promoted, macp_client_promote_mode(c, mode, NULL, &promoted, NULL, &err));

    /* A second mode registered and removed; removing it again, removing an
     * unknown mode, promoting an unknown mode or removing a built-in fails. */
    snprintf(desc, sizeof desc, shape, other);
    OK(macp_client_register_ext_mode(c, desc, NULL, &err));
    OK(macp_client_list_ext_modes(c, &out, NULL, &err));
    expect_json_with(out, other);
    OK(macp_client_unregister_ext_mode(c, other, NULL, &err));
    OK(macp_client_list_ext_modes(c, &out, NULL, &err));
    CHECK(out && !contains(out, other));
    macp_string_free(out);
    FAILS_ANY(macp_client_unregister_ext_mode(c, other, NULL, &err));
    FAILS_ANY(macp_client_unregister_ext_mode(c, "ext.ctest_never_registered.v1", NULL, &err));
    FAILS_ANY(macp_client_unregister_ext_mode(c, "ext.multi_round.v1", NULL, &err));
    promoted = NULL;
    EXPECT_OUT(MACP_STATUS_RPC, promoted, macp_client_promote_mode(c, "ext.ctest_never_registered.v1", NULL, &promoted, NULL, &err));
    snprintf(desc, sizeof desc, shape, "macp.mode.reserved.v1");
    EXPECT(MACP_STATUS_RPC, macp_client_register_ext_mode(c, desc, NULL, &err)); /* a reserved name */
    macp_client_free(c);
}

static void test_policies(void) {
    macp_client *c = connect_as("agent://c-lead");
    char id[96], policy[512], bad[512];
    snprintf(id, sizeof id, "policy.ctest.%s", suffix);
    snprintf(policy, sizeof policy,
             "{\"policy_id\":\"%s\",\"mode\":\"macp.mode.decision.v1\",\"schema_version\":3,"
             "\"description\":\"c test\",\"rules\":{\"voting\":{\"algorithm\":\"none\"},"
             "\"commitment\":{\"authority\":\"initiator_only\"}}}",
             id);
    OK(macp_client_register_policy(c, policy, NULL, &err));
    EXPECT(MACP_STATUS_RPC, macp_client_register_policy(c, policy, NULL, &err)); /* a duplicate id */
    snprintf(bad, sizeof bad,
             "{\"policy_id\":\"%s.bad\",\"mode\":\"macp.mode.decision.v1\",\"schema_version\":3,"
             "\"rules\":{\"voting\":{\"algorithm\":\"no-such\"}}}",
             id);
    EXPECT(MACP_STATUS_INVALID_POLICY_DEFINITION, macp_client_register_policy(c, bad, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_POLICY_DEFINITION,
           macp_client_register_policy(c, "{\"policy_id\":\"policy.default\",\"mode\":\"*\",\"rules\":{}}", NULL, &err));

    macp_string *out = NULL;
    OK(macp_client_get_policy(c, id, &out, NULL, &err));
    CHECK(contains(out, "\"mode\":\"macp.mode.decision.v1\""));
    CHECK(contains(out, "\"schema_version\":3"));
    CHECK(contains(out, "\"description\":\"c test\""));
    CHECK(contains(out, "\"algorithm\":\"none\""));
    expect_json_with(out, "\"rules\":{\"");
    OK(macp_client_list_policies(c, "macp.mode.decision.v1", &out, NULL, &err));
    CHECK(out && macp_string_ptr(out)[0] == '[');
    CHECK(!contains(out, "\"policy.ctest.never-registered\""));
    expect_json_with(out, id);
    OK(macp_client_list_policies(c, "macp.mode.task.v1", &out, NULL, &err));
    CHECK(out && !contains(out, id));
    macp_string_free(out);
    OK(macp_client_list_policies(c, NULL, &out, NULL, &err));
    CHECK(contains(out, id));
    expect_json_with(out, "\"policy.default\"");
    OK(macp_client_list_policies(c, "", &out, NULL, &err));
    expect_json_with(out, id);

    OK(macp_client_unregister_policy(c, id, NULL, &err));
    EXPECT_OUT(MACP_STATUS_UNKNOWN_POLICY_VERSION, out, macp_client_get_policy(c, id, &out, NULL, &err));
    FAILS_ANY(macp_client_unregister_policy(c, id, NULL, &err));
    FAILS_ANY(macp_client_unregister_policy(c, "policy.default", NULL, &err));
    OK(macp_client_list_policies(c, NULL, &out, NULL, &err));
    CHECK(out && !contains(out, id));
    macp_string_free(out);
    macp_client_free(c);
}

/* A Decision session driven with JSON payloads and a whole envelope, with
 * progress and a signal, then replayed under a candidate policy. */
static void test_session_json_envelope_and_replay(void) {
    macp_client *lead = connect_as("agent://c-lead"), *peer = connect_as("agent://c-peer");
    macp_client *outsider = connect_as("agent://c-outsider");
    macp_session *s = start_lead_decision(lead, NULL), *sp = NULL;
    const char *sid = macp_session_id(s);
    OK(macp_session_open(peer, sid, &sp, NULL, &err));
    macp_ack ack;

    /* Proposal: payload type inferred from the mode. */
    memset(&ack, 0, sizeof ack);
    OK(macp_session_send_json(s, "Proposal", NULL, "{\"proposal_id\":\"p1\",\"option\":\"ship\",\"rationale\":\"ready\"}", &ack, NULL, &err));
    CHECK(strlen(ack.message_id) > 0 && !ack.duplicate);
    CHECK(strcmp(ack.session_id, sid) == 0);
    CHECK(ack.session_state == MACP_SESSION_STATE_OPEN);

    /* Evaluation as a whole envelope sent by the peer; the same bytes again
     * are a duplicate of the same message id. */
    uint8_t payload[256], env[1024];
    size_t plen = 0, elen = 0;
    OK(macp_payload_from_json("macp.modes.decision.v1.EvaluationPayload",
                              "{\"proposal_id\":\"p1\",\"recommendation\":\"APPROVE\",\"confidence\":0.8}", payload,
                              sizeof payload, &plen, &err));
    OK(macp_envelope_encode(MACP_MODE_DECISION, "Evaluation", sid, "agent://c-peer", "eval-peer-1", payload, plen, env,
                            sizeof env, &elen, &err));
    memset(&ack, 0, sizeof ack);
    OK(macp_client_send_envelope(peer, env, elen, &ack, NULL, &err));
    CHECK(strcmp(ack.message_id, "eval-peer-1") == 0 && !ack.duplicate);
    CHECK(strcmp(ack.session_id, sid) == 0);
    OK(macp_client_send_envelope(peer, env, elen, &ack, NULL, &err));
    CHECK(ack.duplicate && strcmp(ack.message_id, "eval-peer-1") == 0);
    /* Sent exactly as encoded: a sender that is not the caller, or an
     * unknown session, is the runtime's to refuse. */
    OK(macp_envelope_encode(MACP_MODE_DECISION, "Evaluation", sid, "agent://c-someone-else", NULL, payload, plen, env,
                            sizeof env, &elen, &err));
    EXPECT(MACP_STATUS_UNAUTHENTICATED, macp_client_send_envelope(peer, env, elen, &ack, NULL, &err));
    OK(macp_envelope_encode(MACP_MODE_DECISION, "Evaluation", UNKNOWN_SESSION, "agent://c-peer", NULL, payload, plen, env,
                            sizeof env, &elen, &err));
    EXPECT(MACP_STATUS_SESSION_NOT_FOUND, macp_client_send_envelope(peer, env, elen, &ack, NULL, &err));
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(peer, garbage, sizeof garbage, &ack, NULL, &err));

    /* Vote with an explicit payload type and message id. */
    OK(macp_session_send_json(sp, "Vote", "macp.modes.decision.v1.VotePayload",
                              "{\"proposal_id\":\"p1\",\"vote\":\"REJECT\",\"reason\":\"no\"}", &ack, CALL_ID("vote-peer-1"), &err));
    CHECK(strcmp(ack.message_id, "vote-peer-1") == 0);
    /* The runtime still judges the content: a vote on no proposal. */
    EXPECT(MACP_STATUS_INVALID_ENVELOPE,
           macp_session_send_json(s, "Vote", NULL, "{\"proposal_id\":\"p-none\",\"vote\":\"APPROVE\"}", &ack, NULL, &err));

    /* Progress: changes no state; total 0 means unknown. */
    memset(&ack, 0, sizeof ack);
    OK(macp_session_progress(sp, "work", 1, 4, "a quarter", "vote-peer-1", &ack, NULL, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_OPEN && strlen(ack.message_id) > 0);
    OK(macp_session_progress(sp, NULL, 0, 0, NULL, NULL, &ack, NULL, &err));
    /* Proposal, evaluation, vote (the runtime's activity counts mode
     * messages, not progress): neither refusals nor the duplicate count,
     * which the bad-input tests rely on. */
    CHECK(messages_in(s) == 3);

    /* A signal: ambient, no session of its own. */
    memset(&ack, 0, sizeof ack);
    OK(macp_client_send_signal(peer, "load", (const uint8_t *)"\x01", 1, 0.5, sid, &ack, NULL, &err));
    CHECK(strlen(ack.message_id) > 0);
    OK(macp_client_send_signal(peer, "heartbeat", NULL, 0, 0.0, NULL, &ack, NULL, &err));
    OK(macp_client_send_signal(peer, "heartbeat", NULL, 0, 1.0, "", &ack, NULL, &err));

    /* What-if replay of the open session. */
    macp_string *out = NULL;
    OK(macp_client_what_if_replay(lead, sid, CANDIDATE_JSON, &out, NULL, &err));
    CHECK(contains(out, "\"recorded\":{"));
    CHECK(contains(out, "\"entries\":["));
    expect_json_with(out, "\"candidate\":{");
    /* Candidate admission: the session's mode or "*", a valid definition. */
    EXPECT_OUT(MACP_STATUS_INVALID_POLICY_DEFINITION, out,
               macp_client_what_if_replay(lead, sid,
                                          "{\"policy_id\":\"p\",\"mode\":\"macp.mode.task.v1\",\"schema_version\":3,"
                                          "\"rules\":{}}",
                                          &out, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_POLICY_DEFINITION, out,
               macp_client_what_if_replay(lead, sid,
                                          "{\"policy_id\":\"p\",\"mode\":\"macp.mode.decision.v1\",\"schema_version\":3,"
                                          "\"rules\":{\"voting\":{\"algorithm\":\"no-such\"}}}",
                                          &out, NULL, &err));
    /* Unknown session, or a caller who is not in it. */
    out = NOT_A_HANDLE;
    macp_error *nerr = NULL;
    macp_status st = macp_client_what_if_replay(lead, UNKNOWN_SESSION, CANDIDATE_JSON, &out, NULL, &nerr);
    CHECK(st == MACP_STATUS_SESSION_NOT_FOUND || st == MACP_STATUS_FORBIDDEN);
    CHECK(out == NULL && nerr != NULL && strlen(macp_error_message(nerr)) > 0);
    macp_error_free(nerr);
    nerr = NULL;
    st = macp_client_what_if_replay(outsider, sid, CANDIDATE_JSON, &out, NULL, &nerr);
    CHECK(st == MACP_STATUS_SESSION_NOT_FOUND || st == MACP_STATUS_FORBIDDEN);
    CHECK(out == NULL && nerr != NULL);
    macp_error_free(nerr);

    /* The Commitment as JSON (its type inferred); then the replay reports
     * the recorded resolution, which the REJECT vote denies under a
     * unanimous candidate. */
    macp_session_info *info = NULL;
    OK(macp_session_get_info(s, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    char commitment[512] = "";
    if (m)
        snprintf(commitment, sizeof commitment,
                 "{\"commitment_id\":\"c1\",\"action\":\"decision.selected\",\"authority_scope\":\"s\","
                 "\"reason\":\"r\",\"outcome_positive\":true,\"mode_version\":\"%s\",\"policy_version\":\"%s\","
                 "\"configuration_version\":\"%s\"}",
                 m->mode_version, m->policy_version, m->configuration_version);
    macp_session_info_free(info);
    /* Without the session's bound versions the runtime refuses it. */
    EXPECT(MACP_STATUS_INVALID_ENVELOPE, macp_session_send_json(s, "Commitment", NULL, COMMITMENT_JSON, &ack, NULL, &err));
    OK(macp_session_send_json(s, "Commitment", NULL, commitment, &ack, NULL, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_RESOLVED);
    OK(macp_client_what_if_replay(peer, sid, CANDIDATE_JSON, &out, NULL, &err));
    CHECK(contains(out, "\"action\":\"decision.selected\""));
    CHECK(contains(out, "\"denials\":[{"));
    expect_json_with(out, "\"recorded\":{");

    macp_session_free(sp);
    macp_session_free(s);
    macp_client_free(outsider);
    macp_client_free(peer);
    macp_client_free(lead);
}

/* A session under a registered policy: the replay names it as recorded. */
static void test_replay_under_registered_policy(void) {
    macp_client *c = connect_as("agent://c-lead");
    char id[96], policy[512];
    snprintf(id, sizeof id, "policy.ctest.replay.%s", suffix);
    snprintf(policy, sizeof policy,
             "{\"policy_id\":\"%s\",\"mode\":\"macp.mode.decision.v1\",\"schema_version\":3,"
             "\"description\":\"c test\",\"rules\":{\"voting\":{\"algorithm\":\"none\"},"
             "\"commitment\":{\"authority\":\"initiator_only\"}}}",
             id);
    OK(macp_client_register_policy(c, policy, NULL, &err));
    macp_session *s = start_lead_decision(c, id);
    macp_ack ack;
    OK(macp_session_send_json(s, "Proposal", NULL, "{\"proposal_id\":\"p1\",\"option\":\"ship\"}", &ack, NULL, &err));
    macp_string *out = NULL;
    OK(macp_client_what_if_replay(c, macp_session_id(s), CANDIDATE_JSON, &out, NULL, &err));
    CHECK(contains(out, "\"candidate\":{"));
    expect_json_with(out, id);
    OK(macp_session_cancel(s, "done", &ack, NULL, &err));
    macp_session_free(s);
    OK(macp_client_unregister_policy(c, id, NULL, &err));
    macp_client_free(c);
}

int main(void) {
    char id[MACP_ID_BUFFER_LEN] = "x";
    macp_new_id(id, sizeof id, NULL);
    snprintf(suffix, sizeof suffix, "%.8s", id);
    const struct test tests[] = {
        {"payload_from_json_bad_input", test_payload_from_json_bad_input},
        {"payload_to_json_bad_input", test_payload_to_json_bad_input},
        {"payload_type_bad_input", test_payload_type_bad_input},
        {"payload_types", test_payload_types},
        {"json_reads_bad_input", test_json_reads_bad_input},
        {"registry_writes_bad_input", test_registry_writes_bad_input},
        {"client_sends_bad_input", test_client_sends_bad_input},
        {"session_sends_bad_input", test_session_sends_bad_input},
        {"errors_may_be_ignored", test_errors_may_be_ignored},
        {"payload_round_trip", test_payload_round_trip},
        {"discovery", test_discovery},
        {"ext_modes", test_ext_modes},
        {"policies", test_policies},
        {"session_json_envelope_and_replay", test_session_json_envelope_and_replay},
        {"replay_under_registered_policy", test_replay_under_registered_policy},
    };
    return run_tests("c-registry", tests, sizeof tests / sizeof tests[0]);
}

/*
 * C ABI tests of JSON payloads, whole envelopes, signals, progress,
 * discovery, the extension-mode and policy registries and what-if replay:
 * bad input for every function, then the calls against a real runtime.
 */
#include <math.h>

#include "harness.h"

#define BAD_UTF8 "\xff\xfe"
#define NOT_A_HANDLE ((void *)0x1234)

static const char *const COMMITMENT_JSON =
    "{\"commitment_id\":\"c1\",\"action\":\"decision.selected\",\"authority_scope\":\"s\","
    "\"reason\":\"r\",\"outcome_positive\":true}";

/* A unique suffix per run, so names registered here never collide. */
static char suffix[40];

/* `*out` must be a library string: check it contains `fragment`, free it. */
static void expect_json_with(char *json, const char *fragment) {
    CHECK(json != NULL);
    if (json) {
        if (!strstr(json, fragment))
            fprintf(stderr, "  %s does not contain %s\n", json, fragment);
        CHECK(strstr(json, fragment) != NULL);
        macp_string_free(json);
    }
}

static macp_session *start_decision(macp_client *lead, const char *policy_version) {
    macp_start_options *so = NULL;
    macp_session *s = NULL;
    OK(macp_start_options_new(&so, &err));
    OK(macp_start_options_add_participant(so, "agent://c-lead", &err));
    OK(macp_start_options_add_participant(so, "agent://c-peer", &err));
    OK(macp_start_options_set_ttl_ms(so, 60000, &err));
    if (policy_version)
        OK(macp_start_options_set_policy_version(so, policy_version, &err));
    OK(macp_session_start(lead, MACP_MODE_DECISION, so, &s, NULL, &err));
    macp_start_options_free(so);
    CHECK(s != NULL);
    return s;
}

/* ------------------------------------------------------------- bad input */

static void test_payload_bad_input(void) {
    size_t len = 7;
    uint8_t small[2];
    char *json = (char *)NOT_A_HANDLE;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(NULL, "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json(BAD_UTF8, "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", NULL, NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", BAD_UTF8, NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", "{}", NULL, 0, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.NoSuchPayload", "{}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", "{\"nope\":1}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", "{", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", "{\"outcome_positive\":\"yes\"}", NULL, 0, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", COMMITMENT_JSON, NULL, 5, &len, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_from_json("macp.v1.CommitmentPayload", COMMITMENT_JSON, small, sizeof small, &len, &err));
    CHECK(len > sizeof small); /* the size is reported even when the buffer is too small */

    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_to_json("macp.v1.CommitmentPayload", garbage, sizeof garbage, &json, &err));
    CHECK(json == NULL); /* cleared on failure */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_to_json(NULL, garbage, 0, &json, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_to_json("macp.v1.CommitmentPayload", NULL, 3, &json, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_to_json("macp.v1.CommitmentPayload", garbage, 0, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_payload_to_json("macp.v1.Nope", garbage, 0, &json, &err));
}

static void test_registry_bad_input(void) {
    macp_client *c = connect_as("agent://c-bad");
    macp_client *freed = connect_as("agent://c-freed");
    macp_client_free(freed);
    char *out = (char *)NOT_A_HANDLE;
    const macp_client *wrong = (const macp_client *)NOT_A_HANDLE;

    /* Every JSON-returning call: NULL out, then each kind of bad handle. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_initialize_json(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_initialize_json(NULL, &out, &err));
    CHECK(out == NULL);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_initialize_json(freed, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_manifest(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_manifest(c, BAD_UTF8, &out, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_get_manifest(wrong, NULL, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_modes(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_list_modes(freed, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_ext_modes(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_list_ext_modes(wrong, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_roots(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_list_roots(NULL, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_policy(c, NULL, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_policy(c, "", &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_policy(c, BAD_UTF8, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_policy(c, "policy.default", NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_get_policy(freed, "policy.default", &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_policies(c, BAD_UTF8, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_policies(c, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_list_policies(wrong, NULL, &out, &err));
    CHECK(out == NULL);

    /* Registries. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, BAD_UTF8, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "{\"mode\":\"ext.x.v1\",\"bogus\":1}", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_ext_mode(c, "{\"title\":\"no mode\"}", &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_register_ext_mode(freed, "{\"mode\":\"ext.x.v1\"}", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_ext_mode(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_ext_mode(c, "", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_ext_mode(c, BAD_UTF8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_unregister_ext_mode(wrong, "ext.x.v1", &err));
    out = (char *)NOT_A_HANDLE;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_promote_mode(c, NULL, NULL, &out, &err));
    CHECK(out == NULL);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_promote_mode(c, "ext.x.v1", BAD_UTF8, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_promote_mode(NULL, "ext.x.v1", NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, BAD_UTF8, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "[]", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"mode\":\"macp.mode.decision.v1\"}", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":\"p\",\"schema_version\":-3}", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_register_policy(c, "{\"policy_id\":\"p\",\"rules\":7}", &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_register_policy(freed, "{\"policy_id\":\"p\"}", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_policy(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_unregister_policy(c, "", &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_unregister_policy(wrong, "p", &err));

    /* What-if replay. */
    const char *cand = "{\"policy_id\":\"p\",\"mode\":\"macp.mode.decision.v1\"}";
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_what_if_replay(c, NULL, cand, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_what_if_replay(c, BAD_UTF8, cand, &out, &err));
    EXPECT(MACP_STATUS_INVALID_SESSION_ID, macp_client_what_if_replay(c, "s1", cand, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_what_if_replay(c, "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60", NULL, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_what_if_replay(c, "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60", "{", &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_what_if_replay(c, "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60", cand, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_what_if_replay(freed, "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60", cand, &out, &err));

    /* Signals. */
    macp_ack ack;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, NULL, NULL, 0, 0.5, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "", NULL, 0, 0.5, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, BAD_UTF8, NULL, 0, 0.5, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 4, 0.5, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, 1.5, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, -0.1, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, NAN, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_signal(c, "load", NULL, 0, 0.5, BAD_UTF8, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_send_signal(freed, "load", NULL, 0, 0.5, NULL, &ack, &err));

    /* Whole envelopes. */
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, garbage, sizeof garbage, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, NULL, 5, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(c, NULL, 0, &ack, &err)); /* no message type */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_send_envelope(wrong, garbage, 0, &ack, &err));
    macp_client_free(c);
}

static void test_session_json_bad_input(void) {
    macp_client *lead = connect_as("agent://c-lead");
    macp_session *s = start_decision(lead, NULL);
    const macp_session *wrong = (const macp_session *)NOT_A_HANDLE;
    macp_ack ack;
    const char *vote = "{\"proposal_id\":\"p1\",\"vote\":\"APPROVE\"}";
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, NULL, NULL, vote, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "", NULL, vote, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, BAD_UTF8, NULL, vote, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", BAD_UTF8, vote, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, NULL, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, "{\"proposal\":\"p1\"}", NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Dance", NULL, "{}", NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", "macp.v1.Nope", vote, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, vote, BAD_UTF8, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_json(s, "Vote", NULL, vote, "", &ack, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send_json(wrong, "Vote", NULL, vote, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send_json(NULL, "Vote", NULL, vote, NULL, &ack, &err));

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, BAD_UTF8, 1, 2, NULL, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, NAN, 2, NULL, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, 1, INFINITY, NULL, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, -1, 2, NULL, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, 1, 2, BAD_UTF8, NULL, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_progress(s, NULL, 1, 2, NULL, BAD_UTF8, &ack, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_progress(wrong, NULL, 1, 2, NULL, NULL, &ack, &err));
    macp_session_close(s);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_progress(s, NULL, 1, 2, NULL, NULL, &ack, &err));
    macp_client_free(lead);
}

/* ------------------------------------------------------- against the runtime */

static void test_payload_round_trip(void) {
    size_t len = 0;
    OK(macp_payload_from_json("macp.v1.CommitmentPayload", COMMITMENT_JSON, NULL, 0, &len, &err));
    CHECK(len > 0);
    uint8_t *buf = malloc(len);
    size_t written = 0;
    OK(macp_payload_from_json("macp.v1.CommitmentPayload", COMMITMENT_JSON, buf, len, &written, &err));
    CHECK(written == len);
    char *json = NULL;
    OK(macp_payload_to_json("macp.v1.CommitmentPayload", buf, written, &json, &err));
    CHECK(json && strstr(json, "\"action\":\"decision.selected\""));
    CHECK(json && strstr(json, "\"outcome_positive\":true"));
    macp_string_free(json);
    free(buf);

    /* Bytes fields take base64, byte arrays or plain text. */
    uint8_t a[64], b[64];
    size_t la = 0, lb = 0;
    OK(macp_payload_from_json("macp.modes.handoff.v1.HandoffContextPayload", "{\"context\":\"aGk=\"}", a, sizeof a, &la, &err));
    OK(macp_payload_from_json("macp.modes.handoff.v1.HandoffContextPayload", "{\"context\":[104,105]}", b, sizeof b, &lb, &err));
    CHECK(la == lb && memcmp(a, b, la) == 0);
}

static void test_discovery(void) {
    macp_client *c = connect_as("agent://c-discover");
    char *out = NULL;
    OK(macp_client_initialize_json(c, &out, &err));
    expect_json_with(out, "\"capabilities\"");
    OK(macp_client_get_manifest(c, NULL, &out, &err));
    expect_json_with(out, "\"supported_modes\"");
    OK(macp_client_list_modes(c, &out, &err));
    expect_json_with(out, "\"macp.mode.decision.v1\"");
    OK(macp_client_list_ext_modes(c, &out, &err));
    expect_json_with(out, "\"ext.multi_round.v1\"");
    OK(macp_client_list_roots(c, &out, &err));
    CHECK(out && out[0] == '[');
    macp_string_free(out);
    macp_client_free(c);
}

static void test_ext_modes(void) {
    macp_client *c = connect_as("agent://c-registrar");
    char mode[96], other[96], desc[256];
    snprintf(mode, sizeof mode, "ext.ctest_a%s.v1", suffix);
    snprintf(other, sizeof other, "ext.ctest_b%s.v1", suffix);
    snprintf(desc, sizeof desc,
             "{\"mode\":\"%s\",\"mode_version\":\"1.0.0\",\"title\":\"c test\","
             "\"message_types\":[\"Ping\",\"Commitment\"],\"terminal_message_types\":[\"Commitment\"]}",
             mode);
    OK(macp_client_register_ext_mode(c, desc, &err));
    FAILS_ANY(macp_client_register_ext_mode(c, desc, &err)); /* already registered */
    char *out = NULL;
    OK(macp_client_list_ext_modes(c, &out, &err));
    expect_json_with(out, mode);

    char *promoted = NULL;
    OK(macp_client_promote_mode(c, mode, NULL, &promoted, &err));
    CHECK(promoted && strcmp(promoted, mode) == 0);
    macp_string_free(promoted);
    OK(macp_client_list_modes(c, &out, &err));
    expect_json_with(out, mode);

    snprintf(desc, sizeof desc,
             "{\"mode\":\"%s\",\"mode_version\":\"1.0.0\",\"message_types\":[\"Ping\",\"Commitment\"],"
             "\"terminal_message_types\":[\"Commitment\"]}",
             other);
    OK(macp_client_register_ext_mode(c, desc, &err));
    OK(macp_client_unregister_ext_mode(c, other, &err));
    FAILS_ANY(macp_client_unregister_ext_mode(c, other, &err));
    FAILS_ANY(macp_client_register_ext_mode(c, "{\"mode\":\"macp.mode.reserved.v1\"}", &err));
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
    OK(macp_client_register_policy(c, policy, &err));
    EXPECT(MACP_STATUS_RPC, macp_client_register_policy(c, policy, &err)); /* a duplicate id */
    snprintf(bad, sizeof bad,
             "{\"policy_id\":\"%s.bad\",\"mode\":\"macp.mode.decision.v1\",\"schema_version\":3,"
             "\"rules\":{\"voting\":{\"algorithm\":\"no-such\"}}}",
             id);
    EXPECT(MACP_STATUS_INVALID_POLICY_DEFINITION, macp_client_register_policy(c, bad, &err));

    char *out = NULL;
    OK(macp_client_get_policy(c, id, &out, &err));
    expect_json_with(out, "\"rules\":{\"");
    OK(macp_client_list_policies(c, "macp.mode.decision.v1", &out, &err));
    expect_json_with(out, id);

    /* A session under the policy: a proposal as JSON, an evaluation as a
     * whole envelope, a vote as JSON, progress, a signal, then what-if
     * replay. */
    macp_client *peer = connect_as("agent://c-peer");
    macp_session *s = start_decision(c, id);
    macp_session *sp = NULL;
    OK(macp_session_open(peer, macp_session_id(s), &sp, &err));
    macp_ack ack;
    OK(macp_session_send_json(s, "Proposal", NULL,
                              "{\"proposal_id\":\"p1\",\"option\":\"ship\",\"rationale\":\"ready\"}", NULL, &ack, &err));
    CHECK(strlen(ack.message_id) > 0);
    uint8_t payload[256], env[1024];
    size_t plen = 0, elen = 0;
    OK(macp_payload_from_json("macp.modes.decision.v1.EvaluationPayload",
                              "{\"proposal_id\":\"p1\",\"recommendation\":\"APPROVE\",\"confidence\":0.8}",
                              payload, sizeof payload, &plen, &err));
    OK(macp_envelope_encode(MACP_MODE_DECISION, "Evaluation", macp_session_id(s), "agent://c-peer", NULL, payload,
                            plen, env, sizeof env, &elen, &err));
    OK(macp_client_send_envelope(peer, env, elen, &ack, &err));
    CHECK(strcmp(ack.session_id, macp_session_id(s)) == 0);
    /* Evaluations close when voting starts; the vote comes next. */

    OK(macp_session_send_json(sp, "Vote", "macp.modes.decision.v1.VotePayload",
                              "{\"proposal_id\":\"p1\",\"vote\":\"REJECT\",\"reason\":\"no\"}", "vote-peer-1", &ack, &err));
    CHECK(strcmp(ack.message_id, "vote-peer-1") == 0);
    OK(macp_session_progress(sp, "work", 1, 4, "a quarter", NULL, &ack, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_OPEN);
    OK(macp_client_send_signal(peer, "load", (const uint8_t *)"\x01", 1, 0.5, macp_session_id(s), &ack, &err));
    CHECK(strlen(ack.message_id) > 0);

    macp_commitment cm = {0};
    cm.action = "decision.selected";
    cm.authority_scope = "test";
    cm.reason = "lead decides";
    cm.outcome_positive = true;
    OK(macp_session_commit(s, &cm, &ack, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_RESOLVED);

    const char *unanimous = "{\"policy_id\":\"policy.candidate\",\"mode\":\"macp.mode.decision.v1\","
                            "\"schema_version\":3,\"rules\":{\"voting\":{\"algorithm\":\"unanimous\"}}}";
    /* The test script runs the runtime with MACP_COMPACT_TERMINAL_LOGS=0, so
     * the resolved session's history is still there to replay: the REJECT
     * vote denies the positive commitment under a unanimous candidate. */
    OK(macp_client_what_if_replay(c, macp_session_id(s), unanimous, &out, &err));
    CHECK(out && strstr(out, "\"recorded_policy_id\":\"") && strstr(out, id));
    expect_json_with(out, "\"denials\":[{");
    out = (char *)NOT_A_HANDLE;
    macp_error *nerr = NULL;
    macp_status st = macp_client_what_if_replay(c, "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60", unanimous, &out, &nerr);
    CHECK(st == MACP_STATUS_SESSION_NOT_FOUND || st == MACP_STATUS_FORBIDDEN);
    CHECK(out == NULL);
    macp_error_free(nerr);

    macp_session_close(sp);
    macp_session_close(s);
    OK(macp_client_unregister_policy(c, id, &err));
    FAILS_ANY(macp_client_get_policy(c, id, &out, &err));
    FAILS_ANY(macp_client_unregister_policy(c, "policy.default", &err));
    macp_client_free(peer);
    macp_client_free(c);
}

int main(void) {
    char id[MACP_ID_BUFFER_LEN] = "x";
    macp_new_id(id, sizeof id, NULL);
    snprintf(suffix, sizeof suffix, "%.8s", id);
    const struct test tests[] = {
        {"payload_bad_input", test_payload_bad_input},
        {"registry_bad_input", test_registry_bad_input},
        {"session_json_bad_input", test_session_json_bad_input},
        {"payload_round_trip", test_payload_round_trip},
        {"discovery", test_discovery},
        {"ext_modes", test_ext_modes},
        {"policies_and_replay", test_policies},
    };
    return run_tests("c-registry", tests, sizeof tests / sizeof tests[0]);
}

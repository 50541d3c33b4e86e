/*
 * C ABI tests of the policy builder: bad input for every function (NULL,
 * invalid UTF-8, NULL/freed/foreign handles, unknown modes and names,
 * out-of-range numbers, another mode's rules; out-pointers left NULL on
 * failure, refused values changing nothing), then built policies registered
 * with a real runtime at $MACP_TARGET and a Decision session run under a
 * unanimous one. Run under valgrind by scripts/test.sh.
 *
 * Each test prints its name and result; the last line is "N passed, N failed".
 */
#include <math.h>

#include "harness.h"

/* A unique suffix per run, so policies registered here never collide. */
static char suffix[40];

static macp_policy_builder *builder(const char *mode, const char *id) {
    macp_policy_builder *b = NULL;
    OK(macp_policy_builder_new(mode, id, &b, &err));
    CHECK(b != NULL);
    return b;
}

/* The builder's JSON, which must be produced. */
static macp_string *json_of(const macp_policy_builder *b) {
    macp_string *s = NULL;
    OK(macp_policy_builder_to_json(b, &s, &err));
    CHECK(s != NULL);
    return s;
}

static void test_new_bad_input(void) {
    macp_policy_builder *b;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new(NULL, "p", &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new(bad_utf8, "p", &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new("", "p", &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new("macp.mode.nope.v1", "p", &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new(MACP_MODE_MULTI_ROUND, "p", &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new(MACP_MODE_DECISION, NULL, &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new(MACP_MODE_DECISION, bad_utf8, &b, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, b, macp_policy_builder_new(MACP_MODE_DECISION, "", &b, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_new(MACP_MODE_DECISION, "p", NULL, &err));
    /* Errors may be ignored. */
    CHECK(macp_policy_builder_new("nope", "p", &b, NULL) == MACP_STATUS_INVALID_ARGUMENT);
    CHECK(b == NULL);
}

static void test_setters_bad_handles(void) {
    macp_policy_builder *freed = builder(MACP_MODE_DECISION, "p");
    macp_policy_builder_free(freed);
    macp_start_options *other = NULL;
    OK(macp_start_options_new(&other, &err));
    macp_policy_builder *bad[] = {NULL, freed, NOT_A_HANDLE, (macp_policy_builder *)other};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        macp_policy_builder *b = bad[i];
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_description(b, "d", &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_schema_version(b, 1, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_commitment_authority(b, "any_participant", &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_add_designated_role(b, "r", &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_voting(b, "none", 0.5, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_voting_quorum(b, "count", 1, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_voting_weight(b, "a", 1, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_objection_handling(b, true, 1, "deny", &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_evaluation(b, 0.5, true, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_decision_commitment(b, true, true, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_quorum_threshold(b, "n_of_m", 1, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_abstention(b, true, "neutral", &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_proposal_rules(b, "initiator", 1, true, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_task_rules(b, true, true, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_policy_builder_set_implicit_accept_timeout_ms(b, 1, &err));
        macp_string *s;
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, s, macp_policy_builder_to_json(b, &s, &err));
        macp_policy_builder_free(b); /* ignored */
    }
    macp_start_options_free(other);
}

static void test_out_of_range_and_unknown_names(void) {
    macp_policy_builder *d = builder(MACP_MODE_DECISION, "policy.c.range");
    macp_string *before = json_of(d);
    const double thresholds[] = {0.0, -0.5, 1.0001, NAN, INFINITY};
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++)
        EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting(d, "majority", thresholds[i], &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting(d, "most", 0.5, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting(d, NULL, 0.5, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting(d, bad_utf8, 0.5, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting_quorum(d, "share", 1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting_quorum(d, "count", -1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting_quorum(d, "percentage", 100.5, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting_weight(d, "a", 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting_weight(d, "a", NAN, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting_weight(d, "", 1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_objection_handling(d, true, 0, "deny", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_objection_handling(d, true, 1, "shrug", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_evaluation(d, 1.5, false, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_evaluation(d, -0.1, false, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_schema_version(d, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_schema_version(d, 4, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_commitment_authority(d, "anyone", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_add_designated_role(d, " ", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_description(d, bad_utf8, &err));
    /* Another mode's rules. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_quorum_threshold(d, "n_of_m", 1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_abstention(d, true, "neutral", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_proposal_rules(d, "initiator", 0, false, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_task_rules(d, true, true, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_implicit_accept_timeout_ms(d, 1, &err));
    /* None of that changed the policy. */
    macp_string *after = json_of(d);
    CHECK(before && after && strcmp(macp_string_ptr(before), macp_string_ptr(after)) == 0);
    macp_string_free(before);
    macp_string_free(after);

    /* Combinations are checked when the JSON is written. */
    macp_string *s;
    OK(macp_policy_builder_set_voting(d, "supermajority", 0.5, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, s, macp_policy_builder_to_json(d, &s, &err));
    OK(macp_policy_builder_set_voting(d, "weighted", 0.5, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, s, macp_policy_builder_to_json(d, &s, &err));
    OK(macp_policy_builder_set_voting_weight(d, "a", 2, &err));
    OK(macp_policy_builder_set_commitment_authority(d, "designated_role", &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, s, macp_policy_builder_to_json(d, &s, &err));
    OK(macp_policy_builder_add_designated_role(d, "agent://lead", &err));
    macp_string_free(json_of(d));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_to_json(d, NULL, &err));
    macp_policy_builder_free(d);

    macp_policy_builder *q = builder(MACP_MODE_QUORUM, "policy.c.q");
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_quorum_threshold(q, "n_of_m", 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_quorum_threshold(q, "percentage", 101, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_quorum_threshold(q, "weighted", 1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_abstention(q, true, "maybe", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_schema_version(q, 2, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_voting(q, "none", 0.5, &err));
    macp_policy_builder_free(q);

    macp_policy_builder *p = builder(MACP_MODE_PROPOSAL, "policy.c.p");
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_proposal_rules(p, "everyone", 0, false, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_proposal_rules(p, NULL, 0, false, &err));
    macp_policy_builder_free(p);

    macp_policy_builder *h = builder(MACP_MODE_HANDOFF, "policy.c.h");
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_policy_builder_set_implicit_accept_timeout_ms(h, UINT64_MAX, &err));
    macp_policy_builder_free(h);
}

/* Each mode's built policy is accepted and binds a session. */
static void test_every_mode_registers(void) {
    macp_client *lead = connect_as("agent://c-policy-lead");
    const char *modes[] = {MACP_MODE_DECISION, MACP_MODE_QUORUM, MACP_MODE_PROPOSAL, MACP_MODE_TASK,
                           MACP_MODE_HANDOFF};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char id[96];
        snprintf(id, sizeof id, "policy.c.%zu.%s", i, suffix);
        macp_policy_builder *b = builder(modes[i], id);
        OK(macp_policy_builder_set_description(b, "built in C", &err));
        OK(macp_policy_builder_set_commitment_authority(b, "any_participant", &err));
        if (i == 0) {
            OK(macp_policy_builder_set_voting(b, "majority", 0.5, &err));
            OK(macp_policy_builder_set_objection_handling(b, true, 2, "hold", &err));
        } else if (i == 1) {
            OK(macp_policy_builder_set_quorum_threshold(b, "percentage", 60, &err));
        } else if (i == 2) {
            OK(macp_policy_builder_set_proposal_rules(b, "initiator", 2, true, &err));
        } else if (i == 3) {
            OK(macp_policy_builder_set_task_rules(b, true, false, &err));
        } else {
            OK(macp_policy_builder_set_implicit_accept_timeout_ms(b, 5000, &err));
        }
        macp_string *json = json_of(b);
        if (json) OK(macp_client_register_policy(lead, macp_string_ptr(json), NULL, &err));
        macp_string_free(json);
        macp_string *got = NULL;
        OK(macp_client_get_policy(lead, id, &got, NULL, &err));
        CHECK(got && strstr(macp_string_ptr(got), "\"any_participant\"") != NULL);
        macp_string_free(got);
        static const char *const peers[] = {"agent://c-policy-lead", "agent://c-policy-peer", NULL};
        macp_session *s = start_session(lead, modes[i], peers, id);
        macp_session_free(s);
        macp_policy_builder_free(b);
    }
    macp_client_free(lead);
}

static macp_status commit_positive(const macp_session *s, macp_error **err) {
    return macp_decision_commit(s, "decision.selected", "test", "the lead decides", true, NULL, NULL, err);
}

/* Under unanimity one REJECT denies the commitment; all APPROVE resolves. */
static void test_unanimous_decision(void) {
    char id[96];
    snprintf(id, sizeof id, "policy.c.unanimous.%s", suffix);
    macp_policy_builder *b = builder(MACP_MODE_DECISION, id);
    OK(macp_policy_builder_set_voting(b, "unanimous", 1.0, &err));
    macp_string *json = json_of(b);
    macp_client *lead = connect_as("agent://c-u-lead");
    macp_client *peer = connect_as("agent://c-u-peer");
    if (json) OK(macp_client_register_policy(lead, macp_string_ptr(json), NULL, &err));
    macp_string_free(json);
    macp_policy_builder_free(b);
    static const char *const both[] = {"agent://c-u-lead", "agent://c-u-peer", NULL};
    for (int agree = 0; agree <= 1; agree++) {
        macp_session *s = start_session(lead, MACP_MODE_DECISION, both, id);
        OK(macp_decision_propose(s, "p1", "ship", "ready", NULL, 0, NULL, NULL, &err));
        OK(macp_decision_vote(s, "p1", "APPROVE", "", NULL, NULL, &err));
        macp_session *ps = NULL;
        OK(macp_session_open(peer, macp_session_id(s), &ps, NULL, &err));
        OK(macp_decision_vote(ps, "p1", agree ? "APPROVE" : "REJECT", "", NULL, NULL, &err));
        EXPECT(agree ? MACP_STATUS_OK : MACP_STATUS_POLICY_DENIED, commit_positive(s, &err));
        macp_session_free(ps);
        macp_session_free(s);
    }
    macp_client_free(peer);
    macp_client_free(lead);
}

int main(void) {
    char id[MACP_ID_BUFFER_LEN] = "x";
    macp_new_id(id, sizeof id, NULL);
    snprintf(suffix, sizeof suffix, "%.8s", id);
    const struct test tests[] = {
        {"new_bad_input", test_new_bad_input},
        {"setters_bad_handles", test_setters_bad_handles},
        {"out_of_range_and_unknown_names", test_out_of_range_and_unknown_names},
        {"every_mode_registers", test_every_mode_registers},
        {"unanimous_decision", test_unanimous_decision},
    };
    return run_tests("c-policy", tests, sizeof tests / sizeof tests[0]);
}
